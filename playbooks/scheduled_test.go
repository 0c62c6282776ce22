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
	if n := h.Notices.For("vol-0prod000000000046"); len(n) == 0 {
		t.Error("the production owner was not told")
	}
	fmt.Printf("ebs-unused: %d/%d volumes as expected across %d accounts\n", pass, len(want), 3)
}
