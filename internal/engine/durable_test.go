package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/asl"
	"github.com/stewardhq/steward/internal/clock"
	"github.com/stewardhq/steward/internal/store"
	"github.com/stewardhq/steward/internal/store/storesqlite"
	"github.com/stewardhq/steward/internal/task"
)

var durableT0 = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// harness runs a durable engine on a temporary SQLite store and a fake
// clock.
type harness struct {
	t     testing.TB
	clk   *clock.Fake
	st    *storesqlite.DB
	e     *Engine
	tasks *task.Registry
	path  string
	cfg   Config
}

func newHarness(t testing.TB, mod func(*Config)) *harness {
	t.Helper()
	h := &harness{t: t, clk: clock.NewFake(durableT0), tasks: task.NewRegistry(), path: filepath.Join(t.TempDir(), "steward.db")}
	task.RegisterBasics(h.tasks)
	h.cfg = Config{Tasks: h.tasks, Clock: h.clk, Owner: "test-engine", Random: func() float64 { return 0.5 }, Logf: t.Logf}
	if mod != nil {
		mod(&h.cfg)
	}
	h.open()
	t.Cleanup(h.close)
	return h
}

func (h *harness) open() {
	st, err := storesqlite.Open(h.path, storesqlite.Options{Synchronous: "NORMAL"})
	if err != nil {
		h.t.Fatal(err)
	}
	h.st = st
	cfg := h.cfg
	cfg.Store = st
	h.e = New(cfg)
	if err := h.e.Start(context.Background()); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) close() {
	if h.e != nil {
		h.e.Close()
		h.st.Close()
		h.e = nil
	}
}

func (h *harness) machine(name, def string) string {
	h.t.Helper()
	sm, err := h.e.CreateStateMachine(context.Background(), CreateStateMachineInput{Name: name, Definition: def})
	if err != nil {
		h.t.Fatalf("create %s: %v", name, err)
	}
	return sm.ARN
}

func (h *harness) start(sm, name, input string) string {
	h.t.Helper()
	x, err := h.e.StartExecution(context.Background(), StartExecutionInput{StateMachineARN: sm, Name: name, Input: input})
	if err != nil {
		h.t.Fatalf("start %s: %v", name, err)
	}
	return x.ARN
}

// settle lets the engine's goroutines run until cond holds, without
// moving the clock.
func (h *harness) settle(cond func() bool) bool {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(200 * time.Microsecond)
	}
	return cond()
}

// until runs the engine, moving the fake clock to each next timer, until
// cond holds.
func (h *harness) until(cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if h.settle(func() bool { return cond() || h.idle() }) && cond() {
			return
		}
		if cond() {
			return
		}
		if next, ok, _ := h.st.NextTimer(context.Background(), h.clk.Now()); ok && next.After(h.clk.Now()) {
			h.clk.Set(next)
		} else if !ok {
			h.clk.Advance(time.Second)
		}
		h.e.claimOnce()
	}
	h.t.Fatalf("condition not reached by %v", h.clk.Now())
}

// idle reports whether no execution has work now (all parked or done).
func (h *harness) idle() bool {
	h.e.mu.Lock()
	n := len(h.e.actors)
	h.e.mu.Unlock()
	return n == 0
}

func (h *harness) describe(arn string) *store.Execution {
	h.t.Helper()
	x, err := h.e.DescribeExecution(context.Background(), arn)
	if err != nil {
		h.t.Fatal(err)
	}
	return x
}

func (h *harness) finished(arn string) *store.Execution {
	h.t.Helper()
	h.until(func() bool { return h.describe(arn).Status != StatusRunning })
	return h.describe(arn)
}

func (h *harness) history(arn string) []HistoryEvent {
	h.t.Helper()
	ev, _, err := h.e.GetExecutionHistory(context.Background(), GetExecutionHistoryInput{ExecutionARN: arn})
	if err != nil {
		h.t.Fatal(err)
	}
	return ev
}

func types(ev []HistoryEvent) string {
	var s []string
	for _, e := range ev {
		s = append(s, e.Type)
	}
	return strings.Join(s, " ")
}

func eventOf(ev []HistoryEvent, typ string) *HistoryEvent {
	for i := range ev {
		if ev[i].Type == typ {
			return &ev[i]
		}
	}
	return nil
}

