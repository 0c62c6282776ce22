package playbooks_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/ingest"
	"github.com/stewardhq/steward/internal/rules"
	"github.com/stewardhq/steward/playbooks"
)

// The event-driven playbooks of group A: s3-dangling-dns, elb-dangling-dns,
// sg-open-ingress, igw-attach and iam-restricted-actions. Their judges are
// the real CloudTrail records in ../shared/testdata/cloudtrail/raw, wrapped
// as EventBridge delivers them.

// eventsA are the playbooks this file judges.
var eventsA = []string{"s3-dangling-dns", "elb-dangling-dns", "sg-open-ingress", "igw-attach", "iam-restricted-actions"}

// sharedTestdata returns ../shared/testdata beside the module root, or
// skips the test when it is absent.
func sharedTestdata(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("no go.mod above the test: cannot find ../shared/testdata")
		}
		dir = parent
	}
	td := filepath.Join(dir, "..", "shared", "testdata")
	if _, err := os.Stat(filepath.Join(td, "cloudtrail", "raw")); err != nil {
		t.Skipf("outside test data absent (%s): %v", td, err)
	}
	return td
}

// realRecord reads one CloudTrail record of the outside test data.
func realRecord(t testing.TB, file string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(sharedTestdata(t), "cloudtrail", "raw", file))
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var rec map[string]any
	if err := dec.Decode(&rec); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return rec
}

// wrap makes the EventBridge event of a CloudTrail record.
func wrap(t testing.TB, rec map[string]any) map[string]any {
	t.Helper()
	ev, err := ingest.WrapCloudTrail(rec)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// decodeJSON decodes s into steward's value model.
func decodeJSON(t testing.TB, s string) any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return v
}

// clone copies a JSON value deeply, so a derived event does not change
// the record it came from.
func clone(t testing.TB, v map[string]any) map[string]any {
	t.Helper()
	return decodeJSON(t, string(mustJSON(t, v))).(map[string]any)
}

// set walks path (fields and list indexes as strings) in v and sets the
// last element.
func set(t testing.TB, v any, value any, path ...string) {
	t.Helper()
	cur := v
	for i, p := range path {
		last := i == len(path)-1
		switch c := cur.(type) {
		case map[string]any:
			if last {
				c[p] = value
				return
			}
			cur = c[p]
		case []any:
			var n int
			if _, err := json.Number(p).Int64(); err != nil {
				t.Fatalf("path %v: %q is not an index", path, p)
			}
			i64, _ := json.Number(p).Int64()
			n = int(i64)
			if last {
				c[n] = value
				return
			}
			cur = c[n]
		default:
			t.Fatalf("path %v: cannot walk into %T at %q", path, cur, p)
		}
	}
}

