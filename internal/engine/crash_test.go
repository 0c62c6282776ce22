package engine

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/asl"
	"github.com/stewardhq/steward/internal/clock"
	"github.com/stewardhq/steward/internal/store"
	"github.com/stewardhq/steward/internal/store/storesqlite"
	"github.com/stewardhq/steward/internal/task"
)

// The crash test: a helper process (this test binary, re-executed) runs
// the engine on a SQLite file with 1,000 executions in flight (waits,
// retries, task tokens); the test kills it with SIGKILL mid-flight, reopens
// the store, finishes the work, and checks that every execution ended as it
// should with every transition applied exactly once.

const (
	crashEnvDir   = "STEWARD_CRASH_CHILD_DIR"
	crashOwner    = "crash-engine"
	crashWaits    = 400 // Pass, Task, Wait 2s, Task
	crashRetries  = 300 // Task failing twice, retried after 1s and 2s
	crashTokens   = 300 // .waitForTaskToken
	crashEffects  = "effects.log"
	crashDatabase = "steward.db"
)

var crashMachines = map[string]string{
	"waits": `{"StartAt":"P","States":{
		"P":{"Type":"Pass","Next":"T1"},
		"T1":{"Type":"Task","Resource":"steward:effect","Next":"W"},
		"W":{"Type":"Wait","Seconds":2,"Next":"T2"},
		"T2":{"Type":"Task","Resource":"steward:effect","End":true}}}`,
	"retries": `{"StartAt":"T","States":{
		"T":{"Type":"Task","Resource":"steward:flaky","Retry":[{"ErrorEquals":["Flaky"],"IntervalSeconds":1,"BackoffRate":2,"MaxAttempts":3}],"End":true}}}`,
	"tokens": `{"StartAt":"Ask","States":{
		"Ask":{"Type":"Task","Resource":"steward:ask.waitForTaskToken","Parameters":{"n.$":"$.n"},"HeartbeatSeconds":3600,"Next":"T"},
		"T":{"Type":"Task","Resource":"steward:effect","End":true}}}`,
}

var crashHistories = map[string]string{
	"waits": "ExecutionStarted PassStateEntered PassStateExited TaskStateEntered TaskScheduled TaskStarted TaskSucceeded TaskStateExited " +
		"WaitStateEntered WaitStateExited TaskStateEntered TaskScheduled TaskStarted TaskSucceeded TaskStateExited ExecutionSucceeded",
	"retries": "ExecutionStarted TaskStateEntered TaskScheduled TaskStarted TaskFailed TaskStateEntered TaskScheduled TaskStarted TaskFailed " +
		"TaskStateEntered TaskScheduled TaskStarted TaskSucceeded TaskStateExited ExecutionSucceeded",
	"tokens": "ExecutionStarted TaskStateEntered TaskScheduled TaskStarted TaskSucceeded TaskStateExited " +
		"TaskStateEntered TaskScheduled TaskStarted TaskSucceeded TaskStateExited ExecutionSucceeded",
}

// effectLog records side effects, one idempotency key per line, appended
// atomically, so that both processes' effects can be counted.
type effectLog struct {
	mu sync.Mutex
	f  *os.File
}

