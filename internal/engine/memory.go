package engine

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"

	"github.com/stewardhq/steward/internal/asl"
	"github.com/stewardhq/steward/internal/task"
)

// Execution statuses, as Step Functions names them.
const (
	StatusRunning   = "RUNNING"
	StatusSucceeded = "SUCCEEDED"
	StatusFailed    = "FAILED"
	StatusTimedOut  = "TIMED_OUT"
	StatusAborted   = "ABORTED"
)

// DefaultMaxPayloadBytes is Step Functions' limit on an input, output or
// result: 256 KiB.
const DefaultMaxPayloadBytes = 256 * 1024

// DefaultMaxTransitions bounds an in-memory run, so a definition that loops
// forever ends with an error instead of hanging.
const DefaultMaxTransitions = 1_000_000

// RunParams configures an in-memory execution.
type RunParams struct {
	Machine *asl.Machine
	Input   any
	// ExecutionName and StateMachineName name the execution in the context
	// object and history; defaults are a UUID and "steward-run".
	ExecutionName    string
	StateMachineName string
	// Tasks resolves Task states' resources.
	Tasks *task.Registry
	// Start is when the simulated clock starts; default: now.
	Start time.Time
	// RealTime makes waits and retry delays take real time. Without it they
	// pass at once on a simulated clock, which the context object shows.
	RealTime bool
	// History records the execution history.
	History bool
	// MaxPayloadBytes limits inputs, outputs and task results;
	// 0 means DefaultMaxPayloadBytes.
	MaxPayloadBytes int
	// MaxTransitions bounds the number of state entries; 0 means
	// DefaultMaxTransitions.
	MaxTransitions int
	// Random returns numbers in [0, 1) for retry jitter; default math/rand.
	Random func() float64
}

// Result is how an execution ended.
type Result struct {
	Status      string
	Output      any
	Error       string
	Cause       string
	History     []HistoryEvent
	Transitions int
	// Start and Stop are on the execution's clock (simulated unless RealTime).
	Start, Stop time.Time
}

// Run executes a machine in memory, to the end. Task states call the
// registry's handlers; a .waitForTaskToken task completes with what its
// handler returns, as if the token had been sent back at once. It returns
// an error only for a problem with the parameters; a failed execution is a
// Result with Status FAILED.
func Run(ctx context.Context, p RunParams) (*Result, error) {
	if p.Machine == nil {
		return nil, errors.New("run: no state machine")
	}
	if p.Tasks == nil {
		p.Tasks = task.NewRegistry()
	}
	if err := CheckResources(p.Machine, p.Tasks); err != nil {
		return nil, err
	}
	if p.ExecutionName == "" {
		p.ExecutionName = uuid.NewString()
	}
	if p.StateMachineName == "" {
		p.StateMachineName = "steward-run"
	}
	if p.Start.IsZero() {
		p.Start = time.Now().UTC()
	}
	if p.MaxPayloadBytes == 0 {
		p.MaxPayloadBytes = DefaultMaxPayloadBytes
	}
	if p.MaxTransitions == 0 {
		p.MaxTransitions = DefaultMaxTransitions
	}
	if p.Random == nil {
		p.Random = rand.Float64
	}
	r := &runner{p: p, now: p.Start, hist: &history{record: p.History}}
	smArn := "arn:aws:states:us-east-1:000000000000:stateMachine:" + p.StateMachineName
	r.exec = asl.ExecutionInfo{
		ID:        "arn:aws:states:us-east-1:000000000000:execution:" + p.StateMachineName + ":" + p.ExecutionName,
		Name:      p.ExecutionName,
		Input:     p.Input,
		StartTime: p.Start,
		RoleArn:   "arn:aws:iam::000000000000:role/steward",
	}
	r.sm = asl.StateMachineInfo{ID: smArn, Name: p.StateMachineName}
	r.cache = &asl.ContextCache{}
	res := &Result{Start: p.Start}
	r.hist.add(r.now, 0, "ExecutionStarted", "executionStartedEventDetails", func() map[string]any {
		d := payloadDetails("input", p.Input)
		d["roleArn"] = r.exec.RoleArn
		return d
	})
	if err := r.checkSize("the execution input", p.Input); err != nil {
		r.finish(res, outcome{status: StatusFailed, err: err.(*asl.Error)})
		return res, nil
	}
	o := r.runMachine(ctx, p.Machine, p.Input, nil, nil)
	if o.status == StatusSucceeded {
		if err := r.checkSize("the execution output", o.output); err != nil {
			o = outcome{status: StatusFailed, err: err.(*asl.Error)}
		}
	}
	r.finish(res, o)
	return res, nil
}

