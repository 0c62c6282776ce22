package change

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/stewardhq/steward/internal/asl"
	"github.com/stewardhq/steward/internal/cloud"
	"github.com/stewardhq/steward/internal/stage"
	"github.com/stewardhq/steward/internal/store"
	"github.com/stewardhq/steward/internal/task"
)

var _ task.Handler = (*Gate)(nil)

// target is where a call acts.
type target struct {
	Account, Region string
	// Credentials is the Task's Credentials field, kept for reads and undo.
	Credentials any
}

// targetOf finds where a call acts, as the aws-sdk integration does: the
// context's target, else the execution input's account and region; a
// Credentials.RoleArn names the account.
func targetOf(ctx context.Context, call *task.Call) target {
	t := target{Credentials: call.Credentials}
	in := cloud.TargetFromInput(call.ExecutionInput)
	t.Account, t.Region = in.Account, in.Region
	if ct, ok := cloud.TargetFrom(ctx); ok {
		if ct.Account != "" {
			t.Account = ct.Account
		}
		if ct.Region != "" {
			t.Region = ct.Region
		}
	}
	if role := str(call.Credentials, "RoleArn"); role != "" {
		if parts := strings.Split(role, ":"); len(parts) > 4 && parts[4] != "" {
			t.Account = parts[4]
		}
	}
	return t
}

// runOf is the run an execution belongs to: its input's "scan", else the
// execution itself.
func runOf(call *task.Call) string {
	if s := str(call.ExecutionInput, "scan"); s != "" {
		return s
	}
	return call.ExecutionID
}

// changeID names the record of a call: derived from its idempotency key,
// so every delivery of one call names the same record.
func changeID(call *task.Call) string {
	if call.IdempotencyKey == "" {
		return ""
	}
	return "ch-" + shortHash("change", call.IdempotencyKey) + shortHash("more", call.IdempotencyKey)[:6]
}

// StageOf returns the stage a call runs in.
func (g *Gate) StageOf(ctx context.Context, call *task.Call) stage.Stage {
	t := targetOf(ctx, call)
	return stage.Effective(g.cfg.Stages, stage.PlaybookOf(call.ExecutionID), g.cfg.ClassOf(t.Account), call.ExecutionInput)
}

// Invoke implements task.Handler: read-only calls pass through, mutating
// calls are planned or made and recorded (see the package documentation).
func (g *Gate) Invoke(ctx context.Context, call *task.Call) (any, error) {
	if g.inner == nil {
		return nil, errors.New("change gate: not registered")
	}
	service, action, err := cloud.ParseResource(call.Resource)
	if err != nil || ReadOnly(service, action) {
		return g.inner.Invoke(ctx, call)
	}
	action = pascal(action)
	t := targetOf(ctx, call)
	st := stage.Effective(g.cfg.Stages, stage.PlaybookOf(call.ExecutionID), g.cfg.ClassOf(t.Account), call.ExecutionInput)
	rc := recipeFor(service, action)
	params := asObj(normalize(call.Input))
	rec := store.Change{
		ID:             changeID(call),
		ExecutionARN:   call.ExecutionID,
		Run:            runOf(call),
		Playbook:       stage.PlaybookOf(call.ExecutionID),
		StateName:      call.StateName,
		Account:        t.Account,
		Region:         t.Region,
		Resource:       rc.resourceOf(params),
		Service:        service,
		Action:         action,
		Parameters:     encode(redact(params)),
		Kind:           store.KindCall,
		Stage:          string(st),
		CreatedAt:      g.now(),
		IdempotencyKey: call.IdempotencyKey,
	}
	var prior *store.Change
	if call.IdempotencyKey != "" {
		old, err := g.cfg.Store.GetChangeByKey(ctx, call.IdempotencyKey)
		switch {
		case err == nil:
			if old.Status == store.StatusApplied || old.Status == store.StatusPlanned || old.Status == store.StatusRolledBack {
				return decode(old.Result), nil
			}
			prior = old // pending or failed: make the call again
		case !errors.Is(err, store.ErrNotFound):
			return nil, fmt.Errorf("change gate: %w", err)
		}
	}
	if st != stage.Enforce {
		return g.plan(ctx, rec, prior, rc, params, t, call)
	}
	return g.enforce(ctx, rec, prior, rc, params, t, call)
}