func openEffects(dir string) (*effectLog, error) {
	f, err := os.OpenFile(filepath.Join(dir, crashEffects), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	return &effectLog{f: f}, nil
}

func (l *effectLog) record(key string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, err := l.f.WriteString(key + "\n")
	return err
}

func numberIn(v any) int {
	m, _ := v.(map[string]any)
	n, _ := asl.DecodeJSON([]byte(jsonString(m["n"])))
	f, _ := toNumber(n)
	return int(f)
}

func toNumber(v any) (float64, bool) {
	switch n := v.(type) {
	case interface{ Float64() (float64, error) }:
		f, err := n.Float64()
		return f, err == nil
	case float64:
		return n, true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	}
	return 0, false
}

// crashTasks registers the crash test's tasks. slow makes effects take a
// little real time, so that some are in flight when the process dies.
func crashTasks(effects *effectLog, slow time.Duration, onToken func(token string, n int)) *task.Registry {
	reg := task.NewRegistry()
	reg.Register("steward:effect", task.HandlerFunc(func(ctx context.Context, c *task.Call) (any, error) {
		if slow > 0 {
			time.Sleep(slow)
		}
		if err := effects.record(c.IdempotencyKey); err != nil {
			return nil, err
		}
		return map[string]any{"n": numberIn(c.Input) + 1}, nil
	}))
	reg.Register("steward:flaky", task.HandlerFunc(func(ctx context.Context, c *task.Call) (any, error) {
		attempt, _ := strconv.Atoi(c.IdempotencyKey[strings.LastIndex(c.IdempotencyKey, "/")+1:])
		if attempt < 2 {
			return nil, &asl.Error{Name: "Flaky", Cause: "attempt " + strconv.Itoa(attempt)}
		}
		if err := effects.record(c.IdempotencyKey); err != nil {
			return nil, err
		}
		return map[string]any{"n": numberIn(c.Input) + 1}, nil
	}))
	reg.Register("steward:ask", task.HandlerFunc(func(ctx context.Context, c *task.Call) (any, error) {
		if onToken != nil {
			onToken(c.Token, numberIn(c.Input))
		}
		return nil, nil
	}))
	return reg
}

// TestCrashChild is the helper process; it does nothing unless the crash
// test started it.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashEnvDir)
	if dir == "" {
		t.Skip("helper process of TestCrashRecovery")
	}
	st, err := storesqlite.Open(filepath.Join(dir, crashDatabase), storesqlite.Options{})
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(2)
	}
	effects, err := openEffects(dir)
	if err != nil {
		fmt.Println("effects:", err)
		os.Exit(2)
	}
	var e *Engine
	// An approver answers even-numbered requests after a moment.
	onToken := func(token string, n int) {
		if n%2 == 0 {
			go func() {
				time.Sleep(20 * time.Millisecond)
				e.SendTaskSuccess(context.Background(), token, fmt.Sprintf(`{"n":%d}`, n+1))
			}()
		}
	}
	e = New(Config{Store: st, Tasks: crashTasks(effects, 2*time.Millisecond, onToken), Owner: crashOwner})
	ctx := context.Background()
	if err := e.Start(ctx); err != nil {
		fmt.Println("start:", err)
		os.Exit(2)
	}
	arns := map[string]string{}
	for name, def := range crashMachines {
		sm, err := e.CreateStateMachine(ctx, CreateStateMachineInput{Name: name, Definition: def})
		if err != nil {
			fmt.Println("create:", err)
			os.Exit(2)
		}
		arns[name] = sm.ARN
	}
	var wg sync.WaitGroup
	start := func(kind string, count, part int) {
		defer wg.Done()
		for i := part * count; i < (part+1)*count; i++ {
			if _, err := e.StartExecution(ctx, StartExecutionInput{StateMachineARN: arns[kind], Name: fmt.Sprintf("%s-%d", kind, i), Input: fmt.Sprintf(`{"n":%d}`, i)}); err != nil {
				fmt.Println("start execution:", err)
				os.Exit(2)
			}
		}
	}
	const starters = 20
	wg.Add(3 * starters)
	for i := 0; i < starters; i++ {
		go start("waits", crashWaits/starters, i)
		go start("retries", crashRetries/starters, i)
		go start("tokens", crashTokens/starters, i)
	}
	wg.Wait()
	fmt.Println("STARTED")
	select {} // run until killed
}

