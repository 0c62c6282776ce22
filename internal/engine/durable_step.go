package engine

import (
	"fmt"
	"time"

	"github.com/stewardhq/steward/internal/asl"
)

// This file drives the interpreter, transition by transition, over the
// durable runtime: the same calls and history events as memory.go's
// runner, but each step leaves the run in a phase that can be stored.

// machineOf returns the machine a run interprets.
func (x *execState) machineOf(r *xrun) *asl.Machine {
	if r.Parent < 0 {
		return x.m
	}
	p := x.rt.Runs[r.Parent]
	pm := x.machineOf(p)
	if pm == nil {
		return nil
	}
	s := pm.States[p.State]
	if s == nil {
		return nil
	}
	if s.Type == asl.TypeMap {
		return s.Processor
	}
	if r.Index < len(s.Branches) {
		return s.Branches[r.Index]
	}
	return nil
}

// stateOf returns a run's machine and current state; when the runtime
// names a state the machine does not have, it fails the run and reports
// false.
func (e *Engine) stateOf(tx *txn, r *xrun) (*asl.Machine, *asl.State, bool) {
	m := tx.x.machineOf(r)
	if m != nil {
		if s := m.States[r.State]; s != nil {
			return m, s, true
		}
	}
	e.finishRun(tx, r, StatusFailed, nil, asl.ErrRuntime, fmt.Sprintf("unknown state %q", r.State))
	return nil, nil, false
}

// stepInput rebuilds what the interpreter saw when the run entered its
// state.
func (x *execState) stepInput(r *xrun, e *Engine) asl.StepInput {
	retries := 0
	for _, a := range r.Attempts {
		retries += a
	}
	ctx := &asl.Context{
		Execution:    x.info,
		StateMachine: asl.StateMachineInfo{ID: x.row.StateMachineARN, Name: x.smName},
		MapItem:      r.MapItem,
		State:        asl.StateInfo{Name: r.State, EnteredTime: r.EnteredTime, RetryCount: retries},
	}
	ctx.Execution.RedriveCount = x.row.RedriveCount
	if r.Task != nil {
		ctx.TaskToken = r.Task.Token
	}
	return asl.StepInput{State: r.State, Input: r.Input, Vars: r.Vars, Attempts: r.Attempts, Random: e.cfg.Random, EnteredEventID: r.Entered, Context: ctx}
}

// enter enters a ready run's state and applies the interpreter's answer.
func (e *Engine) enter(tx *txn, r *xrun) {
	x := tx.x
	m := x.machineOf(r)
	if m == nil || m.States[r.State] == nil {
		e.finishRun(tx, r, StatusFailed, nil, asl.ErrRuntime, fmt.Sprintf("unknown state %q", r.State))
		return
	}
	if to := x.m.TimeoutSeconds; to > 0 && !tx.now.Before(x.row.StartDate.Add(time.Duration(to)*time.Second)) {
		e.finishExecution(tx, StatusTimedOut, nil, asl.ErrTimeout, "The execution timed out.")
		return
	}
	x.rt.Transitions++
	if max := e.cfg.MaxTransitions; max > 0 && x.rt.Transitions > max {
		e.finishRun(tx, r, StatusFailed, nil, asl.ErrRuntime, fmt.Sprintf("The execution exceeded %d state transitions", max))
		return
	}
	s := m.States[r.State]
	d := payloadDetails("input", r.Input)
	d["name"] = r.State
	r.Entered = tx.event(stateEventType(s, "Entered"), "stateEnteredEventDetails", d)
	r.EnteredTime = tx.now
	r.Task = nil
	if s.WaitsForTaskToken() {
		// Parameters may pass the token on ($$.Task.Token), so it exists
		// before the state is evaluated.
		r.Task = &runTask{Token: newToken(x.row.ARN)}
	}
	in := x.stepInput(r, e)
	e.handle(tx, r, m, s, in, m.Enter(in))
}

