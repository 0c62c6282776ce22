package asl

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// StepInput is everything the interpreter needs to evaluate one state.
type StepInput struct {
	// State is the name of the state to evaluate.
	State string
	// Input is the state's raw input.
	Input any
	// Vars are the variables in scope. The interpreter never modifies it.
	Vars map[string]any
	// Context is the context object for this state entry.
	Context *Context
	// Attempts counts the retries already made, per retrier of this state.
	Attempts []int
	// Random returns a number in [0, 1) for retry jitter.
	Random func() float64
	// EnteredEventID is the history id of the state's entered event.
	EnteredEventID int64
}

// Outcome says what a driver must do after a step.
type Outcome int

const (
	// OutcomeNext: go to Step.Next with Step.Output as its input.
	OutcomeNext Outcome = iota + 1
	// OutcomeSucceed: the machine succeeded with Step.Output.
	OutcomeSucceed
	// OutcomeFail: the machine failed with Step.Error and Step.Cause.
	OutcomeFail
	// OutcomeWait: wait until Step.Until, then go to Step.Next with Step.Output.
	OutcomeWait
	// OutcomeTask: call Step.Task, then report with TaskSucceeded or Failed.
	OutcomeTask
	// OutcomeBranches: run Step.Branches, then report with
	// BranchesSucceeded or Failed.
	OutcomeBranches
	// OutcomeRetry: wait until Step.Until, then enter the same state again,
	// with the same input and Step.Attempts.
	OutcomeRetry
)

func (o Outcome) String() string {
	switch o {
	case OutcomeNext:
		return "next"
	case OutcomeSucceed:
		return "succeed"
	case OutcomeFail:
		return "fail"
	case OutcomeWait:
		return "wait"
	case OutcomeTask:
		return "task"
	case OutcomeBranches:
		return "branches"
	case OutcomeRetry:
		return "retry"
	}
	return fmt.Sprintf("outcome(%d)", int(o))
}

// Step is the interpreter's answer for one state.
type Step struct {
	Outcome Outcome
	Next    string
	Output  any
	// Vars is the variable scope after the state, when it assigned
	// variables; nil when it is unchanged.
	Vars map[string]any
	// Error and Cause, for OutcomeFail; and for OutcomeNext and OutcomeRetry
	// after an error, the error that was caught or retried.
	Error string
	Cause string
	// Caught is true for an OutcomeNext that a Catch produced.
	Caught bool
	// Until is when a Wait or a retry ends.
	Until time.Time
	// Delay is the retry delay that gave Until.
	Delay time.Duration
	// Attempts is the new per-retrier count, for OutcomeRetry.
	Attempts []int
	// Task is the call to make, for OutcomeTask.
	Task *TaskCall
	// Branches are the branches or iterations to run, for OutcomeBranches.
	Branches *BranchRun
}

// TaskCall is a Task state's request to the driver.
type TaskCall struct {
	Resource         string
	Input            any
	TimeoutSeconds   int
	HeartbeatSeconds int
	Credentials      any
	WaitForToken     bool
}

// BranchRun is a Parallel or Map state's request to run children.
type BranchRun struct {
	// Map is true for a Map state, false for Parallel.
	Map      bool
	Branches []Branch
	// MaxConcurrency bounds how many run at once; 0 means no bound.
	MaxConcurrency int
	// ToleratedFailureCount and ToleratedFailurePercentage (Map only): the
	// Map fails only when more iterations fail than tolerated. Negative
	// count means none set.
	ToleratedFailureCount      int
	ToleratedFailurePercentage float64
}

// Branch is one Parallel branch or one Map iteration.
type Branch struct {
	Machine *Machine
	Input   any
	// Vars are the variables visible in the branch (a copy of the outer
	// scope: branches read outer variables but do not assign them).
	Vars map[string]any
	// MapItem is the iteration's $$.Map.Item, for Map.
	MapItem *MapItem
}

// StartState returns the machine's first state.
func (m *Machine) StartState() *State { return m.States[m.StartAt] }