// plan records a planned change and returns the planned result.
func (g *Gate) plan(ctx context.Context, rec store.Change, prior *store.Change, rc *recipe, params obj, t target, call *task.Call) (any, error) {
	rec.Status = store.StatusPlanned
	// A call on something planned earlier in the run (sg-planned-...) has
	// nothing to read.
	if rc.read != nil && !strings.Contains(string(rec.Parameters), "-planned-") {
		before, err := rc.read(ctx, g.reader(t), params, nil)
		if err != nil {
			rec.Error = "before read: " + err.Error()
		} else {
			rec.Before = encode(redact(before))
		}
	}
	if rec.ID == "" {
		rec.ID = "ch-" + shortHash("plan", call.ExecutionID, call.StateName, string(rec.Parameters), g.now().String())
	}
	res := obj{}
	if rc.planned != nil {
		for k, v := range rc.planned(params, shortHash(rec.ID), t) {
			res[k] = v
		}
	}
	res["Planned"] = true
	res["ChangeId"] = rec.ID
	rec.Result = encode(res)
	if u := rc.undoOf(params, decode(rec.Before), nil); u.Irreversible != "" {
		rec.Irreversible = u.Irreversible
	} else if rc.irreversible != nil {
		rec.Irreversible = rc.irreversible(ctx, g, &rec, params, decode(rec.Before))
	}
	if prior != nil {
		// An earlier delivery failed or stopped midway in enforce, and the
		// stage is lower now: the record becomes the plan.
		if _, err := g.cfg.Store.FinishChange(ctx, prior.ID, store.ChangeOutcome{Status: store.StatusPlanned, Result: rec.Result, At: g.now()}); err != nil {
			return nil, fmt.Errorf("change gate: record planned %s:%s: %w", rec.Service, rec.Action, err)
		}
		return res, nil
	}
	old, err := g.cfg.Store.CreateChange(ctx, rec)
	if errors.Is(err, store.ErrAlreadyExists) && old != nil {
		return decode(old.Result), nil
	}
	if err != nil {
		return nil, fmt.Errorf("change gate: record planned %s:%s: %w", rec.Service, rec.Action, err)
	}
	return res, nil
}

