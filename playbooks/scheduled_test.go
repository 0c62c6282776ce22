package playbooks_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"

	"github.com/stewardhq/steward/internal/awssim"
	"github.com/stewardhq/steward/internal/catalog"
	"github.com/stewardhq/steward/internal/change"
	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/playbooktest"
	"github.com/stewardhq/steward/internal/store"
)

// The scheduled playbooks (ebs-unused, eip-unused, ec2-stopped, rds-idle,
// route53-ns-only) run as a scan runs them: across three accounts
// (production, development, sandbox) and two regions, with resources on
// both sides of every threshold. steward.yaml enforces everywhere except
// production, where the playbooks are in the notify stage: they plan and
// tell, and change nothing.

const scheduledConfig = `
playbooks:
  defaults:
    stages: {default: enforce, production: notify}
`

// newScheduled starts a harness whose stages come from scheduledConfig.
func newScheduled(t *testing.T) *playbooktest.Harness {
	t.Helper()
	cfg, err := config.Parse([]byte(scheduledConfig))
	if err != nil {
		t.Fatal(err)
	}
	cat, err := catalog.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h := playbooktest.New(t, playbooktest.Options{Stages: cat, Owners: map[string]string{"alice": "alice@example.com"}})
	h.NeedSim("seeds resources with ages on the fake clock, CloudTrail events and metrics")
	return h
}

func daysAgo(h *playbooktest.Harness, d int) time.Time {
	return h.Clock.Now().Add(-time.Duration(d) * 24 * time.Hour).UTC()
}

func tags(kv ...string) awssim.Tags {
	var ts awssim.Tags
	for i := 0; i+1 < len(kv); i += 2 {
		ts = append(ts, awssim.Tag{Key: kv[i], Value: kv[i+1]})
	}
	return ts
}

// byResource indexes finished runs by a field of their input resource.
func byResource(t *testing.T, runs []*playbooktest.Run, results []*playbooktest.Result, idField string) map[string]*playbooktest.Result {
	t.Helper()
	out := map[string]*playbooktest.Result{}
	for i, r := range results {
		in := r.Input
		key := ""
		if i := strings.Index(in, `"`+idField+`":"`); i >= 0 {
			rest := in[i+len(idField)+4:]
			key = rest[:strings.Index(rest, `"`)]
		}
		if key == "" {
			t.Fatalf("run %s: no %s in input %s", runs[i].ARN, idField, in)
		}
		out[key] = r
	}
	return out
}

func changesByAction(cs []*store.Change) map[string]*store.Change {
	out := map[string]*store.Change{}
	for _, c := range cs {
		if c.Kind == store.KindCall {
			out[c.Service+":"+c.Action] = c
		}
	}
	return out
}

