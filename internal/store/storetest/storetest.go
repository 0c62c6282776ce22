// Package storetest is the conformance suite every store.Store driver must
// pass: storesqlite runs it on a temporary file, a PostgreSQL driver runs
// it on a scratch database.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/store"
)

// Run runs the suite. open must return a new, empty store for each call;
// Run closes it.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"StateMachines", testStateMachines},
		{"CreateExecution", testCreateExecution},
		{"ApplyVersion", testApplyVersion},
		{"ApplyAtomic", testApplyAtomic},
		{"Timers", testTimers},
		{"TaskTokens", testTaskTokens},
		{"Claim", testClaim},
		{"Leases", testLeases},
		{"ListExecutions", testListExecutions},
		{"History", testHistory},
		{"ConcurrentApply", testConcurrentApply},
		{"Closed", testClosed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			defer s.Close()
			tc.fn(t, s)
		})
	}
}

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const smARN = "arn:aws:states:us-east-1:000000000000:stateMachine:sm"

func execARN(name string) string {
	return "arn:aws:states:us-east-1:000000000000:execution:sm:" + name
}

func newExecution(t *testing.T, s store.Store, name string, runnable bool, timers ...store.Timer) *store.Execution {
	t.Helper()
	e, err := s.CreateExecution(context.Background(), store.CreateExecutionParams{
		Execution: store.Execution{ARN: execARN(name), StateMachineARN: smARN, StateMachineRevision: 1, Name: name, Status: "RUNNING",
			Input: `{"n":1}`, StartDate: t0, Runtime: []byte(`{"v":0}`), Runnable: runnable},
		Events: []store.HistoryEvent{{ID: 1, Type: "ExecutionStarted", Timestamp: t0, DetailsKey: "executionStartedEventDetails", Details: []byte(`{"input":"{}"}`)}},
		Timers: timers,
	})
	if err != nil {
		t.Fatalf("create execution %s: %v", name, err)
	}
	return e
}

func get(t *testing.T, s store.Store, arn string) *store.Execution {
	t.Helper()
	e, err := s.GetExecution(context.Background(), arn)
	if err != nil {
		t.Fatalf("get %s: %v", arn, err)
	}
	return e
}

// next returns a transition from e that keeps it running.
func next(e *store.Execution) *store.Transition {
	return &store.Transition{ExecutionARN: e.ARN, Version: e.Version, Status: e.Status, Runtime: e.Runtime, Runnable: e.Runnable}
}

func event(id int64, typ string) store.HistoryEvent {
	return store.HistoryEvent{ID: id, PreviousEventID: id - 1, Type: typ, Timestamp: t0.Add(time.Duration(id) * time.Millisecond), DetailsKey: "d", Details: []byte(`{}`)}
}

