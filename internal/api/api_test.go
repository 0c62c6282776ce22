package api_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/smithy-go"

	"github.com/stewardhq/steward/internal/api"
	"github.com/stewardhq/steward/internal/clock"
	"github.com/stewardhq/steward/internal/engine"
	"github.com/stewardhq/steward/internal/store/storesqlite"
	"github.com/stewardhq/steward/internal/task"
)

var testKey = api.AccessKey{AccessKeyID: "STWTESTKEY0000000001", SecretAccessKey: "test-secret-key-0123456789abcdefghijklmn"}

// server is the real engine on a temporary SQLite store and a fake clock,
// behind the API on a loopback httptest server.
type server struct {
	t   testing.TB
	clk *clock.Fake
	st  *storesqlite.DB
	e   *engine.Engine
	srv *httptest.Server
	sfn *sfn.Client
}

func newServer(t testing.TB, sync string) *server {
	t.Helper()
	st, err := storesqlite.Open(filepath.Join(t.TempDir(), "steward.db"), storesqlite.Options{Synchronous: sync})
	if err != nil {
		t.Fatal(err)
	}
	tasks := task.NewRegistry()
	task.RegisterBasics(tasks)
	clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	e := engine.New(engine.Config{Store: st, Tasks: tasks, Clock: clk, Owner: "api-test", Random: func() float64 { return 0.5 }})
	if err := e.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	h := api.New(api.Config{Engine: e, Keys: testKey.Keys(), ExecutionClock: clk.Now, Logf: t.Logf})
	srv := httptest.NewServer(h)
	s := &server{t: t, clk: clk, st: st, e: e, srv: srv}
	s.sfn = s.client(testKey)
	t.Cleanup(func() {
		srv.Close()
		e.Close()
		st.Close()
	})
	return s
}

func (s *server) client(k api.AccessKey) *sfn.Client {
	return api.NewClient(s.srv.URL, k, func(o *sfn.Options) { o.RetryMaxAttempts = 1 })
}

// eventually waits for the engine's goroutines (the clock does not move).
func (s *server) eventually(what string, cond func() bool) {
	s.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
	s.t.Fatalf("timed out waiting for %s", what)
}

const waitDefinition = `{
  "StartAt": "AskOwner",
  "States": {
    "AskOwner": {
      "Type": "Task",
      "Resource": "steward:echo.waitForTaskToken",
      "Parameters": {"token.$": "$$.Task.Token", "resource.$": "$.resource"},
      "HeartbeatSeconds": 30,
      "Next": "Done"
    },
    "Done": {"Type": "Pass", "End": true}
  }
}`

var ctx = context.Background()

const role = "arn:aws:iam::000000000000:role/steward"

func (s *server) createMachine(name, def string) string {
	s.t.Helper()
	out, err := s.sfn.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String(name), Definition: aws.String(def),
		RoleArn: aws.String(role)})
	if err != nil {
		s.t.Fatalf("create state machine: %v", err)
	}
	return *out.StateMachineArn
}

func (s *server) start(sm, name, input string) string {
	s.t.Helper()
	out, err := s.sfn.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(sm), Name: aws.String(name), Input: aws.String(input)})
	if err != nil {
		s.t.Fatalf("start execution: %v", err)
	}
	return *out.ExecutionArn
}

// token reads the task token from the execution's history: the
// TaskScheduled event's parameters (the definition passes $$.Task.Token).
// It waits for the n-th TaskScheduled (from 1).
func (s *server) token(exec string, n int) string {
	s.t.Helper()
	var tok string
	s.eventually("TaskScheduled", func() bool {
		out, err := s.sfn.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(exec)})
		if err != nil {
			s.t.Fatalf("history: %v", err)
		}
		seen := 0
		for _, ev := range out.Events {
			if ev.Type == types.HistoryEventTypeTaskScheduled && ev.TaskScheduledEventDetails != nil {
				seen++
				if seen < n {
					continue
				}
				var p struct{ Token string }
				if err := json.Unmarshal([]byte(aws.ToString(ev.TaskScheduledEventDetails.Parameters)), &p); err != nil {
					s.t.Fatalf("parameters: %v", err)
				}
				tok = p.Token
				return tok != ""
			}
		}
		return false
	})
	return tok
}

