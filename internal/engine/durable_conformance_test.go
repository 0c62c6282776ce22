package engine

import (
	"context"
	"fmt"
	"testing"

	"github.com/stewardhq/steward/internal/asl"
)

// TestDurableConformance runs the executions recorded against real Step
// Functions through the durable engine (SQLite store, fake clock) and
// prints the pass count, JSONPath and JSONata apart.
func TestDurableConformance(t *testing.T) {
	cases := loadConformance(t)
	h := newHarness(t, func(c *Config) { c.Logf = func(string, ...any) {} })
	n := 0
	run := func(m *asl.Machine, input any) (*Result, error) {
		n++
		def := jsonString(m.Definition)
		sm, err := h.e.CreateStateMachine(context.Background(), CreateStateMachineInput{Name: fmt.Sprintf("case-%d", n), Definition: def})
		if err != nil {
			return nil, err
		}
		x, err := h.e.StartExecution(context.Background(), StartExecutionInput{StateMachineARN: sm.ARN, Name: "run", Input: jsonString(input)})
		if err != nil {
			return nil, err
		}
		x = h.finished(x.ARN)
		res := &Result{Status: x.Status, Error: x.Error, Cause: x.Cause, Start: x.StartDate, Stop: x.StopDate}
		if x.Status == StatusSucceeded {
			if res.Output, err = asl.DecodeJSON([]byte(x.Output)); err != nil {
				return nil, fmt.Errorf("output %q: %w", x.Output, err)
			}
		}
		return res, nil
	}
	reportConformance(t, cases, run)
}
