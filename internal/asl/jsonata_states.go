package asl

import "time"

// enterJata evaluates a state whose query language is JSONata.
func (m *Machine) enterJata(s *State, in StepInput, e *env) Step {
	switch s.Type {
	case TypePass:
		return m.completeJataNoResult(s, in, e)
	case TypeSucceed:
		out, err := evalOr(s.output, e, in.Input)
		if err != nil {
			return terminalStep(err)
		}
		return Step{Outcome: OutcomeSucceed, Output: out}
	case TypeFail:
		name, err := evalString(s.errorJata, e, s.errorName, "Error")
		if err != nil {
			return terminalStep(err)
		}
		cause, err := evalString(s.causeJata, e, s.cause, "Cause")
		if err != nil {
			return terminalStep(err)
		}
		return Step{Outcome: OutcomeFail, Error: name, Cause: cause}
	case TypeTask:
		args, err := evalOr(s.arguments, e, in.Input)
		if err != nil {
			return m.failStep(s, in, err)
		}
		call := &TaskCall{Resource: s.Resource, Input: args, TimeoutSeconds: s.timeoutSeconds, HeartbeatSeconds: s.heartbeatSeconds, WaitForToken: s.WaitsForTaskToken()}
		if s.timeoutJata != nil {
			if call.TimeoutSeconds, err = evalInt(s.timeoutJata, e, "TimeoutSeconds", 1); err != nil {
				return m.failStep(s, in, err)
			}
		}
		if s.heartbeatJata != nil {
			if call.HeartbeatSeconds, err = evalInt(s.heartbeatJata, e, "HeartbeatSeconds", 1); err != nil {
				return m.failStep(s, in, err)
			}
		}
		if s.credentialsJata != nil {
			if call.Credentials, err = s.credentialsJata.eval(e); err != nil {
				return m.failStep(s, in, err)
			}
		}
		return Step{Outcome: OutcomeTask, Task: call}
	case TypeChoice:
		for _, r := range s.choices {
			ok, err := r.cond.eval(e)
			if err != nil {
				return m.failStep(s, in, err)
			}
			if !ok {
				continue
			}
			return m.choiceJata(s, in, e, r.next, r.assignJata, r.output)
		}
		if s.defaultNext == "" {
			return m.failStep(s, in, NewError(ErrNoChoiceMatched, "No Matches!"))
		}
		return m.choiceJata(s, in, e, s.defaultNext, nil, nil)
	case TypeWait:
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
		case s.secondsJata != nil:
			n, err := evalInt(s.secondsJata, e, "Seconds", 0)
			if err != nil {
				return m.failStep(s, in, err)
			}
			until = now.Add(time.Duration(n) * time.Second)
		case s.timestampJata != nil:
			v, err := s.timestampJata.eval(e)
			if err != nil {
				return m.failStep(s, in, err)
			}
			str, _ := v.(string)
			t, perr := parseTimestamp(str)
			if perr != nil {
				return m.failStep(s, in, NewError(ErrQueryEvaluationError, "The Timestamp field must evaluate to an ISO-8601 timestamp, but it evaluated to %s", marshalCompact(v)))
			}
			until = t
		}
		vars, err := assignJata(s.assignJata, e)
		if err != nil {
			return m.failStep(s, in, err)
		}
		out, err := evalOr(s.output, e, in.Input)
		if err != nil {
			return m.failStep(s, in, err)
		}
		return m.waitStep(s, until, out, vars)
	case TypeParallel:
		args, err := evalOr(s.arguments, e, in.Input)
		if err != nil {
			return m.failStep(s, in, err)
		}
		run := &BranchRun{ToleratedFailureCount: -1, ToleratedFailurePercentage: -1}
		for _, b := range s.Branches {
			run.Branches = append(run.Branches, Branch{Machine: b, Input: args, Vars: in.Vars})
		}
		return Step{Outcome: OutcomeBranches, Branches: run}
	case TypeMap:
		return m.enterMapJata(s, in, e)
	}
	return Step{Outcome: OutcomeFail, Error: ErrRuntime, Cause: "unknown state type " + s.Type}
}

func (m *Machine) choiceJata(s *State, in StepInput, e *env, next string, ruleAssign, ruleOutput jvalue) Step {
	vars, err := assignJata(s.assignJata, e)
	if err != nil {
		return m.failStep(s, in, err)
	}
	if ruleAssign != nil {
		more, err := assignJata(ruleAssign, e)
		if err != nil {
			return m.failStep(s, in, err)
		}
		if vars == nil {
			vars = more
		} else {
			for k, v := range more {
				vars[k] = v
			}
		}
	}
	outExpr := s.output
	if ruleOutput != nil {
		outExpr = ruleOutput
	}
	out, err := evalOr(outExpr, e, in.Input)
	if err != nil {
		return m.failStep(s, in, err)
	}
	return Step{Outcome: OutcomeNext, Next: next, Output: out, Vars: vars}
}

