package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/store"
)

// fakeStores is a store holding a fixed report.
type fakeStores struct {
	execs     []*store.Execution
	changes   []*store.Change
	approvals []*store.Approval
	events    []store.Event
	matches   map[int64][]store.EventMatch
}

func (f *fakeStores) ListExecutions(context.Context, store.ListExecutionsParams) ([]*store.Execution, string, error) {
	return f.execs, "", nil
}
func (f *fakeStores) ListChanges(context.Context, store.ChangeFilter) ([]*store.Change, error) {
	return f.changes, nil
}
func (f *fakeStores) ListApprovals(context.Context, store.ApprovalFilter) ([]*store.Approval, error) {
	return f.approvals, nil
}
func (f *fakeStores) ListEvents(context.Context, store.ListEventsParams) ([]store.Event, string, error) {
	return f.events, "", nil
}
func (f *fakeStores) ListMatches(_ context.Context, seq int64) ([]store.EventMatch, error) {
	return f.matches[seq], nil
}

const smARN = "arn:aws:states:us-east-1:000000000000:stateMachine:"

func TestReport(t *testing.T) {
	exec := func(name, playbook, status, input, output string) *store.Execution {
		return &store.Execution{ARN: "arn:aws:states:us-east-1:000000000000:execution:" + playbook + ":" + name,
			StateMachineARN: smARN + playbook, Name: name, Status: status, Input: input, Output: output}
	}
	st := &fakeStores{
		execs: []*store.Execution{
			exec("e1", "ebs-unused", "SUCCEEDED", `{"account":"111111111111","region":"us-east-1","trigger":"schedule","scan":"s1","resource":{"VolumeId":"vol-1","Size":8}}`, `{"outcome":"fixed"}`),
			exec("e2", "ebs-unused", "SUCCEEDED", `{"account":"222222222222","region":"us-east-1","trigger":"schedule","resource":{"VolumeId":"vol-2"}}`, `{"outcome":"fixed"}`),
			exec("e3", "sg-open-ingress", "RUNNING", `{"account":"222222222222","region":"us-east-1","detail":{"requestParameters":{"groupId":"sg-9"}}}`, ``),
			exec("e4", "hub-finding", "FAILED", `{"detail":{"findings":[{"Resources":[{"Id":"arn:aws:ec2:us-east-1:1:instance/i-7"}]}]}}`, ``),
		},
		changes: []*store.Change{
			{ID: "ch-1", ExecutionARN: "arn:aws:states:us-east-1:000000000000:execution:ebs-unused:e1", Playbook: "ebs-unused", Service: "ec2", Action: "DeleteVolume", Resource: "vol-1", Kind: store.KindCall, Status: store.StatusPlanned, Stage: "notify"},
			{ID: "ch-2", ExecutionARN: "arn:aws:states:us-east-1:000000000000:execution:ebs-unused:e2", Playbook: "ebs-unused", Service: "ec2", Action: "DeleteVolume", Resource: "vol-2", Kind: store.KindCall, Status: store.StatusApplied, Stage: "enforce"},
			{ID: "ch-3", ExecutionARN: "x", Playbook: "sg-open-ingress", Service: "ec2", Action: "RevokeSecurityGroupIngress", Resource: "sg-9", Kind: store.KindCall, Status: store.StatusApplied, Undo: json.RawMessage(`{"x":1}`)},
		},
		approvals: []*store.Approval{{ID: "apr-1", ExecutionARN: "arn:aws:states:us-east-1:000000000000:execution:sg-open-ingress:e3", Playbook: "sg-open-ingress", Resource: "sg-9", Owner: "bob@example.com", Default: "approve", Deadline: time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)}},
		events: []store.Event{
			{Seq: 1, ID: "ev-1", Account: "222222222222", Region: "us-east-1", DetailType: "AWS API Call via CloudTrail", Processed: true, Body: []byte(`{"detail":{"eventName":"AuthorizeSecurityGroupIngress"}}`)},
			{Seq: 2, ID: "ev-2", Account: "111111111111", Region: "us-east-1", DetailType: "Thing", Processed: true, Body: []byte(`{}`)},
		},
		matches: map[int64][]store.EventMatch{1: {{EventSeq: 1, Rule: "sg-open-ingress", Playbook: "sg-open-ingress", ExecutionARN: "arn:aws:states:us-east-1:000000000000:execution:sg-open-ingress:e3"}}},
	}
	r, err := Collect(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	c := r.Counts()
	if c.Executions != 4 || c.Running != 1 || c.Succeeded != 2 || c.Failed != 1 || c.Applied != 2 || c.Planned != 1 || c.Approvals != 1 || c.Events != 2 || c.EventsStarted != 1 {
		t.Fatalf("counts %+v", c)
	}
	if u := r.Undoable(); u == nil || u.ID != "ch-3" {
		t.Fatalf("undoable %+v", u)
	}
	var out bytes.Buffer
	r.Print(&out)
	text := out.String()
	for _, want := range []string{
		"Events: 2 received, 1 started a playbook",
		"AuthorizeSecurityGroupIngress", "started sg-open-ingress (e3)", "no rule matched",
		"vol-1", "fix planned, not made (stage notify)", "vol-2", "fixed",
		"sg-9", "waiting for approval", "i-7", "failed",
		"Changes: 2 made, 1 planned", "ch-1", "ec2:DeleteVolume",
		"Approvals waiting: 1", "apr-1", "bob@example.com", "2026-01-02T00:00:00Z",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("report lacks %q:\n%s", want, text)
		}
	}
}