func (s *server) waitStatus(exec string, want types.ExecutionStatus) *sfn.DescribeExecutionOutput {
	s.t.Helper()
	var last *sfn.DescribeExecutionOutput
	s.eventually("status "+string(want), func() bool {
		out, err := s.sfn.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(exec)})
		if err != nil {
			s.t.Fatalf("describe: %v", err)
		}
		last = out
		return out.Status == want
	})
	return last
}

func (s *server) status(exec string) types.ExecutionStatus {
	s.t.Helper()
	out, err := s.sfn.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(exec)})
	if err != nil {
		s.t.Fatalf("describe: %v", err)
	}
	return out.Status
}

// errCode returns the API error code of err ("" for nil) and its HTTP
// status.
func errCode(err error) (string, int) {
	if err == nil {
		return "", 200
	}
	status := 0
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode(), status
	}
	return "not an API error: " + err.Error(), status
}

func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	got, status := errCode(err)
	if got != code {
		t.Fatalf("%s: got error %q (%v), want %s", what, got, err, code)
	}
	if code != "" && status != 400 {
		t.Fatalf("%s: HTTP status %d, want 400", what, status)
	}
}

func TestSDKTaskTokenSuccess(t *testing.T) {
	s := newServer(t, "NORMAL")
	sm := s.createMachine("ask-owner", waitDefinition)
	exec := s.start(sm, "run-1", `{"resource": "i-0123"}`)
	if st := s.status(exec); st != types.ExecutionStatusRunning {
		t.Fatalf("status %s", st)
	}
	tok := s.token(exec, 1)
	if _, err := s.sfn.SendTaskHeartbeat(ctx, &sfn.SendTaskHeartbeatInput{TaskToken: aws.String(tok)}); err != nil {
		t.Fatalf("heartbeat: %v", err)
	}
	if _, err := s.sfn.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(tok), Output: aws.String(`{"approved": true}`)}); err != nil {
		t.Fatalf("send task success: %v", err)
	}
	out := s.waitStatus(exec, types.ExecutionStatusSucceeded)
	if got := aws.ToString(out.Output); got != `{"approved":true}` {
		t.Errorf("output %s", got)
	}
	if out.StopDate == nil || out.StartDate == nil || out.StopDate.Before(*out.StartDate) || out.StartDate.Year() != 2026 {
		t.Errorf("dates start %v stop %v", out.StartDate, out.StopDate)
	}
	// The token is used: Step Functions answers TaskTimedOut.
	_, err := s.sfn.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(tok), Output: aws.String(`{}`)})
	wantCode(t, "reused token", err, "TaskTimedOut")
	var tt *types.TaskTimedOut
	if !errors.As(err, &tt) {
		t.Errorf("SDK did not decode *types.TaskTimedOut: %T", err)
	}
	h, err := s.sfn.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(exec)})
	if err != nil {
		t.Fatal(err)
	}
	var typesSeen []string
	for _, ev := range h.Events {
		typesSeen = append(typesSeen, string(ev.Type))
	}
	want := "ExecutionStarted TaskStateEntered TaskScheduled TaskStarted TaskSucceeded TaskStateExited PassStateEntered PassStateExited ExecutionSucceeded"
	if got := strings.Join(typesSeen, " "); got != want {
		t.Errorf("history\n got %s\nwant %s", got, want)
	}
	if ev := h.Events[len(h.Events)-1]; ev.ExecutionSucceededEventDetails == nil || aws.ToString(ev.ExecutionSucceededEventDetails.Output) != `{"approved":true}` {
		t.Errorf("last event %+v", ev)
	}
	// Paging and reverse order.
	p1, err := s.sfn.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(exec), MaxResults: 4, ReverseOrder: true})
	if err != nil || len(p1.Events) != 4 || p1.NextToken == nil || p1.Events[0].Type != types.HistoryEventTypeExecutionSucceeded {
		t.Fatalf("page 1: %v %+v", err, p1)
	}
	p2, err := s.sfn.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(exec), MaxResults: 4, ReverseOrder: true, NextToken: p1.NextToken})
	if err != nil || len(p2.Events) != 4 || p2.Events[0].Id != p1.Events[3].Id-1 {
		t.Fatalf("page 2: %v %+v", err, p2)
	}
	// ListExecutions and the list of state machines.
	le, err := s.sfn.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: aws.String(sm), StatusFilter: types.ExecutionStatusSucceeded})
	if err != nil || len(le.Executions) != 1 || aws.ToString(le.Executions[0].ExecutionArn) != exec {
		t.Fatalf("list executions: %v %+v", err, le)
	}
	ls, err := s.sfn.ListStateMachines(ctx, &sfn.ListStateMachinesInput{})
	if err != nil || len(ls.StateMachines) != 1 || aws.ToString(ls.StateMachines[0].Name) != "ask-owner" {
		t.Fatalf("list state machines: %v %+v", err, ls)
	}
	d, err := s.sfn.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(sm)})
	if err != nil || aws.ToString(d.Definition) != waitDefinition || d.Status != types.StateMachineStatusActive || d.Type != types.StateMachineTypeStandard {
		t.Fatalf("describe state machine: %v %+v", err, d)
	}
}