func TestEBSUnused(t *testing.T) {
	h := newScheduled(t)
	const (
		dev, sbx, prod = playbooktest.Development, playbooktest.Sandbox, playbooktest.Production
		east, west     = "us-east-1", "eu-west-1"
	)
	ls := func(d int) string { return daysAgo(h, d).Format(time.RFC3339) }
	seed := func(acct, region string, vols ...awssim.Volume) {
		t.Helper()
		if err := h.Sim.AddResources(acct, region, awssim.Resources{Volumes: vols}); err != nil {
			t.Fatal(err)
		}
	}
	// Cases: volume id → the outcome expected.
	seed(dev, east,
		awssim.Volume{ID: "vol-0dev0000000000046", Size: 8, Tags: tags("steward:last-seen", ls(46), "owner", "alice")},
		awssim.Volume{ID: "vol-0dev0000000000044", Size: 8, Tags: tags("steward:last-seen", ls(44))},
		awssim.Volume{ID: "vol-0dev00000000first", Size: 8},
		awssim.Volume{ID: "vol-0dev00000attached", Size: 8, Attachments: []awssim.VolumeAttachment{{InstanceID: "i-0123456789abcdef0", Device: "/dev/xvdf"}}},
	)
	seed(dev, west, awssim.Volume{ID: "vol-0dev00000detached", Size: 8, Tags: tags("steward:last-seen", ls(50))})
	if err := h.Sim.AddCloudTrailEvents(dev, west, awssim.CloudTrailEvent{EventName: "DetachVolume", EventSource: "ec2.amazonaws.com",
		EventTime: daysAgo(h, 10), Username: "bob", Resources: []awssim.CloudTrailResource{{Type: "AWS::EC2::Volume", Name: "vol-0dev00000detached"}}}); err != nil {
		t.Fatal(err)
	}
	seed(sbx, west,
		awssim.Volume{ID: "vol-0sbx00000excepted", Size: 8, Tags: tags("steward:last-seen", ls(46), "steward:exception", "2026-12-31;kept for the audit")},
		awssim.Volume{ID: "vol-0sbx000000expired", Size: 8, Tags: tags("steward:last-seen", ls(46), "steward:exception", "2026-01-31")},
	)
	seed(sbx, east, awssim.Volume{ID: "vol-0sbx00000malformd", Size: 8, Tags: tags("steward:last-seen", ls(46), "steward:exception", "next year", "owner", "alice")})
	seed(prod, east, awssim.Volume{ID: "vol-0prod000000000046", Size: 8, Tags: tags("steward:last-seen", ls(46), "owner", "alice")})

	want := map[string]string{
		"vol-0dev0000000000046": "fixed", "vol-0dev0000000000044": "compliant", "vol-0dev00000000first": "compliant",
		"vol-0dev00000detached": "compliant", "vol-0sbx00000excepted": "exception", "vol-0sbx000000expired": "fixed",
		"vol-0sbx00000malformd": "notified", "vol-0prod000000000046": "fixed",
	}
	runs := h.Scan("ebs-unused", playbooktest.ScanOptions{})
	results := playbooktest.WaitAll(runs)
	got := byResource(t, runs, results, "VolumeId")
	if _, ok := got["vol-0dev00000attached"]; ok {
		t.Error("the scan found an attached volume")
	}
	pass := 0
	runOf := map[string]*playbooktest.Run{}
	for i, r := range results {
		for id, res := range got {
			if res == r {
				runOf[id] = runs[i]
			}
		}
	}
	for id, w := range want {
		r := got[id]
		if r == nil {
			t.Errorf("%s: not scanned", id)
			continue
		}
		if r.Status != "SUCCEEDED" || r.Outcome() != w {
			t.Errorf("%s: %s outcome %q, want %q (%s %s)\n%s", id, r.Status, r.Outcome(), w, r.Error, r.Cause, runOf[id].History())
			continue
		}
		pass++
	}
	t.Logf("ebs-unused: %d/%d volumes ended as expected", pass, len(want))

	vols := func(acct, region string) map[string]ec2types.Volume {
		out, err := ec2.NewFromConfig(h.AWSConfig(acct, region)).DescribeVolumes(h.Context(), &ec2.DescribeVolumesInput{})
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]ec2types.Volume{}
		for _, v := range out.Volumes {
			m[aws.ToString(v.VolumeId)] = v
		}
		return m
	}
	snapshotsOf := func(acct, region, vol string) []string {
		out, err := ec2.NewFromConfig(h.AWSConfig(acct, region)).DescribeSnapshots(h.Context(), &ec2.DescribeSnapshotsInput{
			Filters: []ec2types.Filter{{Name: aws.String("volume-id"), Values: []string{vol}}}})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, s := range out.Snapshots {
			ids = append(ids, aws.ToString(s.SnapshotId))
		}
		return ids
	}
	tagOf := func(v ec2types.Volume, key string) string {
		for _, tg := range v.Tags {
			if aws.ToString(tg.Key) == key {
				return aws.ToString(tg.Value)
			}
		}
		return ""
	}

	// Development, 46 days: snapshotted, deleted, the owner told; the
	// deletion's record names the snapshot.
	devEast := vols(dev, east)
	if _, ok := devEast["vol-0dev0000000000046"]; ok {
		t.Error("the 46-day volume is still there")
	}
	snaps := snapshotsOf(dev, east, "vol-0dev0000000000046")
	if len(snaps) != 1 {
		t.Fatalf("snapshots of the deleted volume: %v", snaps)
	}
	cs := changesByAction(h.Changes(runOf["vol-0dev0000000000046"]))
	del, snap := cs["ec2:DeleteVolume"], cs["ec2:CreateSnapshot"]
	if del == nil || snap == nil || del.Status != store.StatusApplied || snap.Status != store.StatusApplied {
		t.Fatalf("changes of the deletion: %+v", h.Changes(runOf["vol-0dev0000000000046"]))
	}
	if !strings.Contains(del.Irreversible, snaps[0]) {
		t.Errorf("the deletion's record does not name snapshot %s: %q", snaps[0], del.Irreversible)
	}
	if got["vol-0dev0000000000046"].Out["snapshotId"] != snaps[0] {
		t.Errorf("output names snapshot %v, AWS has %s", got["vol-0dev0000000000046"].Out["snapshotId"], snaps[0])
	}
	if n := h.Notices.For("vol-0dev0000000000046"); len(n) == 0 {
		t.Error("the owner was not told of the deletion")
	}
	// Rollback refuses: the volume cannot come back, and the snapshot
	// (the only copy) must stay.
	_, err := h.Rollback(runOf["vol-0dev0000000000046"])
	if !errors.Is(err, change.ErrIrreversible) || !strings.Contains(err.Error(), snaps[0]) {
		t.Errorf("rollback of the deletion: %v, want an irreversible change naming %s", err, snaps[0])
	}
	if s := snapshotsOf(dev, east, "vol-0dev0000000000046"); len(s) != 1 {
		t.Errorf("the refused rollback touched the snapshot: %v", s)
	}

	// 44 days: kept, no change; first sight: tagged now; attached: untouched.
	if v, ok := devEast["vol-0dev0000000000044"]; !ok || tagOf(v, "steward:last-seen") != ls(44) {
		t.Errorf("44-day volume: present %v, last-seen %q", ok, tagOf(v, "steward:last-seen"))
	}
	if cs := h.Changes(runOf["vol-0dev0000000000044"]); len(changesByAction(cs)) != 0 {
		t.Errorf("44-day volume has changes: %+v", cs)
	}
	if v := devEast["vol-0dev00000000first"]; tagOf(v, "steward:last-seen") != h.Clock.Now().UTC().Format(time.RFC3339) {
		t.Errorf("first sight: last-seen %q, want now", tagOf(v, "steward:last-seen"))
	}
	// Detached 10 days ago by CloudTrail: last-seen moved there.
	if v := vols(dev, west)["vol-0dev00000detached"]; tagOf(v, "steward:last-seen") != daysAgo(h, 10).Format(time.RFC3339) {
		t.Errorf("detached volume: last-seen %q, want the DetachVolume time %s", tagOf(v, "steward:last-seen"), daysAgo(h, 10).Format(time.RFC3339))
	}
	// Exceptions: in force kept; expired fixed; malformed told, kept.
	sbxWest := vols(sbx, west)
	if _, ok := sbxWest["vol-0sbx00000excepted"]; !ok {
		t.Error("the excepted volume was deleted")
	}
	if _, ok := sbxWest["vol-0sbx000000expired"]; ok {
		t.Error("the volume whose exception expired is still there")
	}
	if _, ok := vols(sbx, east)["vol-0sbx00000malformd"]; !ok {
		t.Error("the volume with a malformed exception tag was deleted")
	}
	if n := h.Notices.For("vol-0sbx00000malformd"); len(n) == 0 {
		t.Error("no notice about the malformed exception tag")
	}
	// Production is in the notify stage: planned, told, nothing changed.
	if _, ok := vols(prod, east)["vol-0prod000000000046"]; !ok {
		t.Error("production volume deleted in the notify stage")
	}
	if s := snapshotsOf(prod, east, "vol-0prod000000000046"); len(s) != 0 {
		t.Errorf("production snapshot taken in the notify stage: %v", s)
	}
	pcs := changesByAction(h.Changes(runOf["vol-0prod000000000046"]))
	for _, a := range []string{"ec2:CreateSnapshot", "ec2:DeleteVolume"} {
		if c := pcs[a]; c == nil || c.Status != store.StatusPlanned || c.Stage != "notify" {
			t.Errorf("production %s: %+v, want planned in notify", a, c)
		}
	}
	if s, _ := got["vol-0prod000000000046"].Out["snapshotId"].(string); !strings.HasPrefix(s, "snap-planned-") {
		t.Errorf("production output snapshot %q, want a planned one", s)
	}
	if n := h.Notices.For("vol-0prod000000000046"); len(n) == 0 || !strings.Contains(n[0].Title, "will be deleted") {
		t.Errorf("the production owner was not told of the plan: %+v", n)
	}
	if got["vol-0prod000000000046"].Out["planned"] != true {
		t.Errorf("production output: %v", got["vol-0prod000000000046"].Out)
	}
	fmt.Printf("ebs-unused: %d/%d volumes as expected across %d accounts\n", pass, len(want), 3)
}