// handle applies one interpreter step to a run.
func (e *Engine) handle(tx *txn, r *xrun, m *asl.Machine, s *asl.State, in asl.StepInput, step asl.Step) {
	for {
		switch step.Outcome {
		case asl.OutcomeTask:
			if step = e.scheduleTask(tx, r, m, s, in, step.Task); step.Outcome == 0 {
				return // the task runs
			}
			continue
		case asl.OutcomeBranches:
			if step = e.startChildren(tx, r, m, s, in, step.Branches); step.Outcome == 0 {
				return // children run
			}
			continue
		case asl.OutcomeRetry:
			r.Attempts = step.Attempts
			r.Entered = 0
			r.Task = nil
			if step.Until.After(tx.now) {
				r.Phase, r.Until = phaseRetry, step.Until
				tx.putTimer(timerKey("run", r.ID), step.Until)
			} else {
				r.Phase = phaseReady
			}
			return
		case asl.OutcomeWait:
			if step.Vars != nil {
				r.Vars = step.Vars
			}
			if step.Until.After(tx.now) {
				r.Phase, r.Until, r.WaitNext, r.WaitOutput = phaseWait, step.Until, step.Next, step.Output
				tx.putTimer(timerKey("run", r.ID), step.Until)
				return
			}
			e.exitState(tx, r, s, step.Next, step.Output)
			return
		case asl.OutcomeFail:
			e.finishRun(tx, r, StatusFailed, nil, step.Error, step.Cause)
			return
		case asl.OutcomeNext, asl.OutcomeSucceed:
			if step.Vars != nil {
				r.Vars = step.Vars
			}
			next := step.Next
			if step.Outcome == asl.OutcomeSucceed {
				next = ""
			}
			e.exitState(tx, r, s, next, step.Output)
			return
		default:
			e.finishRun(tx, r, StatusFailed, nil, asl.ErrRuntime, "unexpected interpreter outcome "+step.Outcome.String())
			return
		}
	}
}

// exitState records the state's exit and moves the run on (next == ""
// ends it successfully).
func (e *Engine) exitState(tx *txn, r *xrun, s *asl.State, next string, output any) {
	d := payloadDetails("output", output)
	d["name"] = r.State
	tx.event(stateEventType(s, "Exited"), "stateExitedEventDetails", d)
	r.Task, r.Kids, r.WaitOutput, r.WaitNext = nil, nil, nil, ""
	if next == "" {
		e.finishRun(tx, r, StatusSucceeded, output, "", "")
		return
	}
	r.Phase, r.State, r.Input, r.Attempts, r.Entered = phaseReady, next, output, nil, 0
}

// scheduleTask records a task's scheduling; it returns a zero Step when
// the task is to be invoked after the commit, or the step that follows an
// immediate failure.
func (e *Engine) scheduleTask(tx *txn, r *xrun, m *asl.Machine, s *asl.State, in asl.StepInput, tc *asl.TaskCall) asl.Step {
	rtype, rname := resourceParts(tc.Resource)
	d := map[string]any{"resourceType": rtype, "resource": rname, "region": e.cfg.Region, "parameters": jsonString(tc.Input)}
	if tc.TimeoutSeconds > 0 && tc.TimeoutSeconds != asl.DefaultTaskTimeoutSeconds {
		d["timeoutInSeconds"] = tc.TimeoutSeconds
	}
	if tc.HeartbeatSeconds > 0 {
		d["heartbeatInSeconds"] = tc.HeartbeatSeconds
	}
	tx.event("TaskScheduled", "taskScheduledEventDetails", d)
	started := tx.event("TaskStarted", "taskStartedEventDetails", map[string]any{"resourceType": rtype, "resource": rname})
	attempt := 0
	for _, a := range r.Attempts {
		attempt += a
	}
	rt := &runTask{Call: *tc, Started: started, Key: fmt.Sprintf("%s/%s/%d/%d", tx.x.row.ARN, s.Name, r.Entered, attempt)}
	if r.Task != nil {
		rt.Token = r.Task.Token
	}
	r.Task = rt
	if err := e.checkSize("the task input", tc.Input); err != nil {
		return e.taskFailedStep(tx, r, m, in, err)
	}
	r.Phase = phaseTask
	if tc.TimeoutSeconds > 0 && tc.TimeoutSeconds < asl.DefaultTaskTimeoutSeconds {
		tx.putTimer(timerKey("task", r.ID), tx.now.Add(time.Duration(tc.TimeoutSeconds)*time.Second))
	}
	if tc.WaitForToken {
		tx.putToken(rt.Token, r.ID)
		if tc.HeartbeatSeconds > 0 {
			tx.putTimer(timerKey("hb", r.ID), tx.now.Add(time.Duration(tc.HeartbeatSeconds)*time.Second))
		}
	}
	tx.launch = append(tx.launch, r.ID)
	return asl.Step{}
}