// enforce checks the pause and the blast radius, reads before, makes the
// call, reads after and records the change.
func (g *Gate) enforce(ctx context.Context, rec store.Change, prior *store.Change, rc *recipe, params obj, t target, call *task.Call) (any, error) {
	fl, err := g.checkLimits(ctx, rec.Playbook, rec.Run)
	if err != nil {
		return nil, err
	}
	defer fl.end()
	var before any
	if prior != nil && len(prior.Before) > 0 {
		before = decode(prior.Before)
	} else if rc.read != nil {
		b, err := rc.read(ctx, g.reader(t), params, nil)
		if err != nil {
			return nil, err
		}
		before = b
	}
	rec.Before = encode(redact(before))
	rec.Status = store.StatusPending
	var id string
	if prior != nil {
		id = prior.ID
	} else {
		created, err := g.cfg.Store.CreateChange(ctx, rec)
		if err != nil {
			if errors.Is(err, store.ErrAlreadyExists) && created != nil {
				if created.Status == store.StatusApplied || created.Status == store.StatusPlanned {
					return decode(created.Result), nil
				}
				id = created.ID
			} else {
				return nil, fmt.Errorf("change gate: record %s:%s: %w", rec.Service, rec.Action, err)
			}
		} else {
			id = created.ID
		}
	}
	out, err := g.inner.Invoke(ctx, call)
	if err != nil {
		if _, ferr := fl.finish(ctx, id, store.ChangeOutcome{Status: store.StatusFailed, Error: err.Error(), At: g.now()}); ferr != nil {
			return nil, errors.Join(err, ferr)
		}
		return nil, err
	}
	result := normalize(out)
	o := store.ChangeOutcome{Status: store.StatusApplied, Result: encode(redact(result)), At: g.now()}
	if o.Result == nil {
		o.Result = encode(obj{})
	}
	if rc.read != nil && !rc.beforeOnly {
		after, err := g.readAfter(ctx, rc, t, params, result, before)
		if err != nil {
			o.Error = "after read: " + err.Error()
		} else {
			o.After = encode(redact(after))
		}
	}
	rec.ID = id
	u := rc.undoOf(params, before, result)
	if u.Irreversible == "" && rc.irreversible != nil {
		u.Irreversible = rc.irreversible(ctx, g, &rec, params, before)
	}
	if u.Irreversible != "" {
		o.Irreversible = u.Irreversible
	} else {
		u.Credentials = t.Credentials
		o.Undo = encode(normalize(u))
	}
	if _, err := fl.finish(ctx, id, o); err != nil {
		return nil, fmt.Errorf("change gate: %s:%s was made but its record %s could not be written: %w", rec.Service, rec.Action, id, err)
	}
	return out, nil
}

// readAfter reads the resource after the call; while it still looks as
// before, it reads again up to Config.SettleReads times.
func (g *Gate) readAfter(ctx context.Context, rc *recipe, t target, params obj, result, before any) (any, error) {
	after, err := rc.read(ctx, g.reader(t), params, result)
	delay := g.cfg.SettleDelay
	for i := 0; err == nil && i < g.cfg.SettleReads && same(after, before); i++ {
		timer := g.cfg.Clock.NewTimer(delay)
		select {
		case <-timer.C():
		case <-ctx.Done():
			timer.Stop()
			return after, nil
		}
		delay *= 2
		after, err = rc.read(ctx, g.reader(t), params, result)
	}
	return after, err
}

// same reports whether two reads are equal.
func same(a, b any) bool {
	var d []Diff
	diff("", normalize(a), normalize(b), &d)
	return len(d) == 0
}

// checkLimits fails a paused playbook, and pauses one past its blast
// radius. On success the call counts as in flight until release is called
// (after its record says applied or failed).
func (g *Gate) checkLimits(ctx context.Context, playbook, run string) (*flight, error) {
	p, err := g.cfg.Store.PlaybookPaused(ctx, playbook)
	if err != nil {
		return nil, fmt.Errorf("change gate: %w", err)
	}
	if p != nil {
		return nil, &limitError{
			asl: asl.NewError(ErrNamePlaybookPaused, "playbook %s is paused since %s: %s (resume it with: steward playbooks resume %s)", playbook, p.At.Format(time.RFC3339), p.Reason, playbook),
			err: ErrPaused,
		}
	}
	perRun, perHour := g.cfg.Limits(playbook)
	runKey, hourKey := "run\x00"+playbook+"\x00"+run, "hour\x00"+playbook
	lock := g.limitLock(playbook)
	lock.Lock()
	var reason string
	if perRun > 0 {
		n, err := g.cfg.Store.CountApplied(ctx, playbook, run, time.Time{})
		if err != nil {
			lock.Unlock()
			return nil, fmt.Errorf("change gate: %w", err)
		}
		if n += g.inflightOf(runKey); n >= perRun {
			reason = fmt.Sprintf("blast radius: %d changes applied in run %s, the limit is %d per run", n, run, perRun)
		}
	}
	if reason == "" && perHour > 0 {
		n, err := g.cfg.Store.CountApplied(ctx, playbook, "", g.now().Add(-time.Hour))
		if err != nil {
			lock.Unlock()
			return nil, fmt.Errorf("change gate: %w", err)
		}
		if n += g.inflightOf(hourKey); n >= perHour {
			reason = fmt.Sprintf("blast radius: %d changes applied in the last hour, the limit is %d per hour", n, perHour)
		}
	}
	if reason == "" {
		g.mu.Lock()
		g.inflight[runKey]++
		g.inflight[hourKey]++
		g.mu.Unlock()
		lock.Unlock()
		return &flight{g: g, lock: lock, keys: [2]string{runKey, hourKey}}, nil
	}
	lock.Unlock()
	if err := g.cfg.Store.PausePlaybook(ctx, store.PlaybookPause{Playbook: playbook, Reason: reason, By: "steward (blast radius)", At: g.now()}); err != nil {
		return nil, fmt.Errorf("change gate: pause %s: %w", playbook, err)
	}
	g.cfg.Alert(ctx, playbook, reason)
	return nil, &limitError{
		asl: asl.NewError(ErrNameBlastRadiusExceeded, "playbook %s paused: %s (resume it with: steward playbooks resume %s)", playbook, reason, playbook),
		err: ErrBlastRadius,
	}
}