// CheckResources reports every Task resource in m (and its branches) that
// no handler serves, so a run never starts half-able.
func CheckResources(m *asl.Machine, tasks *task.Registry) error {
	var errs []error
	var walk func(*asl.Machine)
	walk = func(m *asl.Machine) {
		for _, name := range m.Order {
			s := m.States[name]
			if s.Type == asl.TypeTask {
				if _, err := tasks.Resolve(s.Resource); err != nil {
					errs = append(errs, fmt.Errorf("state %q: %w", name, err))
				}
			}
			for _, b := range s.Branches {
				walk(b)
			}
			if s.Processor != nil {
				walk(s.Processor)
			}
		}
	}
	walk(m)
	return errors.Join(errs...)
}

type runner struct {
	p           RunParams
	now         time.Time
	hist        *history
	exec        asl.ExecutionInfo
	sm          asl.StateMachineInfo
	cache       *asl.ContextCache
	transitions int
}

// outcome is how one machine (the execution, a branch or an iteration) ended.
type outcome struct {
	status string
	output any
	err    *asl.Error
}

func (r *runner) finish(res *Result, o outcome) {
	res.Status = o.status
	res.Output = o.output
	res.Transitions = r.transitions
	res.Stop = r.now
	if o.err != nil {
		res.Error, res.Cause = o.err.Name, o.err.Cause
	}
	switch o.status {
	case StatusSucceeded:
		r.hist.add(r.now, r.hist.last(), "ExecutionSucceeded", "executionSucceededEventDetails", func() map[string]any { return payloadDetails("output", o.output) })
	case StatusFailed:
		r.hist.add(r.now, r.hist.last(), "ExecutionFailed", "executionFailedEventDetails", func() map[string]any { return errorDetails(o.err) })
	case StatusTimedOut:
		r.hist.add(r.now, r.hist.last(), "ExecutionTimedOut", "executionTimedOutEventDetails", func() map[string]any { return errorDetails(o.err) })
	case StatusAborted:
		r.hist.add(r.now, r.hist.last(), "ExecutionAborted", "executionAbortedEventDetails", func() map[string]any { return errorDetails(o.err) })
	}
	res.History = r.hist.events
}

func errorDetails(e *asl.Error) map[string]any {
	d := map[string]any{}
	if e != nil {
		if e.Name != "" {
			d["error"] = e.Name
		}
		if e.Cause != "" {
			d["cause"] = e.Cause
		}
	}
	return d
}

func (r *runner) checkSize(what string, v any) error {
	b, err := marshal(v)
	if err != nil {
		return asl.NewError(asl.ErrRuntime, "%s is not valid JSON: %v", what, err)
	}
	if len(b) > r.p.MaxPayloadBytes {
		return asl.NewError(asl.ErrDataLimitExceeded, "The state/task returned a result with a size exceeding the maximum number of bytes service limit: %s is %d bytes, over the limit of %d", what, len(b), r.p.MaxPayloadBytes)
	}
	return nil
}

// advance moves the clock to t (sleeping when in real time).
func (r *runner) advance(ctx context.Context, t time.Time) error {
	if !t.After(r.now) {
		return nil
	}
	if r.p.RealTime {
		timer := time.NewTimer(time.Until(time.Now().Add(t.Sub(r.now))))
		defer timer.Stop()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
		}
	}
	r.now = t
	return nil
}

func (r *runner) timedOut() bool {
	t := r.p.Machine.TimeoutSeconds
	return t > 0 && r.now.Sub(r.p.Start) >= time.Duration(t)*time.Second
}