// fail builds an OutcomeFail step or handles the error with Retry and
// Catch, as Step Functions does.
func (m *Machine) failStep(s *State, in StepInput, err error) Step {
	var ae *Error
	if !errors.As(err, &ae) {
		ae = &Error{Name: ErrRuntime, Cause: err.Error()}
	}
	return m.handleError(s, in, ae.Name, ae.Cause)
}

// Failed reports that the task or branches of a state failed with an
// error; the interpreter retries, catches or fails, as Retry and Catch say.
func (m *Machine) Failed(in StepInput, name, cause string) Step {
	s, ok := m.States[in.State]
	if !ok {
		return Step{Outcome: OutcomeFail, Error: ErrRuntime, Cause: fmt.Sprintf("unknown state %q", in.State)}
	}
	return annotate(s, in, m.handleError(s, in, name, cause))
}

func (m *Machine) handleError(s *State, in StepInput, name, cause string) Step {
	for i, r := range s.retry {
		if !errorMatches(r.errorEquals, name) {
			continue
		}
		attempts := 0
		if i < len(in.Attempts) {
			attempts = in.Attempts[i]
		}
		if attempts >= r.maxAttempts {
			break // the first matching retrier is exhausted: go to Catch
		}
		delay := r.intervalSeconds * math.Pow(r.backoffRate, float64(attempts))
		if r.maxDelaySeconds > 0 && delay > r.maxDelaySeconds {
			delay = r.maxDelaySeconds
		}
		if r.jitterFull && in.Random != nil {
			delay *= in.Random()
		}
		next := make([]int, len(s.retry))
		copy(next, in.Attempts)
		next[i] = attempts + 1
		d := time.Duration(delay * float64(time.Second))
		now := time.Time{}
		if in.Context != nil {
			now = in.Context.State.EnteredTime
		}
		return Step{Outcome: OutcomeRetry, Attempts: next, Delay: d, Until: now.Add(d), Error: name, Cause: cause, Output: in.Input}
	}
	for _, k := range s.catch {
		if !errorMatches(k.errorEquals, name) {
			continue
		}
		errOut := map[string]any{"Error": name, "Cause": cause}
		e := m.env(s, in)
		e.errorOutput = errOut
		var out any
		var vars map[string]any
		var err error
		if s.IsJSONata() {
			out = errOut
			if k.output != nil {
				out, err = k.output.eval(e)
			} else {
				out = errOut
			}
			if err == nil && k.assignJata != nil {
				vars, err = assignJata(k.assignJata, e)
			}
		} else {
			if k.assign != nil {
				vars, err = assignPath(k.assign, e.with(errOut))
			}
			if err == nil {
				out, err = applyResultPath(k.resultPath, in.Input, errOut)
			}
		}
		if err != nil {
			return terminalStep(err)
		}
		return Step{Outcome: OutcomeNext, Next: k.next, Output: out, Vars: vars, Caught: true, Error: name, Cause: cause}
	}
	return Step{Outcome: OutcomeFail, Error: name, Cause: cause}
}

// terminalStep fails the machine without Retry or Catch.
func terminalStep(err error) Step {
	var ae *Error
	if errors.As(err, &ae) {
		return Step{Outcome: OutcomeFail, Error: ae.Name, Cause: ae.Cause}
	}
	return Step{Outcome: OutcomeFail, Error: ErrRuntime, Cause: err.Error()}
}

func (m *Machine) env(s *State, in StepInput) *env {
	return &env{input: in.Input, ctx: in.Context, vars: in.Vars, enteredEventID: in.EnteredEventID}
}

// Enter evaluates a state on entry. For Pass, Choice, Wait, Succeed and Fail
// the answer is final; a Task asks for a call and a Parallel or Map asks for
// branches, whose results come back through TaskSucceeded,
// BranchesSucceeded or Failed.
func (m *Machine) Enter(in StepInput) Step {
	s, ok := m.States[in.State]
	if !ok {
		return Step{Outcome: OutcomeFail, Error: ErrRuntime, Cause: fmt.Sprintf("unknown state %q", in.State)}
	}
	return annotate(s, in, m.enter(s, in))
}