// scheduledCase is one resource of a scheduled playbook's test: where it
// is and the outcome its run must end with.
type scheduledCase struct {
	id, account, region, outcome string
}

// runScan scans a playbook over the harness's inventory, waits for every
// run and checks each case's outcome; it returns the runs by resource id.
func runScan(t *testing.T, h *playbooktest.Harness, playbook, idField string, cases []scheduledCase) (map[string]*playbooktest.Run, map[string]*playbooktest.Result) {
	t.Helper()
	runs := h.Scan(playbook, playbooktest.ScanOptions{})
	results := playbooktest.WaitAll(runs)
	got := byResource(t, runs, results, idField)
	runOf := map[string]*playbooktest.Run{}
	for i, r := range results {
		for id, res := range got {
			if res == r {
				runOf[id] = runs[i]
			}
		}
	}
	pass := 0
	for _, c := range cases {
		r := got[c.id]
		switch {
		case c.outcome == "" && r != nil:
			t.Errorf("%s %s: scanned, want it left out of the scan", playbook, c.id)
		case c.outcome == "":
			pass++
		case r == nil:
			t.Errorf("%s %s: not scanned", playbook, c.id)
		case r.Status != "SUCCEEDED" || r.Outcome() != c.outcome:
			t.Errorf("%s %s: %s outcome %q, want %q (%s %s)\n%s", playbook, c.id, r.Status, r.Outcome(), c.outcome, r.Error, r.Cause, runOf[c.id].History())
		default:
			pass++
		}
	}
	t.Logf("%s: %d/%d resources ended as expected", playbook, pass, len(cases))
	fmt.Printf("%s: %d/%d resources ended as expected\n", playbook, pass, len(cases))
	return runOf, got
}

