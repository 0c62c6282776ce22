package rules

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/stewardhq/steward/internal/engine"
)

// EngineStarter starts playbooks as executions of the durable engine's
// state machines of the same name.
type EngineStarter struct {
	Engine *engine.Engine
}

var _ Starter = EngineStarter{}

// StartPlaybook implements Starter. Step Functions returns the existing
// execution for a repeated name only while it runs; a finished execution
// with the same name and input is the same start too, so it is returned
// here as well.
func (s EngineStarter) StartPlaybook(ctx context.Context, playbook, name string, input []byte) (string, error) {
	smARN := s.Engine.StateMachineARN(playbook)
	exec, err := s.Engine.StartExecution(ctx, engine.StartExecutionInput{StateMachineARN: smARN, Name: name, Input: string(input)})
	if err == nil {
		return exec.ARN, nil
	}
	if !errors.Is(err, engine.ErrExecutionAlreadyExists) {
		return "", err
	}
	arn := s.Engine.ExecutionARN(playbook, name)
	prev, derr := s.Engine.DescribeExecution(ctx, arn)
	if derr != nil {
		return "", fmt.Errorf("%w (and describing it: %v)", err, derr)
	}
	if !sameJSON([]byte(prev.Input), input) {
		return "", err
	}
	return prev.ARN, nil
}

func sameJSON(a, b []byte) bool {
	var x, y bytes.Buffer
	if json.Compact(&x, a) != nil || json.Compact(&y, b) != nil {
		return bytes.Equal(a, b)
	}
	return bytes.Equal(x.Bytes(), y.Bytes())
}