// waitTokens waits until n task tokens are outstanding and returns them.
func (h *harness) waitTokens(arn string, n int) []string {
	h.t.Helper()
	var toks []string
	ok := h.settle(func() bool {
		toks = h.tokens(arn)
		return len(toks) >= n && h.idle()
	})
	if !ok {
		h.t.Fatalf("%d tokens outstanding, want %d", len(toks), n)
	}
	return toks
}

func (h *harness) tokens(arn string) []string {
	x, err := h.st.GetExecution(context.Background(), arn)
	if err != nil {
		h.t.Fatal(err)
	}
	rt, err := decodeRuntime(x.Runtime)
	if err != nil {
		h.t.Fatal(err)
	}
	type tr struct {
		tok string
		run int
	}
	var list []tr
	for tok, id := range rt.Tokens {
		list = append(list, tr{tok, id})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].run < list[j].run })
	var out []string
	for _, t := range list {
		out = append(out, t.tok)
	}
	return out
}

func TestDurablePassWaitSucceed(t *testing.T) {
	h := newHarness(t, nil)
	sm := h.machine("wait", `{"StartAt":"P","States":{
		"P":{"Type":"Pass","Result":{"a":1},"ResultPath":"$.r","Next":"W"},
		"W":{"Type":"Wait","Seconds":10,"Next":"S"},
		"S":{"Type":"Succeed"}}}`)
	arn := h.start(sm, "one", `{"in":true}`)
	x := h.finished(arn)
	if x.Status != StatusSucceeded || x.Output != `{"in":true,"r":{"a":1}}` {
		t.Fatalf("%s %s", x.Status, x.Output)
	}
	ev := h.history(arn)
	want := "ExecutionStarted PassStateEntered PassStateExited WaitStateEntered WaitStateExited SucceedStateEntered SucceedStateExited ExecutionSucceeded"
	if got := types(ev); got != want {
		t.Fatalf("history\n got %s\nwant %s", got, want)
	}
	if d := eventOf(ev, "WaitStateExited").Timestamp.Sub(eventOf(ev, "WaitStateEntered").Timestamp); d != 10*time.Second {
		for _, e := range ev {
			t.Logf("%d %s %v", e.ID, e.Type, e.Timestamp)
		}
		t.Fatalf("waited %v", d)
	}
	for i, e := range ev {
		if e.ID != int64(i+1) || (i > 0 && e.PreviousEventID != int64(i)) {
			t.Fatalf("event %d: id %d prev %d", i, e.ID, e.PreviousEventID)
		}
	}
	if x.Runnable || x.LeaseOwner != "" {
		t.Fatalf("finished execution still leased or runnable: %+v", x)
	}
	if timers, _ := h.st.ListTimers(context.Background(), arn); len(timers) != 0 {
		t.Fatalf("timers left: %v", timers)
	}
}