// wantRollbackRefused checks that rolling a run back is refused as
// irreversible, naming what is left (mention).
func wantRollbackRefused(t *testing.T, h *playbooktest.Harness, r *playbooktest.Run, mention string) {
	t.Helper()
	_, err := h.Rollback(r)
	if !errors.Is(err, change.ErrIrreversible) || !strings.Contains(err.Error(), mention) {
		t.Errorf("rollback: %v, want an irreversible change naming %q", err, mention)
	}
}

// wantChanges checks the run's aws-sdk change records: each action with
// the status wanted.
func wantChanges(t *testing.T, h *playbooktest.Harness, r *playbooktest.Run, status store.ChangeStatus, actions ...string) map[string]*store.Change {
	t.Helper()
	cs := changesByAction(h.Changes(r))
	for _, a := range actions {
		if c := cs[a]; c == nil || c.Status != status {
			t.Errorf("change %s: %+v, want %s", a, c, status)
		}
	}
	if len(actions) == 0 && len(cs) != 0 {
		t.Errorf("unexpected changes: %v", cs)
	}
	return cs
}

func TestEIPUnused(t *testing.T) {
	h := newScheduled(t)
	const dev, sbx, prod = playbooktest.Development, playbooktest.Sandbox, playbooktest.Production
	ls := func(d int) string { return daysAgo(h, d).Format(time.RFC3339) }
	seed := func(acct, region string, addrs ...awssim.Address) {
		t.Helper()
		if err := h.Sim.AddResources(acct, region, awssim.Resources{Addresses: addrs}); err != nil {
			t.Fatal(err)
		}
	}
	seed(dev, "us-east-1",
		awssim.Address{AllocationID: "eipalloc-0dev000000000046", PublicIP: "198.51.100.46", Tags: tags("steward:last-seen", ls(46), "owner", "alice")},
		awssim.Address{AllocationID: "eipalloc-0dev000000000044", PublicIP: "198.51.100.44", Tags: tags("steward:last-seen", ls(44))},
		awssim.Address{AllocationID: "eipalloc-0dev00000000used", PublicIP: "198.51.100.10", AssociationID: "eipassoc-0123456789abcdef0",
			InstanceID: "i-0123456789abcdef0", Tags: tags("steward:last-seen", ls(60))},
	)
	seed(sbx, "eu-west-1", awssim.Address{AllocationID: "eipalloc-0sbx0000excepted", PublicIP: "203.0.113.5",
		Tags: tags("steward:last-seen", ls(46), "steward:exception", "2027-01-01")})
	seed(prod, "eu-west-1", awssim.Address{AllocationID: "eipalloc-0prod00000000046", PublicIP: "203.0.113.46", Tags: tags("steward:last-seen", ls(46))})
	runOf, got := runScan(t, h, "eip-unused", "AllocationId", []scheduledCase{
		{"eipalloc-0dev000000000046", dev, "us-east-1", "fixed"},
		{"eipalloc-0dev000000000044", dev, "us-east-1", "compliant"},
		{"eipalloc-0dev00000000used", dev, "us-east-1", "compliant"},
		{"eipalloc-0sbx0000excepted", sbx, "eu-west-1", "exception"},
		{"eipalloc-0prod00000000046", prod, "eu-west-1", "fixed"},
	})
	addrs := func(acct, region string) map[string]bool {
		out, err := ec2.NewFromConfig(h.AWSConfig(acct, region)).DescribeAddresses(h.Context(), &ec2.DescribeAddressesInput{})
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]bool{}
		for _, a := range out.Addresses {
			m[aws.ToString(a.AllocationId)] = true
		}
		return m
	}
	devAddrs := addrs(dev, "us-east-1")
	if devAddrs["eipalloc-0dev000000000046"] || !devAddrs["eipalloc-0dev000000000044"] || !devAddrs["eipalloc-0dev00000000used"] {
		t.Errorf("development addresses after the scan: %v", devAddrs)
	}
	rel := wantChanges(t, h, runOf["eipalloc-0dev000000000046"], store.StatusApplied, "ec2:ReleaseAddress")["ec2:ReleaseAddress"]
	if rel != nil && (!strings.Contains(string(rel.Before), "eipalloc-0dev000000000046") || !strings.Contains(rel.Irreversible, "198.51.100.46")) {
		t.Errorf("the release's record does not keep the allocation: before %s, irreversible %q", rel.Before, rel.Irreversible)
	}
	if got["eipalloc-0dev000000000046"].Out["publicIp"] != "198.51.100.46" {
		t.Errorf("output: %v", got["eipalloc-0dev000000000046"].Out)
	}
	wantRollbackRefused(t, h, runOf["eipalloc-0dev000000000046"], "198.51.100.46")
	wantChanges(t, h, runOf["eipalloc-0dev000000000044"], "")
	if !addrs(sbx, "eu-west-1")["eipalloc-0sbx0000excepted"] {
		t.Error("the excepted address was released")
	}
	if !addrs(prod, "eu-west-1")["eipalloc-0prod00000000046"] {
		t.Error("production address released in the notify stage")
	}
	wantChanges(t, h, runOf["eipalloc-0prod00000000046"], store.StatusPlanned, "ec2:ReleaseAddress")
}