// runMachine runs m from its StartAt to an end.
func (r *runner) runMachine(ctx context.Context, m *asl.Machine, input any, vars map[string]any, item *asl.MapItem) outcome {
	name := m.StartAt
	var attempts []int
	for {
		if err := ctx.Err(); err != nil {
			return outcome{status: StatusAborted, err: &asl.Error{Name: "States.Aborted", Cause: err.Error()}}
		}
		if r.timedOut() {
			return outcome{status: StatusTimedOut, err: &asl.Error{Name: asl.ErrTimeout, Cause: "The execution timed out."}}
		}
		r.transitions++
		if r.transitions > r.p.MaxTransitions {
			return outcome{status: StatusFailed, err: asl.NewError(asl.ErrRuntime, "The execution exceeded %d state transitions", r.p.MaxTransitions)}
		}
		s := m.States[name]
		entered := r.hist.add(r.now, r.hist.last(), stateEventType(s, "Entered"), "stateEnteredEventDetails", func() map[string]any {
			d := payloadDetails("input", input)
			d["name"] = name
			return d
		})
		retries := 0
		for _, a := range attempts {
			retries += a
		}
		in := asl.StepInput{
			State: name, Input: input, Vars: vars, Attempts: attempts, Random: r.p.Random, EnteredEventID: entered,
			Context: &asl.Context{Execution: r.exec, StateMachine: r.sm, MapItem: item, Cache: r.cache,
				State: asl.StateInfo{Name: name, EnteredTime: r.now, RetryCount: retries}},
		}
		if s.WaitsForTaskToken() {
			// Parameters may pass the token on ($$.Task.Token), so it exists
			// before the state is evaluated.
			in.Context.TaskToken = uuid.NewString()
		}
		step := r.resolve(ctx, m, s, in, m.Enter(in))
		switch step.Outcome {
		case asl.OutcomeRetry:
			if err := r.advance(ctx, r.now.Add(step.Delay)); err != nil {
				return outcome{status: StatusAborted, err: &asl.Error{Name: "States.Aborted", Cause: err.Error()}}
			}
			attempts = step.Attempts
			continue
		case asl.OutcomeWait:
			if err := r.advance(ctx, step.Until); err != nil {
				return outcome{status: StatusAborted, err: &asl.Error{Name: "States.Aborted", Cause: err.Error()}}
			}
		case asl.OutcomeFail:
			return outcome{status: StatusFailed, err: &asl.Error{Name: step.Error, Cause: step.Cause}}
		}
		if s.Type != asl.TypeFail {
			r.hist.add(r.now, r.hist.last(), stateEventType(s, "Exited"), "stateExitedEventDetails", func() map[string]any {
				d := payloadDetails("output", step.Output)
				d["name"] = name
				return d
			})
		}
		if step.Vars != nil {
			vars = step.Vars
		}
		if step.Outcome == asl.OutcomeSucceed || (step.Outcome == asl.OutcomeWait && step.Next == "") {
			return outcome{status: StatusSucceeded, output: step.Output}
		}
		name, input, attempts = step.Next, step.Output, nil
	}
}

// resolve carries out Task and Branches steps until the interpreter gives a
// step that needs no more work from the driver.
func (r *runner) resolve(ctx context.Context, m *asl.Machine, s *asl.State, in asl.StepInput, step asl.Step) asl.Step {
	for {
		switch step.Outcome {
		case asl.OutcomeTask:
			result, err := r.callTask(ctx, s, in, step.Task)
			if err != nil {
				ae := asError(err)
				step = m.Failed(in, ae.Name, ae.Cause)
				continue
			}
			step = m.TaskSucceeded(in, result)
		case asl.OutcomeBranches:
			outputs, ae := r.runBranches(ctx, s, in, step.Branches)
			if ae != nil {
				step = m.Failed(in, ae.Name, ae.Cause)
				continue
			}
			step = m.BranchesSucceeded(in, outputs)
		default:
			return step
		}
	}
}

// asError turns a task's error into an ASL error.
func asError(err error) *asl.Error {
	var ae *asl.Error
	if errors.As(err, &ae) {
		return ae
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return &asl.Error{Name: asl.ErrTimeout, Cause: "Task timed out."}
	}
	return &asl.Error{Name: asl.ErrTaskFailed, Cause: err.Error()}
}