func TestDurableRetryBackoffAndCatch(t *testing.T) {
	h := newHarness(t, nil)
	var mu sync.Mutex
	var calls []time.Time
	var keys []string
	h.tasks.Register("steward:flaky", task.HandlerFunc(func(ctx context.Context, c *task.Call) (any, error) {
		mu.Lock()
		defer mu.Unlock()
		calls = append(calls, h.clk.Now())
		keys = append(keys, c.IdempotencyKey)
		if len(calls) < 3 {
			return nil, &asl.Error{Name: "Throttled", Cause: "slow down"}
		}
		return map[string]any{"ok": true}, nil
	}))
	sm := h.machine("retry", `{"StartAt":"T","States":{
		"T":{"Type":"Task","Resource":"steward:flaky","Retry":[{"ErrorEquals":["Throttled"],"IntervalSeconds":2,"BackoffRate":3,"MaxAttempts":5}],"End":true}}}`)
	arn := h.start(sm, "r", `{}`)
	x := h.finished(arn)
	if x.Status != StatusSucceeded || x.Output != `{"ok":true}` {
		t.Fatalf("%s %s", x.Status, x.Output)
	}
	if len(calls) != 3 || calls[1].Sub(calls[0]) != 2*time.Second || calls[2].Sub(calls[1]) != 6*time.Second {
		t.Fatalf("calls at %v", calls)
	}
	if keys[0] == keys[1] || keys[1] == keys[2] {
		t.Fatalf("attempts share idempotency keys: %v", keys)
	}
	if got := strings.Count(types(h.history(arn)), "TaskFailed"); got != 2 {
		t.Fatalf("%d TaskFailed events", got)
	}

	sm = h.machine("catch", `{"StartAt":"T","States":{
		"T":{"Type":"Task","Resource":"steward:fail","Parameters":{"Error":"Boom","Cause":"bad"},
			"Retry":[{"ErrorEquals":["Boom"],"MaxAttempts":1,"IntervalSeconds":1}],
			"Catch":[{"ErrorEquals":["States.ALL"],"ResultPath":"$.err","Next":"C"}],"Next":"N"},
		"N":{"Type":"Succeed"},
		"C":{"Type":"Pass","End":true}}}`)
	arn = h.start(sm, "c", `{"x":1}`)
	x = h.finished(arn)
	if x.Status != StatusSucceeded || x.Output != `{"err":{"Cause":"bad","Error":"Boom"},"x":1}` {
		t.Fatalf("%s %s", x.Status, x.Output)
	}
	arn = h.start(h.machine("uncaught", `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"steward:fail","Parameters":{"Error":"Boom","Cause":"bad"},"End":true}}}`), "u", `{}`)
	x = h.finished(arn)
	if x.Status != StatusFailed || x.Error != "Boom" || x.Cause != "bad" {
		t.Fatalf("%s %s %s", x.Status, x.Error, x.Cause)
	}
	if ev := h.history(arn); ev[len(ev)-1].Type != "ExecutionFailed" || ev[len(ev)-1].Details["error"] != "Boom" {
		t.Fatalf("history %s", types(ev))
	}
}

const tokenMachine = `{"StartAt":"Ask","States":{
	"Ask":{"Type":"Task","Resource":"steward:echo.waitForTaskToken","Parameters":{"token.$":"$$.Task.Token","q.$":"$.q"},
		"HeartbeatSeconds":60,"TimeoutSeconds":3600,"Next":"Done"},
	"Done":{"Type":"Pass","End":true}}}`