func TestEC2Stopped(t *testing.T) {
	h := newScheduled(t)
	const dev, prod = playbooktest.Development, playbooktest.Production
	ls := func(d int) string { return daysAgo(h, d).Format(time.RFC3339) }
	if err := h.Sim.AddResources(dev, "us-east-1", awssim.Resources{
		Instances: []awssim.Instance{
			{ID: "i-0dev00000000000046", State: "stopped", Tags: tags("steward:last-seen", ls(46), "owner", "alice")},
			{ID: "i-0dev00000000000044", State: "stopped", Tags: tags("steward:last-seen", ls(44))},
			{ID: "i-0dev0000000running", State: "running", Tags: tags("steward:last-seen", ls(90))},
			{ID: "i-0dev000000000first", State: "stopped"},
		},
		Volumes: []awssim.Volume{
			{ID: "vol-0root000000000046", Size: 8, Attachments: []awssim.VolumeAttachment{{InstanceID: "i-0dev00000000000046", Device: "/dev/xvda", DeleteOnTermination: true}}},
			{ID: "vol-0data000000000046", Size: 100, Attachments: []awssim.VolumeAttachment{{InstanceID: "i-0dev00000000000046", Device: "/dev/xvdf"}}},
		},
	}); err != nil {
		t.Fatal(err)
	}
	if err := h.Sim.AddResources(prod, "eu-west-1", awssim.Resources{Instances: []awssim.Instance{
		{ID: "i-0prod0000000000046", State: "stopped", Tags: tags("steward:last-seen", ls(46))}}}); err != nil {
		t.Fatal(err)
	}
	runOf, got := runScan(t, h, "ec2-stopped", "InstanceId", []scheduledCase{
		{"i-0dev00000000000046", dev, "us-east-1", "fixed"},
		{"i-0dev00000000000044", dev, "us-east-1", "compliant"},
		{"i-0dev0000000running", dev, "us-east-1", ""},
		{"i-0dev000000000first", dev, "us-east-1", "compliant"},
		{"i-0prod0000000000046", prod, "eu-west-1", "fixed"},
	})
	state := func(acct, region, id string) string {
		out, err := ec2.NewFromConfig(h.AWSConfig(acct, region)).DescribeInstances(h.Context(), &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
		if err != nil {
			return "error: " + err.Error()
		}
		return string(out.Reservations[0].Instances[0].State.Name)
	}
	if s := state(dev, "us-east-1", "i-0dev00000000000046"); s != "terminated" && s != "shutting-down" {
		t.Errorf("46-day instance is %s", s)
	}
	if s := state(dev, "us-east-1", "i-0dev00000000000044"); s != "stopped" {
		t.Errorf("44-day instance is %s", s)
	}
	if s := state(prod, "eu-west-1", "i-0prod0000000000046"); s != "stopped" {
		t.Errorf("production instance is %s in the notify stage", s)
	}
	snaps, err := ec2.NewFromConfig(h.AWSConfig(dev, "us-east-1")).DescribeSnapshots(h.Context(), &ec2.DescribeSnapshotsInput{})
	if err != nil {
		t.Fatal(err)
	}
	byVol := map[string]string{}
	for _, s := range snaps.Snapshots {
		byVol[aws.ToString(s.VolumeId)] = aws.ToString(s.SnapshotId)
	}
	if byVol["vol-0root000000000046"] == "" || byVol["vol-0data000000000046"] == "" {
		t.Errorf("snapshots before termination: %v", byVol)
	}
	if l, _ := got["i-0dev00000000000046"].Out["snapshots"].([]any); len(l) != 2 {
		t.Errorf("output snapshots: %v", got["i-0dev00000000000046"].Out["snapshots"])
	}
	term := wantChanges(t, h, runOf["i-0dev00000000000046"], store.StatusApplied, "ec2:CreateSnapshot", "ec2:TerminateInstances")["ec2:TerminateInstances"]
	if term != nil && !strings.Contains(term.Irreversible, byVol["vol-0data000000000046"]) {
		t.Errorf("termination record does not name the snapshots: %q", term.Irreversible)
	}
	wantRollbackRefused(t, h, runOf["i-0dev00000000000046"], byVol["vol-0root000000000046"])
	wantChanges(t, h, runOf["i-0prod0000000000046"], store.StatusPlanned, "ec2:TerminateInstances")
}

func TestRDSIdle(t *testing.T) {
	h := newScheduled(t)
	const dev, sbx, prod = playbooktest.Development, playbooktest.Sandbox, playbooktest.Production
	conn := func(id string, days ...int) awssim.MetricSeries {
		m := awssim.MetricSeries{Namespace: "AWS/RDS", Name: "DatabaseConnections", Dimensions: map[string]string{"DBInstanceIdentifier": id}}
		for _, d := range days {
			m.Points = append(m.Points, awssim.Datapoint{Time: daysAgo(h, d), Value: 3})
		}
		return m
	}
	db := func(id string, ageDays int, tg awssim.Tags) awssim.DBInstance {
		return awssim.DBInstance{ID: id, Engine: "postgres", Status: "available", AllocatedStorage: 20, CreateTime: daysAgo(h, ageDays), Tags: tg}
	}
	if err := h.Sim.AddResources(dev, "us-east-1", awssim.Resources{
		DBInstances: []awssim.DBInstance{
			db("orders-idle", 200, tags("owner", "alice")), // last connection 46 days ago
			db("orders-used", 200, nil),                    // last connection 44 days ago
			db("orders-new", 10, nil),                      // never connected, 10 days old
		},
		Metrics: []awssim.MetricSeries{conn("orders-idle", 120, 46), conn("orders-used", 120, 44)},
	}); err != nil {
		t.Fatal(err)
	}
	if err := h.Sim.AddResources(sbx, "eu-west-1", awssim.Resources{DBInstances: []awssim.DBInstance{
		db("legacy-kept", 400, tags("steward:exception", "2026-06-30;quarterly reporting"))}}); err != nil {
		t.Fatal(err)
	}
	if err := h.Sim.AddResources(prod, "eu-west-1", awssim.Resources{DBInstances: []awssim.DBInstance{db("billing-idle", 300, nil)}}); err != nil {
		t.Fatal(err)
	}
	runOf, got := runScan(t, h, "rds-idle", "DBInstanceIdentifier", []scheduledCase{
		{"orders-idle", dev, "us-east-1", "fixed"},
		{"orders-used", dev, "us-east-1", "compliant"},
		{"orders-new", dev, "us-east-1", "compliant"},
		{"legacy-kept", sbx, "eu-west-1", "exception"},
		{"billing-idle", prod, "eu-west-1", "fixed"},
	})
	rdsc := func(acct, region string) *rds.Client { return rds.NewFromConfig(h.AWSConfig(acct, region)) }
	exists := func(acct, region, id string) bool {
		_, err := rdsc(acct, region).DescribeDBInstances(h.Context(), &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(id)})
		return err == nil
	}
	if exists(dev, "us-east-1", "orders-idle") {
		// Deletion may still be settling: the next read sees it gone.
		if exists(dev, "us-east-1", "orders-idle") {
			t.Error("the idle DB instance is still there")
		}
	}
	for _, id := range []string{"orders-used", "orders-new"} {
		if !exists(dev, "us-east-1", id) {
			t.Errorf("%s was deleted", id)
		}
	}
	snaps, err := rdsc(dev, "us-east-1").DescribeDBSnapshots(h.Context(), &rds.DescribeDBSnapshotsInput{DBSnapshotIdentifier: aws.String("steward-rds-idle-orders-idle")})
	if err != nil || len(snaps.DBSnapshots) != 1 {
		t.Errorf("final snapshot: %v, %v", snaps, err)
	}
	del := wantChanges(t, h, runOf["orders-idle"], store.StatusApplied, "rds:DeleteDBInstance")["rds:DeleteDBInstance"]
	if del != nil && !strings.Contains(del.Irreversible, "steward-rds-idle-orders-idle") {
		t.Errorf("the deletion's record does not name the final snapshot: %q", del.Irreversible)
	}
	wantRollbackRefused(t, h, runOf["orders-idle"], "steward-rds-idle-orders-idle")
	if n := h.Notices.For("orders-idle"); len(n) == 0 {
		t.Error("the owner was not told")
	}
	if !exists(sbx, "eu-west-1", "legacy-kept") || !exists(prod, "eu-west-1", "billing-idle") {
		t.Error("an excepted or production DB instance was deleted")
	}
	wantChanges(t, h, runOf["billing-idle"], store.StatusPlanned, "rds:DeleteDBInstance")
	if got["billing-idle"].Out["planned"] != true {
		t.Errorf("production output: %v", got["billing-idle"].Out)
	}
}