func testStateMachines(t *testing.T, s store.Store) {
	ctx := context.Background()
	sm, err := s.CreateStateMachine(ctx, store.CreateStateMachineParams{ARN: smARN, Name: "sm", Definition: `{"v":1}`, RoleARN: "role", RevisionID: "r1", Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	if sm.Revision != 1 || sm.Definition != `{"v":1}` || sm.Type != "STANDARD" || !sm.CreatedAt.Equal(t0) {
		t.Fatalf("created %+v", sm)
	}
	if _, err := s.CreateStateMachine(ctx, store.CreateStateMachineParams{ARN: smARN, Name: "sm", Definition: `{}`, Now: t0}); !errors.Is(err, store.ErrAlreadyExists) {
		t.Fatalf("duplicate: %v", err)
	}
	up, err := s.UpdateStateMachine(ctx, store.UpdateStateMachineParams{ARN: smARN, Definition: `{"v":2}`, RevisionID: "r2", Now: t0.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if up.Revision != 2 || up.Definition != `{"v":2}` || up.RoleARN != "role" || !up.UpdatedAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("updated %+v", up)
	}
	old, err := s.GetStateMachineRevision(ctx, smARN, 1)
	if err != nil || old.Definition != `{"v":1}` {
		t.Fatalf("revision 1: %+v %v", old, err)
	}
	if _, err := s.GetStateMachineRevision(ctx, smARN, 9); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("revision 9: %v", err)
	}
	if _, err := s.UpdateStateMachine(ctx, store.UpdateStateMachineParams{ARN: smARN + "x", Definition: "{}", Now: t0}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("update missing: %v", err)
	}
	for i := 0; i < 5; i++ {
		arn := fmt.Sprintf("%s-%d", smARN, i)
		if _, err := s.CreateStateMachine(ctx, store.CreateStateMachineParams{ARN: arn, Name: fmt.Sprintf("sm-%d", i), Definition: "{}", Now: t0}); err != nil {
			t.Fatal(err)
		}
	}
	var all []string
	tok := ""
	for {
		list, nt, err := s.ListStateMachines(ctx, store.ListParams{Limit: 4, NextToken: tok})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range list {
			all = append(all, m.ARN)
		}
		if nt == "" {
			break
		}
		tok = nt
	}
	if len(all) != 6 || all[0] != smARN {
		t.Fatalf("listed %v", all)
	}
	if err := s.DeleteStateMachine(ctx, smARN); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetStateMachine(ctx, smARN); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
	if err := s.DeleteStateMachine(ctx, smARN); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("delete twice: %v", err)
	}
}

func testCreateExecution(t *testing.T, s store.Store) {
	e := newExecution(t, s, "a", true)
	if e.Version != 1 || e.LastEventID != 1 {
		t.Fatalf("created %+v", e)
	}
	got := get(t, s, e.ARN)
	if got.Name != "a" || got.Status != "RUNNING" || got.Input != `{"n":1}` || !got.StartDate.Equal(t0) || !got.Runnable || got.Version != 1 || got.LastEventID != 1 || string(got.Runtime) != `{"v":0}` {
		t.Fatalf("read %+v", got)
	}
	existing, err := s.CreateExecution(context.Background(), store.CreateExecutionParams{Execution: store.Execution{ARN: e.ARN, Name: "a", Status: "RUNNING", Input: `{"other":1}`, StartDate: t0}})
	if !errors.Is(err, store.ErrAlreadyExists) {
		t.Fatalf("duplicate: %v", err)
	}
	if existing == nil || existing.Input != `{"n":1}` {
		t.Fatalf("duplicate returns the existing execution, got %+v", existing)
	}
	if _, err := s.GetExecution(context.Background(), execARN("nope")); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing: %v", err)
	}
}

func testApplyVersion(t *testing.T, s store.Store) {
	ctx := context.Background()
	e := newExecution(t, s, "a", true)
	tr := next(e)
	tr.Runtime = []byte(`{"v":1}`)
	tr.Events = []store.HistoryEvent{event(2, "PassStateEntered"), event(3, "PassStateExited")}
	if err := s.Apply(ctx, tr); err != nil {
		t.Fatal(err)
	}
	stale := next(e) // computed from version 1 again
	stale.Runtime = []byte(`{"v":"stale"}`)
	stale.Events = []store.HistoryEvent{event(4, "X")}
	if err := s.Apply(ctx, stale); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("stale apply: %v", err)
	}
	got := get(t, s, e.ARN)
	if got.Version != 2 || string(got.Runtime) != `{"v":1}` || got.LastEventID != 3 {
		t.Fatalf("after apply %+v", got)
	}
	done := next(got)
	done.Status, done.Output, done.StopDate, done.Runnable = "SUCCEEDED", `{"ok":true}`, t0.Add(time.Second), false
	done.Events = []store.HistoryEvent{event(4, "ExecutionSucceeded")}
	if err := s.Apply(ctx, done); err != nil {
		t.Fatal(err)
	}
	got = get(t, s, e.ARN)
	if got.Status != "SUCCEEDED" || got.Output != `{"ok":true}` || !got.StopDate.Equal(t0.Add(time.Second)) || got.Runnable || got.Version != 3 {
		t.Fatalf("finished %+v", got)
	}
	missing := &store.Transition{ExecutionARN: execARN("nope"), Version: 1, Status: "RUNNING"}
	if err := s.Apply(ctx, missing); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("apply to a missing execution: %v", err)
	}
}

func testApplyAtomic(t *testing.T, s store.Store) {
	ctx := context.Background()
	e := newExecution(t, s, "a", true)
	// A gap in event ids fails the whole transition: nothing of it applies.
	tr := next(e)
	tr.Runtime = []byte(`{"v":"bad"}`)
	tr.Events = []store.HistoryEvent{event(2, "A"), event(4, "B")}
	tr.PutTimers = []store.Timer{{Key: "w", Due: t0}}
	tr.PutTokens = []store.TaskToken{{Token: "tok-atomic", RunKey: "0", CreatedAt: t0}}
	if err := s.Apply(ctx, tr); err == nil {
		t.Fatal("a transition with an event id gap applied")
	}
	got := get(t, s, e.ARN)
	if got.Version != 1 || string(got.Runtime) != `{"v":0}` || got.LastEventID != 1 {
		t.Fatalf("partly applied: %+v", got)
	}
	if h, _ := s.GetHistory(ctx, store.GetHistoryParams{ExecutionARN: e.ARN}); len(h) != 1 {
		t.Fatalf("history has %d events", len(h))
	}
	if timers, _ := s.ListTimers(ctx, e.ARN); len(timers) != 0 {
		t.Fatalf("timers %v", timers)
	}
	if _, err := s.GetTaskToken(ctx, "tok-atomic"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("token: %v", err)
	}
	// The store still works after the failure.
	ok := next(e)
	ok.Events = []store.HistoryEvent{event(2, "A")}
	if err := s.Apply(ctx, ok); err != nil {
		t.Fatal(err)
	}
}