func TestDurableTaskTokens(t *testing.T) {
	h := newHarness(t, nil)
	var invoked atomic.Int32
	var seen sync.Map
	h.tasks.Register("steward:echo", task.HandlerFunc(func(ctx context.Context, c *task.Call) (any, error) {
		invoked.Add(1)
		in := c.Input.(map[string]any)
		if c.Token == "" || in["token"] != c.Token {
			return nil, fmt.Errorf("token %q not passed on (input %v)", c.Token, in)
		}
		seen.Store(c.Token, true)
		return nil, nil
	}))
	sm := h.machine("approve", tokenMachine)
	ctx := context.Background()

	t.Run("success", func(t *testing.T) {
		arn := h.start(sm, "ok", `{"q":"fix?"}`)
		tok := h.waitTokens(arn, 1)[0]
		if _, ok := seen.Load(tok); !ok {
			t.Fatal("handler did not see the token")
		}
		if x := h.describe(arn); x.Status != StatusRunning || x.Runnable || x.LeaseOwner != "" {
			t.Fatalf("not parked: %+v", x)
		}
		if err := h.e.SendTaskSuccess(ctx, tok, `{"approved":true}`); err != nil {
			t.Fatal(err)
		}
		x := h.finished(arn)
		if x.Status != StatusSucceeded || x.Output != `{"approved":true}` {
			t.Fatalf("%s %s", x.Status, x.Output)
		}
		if err := h.e.SendTaskSuccess(ctx, tok, `{}`); !errors.Is(err, ErrTaskTimedOut) || ErrorCode(err) != "TaskTimedOut" {
			t.Fatalf("reused token: %v", err)
		}
		if err := h.e.SendTaskSuccess(ctx, "garbage", `{}`); !errors.Is(err, ErrInvalidToken) || ErrorCode(err) != "InvalidToken" {
			t.Fatalf("unknown token: %v", err)
		}
		if err := h.e.SendTaskSuccess(ctx, tok, `{bad json`); !errors.Is(err, ErrInvalidOutput) {
			t.Fatalf("bad output: %v", err)
		}
	})
	t.Run("failure", func(t *testing.T) {
		arn := h.start(sm, "no", `{"q":"fix?"}`)
		tok := h.waitTokens(arn, 1)[0]
		if err := h.e.SendTaskFailure(ctx, tok, "Denied", "owner said no"); err != nil {
			t.Fatal(err)
		}
		x := h.finished(arn)
		if x.Status != StatusFailed || x.Error != "Denied" || x.Cause != "owner said no" {
			t.Fatalf("%s %s %s", x.Status, x.Error, x.Cause)
		}
		if !strings.Contains(types(h.history(arn)), "TaskFailed") {
			t.Fatal("no TaskFailed event")
		}
	})
	t.Run("heartbeat", func(t *testing.T) {
		arn := h.start(sm, "hb", `{"q":"fix?"}`)
		tok := h.waitTokens(arn, 1)[0]
		started := h.clk.Now()
		// Heartbeats every 50s keep it alive past 60s.
		for i := 0; i < 3; i++ {
			h.clk.Advance(50 * time.Second)
			h.e.claimOnce()
			h.settle(h.idle)
			if err := h.e.SendTaskHeartbeat(ctx, tok); err != nil {
				t.Fatalf("heartbeat %d: %v", i, err)
			}
		}
		if x := h.describe(arn); x.Status != StatusRunning {
			t.Fatalf("heartbeats did not keep it alive: %s %s", x.Status, x.Error)
		}
		x := h.finished(arn)
		if x.Status != StatusFailed || x.Error != asl.ErrHeartbeatTimeout {
			t.Fatalf("%s %s", x.Status, x.Error)
		}
		if d := x.StopDate.Sub(started); d != 210*time.Second {
			t.Fatalf("timed out after %v, want 150s+60s", d)
		}
		if ev := h.history(arn); eventOf(ev, "TaskTimedOut") == nil {
			t.Fatalf("history %s", types(ev))
		}
		if err := h.e.SendTaskHeartbeat(ctx, tok); !errors.Is(err, ErrTaskTimedOut) {
			t.Fatalf("heartbeat after timeout: %v", err)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		arn := h.start(sm, "to", `{"q":"fix?"}`)
		tok := h.waitTokens(arn, 1)[0]
		for i := 0; i < 80; i++ { // heartbeat through the hour
			h.clk.Advance(50 * time.Second)
			h.e.claimOnce()
			h.settle(h.idle)
			if h.describe(arn).Status != StatusRunning {
				break
			}
			if err := h.e.SendTaskHeartbeat(ctx, tok); err != nil {
				break
			}
		}
		x := h.finished(arn)
		if x.Status != StatusFailed || x.Error != asl.ErrTimeout {
			t.Fatalf("%s %s", x.Status, x.Error)
		}
	})
	t.Run("stop", func(t *testing.T) {
		arn := h.start(sm, "stop", `{"q":"fix?"}`)
		tok := h.waitTokens(arn, 1)[0]
		if _, err := h.e.StopExecution(ctx, arn, "Operator", "not needed"); err != nil {
			t.Fatal(err)
		}
		x := h.describe(arn)
		if x.Status != StatusAborted || x.Error != "Operator" || x.StopDate.IsZero() {
			t.Fatalf("%+v", x)
		}
		if ev := h.history(arn); ev[len(ev)-1].Type != "ExecutionAborted" {
			t.Fatalf("history %s", types(ev))
		}
		if err := h.e.SendTaskSuccess(ctx, tok, `{}`); !errors.Is(err, ErrTaskTimedOut) {
			t.Fatalf("token of a stopped execution: %v", err)
		}
		if timers, _ := h.st.ListTimers(ctx, arn); len(timers) != 0 {
			t.Fatalf("timers left %v", timers)
		}
	})
}

func TestDurableMapParallelConcurrency(t *testing.T) {
	h := newHarness(t, nil)
	h.tasks.Register("steward:echo", task.HandlerFunc(func(ctx context.Context, c *task.Call) (any, error) { return c.Input, nil }))
	sm := h.machine("map", `{"StartAt":"M","States":{
		"M":{"Type":"Map","ItemsPath":"$.items","MaxConcurrency":3,
			"ItemProcessor":{"StartAt":"Ask","States":{
				"Ask":{"Type":"Task","Resource":"steward:echo.waitForTaskToken","Parameters":{"i.$":"$"},"End":true}}},
			"Next":"P"},
		"P":{"Type":"Parallel","Branches":[
			{"StartAt":"A","States":{"A":{"Type":"Pass","Result":"a","End":true}}},
			{"StartAt":"B","States":{"B":{"Type":"Wait","Seconds":5,"Next":"B2"},"B2":{"Type":"Pass","Result":"b","End":true}}}],
			"ResultPath":"$[1]","End":true}}}`)
	arn := h.start(sm, "m", `{"items":[0,1,2,3,4,5,6,7,8,9]}`)
	ctx := context.Background()
	answered := 0
	maxOut := 0
	for answered < 10 {
		toks := h.waitTokens(arn, 1)
		if len(toks) > maxOut {
			maxOut = len(toks)
		}
		if len(toks) > 3 {
			t.Fatalf("%d iterations in flight with MaxConcurrency 3", len(toks))
		}
		// Answer the newest first, so results arrive out of order.
		tok := toks[len(toks)-1]
		if err := h.e.SendTaskSuccess(ctx, tok, fmt.Sprintf(`{"n":%d}`, answered)); err != nil {
			t.Fatal(err)
		}
		answered++
		h.settle(h.idle)
	}
	if maxOut != 3 {
		t.Fatalf("at most %d in flight, want 3", maxOut)
	}
	x := h.finished(arn)
	if x.Status != StatusSucceeded {
		t.Fatalf("%s %s %s", x.Status, x.Error, x.Cause)
	}
	var out []any
	if err := json.Unmarshal([]byte(x.Output), &out); err != nil || len(out) != 10 {
		t.Fatalf("output %s", x.Output)
	}
	if fmt.Sprint(out[1]) != "[a b]" {
		t.Fatalf("parallel result %v", out[1])
	}
	ev := h.history(arn)
	if n := strings.Count(types(ev), "MapIterationSucceeded"); n != 10 {
		t.Fatalf("%d MapIterationSucceeded", n)
	}
	for _, want := range []string{"MapStateStarted", "MapStateSucceeded", "ParallelStateStarted", "ParallelStateSucceeded", "MapStateExited", "ParallelStateExited"} {
		if eventOf(ev, want) == nil {
			t.Fatalf("no %s in %s", want, types(ev))
		}
	}
	// A Map that tolerates no failure fails with the iteration's error.
	sm = h.machine("mapfail", `{"StartAt":"M","States":{"M":{"Type":"Map","MaxConcurrency":1,
		"ItemProcessor":{"StartAt":"F","States":{"F":{"Type":"Task","Resource":"steward:fail","End":true}}},"End":true}}}`)
	arn = h.start(sm, "f", `[{"Error":"E1","Cause":"c1"},{"Error":"E2","Cause":"c2"},{"Error":"E3","Cause":"c3"}]`)
	x = h.finished(arn)
	if x.Status != StatusFailed || x.Error != "E1" {
		t.Fatalf("%s %s", x.Status, x.Error)
	}
	sm = h.machine("maptol", `{"StartAt":"M","States":{"M":{"Type":"Map","ToleratedFailureCount":1,
		"ItemProcessor":{"StartAt":"F","States":{"F":{"Type":"Task","Resource":"steward:fail","End":true}}},"End":true}}}`)
	arn = h.start(sm, "t", `[{"Error":"E1","Cause":"c1"}]`)
	if x = h.finished(arn); x.Status != StatusSucceeded || x.Output != `[{"Cause":"c1","Error":"E1"}]` {
		t.Fatalf("%s %s", x.Status, x.Output)
	}
}

func TestDurableRedrive(t *testing.T) {
	h := newHarness(t, nil)
	var broken atomic.Bool
	broken.Store(true)
	h.tasks.Register("steward:fragile", task.HandlerFunc(func(ctx context.Context, c *task.Call) (any, error) {
		if broken.Load() {
			return nil, &asl.Error{Name: "Broken", Cause: "down"}
		}
		return map[string]any{"fixed": true}, nil
	}))
	sm := h.machine("redrive", `{"StartAt":"First","States":{
		"First":{"Type":"Pass","Result":1,"ResultPath":"$.first","Next":"T"},
		"T":{"Type":"Task","Resource":"steward:fragile","ResultPath":"$.t","Next":"Count"},
		"Count":{"Type":"Pass","Parameters":{"rc.$":"$$.Execution.RedriveCount","t.$":"$.t","first.$":"$.first"},"End":true}}}`)
	arn := h.start(sm, "x", `{}`)
	x := h.finished(arn)
	if x.Status != StatusFailed || x.Error != "Broken" {
		t.Fatalf("%s %s", x.Status, x.Error)
	}
	ctx := context.Background()
	broken.Store(false)
	if _, err := h.e.RedriveExecution(ctx, arn); err != nil {
		t.Fatal(err)
	}
	x = h.finished(arn)
	if x.Status != StatusSucceeded || x.Output != `{"first":1,"rc":1,"t":{"fixed":true}}` || x.RedriveCount != 1 {
		t.Fatalf("%s %s redrives %d", x.Status, x.Output, x.RedriveCount)
	}
	ev := h.history(arn)
	if n := strings.Count(types(ev), "PassStateEntered"); n != 2 {
		t.Fatalf("redrive re-ran the states before the failure: %s", types(ev))
	}
	if eventOf(ev, "ExecutionRedriven") == nil {
		t.Fatalf("no ExecutionRedriven: %s", types(ev))
	}
	if _, err := h.e.RedriveExecution(ctx, arn); !errors.Is(err, ErrExecutionNotRedrivable) {
		t.Fatalf("redrive of a success: %v", err)
	}
}

func TestDurableNameIdempotency(t *testing.T) {
	h := newHarness(t, nil)
	sm := h.machine("idem", tokenMachine)
	ctx := context.Background()
	a, err := h.e.StartExecution(ctx, StartExecutionInput{StateMachineARN: sm, Name: "same", Input: `{"q":1}`})
	if err != nil {
		t.Fatal(err)
	}
	b, err := h.e.StartExecution(ctx, StartExecutionInput{StateMachineARN: sm, Name: "same", Input: `{"q":1}`})
	if err != nil || b.ARN != a.ARN || !b.StartDate.Equal(a.StartDate) {
		t.Fatalf("same name and input: %v %v", b, err)
	}
	_, err = h.e.StartExecution(ctx, StartExecutionInput{StateMachineARN: sm, Name: "same", Input: `{"q":2}`})
	if !errors.Is(err, ErrExecutionAlreadyExists) || ErrorCode(err) != "ExecutionAlreadyExists" {
		t.Fatalf("different input: %v", err)
	}
	if _, err := h.e.StartExecution(ctx, StartExecutionInput{StateMachineARN: sm, Name: "bad", Input: `{`}); ErrorCode(err) != "InvalidExecutionInput" {
		t.Fatalf("bad input: %v", err)
	}
	if _, err := h.e.StartExecution(ctx, StartExecutionInput{StateMachineARN: sm, Name: "has space", Input: `{}`}); ErrorCode(err) != "InvalidName" {
		t.Fatalf("bad name: %v", err)
	}
	if _, err := h.e.StartExecution(ctx, StartExecutionInput{StateMachineARN: sm + "x", Input: `{}`}); ErrorCode(err) != "StateMachineDoesNotExist" {
		t.Fatalf("no machine: %v", err)
	}
	if _, err := h.e.DescribeExecution(ctx, a.ARN+"x"); ErrorCode(err) != "ExecutionDoesNotExist" {
		t.Fatalf("no execution: %v", err)
	}
	if _, err := h.e.CreateStateMachine(ctx, CreateStateMachineInput{Name: "bad", Definition: `{"StartAt":"X","States":{}}`}); ErrorCode(err) != "InvalidDefinition" {
		t.Fatalf("bad definition: %v", err)
	}
	var ve *asl.ValidationError
	if _, err := h.e.CreateStateMachine(ctx, CreateStateMachineInput{Name: "bad", Definition: `{"StartAt":"X","States":{}}`}); !errors.As(err, &ve) || len(ve.Problems) == 0 {
		t.Fatalf("definition problems not given: %v", err)
	}
	if _, err := h.e.CreateStateMachine(ctx, CreateStateMachineInput{Name: "idem", Definition: `{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`}); ErrorCode(err) != "StateMachineAlreadyExists" {
		t.Fatalf("duplicate machine: %v", err)
	}
	// A stopped execution's name is taken whatever the input.
	if _, err := h.e.StopExecution(ctx, a.ARN, "", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := h.e.StartExecution(ctx, StartExecutionInput{StateMachineARN: sm, Name: "same", Input: `{"q":1}`}); !errors.Is(err, ErrExecutionAlreadyExists) {
		t.Fatalf("closed execution, same input: %v", err)
	}
}

func TestDurableDataLimit(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.MaxPayloadBytes = 100 })
	h.tasks.Register("steward:big", task.HandlerFunc(func(ctx context.Context, c *task.Call) (any, error) {
		return strings.Repeat("x", 200), nil
	}))
	sm := h.machine("big", `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"steward:big","End":true}}}`)
	x := h.finished(h.start(sm, "big-result", `{}`))
	if x.Status != StatusFailed || x.Error != asl.ErrDataLimitExceeded {
		t.Fatalf("%s %s", x.Status, x.Error)
	}
	x = h.finished(h.start(sm, "big-input", `{"a":"`+strings.Repeat("y", 200)+`"}`))
	if x.Status != StatusFailed || x.Error != asl.ErrDataLimitExceeded {
		t.Fatalf("%s %s", x.Status, x.Error)
	}
}