func TestRoute53NSOnly(t *testing.T) {
	h := newScheduled(t)
	const dev, sbx, prod = playbooktest.Development, playbooktest.Sandbox, playbooktest.Production
	// One value per delegation: the sim's ListResourceRecordSets answers
	// only the last value of a multi-value record set (an awssim bug,
	// reported), so a DELETE built from the listing would not match.
	ns := func(name string) awssim.RecordSet {
		return awssim.RecordSet{Name: name, Type: "NS", TTL: 172800, Values: []string{"ns-1.awsdns-01.org."}}
	}
	zones := map[string][]awssim.HostedZone{
		dev: {
			{ID: "Z0DEVNSONLY000000001", Name: "old.example.com.", Tags: tags("owner", "alice")},
			{ID: "Z0DEVINUSE0000000002", Name: "www.example.com.", Records: []awssim.RecordSet{{Name: "www.example.com.", Type: "A", TTL: 300, Values: []string{"192.0.2.10"}}}},
			{ID: "Z0DEVPRIVATE00000003", Name: "corp.internal.", Private: true},
			{ID: "Z0DEVDELEG0000000004", Name: "deleg.example.com.", Records: []awssim.RecordSet{ns("team.deleg.example.com.")}},
		},
		sbx:  {{ID: "Z0SBXKEPT00000000005", Name: "kept.example.org.", Tags: tags("steward:exception", "2026-09-01;migration")}},
		prod: {{ID: "Z0PRODNSONLY00000006", Name: "legacy.example.net."}},
	}
	for acct, zs := range zones {
		if err := h.Sim.AddHostedZones(acct, zs...); err != nil {
			t.Fatal(err)
		}
	}
	runOf, got := runScan(t, h, "route53-ns-only", "Id", []scheduledCase{
		{"/hostedzone/Z0DEVNSONLY000000001", dev, "", "fixed"},
		{"/hostedzone/Z0DEVINUSE0000000002", dev, "", "compliant"},
		{"/hostedzone/Z0DEVPRIVATE00000003", dev, "", "compliant"},
		{"/hostedzone/Z0DEVDELEG0000000004", dev, "", "fixed"},
		{"/hostedzone/Z0SBXKEPT00000000005", sbx, "", "exception"},
		{"/hostedzone/Z0PRODNSONLY00000006", prod, "", "fixed"},
	})
	left := func(acct string) map[string]bool {
		m := map[string]bool{}
		for _, z := range h.Sim.HostedZones(acct) {
			m[z.ID] = true
		}
		return m
	}
	if l := left(dev); l["Z0DEVNSONLY000000001"] || l["Z0DEVDELEG0000000004"] || !l["Z0DEVINUSE0000000002"] || !l["Z0DEVPRIVATE00000003"] {
		t.Errorf("development zones left: %v", l)
	}
	if !left(sbx)["Z0SBXKEPT00000000005"] || !left(prod)["Z0PRODNSONLY00000006"] {
		t.Error("an excepted or production zone was deleted")
	}
	del := wantChanges(t, h, runOf["/hostedzone/Z0DEVDELEG0000000004"], store.StatusApplied, "route53:ChangeResourceRecordSets", "route53:DeleteHostedZone")["route53:DeleteHostedZone"]
	if del != nil && !strings.Contains(del.Irreversible, "Z0DEVDELEG0000000004") {
		t.Errorf("the deletion's record: %q", del.Irreversible)
	}
	wantRollbackRefused(t, h, runOf["/hostedzone/Z0DEVNSONLY000000001"], "Z0DEVNSONLY000000001")
	wantChanges(t, h, runOf["/hostedzone/Z0PRODNSONLY00000006"], store.StatusPlanned, "route53:DeleteHostedZone")
	if got["/hostedzone/Z0PRODNSONLY00000006"].Out["planned"] != true {
		t.Errorf("production output: %v", got["/hostedzone/Z0PRODNSONLY00000006"].Out)
	}
	if n := h.Notices.For("Z0DEVNSONLY000000001"); len(n) == 0 {
		t.Error("the owner was not told")
	}
}