func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test skipped in -short mode")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashEnvDir+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	begin := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(out)
	started := false
	for lines.Scan() {
		if lines.Text() == "STARTED" {
			started = true
			break
		}
		t.Logf("child: %s", lines.Text())
	}
	if !started {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatal("the helper process did not start its executions")
	}
	// Let it work a moment, then kill it mid-flight.
	time.Sleep(400 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	t.Logf("helper killed %v after start", time.Since(begin).Round(time.Millisecond))

	st, err := storesqlite.Open(filepath.Join(dir, crashDatabase), storesqlite.Options{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatalf("reopen after the crash: %v", err)
	}
	defer st.Close()
	ctx := context.Background()
	all, _, err := st.ListExecutions(ctx, store.ListExecutionsParams{ListParams: store.ListParams{Limit: 10000}})
	if err != nil {
		t.Fatal(err)
	}
	running := 0
	for _, x := range all {
		if x.Status == StatusRunning {
			running++
		}
	}
	t.Logf("at the crash: %d executions, %d still running", len(all), running)
	if len(all) != crashWaits+crashRetries+crashTokens {
		t.Fatalf("%d executions in the store, want %d", len(all), crashWaits+crashRetries+crashTokens)
	}
	if running == 0 {
		t.Fatal("nothing was in flight at the crash: the test proves nothing")
	}

	effects, err := openEffects(dir)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, clk: clock.NewFake(time.Now().Add(time.Second)), st: st}
	h.e = New(Config{Store: st, Tasks: crashTasks(effects, 0, nil), Clock: h.clk, Owner: crashOwner, Logf: t.Logf})
	if err := h.e.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer h.e.Close()
	done := func() bool {
		list, _, err := st.ListExecutions(ctx, store.ListExecutionsParams{Status: StatusRunning, ListParams: store.ListParams{Limit: 10000}})
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range list {
			for _, tok := range h.tokens(x.ARN) {
				n, _ := strconv.Atoi(x.Name[strings.LastIndex(x.Name, "-")+1:])
				if err := h.e.SendTaskSuccess(ctx, tok, fmt.Sprintf(`{"n":%d}`, n+1)); err != nil && !errors.Is(err, ErrTaskTimedOut) {
					t.Fatalf("send task success: %v", err)
				}
			}
		}
		return len(list) == 0
	}
	deadline := time.Now().Add(90 * time.Second)
	for !done() {
		if time.Now().After(deadline) {
			list, _, _ := st.ListExecutions(ctx, store.ListExecutionsParams{Status: StatusRunning, ListParams: store.ListParams{Limit: 5}})
			for _, x := range list {
				timers, _ := st.ListTimers(ctx, x.ARN)
				t.Logf("%s: lease %q %v runnable %v timers %v runtime %s", x.Name, x.LeaseOwner, x.LeaseExpires, x.Runnable, timers, x.Runtime)
			}
			t.Fatalf("executions still running at %v", h.clk.Now())
		}
		h.settle(h.idle)
		if next, ok, _ := st.NextTimer(ctx, h.clk.Now()); ok && next.After(h.clk.Now()) {
			h.clk.Set(next)
		} else if !ok {
			h.clk.Advance(time.Second)
		}
		h.e.claimOnce()
	}

	// Every execution ended as it should, each transition once.
	keysPerExec := map[string]int{}
	data, err := os.ReadFile(filepath.Join(dir, crashEffects))
	if err != nil {
		t.Fatal(err)
	}
	deliveries := 0
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		deliveries++
		keysPerExec[line]++
	}
	distinct := map[string]int{} // execution -> distinct effect keys
	repeated := 0
	for key, n := range keysPerExec {
		arn := key[:strings.Index(key, "/")]
		distinct[arn]++
		repeated += n - 1
	}
	bad := 0
	for _, x := range all {
		x, err := st.GetExecution(ctx, x.ARN)
		if err != nil {
			t.Fatal(err)
		}
		kind := x.Name[:strings.LastIndex(x.Name, "-")]
		n, _ := strconv.Atoi(x.Name[len(kind)+1:])
		want := fmt.Sprintf(`{"n":%d}`, n+2)
		if kind == "retries" {
			want = fmt.Sprintf(`{"n":%d}`, n+1)
		}
		hist, err := st.GetHistory(ctx, store.GetHistoryParams{ExecutionARN: x.ARN})
		if err != nil {
			t.Fatal(err)
		}
		var typs []string
		for i, ev := range hist {
			typs = append(typs, ev.Type)
			if ev.ID != int64(i+1) {
				t.Errorf("%s: event %d has id %d", x.Name, i, ev.ID)
			}
		}
		wantEffects := map[string]int{"waits": 2, "retries": 1, "tokens": 1}[kind]
		switch {
		case x.Status != StatusSucceeded || x.Output != want:
			t.Errorf("%s: %s %s %s %s, want SUCCEEDED %s", x.Name, x.Status, x.Output, x.Error, x.Cause, want)
		case strings.Join(typs, " ") != crashHistories[kind]:
			t.Errorf("%s: history\n got %s\nwant %s", x.Name, strings.Join(typs, " "), crashHistories[kind])
		case distinct[x.ARN] != wantEffects:
			t.Errorf("%s: %d distinct side effects, want %d", x.Name, distinct[x.ARN], wantEffects)
		default:
			continue
		}
		if bad++; bad > 10 {
			t.Fatal("too many bad executions")
		}
	}
	t.Logf("crash test: %d/%d executions ended as they should; %d side-effect deliveries, %d of them repeats of an idempotency key (tasks in flight at the crash)",
		len(all)-bad, len(all), deliveries, repeated)
	t.Logf("crash test took %v", time.Since(begin).Round(time.Millisecond))
}