// annotate says where a runtime failure happened, as Step Functions does:
// "An error occurred while executing the state 'X' (entered at the event id
// #N). ..."
func annotate(s *State, in StepInput, step Step) Step {
	if step.Outcome != OutcomeFail || (step.Error != ErrRuntime && step.Error != ErrResultPathMatchFailure) {
		return step
	}
	prefix := fmt.Sprintf("An error occurred while executing the state '%s' (entered at the event id #%d). ", s.Name, in.EnteredEventID)
	if !strings.HasPrefix(step.Cause, "An error occurred while executing the state") {
		step.Cause = prefix + step.Cause
	}
	return step
}

func (m *Machine) enter(s *State, in StepInput) Step {
	e := m.env(s, in)
	if s.IsJSONata() {
		return m.enterJata(s, in, e)
	}
	if s.Type == TypeFail {
		return m.enterFail(s, in, e)
	}
	eff, err := applyInputPath(s.inputPath, in.Input, e)
	if err != nil {
		return terminalStep(err)
	}
	switch s.Type {
	case TypePass:
		result := eff
		if s.hasResult {
			result = s.result
		} else if s.parameters != nil {
			if result, err = s.parameters.eval(e.with(eff)); err != nil {
				return m.failStep(s, in, err)
			}
		}
		return m.complete(s, in, e, eff, result)
	case TypeTask:
		return m.enterTask(s, in, e, eff)
	case TypeChoice:
		return m.enterChoice(s, in, e, eff)
	case TypeWait:
		return m.enterWait(s, in, e, eff)
	case TypeSucceed:
		out, err := applyOutputPath(s.outputPath, eff, e)
		if err != nil {
			return terminalStep(err)
		}
		return Step{Outcome: OutcomeSucceed, Output: out}
	case TypeParallel:
		input := eff
		if s.parameters != nil {
			if input, err = s.parameters.eval(e.with(eff)); err != nil {
				return m.failStep(s, in, err)
			}
		}
		run := &BranchRun{ToleratedFailureCount: -1}
		for _, b := range s.Branches {
			run.Branches = append(run.Branches, Branch{Machine: b, Input: input, Vars: in.Vars})
		}
		return Step{Outcome: OutcomeBranches, Branches: run}
	case TypeMap:
		return m.enterMap(s, in, e, eff)
	}
	return Step{Outcome: OutcomeFail, Error: ErrRuntime, Cause: "unknown state type " + s.Type}
}

func (m *Machine) enterFail(s *State, in StepInput, e *env) Step {
	name, cause := s.errorName, s.cause
	if s.errorPath != nil {
		v, err := s.errorPath.node.eval(e)
		if err != nil {
			return terminalStep(err)
		}
		str, ok := v.(string)
		if !ok {
			return Step{Outcome: OutcomeFail, Error: ErrRuntime, Cause: fmt.Sprintf("The ErrorPath of state '%s' must select a string, but selected %s", s.Name, marshalCompact(v))}
		}
		name = str
	}
	if s.causePath != nil {
		v, err := s.causePath.node.eval(e)
		if err != nil {
			return terminalStep(err)
		}
		str, ok := v.(string)
		if !ok {
			return Step{Outcome: OutcomeFail, Error: ErrRuntime, Cause: fmt.Sprintf("The CausePath of state '%s' must select a string, but selected %s", s.Name, marshalCompact(v))}
		}
		cause = str
	}
	return Step{Outcome: OutcomeFail, Error: name, Cause: cause}
}

