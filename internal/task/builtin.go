package task

import (
	"context"

	"github.com/stewardhq/steward/internal/asl"
)

// RegisterBasics registers the tasks every steward has:
//
//   - steward:echo returns its input.
//   - steward:fail fails with the "Error" and "Cause" of its input.
func RegisterBasics(r *Registry) {
	r.Register("steward:echo", HandlerFunc(echo))
	r.Register("steward:fail", HandlerFunc(fail))
}

func echo(_ context.Context, call *Call) (any, error) { return call.Input, nil }

func fail(_ context.Context, call *Call) (any, error) {
	e := &asl.Error{Name: "States.TaskFailed"}
	if in, ok := call.Input.(map[string]any); ok {
		if s, ok := in["Error"].(string); ok {
			e.Name = s
		}
		if s, ok := in["Cause"].(string); ok {
			e.Cause = s
		}
	}
	return nil, e
}