func testTimers(t *testing.T, s store.Store) {
	ctx := context.Background()
	e := newExecution(t, s, "a", false, store.Timer{Key: "wait", Due: t0.Add(time.Minute), Payload: []byte("p")})
	timers, err := s.ListTimers(ctx, e.ARN)
	if err != nil || len(timers) != 1 || timers[0].Key != "wait" || !timers[0].Due.Equal(t0.Add(time.Minute)) || string(timers[0].Payload) != "p" || timers[0].ExecutionARN != e.ARN {
		t.Fatalf("timers %+v %v", timers, err)
	}
	due, ok, err := s.NextTimer(ctx, t0)
	if err != nil || !ok || !due.Equal(t0.Add(time.Minute)) {
		t.Fatalf("next timer %v %v %v", due, ok, err)
	}
	tr := next(e)
	tr.DeleteTimers = []string{"wait"}
	tr.PutTimers = []store.Timer{{Key: "hb", Due: t0.Add(2 * time.Minute)}, {Key: "to", Due: t0.Add(time.Hour)}}
	if err := s.Apply(ctx, tr); err != nil {
		t.Fatal(err)
	}
	timers, _ = s.ListTimers(ctx, e.ARN)
	if len(timers) != 2 || timers[0].Key != "hb" || timers[1].Key != "to" {
		t.Fatalf("timers after apply %+v", timers)
	}
	// Putting a timer with an existing key moves it.
	tr = next(get(t, s, e.ARN))
	tr.PutTimers = []store.Timer{{Key: "hb", Due: t0.Add(3 * time.Minute)}}
	if err := s.Apply(ctx, tr); err != nil {
		t.Fatal(err)
	}
	timers, _ = s.ListTimers(ctx, e.ARN)
	if len(timers) != 2 || !timers[0].Due.Equal(t0.Add(3*time.Minute)) {
		t.Fatalf("moved timer %+v", timers)
	}
	// Timers of finished executions are not due.
	tr = next(get(t, s, e.ARN))
	tr.Status = "SUCCEEDED"
	if err := s.Apply(ctx, tr); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.NextTimer(ctx, t0); ok {
		t.Fatal("a finished execution's timer is next")
	}
}

func testTaskTokens(t *testing.T, s store.Store) {
	ctx := context.Background()
	e := newExecution(t, s, "a", true)
	tr := next(e)
	tr.PutTokens = []store.TaskToken{{Token: "tok-1", RunKey: "3", CreatedAt: t0}}
	if err := s.Apply(ctx, tr); err != nil {
		t.Fatal(err)
	}
	tok, err := s.GetTaskToken(ctx, "tok-1")
	if err != nil || tok.ExecutionARN != e.ARN || tok.RunKey != "3" || !tok.CreatedAt.Equal(t0) {
		t.Fatalf("token %+v %v", tok, err)
	}
	tr = next(get(t, s, e.ARN))
	tr.DeleteTokens = []string{"tok-1"}
	if err := s.Apply(ctx, tr); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetTaskToken(ctx, "tok-1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("used token: %v", err)
	}
	// A token is unique: a second execution cannot reuse it.
	e2 := newExecution(t, s, "b", true)
	tr = next(e2)
	tr.PutTokens = []store.TaskToken{{Token: "tok-2", RunKey: "0", CreatedAt: t0}}
	if err := s.Apply(ctx, tr); err != nil {
		t.Fatal(err)
	}
	tr = next(get(t, s, e.ARN))
	tr.PutTokens = []store.TaskToken{{Token: "tok-2", RunKey: "0", CreatedAt: t0}}
	if err := s.Apply(ctx, tr); err == nil {
		t.Fatal("a duplicate token was accepted")
	}
}