func (m *Machine) enterMapJata(s *State, in StepInput, e *env) Step {
	items, err := evalOr(s.itemsJata, e, in.Input)
	if err != nil {
		return m.failStep(s, in, err)
	}
	list, ok := items.([]any)
	if !ok {
		return m.failStep(s, in, NewError(ErrQueryEvaluationError, "The Items field must evaluate to a JSON array, but it evaluated to %s", typeName(items)))
	}
	run := &BranchRun{Map: true, ToleratedFailureCount: -1, ToleratedFailurePercentage: -1}
	if s.maxConcurrencyJata != nil {
		if run.MaxConcurrency, err = evalInt(s.maxConcurrencyJata, e, "MaxConcurrency", 0); err != nil {
			return m.failStep(s, in, err)
		}
	}
	if s.toleratedCountJata != nil {
		if run.ToleratedFailureCount, err = evalInt(s.toleratedCountJata, e, "ToleratedFailureCount", 0); err != nil {
			return m.failStep(s, in, err)
		}
	}
	if s.toleratedPctJata != nil {
		v, err := s.toleratedPctJata.eval(e)
		if err != nil {
			return m.failStep(s, in, err)
		}
		f, ok := toFloat(v)
		if !ok || f < 0 || f > 100 {
			return m.failStep(s, in, NewError(ErrQueryEvaluationError, "ToleratedFailurePercentage must evaluate to a number from 0 to 100"))
		}
		run.ToleratedFailurePercentage = f
	}
	for i, item := range list {
		mi := &MapItem{Index: i, Value: item}
		input := item
		if s.itemSelectorJata != nil {
			ctx := *in.Context
			ctx.MapItem = mi
			ie := &env{input: in.Input, ctx: &ctx, vars: in.Vars, enteredEventID: in.EnteredEventID}
			if input, err = s.itemSelectorJata.eval(ie); err != nil {
				return m.failStep(s, in, err)
			}
		}
		run.Branches = append(run.Branches, Branch{Machine: s.Processor, Input: input, Vars: in.Vars, MapItem: mi})
	}
	return Step{Outcome: OutcomeBranches, Branches: run}
}

// completeJataNoResult finishes a Pass state: its result is its input.
func (m *Machine) completeJataNoResult(s *State, in StepInput, e *env) Step {
	vars, err := assignJata(s.assignJata, e)
	if err != nil {
		return m.failStep(s, in, err)
	}
	out, err := evalOr(s.output, e, in.Input)
	if err != nil {
		return m.failStep(s, in, err)
	}
	return transition(s, out, vars)
}

// completeJata finishes a Task, Parallel or Map state with its result.
func (m *Machine) completeJata(s *State, in StepInput, e *env, result any) Step {
	e.result, e.hasResult = result, true
	vars, err := assignJata(s.assignJata, e)
	if err != nil {
		return m.failStep(s, in, err)
	}
	out, err := evalOr(s.output, e, result)
	if err != nil {
		return m.failStep(s, in, err)
	}
	return transition(s, out, vars)
}

func evalOr(v jvalue, e *env, def any) (any, error) {
	if v == nil {
		return def, nil
	}
	out, err := v.eval(e)
	if err != nil {
		return nil, err
	}
	if out == undefined {
		return nil, nil
	}
	return out, nil
}

func evalString(v jvalue, e *env, def, field string) (string, error) {
	if v == nil {
		return def, nil
	}
	out, err := v.eval(e)
	if err != nil {
		return "", err
	}
	s, ok := out.(string)
	if !ok {
		return "", NewError(ErrQueryEvaluationError, "The %s field must evaluate to a string, but it evaluated to %s", field, marshalCompact(out))
	}
	return s, nil
}

func evalInt(v jvalue, e *env, field string, min int) (int, error) {
	out, err := v.eval(e)
	if err != nil {
		return 0, err
	}
	n, ok := toInt(out)
	if !ok || n < min {
		return 0, NewError(ErrQueryEvaluationError, "The %s field must evaluate to an integer of at least %d, but it evaluated to %s", field, min, marshalCompact(out))
	}
	return n, nil
}

// assignJata evaluates a JSONata Assign into the new variable scope.
func assignJata(v jvalue, e *env) (map[string]any, error) {
	if v == nil {
		return nil, nil
	}
	out, err := v.eval(e)
	if err != nil {
		return nil, err
	}
	obj, ok := out.(map[string]any)
	if !ok {
		return nil, NewError(ErrQueryEvaluationError, "The Assign field must evaluate to an object, but it evaluated to %s", typeName(out))
	}
	return mergeVars(e.vars, obj), nil
}