func TestSDKTaskTokenFailureAndRedrive(t *testing.T) {
	s := newServer(t, "NORMAL")
	sm := s.createMachine("ask-owner", waitDefinition)
	exec := s.start(sm, "run-1", `{"resource": "i-0123"}`)
	tok := s.token(exec, 1)
	if _, err := s.sfn.SendTaskFailure(ctx, &sfn.SendTaskFailureInput{TaskToken: aws.String(tok), Error: aws.String("Owner.Denied"), Cause: aws.String("not now")}); err != nil {
		t.Fatalf("send task failure: %v", err)
	}
	out := s.waitStatus(exec, types.ExecutionStatusFailed)
	if aws.ToString(out.Error) != "Owner.Denied" || aws.ToString(out.Cause) != "not now" {
		t.Errorf("error %q cause %q", aws.ToString(out.Error), aws.ToString(out.Cause))
	}
	if out.RedriveStatus != types.ExecutionRedriveStatusRedrivable {
		t.Errorf("redrive status %s", out.RedriveStatus)
	}
	_, err := s.sfn.SendTaskFailure(ctx, &sfn.SendTaskFailureInput{TaskToken: aws.String(tok), Error: aws.String("X")})
	wantCode(t, "failure with a used token", err, "TaskTimedOut")

	// Redrive from the failed state: it asks again, with a new token.
	if _, err := s.sfn.RedriveExecution(ctx, &sfn.RedriveExecutionInput{ExecutionArn: aws.String(exec)}); err != nil {
		t.Fatalf("redrive: %v", err)
	}
	tok2 := s.token(exec, 2)
	if tok2 == tok {
		t.Fatalf("redrive reused the token")
	}
	if _, err := s.sfn.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(tok2), Output: aws.String(`"ok"`)}); err != nil {
		t.Fatalf("send task success: %v", err)
	}
	out = s.waitStatus(exec, types.ExecutionStatusSucceeded)
	if out.RedriveCount == nil || *out.RedriveCount != 1 || out.RedriveDate == nil {
		t.Errorf("redrive count %v date %v", out.RedriveCount, out.RedriveDate)
	}
	_, err = s.sfn.RedriveExecution(ctx, &sfn.RedriveExecutionInput{ExecutionArn: aws.String(exec)})
	wantCode(t, "redrive a succeeded execution", err, "ExecutionNotRedrivable")
}

func TestSDKHeartbeatTimeout(t *testing.T) {
	s := newServer(t, "NORMAL")
	sm := s.createMachine("ask-owner", waitDefinition)
	exec := s.start(sm, "run-1", `{"resource": "i-0123"}`)
	tok := s.token(exec, 1)
	// 20s, heartbeat, 20s: the heartbeat kept it alive (30s each).
	s.clk.Advance(20 * time.Second)
	if _, err := s.sfn.SendTaskHeartbeat(ctx, &sfn.SendTaskHeartbeatInput{TaskToken: aws.String(tok)}); err != nil {
		t.Fatalf("heartbeat: %v", err)
	}
	s.clk.Advance(20 * time.Second)
	time.Sleep(20 * time.Millisecond) // give a wrongly fired timer a chance to show
	if st := s.status(exec); st != types.ExecutionStatusRunning {
		t.Fatalf("after a heartbeat: status %s", st)
	}
	s.clk.Advance(11 * time.Second)
	out := s.waitStatus(exec, types.ExecutionStatusFailed)
	if aws.ToString(out.Error) != "States.HeartbeatTimeout" {
		t.Errorf("error %q cause %q", aws.ToString(out.Error), aws.ToString(out.Cause))
	}
	_, err := s.sfn.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(tok), Output: aws.String(`{}`)})
	wantCode(t, "success after the heartbeat timeout", err, "TaskTimedOut")
	_, err = s.sfn.SendTaskHeartbeat(ctx, &sfn.SendTaskHeartbeatInput{TaskToken: aws.String(tok)})
	wantCode(t, "heartbeat after the heartbeat timeout", err, "TaskTimedOut")
}