func (m *Machine) enterTask(s *State, in StepInput, e *env, eff any) Step {
	params := eff
	var err error
	if s.parameters != nil {
		if params, err = s.parameters.eval(e.with(eff)); err != nil {
			return m.failStep(s, in, err)
		}
	}
	call := &TaskCall{Resource: s.Resource, Input: params, TimeoutSeconds: s.timeoutSeconds, HeartbeatSeconds: s.heartbeatSeconds, WaitForToken: s.WaitsForTaskToken()}
	if s.timeoutPath != nil {
		if call.TimeoutSeconds, err = positiveIntAt(s.timeoutPath, e.with(eff), "TimeoutSecondsPath"); err != nil {
			return m.failStep(s, in, err)
		}
	}
	if s.heartbeatPath != nil {
		if call.HeartbeatSeconds, err = positiveIntAt(s.heartbeatPath, e.with(eff), "HeartbeatSecondsPath"); err != nil {
			return m.failStep(s, in, err)
		}
	}
	if s.credentials != nil {
		if call.Credentials, err = s.credentials.eval(e.with(eff)); err != nil {
			return m.failStep(s, in, err)
		}
	}
	return Step{Outcome: OutcomeTask, Task: call}
}

func positiveIntAt(r *ref, e *env, field string) (int, error) {
	v, err := r.get(e)
	if err != nil {
		return 0, NewError(ErrRuntime, "The %s '%s' could not be found in the input '%s'", field, r.text, marshalCompact(e.input))
	}
	n, ok := toInt(v)
	if !ok || n < 1 {
		return 0, NewError(ErrRuntime, "The %s '%s' must select a positive integer, but selected %s", field, r.text, marshalCompact(v))
	}
	return n, nil
}

func (m *Machine) enterChoice(s *State, in StepInput, e *env, eff any) Step {
	ce := e.with(eff)
	for _, r := range s.choices {
		ok, err := r.cond.eval(ce)
		if err != nil {
			return terminalStep(err)
		}
		if !ok {
			continue
		}
		vars, err := m.assignBoth(s, ce, r.assign)
		if err != nil {
			return m.failStep(s, in, err)
		}
		out, err := applyOutputPath(s.outputPath, eff, e)
		if err != nil {
			return terminalStep(err)
		}
		return Step{Outcome: OutcomeNext, Next: r.next, Output: out, Vars: vars}
	}
	if s.defaultNext == "" {
		return m.failStep(s, in, NewError(ErrNoChoiceMatched, "No Matches!"))
	}
	vars, err := m.assignBoth(s, ce, nil)
	if err != nil {
		return m.failStep(s, in, err)
	}
	out, err := applyOutputPath(s.outputPath, eff, e)
	if err != nil {
		return terminalStep(err)
	}
	return Step{Outcome: OutcomeNext, Next: s.defaultNext, Output: out, Vars: vars}
}

// assignBoth evaluates a state's Assign and then a choice rule's Assign
// (JSONPath), merging them.
func (m *Machine) assignBoth(s *State, e *env, rule *template) (map[string]any, error) {
	vars, err := assignPath(s.assign, e)
	if err != nil || rule == nil {
		return vars, err
	}
	more, err := assignPath(rule, e)
	if err != nil {
		return nil, err
	}
	if vars == nil {
		return more, nil
	}
	for k, v := range more {
		vars[k] = v
	}
	return vars, nil
}

func (m *Machine) enterWait(s *State, in StepInput, e *env, eff any) Step {
	now := time.Time{}
	if in.Context != nil {
		now = in.Context.State.EnteredTime
	}
	var until time.Time
	switch {
	case s.waitSeconds != nil:
		until = now.Add(time.Duration(*s.waitSeconds * float64(time.Second)))
	case s.waitTimestamp != nil:
		until = *s.waitTimestamp
	case s.secondsPath != nil:
		v, err := s.secondsPath.get(e.with(eff))
		if err != nil {
			return terminalStep(NewError(ErrRuntime, "Invalid path '%s': The SecondsPath references an invalid value.", s.secondsPath.text))
		}
		n, ok := toInt(v)
		if !ok || n < 0 {
			return terminalStep(NewError(ErrRuntime, "The SecondsPath '%s' must select a non-negative integer, but selected %s", s.secondsPath.text, marshalCompact(v)))
		}
		until = now.Add(time.Duration(n) * time.Second)
	case s.timestampPath != nil:
		v, err := s.timestampPath.get(e.with(eff))
		if err != nil {
			return terminalStep(NewError(ErrRuntime, "Invalid path '%s': The TimestampPath references an invalid value.", s.timestampPath.text))
		}
		str, _ := v.(string)
		t, perr := parseTimestamp(str)
		if perr != nil {
			return terminalStep(NewError(ErrRuntime, "The TimestampPath '%s' must select an ISO-8601 timestamp, but selected %s", s.timestampPath.text, marshalCompact(v)))
		}
		until = t
	}
	vars, err := assignPath(s.assign, e.with(eff))
	if err != nil {
		return m.failStep(s, in, err)
	}
	out, err := applyOutputPath(s.outputPath, eff, e)
	if err != nil {
		return terminalStep(err)
	}
	return m.waitStep(s, until, out, vars)
}