func TestResourceOf(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"resource":{"VolumeId":"vol-1","Name":"x"}}`, "vol-1"},
		{`{"resource":{"DBInstanceIdentifier":"db-1"}}`, "db-1"},
		{`{"detail":{"requestParameters":{"bucketName":"b"}}}`, "b"},
		{`{"detail":{"responseElements":{"instancesSet":{"items":[{"instanceId":"i-1"}]}}}}`, "i-1"},
		{`{"detail":{"findings":[{"Resources":[{"Id":"arn:aws:s3:::bkt"}]}]}}`, "bkt"},
		{`{"detail":"x"}`, ""},
		{`{}`, ""},
	}
	for _, tt := range tests {
		var in map[string]any
		if err := json.Unmarshal([]byte(tt.in), &in); err != nil {
			t.Fatal(err)
		}
		if got := resourceOf(in); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.in, got, tt.want)
		}
	}
}

// FuzzExecutionLine feeds arbitrary execution inputs and outputs (they
// come from events and API items, outside input) to the report: no panic.
func FuzzExecutionLine(f *testing.F) {
	f.Add(`{"account":"1","resource":{"VolumeId":"vol-1"}}`, `{"outcome":"fixed"}`, "SUCCEEDED")
	f.Add(`{"detail":{"responseElements":{"instancesSet":{"items":[1,{"instanceId":2}]}}}}`, `[]`, "SUCCEEDED")
	f.Add(`{"detail":{"findings":[{"Resources":[null]}]}}`, `null`, "FAILED")
	f.Add(`not json`, `{"outcome":7}`, "RUNNING")
	f.Fuzz(func(t *testing.T, input, output, status string) {
		l := executionLine(&store.Execution{ARN: "a:b", StateMachineARN: "x:y", Input: input, Output: output, Status: status})
		r := &Report{Executions: []ExecutionLine{l}}
		var out bytes.Buffer
		r.Print(&out)
	})
}

// BenchmarkStart measures seeding and starting the demo's simulated
// organisation.
func BenchmarkStart(b *testing.B) {
	for i := 0; i < b.N; i++ {
		org, err := Start(time.Now)
		if err != nil {
			b.Fatal(err)
		}
		org.Close()
	}
}