func TestSDKStopExecution(t *testing.T) {
	s := newServer(t, "NORMAL")
	sm := s.createMachine("ask-owner", waitDefinition)
	exec := s.start(sm, "run-1", `{"resource": "i-0123"}`)
	tok := s.token(exec, 1)
	stop, err := s.sfn.StopExecution(ctx, &sfn.StopExecutionInput{ExecutionArn: aws.String(exec), Error: aws.String("Ops.Cancelled"), Cause: aws.String("by hand")})
	if err != nil || stop.StopDate == nil {
		t.Fatalf("stop: %v", err)
	}
	out := s.waitStatus(exec, types.ExecutionStatusAborted)
	if aws.ToString(out.Error) != "Ops.Cancelled" || aws.ToString(out.Cause) != "by hand" {
		t.Errorf("error %q cause %q", aws.ToString(out.Error), aws.ToString(out.Cause))
	}
	_, err = s.sfn.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(tok), Output: aws.String(`{}`)})
	wantCode(t, "success after stop", err, "TaskTimedOut")
	// Stopping again is harmless; stopping what does not exist is not.
	if _, err := s.sfn.StopExecution(ctx, &sfn.StopExecutionInput{ExecutionArn: aws.String(exec)}); err != nil {
		t.Errorf("second stop: %v", err)
	}
	_, err = s.sfn.StopExecution(ctx, &sfn.StopExecutionInput{ExecutionArn: aws.String(exec + "-nope")})
	wantCode(t, "stop an unknown execution", err, "ExecutionDoesNotExist")
}

func TestSDKAuthentication(t *testing.T) {
	s := newServer(t, "NORMAL")
	def := `{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`
	cases := []struct {
		name string
		key  api.AccessKey
		code string
	}{
		{"wrong secret", api.AccessKey{AccessKeyID: testKey.AccessKeyID, SecretAccessKey: "wrong-secret-wrong-secret-wrong-secret00"}, "InvalidSignatureException"},
		{"unknown key", api.AccessKey{AccessKeyID: "STWUNKNOWN0000000000", SecretAccessKey: testKey.SecretAccessKey}, "UnrecognizedClientException"},
	}
	for _, c := range cases {
		_, err := s.client(c.key).CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("m-" + strings.ReplaceAll(c.name, " ", "-")), Definition: aws.String(def), RoleArn: aws.String(role)})
		code, status := errCode(err)
		if code != c.code || status != 403 {
			t.Errorf("%s: got %q (HTTP %d), want %s (HTTP 403)", c.name, code, status, c.code)
		}
	}
	// Unsigned requests.
	for _, target := range []string{"CreateStateMachine", "ListStateMachines", "NoSuchAction"} {
		req, _ := http.NewRequest("POST", s.srv.URL+"/", strings.NewReader(`{"name":"unsigned","definition":"`+strings.ReplaceAll(def, `"`, `\"`)+`"}`))
		req.Header.Set("X-Amz-Target", api.TargetPrefix+target)
		req.Header.Set("Content-Type", api.ContentType)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var e struct {
			Type string `json:"__type"`
		}
		json.Unmarshal(body, &e)
		if resp.StatusCode != 403 || e.Type != "MissingAuthenticationTokenException" || resp.Header.Get("X-Amzn-ErrorType") != e.Type {
			t.Errorf("unsigned %s: HTTP %d %s", target, resp.StatusCode, body)
		}
	}
	// A body changed after signing.
	resp := s.signedPost(t, "CreateStateMachine", `{"name":"tampered","definition":"{}"}`, func(r *http.Request) {
		r.Body = io.NopCloser(strings.NewReader(`{"name":"tampere2","definition":"{}"}`))
	})
	if e := errorBody(t, resp); resp.StatusCode != 403 || e != "InvalidSignatureException" {
		t.Errorf("tampered body: HTTP %d %s", resp.StatusCode, e)
	}
	// Nothing was created.
	ls, err := s.sfn.ListStateMachines(ctx, &sfn.ListStateMachinesInput{})
	if err != nil || len(ls.StateMachines) != 0 {
		t.Fatalf("after refused requests: %v %+v", err, ls)
	}
	// And a refused StartExecution starts nothing.
	sm := s.createMachine("m", def)
	_, err = s.client(cases[0].key).StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(sm)})
	if code, _ := errCode(err); code != "InvalidSignatureException" {
		t.Fatalf("start with a wrong signature: %v", err)
	}
	le, err := s.sfn.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: aws.String(sm)})
	if err != nil || len(le.Executions) != 0 {
		t.Fatalf("executions after a refused start: %v %+v", err, le)
	}
}