func (m *Machine) waitStep(s *State, until time.Time, out any, vars map[string]any) Step {
	if s.End {
		return Step{Outcome: OutcomeWait, Until: until, Output: out, Vars: vars}
	}
	return Step{Outcome: OutcomeWait, Until: until, Next: s.Next, Output: out, Vars: vars}
}

func (m *Machine) enterMap(s *State, in StepInput, e *env, eff any) Step {
	items := eff
	if s.itemsPath.set && !s.itemsPath.null {
		v, err := s.itemsPath.ref.get(e.with(eff))
		if err != nil {
			return terminalStep(NewError(ErrRuntime, "Invalid path '%s' : No results for path: %s", s.itemsPath.ref.text, s.itemsPath.ref.text))
		}
		items = v
	}
	list, ok := items.([]any)
	if !ok {
		return terminalStep(NewError(ErrRuntime, "Item list must be a JSON array, but the ItemsPath selected %s", typeName(items)))
	}
	run := &BranchRun{Map: true, MaxConcurrency: s.maxConcurrency, ToleratedFailureCount: -1}
	var err error
	if s.maxConcurrencyPath != nil {
		if run.MaxConcurrency, err = nonNegativeIntAt(s.maxConcurrencyPath, e.with(eff), "MaxConcurrencyPath"); err != nil {
			return terminalStep(err)
		}
	}
	if s.toleratedCountPath != nil {
		if run.ToleratedFailureCount, err = nonNegativeIntAt(s.toleratedCountPath, e.with(eff), "ToleratedFailureCountPath"); err != nil {
			return terminalStep(err)
		}
	} else if s.hasToleratedCount {
		run.ToleratedFailureCount = s.toleratedCount
	}
	run.ToleratedFailurePercentage = -1
	if s.hasToleratedPercent {
		run.ToleratedFailurePercentage = s.toleratedPercent
	}
	if s.toleratedPctPath != nil {
		v, err := s.toleratedPctPath.get(e.with(eff))
		f, ok := toFloat(v)
		if err != nil || !ok || f < 0 || f > 100 {
			return terminalStep(NewError(ErrRuntime, "The ToleratedFailurePercentagePath '%s' must select a number from 0 to 100", s.toleratedPctPath.text))
		}
		run.ToleratedFailurePercentage = f
	}
	for i, item := range list {
		mi := &MapItem{Index: i, Value: item}
		input := item
		if s.itemSelector != nil {
			ctx := *in.Context
			ctx.MapItem = mi
			ie := &env{input: eff, ctx: &ctx, vars: in.Vars, enteredEventID: in.EnteredEventID}
			if input, err = s.itemSelector.eval(ie); err != nil {
				return m.failStep(s, in, err)
			}
		}
		run.Branches = append(run.Branches, Branch{Machine: s.Processor, Input: input, Vars: in.Vars, MapItem: mi})
	}
	return Step{Outcome: OutcomeBranches, Branches: run}
}

func nonNegativeIntAt(r *ref, e *env, field string) (int, error) {
	v, err := r.get(e)
	if err != nil {
		return 0, NewError(ErrRuntime, "The %s '%s' could not be found in the input", field, r.text)
	}
	n, ok := toInt(v)
	if !ok || n < 0 {
		return 0, NewError(ErrRuntime, "The %s '%s' must select a non-negative integer, but selected %s", field, r.text, marshalCompact(v))
	}
	return n, nil
}

