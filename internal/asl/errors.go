package asl

import "fmt"

// Error names that Amazon States Language predefines. A playbook matches
// them in Retry and Catch; steward produces them exactly as Step Functions
// does.
const (
	ErrAll                    = "States.ALL"
	ErrDataLimitExceeded      = "States.DataLimitExceeded"
	ErrExceedToleratedFailure = "States.ExceedToleratedFailureThreshold"
	ErrHeartbeatTimeout       = "States.HeartbeatTimeout"
	ErrIntrinsicFailure       = "States.IntrinsicFailure"
	ErrItemReaderFailed       = "States.ItemReaderFailed"
	ErrNoChoiceMatched        = "States.NoChoiceMatched"
	ErrParameterPathFailure   = "States.ParameterPathFailure"
	ErrPermissions            = "States.Permissions"
	ErrQueryEvaluationError   = "States.QueryEvaluationError"
	ErrResultPathMatchFailure = "States.ResultPathMatchFailure"
	ErrResultWriterFailed     = "States.ResultWriterFailed"
	ErrRuntime                = "States.Runtime"
	ErrTaskFailed             = "States.TaskFailed"
	ErrTimeout                = "States.Timeout"
	ErrBranchFailed           = "States.BranchFailed"
	ErrExecutionLimitExceeded = "States.ExecutionLimitExceeded"
)

// Error is a failure in ASL terms: an error name a Retry or Catch can
// match, and a human-readable cause. Task handlers return it (or wrap it) to
// fail with a specific name; the interpreter produces it for its own
// failures.
type Error struct {
	Name  string
	Cause string
}

func (e *Error) Error() string {
	if e.Cause == "" {
		return e.Name
	}
	return e.Name + ": " + e.Cause
}

// NewError returns an *Error with a formatted cause.
func NewError(name, format string, args ...any) *Error {
	return &Error{Name: name, Cause: fmt.Sprintf(format, args...)}
}

// terminal reports whether an error can never be retried or caught:
// States.ALL and States.TaskFailed do not match these, as in Step Functions.
func terminal(name string) bool {
	return name == ErrRuntime || name == ErrDataLimitExceeded
}

// errorMatches reports whether a Retry or Catch ErrorEquals list matches
// the error name, with Step Functions' wildcard rules: States.ALL matches
// every non-terminal error, and States.TaskFailed matches every
// non-terminal error except States.Timeout.
func errorMatches(list []string, name string) bool {
	for _, want := range list {
		switch {
		case want == name:
			return true
		case terminal(name):
			continue
		case want == ErrAll:
			return true
		case want == ErrTaskFailed && name != ErrTimeout:
			return true
		}
	}
	return false
}
