package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/api"
	"github.com/stewardhq/steward/internal/engine"
	"github.com/stewardhq/steward/internal/store/storesqlite"
	"github.com/stewardhq/steward/internal/task"
)

// lockedBuffer is a bytes.Buffer safe for a writer and a reader in two
// goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// apiHarness is the real engine and API on a loopback httptest server, and
// a data directory holding the key the CLI signs with.
type apiHarness struct {
	t       *testing.T
	url     string
	dataDir string
	e       *engine.Engine
}

func newAPIHarness(t *testing.T) *apiHarness {
	t.Helper()
	t.Setenv(api.EnvAccessKeyID, "")
	t.Setenv(api.EnvSecretAccessKey, "")
	dir := t.TempDir()
	key, _, err := api.LoadOrCreateAccessKey(dir, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	st, err := storesqlite.Open(filepath.Join(t.TempDir(), "steward.db"), storesqlite.Options{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	tasks := task.NewRegistry()
	task.RegisterBasics(tasks)
	e := engine.New(engine.Config{Store: st, Tasks: tasks, Owner: "cli-test"})
	if err := e.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.New(api.Config{Engine: e, Keys: key.Keys()}))
	t.Cleanup(func() {
		srv.Close()
		e.Close()
		st.Close()
	})
	return &apiHarness{t: t, url: srv.URL, dataDir: dir, e: e}
}

// steward runs the CLI against the harness; it returns the exit code,
// stdout and stderr.
func (h *apiHarness) steward(args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	args = append(args, "--endpoint", h.url, "--data", h.dataDir)
	code := Main(context.Background(), args, strings.NewReader(""), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func (h *apiHarness) mustSteward(args ...string) string {
	h.t.Helper()
	code, out, errOut := h.steward(args...)
	if code != 0 {
		h.t.Fatalf("steward %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// historyToken waits for the n-th TaskScheduled event (from 1) and returns
// its token, read through `steward executions history --json`.
func (h *apiHarness) historyToken(arn string, n int) string {
	h.t.Helper()
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		var hist struct {
			Events []map[string]any `json:"events"`
		}
		if err := json.Unmarshal([]byte(h.mustSteward("executions", "history", arn, "--json")), &hist); err != nil {
			h.t.Fatal(err)
		}
		seen := 0
		for _, ev := range hist.Events {
			d, ok := ev["taskScheduledEventDetails"].(map[string]any)
			if !ok {
				continue
			}
			if seen++; seen < n {
				continue
			}
			var p struct{ Token string }
			json.Unmarshal([]byte(d["parameters"].(string)), &p)
			return p.Token
		}
	}
	h.t.Fatalf("no TaskScheduled event %d in %s", n, arn)
	return ""
}

func (h *apiHarness) waitStatus(arn, status string) map[string]any {
	h.t.Helper()
	var x map[string]any
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		x = nil
		if err := json.Unmarshal([]byte(h.mustSteward("executions", "show", arn, "--json")), &x); err != nil {
			h.t.Fatal(err)
		}
		if x["status"] == status {
			return x
		}
	}
	h.t.Fatalf("%s: status %v, want %s", arn, x["status"], status)
	return nil
}

func TestExecutionsAndTaskCommands(t *testing.T) {
	h := newAPIHarness(t)
	ctx := context.Background()
	def := `{"StartAt":"AskOwner","States":{"AskOwner":{"Type":"Task","Resource":"steward:echo.waitForTaskToken","Parameters":{"token.$":"$$.Task.Token"},"Next":"Done"},"Done":{"Type":"Pass","End":true}}}`
	sm, err := h.e.CreateStateMachine(ctx, engine.CreateStateMachineInput{Name: "ebs-unused", Definition: def})
	if err != nil {
		t.Fatal(err)
	}
	start := func(name string) string {
		x, err := h.e.StartExecution(ctx, engine.StartExecutionInput{StateMachineARN: sm.ARN, Name: name, Input: `{"volume":"vol-1"}`})
		if err != nil {
			t.Fatal(err)
		}
		return x.ARN
	}
	if out := h.mustSteward("executions", "ls"); !strings.Contains(out, "no executions") {
		t.Errorf("empty ls: %s", out)
	}
	a, b, c := start("approve-me"), start("deny-me"), start("stop-me")

	// ls: a table, and JSON with the API's field names; filters.
	out := h.mustSteward("executions", "ls")
	for _, want := range []string{"NAME", "STATUS", "approve-me", "deny-me", "stop-me", "RUNNING", "ebs-unused"} {
		if !strings.Contains(out, want) {
			t.Errorf("ls table lacks %q:\n%s", want, out)
		}
	}
	var list struct {
		Executions []map[string]any `json:"executions"`
	}
	if err := json.Unmarshal([]byte(h.mustSteward("executions", "ls", "--json", "--state-machine", "ebs-unused")), &list); err != nil || len(list.Executions) != 3 {
		t.Fatalf("ls --json: %v %+v", err, list)
	}
	if x := list.Executions[0]; x["executionArn"] == nil || x["status"] != "RUNNING" || x["stateMachineArn"] != sm.ARN {
		t.Errorf("ls --json item %v", x)
	}

	// task success / failure with tokens read from history.
	ta := h.historyToken(a, 1)
	if out := h.mustSteward("task", "success", ta, "--output", `{"approved": true}`); !strings.Contains(out, "sent task success") {
		t.Errorf("task success printed %q", out)
	}
	if x := h.waitStatus(a, "SUCCEEDED"); x["output"] != `{"approved":true}` {
		t.Errorf("output %v", x["output"])
	}
	code, _, errOut := h.steward("task", "success", ta)
	if code != 1 || !strings.Contains(errOut, "error: TaskTimedOut") {
		t.Errorf("reused token: exit %d %s", code, errOut)
	}
	code, _, errOut = h.steward("task", "failure", "not-a-token")
	if code != 1 || !strings.Contains(errOut, "error: InvalidToken") {
		t.Errorf("unknown token: exit %d %s", code, errOut)
	}
	code, _, errOut = h.steward("task", "success", ta, "--output", "{not json")
	if code != 1 || !strings.Contains(errOut, "hint: --output takes JSON") {
		t.Errorf("bad output: exit %d %s", code, errOut)
	}

	tb := h.historyToken(b, 1)
	h.mustSteward("task", "failure", tb, "--error", "Owner.Denied", "--cause", "exception granted")
	if x := h.waitStatus(b, "FAILED"); x["error"] != "Owner.Denied" || x["cause"] != "exception granted" {
		t.Errorf("failed execution %v", x)
	}
	// show: readable, with error and payloads.
	out = h.mustSteward("executions", "show", b)
	for _, want := range []string{"Status:", "FAILED", "Owner.Denied", "Input:", `"volume": "vol-1"`} {
		if !strings.Contains(out, want) {
			t.Errorf("show lacks %q:\n%s", want, out)
		}
	}
	// redrive: it asks again; then succeed.
	if out := h.mustSteward("executions", "redrive", b); !strings.Contains(out, "redriven") {
		t.Errorf("redrive printed %q", out)
	}
	h.mustSteward("task", "success", h.historyToken(b, 2))
	h.waitStatus(b, "SUCCEEDED")

	// stop.
	h.historyToken(c, 1)
	if out := h.mustSteward("executions", "stop", c, "--error", "Ops.Cancelled", "--cause", "by hand"); !strings.Contains(out, "stopped") {
		t.Errorf("stop printed %q", out)
	}
	if x := h.waitStatus(c, "ABORTED"); x["error"] != "Ops.Cancelled" {
		t.Errorf("stopped execution %v", x)
	}

	// history: a table.
	out = h.mustSteward("executions", "history", a)
	for _, want := range []string{"ID", "TYPE", "ExecutionStarted", "TaskScheduled", "AskOwner", "ExecutionSucceeded"} {
		if !strings.Contains(out, want) {
			t.Errorf("history table lacks %q:\n%s", want, out)
		}
	}
	if out := h.mustSteward("executions", "ls", "--status", "aborted"); !strings.Contains(out, "stop-me") || strings.Contains(out, "approve-me") {
		t.Errorf("ls --status aborted:\n%s", out)
	}

	// Errors: clear, with hints.
	code, _, errOut = h.steward("executions", "show", "not-an-arn")
	if code != 1 || !strings.Contains(errOut, "error: InvalidArn") || !strings.Contains(errOut, "hint:") {
		t.Errorf("bad ARN: exit %d %s", code, errOut)
	}
	code, _, errOut = h.steward("executions", "show", strings.Replace(a, "approve-me", "nope", 1))
	if code != 1 || !strings.Contains(errOut, "error: ExecutionDoesNotExist") {
		t.Errorf("unknown execution: exit %d %s", code, errOut)
	}
	code, _, errOut = h.steward("executions", "ls", "--state-machine", "no-such-machine")
	if code != 1 || !strings.Contains(errOut, "no state machine is named") {
		t.Errorf("unknown machine: exit %d %s", code, errOut)
	}
	code, _, errOut = h.steward("executions", "redrive", a)
	if code != 1 || !strings.Contains(errOut, "error: ExecutionNotRedrivable") {
		t.Errorf("redrive a success: exit %d %s", code, errOut)
	}
}

func TestClientErrors(t *testing.T) {
	h := newAPIHarness(t)
	var stdout, stderr bytes.Buffer
	// No key anywhere.
	code := Main(context.Background(), []string{"executions", "ls", "--endpoint", h.url, "--data", t.TempDir()}, nil, &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "no access key") || !strings.Contains(stderr.String(), "hint: set STEWARD_ACCESS_KEY_ID") {
		t.Errorf("no key: exit %d %s", code, stderr.String())
	}
	// The wrong key.
	other := t.TempDir()
	if _, _, err := api.LoadOrCreateAccessKey(other, func(string) string { return "" }); err != nil {
		t.Fatal(err)
	}
	stderr.Reset()
	code = Main(context.Background(), []string{"executions", "ls", "--endpoint", h.url, "--data", other}, nil, &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "UnrecognizedClientException") || !strings.Contains(stderr.String(), "hint:") {
		t.Errorf("wrong key: exit %d %s", code, stderr.String())
	}
	// Nothing listening.
	stderr.Reset()
	code = Main(context.Background(), []string{"task", "heartbeat", "tok", "--endpoint", "http://127.0.0.1:1", "--data", h.dataDir}, nil, &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "hint: is steward serve running at http://127.0.0.1:1?") {
		t.Errorf("no server: exit %d %s", code, stderr.String())
	}
}
