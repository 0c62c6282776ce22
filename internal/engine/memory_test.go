package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/asl"
	"github.com/stewardhq/steward/internal/task"
	"github.com/stewardhq/steward/internal/testdata"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func mustParse(t testing.TB, def string) *asl.Machine {
	t.Helper()
	m, err := asl.Parse([]byte(def))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return m
}

func mustJSON(t testing.TB, s string) any {
	t.Helper()
	v, err := asl.DecodeJSON([]byte(s))
	if err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return v
}

func basics() *task.Registry {
	r := task.NewRegistry()
	task.RegisterBasics(r)
	return r
}

func run(t *testing.T, def, input string, tasks *task.Registry) *Result {
	t.Helper()
	if tasks == nil {
		tasks = basics()
	}
	res, err := Run(context.Background(), RunParams{Machine: mustParse(t, def), Input: mustJSON(t, input), Tasks: tasks, Start: t0, History: true, Random: func() float64 { return 0.5 }})
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	return res
}

func TestRunOutcomes(t *testing.T) {
	tests := []struct {
		name, def, input     string
		status, output, err  string
		cause                string
		transitions, elapsed int
	}{
		{
			name:   "task with parameters, result selector and result path",
			def:    `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"steward:echo","Parameters":{"id.$":"$.detail.id","fixed":1},"ResultSelector":{"got.$":"$.id"},"ResultPath":"$.out","OutputPath":"$.out","End":true}}}`,
			input:  `{"detail":{"id":"vol-1"}}`,
			status: StatusSucceeded, output: `{"got":"vol-1"}`,
		},
		{
			name:   "retry then catch with result path",
			def:    `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"steward:fail","Parameters":{"Error":"Throttled","Cause":"slow down"},"Retry":[{"ErrorEquals":["Throttled"],"IntervalSeconds":2,"MaxAttempts":3,"BackoffRate":3}],"Catch":[{"ErrorEquals":["States.ALL"],"ResultPath":"$.error","Next":"Done"}],"End":true},"Done":{"Type":"Pass","End":true}}}`,
			input:  `{"a":1}`,
			status: StatusSucceeded, output: `{"a":1,"error":{"Error":"Throttled","Cause":"slow down"}}`,
			// 2 + 6 + 18 seconds of backoff on the execution clock.
			elapsed: 26,
		},
		{
			name:   "retry max delay and jitter",
			def:    `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"steward:fail","Parameters":{"Error":"E"},"Retry":[{"ErrorEquals":["E"],"IntervalSeconds":10,"MaxAttempts":2,"BackoffRate":10,"MaxDelaySeconds":50,"JitterStrategy":"FULL"}],"End":true}}}`,
			input:  `{}`,
			status: StatusFailed, err: "E",
			// (10 + min(100, 50)) * 0.5 jitter
			elapsed: 30,
		},
		{
			name:   "uncaught task failure",
			def:    `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"steward:fail","Parameters":{"Error":"Denied","Cause":"no"},"Catch":[{"ErrorEquals":["Other"],"Next":"X"}],"End":true},"X":{"Type":"Succeed"}}}`,
			input:  `{}`,
			status: StatusFailed, err: "Denied", cause: "no",
		},
		{
			name:   "States.TaskFailed does not catch States.Timeout but States.ALL does",
			def:    `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"steward:fail","Parameters":{"Error":"States.Timeout"},"Catch":[{"ErrorEquals":["States.TaskFailed"],"Next":"A"},{"ErrorEquals":["States.ALL"],"Next":"B"}],"End":true},"A":{"Type":"Pass","Result":"a","End":true},"B":{"Type":"Pass","Result":"b","End":true}}}`,
			input:  `{}`,
			status: StatusSucceeded, output: `"b"`,
		},
		{
			name:   "path not found in parameters is a runtime error no catch can take",
			def:    `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"steward:echo","Parameters":{"x.$":"$.missing"},"Catch":[{"ErrorEquals":["States.ALL"],"Next":"X"}],"End":true},"X":{"Type":"Succeed"}}}`,
			input:  `{"a":1}`,
			status: StatusFailed, err: "States.Runtime", cause: "An error occurred while executing the state 'T' (entered at the event id #2). The JsonPath argument for the field 'x.$' could not be found in the input '{\"a\":1}'",
		},
		{
			name:   "wait seconds path on the simulated clock",
			def:    `{"StartAt":"W","States":{"W":{"Type":"Wait","SecondsPath":"$.s","Next":"P"},"P":{"Type":"Pass","Parameters":{"now.$":"$$.State.EnteredTime"},"End":true}}}`,
			input:  `{"s":172800}`,
			status: StatusSucceeded, output: `{"now":"2025-03-03T12:00:00.000Z"}`,
			elapsed: 172800,
		},
		{
			name:   "wait until a timestamp",
			def:    `{"StartAt":"W","States":{"W":{"Type":"Wait","TimestampPath":"$.until","End":true}}}`,
			input:  `{"until":"2025-03-01T13:00:00Z"}`,
			status: StatusSucceeded, output: `{"until":"2025-03-01T13:00:00Z"}`,
			elapsed: 3600,
		},
		{
			name:   "choice with and/not and default",
			def:    `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"And":[{"Variable":"$.days","NumericGreaterThanEquals":45},{"Not":{"Variable":"$.tags.exception","IsPresent":true}}],"Next":"Fix"}],"Default":"Skip"},"Fix":{"Type":"Pass","Result":"fix","End":true},"Skip":{"Type":"Pass","Result":"skip","End":true}}}`,
			input:  `{"days":46,"tags":{}}`,
			status: StatusSucceeded, output: `"fix"`,
		},
		{
			name:   "no choice matched",
			def:    `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.x","StringEquals":"a","Next":"D"}]},"D":{"Type":"Succeed"}}}`,
			input:  `{"x":"b"}`,
			status: StatusFailed, err: "States.NoChoiceMatched",
		},
		{
			name:   "map with item selector, context and max concurrency",
			def:    `{"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.vols","MaxConcurrency":2,"ItemSelector":{"v.$":"$$.Map.Item.Value","i.$":"$$.Map.Item.Index","region.$":"$.region"},"ItemProcessor":{"StartAt":"E","States":{"E":{"Type":"Task","Resource":"steward:echo","End":true}}},"ResultPath":"$.results","End":true}}}`,
			input:  `{"region":"eu-west-1","vols":["a","b"]}`,
			status: StatusSucceeded, output: `{"region":"eu-west-1","vols":["a","b"],"results":[{"v":"a","i":0,"region":"eu-west-1"},{"v":"b","i":1,"region":"eu-west-1"}]}`,
		},
		{
			name:   "map tolerated failures",
			def:    `{"StartAt":"M","States":{"M":{"Type":"Map","ToleratedFailureCount":1,"ItemProcessor":{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$","NumericEquals":2,"Next":"F"}],"Default":"OK"},"F":{"Type":"Fail","Error":"Two"},"OK":{"Type":"Pass","End":true}}},"End":true}}}`,
			input:  `[1,2,3]`,
			status: StatusSucceeded, output: `[1,{"Error":"Two","Cause":""},3]`,
		},
		{
			name:   "map over the tolerance",
			def:    `{"StartAt":"M","States":{"M":{"Type":"Map","ToleratedFailurePercentage":10,"ItemProcessor":{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"Bad"}}},"End":true}}}`,
			input:  `[1,2,3]`,
			status: StatusFailed, err: "States.ExceedToleratedFailureThreshold",
		},
		{
			name:   "parallel branches and branch failure caught",
			def:    `{"StartAt":"P","States":{"P":{"Type":"Parallel","Branches":[{"StartAt":"A","States":{"A":{"Type":"Pass","Result":1,"End":true}}},{"StartAt":"B","States":{"B":{"Type":"Fail","Error":"BranchBroke","Cause":"b"}}}],"Catch":[{"ErrorEquals":["BranchBroke"],"Next":"H"}],"End":true},"H":{"Type":"Pass","End":true}}}`,
			input:  `{}`,
			status: StatusSucceeded, output: `{"Error":"BranchBroke","Cause":"b"}`,
		},
		{
			name:   "variables assigned and read later, and in a map",
			def:    `{"StartAt":"A","States":{"A":{"Type":"Pass","Assign":{"owner.$":"$.owner","limit":3},"Next":"M"},"M":{"Type":"Map","ItemsPath":"$.xs","ItemSelector":{"o.$":"$owner","x.$":"$$.Map.Item.Value"},"ItemProcessor":{"StartAt":"E","States":{"E":{"Type":"Pass","Parameters":{"o.$":"$.o","x.$":"$.x","l.$":"$limit"},"End":true}}},"End":true}}}`,
			input:  `{"owner":"alice","xs":[1]}`,
			status: StatusSucceeded, output: `[{"o":"alice","x":1,"l":3}]`,
		},
		{
			name:   "fail state with paths",
			def:    `{"StartAt":"F","States":{"F":{"Type":"Fail","ErrorPath":"$.e","CausePath":"States.Format('volume {} is in use', $.v)"}}}`,
			input:  `{"e":"InUse","v":"vol-1"}`,
			status: StatusFailed, err: "InUse", cause: "volume vol-1 is in use",
		},
		{
			name:   "intrinsics in parameters",
			def:    `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"tag.$":"States.Format('steward:{}', $.k)","n.$":"States.MathAdd($.n, 1)","parts.$":"States.StringSplit($.csv, ',')","len.$":"States.ArrayLength($.xs)"},"End":true}}}`,
			input:  `{"k":"last-seen","n":41,"csv":"a,b","xs":[1,2,3]}`,
			status: StatusSucceeded, output: `{"tag":"steward:last-seen","n":42,"parts":["a","b"],"len":3}`,
		},
		{
			name:   "input path null and output path",
			def:    `{"StartAt":"P","States":{"P":{"Type":"Pass","InputPath":null,"ResultPath":"$.r","OutputPath":"$.r","End":true}}}`,
			input:  `{"a":1}`,
			status: StatusSucceeded, output: `{}`,
		},
		{
			name:   "result path null keeps the input",
			def:    `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"steward:echo","Parameters":{"x":1},"ResultPath":null,"End":true}}}`,
			input:  `{"a":1}`,
			status: StatusSucceeded, output: `{"a":1}`,
		},
		{
			name:   "execution timeout on the simulated clock",
			def:    `{"TimeoutSeconds":60,"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":120,"Next":"P"},"P":{"Type":"Pass","End":true}}}`,
			input:  `{}`,
			status: StatusTimedOut, err: "States.Timeout",
		},
		{
			name:   "wait for task token completes in memory with the handler's result",
			def:    `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"steward:echo.waitForTaskToken","Parameters":{"token.$":"$$.Task.Token","decision":"approve"},"ResultSelector":{"decision.$":"$.decision"},"End":true}}}`,
			input:  `{}`,
			status: StatusSucceeded, output: `{"decision":"approve"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := run(t, tt.def, tt.input, nil)
			if res.Status != tt.status {
				t.Fatalf("status %s (%s: %s), want %s", res.Status, res.Error, res.Cause, tt.status)
			}
			if tt.output != "" {
				if d := testdata.JSONDiff("$", mustJSON(t, tt.output), res.Output, false); d != "" {
					t.Errorf("output %s: %s", jsonString(res.Output), d)
				}
			}
			if res.Error != tt.err {
				t.Errorf("error %q, want %q", res.Error, tt.err)
			}
			if tt.cause != "" && res.Cause != tt.cause {
				t.Errorf("cause %q, want %q", res.Cause, tt.cause)
			}
			if tt.elapsed != 0 {
				if got := res.Stop.Sub(res.Start); got != time.Duration(tt.elapsed)*time.Second {
					t.Errorf("elapsed %s on the execution clock, want %ds", got, tt.elapsed)
				}
			}
		})
	}
}

func TestRunHistory(t *testing.T) {
	res := run(t, `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"steward:fail","Parameters":{"Error":"E"},"Retry":[{"ErrorEquals":["E"],"MaxAttempts":1}],"Catch":[{"ErrorEquals":["E"],"ResultPath":"$.err","Next":"M"}],"End":true},
		"M":{"Type":"Map","ItemsPath":"$.xs","ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"Next":"W"},"W":{"Type":"Wait","Seconds":1,"Next":"S"},"S":{"Type":"Succeed"}}}`,
		`{"xs":[1]}`, nil)
	if res.Status != StatusSucceeded {
		t.Fatalf("status %s: %s %s", res.Status, res.Error, res.Cause)
	}
	var types []string
	for i, e := range res.History {
		if e.ID != int64(i+1) {
			t.Errorf("event %d has id %d", i, e.ID)
		}
		types = append(types, e.Type)
	}
	want := "ExecutionStarted TaskStateEntered TaskScheduled TaskStarted TaskFailed TaskStateEntered TaskScheduled TaskStarted TaskFailed TaskStateExited " +
		"MapStateEntered MapStateStarted MapIterationStarted PassStateEntered PassStateExited MapIterationSucceeded MapStateSucceeded MapStateExited " +
		"WaitStateEntered WaitStateExited SucceedStateEntered SucceedStateExited ExecutionSucceeded"
	if got := strings.Join(types, " "); got != want {
		t.Errorf("history:\n got %s\nwant %s", got, want)
	}
}

func TestRunTaskErrorsAndIdempotencyKeys(t *testing.T) {
	var calls atomic.Int32
	keys := map[string]bool{}
	tasks := basics()
	tasks.Register("test:flaky", task.HandlerFunc(func(ctx context.Context, c *task.Call) (any, error) {
		keys[c.IdempotencyKey] = true
		if calls.Add(1) < 3 {
			return nil, errors.New("connection reset")
		}
		return "ok", nil
	}))
	res := run(t, `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"test:flaky","Retry":[{"ErrorEquals":["States.TaskFailed"],"MaxAttempts":5}],"End":true}}}`, `{}`, tasks)
	if res.Status != StatusSucceeded || res.Output != "ok" {
		t.Fatalf("got %s %v (%s)", res.Status, res.Output, res.Cause)
	}
	if len(keys) != 3 {
		t.Errorf("%d distinct idempotency keys for 3 attempts, want 3: %v", len(keys), keys)
	}
}

func TestRunTaskTimeout(t *testing.T) {
	tasks := basics()
	tasks.Register("test:slow", task.HandlerFunc(func(ctx context.Context, c *task.Call) (any, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}))
	res := run(t, `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"test:slow","TimeoutSeconds":1,"End":true}}}`, `{}`, tasks)
	if res.Status != StatusFailed || res.Error != asl.ErrTimeout {
		t.Fatalf("got %s %s", res.Status, res.Error)
	}
}

func TestRunRejectsUnknownTasksBeforeStarting(t *testing.T) {
	_, err := Run(context.Background(), RunParams{Machine: mustParse(t, `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"steward:nope","End":true}}}`), Tasks: basics()})
	if !errors.Is(err, task.ErrUnknownResource) {
		t.Fatalf("got %v, want ErrUnknownResource", err)
	}
}

func TestRunDataLimit(t *testing.T) {
	big := strings.Repeat("x", 300*1024)
	res := run(t, `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"steward:echo","End":true}}}`, fmt.Sprintf(`{"s":%q}`, big), nil)
	if res.Status != StatusFailed || res.Error != asl.ErrDataLimitExceeded {
		t.Fatalf("got %s %s", res.Status, res.Error)
	}
}

func TestRunLoopBound(t *testing.T) {
	m := mustParse(t, `{"StartAt":"A","States":{"A":{"Type":"Choice","Choices":[{"Variable":"$.stop","BooleanEquals":true,"Next":"B"}],"Default":"A"},"B":{"Type":"Succeed"}}}`)
	res, err := Run(context.Background(), RunParams{Machine: m, Input: map[string]any{"stop": false}, MaxTransitions: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != StatusFailed || !strings.Contains(res.Cause, "1000 state transitions") {
		t.Fatalf("got %s %s", res.Status, res.Cause)
	}
}

func FuzzRun(f *testing.F) {
	f.Add(`{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"x.$":"$.a"},"End":true}}}`, `{"a":1}`)
	f.Add(`{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.x","StringMatches":"a*","Next":"D"}],"Default":"D"},"D":{"Type":"Succeed"}}}`, `{"x":"ab"}`)
	f.Add(`{"StartAt":"M","States":{"M":{"Type":"Map","ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}`, `[1,2]`)
	f.Add(`{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"x.$":"States.Format('{} {}', $.a, $.b)"},"End":true}}}`, `{"a":"x","b":[1]}`)
	f.Fuzz(func(t *testing.T, def, input string) {
		m, err := asl.Parse([]byte(def))
		if err != nil {
			return
		}
		in, err := asl.DecodeJSON([]byte(input))
		if err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		// A run that ignores its deadline is a bug: crash, so the fuzzer
		// keeps the input.
		watchdog := time.AfterFunc(10*time.Second, func() { panic(fmt.Sprintf("run hung: %q %q", def, input)) })
		defer watchdog.Stop()
		res, err := Run(ctx, RunParams{Machine: m, Input: in, Tasks: basics(), Start: t0, MaxTransitions: 10_000})
		if err != nil {
			return
		}
		switch res.Status {
		case StatusSucceeded, StatusFailed, StatusTimedOut, StatusAborted:
		default:
			t.Fatalf("status %q", res.Status)
		}
	})
}
