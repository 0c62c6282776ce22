package scan

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/stewardhq/steward/internal/awssim"
	"github.com/stewardhq/steward/internal/clock"
	"github.com/stewardhq/steward/internal/cloud"
	"github.com/stewardhq/steward/internal/engine"
	"github.com/stewardhq/steward/internal/stage"
	"github.com/stewardhq/steward/internal/store"
	"github.com/stewardhq/steward/internal/store/storesqlite"
	"github.com/stewardhq/steward/internal/task"
)

const (
	homeAccount = "999999999999"
	homeKey     = "AKIDSTEWARDHOME"
	homeSecret  = "steward-secret"
)

// ebsSpec is the ebs-unused playbook's scan.
var ebsSpec = Spec{Service: "ec2", Action: "DescribeVolumes", Items: "Volumes",
	Parameters: map[string]any{"Filters": []any{map[string]any{"Name": "status", "Values": []any{"available"}}}, "MaxResults": 500}}

// testPlaybook ends by the volume's size: 1 compliant, 2 exception, 3
// fails, 4 kept, 5 notified, 6 waits (a day: "waiting for approval"),
// else fixed.
const testPlaybook = `{"StartAt": "By size", "States": {
  "By size": {"Type": "Choice", "Choices": [
    {"Variable": "$.resource.Size", "NumericEquals": 1, "Next": "Compliant"},
    {"Variable": "$.resource.Size", "NumericEquals": 2, "Next": "Exception"},
    {"Variable": "$.resource.Size", "NumericEquals": 3, "Next": "Fail"},
    {"Variable": "$.resource.Size", "NumericEquals": 4, "Next": "Kept"},
    {"Variable": "$.resource.Size", "NumericEquals": 5, "Next": "Notified"},
    {"Variable": "$.resource.Size", "NumericEquals": 6, "Next": "Wait"}],
    "Default": "Fixed"},
  "Compliant": {"Type": "Pass", "Result": {"outcome": "compliant"}, "End": true},
  "Exception": {"Type": "Pass", "Result": {"outcome": "exception"}, "End": true},
  "Kept": {"Type": "Pass", "Result": {"outcome": "kept"}, "End": true},
  "Notified": {"Type": "Pass", "Result": {"outcome": "notified"}, "End": true},
  "Fixed": {"Type": "Pass", "Result": {"outcome": "fixed"}, "End": true},
  "Fail": {"Type": "Fail", "Error": "Steward.Test", "Cause": "size 3"},
  "Wait": {"Type": "Wait", "Seconds": 86400, "Next": "Fixed"}}}`

type env struct {
	sim     *awssim.Sim
	cloud   *cloud.Cloud
	inv     *cloud.Inventory
	db      *storesqlite.DB
	eng     *engine.Engine
	clock   *clock.Fake
	runner  *Runner
	targets []cloud.Target
}