// TestScheduledDryRun scans ebs-unused with --dry-run in an account where
// it is enforced: everything is planned, nothing changes, not even
// steward's own bookkeeping tags.
func TestScheduledDryRun(t *testing.T) {
	h := newScheduled(t)
	const dev = playbooktest.Development
	if err := h.Sim.AddResources(dev, "us-east-1", awssim.Resources{Volumes: []awssim.Volume{
		{ID: "vol-0dry000000000046", Size: 8, Tags: tags("steward:last-seen", daysAgo(h, 46).Format(time.RFC3339))},
		{ID: "vol-0dry0000000first", Size: 8},
	}}); err != nil {
		t.Fatal(err)
	}
	runs := h.Scan("ebs-unused", playbooktest.ScanOptions{Accounts: []string{dev}, Regions: []string{"us-east-1"}, DryRun: true})
	got := byResource(t, runs, playbooktest.WaitAll(runs), "VolumeId")
	if r := got["vol-0dry000000000046"]; r == nil || r.Outcome() != "fixed" || r.Out["planned"] != true {
		t.Fatalf("dry run of the 46-day volume: %+v", r)
	}
	out, err := ec2.NewFromConfig(h.AWSConfig(dev, "us-east-1")).DescribeVolumes(h.Context(), &ec2.DescribeVolumesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Volumes) != 2 {
		t.Errorf("a dry run deleted volumes: %d left", len(out.Volumes))
	}
	for _, v := range out.Volumes {
		if aws.ToString(v.VolumeId) == "vol-0dry0000000first" && len(v.Tags) != 0 {
			t.Errorf("a dry run tagged the first-sight volume: %v", v.Tags)
		}
	}
	for _, r := range runs {
		for _, c := range h.Changes(r) {
			if c.Status != store.StatusPlanned || c.Stage != "observe" {
				t.Errorf("dry run change %s:%s is %s in %s", c.Service, c.Action, c.Status, c.Stage)
			}
		}
	}
	if calls := h.Sim.Calls(); calls["ec2:CreateSnapshot"]+calls["ec2:DeleteVolume"]+calls["tagging:TagResources"]+calls["ec2:CreateTags"] != 0 {
		t.Errorf("a dry run called mutating APIs: %v", calls)
	}
}