// taskSucceeded completes a run's task with its result.
func (e *Engine) taskSucceeded(tx *txn, r *xrun, result any) {
	if err := e.checkSize("the task result", result); err != nil {
		e.taskFailed(tx, r, err)
		return
	}
	m, s, ok := e.stateOf(tx, r)
	if !ok {
		return
	}
	rtype, rname := resourceParts(r.Task.Call.Resource)
	d := payloadDetails("output", result)
	d["resourceType"], d["resource"] = rtype, rname
	tx.eventAfter(r.Task.Started, "TaskSucceeded", "taskSucceededEventDetails", d)
	tx.clearRunWork(r)
	in := tx.x.stepInput(r, e)
	e.handle(tx, r, m, s, in, m.TaskSucceeded(in, result))
}

// taskFailed fails a run's task; Retry and Catch apply.
func (e *Engine) taskFailed(tx *txn, r *xrun, err error) {
	m, s, ok := e.stateOf(tx, r)
	if !ok {
		return
	}
	in := tx.x.stepInput(r, e)
	e.handle(tx, r, m, s, in, e.taskFailedStep(tx, r, m, in, err))
}

func (e *Engine) taskFailedStep(tx *txn, r *xrun, m *asl.Machine, in asl.StepInput, err error) asl.Step {
	ae := asError(err)
	rtype, rname := resourceParts(r.Task.Call.Resource)
	typ, key := "TaskFailed", "taskFailedEventDetails"
	if ae.Name == asl.ErrTimeout || ae.Name == asl.ErrHeartbeatTimeout {
		typ, key = "TaskTimedOut", "taskTimedOutEventDetails"
	}
	d := errorDetails(ae)
	d["resourceType"], d["resource"] = rtype, rname
	tx.eventAfter(r.Task.Started, typ, key, d)
	tx.clearRunWork(r)
	return m.Failed(in, ae.Name, ae.Cause)
}

// startChildren creates a Parallel or Map state's children and starts as
// many as MaxConcurrency allows; with none, it returns the step that
// follows at once.
func (e *Engine) startChildren(tx *txn, r *xrun, m *asl.Machine, s *asl.State, in asl.StepInput, br *asl.BranchRun) asl.Step {
	if br.Map {
		tx.event("MapStateStarted", "mapStateStartedEventDetails", map[string]any{"length": len(br.Branches)})
	} else {
		tx.event("ParallelStateStarted", "", nil)
	}
	if len(br.Branches) == 0 {
		e.kindEvent(tx, br.Map, "Succeeded")
		return m.BranchesSucceeded(in, []any{})
	}
	k := &runKids{Map: br.Map, Max: br.MaxConcurrency, TolCount: br.ToleratedFailureCount, TolPct: br.ToleratedFailurePercentage}
	for i, b := range br.Branches {
		c := &xrun{ID: len(tx.x.rt.Runs), Parent: r.ID, Index: i, Phase: "", State: b.Machine.StartAt, Input: b.Input, Vars: b.Vars, MapItem: b.MapItem}
		tx.x.rt.Runs = append(tx.x.rt.Runs, c)
		k.IDs = append(k.IDs, c.ID)
	}
	r.Kids = k
	r.Phase = phaseChildren
	e.startMoreChildren(tx, r)
	return asl.Step{}
}

func (e *Engine) kindEvent(tx *txn, isMap bool, suffix string) {
	if isMap {
		tx.event("MapState"+suffix, "", nil)
	} else {
		tx.event("ParallelState"+suffix, "", nil)
	}
}