func newEnv(t testing.TB, accounts, regions []string) *env {
	t.Helper()
	ctx := context.Background()
	fc := clock.NewFake(time.Date(2026, 11, 22, 6, 0, 0, 0, time.UTC))
	sim := awssim.New(awssim.Options{Now: fc.Now})
	if err := sim.AddAccount(awssim.AccountInfo{ID: homeAccount, Name: "home"}); err != nil {
		t.Fatal(err)
	}
	if err := sim.AddCredential(awssim.Credential{AccessKeyID: homeKey, SecretAccessKey: homeSecret, Account: homeAccount}); err != nil {
		t.Fatal(err)
	}
	var accts []cloud.Account
	for i, id := range accounts {
		if err := sim.AddAccount(awssim.AccountInfo{ID: id, Name: fmt.Sprintf("acct-%d", i)}); err != nil {
			t.Fatal(err)
		}
		accts = append(accts, cloud.Account{ID: id, Name: fmt.Sprintf("acct-%d", i), Class: "sandbox", Regions: regions,
			Role: cloud.RoleFor("arn:aws:iam::{account}:role/steward", id)})
	}
	url, stop := sim.Start()
	t.Cleanup(stop)
	inv := cloud.NewInventory(accts)
	c, err := cloud.New(ctx, cloud.Config{Inventory: inv, Endpoint: url, Clock: fc,
		Credentials: credentials.NewStaticCredentialsProvider(homeKey, homeSecret, ""),
		Rate:        cloud.Rate{Limit: 10000, Burst: 10000}, BaseDelay: 50 * time.Microsecond, MaxBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	db, err := storesqlite.Open(filepath.Join(t.TempDir(), "steward.db"), storesqlite.Options{Synchronous: "OFF"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	reg := task.NewRegistry()
	eng := engine.New(engine.Config{Store: db, Tasks: reg, Clock: fc, Owner: "test"})
	if err := eng.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	if _, err := eng.CreateStateMachine(ctx, engine.CreateStateMachineInput{Name: "ebs-unused", Definition: testPlaybook}); err != nil {
		t.Fatal(err)
	}
	e := &env{sim: sim, cloud: c, inv: inv, db: db, eng: eng, clock: fc, targets: inv.Targets()}
	e.runner = &Runner{Lister: c, Targets: inv.Targets, Engine: eng, Store: db, Clock: fc, Logf: t.Logf}
	return e
}

// seed adds n available volumes (sizes cycling through sizes) and some
// in-use ones the filter must leave out, in every target.
func (e *env) seed(t testing.TB, n int, sizes []int) {
	t.Helper()
	for _, tg := range e.targets {
		vols := make([]awssim.Volume, 0, n+3)
		for i := range n {
			vols = append(vols, awssim.Volume{Size: sizes[i%len(sizes)], State: "available"})
		}
		for range 3 {
			vols = append(vols, awssim.Volume{Size: 8, State: "in-use",
				Attachments: []awssim.VolumeAttachment{{InstanceID: "i-0123456789abcdef0", Device: "/dev/sdf", State: "attached"}}})
		}
		if err := e.sim.AddResources(tg.Account, tg.Region, awssim.Resources{Volumes: vols}); err != nil {
			t.Fatal(err)
		}
	}
}

// executions returns the scan's executions by name.
func (e *env) executions(t testing.TB, scanID string) map[string]*store.Execution {
	t.Helper()
	out := map[string]*store.Execution{}
	token := ""
	for {
		xs, next, err := e.db.ListExecutions(context.Background(), store.ListExecutionsParams{ListParams: store.ListParams{Limit: 1000, NextToken: token}})
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range xs {
			if strings.HasPrefix(x.Name, scanID+"-") {
				out[x.Name] = x
			}
		}
		if next == "" {
			return out
		}
		token = next
	}
}

// settle waits (for real, briefly) until no execution of the scan is
// running but those that wait a day.
func (e *env) settle(t testing.TB, scanID string, waiting int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		running := 0
		for _, x := range e.executions(t, scanID) {
			if x.Status == engine.StatusRunning {
				running++
			}
		}
		if running <= waiting {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d executions still running", running)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

var (
	threeAccounts = []string{"111111111111", "222222222222", "333333333333"}
	twoRegions    = []string{"us-east-1", "eu-west-1"}
)

// Judge: a scan over 3 accounts x 2 regions, with 30% of calls throttled
// and pages of 5, sees every available volume exactly once and starts one
// execution each, with the contract's input.
func TestScanUnderThrottling(t *testing.T) {
	e := newEnv(t, threeAccounts, twoRegions)
	const perTarget = 37
	e.seed(t, perTarget, []int{10})
	spec := ebsSpec
	spec.Parameters = map[string]any{"Filters": []any{map[string]any{"Name": "status", "Values": []any{"available"}}}, "MaxResults": 5}
	e.sim.SetFaults(awssim.Faults{ThrottleRate: 0.3, Seed: 11})
	defer e.sim.SetFaults(awssim.Faults{})
	ctx := context.Background()
	sc, err := e.runner.Run(ctx, Request{Playbook: "ebs-unused", Spec: spec})
	if err != nil {
		t.Fatal(err)
	}
	want := len(e.targets) * perTarget
	if sc.Status != store.ScanSucceeded || sc.Listed != want || sc.Started != want || sc.Targets != 6 || sc.TargetsDone != 6 {
		t.Fatalf("scan %+v, want %d listed and started in 6 targets", sc, want)
	}
	if st := e.cloud.TotalStats(); st.Throttles == 0 {
		t.Fatal("no call was throttled")
	} else {
		t.Logf("%d calls, %d attempts, %d throttled", st.Calls, st.Attempts, st.Throttles)
	}
	xs := e.executions(t, sc.ID)
	if len(xs) != want {
		t.Fatalf("%d executions, want %d", len(xs), want)
	}
	seen := map[string]int{}
	for name, x := range xs {
		var in struct {
			Account, Region, Trigger, Scan string
			Resource                       struct{ VolumeId, State string }
			Steward                        any
		}
		if err := json.Unmarshal([]byte(x.Input), &in); err != nil {
			t.Fatal(err)
		}
		if in.Trigger != "schedule" || in.Scan != sc.ID || in.Resource.State != "available" || in.Steward != nil {
			t.Fatalf("%s: input %s", name, x.Input)
		}
		if name != ExecutionName(sc.ID, in.Account, in.Region, in.Resource.VolumeId) {
			t.Fatalf("%s: not named from its scan and resource", name)
		}
		seen[in.Account+"/"+in.Region+"/"+in.Resource.VolumeId]++
	}
	if len(seen) != want {
		t.Fatalf("%d distinct resources, want %d", len(seen), want)
	}
	t.Logf("judge: %d of %d resources seen exactly once, one execution each, under 30%% throttling", len(seen), want)

	// Run again under the same id: nothing new is started.
	e.sim.SetFaults(awssim.Faults{})
	e.settle(t, sc.ID, 0)
	again, err := e.runner.Run(ctx, Request{ID: sc.ID, Playbook: "ebs-unused", Spec: spec})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(e.executions(t, sc.ID)); n != want || again.Started != want {
		t.Fatalf("rerun: %d executions, %d counted started, want %d", n, again.Started, want)
	}
}

// Judge: --dry-run inputs ask for the observe stage; accounts and regions
// narrow the targets.
func TestDryRunAndNarrowing(t *testing.T) {
	e := newEnv(t, threeAccounts, twoRegions)
	e.seed(t, 4, []int{10})
	ctx := context.Background()
	sc, err := e.runner.Run(ctx, Request{Playbook: "ebs-unused", Spec: ebsSpec, DryRun: true,
		Accounts: []string{"222222222222"}, Regions: []string{"eu-west-1"}})
	if err != nil {
		t.Fatal(err)
	}
	xs := e.executions(t, sc.ID)
	if len(xs) != 4 || sc.Targets != 1 {
		t.Fatalf("%d executions in %d targets, want 4 in 1", len(xs), sc.Targets)
	}
	for _, x := range xs {
		var in map[string]any
		if err := json.Unmarshal([]byte(x.Input), &in); err != nil {
			t.Fatal(err)
		}
		if st, ok := stage.Requested(in); !ok || st != stage.Observe {
			t.Fatalf("dry-run input %s does not ask for observe", x.Input)
		}
		if in["account"] != "222222222222" || in["region"] != "eu-west-1" {
			t.Fatalf("input %s outside the narrowed target", x.Input)
		}
	}
	e.settle(t, sc.ID, 0)
	rep, err := e.runner.Report(ctx, sc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Summary.Planned != 4 || rep.Summary.Fixed != 0 {
		t.Fatalf("dry run summary %+v, want 4 planned", rep.Summary)
	}

	global := ebsSpec
	global.Global = true
	gsc, err := e.runner.Run(ctx, Request{Playbook: "ebs-unused", Spec: global})
	if err != nil || gsc.Targets != 3 {
		t.Fatalf("global scan: %d targets, %v; want one per account", gsc.Targets, err)
	}

	for _, bad := range []Request{
		{Playbook: "ebs-unused", Spec: ebsSpec, Accounts: []string{"444444444444"}},
		{Playbook: "ebs-unused", Spec: ebsSpec, Regions: []string{"mars-north-1"}},
		{Playbook: "", Spec: ebsSpec},
		{Playbook: "ebs-unused", Spec: Spec{Service: "ec2"}},
		{Playbook: "ebs-unused", Spec: ebsSpec, ID: "bad id!"},
	} {
		_, err := e.runner.Run(ctx, bad)
		if !errors.Is(err, ErrBadRequest) && !errors.Is(err, ErrBadSpec) {
			t.Errorf("%+v: err %v, want ErrBadRequest or ErrBadSpec", bad, err)
		}
	}
	if _, err := e.runner.Run(ctx, Request{Playbook: "ebs-unused", Spec: ebsSpec, Accounts: []string{"444444444444"}}); err == nil || !strings.Contains(err.Error(), "444444444444") {
		t.Errorf("unknown account: %v does not name it", err)
	}
}

// Judge: the summary counts executions with known outcomes.
func TestSummary(t *testing.T) {
	e := newEnv(t, threeAccounts[:1], twoRegions[:1])
	// Sizes 1..7 twice: 2 each of compliant, exception, failed, kept,
	// notified, waiting, fixed.
	e.seed(t, 14, []int{1, 2, 3, 4, 5, 6, 7})
	e.runner.Waiting = func(_ context.Context, x *store.Execution) bool {
		return strings.Contains(x.Input, `"Size":6`)
	}
	ctx := context.Background()
	id, err := e.runner.Start(ctx, Request{Playbook: "ebs-unused", Spec: ebsSpec})
	if err != nil {
		t.Fatal(err)
	}
	e.runner.Wait()
	e.settle(t, id, 2)
	rep, err := e.runner.Report(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	want := Summary{Found: 14, Fixed: 2, Exception: 2, Waiting: 2, Compliant: 2, Kept: 2, Notified: 2, Failed: 2}
	if rep.Summary != want || rep.Finished != 12 || rep.Scan.Status != store.ScanSucceeded {
		t.Fatalf("summary %+v finished %d status %s, want %+v, 12 finished", rep.Summary, rep.Finished, rep.Scan.Status, want)
	}
	// In the observe stage (configured), a fix is a plan.
	e.runner.Resolver = stage.Fixed(stage.Observe)
	rep, err = e.runner.Report(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Summary.Planned != 2 || rep.Summary.Fixed != 0 {
		t.Fatalf("observe stage: %+v, want 2 planned", rep.Summary)
	}
	// Change records decide where they exist: one fix applied, one planned.
	var fixedARNs []string
	for _, x := range e.executions(t, id) {
		if strings.Contains(x.Input, `"Size":7`) {
			fixedARNs = append(fixedARNs, x.ARN)
		}
	}
	e.runner.Resolver = stage.Fixed(stage.Enforce)
	e.runner.Changes = fakeChanges{
		{Seq: 1, ExecutionARN: fixedARNs[0], Run: id, Kind: store.KindCall, Status: store.StatusApplied},
		{Seq: 2, ExecutionARN: fixedARNs[1], Run: id, Kind: store.KindCall, Status: store.StatusPlanned},
		{Seq: 3, ExecutionARN: fixedARNs[1], Run: id, Kind: store.KindNotice, Status: store.StatusApplied},
	}
	rep, err = e.runner.Report(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Summary.Planned != 1 || rep.Summary.Fixed != 1 {
		t.Fatalf("with change records: %+v, want 1 fixed, 1 planned", rep.Summary)
	}
	t.Logf("judge: summary of 14 executions with known outcomes matches: %+v", rep.Summary)
	if _, err := e.runner.Report(ctx, "scan-nope"); !errors.Is(err, ErrUnknownScan) {
		t.Fatalf("unknown scan: %v", err)
	}
}

type fakeChanges []*store.Change

func (f fakeChanges) ListChanges(_ context.Context, fl store.ChangeFilter) ([]*store.Change, error) {
	var out []*store.Change
	for _, c := range f {
		if c.Run == fl.Run && c.Seq > fl.AfterSeq {
			out = append(out, c)
		}
	}
	return out, nil
}

func TestResourceID(t *testing.T) {
	tests := []struct {
		spec Spec
		item string
		want string
	}{
		{Spec{Items: "Volumes"}, `{"KmsKeyId":"k","SnapshotId":"snap-1","VolumeId":"vol-1"}`, "vol-1"},
		{Spec{Items: "Policies"}, `{"PolicyName":"p","PolicyId":"ANPA1","Arn":"arn:x"}`, "ANPA1"},
		{Spec{Items: "Buckets"}, `{"Name":"b","CreationDate":"2020"}`, "b"},
		{Spec{Items: "Reservations.Instances"}, `{"InstanceId":"i-1","ImageId":"ami-1"}`, "i-1"},
		{Spec{Items: "DBInstances"}, `{"DBInstanceIdentifier":"db1","DBInstanceArn":"arn:db1"}`, "arn:db1"},
		{Spec{Items: "X", ID: "Key"}, `{"Key":"k1"}`, "k1"},
	}
	for _, tc := range tests {
		var item any
		if err := json.Unmarshal([]byte(tc.item), &item); err != nil {
			t.Fatal(err)
		}
		if got := tc.spec.ResourceID(item); got != tc.want {
			t.Errorf("%s in %s: %q, want %q", tc.item, tc.spec.Items, got, tc.want)
		}
	}
	var a, b any
	_ = json.Unmarshal([]byte(`{"x":1}`), &a)
	_ = json.Unmarshal([]byte(`{"x":2}`), &b)
	if s := (Spec{Items: "Things"}); s.ResourceID(a) == s.ResourceID(b) || !strings.HasPrefix(s.ResourceID(a), "sha256-") {
		t.Error("items without an id are not told apart by hash")
	}
	page := map[string]any{"Reservations": []any{
		map[string]any{"Instances": []any{map[string]any{"InstanceId": "i-1"}, map[string]any{"InstanceId": "i-2"}}},
		map[string]any{"Instances": []any{map[string]any{"InstanceId": "i-3"}}}}}
	if n := len((Spec{Items: "Reservations.Instances"}).items(page)); n != 3 {
		t.Errorf("nested items: %d, want 3", n)
	}
	if n := len(ExecutionName(strings.Repeat("s", 58), "111111111111", "us-east-1", "vol-1")); n > 80 {
		t.Errorf("execution name %d characters, want at most 80", n)
	}
}

// cancelAfter ends a context after n list calls.
type cancelAfter struct {
	Lister
	n      atomic.Int32
	cancel context.CancelFunc
}

func (c *cancelAfter) Invoke(ctx context.Context, call *task.Call) (any, error) {
	if c.n.Add(-1) < 0 {
		c.cancel()
		return nil, ctx.Err()
	}
	return c.Lister.Invoke(ctx, call)
}

// A scan stopped half-way (steward stopped) stays RUNNING; run again under
// its id, it starts what is missing and nothing twice.
func TestInterruptedScanResumes(t *testing.T) {
	e := newEnv(t, threeAccounts[:1], twoRegions)
	e.seed(t, 12, []int{10})
	spec := ebsSpec
	spec.Parameters = map[string]any{"Filters": []any{map[string]any{"Name": "status", "Values": []any{"available"}}}, "MaxResults": 5}
	ctx, cancel := context.WithCancel(context.Background())
	cut := &cancelAfter{Lister: e.cloud, cancel: cancel}
	cut.n.Store(2)
	r := &Runner{Lister: cut, Targets: e.inv.Targets, Engine: e.eng, Store: e.db, Clock: e.clock}
	sc, err := r.Run(ctx, Request{ID: "scan-cut", Playbook: "ebs-unused", Spec: spec})
	if err == nil {
		t.Fatal("an interrupted scan reported no error")
	}
	got, err := e.db.GetScan(context.Background(), "scan-cut")
	if err != nil || got.Status != store.ScanRunning || sc.Started >= 24 {
		t.Fatalf("after the cut: %+v %v; want RUNNING, not all started", got, err)
	}
	done, err := e.runner.Run(context.Background(), Request{ID: "scan-cut", Playbook: "ebs-unused", Spec: spec})
	if err != nil || done.Status != store.ScanSucceeded {
		t.Fatalf("resumed: %+v %v", done, err)
	}
	if n := len(e.executions(t, "scan-cut")); n != 24 {
		t.Fatalf("%d executions, want 24", n)
	}
}
