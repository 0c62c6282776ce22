package asl

import (
	"sync"
	"time"
)

// TimeFormat is how Step Functions writes timestamps in the context object
// and in histories.
const TimeFormat = "2006-01-02T15:04:05.000Z"

// Context is the context object ($$ in JSONPath, $states.context in
// JSONata) for one state entry.
type Context struct {
	Execution    ExecutionInfo
	StateMachine StateMachineInfo
	State        StateInfo
	// TaskToken is set for a Task state that waits for a task token.
	TaskToken string
	// MapItem is set inside a Map state's ItemSelector and item processor.
	MapItem *MapItem
	// Cache, when a driver shares one across an execution's states, keeps
	// the parts of the context object that do not change during the
	// execution, so they are rendered once. Optional.
	Cache *ContextCache
}

// ContextCache keeps the rendered $$.Execution and $$.StateMachine of one
// execution. It is safe for concurrent use.
type ContextCache struct {
	once         sync.Once
	execution    map[string]any
	stateMachine map[string]any
}

func (c *Context) executionValues() (map[string]any, map[string]any) {
	build := func() (map[string]any, map[string]any) {
		return map[string]any{
				"Id":           c.Execution.ID,
				"Input":        c.Execution.Input,
				"StartTime":    c.Execution.StartTime.UTC().Format(TimeFormat),
				"Name":         c.Execution.Name,
				"RoleArn":      c.Execution.RoleArn,
				"RedriveCount": c.Execution.RedriveCount,
			}, map[string]any{
				"Id":   c.StateMachine.ID,
				"Name": c.StateMachine.Name,
			}
	}
	if c.Cache == nil {
		return build()
	}
	c.Cache.once.Do(func() { c.Cache.execution, c.Cache.stateMachine = build() })
	return c.Cache.execution, c.Cache.stateMachine
}

// ExecutionInfo is $$.Execution.
type ExecutionInfo struct {
	ID           string
	Name         string
	Input        any
	StartTime    time.Time
	RoleArn      string
	RedriveCount int
}

// StateMachineInfo is $$.StateMachine.
type StateMachineInfo struct {
	ID   string
	Name string
}

// StateInfo is $$.State.
type StateInfo struct {
	Name        string
	EnteredTime time.Time
	RetryCount  int
}

// MapItem is $$.Map.Item.
type MapItem struct {
	Index int
	Value any
}

// Value renders the context object as a JSON value, with the fields Step
// Functions shows.
func (c *Context) Value() map[string]any {
	if c == nil {
		return map[string]any{}
	}
	state := map[string]any{
		"Name":        c.State.Name,
		"EnteredTime": c.State.EnteredTime.UTC().Format(TimeFormat),
	}
	if c.State.RetryCount > 0 {
		state["RetryCount"] = c.State.RetryCount
	}
	execution, stateMachine := c.executionValues()
	v := map[string]any{
		"Execution":    execution,
		"StateMachine": stateMachine,
		"State":        state,
	}
	if c.TaskToken != "" {
		v["Task"] = map[string]any{"Token": c.TaskToken}
	}
	if c.MapItem != nil {
		v["Map"] = map[string]any{"Item": map[string]any{"Index": c.MapItem.Index, "Value": c.MapItem.Value}}
	}
	return v
}

// env is what expressions in one state see: the input ($), the context
// object ($$) and the variables in scope.
type env struct {
	input  any
	ctx    *Context
	ctxVal map[string]any
	vars   map[string]any

	// JSONata's $states.result and $states.errorOutput, where they exist.
	result      any
	hasResult   bool
	errorOutput any
	// enteredEventID is the history event id of the state's entry, which
	// Step Functions quotes in QueryEvaluationError causes.
	enteredEventID int64
}

func (e *env) contextValue() any {
	if e.ctxVal == nil {
		e.ctxVal = e.ctx.Value()
	}
	return e.ctxVal
}

func (e *env) variable(name string) (any, bool) {
	v, ok := e.vars[name]
	return v, ok
}

// The intrinsic.Env methods.

func (e *env) Input() any                       { return e.input }
func (e *env) Context() any                     { return e.contextValue() }
func (e *env) Variable(name string) (any, bool) { return e.variable(name) }
func (e *env) with(input any) *env              { c := *e; c.input = input; return &c }

// statesVar is JSONata's $states plus the variables in scope, as bindings.
func (e *env) statesVar() map[string]any {
	states := map[string]any{
		"input":   e.input,
		"context": e.contextValue(),
	}
	if e.hasResult {
		states["result"] = e.result
	}
	if e.errorOutput != nil {
		states["errorOutput"] = e.errorOutput
	}
	b := make(map[string]any, len(e.vars)+1)
	for k, v := range e.vars {
		b[k] = v
	}
	b["states"] = states
	return b
}

func (e *env) stateName() string {
	if e.ctx == nil {
		return ""
	}
	return e.ctx.State.Name
}