// signedPost sends a body signed with the test key, changed by tamper
// after signing.
func (s *server) signedPost(t *testing.T, action, body string, tamper func(*http.Request)) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("POST", s.srv.URL+"/", strings.NewReader(body))
	req.Header.Set("X-Amz-Target", api.TargetPrefix+action)
	req.Header.Set("Content-Type", api.ContentType)
	h := sha256.Sum256([]byte(body))
	if err := v4.NewSigner().SignHTTP(ctx, aws.Credentials{AccessKeyID: testKey.AccessKeyID, SecretAccessKey: testKey.SecretAccessKey}, req,
		hex.EncodeToString(h[:]), "states", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	if tamper != nil {
		tamper(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func TestSDKBadInput(t *testing.T) {
	s := newServer(t, "NORMAL")
	sm := s.createMachine("ask-owner", waitDefinition)

	// Invalid definitions: InvalidDefinition naming the problems, and
	// Validate lists them as diagnostics.
	bad := `{"StartAt":"Nowhere","States":{"A":{"Type":"Pass","Next":"Missing"}}}`
	_, err := s.sfn.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("bad"), Definition: aws.String(bad), RoleArn: aws.String(role)})
	wantCode(t, "invalid definition", err, "InvalidDefinition")
	var idef *types.InvalidDefinition
	if !errors.As(err, &idef) || !strings.Contains(idef.ErrorMessage(), "Missing") || !strings.Contains(idef.ErrorMessage(), "Nowhere") {
		t.Errorf("InvalidDefinition message does not name the problems: %v", err)
	}
	v, err := s.sfn.ValidateStateMachineDefinition(ctx, &sfn.ValidateStateMachineDefinitionInput{Definition: aws.String(bad)})
	if err != nil || v.Result != types.ValidateStateMachineDefinitionResultCodeFail || len(v.Diagnostics) < 2 {
		t.Fatalf("validate: %v %+v", err, v)
	}
	for _, d := range v.Diagnostics {
		if d.Severity != types.ValidateStateMachineDefinitionSeverityError || aws.ToString(d.Code) == "" || aws.ToString(d.Message) == "" {
			t.Errorf("diagnostic %+v", d)
		}
	}
	if aws.ToString(v.Diagnostics[0].Location) == "" && aws.ToString(v.Diagnostics[1].Location) == "" {
		t.Errorf("no diagnostic has a location: %+v", v.Diagnostics)
	}
	v, err = s.sfn.ValidateStateMachineDefinition(ctx, &sfn.ValidateStateMachineDefinitionInput{Definition: aws.String(waitDefinition)})
	if err != nil || v.Result != types.ValidateStateMachineDefinitionResultCodeOk || len(v.Diagnostics) != 0 {
		t.Fatalf("validate a good definition: %v %+v", err, v)
	}
	v, err = s.sfn.ValidateStateMachineDefinition(ctx, &sfn.ValidateStateMachineDefinitionInput{Definition: aws.String(`{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"steward:no-such-task","End":true}}}`)})
	if err != nil || v.Result != types.ValidateStateMachineDefinitionResultCodeFail || len(v.Diagnostics) != 1 {
		t.Fatalf("validate an unknown resource: %v %+v", err, v)
	}
	_, err = s.sfn.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("not json"), Definition: aws.String(`{"StartAt":`), RoleArn: aws.String(role)})
	wantCode(t, "bad name", err, "InvalidName")
	_, err = s.sfn.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("ask-owner"), Definition: aws.String(`{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`), RoleArn: aws.String(role)})
	wantCode(t, "name taken", err, "StateMachineAlreadyExists")

	// Execution input.
	_, err = s.sfn.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(sm), Input: aws.String(`{"resource": `)})
	wantCode(t, "invalid JSON input", err, "InvalidExecutionInput")
	var iei *types.InvalidExecutionInput
	if !errors.As(err, &iei) {
		t.Errorf("SDK did not decode *types.InvalidExecutionInput: %T", err)
	}
	big := `{"resource": "` + strings.Repeat("x", 300*1024) + `"}`
	_, err = s.sfn.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(sm), Input: aws.String(big)})
	wantCode(t, "input over 256 KiB", err, "ValidationException")
	huge := `{"resource": "` + strings.Repeat("x", 2<<20) + `"}`
	_, err = s.sfn.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(sm), Input: aws.String(huge)})
	if code, status := errCode(err); code != "ValidationException" || status != http.StatusRequestEntityTooLarge {
		t.Errorf("request over 1 MiB: %q HTTP %d", code, status)
	}
	s.start(sm, "same-name", `{"resource": "a"}`)
	if again := s.start(sm, "same-name", `{"resource": "a"}`); !strings.HasSuffix(again, ":same-name") {
		t.Errorf("same name and input: %s", again)
	}
	_, err = s.sfn.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(sm), Name: aws.String("same-name"), Input: aws.String(`{"resource": "b"}`)})
	wantCode(t, "same name, other input", err, "ExecutionAlreadyExists")
	_, err = s.sfn.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(sm + "-nope")})
	wantCode(t, "unknown state machine", err, "StateMachineDoesNotExist")
	_, err = s.sfn.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String("not-an-arn")})
	wantCode(t, "malformed ARN", err, "InvalidArn")
	_, err = s.sfn.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(sm)})
	wantCode(t, "state machine ARN for an execution", err, "InvalidArn")
	_, err = s.sfn.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(strings.Replace(sm, ":stateMachine:", ":execution:", 1) + ":nope")})
	wantCode(t, "unknown execution", err, "ExecutionDoesNotExist")
	_, err = s.sfn.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(strings.Replace(sm, ":stateMachine:", ":execution:", 1) + ":nope")})
	wantCode(t, "history of an unknown execution", err, "ExecutionDoesNotExist")

	// Task tokens.
	_, err = s.sfn.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String("no-such-token"), Output: aws.String(`{}`)})
	wantCode(t, "unknown token", err, "InvalidToken")
	var itok *types.InvalidToken
	if !errors.As(err, &itok) {
		t.Errorf("SDK did not decode *types.InvalidToken: %T", err)
	}
	exec := s.start(sm, "tokens", `{"resource": "a"}`)
	tok := s.token(exec, 1)
	_, err = s.sfn.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(tok), Output: aws.String(`{not json`)})
	wantCode(t, "invalid output", err, "InvalidOutput")
	_, err = s.sfn.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(tok), Output: aws.String(`"` + strings.Repeat("y", 300*1024) + `"`)})
	wantCode(t, "output over 256 KiB", err, "ValidationException")
	forged := tok[:strings.Index(tok, ".")+1] + "00000000-0000-4000-8000-000000000000"
	_, err = s.sfn.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(forged), Output: aws.String(`{}`)})
	if code, _ := errCode(err); code != "TaskTimedOut" && code != "InvalidToken" {
		t.Errorf("forged token: %v", err)
	}
	if st := s.status(exec); st != types.ExecutionStatusRunning {
		t.Errorf("bad sends changed the execution: %s", st)
	}
	_, err = s.sfn.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(tok), Output: aws.String(`{}`)})
	wantCode(t, "good send", err, "")
	_, err = s.sfn.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(tok), Output: aws.String(`{}`)})
	wantCode(t, "reused token", err, "TaskTimedOut")

	// Protocol errors.
	resp := s.signedPost(t, "NoSuchAction", `{}`, nil)
	if e := errorBody(t, resp); resp.StatusCode != 400 || e != "UnknownOperationException" {
		t.Errorf("unknown operation: HTTP %d %s", resp.StatusCode, e)
	}
	resp = s.signedPost(t, "StartExecution", `{"stateMachineArn": 7}`, nil)
	if e := errorBody(t, resp); resp.StatusCode != 400 || e != "SerializationException" {
		t.Errorf("wrong field type: HTTP %d %s", resp.StatusCode, e)
	}
	resp = s.signedPost(t, "StartExecution", `{"stateMachineArn": `, nil)
	if e := errorBody(t, resp); resp.StatusCode != 400 || e != "SerializationException" {
		t.Errorf("truncated body: HTTP %d %s", resp.StatusCode, e)
	}
	_, err = s.sfn.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: aws.String(sm), MaxResults: 5000})
	wantCode(t, "maxResults over 1000", err, "ValidationException")
	_, err = s.sfn.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: aws.String(sm), NextToken: aws.String("not-a-token")})
	wantCode(t, "bad nextToken (executions)", err, "InvalidToken")
	_, err = s.sfn.ListStateMachines(ctx, &sfn.ListStateMachinesInput{NextToken: aws.String("not-a-token")})
	wantCode(t, "bad nextToken (state machines)", err, "InvalidToken")
	_, err = s.sfn.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(exec), NextToken: aws.String("not-a-token")})
	wantCode(t, "bad nextToken (history)", err, "InvalidToken")
}

func errorBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	body, _ := io.ReadAll(resp.Body)
	var e struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Message == "" {
		t.Errorf("error body %q", body)
	}
	return e.Type
}

func TestSDKStateMachineLifecycle(t *testing.T) {
	s := newServer(t, "NORMAL")
	def := `{"StartAt":"P","States":{"P":{"Type":"Pass","Result":{"v":1},"End":true}}}`
	sm := s.createMachine("m", def)
	// Creating the same machine again is idempotent.
	if again := s.createMachine("m", def); again != sm {
		t.Errorf("idempotent create: %s", again)
	}
	def2 := `{"StartAt":"P","States":{"P":{"Type":"Pass","Result":{"v":2},"End":true}}}`
	up, err := s.sfn.UpdateStateMachine(ctx, &sfn.UpdateStateMachineInput{StateMachineArn: aws.String(sm), Definition: aws.String(def2)})
	if err != nil || up.UpdateDate == nil {
		t.Fatalf("update: %v", err)
	}
	exec := s.start(sm, "x", `{}`)
	if out := s.waitStatus(exec, types.ExecutionStatusSucceeded); aws.ToString(out.Output) != `{"v":2}` {
		t.Errorf("output %s", aws.ToString(out.Output))
	}
	_, err = s.sfn.UpdateStateMachine(ctx, &sfn.UpdateStateMachineInput{StateMachineArn: aws.String(sm), Definition: aws.String(`{}`)})
	wantCode(t, "update with a bad definition", err, "InvalidDefinition")
	if _, err := s.sfn.DeleteStateMachine(ctx, &sfn.DeleteStateMachineInput{StateMachineArn: aws.String(sm)}); err != nil {
		t.Fatalf("delete: %v", err)
	}
	_, err = s.sfn.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(sm)})
	wantCode(t, "describe a deleted machine", err, "StateMachineDoesNotExist")
	// Its executions stay.
	if _, err := s.sfn.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(exec)}); err != nil {
		t.Errorf("execution of a deleted machine: %v", err)
	}
	h, err := s.sfn.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(exec), IncludeExecutionData: aws.Bool(false)})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range h.Events {
		if d := ev.ExecutionSucceededEventDetails; d != nil && d.Output != nil {
			t.Errorf("includeExecutionData=false still returned output %s", *d.Output)
		}
	}
}

func TestRequestBodyLimitBeforeAuth(t *testing.T) {
	s := newServer(t, "NORMAL")
	req, _ := http.NewRequest("POST", s.srv.URL+"/", bytes.NewReader(make([]byte, 2<<20)))
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=x/20260101/us-east-1/states/aws4_request, SignedHeaders=host, Signature=00")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("HTTP %d", resp.StatusCode)
	}
}
