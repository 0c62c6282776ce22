package api

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/asl"
	"github.com/stewardhq/steward/internal/engine"
	"github.com/stewardhq/steward/internal/store"
)

// stubEngine answers every operation from memory, so the fuzzer exercises
// the API's decoding, checks and rendering without a store. Definitions
// are validated by the real engine's ValidateDefinition.
type stubEngine struct {
	real *engine.Engine
}

var _ Engine = stubEngine{}

var stubTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func (s stubEngine) CreateStateMachine(_ context.Context, in engine.CreateStateMachineInput) (*store.StateMachine, error) {
	if _, err := s.real.ValidateDefinition(in.Definition); err != nil {
		return nil, err
	}
	return &store.StateMachine{ARN: "arn:aws:states:us-east-1:000000000000:stateMachine:" + in.Name, Name: in.Name, CreatedAt: stubTime}, nil
}
func (s stubEngine) UpdateStateMachine(context.Context, engine.UpdateStateMachineInput) (*store.StateMachine, error) {
	return &store.StateMachine{UpdatedAt: stubTime}, nil
}
func (s stubEngine) DescribeStateMachine(_ context.Context, arn string) (*store.StateMachine, error) {
	return nil, engine.ErrStateMachineDoesNotExist
}
func (s stubEngine) ListStateMachines(context.Context, store.ListParams) ([]*store.StateMachine, string, error) {
	return []*store.StateMachine{{ARN: "a", CreatedAt: stubTime}}, "next", nil
}
func (s stubEngine) DeleteStateMachine(context.Context, string) error { return nil }
func (s stubEngine) ValidateDefinition(def string) (*asl.Machine, error) {
	return s.real.ValidateDefinition(def)
}
func (s stubEngine) StartExecution(_ context.Context, in engine.StartExecutionInput) (*store.Execution, error) {
	if in.Input != "" && !json.Valid([]byte(in.Input)) {
		return nil, engine.ErrInvalidExecutionInput
	}
	return &store.Execution{ARN: in.StateMachineARN + ":x", StartDate: stubTime}, nil
}
func (s stubEngine) DescribeExecution(_ context.Context, arn string) (*store.Execution, error) {
	return &store.Execution{ARN: arn, Status: engine.StatusFailed, StartDate: stubTime, StopDate: stubTime}, nil
}
func (s stubEngine) ListExecutions(context.Context, store.ListExecutionsParams) ([]*store.Execution, string, error) {
	return []*store.Execution{{ARN: "x", Status: engine.StatusRunning, StartDate: stubTime}}, "", nil
}
func (s stubEngine) GetExecutionHistory(context.Context, engine.GetExecutionHistoryInput) ([]engine.HistoryEvent, string, error) {
	return []engine.HistoryEvent{{ID: 1, Type: "ExecutionStarted", Timestamp: stubTime, DetailsKey: "executionStartedEventDetails",
		Details: map[string]any{"input": "{}", "roleArn": "r"}}}, "", nil
}
func (s stubEngine) StopExecution(context.Context, string, string, string) (time.Time, error) {
	return stubTime, nil
}
func (s stubEngine) RedriveExecution(context.Context, string) (time.Time, error) {
	return time.Time{}, engine.ErrExecutionNotRedrivable
}
func (s stubEngine) SendTaskSuccess(_ context.Context, _, output string) error {
	if !json.Valid([]byte(output)) {
		return engine.ErrInvalidOutput
	}
	return engine.ErrInvalidToken
}
func (s stubEngine) SendTaskFailure(context.Context, string, string, string) error {
	return engine.ErrTaskTimedOut
}
func (s stubEngine) SendTaskHeartbeat(context.Context, string) error { return errors.New("boom") }

// FuzzActions feeds arbitrary bodies to every action: no panic, and every
// answer is a response or an *Error with a code and a 4xx/5xx status.
func FuzzActions(f *testing.F) {
	h := New(Config{Engine: stubEngine{real: engine.New(engine.Config{})}})
	names := make([]string, 0, len(h.actions))
	for n := range h.actions {
		names = append(names, n)
	}
	seeds := []string{
		`{"name":"m","definition":"{\"StartAt\":\"P\",\"States\":{\"P\":{\"Type\":\"Pass\",\"End\":true}}}"}`,
		`{"stateMachineArn":"arn:aws:states:us-east-1:000000000000:stateMachine:m","input":"{}","name":"n"}`,
		`{"executionArn":"arn:aws:states:us-east-1:000000000000:execution:m:n","includeExecutionData":false,"maxResults":2}`,
		`{"taskToken":"abc","output":"{\"a\":1}","error":"E","cause":"C"}`,
		`{"definition":"{}","maxResults":1}`,
		`{"stateMachineArn":7}`, `[]`, `null`, ``, `{"maxResults":-1}`, `{"statusFilter":"RUNNING"}`,
	}
	for i, s := range seeds {
		f.Add(uint8(i), []byte(s))
	}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		name := names[int(which)%len(names)]
		out, err := h.actions[name](context.Background(), body)
		if err != nil {
			e := h.toError(err)
			if e.Code == "" || e.Status < 400 {
				t.Fatalf("%s: error %+v", name, e)
			}
			return
		}
		if _, err := json.Marshal(out); err != nil {
			t.Fatalf("%s: response does not encode: %v", name, err)
		}
	})
}

// TestActionsCovered checks that every action the SDK's client can call
// on this API has a handler.
func TestActionsCovered(t *testing.T) {
	h := New(Config{Engine: stubEngine{real: engine.New(engine.Config{})}})
	if len(h.actions) != 15 {
		t.Fatalf("%d actions", len(h.actions))
	}
}