// BenchmarkEBSUnusedCompliant runs ebs-unused on a volume unattached for
// 44 days, b.N times, on the durable engine (SQLite) against the sim: the
// common daily case (describe, exception and last-seen checks, CloudTrail
// lookup, no change).
func BenchmarkEBSUnusedCompliant(b *testing.B) {
	cfg, err := config.Parse([]byte(scheduledConfig))
	if err != nil {
		b.Fatal(err)
	}
	cat, err := catalog.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	h := playbooktest.New(b, playbooktest.Options{Stages: cat})
	h.NeedSim("seeds a volume")
	const dev = playbooktest.Development
	if err := h.Sim.AddResources(dev, "us-east-1", awssim.Resources{Volumes: []awssim.Volume{
		{ID: "vol-0bench00000000044", Size: 8, Tags: tags("steward:last-seen", daysAgo(h, 44).Format(time.RFC3339))}}}); err != nil {
		b.Fatal(err)
	}
	in := map[string]any{"account": dev, "region": "us-east-1", "resource": map[string]any{"VolumeId": "vol-0bench00000000044"}}
	b.ResetTimer()
	runs := make([]*playbooktest.Run, 0, b.N)
	for i := 0; i < b.N; i++ {
		runs = append(runs, h.Start("ebs-unused", in))
	}
	for _, r := range playbooktest.WaitAll(runs) {
		if r.Outcome() != "compliant" {
			b.Fatalf("outcome %q", r.Outcome())
		}
	}
}

// TestEBSUnusedAnyEndpoint is the part of ebs-unused that needs nothing
// only the sim can do: volumes created through the API with last-seen tags
// 44 and 46 days old. It runs against STEWARD_TEST_AWS_ENDPOINT as well.
func TestEBSUnusedAnyEndpoint(t *testing.T) {
	cfg, err := config.Parse([]byte(scheduledConfig))
	if err != nil {
		t.Fatal(err)
	}
	cat, err := catalog.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h := playbooktest.New(t, playbooktest.Options{Stages: cat})
	const dev, region = playbooktest.Development, "eu-west-1"
	client := ec2.NewFromConfig(h.AWSConfig(dev, region))
	create := func(days int) string {
		lastSeen := daysAgo(h, days).Format(time.RFC3339)
		if h.Sim != nil { // the sim has no CreateVolume: seed it
			id := fmt.Sprintf("vol-0any%013d", days)
			if err := h.Sim.AddResources(dev, region, awssim.Resources{Volumes: []awssim.Volume{{ID: id, Size: 1, Tags: tags("steward:last-seen", lastSeen)}}}); err != nil {
				t.Fatal(err)
			}
			return id
		}
		out, err := client.CreateVolume(h.Context(), &ec2.CreateVolumeInput{AvailabilityZone: aws.String(region + "a"), Size: aws.Int32(1),
			TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeVolume, Tags: []ec2types.Tag{
				{Key: aws.String("steward:last-seen"), Value: aws.String(lastSeen)}}}}})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.VolumeId)
	}
	old, young := create(46), create(44)
	runs := h.Scan("ebs-unused", playbooktest.ScanOptions{Accounts: []string{dev}, Regions: []string{region}})
	got := byResource(t, runs, playbooktest.WaitAll(runs), "VolumeId")
	if got[old] == nil || got[old].Outcome() != "fixed" || got[young] == nil || got[young].Outcome() != "compliant" {
		t.Fatalf("outcomes: 46 days %+v, 44 days %+v", got[old], got[young])
	}
	out, err := client.DescribeVolumes(h.Context(), &ec2.DescribeVolumesInput{})
	if err != nil {
		t.Fatal(err)
	}
	left := map[string]bool{}
	for _, v := range out.Volumes {
		if v.State != ec2types.VolumeStateDeleting && v.State != ec2types.VolumeStateDeleted {
			left[aws.ToString(v.VolumeId)] = true
		}
	}
	if left[old] || !left[young] {
		t.Errorf("volumes left: %v (46 days %s, 44 days %s)", left, old, young)
	}
}