func claimARNs(t *testing.T, s store.Store, owner string, now time.Time) map[string]*store.Claim {
	t.Helper()
	claims, err := s.ClaimExecutions(context.Background(), store.ClaimParams{Owner: owner, Now: now, LeaseUntil: now.Add(time.Minute), Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*store.Claim{}
	for _, c := range claims {
		out[c.Execution.ARN] = c
		if c.Execution.LeaseOwner != owner {
			t.Fatalf("claimed %s shows owner %q", c.Execution.ARN, c.Execution.LeaseOwner)
		}
	}
	return out
}

func testClaim(t *testing.T, s store.Store) {
	run := newExecution(t, s, "runnable", true)
	parked := newExecution(t, s, "parked", false, store.Timer{Key: "w", Due: t0.Add(time.Minute)})
	idle := newExecution(t, s, "idle", false)
	got := claimARNs(t, s, "A", t0)
	if len(got) != 1 || got[run.ARN] == nil {
		t.Fatalf("claimed %v at t0", got)
	}
	// Leased to A: B gets nothing until the lease expires.
	if got := claimARNs(t, s, "B", t0.Add(30*time.Second)); len(got) != 0 {
		t.Fatalf("B claimed %v", got)
	}
	got = claimARNs(t, s, "B", t0.Add(2*time.Minute))
	if len(got) != 2 || got[run.ARN] == nil || got[parked.ARN] == nil {
		t.Fatalf("claimed %v after expiry", got)
	}
	if c := got[parked.ARN]; len(c.DueTimers) != 1 || c.DueTimers[0].Key != "w" {
		t.Fatalf("due timers %+v", c.DueTimers)
	}
	if c := got[run.ARN]; len(c.DueTimers) != 0 {
		t.Fatalf("runnable has due timers %+v", c.DueTimers)
	}
	_ = idle
}

func testLeases(t *testing.T, s store.Store) {
	ctx := context.Background()
	e := newExecution(t, s, "a", true)
	claimARNs(t, s, "A", t0)
	if err := s.RenewLeases(ctx, "A", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := claimARNs(t, s, "B", t0.Add(30*time.Minute)); len(got) != 0 {
		t.Fatalf("renewed lease was taken: %v", got)
	}
	if got := get(t, s, e.ARN); got.LeaseOwner != "A" || !got.LeaseExpires.Equal(t0.Add(time.Hour)) {
		t.Fatalf("lease %q %v", got.LeaseOwner, got.LeaseExpires)
	}
	if err := s.ReleaseLeases(ctx, "A"); err != nil {
		t.Fatal(err)
	}
	if got := claimARNs(t, s, "B", t0); len(got) != 1 {
		t.Fatalf("released lease not claimable: %v", got)
	}
	// A transition that releases the lease and parks.
	cur := get(t, s, e.ARN)
	tr := next(cur)
	tr.Runnable = false
	tr.Lease = &store.Lease{}
	if err := s.Apply(ctx, tr); err != nil {
		t.Fatal(err)
	}
	if got := get(t, s, e.ARN); got.LeaseOwner != "" || got.Runnable {
		t.Fatalf("after park %+v", got)
	}
	// A transition without Lease keeps it.
	claimARNs(t, s, "C", t0) // nothing runnable: claims nothing
	cur = get(t, s, e.ARN)
	tr = next(cur)
	tr.Runnable = true
	tr.Lease = &store.Lease{Owner: "C", Expires: t0.Add(time.Minute)}
	if err := s.Apply(ctx, tr); err != nil {
		t.Fatal(err)
	}
	tr = next(get(t, s, e.ARN))
	if err := s.Apply(ctx, tr); err != nil {
		t.Fatal(err)
	}
	if got := get(t, s, e.ARN); got.LeaseOwner != "C" {
		t.Fatalf("lease lost: %q", got.LeaseOwner)
	}
}

func testListExecutions(t *testing.T, s store.Store) {
	ctx := context.Background()
	for i := 0; i < 7; i++ {
		e, err := s.CreateExecution(ctx, store.CreateExecutionParams{Execution: store.Execution{
			ARN: execARN(fmt.Sprintf("e%d", i)), StateMachineARN: smARN, Name: fmt.Sprintf("e%d", i), Status: "RUNNING", Input: "{}",
			StartDate: t0.Add(time.Duration(i) * time.Second)}})
		if err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			tr := next(e)
			tr.Status = "SUCCEEDED"
			if err := s.Apply(ctx, tr); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := s.CreateExecution(ctx, store.CreateExecutionParams{Execution: store.Execution{ARN: "other", StateMachineARN: "other-sm", Name: "o", Status: "RUNNING", StartDate: t0}}); err != nil {
		t.Fatal(err)
	}
	var names []string
	tok := ""
	for {
		list, nt, err := s.ListExecutions(ctx, store.ListExecutionsParams{StateMachineARN: smARN, ListParams: store.ListParams{Limit: 3, NextToken: tok}})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range list {
			names = append(names, e.Name)
		}
		if nt == "" {
			break
		}
		tok = nt
	}
	if fmt.Sprint(names) != "[e6 e5 e4 e3 e2 e1 e0]" {
		t.Fatalf("listed %v", names)
	}
	list, _, err := s.ListExecutions(ctx, store.ListExecutionsParams{StateMachineARN: smARN, Status: "RUNNING"})
	if err != nil || len(list) != 3 {
		t.Fatalf("running: %d %v", len(list), err)
	}
	all, _, err := s.ListExecutions(ctx, store.ListExecutionsParams{})
	if err != nil || len(all) != 8 {
		t.Fatalf("all: %d %v", len(all), err)
	}
}

func testHistory(t *testing.T, s store.Store) {
	ctx := context.Background()
	e := newExecution(t, s, "a", true)
	tr := next(e)
	for id := int64(2); id <= 10; id++ {
		tr.Events = append(tr.Events, event(id, fmt.Sprintf("E%d", id)))
	}
	if err := s.Apply(ctx, tr); err != nil {
		t.Fatal(err)
	}
	all, err := s.GetHistory(ctx, store.GetHistoryParams{ExecutionARN: e.ARN})
	if err != nil || len(all) != 10 {
		t.Fatalf("history %d %v", len(all), err)
	}
	if all[0].Type != "ExecutionStarted" || all[0].DetailsKey != "executionStartedEventDetails" || string(all[0].Details) != `{"input":"{}"}` || !all[0].Timestamp.Equal(t0) {
		t.Fatalf("first event %+v", all[0])
	}
	if all[9].ID != 10 || all[9].PreviousEventID != 9 || !all[9].Timestamp.Equal(t0.Add(10*time.Millisecond)) {
		t.Fatalf("last event %+v", all[9])
	}
	pg, err := s.GetHistory(ctx, store.GetHistoryParams{ExecutionARN: e.ARN, AfterEventID: 4, Limit: 3})
	if err != nil || len(pg) != 3 || pg[0].ID != 5 || pg[2].ID != 7 {
		t.Fatalf("page %+v %v", pg, err)
	}
	rev, err := s.GetHistory(ctx, store.GetHistoryParams{ExecutionARN: e.ARN, Reverse: true, Limit: 2})
	if err != nil || len(rev) != 2 || rev[0].ID != 10 || rev[1].ID != 9 {
		t.Fatalf("reverse %+v %v", rev, err)
	}
	rev, err = s.GetHistory(ctx, store.GetHistoryParams{ExecutionARN: e.ARN, Reverse: true, AfterEventID: 9, Limit: 2})
	if err != nil || len(rev) != 2 || rev[0].ID != 8 {
		t.Fatalf("reverse page %+v %v", rev, err)
	}
}

// testConcurrentApply runs many executions' transitions at once: each must
// be applied exactly once, in order.
func testConcurrentApply(t *testing.T, s store.Store) {
	ctx := context.Background()
	const execs, steps = 20, 25
	var wg sync.WaitGroup
	errs := make(chan error, execs)
	for i := 0; i < execs; i++ {
		e := newExecution(t, s, fmt.Sprintf("c%d", i), true)
		wg.Add(1)
		go func(e *store.Execution) {
			defer wg.Done()
			for step := 0; step < steps; step++ {
				tr := next(e)
				tr.Runtime = []byte(fmt.Sprint(step))
				tr.Events = []store.HistoryEvent{event(e.LastEventID+1, "S")}
				if err := s.Apply(ctx, tr); err != nil {
					errs <- err
					return
				}
				e.Version++
				e.LastEventID++
			}
		}(e)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for i := 0; i < execs; i++ {
		e := get(t, s, execARN(fmt.Sprintf("c%d", i)))
		if e.Version != steps+1 || e.LastEventID != steps+1 || string(e.Runtime) != fmt.Sprint(steps-1) {
			t.Fatalf("%s: version %d, last event %d, runtime %s", e.Name, e.Version, e.LastEventID, e.Runtime)
		}
	}
}

func testClosed(t *testing.T, s store.Store) {
	e := newExecution(t, s, "a", true)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(context.Background(), next(e)); !errors.Is(err, store.ErrClosed) {
		t.Fatalf("apply after close: %v", err)
	}
}
