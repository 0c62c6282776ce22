package builtin

import (
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/awssim"
)

func lastSeenInput(arn, tagValue string, inUse bool) string {
	tags := `[{"Key": "Name", "Value": "data"}]`
	if tagValue != "" {
		tags = `[{"Key": "Name", "Value": "data"}, {"Key": "steward:last-seen", "Value": "` + tagValue + `"}]`
	}
	use := "false"
	if inUse {
		use = "true"
	}
	return `{"Resource": "` + arn + `", "Tags": ` + tags + `, "InUse": ` + use + `, "EventNames": ["AttachVolume", "DetachVolume"], "ResourceName": "vol-1"}`
}

func TestLastSeenFirstSightThenDays(t *testing.T) {
	e := newEnv(t)
	tk := e.tasks(nil)
	e.seedVolume(t, "vol-1", map[string]string{"Name": "data"})
	arn := volARN("vol-1")

	out := mustCall(t, tk, ResourceLastSeen, lastSeenInput(arn, "", false), "")
	if out["FirstSight"] != true || out["LastSeen"] != "2026-03-01T12:00:00Z" || out["Days"] != jsonNum("0") {
		t.Fatalf("first sight: %v", out)
	}
	tag := e.tagsOf(t, acct, region, arn)["steward:last-seen"]
	if tag != "2026-03-01T12:00:00Z" {
		t.Fatalf("tag after first sight = %q", tag)
	}
	// 44 days later: 44; 46 days later: 46. Nothing moves the tag.
	for _, c := range []struct {
		after time.Duration
		days  string
	}{{44*24*time.Hour + 23*time.Hour, "44"}, {46 * 24 * time.Hour, "46"}} {
		e.clock.Set(t0.Add(c.after))
		out := mustCall(t, tk, ResourceLastSeen, lastSeenInput(arn, tag, false), "")
		if out["FirstSight"] != false || out["Days"] != jsonNum(c.days) || out["LastSeen"] != tag {
			t.Errorf("after %s: %v, want %s days", c.after, out, c.days)
		}
	}
	if got := e.tagsOf(t, acct, region, arn)["steward:last-seen"]; got != tag {
		t.Errorf("tag moved to %q with no event", got)
	}
	// In use now: seen now, tag refreshed.
	out = mustCall(t, tk, ResourceLastSeen, lastSeenInput(arn, tag, true), "")
	now := "2026-04-16T12:00:00Z"
	if out["Days"] != jsonNum("0") || out["LastSeen"] != now {
		t.Errorf("in use: %v", out)
	}
	if got := e.tagsOf(t, acct, region, arn)["steward:last-seen"]; got != now {
		t.Errorf("in use: tag %q, want %q", got, now)
	}
}

func TestLastSeenRefreshFromCloudTrail(t *testing.T) {
	e := newEnv(t)
	tk := e.tasks(nil)
	e.seedVolume(t, "vol-1", map[string]string{"Name": "data"})
	arn := volARN("vol-1")
	tag := "2026-03-01T12:00:00Z"
	ev := func(id, name string, at time.Time, res string) awssim.CloudTrailEvent {
		return awssim.CloudTrailEvent{EventID: id, EventName: name, EventSource: "ec2.amazonaws.com", EventTime: at, Username: "alice",
			Region: region, Resources: []awssim.CloudTrailResource{{Type: "AWS::EC2::Volume", Name: res}}}
	}
	e.clock.Set(t0.AddDate(0, 0, 46))
	err := e.sim.AddCloudTrailEvents(acct, region,
		ev("e1", "DetachVolume", t0.AddDate(0, 0, 10), "vol-1"),   // counts: the newest matching
		ev("e0", "AttachVolume", t0.AddDate(0, 0, 5), "vol-1"),    // older
		ev("e2", "CreateSnapshot", t0.AddDate(0, 0, 20), "vol-1"), // not a usage event
		ev("e3", "AttachVolume", t0.AddDate(0, 0, 30), "vol-2"),   // another volume
		ev("e4", "AttachVolume", t0.Add(-24*time.Hour), "vol-1"),  // before the tag
	)
	if err != nil {
		t.Fatal(err)
	}
	out := mustCall(t, tk, ResourceLastSeen, lastSeenInput(arn, tag, false), "")
	want := "2026-03-11T12:00:00Z"
	if out["LastSeen"] != want || out["Days"] != jsonNum("36") || out["FirstSight"] != false {
		t.Errorf("refresh: %v, want LastSeen %s, 36 days", out, want)
	}
	if got := e.tagsOf(t, acct, region, arn)["steward:last-seen"]; got != want {
		t.Errorf("tag = %q, want %q", got, want)
	}
	// A dry run computes the same and writes nothing.
	e.clock.Set(t0.AddDate(0, 0, 47))
	e.seedVolume(t, "vol-3", nil)
	dry := `{"account": "` + acct + `", "region": "` + region + `", "steward": {"stage": "observe"}}`
	out = mustCall(t, tk, ResourceLastSeen, lastSeenInput(volARN("vol-3"), "", false), dry)
	if out["FirstSight"] != true {
		t.Errorf("dry run: %v", out)
	}
	if got := e.tagsOf(t, acct, region, volARN("vol-3")); len(got) != 0 {
		t.Errorf("dry run tagged: %v", got)
	}
}

func TestLastSeenOddTags(t *testing.T) {
	e := newEnv(t)
	tk := e.tasks(nil)
	e.seedVolume(t, "vol-1", nil)
	arn := volARN("vol-1")
	// A value steward cannot read is a first sight (the clock restarts:
	// the safe direction); a date counts from its midnight; a future time
	// counts from now.
	for _, c := range []struct {
		tag, seen, days string
		first           bool
	}{
		{"garbage", "2026-03-01T12:00:00Z", "0", true},
		{"2026-01-15", "2026-01-15T00:00:00Z", "45", false},
		{"2027-01-01T00:00:00Z", "2026-03-01T12:00:00Z", "0", false},
	} {
		out := mustCall(t, tk, ResourceLastSeen, `{"Resource": "`+arn+`", "Tags": {"steward:last-seen": "`+c.tag+`"}}`, "")
		if out["LastSeen"] != c.seen || out["Days"] != jsonNum(c.days) || out["FirstSight"] != c.first {
			t.Errorf("tag %q: %v, want %s %s days first=%v", c.tag, out, c.seen, c.days, c.first)
		}
	}
}