func (e *Engine) startMoreChildren(tx *txn, r *xrun) {
	k := r.Kids
	for k.Started < len(k.IDs) {
		if k.Max > 0 && k.Started-e.doneChildren(tx, r) >= k.Max {
			return
		}
		c := tx.x.rt.Runs[k.IDs[k.Started]]
		k.Started++
		if k.Map {
			tx.event("MapIterationStarted", "mapIterationStartedEventDetails", map[string]any{"name": r.State, "index": c.Index})
		}
		c.Phase = phaseReady
	}
}

func (e *Engine) doneChildren(_ *txn, r *xrun) int {
	return r.Kids.Done
}

// finishRun ends a run; the end of the top level ends the execution, the
// end of a child moves its parent on.
func (e *Engine) finishRun(tx *txn, r *xrun, status string, output any, errName, cause string) {
	tx.clearRunWork(r)
	r.Phase, r.Status, r.Output, r.Error, r.Cause = phaseDone, status, output, errName, cause
	r.Task, r.WaitOutput = nil, nil
	if r.Parent < 0 {
		if status == StatusSucceeded {
			if err := e.checkSize("the execution output", output); err != nil {
				ae := err.(*asl.Error)
				r.Status, r.Error, r.Cause = StatusFailed, ae.Name, ae.Cause
				e.finishExecution(tx, StatusFailed, nil, ae.Name, ae.Cause)
				return
			}
		}
		e.finishExecution(tx, status, output, errName, cause)
		return
	}
	p := tx.x.rt.Runs[r.Parent]
	if p.Phase != phaseChildren || p.Kids == nil {
		return
	}
	k := p.Kids
	k.Done++
	if status == StatusSucceeded {
		if k.Map {
			tx.event("MapIterationSucceeded", "mapIterationSucceededEventDetails", map[string]any{"name": p.State, "index": r.Index})
		}
	} else {
		if k.Map {
			tx.event("MapIterationFailed", "mapIterationFailedEventDetails", map[string]any{"name": p.State, "index": r.Index})
		}
		k.Failed++
		br := &asl.BranchRun{Map: k.Map, ToleratedFailureCount: k.TolCount, ToleratedFailurePercentage: k.TolPct}
		if !k.Map || !tolerates(br, k.Failed, len(k.IDs)) {
			e.abortChildren(tx, p)
			name, c := errName, cause
			if k.Map && (k.TolCount >= 0 || k.TolPct >= 0) {
				tx.event("MapStateFailed", "", nil)
				name, c = asl.ErrExceedToleratedFailure, "The specified tolerated failure threshold was exceeded"
			} else {
				e.kindEvent(tx, k.Map, "Failed")
			}
			p.Kids = nil
			m, ps, ok := e.stateOf(tx, p)
			if !ok {
				return
			}
			in := tx.x.stepInput(p, e)
			e.handle(tx, p, m, ps, in, m.Failed(in, name, c))
			return
		}
		r.Output = map[string]any{"Error": errName, "Cause": cause}
	}
	if e.doneChildren(tx, p) < len(k.IDs) {
		e.startMoreChildren(tx, p)
		return
	}
	outputs := make([]any, len(k.IDs))
	for i, id := range k.IDs {
		outputs[i] = tx.x.rt.Runs[id].Output
	}
	e.kindEvent(tx, k.Map, "Succeeded")
	e.dropChildren(tx, p)
	p.Kids = nil
	m, ps, ok := e.stateOf(tx, p)
	if !ok {
		return
	}
	in := tx.x.stepInput(p, e)
	e.handle(tx, p, m, ps, in, m.BranchesSucceeded(in, outputs))
}

// abortChildren stops a parent's unfinished children (and theirs).
func (e *Engine) abortChildren(tx *txn, p *xrun) {
	for _, id := range p.Kids.IDs {
		c := tx.x.rt.Runs[id]
		if c.Kids != nil {
			e.abortChildren(tx, c)
		}
		if c.Phase != phaseDone {
			tx.clearRunWork(c)
			c.Phase, c.Status, c.Task = phaseDone, StatusAborted, nil
		}
	}
	e.dropChildren(tx, p)
}

