package intrinsic

import (
	"errors"
	"fmt"

	"github.com/stewardhq/steward/internal/asl/jsonpath"
)

// Error names Step Functions uses for failures while evaluating intrinsics.
const (
	// ErrNameIntrinsicFailure is raised when a function rejects its
	// arguments.
	ErrNameIntrinsicFailure = "States.IntrinsicFailure"
	// ErrNameRuntime is raised when a path argument selects nothing.
	ErrNameRuntime = "States.Runtime"
)

// Error is a runtime failure of an intrinsic function, carrying the Step
// Functions error name and cause. The interpreter prefixes Cause with
// "An error occurred while executing the state '...' (entered at the event
// id #N). " where Step Functions does.
type Error struct {
	Name  string // ErrNameIntrinsicFailure or ErrNameRuntime
	Cause string
}

// Error returns "Name: Cause".
func (e *Error) Error() string { return e.Name + ": " + e.Cause }

func failf(format string, args ...any) error {
	return &Error{Name: ErrNameIntrinsicFailure, Cause: fmt.Sprintf(format, args...)}
}

// Eval evaluates the call in env. Runtime failures are *Error.
func (c *Call) Eval(env Env) (any, error) {
	return c.root.eval(env)
}

func (n *node) eval(env Env) (any, error) {
	switch n.kind {
	case litNode:
		return n.lit, nil
	case pathNode:
		return n.get(env.Input(), env)
	case ctxNode:
		return n.get(env.Context(), env)
	case varNode:
		v, ok := env.Variable(n.varName)
		if !ok {
			return nil, &Error{Name: ErrNameRuntime, Cause: fmt.Sprintf("The variable '$%s' referenced by the argument '%s' is not defined", n.varName, n.text)}
		}
		return n.get(v, env)
	}
	var small [4]any
	args := small[:0]
	if len(n.args) > len(small) {
		args = make([]any, 0, len(n.args))
	}
	for _, a := range n.args {
		v, err := a.eval(env)
		if err != nil {
			return nil, err
		}
		args = append(args, v)
	}
	return n.fn.impl(n, args)
}

func (n *node) get(doc any, env Env) (any, error) {
	v, err := n.path.Get(doc)
	if err != nil {
		if errors.Is(err, jsonpath.ErrNotFound) {
			return nil, &Error{Name: ErrNameRuntime, Cause: fmt.Sprintf("The JsonPath argument for the field '%s' could not be found in the input '%s'", n.text, CompactJSON(doc))}
		}
		return nil, &Error{Name: ErrNameRuntime, Cause: fmt.Sprintf("The JsonPath argument '%s' could not be evaluated: %v", n.text, err)}
	}
	return v, nil
}