// eventsARules is a rule set with the rules of the group A playbooks.
func eventsARules(t testing.TB) *rules.Set {
	t.Helper()
	s := rules.NewSet(playbooks.Exists)
	for _, name := range eventsA {
		p, err := playbooks.Get(name)
		if err != nil {
			t.Fatalf("%v (problems: %v)", err, playbooks.Problems())
		}
		if err := s.PutAll(p.Rules); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	return s
}

// started returns the playbooks an event starts.
func started(t testing.TB, s *rules.Set, event map[string]any) []string {
	t.Helper()
	starts, err := s.Evaluate(context.Background(), mustJSON(t, event), rules.EvaluateParams{At: time.Now(), Counter: &rules.MemoryCounter{}})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, st := range starts {
		if !st.Skipped {
			out = append(out, st.Playbook)
		}
	}
	return out
}

// ruleCase is a CloudTrail record (real, or derived from a real one with
// the change said in its name) and the playbook it must start, if any.
type ruleCase struct {
	name   string
	record string                                // file under cloudtrail/raw
	derive func(t testing.TB, rec map[string]any) // nil: the record as it is
	want   string                                // playbook, or "" for none
	why    string
}

func eventsARuleCases() []ruleCase {
	return []ruleCase{
		{name: "real DeleteBucket", record: "DeleteBucket__panther__an-s3-bucket-was-deleted.json", want: "s3-dangling-dns",
			why: "a bucket was deleted: the DNS names pointing at it now dangle"},
		{name: "real DeleteLoadBalancer (elbv2)", record: "DeleteLoadBalancer__awsdocs__elbv2-1.json", want: "elb-dangling-dns",
			why: "a load balancer was deleted"},
		{name: "real AuthorizeSecurityGroupIngress 443 from 0.0.0.0/0", record: "AuthorizeSecurityGroupIngress__flatiron__test-ec2-authorizesecuritygroupingress.json",
			why: "port 443 may be open to the world"},
		{name: "real AuthorizeSecurityGroupIngress 443 from 0.0.0.0/16 (console)", record: "AuthorizeSecurityGroupIngress__panther__aws-console-ingress-sg-authorization.json",
			why: "not open to the world, and a web port"},
		{name: "real AuthorizeSecurityGroupIngress 22 from 127.0.0.1/32", record: "AuthorizeSecurityGroupIngress__panther__security-group-modified.json",
			why: "SSH from one address is not open to the world"},
		{name: "real AuthorizeSecurityGroupIngress that failed (RequestExpired)", record: "AuthorizeSecurityGroupIngress__panther__error-mofidying-security-group.json",
			why: "a failed call changed nothing"},
		{name: "real AttachInternetGateway that failed (RequestExpired)", record: "AttachInternetGateway__panther__error-modifying-network-gateway.json",
			why: "a failed call attached nothing"},
		{name: "AttachInternetGateway derived: the same record without its errorCode", record: "AttachInternetGateway__panther__error-modifying-network-gateway.json",
			derive: func(t testing.TB, rec map[string]any) { delete(rec, "errorCode") }, want: "igw-attach",
			why: "the gateway was attached"},
		{name: "AuthorizeSecurityGroupIngress derived: 22 from 0.0.0.0/0", record: "AuthorizeSecurityGroupIngress__panther__security-group-modified.json",
			derive: func(t testing.TB, rec map[string]any) {
				set(t, rec, "0.0.0.0/0", "requestParameters", "ipPermissions", "items", "0", "ipRanges", "items", "0", "cidrIp")
			}, want: "sg-open-ingress", why: "SSH open to the world"},
		{name: "AuthorizeSecurityGroupIngress derived: 443 from ::/0", record: "AuthorizeSecurityGroupIngress__flatiron__test-ec2-authorizesecuritygroupingress.json",
			derive: func(t testing.TB, rec map[string]any) {
				set(t, rec, map[string]any{"items": []any{map[string]any{"cidrIpv6": "::/0"}}}, "requestParameters", "ipPermissions", "items", "0", "ipv6Ranges")
				set(t, rec, map[string]any{}, "requestParameters", "ipPermissions", "items", "0", "ipRanges")
			}, why: "a web port open to the world over IPv6 is allowed"},
		{name: "AuthorizeSecurityGroupIngress derived: all traffic from ::/0", record: "AuthorizeSecurityGroupIngress__flatiron__test-ec2-authorizesecuritygroupingress.json",
			derive: func(t testing.TB, rec map[string]any) {
				p := map[string]any{"ipProtocol": "-1", "ipv6Ranges": map[string]any{"items": []any{map[string]any{"cidrIpv6": "::/0"}}}}
				set(t, rec, p, "requestParameters", "ipPermissions", "items", "0")
			}, want: "sg-open-ingress", why: "every port open to the world"},
		{name: "DeleteBucket derived: failed with BucketNotEmpty", record: "DeleteBucket__panther__an-s3-bucket-was-deleted.json",
			derive: func(t testing.TB, rec map[string]any) { rec["errorCode"] = "BucketNotEmpty" },
			why: "the bucket is still there"},
	}
}

// TestEventsARulesAgainstRealRecords: the rules of the group A playbooks
// start the right playbook, and only it, for the real CloudTrail records.
func TestEventsARulesAgainstRealRecords(t *testing.T) {
	s := eventsARules(t)
	pass := 0
	cases := eventsARuleCases()
	for _, c := range cases {
		rec := realRecord(t, c.record)
		if c.derive != nil {
			rec = clone(t, rec)
			c.derive(t, rec)
		}
		got := started(t, s, wrap(t, rec))
		var want []string
		if c.want != "" {
			want = []string{c.want}
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("%s (%s): started %v, want %v (%s)", c.name, c.record, got, want, c.why)
			continue
		}
		pass++
	}
	t.Logf("rules judge: %d/%d CloudTrail records (real, or derived from real ones as named) start the right playbook", pass, len(cases))
}