// TaskSucceeded reports a Task state's result.
func (m *Machine) TaskSucceeded(in StepInput, result any) Step {
	return m.resultStep(in, result)
}

// BranchesSucceeded reports the outputs of a Parallel state's branches or a
// Map state's iterations, in order.
func (m *Machine) BranchesSucceeded(in StepInput, outputs []any) Step {
	return m.resultStep(in, outputs)
}

func (m *Machine) resultStep(in StepInput, result any) Step {
	s, ok := m.States[in.State]
	if !ok {
		return Step{Outcome: OutcomeFail, Error: ErrRuntime, Cause: fmt.Sprintf("unknown state %q", in.State)}
	}
	return annotate(s, in, m.result(s, in, result))
}

func (m *Machine) result(s *State, in StepInput, result any) Step {
	e := m.env(s, in)
	if s.IsJSONata() {
		return m.completeJata(s, in, e, result)
	}
	if s.resultSelector != nil {
		var err error
		if result, err = s.resultSelector.eval(e.with(result)); err != nil {
			return m.failStep(s, in, err)
		}
	}
	return m.complete(s, in, e, nil, result)
}

// complete applies Assign, ResultPath and OutputPath to a state's result
// and transitions (JSONPath).
func (m *Machine) complete(s *State, in StepInput, e *env, eff, result any) Step {
	vars, err := assignPath(s.assign, e.with(result))
	if err != nil {
		return m.failStep(s, in, err)
	}
	out, err := applyResultPath(s.resultPath, in.Input, result)
	if err != nil {
		return m.failStep(s, in, err)
	}
	out, err = applyOutputPath(s.outputPath, out, e)
	if err != nil {
		return terminalStep(err)
	}
	return transition(s, out, vars)
}

func transition(s *State, out any, vars map[string]any) Step {
	if s.End {
		return Step{Outcome: OutcomeSucceed, Output: out, Vars: vars}
	}
	return Step{Outcome: OutcomeNext, Next: s.Next, Output: out, Vars: vars}
}

// assignPath evaluates a JSONPath Assign into the new variable scope.
func assignPath(t *template, e *env) (map[string]any, error) {
	if t == nil {
		return nil, nil
	}
	v, err := t.eval(e)
	if err != nil {
		return nil, err
	}
	return mergeVars(e.vars, v.(map[string]any)), nil
}

func mergeVars(scope map[string]any, assigned map[string]any) map[string]any {
	out := make(map[string]any, len(scope)+len(assigned))
	for k, v := range scope {
		out[k] = v
	}
	for k, v := range assigned {
		out[k] = v
	}
	return out
}

func applyInputPath(p pathField, input any, e *env) (any, error) {
	if !p.set {
		return input, nil
	}
	if p.null {
		return map[string]any{}, nil
	}
	v, err := p.ref.get(e.with(input))
	if err != nil {
		return nil, NewError(ErrRuntime, "Invalid input path '%s': the path could not be found in the input '%s'", p.ref.text, marshalCompact(input))
	}
	return v, nil
}

func applyOutputPath(p pathField, output any, e *env) (any, error) {
	if !p.set {
		return output, nil
	}
	if p.null {
		return map[string]any{}, nil
	}
	v, err := p.ref.get(e.with(output))
	if err != nil {
		return nil, NewError(ErrRuntime, "Invalid output path '%s': the path could not be found in the output '%s'", p.ref.text, marshalCompact(output))
	}
	return v, nil
}

func applyResultPath(p pathField, input, result any) (any, error) {
	if !p.set {
		return result, nil
	}
	if p.null {
		return input, nil
	}
	if p.ref.src != srcInput {
		return nil, NewError(ErrRuntime, "ResultPath '%s' must refer to the state input ($)", p.ref.text)
	}
	out, err := p.ref.path.Set(input, result)
	if err != nil {
		return nil, NewError(ErrResultPathMatchFailure, "Unable to apply step \"%s\" to input %s", p.ref.text, marshalCompact(input))
	}
	return out, nil
}