func TestDurableUpdateKeepsRevision(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	sm := h.machine("rev", `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":5,"Next":"P"},"P":{"Type":"Pass","Result":"v1","End":true}}}`)
	arn := h.start(sm, "old", `{}`)
	h.settle(h.idle)
	if _, err := h.e.UpdateStateMachine(ctx, UpdateStateMachineInput{ARN: sm, Definition: `{"StartAt":"P","States":{"P":{"Type":"Pass","Result":"v2","End":true}}}`}); err != nil {
		t.Fatal(err)
	}
	if x := h.finished(arn); x.Output != `"v1"` {
		t.Fatalf("running execution changed revision: %s", x.Output)
	}
	if x := h.finished(h.start(sm, "new", `{}`)); x.Output != `"v2"` {
		t.Fatalf("new execution: %s", x.Output)
	}
	list, _, err := h.e.ListExecutions(ctx, store.ListExecutionsParams{StateMachineARN: sm})
	if err != nil || len(list) != 2 {
		t.Fatalf("list %d %v", len(list), err)
	}
	if err := h.e.DeleteStateMachine(ctx, sm); err != nil {
		t.Fatal(err)
	}
	if _, err := h.e.DescribeStateMachine(ctx, sm); ErrorCode(err) != "StateMachineDoesNotExist" {
		t.Fatalf("deleted: %v", err)
	}
}