// dropChildren forgets finished children when none of the runs after them
// is alive, so that the runtime of a long execution does not grow with
// every Map it ran.
func (e *Engine) dropChildren(tx *txn, p *xrun) {
	rt := tx.x.rt
	if len(p.Kids.IDs) == 0 {
		return
	}
	first := p.Kids.IDs[0]
	for _, r := range rt.Runs[first:] {
		if r.Phase != phaseDone && !isDescendant(rt, r, p.ID) {
			return
		}
	}
	for _, r := range rt.Runs[first:] {
		tx.clearRunWork(r)
	}
	rt.Runs = rt.Runs[:first]
}

func isDescendant(rt *runtime, r *xrun, ancestor int) bool {
	for r.Parent >= 0 {
		if r.Parent == ancestor {
			return true
		}
		r = rt.Runs[r.Parent]
	}
	return false
}

// finishExecution ends the execution.
func (e *Engine) finishExecution(tx *txn, status string, output any, errName, cause string) {
	x := tx.x
	for _, r := range x.rt.Runs {
		tx.clearRunWork(r)
		if r.Phase != phaseDone {
			r.Phase, r.Status = phaseDone, StatusAborted
		}
	}
	for k := range x.rt.Timers {
		tx.deleteTimer(k)
	}
	for tok := range x.rt.Tokens {
		tx.deleteToken(tok)
	}
	root := x.rt.Runs[0]
	root.Status, root.Error, root.Cause = status, errName, cause
	ae := &asl.Error{Name: errName, Cause: cause}
	switch status {
	case StatusSucceeded:
		tx.event("ExecutionSucceeded", "executionSucceededEventDetails", payloadDetails("output", output))
		tx.t.Output = jsonString(output)
	case StatusFailed:
		tx.event("ExecutionFailed", "executionFailedEventDetails", errorDetails(ae))
	case StatusTimedOut:
		tx.event("ExecutionTimedOut", "executionTimedOutEventDetails", errorDetails(ae))
	case StatusAborted:
		tx.event("ExecutionAborted", "executionAbortedEventDetails", errorDetails(ae))
	}
	tx.t.Status, tx.t.Error, tx.t.Cause, tx.t.StopDate = status, errName, cause, tx.now
	tx.finished = true
}

func (e *Engine) checkSize(what string, v any) error {
	b, err := marshal(v)
	if err != nil {
		return asl.NewError(asl.ErrRuntime, "%s is not valid JSON: %v", what, err)
	}
	if len(b) > e.cfg.MaxPayloadBytes {
		return asl.NewError(asl.ErrDataLimitExceeded, "The state/task returned a result with a size exceeding the maximum number of bytes service limit: %s is %d bytes, over the limit of %d", what, len(b), e.cfg.MaxPayloadBytes)
	}
	return nil
}

// fireTimer applies a due timer.
func (e *Engine) fireTimer(tx *txn, key string) {
	x := tx.x
	delete(x.rt.Timers, key)
	tx.t.DeleteTimers = append(tx.t.DeleteTimers, key)
	kind, id := parseTimerKey(key)
	if kind == "execution" {
		e.finishExecution(tx, StatusTimedOut, nil, asl.ErrTimeout, "The execution timed out.")
		return
	}
	if id < 0 || id >= len(x.rt.Runs) {
		return
	}
	r := x.rt.Runs[id]
	switch kind {
	case "run":
		switch r.Phase {
		case phaseRetry:
			r.Phase = phaseReady
		case phaseWait:
			if _, s, ok := e.stateOf(tx, r); ok {
				e.exitState(tx, r, s, r.WaitNext, r.WaitOutput)
			}
		}
	case "task":
		if r.Phase == phaseTask {
			e.taskFailed(tx, r, &asl.Error{Name: asl.ErrTimeout, Cause: "Task timed out."})
		}
	case "hb":
		if r.Phase == phaseTask {
			e.taskFailed(tx, r, &asl.Error{Name: asl.ErrHeartbeatTimeout, Cause: "Task heartbeat timed out."})
		}
	}
}
