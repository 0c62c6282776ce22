package builtin

import (
	"reflect"
	"strings"
	"testing"
)

func TestTagLeavesUsersTagsAlone(t *testing.T) {
	e := newEnv(t)
	tk := e.tasks(nil)
	e.seedVolume(t, "vol-1", map[string]string{"Name": "data", "owner": "bob", "team:cost-center": "42"})

	out := mustCall(t, tk, ResourceTag, `{"Resource": "`+volARN("vol-1")+`", "Tags": {"last-seen": "2026-03-01T12:00:00Z", "steward:owner": "alice@example.com"}}`, "")
	want := map[string]any{"steward:last-seen": "2026-03-01T12:00:00Z", "steward:owner": "alice@example.com"}
	if !reflect.DeepEqual(out["Tags"], want) {
		t.Errorf("Tags = %v, want %v", out["Tags"], want)
	}
	got := e.tagsOf(t, acct, region, volARN("vol-1"))
	wantAll := map[string]string{"Name": "data", "owner": "bob", "team:cost-center": "42",
		"steward:last-seen": "2026-03-01T12:00:00Z", "steward:owner": "alice@example.com"}
	if !reflect.DeepEqual(got, wantAll) {
		t.Errorf("tags on the volume = %v, want %v", got, wantAll)
	}

	out = mustCall(t, tk, ResourceUntag, `{"Resource": "`+volARN("vol-1")+`", "Keys": ["last-seen", "owner"]}`, "")
	if !reflect.DeepEqual(out["Keys"], []any{"steward:last-seen", "steward:owner"}) {
		t.Errorf("Keys = %v", out["Keys"])
	}
	got = e.tagsOf(t, acct, region, volARN("vol-1"))
	wantAll = map[string]string{"Name": "data", "owner": "bob", "team:cost-center": "42"}
	if !reflect.DeepEqual(got, wantAll) {
		t.Errorf("after untag: %v, want %v (the user's owner tag stays)", got, wantAll)
	}
}

func TestTagRefusesForeignKeys(t *testing.T) {
	e := newEnv(t)
	tk := e.tasks(nil)
	e.seedVolume(t, "vol-1", map[string]string{"Name": "data"})
	for _, in := range []string{
		`{"Resource": "` + volARN("vol-1") + `", "Tags": {"aws:cloudformation:stack-name": "x"}}`,
		`{"Resource": "` + volARN("vol-1") + `", "Tags": {"team:owner": "x"}}`,
		`{"Resource": "` + volARN("vol-1") + `", "Tags": {}}`,
		`{"Resource": "` + volARN("vol-1") + `", "Tags": {"last-seen": {"a": 1}}}`,
		`{"Resource": "vol-1", "Tags": {"last-seen": "x"}}`,
		`{"Tags": {"last-seen": "x"}}`,
		`{"Resource": "` + volARN("vol-1") + `", "Keys": ["aws:foo"]}`,
	} {
		res := ResourceTag
		if strings.Contains(in, `"Keys"`) {
			res = ResourceUntag
		}
		if _, err := call(t, tk, res, in, ""); aslName(err) != ErrInvalidInput {
			t.Errorf("%s %s: %v, want %s", res, in, err, ErrInvalidInput)
		}
	}
	if got := e.tagsOf(t, acct, region, volARN("vol-1")); !reflect.DeepEqual(got, map[string]string{"Name": "data"}) {
		t.Errorf("tags changed: %v", got)
	}
}

func TestTagDryRunWritesNothing(t *testing.T) {
	e := newEnv(t)
	tk := e.tasks(nil)
	e.seedVolume(t, "vol-1", map[string]string{"Name": "data"})
	dry := `{"account": "` + acct + `", "region": "` + region + `", "steward": {"stage": "observe"}}`
	out := mustCall(t, tk, ResourceTag, `{"Resource": "`+volARN("vol-1")+`", "Tags": {"last-seen": "x"}}`, dry)
	if out["Planned"] != true {
		t.Errorf("dry run: %v, want Planned", out)
	}
	if got := e.tagsOf(t, acct, region, volARN("vol-1")); len(got) != 1 {
		t.Errorf("dry run wrote tags: %v", got)
	}
}

func TestTagWhereTheARNSays(t *testing.T) {
	e := newEnv(t)
	tk := e.tasks(nil)
	// A snapshot ARN has no account: the execution input gives it. An S3
	// bucket ARN has neither account nor region.
	if err := e.sim.AddResources(acct, region, awssimSnapshot("snap-1")); err != nil {
		t.Fatal(err)
	}
	arn := "arn:aws:ec2:us-east-1::snapshot/snap-1"
	mustCall(t, tk, ResourceTag, `{"Resource": "`+arn+`", "Tags": {"last-seen": "now"}}`, "")
	if got := e.tagsOf(t, acct, region, arn); got["steward:last-seen"] != "now" {
		t.Errorf("snapshot tags: %v", got)
	}
	if err := e.sim.AddBuckets(acct, awssimBucket("logs-bucket")); err != nil {
		t.Fatal(err)
	}
	mustCall(t, tk, ResourceTag, `{"Resource": "arn:aws:s3:::logs-bucket", "Tags": {"owner": "alice@example.com"}}`, "")
	got := e.tagsOf(t, acct, region, "arn:aws:s3:::logs-bucket")
	if got["steward:owner"] != "alice@example.com" || got["Name"] != "logs" {
		t.Errorf("bucket tags: %v", got)
	}
	// An account steward does not act in fails with a cause naming it.
	_, err := call(t, tk, ResourceTag, `{"Resource": "arn:aws:ec2:us-east-1:333333333333:volume/vol-9", "Tags": {"a": "b"}}`, "")
	if err == nil || !strings.Contains(err.Error(), "333333333333") {
		t.Errorf("unknown account: %v", err)
	}
	// A resource that is not there: the tagging API's failure, named.
	_, err = call(t, tk, ResourceTag, `{"Resource": "`+volARN("vol-404")+`", "Tags": {"a": "b"}}`, "")
	if err == nil || !strings.Contains(err.Error(), "vol-404") {
		t.Errorf("missing volume: %v", err)
	}
	t.Logf("missing volume: %v", err)
}

func TestTagsOf(t *testing.T) {
	cases := []struct {
		in   string
		want map[string]string
		bad  bool
	}{
		{`null`, map[string]string{}, false},
		{`[{"Key": "a", "Value": "1"}, {"key": "b", "value": "2"}]`, map[string]string{"a": "1", "b": "2"}, false},
		{`{"Items": [{"Key": "a", "Value": "1"}], "Quantity": 1}`, map[string]string{"a": "1"}, false},
		{`{"a": "1", "n": 2, "t": true}`, map[string]string{"a": "1", "n": "2", "t": "true"}, false},
		{`[{"Value": "1"}]`, nil, true},
		{`"a=b"`, nil, true},
		{`[1]`, nil, true},
		{`{"a": [1]}`, nil, true},
	}
	for _, c := range cases {
		got, err := TagsOf(jsonValue(t, c.in))
		if (err != nil) != c.bad || (!c.bad && !reflect.DeepEqual(got, c.want)) {
			t.Errorf("TagsOf(%s) = %v, %v; want %v (error %v)", c.in, got, err, c.want, c.bad)
		}
	}
}