// TestDurableTwoEngines runs two engines (two owners, as two replicas
// would be) on one store: when one stops mid-flight, the other takes its
// executions over once their leases expire, and finishes them.
func TestDurableTwoEngines(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Owner = "replica-a" })
	var mu sync.Mutex
	effects := map[string]int{}
	effect := task.HandlerFunc(func(ctx context.Context, c *task.Call) (any, error) {
		mu.Lock()
		effects[c.IdempotencyKey]++
		mu.Unlock()
		return c.Input, nil
	})
	h.tasks.Register("steward:effect", effect)
	sm := h.machine("two", `{"StartAt":"T1","States":{
		"T1":{"Type":"Task","Resource":"steward:effect","Next":"W"},
		"W":{"Type":"Wait","Seconds":10,"Next":"T2"},
		"T2":{"Type":"Task","Resource":"steward:effect","End":true}}}`)
	const n = 100
	var arns []string
	for i := 0; i < n; i++ {
		arns = append(arns, h.start(sm, fmt.Sprintf("e%d", i), fmt.Sprintf(`{"i":%d}`, i)))
	}
	// Replica A stops at once, some executions still leased to it.
	h.e.Close()
	ctx := context.Background()
	leased := 0
	for _, a := range arns {
		if x := h.describe(a); x.LeaseOwner == "replica-a" {
			leased++
		}
	}
	b := New(Config{Store: h.st, Tasks: h.tasks, Clock: h.clk, Owner: "replica-b", Logf: t.Logf})
	if err := b.Start(ctx); err != nil {
		t.Fatal(err)
	}
	h.e = b
	done := func() bool {
		list, _, err := h.st.ListExecutions(ctx, store.ListExecutionsParams{Status: StatusRunning})
		return err == nil && len(list) == 0
	}
	h.until(done)
	for _, a := range arns {
		if x := h.describe(a); x.Status != StatusSucceeded {
			t.Fatalf("%s: %s %s", x.Name, x.Status, x.Cause)
		}
	}
	if len(effects) != 2*n {
		t.Fatalf("%d distinct effects, want %d", len(effects), 2*n)
	}
	t.Logf("%d executions were leased to the stopped replica; all %d finished on the other", leased, n)
}