func (r *runner) callTask(ctx context.Context, s *asl.State, in asl.StepInput, tc *asl.TaskCall) (any, error) {
	rtype, rname := resourceParts(tc.Resource)
	prev := r.hist.last()
	prev = r.hist.add(r.now, prev, "TaskScheduled", "taskScheduledEventDetails", func() map[string]any {
		d := map[string]any{"resourceType": rtype, "resource": rname, "region": "us-east-1", "parameters": jsonString(tc.Input)}
		if tc.TimeoutSeconds > 0 && tc.TimeoutSeconds != asl.DefaultTaskTimeoutSeconds {
			d["timeoutInSeconds"] = tc.TimeoutSeconds
		}
		if tc.HeartbeatSeconds > 0 {
			d["heartbeatInSeconds"] = tc.HeartbeatSeconds
		}
		return d
	})
	prev = r.hist.add(r.now, prev, "TaskStarted", "taskStartedEventDetails", func() map[string]any {
		return map[string]any{"resourceType": rtype, "resource": rname}
	})
	if err := r.checkSize("the task input", tc.Input); err != nil {
		return nil, err
	}
	h, err := r.p.Tasks.Resolve(tc.Resource)
	if err != nil {
		return nil, asl.NewError(asl.ErrRuntime, "%v", err)
	}
	attempt := 0
	for _, a := range in.Attempts {
		attempt += a
	}
	call := &task.Call{
		Resource:       tc.Resource,
		Input:          tc.Input,
		ExecutionID:    r.exec.ID,
		ExecutionInput: r.exec.Input,
		StateName:      s.Name,
		Credentials:    tc.Credentials,
		IdempotencyKey: fmt.Sprintf("%s/%s/%d/%d", r.exec.ID, s.Name, in.EnteredEventID, attempt),
	}
	if tc.WaitForToken {
		call.Token = in.Context.TaskToken
	}
	tctx := ctx
	if tc.TimeoutSeconds > 0 && tc.TimeoutSeconds < asl.DefaultTaskTimeoutSeconds {
		var cancel context.CancelFunc
		tctx, cancel = context.WithTimeout(ctx, time.Duration(tc.TimeoutSeconds)*time.Second)
		defer cancel()
	}
	result, err := h.Invoke(tctx, call)
	if err == nil {
		err = r.checkSize("the task result", result)
	}
	if err != nil {
		ae := asError(err)
		typ, key := "TaskFailed", "taskFailedEventDetails"
		if ae.Name == asl.ErrTimeout {
			typ, key = "TaskTimedOut", "taskTimedOutEventDetails"
		}
		r.hist.add(r.now, prev, typ, key, func() map[string]any {
			d := errorDetails(ae)
			d["resourceType"], d["resource"] = rtype, rname
			return d
		})
		return nil, ae
	}
	r.hist.add(r.now, prev, "TaskSucceeded", "taskSucceededEventDetails", func() map[string]any {
		d := payloadDetails("output", result)
		d["resourceType"], d["resource"] = rtype, rname
		return d
	})
	return result, nil
}

// runBranches runs a Parallel state's branches or a Map state's
// iterations, one after another, and returns their outputs in order.
func (r *runner) runBranches(ctx context.Context, s *asl.State, in asl.StepInput, run *asl.BranchRun) ([]any, *asl.Error) {
	kind := "Parallel"
	if run.Map {
		kind = "Map"
	}
	if run.Map {
		r.hist.add(r.now, r.hist.last(), "MapStateStarted", "mapStateStartedEventDetails", func() map[string]any { return map[string]any{"length": len(run.Branches)} })
	} else {
		r.hist.add(r.now, r.hist.last(), "ParallelStateStarted", "", nil)
	}
	outputs := make([]any, len(run.Branches))
	failed := 0
	for i, b := range run.Branches {
		if run.Map {
			r.hist.add(r.now, r.hist.last(), "MapIterationStarted", "mapIterationStartedEventDetails", iterationDetails(s.Name, i))
		}
		o := r.runMachine(ctx, b.Machine, b.Input, b.Vars, b.MapItem)
		if o.status == StatusSucceeded {
			outputs[i] = o.output
			if run.Map {
				r.hist.add(r.now, r.hist.last(), "MapIterationSucceeded", "mapIterationSucceededEventDetails", iterationDetails(s.Name, i))
			}
			continue
		}
		if o.status != StatusFailed {
			return nil, o.err // aborted or timed out: no tolerance applies
		}
		if run.Map {
			r.hist.add(r.now, r.hist.last(), "MapIterationFailed", "mapIterationFailedEventDetails", iterationDetails(s.Name, i))
		}
		failed++
		if !run.Map || !tolerates(run, failed, len(run.Branches)) {
			if run.Map && (run.ToleratedFailureCount >= 0 || run.ToleratedFailurePercentage >= 0) {
				r.hist.add(r.now, r.hist.last(), "MapStateFailed", "", nil)
				return nil, &asl.Error{Name: asl.ErrExceedToleratedFailure, Cause: "The specified tolerated failure threshold was exceeded"}
			}
			r.hist.add(r.now, r.hist.last(), kind+"StateFailed", "", nil)
			return nil, o.err
		}
		outputs[i] = map[string]any{"Error": o.err.Name, "Cause": o.err.Cause}
	}
	r.hist.add(r.now, r.hist.last(), kind+"StateSucceeded", "", nil)
	return outputs, nil
}

func iterationDetails(name string, i int) func() map[string]any {
	return func() map[string]any { return map[string]any{"name": name, "index": i} }
}

// tolerates reports whether a Map may go on with failed of total iterations
// failed.
func tolerates(run *asl.BranchRun, failed, total int) bool {
	if run.ToleratedFailureCount < 0 && run.ToleratedFailurePercentage < 0 {
		return false
	}
	if run.ToleratedFailureCount >= 0 && failed <= run.ToleratedFailureCount {
		return true
	}
	if run.ToleratedFailurePercentage >= 0 && total > 0 && float64(failed)*100/float64(total) <= run.ToleratedFailurePercentage {
		return true
	}
	return false
}