// limitLock returns the lock of a playbook's blast radius.
func (g *Gate) limitLock(playbook string) *sync.Mutex {
	l, _ := g.limitLocks.LoadOrStore(playbook, &sync.Mutex{})
	return l.(*sync.Mutex)
}

// inflightOf reads one in-flight count.
func (g *Gate) inflightOf(key string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.inflight[key]
}

// flight is one mutating call counted as in flight by checkLimits.
type flight struct {
	g     *Gate
	lock  *sync.Mutex // the playbook's limit lock
	keys  [2]string
	ended bool
}

// end stops counting the call (a no-op after the first time).
func (f *flight) end() {
	f.g.mu.Lock()
	defer f.g.mu.Unlock()
	if f.ended {
		return
	}
	f.ended = true
	for _, k := range f.keys {
		if f.g.inflight[k]--; f.g.inflight[k] <= 0 {
			delete(f.g.inflight, k)
		}
	}
}

// finish records the call's outcome and stops counting it in one step
// under the playbook's limit lock, so checkLimits never counts a change
// both as applied and as in flight (which refused calls below the limit).
func (f *flight) finish(ctx context.Context, id string, o store.ChangeOutcome) (*store.Change, error) {
	f.lock.Lock()
	defer f.lock.Unlock()
	defer f.end()
	return f.g.cfg.Store.FinishChange(ctx, id, o)
}

// limitError fails a task with a Steward.* name and matches a sentinel.
type limitError struct {
	asl *asl.Error
	err error
}

func (e *limitError) Error() string   { return e.asl.Error() }
func (e *limitError) Unwrap() []error { return []error{e.asl, e.err} }

// reader makes read calls where t says.
func (g *Gate) reader(t target) reader {
	return func(ctx context.Context, service, action string, params obj) (obj, error) {
		out, err := g.call(ctx, t, service, action, params)
		if err != nil {
			return nil, err
		}
		return asObj(out), nil
	}
}

// call makes one aws-sdk call through the gate's Cloud, where t says.
func (g *Gate) call(ctx context.Context, t target, service, action string, params obj) (any, error) {
	in := obj{}
	if t.Account != "" {
		in["account"] = t.Account
	}
	if t.Region != "" {
		in["region"] = t.Region
	}
	var input any = params
	if params == nil {
		input = obj{}
	}
	out, err := g.cfg.Cloud.Invoke(cloud.WithTarget(ctx, cloud.Target{Account: t.Account, Region: t.Region}), &task.Call{
		Resource:       ResourcePrefix + service + ":" + camel(action),
		Input:          input,
		ExecutionInput: in,
		Credentials:    t.Credentials,
	})
	if err != nil {
		return nil, err
	}
	return normalize(out), nil
}