// TestDurableFullDisk fills the store (SQLite's max_page_count stands in
// for a full disk) in the middle of an execution: the transition that
// does not fit fails cleanly, the execution stays at its last committed
// state, and once there is room again it finishes, no event lost or
// doubled.
func TestDurableFullDisk(t *testing.T) {
	path := filepath.Join(t.TempDir(), "steward.db")
	clk := clock.NewFake(durableT0)
	st, err := storesqlite.Open(path, storesqlite.Options{Synchronous: "NORMAL", MaxPageCount: 120})
	if err != nil {
		t.Fatal(err)
	}
	var logged atomic.Int32
	cfg := Config{Store: st, Clock: clk, Owner: "disk", Logf: func(f string, a ...any) { logged.Add(1) }}
	e := New(cfg)
	ctx := context.Background()
	if err := e.Start(ctx); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString(`{"StartAt":"S0","States":{`)
	for i := 0; i < 12; i++ {
		fmt.Fprintf(&b, `"S%d":{"Type":"Pass","Next":"S%d"},`, i, i+1)
	}
	b.WriteString(`"S12":{"Type":"Succeed"}}}`)
	sm, err := e.CreateStateMachine(ctx, CreateStateMachineInput{Name: "fill", Definition: b.String()})
	if err != nil {
		t.Fatal(err)
	}
	x, err := e.StartExecution(ctx, StartExecutionInput{StateMachineARN: sm.ARN, Name: "big", Input: `{"blob":"` + strings.Repeat("z", 40_000) + `"}`})
	if err != nil {
		t.Fatal(err)
	}
	// Wait until a write failed and the actor backs off.
	deadline := time.Now().Add(10 * time.Second)
	for logged.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if logged.Load() == 0 {
		t.Fatal("the store never filled up")
	}
	e.Close()
	got, err := st.GetExecution(ctx, x.ARN)
	if err != nil || got.Status != StatusRunning {
		t.Fatalf("after the full disk: %+v %v", got, err)
	}
	stopped := got.LastEventID
	st.Close()

	st, err = storesqlite.Open(path, storesqlite.Options{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cfg.Store = st
	e = New(cfg)
	if err := e.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	h := &harness{t: t, clk: clk, st: st, e: e}
	got = h.finished(x.ARN)
	if got.Status != StatusSucceeded {
		t.Fatalf("%s %s", got.Status, got.Cause)
	}
	hist := h.history(x.ARN)
	if n := strings.Count(types(hist), "PassStateEntered"); n != 12 {
		t.Fatalf("%d Pass states entered, want 12", n)
	}
	for i, ev := range hist {
		if ev.ID != int64(i+1) {
			t.Fatalf("event %d has id %d", i, ev.ID)
		}
	}
	t.Logf("the disk filled after event %d of %d; %d store errors reported", stopped, len(hist), logged.Load())
}

func TestDurableLargeMap(t *testing.T) {
	h := newHarness(t, nil)
	sm := h.machine("large", `{"StartAt":"M","States":{"M":{"Type":"Map","MaxConcurrency":50,
		"ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"v.$":"$"},"End":true}}},"End":true}}}`)
	items := make([]string, 500)
	for i := range items {
		items[i] = fmt.Sprint(i)
	}
	x := h.finished(h.start(sm, "m", "["+strings.Join(items, ",")+"]"))
	if x.Status != StatusSucceeded {
		t.Fatalf("%s %s", x.Status, x.Cause)
	}
	var out []map[string]int
	if err := json.Unmarshal([]byte(x.Output), &out); err != nil || len(out) != 500 || out[499]["v"] != 499 || out[0]["v"] != 0 {
		t.Fatalf("output %.200s: %v", x.Output, err)
	}
	raw, _ := h.st.GetExecution(context.Background(), x.ARN)
	if rt, err := decodeRuntime(raw.Runtime); err != nil || len(rt.Runs) != 1 {
		t.Fatalf("a finished Map left its iterations in the runtime: %v", err)
	}
}
