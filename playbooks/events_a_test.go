package playbooks_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/stewardhq/steward/internal/asl"
	"github.com/stewardhq/steward/internal/awssim"
	"github.com/stewardhq/steward/internal/engine"
	"github.com/stewardhq/steward/internal/ingest"
	"github.com/stewardhq/steward/internal/playbooktest"
	"github.com/stewardhq/steward/internal/rules"
	"github.com/stewardhq/steward/internal/stage"
	"github.com/stewardhq/steward/internal/store"
	"github.com/stewardhq/steward/internal/task"
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
func evaSharedTestdata(t testing.TB) string {
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
func evaRealRecord(t testing.TB, file string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(evaSharedTestdata(t), "cloudtrail", "raw", file))
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
func evaWrap(t testing.TB, rec map[string]any) map[string]any {
	t.Helper()
	ev, err := ingest.WrapCloudTrail(rec)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func evaMustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// decodeJSON decodes s into steward's value model.
func evaDecodeJSON(t testing.TB, s string) any {
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
func evaClone(t testing.TB, v map[string]any) map[string]any {
	t.Helper()
	return evaDecodeJSON(t, string(evaMustJSON(t, v))).(map[string]any)
}

// set walks path (fields and list indexes as strings) in v and sets the
// last element.
func evaSet(t testing.TB, v any, value any, path ...string) {
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
func evaEventsARules(t testing.TB) *rules.Set {
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
func evaStarted(t testing.TB, s *rules.Set, event map[string]any) []string {
	t.Helper()
	starts, err := s.Evaluate(context.Background(), evaMustJSON(t, event), rules.EvaluateParams{At: time.Now(), Counter: &rules.MemoryCounter{}})
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

// evaRuleCase is a CloudTrail record (real, or derived from a real one with
// the change said in its name) and the playbook it must start, if any.
type evaRuleCase struct {
	name   string
	record string                                 // file under cloudtrail/raw
	derive func(t testing.TB, rec map[string]any) // nil: the record as it is
	want   string                                 // playbook, or "" for none
	why    string
}

func evaEventsARuleCases() []evaRuleCase {
	return []evaRuleCase{
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
				evaSet(t, rec, "0.0.0.0/0", "requestParameters", "ipPermissions", "items", "0", "ipRanges", "items", "0", "cidrIp")
			}, want: "sg-open-ingress", why: "SSH open to the world"},
		{name: "AuthorizeSecurityGroupIngress derived: 443 from ::/0", record: "AuthorizeSecurityGroupIngress__flatiron__test-ec2-authorizesecuritygroupingress.json",
			derive: func(t testing.TB, rec map[string]any) {
				evaSet(t, rec, map[string]any{"items": []any{map[string]any{"cidrIpv6": "::/0"}}}, "requestParameters", "ipPermissions", "items", "0", "ipv6Ranges")
				evaSet(t, rec, map[string]any{}, "requestParameters", "ipPermissions", "items", "0", "ipRanges")
			}, why: "a web port open to the world over IPv6 is allowed"},
		{name: "AuthorizeSecurityGroupIngress derived: all traffic from ::/0", record: "AuthorizeSecurityGroupIngress__flatiron__test-ec2-authorizesecuritygroupingress.json",
			derive: func(t testing.TB, rec map[string]any) {
				p := map[string]any{"ipProtocol": "-1", "ipv6Ranges": map[string]any{"items": []any{map[string]any{"cidrIpv6": "::/0"}}}}
				evaSet(t, rec, p, "requestParameters", "ipPermissions", "items", "0")
			}, want: "sg-open-ingress", why: "every port open to the world"},
		{name: "DeleteBucket derived: failed with BucketNotEmpty", record: "DeleteBucket__panther__an-s3-bucket-was-deleted.json",
			derive: func(t testing.TB, rec map[string]any) { rec["errorCode"] = "BucketNotEmpty" },
			why:    "the bucket is still there"},
	}
}

// TestEventsARulesAgainstRealRecords: the rules of the group A playbooks
// start the right playbook, and only it, for the real CloudTrail records.
func TestEventsARulesAgainstRealRecords(t *testing.T) {
	s := evaEventsARules(t)
	pass := 0
	cases := evaEventsARuleCases()
	for _, c := range cases {
		rec := evaRealRecord(t, c.record)
		if c.derive != nil {
			rec = evaClone(t, rec)
			c.derive(t, rec)
		}
		got := evaStarted(t, s, evaWrap(t, rec))
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

// eventsAHarness starts a harness whose inventory is the account and
// region of a real record (class production), with the group A playbooks,
// in stage st.
func evaEventsAHarness(t *testing.T, account, region string, st stage.Stage) *playbooktest.Harness {
	t.Helper()
	var pbs []*playbooks.Playbook
	for _, name := range eventsA {
		p, err := playbooks.Get(name)
		if err != nil {
			t.Fatal(err)
		}
		pbs = append(pbs, p)
	}
	h := playbooktest.New(t, playbooktest.Options{
		Accounts:  []playbooktest.Account{{ID: account, Class: "production", Regions: []string{region}}},
		Stages:    stage.Fixed(st),
		Playbooks: pbs,
		Owners:    map[string]string{"alice@example.com": "alice@example.com"},
	})
	h.NeedSim("seeds the record's resources")
	return h
}

// startFromEvent evaluates the event against the group A rules, requires
// that it starts exactly want, and starts it with the rule's input.
func evaStartFromEvent(t *testing.T, h *playbooktest.Harness, event map[string]any, want string) *playbooktest.Run {
	t.Helper()
	starts, err := evaEventsARules(t).Evaluate(context.Background(), evaMustJSON(t, event), rules.EvaluateParams{At: h.Clock.Now(), Counter: &rules.MemoryCounter{}})
	if err != nil {
		t.Fatal(err)
	}
	if len(starts) != 1 || starts[0].Playbook != want || starts[0].Skipped {
		t.Fatalf("the event starts %+v, want %s once", starts, want)
	}
	return h.Start(starts[0].Playbook, starts[0].Input)
}

// finish waits for a run and requires it SUCCEEDED with outcome.
func evaFinish(t *testing.T, run *playbooktest.Run, outcome string) *playbooktest.Result {
	t.Helper()
	res := run.Wait()
	if res.Status != "SUCCEEDED" {
		t.Fatalf("%s ended %s: %s: %s\nhistory:\n%s", run.Playbook, res.Status, res.Error, res.Cause, run.History())
	}
	if got := res.Outcome(); got != outcome {
		t.Fatalf("%s: outcome %q, want %q (output %s)\nhistory:\n%s", run.Playbook, got, outcome, res.Output, run.History())
	}
	return res
}

// changesOf returns a run's change records of calls (not notices), as
// "Service:Action status" strings.
func evaChangesOf(t *testing.T, h *playbooktest.Harness, run *playbooktest.Run) []string {
	t.Helper()
	var out []string
	for _, c := range h.Changes(run) {
		if c.Kind != store.KindCall {
			continue
		}
		out = append(out, c.Service+":"+c.Action+" "+string(c.Status))
	}
	return out
}

// rollback undoes a run's applied changes through the change gate.
func evaRollback(t *testing.T, h *playbooktest.Harness, run *playbooktest.Run) {
	t.Helper()
	if _, err := h.Gate.Rollback(h.Context(), run.ARN, "events-a-test"); err != nil {
		t.Fatalf("rollback %s: %v", run.ARN, err)
	}
}

// sgRules lists a group's ingress rules as "proto from-to cidr".
func evaSgRules(t *testing.T, h *playbooktest.Harness, account, region, group string) []string {
	t.Helper()
	out, err := ec2.NewFromConfig(h.AWSConfig(account, region)).DescribeSecurityGroupRules(h.Context(), &ec2.DescribeSecurityGroupRulesInput{
		Filters: []ec2types.Filter{{Name: aws.String("group-id"), Values: []string{group}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var rs []string
	for _, r := range out.SecurityGroupRules {
		if aws.ToBool(r.IsEgress) {
			continue
		}
		cidr := aws.ToString(r.CidrIpv4)
		if cidr == "" {
			cidr = aws.ToString(r.CidrIpv6)
		}
		rs = append(rs, fmt.Sprintf("%s %d-%d %s", aws.ToString(r.IpProtocol), aws.ToInt32(r.FromPort), aws.ToInt32(r.ToPort), cidr))
	}
	sort.Strings(rs)
	return rs
}

// TestSGOpenIngress: the real "security group modified" record, with its
// SSH rule opened to 0.0.0.0/0, revokes exactly that rule; web ports,
// narrow ranges and rules added before stay; rollback authorizes it again.
func TestSGOpenIngress(t *testing.T) {
	rec := evaClone(t, evaRealRecord(t, "AuthorizeSecurityGroupIngress__panther__security-group-modified.json"))
	evaSet(t, rec, "0.0.0.0/0", "requestParameters", "ipPermissions", "items", "0", "ipRanges", "items", "0", "cidrIp")
	event := evaWrap(t, rec)
	account, region := event["account"].(string), event["region"].(string)
	group := "sg-1" // the record's

	for _, st := range []stage.Stage{stage.Enforce, stage.Observe} {
		evaScore.add(t, t.Run(string(st), func(t *testing.T) {
			h := evaEventsAHarness(t, account, region, st)
			if err := h.Sim.AddResources(account, region, awssim.Resources{SecurityGroups: []awssim.SecurityGroup{{
				ID: group, Name: "bastion", Tags: awssim.Tags{{Key: "owner", Value: "alice@example.com"}},
				Ingress: []awssim.SecurityGroupRule{
					{Protocol: "tcp", FromPort: 22, ToPort: 22, CidrIPv4: "0.0.0.0/0", Description: "SSH for me"},
					{Protocol: "tcp", FromPort: 443, ToPort: 443, CidrIPv4: "0.0.0.0/0"},
					{Protocol: "tcp", FromPort: 22, ToPort: 22, CidrIPv4: "10.0.0.0/8"},
					{Protocol: "tcp", FromPort: 5432, ToPort: 5432, CidrIPv4: "0.0.0.0/0"},
				},
			}}}); err != nil {
				t.Fatal(err)
			}
			before := evaSgRules(t, h, account, region, group)
			run := evaStartFromEvent(t, h, event, "sg-open-ingress")
			evaFinish(t, run, "fixed")
			after := evaSgRules(t, h, account, region, group)
			changes := evaChangesOf(t, h, run)
			if st == stage.Observe {
				if strings.Join(after, ";") != strings.Join(before, ";") {
					t.Fatalf("observe changed the group: %v -> %v", before, after)
				}
				if strings.Join(changes, ",") != "ec2:RevokeSecurityGroupIngress planned" {
					t.Fatalf("changes %v, want the revoke planned", changes)
				}
				return
			}
			want := []string{"tcp 22-22 10.0.0.0/8", "tcp 443-443 0.0.0.0/0", "tcp 5432-5432 0.0.0.0/0"}
			if strings.Join(after, ";") != strings.Join(want, ";") {
				t.Fatalf("rules after the run %v, want %v", after, want)
			}
			if strings.Join(changes, ",") != "ec2:RevokeSecurityGroupIngress applied" {
				t.Fatalf("changes %v, want the revoke applied", changes)
			}
			if len(h.Notices.For(group)) == 0 {
				t.Errorf("no notice about %s", group)
			}
			evaRollback(t, h, run)
			if got := evaSgRules(t, h, account, region, group); strings.Join(got, ";") != strings.Join(before, ";") {
				t.Fatalf("rules after rollback %v, want %v", got, before)
			}
		}))
	}
}

// igwAttachment returns the VPC an internet gateway is attached to, or "".
func evaIgwAttachment(t *testing.T, h *playbooktest.Harness, account, region, gateway string) string {
	t.Helper()
	out, err := ec2.NewFromConfig(h.AWSConfig(account, region)).DescribeInternetGateways(h.Context(), &ec2.DescribeInternetGatewaysInput{InternetGatewayIds: []string{gateway}})
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range out.InternetGateways {
		for _, a := range g.Attachments {
			if a.State != "detached" && a.State != "detaching" {
				return aws.ToString(a.VpcId)
			}
		}
	}
	return ""
}

// TestIGWAttach: the real AttachInternetGateway record (it failed with
// RequestExpired, so the rule ignores it; without its errorCode it is the
// attachment as it would have succeeded) detaches the gateway; rollback
// attaches it again; an exception tag keeps it; observe changes nothing.
func TestIGWAttach(t *testing.T) {
	real := evaRealRecord(t, "AttachInternetGateway__panther__error-modifying-network-gateway.json")
	if got := evaStarted(t, evaEventsARules(t), evaWrap(t, real)); len(got) != 0 {
		t.Fatalf("the failed call starts %v", got)
	}
	rec := evaClone(t, real)
	delete(rec, "errorCode")
	event := evaWrap(t, rec)
	account, region := event["account"].(string), event["region"].(string)
	const gateway, vpc = "igw-1", "vpc-1" // the record's

	tests := []struct {
		name    string
		stage   stage.Stage
		tags    awssim.Tags
		outcome string
		changes string
		vpc     string // attached after the run
	}{
		{name: "enforce", stage: stage.Enforce, outcome: "fixed", changes: "ec2:DetachInternetGateway applied"},
		{name: "observe", stage: stage.Observe, outcome: "fixed", changes: "ec2:DetachInternetGateway planned", vpc: vpc},
		{name: "exception tag", stage: stage.Enforce, tags: awssim.Tags{{Key: "steward:exception", Value: "2099-01-01;shared egress migration"}},
			outcome: "exception", vpc: vpc},
	}
	for _, tc := range tests {
		evaScore.add(t, t.Run(tc.name, func(t *testing.T) {
			h := evaEventsAHarness(t, account, region, tc.stage)
			if err := h.Sim.AddResources(account, region, awssim.Resources{
				Vpcs:             []awssim.Vpc{{ID: vpc}},
				InternetGateways: []awssim.InternetGateway{{ID: gateway, VpcID: vpc, Tags: append(awssim.Tags{{Key: "owner", Value: "alice@example.com"}}, tc.tags...)}},
			}); err != nil {
				t.Fatal(err)
			}
			run := evaStartFromEvent(t, h, event, "igw-attach")
			evaFinish(t, run, tc.outcome)
			if got := evaIgwAttachment(t, h, account, region, gateway); got != tc.vpc {
				t.Fatalf("gateway attached to %q after the run, want %q", got, tc.vpc)
			}
			if got := strings.Join(evaChangesOf(t, h, run), ","); got != tc.changes {
				t.Fatalf("changes %q, want %q", got, tc.changes)
			}
			if tc.stage != stage.Enforce || tc.outcome != "fixed" {
				return
			}
			if len(h.Notices.For(gateway)) == 0 {
				t.Errorf("no notice about %s", gateway)
			}
			evaRollback(t, h, run)
			if got := evaIgwAttachment(t, h, account, region, gateway); got != vpc {
				t.Fatalf("gateway attached to %q after rollback, want %q", got, vpc)
			}
		}))
	}
}

// evaZoneRecords lists an account's record sets (but NS and SOA) as
// "zone TYPE name -> targets", sorted.
func evaZoneRecords(h *playbooktest.Harness, account string) []string {
	var out []string
	for _, z := range h.Sim.HostedZones(account) {
		for _, r := range z.Records {
			if r.Type == "NS" || r.Type == "SOA" {
				continue
			}
			target := strings.Join(r.Values, ",")
			if r.Alias != nil {
				target = "alias " + r.Alias.DNSName
			}
			out = append(out, fmt.Sprintf("%s %s %s -> %s", z.Name, r.Type, r.Name, target))
		}
	}
	sort.Strings(out)
	return out
}

// evaDistributions describes an account's distributions as
// "ID enabled=B origins=a,b default=ID", sorted.
func evaDistributions(t *testing.T, h *playbooktest.Harness, account string) []string {
	t.Helper()
	c := cloudfront.NewFromConfig(h.AWSConfig(account, "us-east-1"))
	list, err := c.ListDistributions(h.Context(), &cloudfront.ListDistributionsInput{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range list.DistributionList.Items {
		cfg, err := c.GetDistributionConfig(h.Context(), &cloudfront.GetDistributionConfigInput{Id: d.Id})
		if err != nil {
			t.Fatal(err)
		}
		var origins []string
		for _, o := range cfg.DistributionConfig.Origins.Items {
			origins = append(origins, aws.ToString(o.DomainName))
		}
		out = append(out, fmt.Sprintf("%s enabled=%v origins=%s default=%s", aws.ToString(d.Id), aws.ToBool(cfg.DistributionConfig.Enabled),
			strings.Join(origins, ","), aws.ToString(cfg.DistributionConfig.DefaultCacheBehavior.TargetOriginId)))
	}
	sort.Strings(out)
	return out
}

// TestS3DanglingDNS: the real DeleteBucket record (bucket "secrets",
// us-east-2) removes the CNAME records and CloudFront origins that point
// at any domain form of the bucket, leaves a zone managed by
// CloudFormation alone (reported), and rollback puts everything back. A
// bucket no name points at changes nothing; observe changes nothing.
func TestS3DanglingDNS(t *testing.T) {
	event := evaWrap(t, evaRealRecord(t, "DeleteBucket__panther__an-s3-bucket-was-deleted.json"))
	account := event["account"].(string)
	region := event["region"].(string)
	detail := event["detail"].(map[string]any)
	bucket := detail["requestParameters"].(map[string]any)["bucketName"].(string)

	seed := func(t *testing.T, h *playbooktest.Harness) {
		t.Helper()
		err := h.Sim.AddHostedZones(account,
			awssim.HostedZone{ID: "Z0EXAMPLE00000000001", Name: "example.com.", Records: []awssim.RecordSet{
				{Name: bucket + ".example.com.", Type: "CNAME", TTL: 300, Values: []string{bucket + ".s3.amazonaws.com"}},
				{Name: "www.example.com.", Type: "CNAME", TTL: 60, Values: []string{bucket + ".s3-website-" + region + ".amazonaws.com."}},
				{Name: "static.example.com.", Type: "CNAME", TTL: 300, Values: []string{strings.ToUpper(bucket) + ".s3." + region + ".amazonaws.com"}},
				{Name: "archive.example.com.", Type: "CNAME", TTL: 300, Values: []string{bucket + "-archive.s3.amazonaws.com"}},
				{Name: "api.example.com.", Type: "A", TTL: 300, Values: []string{"192.0.2.10"}},
			}},
			awssim.HostedZone{ID: "Z0EXAMPLE00000000002", Name: "corp.example.", Tags: awssim.Tags{{Key: "aws:cloudformation:stack-name", Value: "corp-dns"}},
				Records: []awssim.RecordSet{
					{Name: "files.corp.example.", Type: "CNAME", TTL: 300, Values: []string{bucket + ".s3.dualstack." + region + ".amazonaws.com"}},
				}},
		)
		if err != nil {
			t.Fatal(err)
		}
		err = h.Sim.AddDistributions(account,
			awssim.Distribution{ID: "E1SECRETSDEFAUL", Comment: "site on the bucket", Origins: []awssim.DistributionOrigin{
				{ID: "s3-secrets", DomainName: bucket + ".s3.amazonaws.com"},
				{ID: "web", DomainName: "origin.example.com"},
			}},
			awssim.Distribution{ID: "E2SECRETSEXTRA0", Comment: "extra origin on the bucket", Origins: []awssim.DistributionOrigin{
				{ID: "assets", DomainName: "assets.s3.amazonaws.com"},
				{ID: "s3-secrets", DomainName: bucket + ".s3." + region + ".amazonaws.com"},
			}},
			awssim.Distribution{ID: "E3UNRELATED0000", Comment: "unrelated", Origins: []awssim.DistributionOrigin{
				{ID: "other", DomainName: bucket + "-archive.s3.amazonaws.com"},
			}},
		)
		if err != nil {
			t.Fatal(err)
		}
	}

	evaScore.add(t, t.Run("enforce", func(t *testing.T) {
		h := evaEventsAHarness(t, account, region, stage.Enforce)
		seed(t, h)
		beforeRecords, beforeDists := evaZoneRecords(h, account), evaDistributions(t, h, account)
		run := evaStartFromEvent(t, h, event, "s3-dangling-dns")
		res := evaFinish(t, run, "fixed")
		wantRecords := []string{
			"corp.example. CNAME files.corp.example. -> " + bucket + ".s3.dualstack." + region + ".amazonaws.com",
			"example.com. A api.example.com. -> 192.0.2.10",
			"example.com. CNAME archive.example.com. -> " + bucket + "-archive.s3.amazonaws.com",
		}
		if got := evaZoneRecords(h, account); strings.Join(got, "\n") != strings.Join(wantRecords, "\n") {
			t.Fatalf("records after the run:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantRecords, "\n"))
		}
		wantDists := []string{
			"E1SECRETSDEFAUL enabled=false origins=" + bucket + ".s3.amazonaws.com,origin.example.com default=s3-secrets",
			"E2SECRETSEXTRA0 enabled=true origins=assets.s3.amazonaws.com default=assets",
			"E3UNRELATED0000 enabled=true origins=" + bucket + "-archive.s3.amazonaws.com default=other",
		}
		if got := evaDistributions(t, h, account); strings.Join(got, "\n") != strings.Join(wantDists, "\n") {
			t.Fatalf("distributions after the run:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantDists, "\n"))
		}
		if iac := fmt.Sprint(res.Out["iac"]); !strings.Contains(iac, "files.corp.example.") || !strings.Contains(iac, "corp-dns") {
			t.Errorf("the CloudFormation zone's record is not reported: iac = %s", iac)
		}
		want := "cloudfront:UpdateDistribution applied,cloudfront:UpdateDistribution applied,route53:ChangeResourceRecordSets applied"
		changes := evaChangesOf(t, h, run)
		sort.Strings(changes)
		if got := strings.Join(changes, ","); got != want {
			t.Fatalf("changes %s, want %s", got, want)
		}
		evaRollback(t, h, run)
		if got := evaZoneRecords(h, account); strings.Join(got, "\n") != strings.Join(beforeRecords, "\n") {
			t.Fatalf("records after rollback:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(beforeRecords, "\n"))
		}
		if got := evaDistributions(t, h, account); strings.Join(got, "\n") != strings.Join(beforeDists, "\n") {
			t.Fatalf("distributions after rollback:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(beforeDists, "\n"))
		}
	}))

	evaScore.add(t, t.Run("observe", func(t *testing.T) {
		h := evaEventsAHarness(t, account, region, stage.Observe)
		seed(t, h)
		beforeRecords, beforeDists := evaZoneRecords(h, account), evaDistributions(t, h, account)
		run := evaStartFromEvent(t, h, event, "s3-dangling-dns")
		evaFinish(t, run, "fixed")
		if got := evaZoneRecords(h, account); strings.Join(got, "\n") != strings.Join(beforeRecords, "\n") {
			t.Fatalf("observe changed records:\n%s", strings.Join(got, "\n"))
		}
		if got := evaDistributions(t, h, account); strings.Join(got, "\n") != strings.Join(beforeDists, "\n") {
			t.Fatalf("observe changed distributions:\n%s", strings.Join(got, "\n"))
		}
		for _, c := range evaChangesOf(t, h, run) {
			if !strings.HasSuffix(c, " planned") {
				t.Errorf("observe change %s", c)
			}
		}
	}))

	evaScore.add(t, t.Run("the account has the bucket again", func(t *testing.T) {
		h := evaEventsAHarness(t, account, region, stage.Enforce)
		seed(t, h)
		if err := h.Sim.AddBuckets(account, awssim.Bucket{Name: bucket, Region: region}); err != nil {
			t.Fatal(err)
		}
		before := evaZoneRecords(h, account)
		run := evaStartFromEvent(t, h, event, "s3-dangling-dns")
		evaFinish(t, run, "compliant")
		if got := evaZoneRecords(h, account); strings.Join(got, "\n") != strings.Join(before, "\n") {
			t.Fatalf("records changed:\n%s", strings.Join(got, "\n"))
		}
		if c := evaChangesOf(t, h, run); len(c) != 0 {
			t.Fatalf("changes %v", c)
		}
	}))

	evaScore.add(t, t.Run("a zone of 650 records (record paging)", func(t *testing.T) {
		h := evaEventsAHarness(t, account, region, stage.Enforce)
		var big []awssim.RecordSet
		for i := 0; i < 650; i++ {
			big = append(big, awssim.RecordSet{Name: fmt.Sprintf("r%03d.big.example.", i), Type: "CNAME", TTL: 300,
				Values: []string{fmt.Sprintf("site-%d.s3.amazonaws.com", i)}})
		}
		big[640].Values = []string{bucket + ".s3-website." + region + ".amazonaws.com"}
		if err := h.Sim.AddHostedZones(account, awssim.HostedZone{Name: "big.example.", Records: big}); err != nil {
			t.Fatal(err)
		}
		run := evaStartFromEvent(t, h, event, "s3-dangling-dns")
		res := evaFinish(t, run, "fixed")
		if got := fmt.Sprint(res.Out["deleted"]); got != "[CNAME r640.big.example.]" {
			t.Fatalf("deleted %s", got)
		}
		if n := len(evaZoneRecords(h, account)); n != 649 {
			t.Fatalf("%d records left, want 649", n)
		}
	}))

	t.Run("120 hosted zones (zone paging)", func(t *testing.T) {
		// About 30 s: the durable engine re-encodes the Map state at every
		// transition of its 120 iterations.
		if testing.Short() || os.Getenv("STEWARD_LONG_TESTS") == "" {
			t.Skip("long: set STEWARD_LONG_TESTS=1 to run")
		}
		h := evaEventsAHarness(t, account, region, stage.Enforce)
		var zones []awssim.HostedZone
		for i := 0; i < 120; i++ {
			zones = append(zones, awssim.HostedZone{Name: fmt.Sprintf("zone%03d.example.", i)})
		}
		zones[119].Records = []awssim.RecordSet{{Name: "www.zone119.example.", Type: "CNAME", TTL: 300, Values: []string{bucket + ".s3.amazonaws.com"}}}
		if err := h.Sim.AddHostedZones(account, zones...); err != nil {
			t.Fatal(err)
		}
		run := evaStartFromEvent(t, h, event, "s3-dangling-dns")
		res := evaFinish(t, run, "fixed")
		if got := fmt.Sprint(res.Out["deleted"]); got != "[CNAME www.zone119.example.]" {
			t.Fatalf("deleted %s", got)
		}
	})

	evaScore.add(t, t.Run("no name points at the bucket", func(t *testing.T) {
		h := evaEventsAHarness(t, account, region, stage.Enforce)
		if err := h.Sim.AddHostedZones(account, awssim.HostedZone{Name: "example.com.", Records: []awssim.RecordSet{
			{Name: "archive.example.com.", Type: "CNAME", TTL: 300, Values: []string{bucket + "-archive.s3.amazonaws.com"}},
			{Name: "other.example.com.", Type: "CNAME", TTL: 300, Values: []string{"x" + bucket + ".s3.amazonaws.com"}},
		}}); err != nil {
			t.Fatal(err)
		}
		before := evaZoneRecords(h, account)
		run := evaStartFromEvent(t, h, event, "s3-dangling-dns")
		evaFinish(t, run, "compliant")
		if got := evaZoneRecords(h, account); strings.Join(got, "\n") != strings.Join(before, "\n") {
			t.Fatalf("records changed:\n%s", strings.Join(got, "\n"))
		}
		if c := evaChangesOf(t, h, run); len(c) != 0 {
			t.Fatalf("changes %v", c)
		}
	}))
}

// TestELBDanglingDNS: the real DeleteLoadBalancer record
// (my-load-balancer, us-west-2) removes the records and origins on its
// DNS name in every form (plain, dualstack alias, internal-), leaves names
// of other load balancers, other regions and a load balancer of the same
// name created since, and rollback puts everything back.
func TestELBDanglingDNS(t *testing.T) {
	event := evaWrap(t, evaRealRecord(t, "DeleteLoadBalancer__awsdocs__elbv2-1.json"))
	account, region := event["account"].(string), event["region"].(string)
	const name = "my-load-balancer" // from the record's ARN
	dns := func(id string) string { return name + "-" + id + "." + region + ".elb.amazonaws.com" }

	tests := []struct {
		name  string
		stage stage.Stage
		alias bool // with an apex alias record (rollback: see evaKnownExceptions)
		gone  bool // no load balancer of that name exists now
	}{
		{"enforce", stage.Enforce, true, false},
		{"enforce, CNAME records only", stage.Enforce, false, false},
		{"enforce, no load balancer of that name now", stage.Enforce, false, true},
		{"observe", stage.Observe, true, false},
	}
	for _, tc := range tests {
		st := tc.stage
		evaScore.add(t, t.Run(tc.name, func(t *testing.T) {
			h := evaEventsAHarness(t, account, region, st)
			if !tc.gone {
				if err := h.Sim.AddResources(account, region, awssim.Resources{LoadBalancers: []awssim.LoadBalancer{
					{Name: name, Type: "application", Scheme: "internet-facing", DNSName: dns("777")},
				}}); err != nil {
					t.Fatal(err)
				}
			}
			records := []awssim.RecordSet{
				{Name: "www.example.com.", Type: "CNAME", TTL: 60, Values: []string{dns("1234567890")}},
				{Name: "intra.example.com.", Type: "CNAME", TTL: 60, Values: []string{"internal-" + dns("99")}},
				{Name: "new.example.com.", Type: "CNAME", TTL: 60, Values: []string{dns("777")}},
				{Name: "two.example.com.", Type: "CNAME", TTL: 60, Values: []string{name + "-2-555." + region + ".elb.amazonaws.com"}},
				{Name: "eu.example.com.", Type: "CNAME", TTL: 60, Values: []string{name + "-123.eu-west-1.elb.amazonaws.com"}},
			}
			if tc.alias {
				records = append(records, awssim.RecordSet{Name: "example.com.", Type: "A",
					Alias: &awssim.AliasTarget{HostedZoneID: "Z1H1FL5HABSF5", DNSName: "dualstack." + dns("1234567890") + "."}})
			}
			if err := h.Sim.AddHostedZones(account, awssim.HostedZone{ID: "Z0EXAMPLE00000000003", Name: "example.com.", Records: records}); err != nil {
				t.Fatal(err)
			}
			if err := h.Sim.AddDistributions(account, awssim.Distribution{ID: "E4LOADBALANCER0", Comment: "app", Origins: []awssim.DistributionOrigin{
				{ID: "static", DomainName: "static.s3.amazonaws.com"},
				{ID: "app", DomainName: dns("1234567890")},
			}}); err != nil {
				t.Fatal(err)
			}
			beforeRecords, beforeDists := evaZoneRecords(h, account), evaDistributions(t, h, account)
			run := evaStartFromEvent(t, h, event, "elb-dangling-dns")
			evaFinish(t, run, "fixed")
			changes := evaChangesOf(t, h, run)
			sort.Strings(changes)
			if st == stage.Observe {
				if got := evaZoneRecords(h, account); strings.Join(got, "\n") != strings.Join(beforeRecords, "\n") {
					t.Fatalf("observe changed records:\n%s", strings.Join(got, "\n"))
				}
				if got := evaDistributions(t, h, account); strings.Join(got, "\n") != strings.Join(beforeDists, "\n") {
					t.Fatalf("observe changed distributions:\n%s", strings.Join(got, "\n"))
				}
				if got := strings.Join(changes, ","); got != "cloudfront:UpdateDistribution planned,route53:ChangeResourceRecordSets planned" {
					t.Fatalf("changes %s", got)
				}
				return
			}
			wantRecords := []string{
				"example.com. CNAME eu.example.com. -> " + name + "-123.eu-west-1.elb.amazonaws.com",
				"example.com. CNAME new.example.com. -> " + dns("777"),
				"example.com. CNAME two.example.com. -> " + name + "-2-555." + region + ".elb.amazonaws.com",
			}
			if tc.gone { // the name of a load balancer that no longer exists dangles too
				wantRecords = append(wantRecords[:1], wantRecords[2:]...)
			}
			if got := evaZoneRecords(h, account); strings.Join(got, "\n") != strings.Join(wantRecords, "\n") {
				t.Fatalf("records after the run:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantRecords, "\n"))
			}
			wantDists := []string{"E4LOADBALANCER0 enabled=true origins=static.s3.amazonaws.com default=static"}
			if got := evaDistributions(t, h, account); strings.Join(got, "\n") != strings.Join(wantDists, "\n") {
				t.Fatalf("distributions after the run:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantDists, "\n"))
			}
			if got := strings.Join(changes, ","); got != "cloudfront:UpdateDistribution applied,route53:ChangeResourceRecordSets applied" {
				t.Fatalf("changes %s", got)
			}
			evaRollback(t, h, run)
			if got := evaZoneRecords(h, account); strings.Join(got, "\n") != strings.Join(beforeRecords, "\n") {
				t.Fatalf("records after rollback:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(beforeRecords, "\n"))
			}
			if got := evaDistributions(t, h, account); strings.Join(got, "\n") != strings.Join(beforeDists, "\n") {
				t.Fatalf("distributions after rollback:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(beforeDists, "\n"))
			}
		}))
	}
}

// evaKnownExceptions are steps of these judges that cannot pass today,
// with the reason; each is checked to still fail as described, so a fixed
// one shows up and is removed.
var evaKnownExceptions = map[string]struct{ reason, errorHas string }{}

// evaRollbackOrKnown rolls a run back; it reports false (and logs) when
// the rollback fails exactly as the named known exception says.
func evaRollbackOrKnown(t *testing.T, h *playbooktest.Harness, run *playbooktest.Run, exception string) bool {
	t.Helper()
	_, err := h.Gate.Rollback(h.Context(), run.ARN, "events-a-test")
	if err == nil {
		if _, ok := evaKnownExceptions[exception]; ok && exception != "" {
			t.Logf("known exception %q no longer happens: remove it from evaKnownExceptions", exception)
		}
		return true
	}
	if ex, ok := evaKnownExceptions[exception]; ok && strings.Contains(err.Error(), ex.errorHas) {
		evaScore.excepted++
		t.Logf("KNOWN EXCEPTION %q: %s", exception, ex.reason)
		return false
	}
	t.Fatalf("rollback %s: %v", run.ARN, err)
	return false
}

// evaSamplePolicy is the policy document of the AWS sample's walkthrough
// (seeds/004: "aws iam create-policy --policy-name my-bad-policy1234").
const evaSamplePolicy = `{"Version":"2012-10-17","Statement":[{"Sid":"VisualEditor0","Effect":"Allow","Action":["s3:GetBucketObjectLockConfiguration","s3:DeleteObjectVersion","s3:DeleteBucket"],"Resource":"*"}]}`

const evaSafePolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":"*"}]}`

// evaIAMRecord derives a CreatePolicy or CreatePolicyVersion record from
// the real AttachRolePolicy record (stratus red team): the outside data
// has no CreatePolicy record. Its identity, time and ids are the real
// record's; its region is us-east-1, where IAM's CloudTrail events are
// (the record's own region is obfuscated); the call's parameters and
// response are as CloudTrail writes them for the call.
func evaIAMRecord(t testing.TB, eventName, policyArn, document, versionID string, setAsDefault bool) map[string]any {
	t.Helper()
	rec := evaClone(t, evaRealRecord(t, "AttachRolePolicy__stratus__persistence-iam-create-backdoor-role.json"))
	rec["eventName"] = eventName
	rec["awsRegion"] = "us-east-1"
	name := policyArn[strings.LastIndex(policyArn, "/")+1:]
	switch eventName {
	case "CreatePolicy":
		rec["requestParameters"] = map[string]any{"policyName": name, "policyDocument": document}
		rec["responseElements"] = map[string]any{"policy": map[string]any{
			"policyName": name, "policyId": "ANPAEXAMPLEPOLICY0001", "arn": policyArn, "path": "/",
			"defaultVersionId": versionID, "attachmentCount": 0, "permissionsBoundaryUsageCount": 0,
			"isAttachable": true, "createDate": "Aug 1, 2024 1:37:41 PM", "updateDate": "Aug 1, 2024 1:37:41 PM"}}
	default:
		rec["requestParameters"] = map[string]any{"policyArn": policyArn, "policyDocument": document, "setAsDefault": setAsDefault}
		rec["responseElements"] = map[string]any{"policyVersion": map[string]any{
			"versionId": versionID, "isDefaultVersion": setAsDefault, "createDate": "Aug 1, 2024 1:37:41 PM"}}
	}
	return rec
}

// evaPolicyState is "default=vN versions=v1,v2" as IAM has it now.
func evaPolicyState(t *testing.T, h *playbooktest.Harness, account, policyArn string) string {
	t.Helper()
	c := iam.NewFromConfig(h.AWSConfig(account, "us-east-1"))
	p, err := c.GetPolicy(h.Context(), &iam.GetPolicyInput{PolicyArn: aws.String(policyArn)})
	if err != nil {
		t.Fatal(err)
	}
	vs, err := c.ListPolicyVersions(h.Context(), &iam.ListPolicyVersionsInput{PolicyArn: aws.String(policyArn)})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, v := range vs.Versions {
		ids = append(ids, aws.ToString(v.VersionId))
	}
	sort.Strings(ids)
	return "default=" + aws.ToString(p.Policy.DefaultVersionId) + " versions=" + strings.Join(ids, ",")
}

// evaPolicyDefaultDocument is the document of a policy's default version,
// compacted.
func evaPolicyDefaultDocument(t *testing.T, h *playbooktest.Harness, account, policyArn string) string {
	t.Helper()
	c := iam.NewFromConfig(h.AWSConfig(account, "us-east-1"))
	p, err := c.GetPolicy(h.Context(), &iam.GetPolicyInput{PolicyArn: aws.String(policyArn)})
	if err != nil {
		t.Fatal(err)
	}
	v, err := c.GetPolicyVersion(h.Context(), &iam.GetPolicyVersionInput{PolicyArn: aws.String(policyArn), VersionId: p.Policy.DefaultVersionId})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := url.QueryUnescape(aws.ToString(v.PolicyVersion.Document))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(doc)); err != nil {
		t.Fatalf("policy document %q: %v", doc, err)
	}
	return b.String()
}

// TestIAMRestrictedActions: a new policy or a new default version that
// allows a restricted action is reverted at once and waits for an admin;
// approve restores it, deny (or the deadline) keeps it reverted and
// deletes the restricted version; a safe version changes nothing.
func TestIAMRestrictedActions(t *testing.T) {
	const account = "609418236337" // the real record's
	const region = "us-east-1"
	newPolicy := "arn:aws:iam::" + account + ":policy/my-bad-policy1234"
	oldPolicy := "arn:aws:iam::" + account + ":policy/team-data"
	day := func(d int) time.Time { return playbooktest.DefaultStart.AddDate(0, 0, -d) }

	tests := []struct {
		name     string
		stage    stage.Stage
		record   map[string]any
		policy   string
		versions []awssim.PolicyVersion
		answer   string // approve, deny, or "deadline" (no answer for 48 hours); "" when it asks no one
		outcome  string
		reverted string // the policy while it waits
		after    string // the policy at the end
		// exception names the known exception its rollback meets (IAM
		// version ids cannot come back: rollback restores the document in
		// force before the run).
		exception string
	}{
		{name: "new policy, approved", stage: stage.Enforce,
			record: evaIAMRecord(t, "CreatePolicy", newPolicy, evaSamplePolicy, "v1", true), policy: newPolicy,
			versions: []awssim.PolicyVersion{{ID: "v1", Document: evaSamplePolicy, IsDefault: true, CreateDate: day(0)}},
			answer:   "approve", outcome: "kept",
			reverted: "default=v2 versions=v1,v2", after: "default=v1 versions=v1"},
		{name: "new policy, denied", stage: stage.Enforce,
			record: evaIAMRecord(t, "CreatePolicy", newPolicy, evaSamplePolicy, "v1", true), policy: newPolicy,
			versions: []awssim.PolicyVersion{{ID: "v1", Document: evaSamplePolicy, IsDefault: true, CreateDate: day(0)}},
			answer:   "deny", outcome: "fixed",
			reverted: "default=v2 versions=v1,v2", after: "default=v2 versions=v2"},
		{name: "new default version, approved", stage: stage.Enforce,
			record: evaIAMRecord(t, "CreatePolicyVersion", oldPolicy, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`, "v3", true),
			policy: oldPolicy,
			versions: []awssim.PolicyVersion{
				{ID: "v1", Document: evaSafePolicy, CreateDate: day(30)},
				{ID: "v2", Document: evaSafePolicy, CreateDate: day(10)},
				{ID: "v3", Document: `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`, IsDefault: true, CreateDate: day(0)}},
			answer: "approve", outcome: "kept",
			reverted: "default=v2 versions=v1,v2,v3", after: "default=v3 versions=v1,v2,v3"},
		{name: "new default version, no answer by the deadline", stage: stage.Enforce,
			record: evaIAMRecord(t, "CreatePolicyVersion", oldPolicy, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"IAM:*","Resource":"*"}]}`, "v3", true),
			policy: oldPolicy,
			versions: []awssim.PolicyVersion{
				{ID: "v1", Document: evaSafePolicy, CreateDate: day(30)},
				{ID: "v2", Document: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"organizations:*","Resource":"*"}]}`, CreateDate: day(10)},
				{ID: "v3", Document: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"IAM:*","Resource":"*"}]}`, IsDefault: true, CreateDate: day(0)}},
			answer: "deadline", outcome: "fixed",
			reverted: "default=v4 versions=v1,v2,v3,v4", after: "default=v4 versions=v1,v2,v4"},
		{name: "safe new version", stage: stage.Enforce,
			record: evaIAMRecord(t, "CreatePolicyVersion", oldPolicy, evaSafePolicy, "v2", true), policy: oldPolicy,
			versions: []awssim.PolicyVersion{
				{ID: "v1", Document: evaSafePolicy, CreateDate: day(30)},
				{ID: "v2", Document: evaSafePolicy, IsDefault: true, CreateDate: day(0)}},
			outcome: "compliant", after: "default=v2 versions=v1,v2"},
		{name: "observe", stage: stage.Observe,
			record: evaIAMRecord(t, "CreatePolicy", newPolicy, evaSamplePolicy, "v1", true), policy: newPolicy,
			versions: []awssim.PolicyVersion{{ID: "v1", Document: evaSamplePolicy, IsDefault: true, CreateDate: day(0)}},
			outcome:  "fixed", after: "default=v1 versions=v1"},
	}
	for _, tc := range tests {
		evaScore.add(t, t.Run(tc.name, func(t *testing.T) {
			h := evaEventsAHarness(t, account, region, tc.stage)
			if err := h.Sim.AddIAM(account, awssim.Resources{Policies: []awssim.Policy{{
				Name: tc.policy[strings.LastIndex(tc.policy, "/")+1:], ARN: tc.policy, Path: "/", Versions: tc.versions,
			}}}); err != nil {
				t.Fatal(err)
			}
			before := evaPolicyDefaultDocument(t, h, account, tc.policy)
			run := evaStartFromEvent(t, h, evaWrap(t, tc.record), "iam-restricted-actions")
			if tc.answer != "" {
				tok := run.WaitToken("Ask admin")
				if got := evaPolicyState(t, h, account, tc.policy); got != tc.reverted {
					t.Fatalf("while waiting: %s, want %s", got, tc.reverted)
				}
				switch tc.answer {
				case "deadline":
					h.Advance(49 * time.Hour)
				default:
					h.SendTaskSuccess(tok.Token, map[string]any{"decision": tc.answer, "by": "admin@example.com", "channel": "api"})
				}
			}
			evaFinish(t, run, tc.outcome)
			if got := evaPolicyState(t, h, account, tc.policy); got != tc.after {
				t.Fatalf("at the end: %s, want %s (changes %v)", got, tc.after, evaChangesOf(t, h, run))
			}
			if tc.answer == "" {
				for _, c := range evaChangesOf(t, h, run) {
					if !strings.HasSuffix(c, " planned") {
						t.Errorf("change %s made", c)
					}
				}
				return
			}
			if !evaRollbackOrKnown(t, h, run, tc.exception) {
				return
			}
			if got := evaPolicyDefaultDocument(t, h, account, tc.policy); got != before {
				t.Fatalf("after rollback the policy allows %s, want %s as before the run", got, before)
			}
		}))
	}
}

// TestIAMRestrictedActionsRollbackWhileWaiting: rolling back the revert
// while the admin has not answered puts the restricted version back in
// force; a deny that comes after cannot delete the default version, and
// the run ends telling so (outcome notified), changing nothing more.
func TestIAMRestrictedActionsRollbackWhileWaiting(t *testing.T) {
	const account, region = "609418236337", "us-east-1"
	policy := "arn:aws:iam::" + account + ":policy/team-data"
	bad := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Delete*"],"Resource":"*"}]}`
	h := evaEventsAHarness(t, account, region, stage.Enforce)
	if err := h.Sim.AddIAM(account, awssim.Resources{Policies: []awssim.Policy{{Name: "team-data", ARN: policy, Path: "/", Versions: []awssim.PolicyVersion{
		{ID: "v1", Document: evaSafePolicy, CreateDate: playbooktest.DefaultStart.AddDate(0, 0, -3)},
		{ID: "v2", Document: bad, IsDefault: true, CreateDate: playbooktest.DefaultStart},
	}}}}); err != nil {
		t.Fatal(err)
	}
	before := evaPolicyDefaultDocument(t, h, account, policy)
	run := evaStartFromEvent(t, h, evaWrap(t, evaIAMRecord(t, "CreatePolicyVersion", policy, bad, "v2", true)), "iam-restricted-actions")
	tok := run.WaitToken("Ask admin")
	if got := evaPolicyState(t, h, account, policy); got != "default=v1 versions=v1,v2" {
		t.Fatalf("while waiting: %s", got)
	}
	evaRollback(t, h, run)
	if got := evaPolicyDefaultDocument(t, h, account, policy); got != before {
		t.Fatalf("after rollback the policy allows %s, want %s", got, before)
	}
	h.SendTaskSuccess(tok.Token, map[string]any{"decision": "deny", "by": "admin@example.com", "channel": "api"})
	evaFinish(t, run, "notified")
	if got := evaPolicyState(t, h, account, policy); got != "default=v2 versions=v1,v2" {
		t.Fatalf("at the end: %s", got)
	}
}

// evaUniversalResult is one task result with the fields every task of the
// group A playbooks reads, so a fuzzed run goes far into them.
const evaUniversalResult = `{
 "SecurityGroupRules": [{"SecurityGroupRuleId": "sgr-1", "IsEgress": false, "IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIpv4": "0.0.0.0/0"}],
 "SecurityGroups": [{"GroupName": "g", "Tags": [{"Key": "owner", "Value": "a@example.com"}]}],
 "InternetGateways": [{"Attachments": [{"VpcId": "vpc-1", "State": "available"}], "Tags": []}],
 "HostedZones": [{"Id": "/hostedzone/Z1", "Name": "example.com."}], "IsTruncated": false,
 "ResourceRecordSets": [{"Name": "www.example.com.", "Type": "CNAME", "TTL": 60, "ResourceRecords": [{"Value": "secrets.s3.amazonaws.com"}]},
   {"Name": "example.com.", "Type": "A", "AliasTarget": {"DNSName": "dualstack.my-load-balancer-1.us-west-2.elb.amazonaws.com.", "HostedZoneId": "Z", "EvaluateTargetHealth": false}}],
 "ResourceTagSet": {"Tags": [{"Key": "managed-by", "Value": "terraform"}]},
 "Tags": {"Items": []},
 "LoadBalancers": [{"DNSName": "my-load-balancer-2.us-west-2.elb.amazonaws.com"}],
 "DistributionList": {"IsTruncated": false, "Items": [{"Id": "E1", "ARN": "arn:aws:cloudfront::1:distribution/E1", "Origins": {"Quantity": 1, "Items": [{"Id": "o", "DomainName": "secrets.s3.amazonaws.com"}]}}]},
 "ETag": "E1", "DistributionConfig": {"Comment": "", "Enabled": true, "Origins": {"Quantity": 2, "Items": [{"Id": "o", "DomainName": "secrets.s3.amazonaws.com", "S3OriginConfig": {}}, {"Id": "p", "DomainName": "my-load-balancer-1.us-west-2.elb.amazonaws.com"}]}, "DefaultCacheBehavior": {"TargetOriginId": "p"}, "CacheBehaviors": {"Quantity": 0}},
 "PolicyVersion": {"VersionId": "v2", "Document": "%7B%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22s3%3A*%22%7D%5D%7D"},
 "Policy": {"DefaultVersionId": "v1", "PolicyName": "p", "Tags": []},
 "Versions": [{"VersionId": "v1", "CreateDate": "2024-01-01T00:00:00Z"}, {"VersionId": "v0", "CreateDate": "2023-01-01T00:00:00Z"}],
 "Excepted": false, "Owner": "a@example.com", "Notified": ["email:a@example.com"], "decision": "deny", "by": "admin",
 "_fail": ["headBucket"]
}`

// FuzzEventsAPlaybooks runs each group A playbook in memory on a fuzzed
// event, every task answering the same fuzzed result: whatever the event
// and AWS say, the playbooks' expressions must not panic or hang; a
// failed execution is fine.
func FuzzEventsAPlaybooks(f *testing.F) {
	td := evaSharedTestdata(f)
	for i, file := range []string{
		"DeleteBucket__panther__an-s3-bucket-was-deleted.json",
		"DeleteLoadBalancer__awsdocs__elbv2-1.json",
		"AuthorizeSecurityGroupIngress__panther__security-group-modified.json",
		"AttachInternetGateway__panther__error-modifying-network-gateway.json",
		"AttachRolePolicy__stratus__persistence-iam-create-backdoor-role.json",
	} {
		data, err := os.ReadFile(filepath.Join(td, "cloudtrail", "raw", file))
		if err != nil {
			f.Fatal(err)
		}
		var rec map[string]any
		if err := json.Unmarshal(data, &rec); err != nil {
			f.Fatal(err)
		}
		ev, err := ingest.WrapCloudTrail(rec)
		if err != nil {
			f.Fatal(err)
		}
		b, _ := json.Marshal(ev)
		f.Add(uint8(i), b, []byte(evaUniversalResult))
	}
	iamEvent := evaWrap(f, evaIAMRecord(f, "CreatePolicyVersion", "arn:aws:iam::1:policy/p", evaSamplePolicy, "v2", true))
	f.Add(uint8(4), evaMustJSON(f, iamEvent), []byte(evaUniversalResult))
	sg := evaClone(f, evaRealRecord(f, "AuthorizeSecurityGroupIngress__panther__security-group-modified.json"))
	evaSet(f, sg, "0.0.0.0/0", "requestParameters", "ipPermissions", "items", "0", "ipRanges", "items", "0", "cidrIp")
	f.Add(uint8(2), evaMustJSON(f, evaWrap(f, sg)), []byte(evaUniversalResult))
	f.Add(uint8(4), evaMustJSON(f, iamEvent), []byte(strings.Replace(evaUniversalResult, `"decision": "deny"`, `"decision": "approve"`, 1)))
	f.Add(uint8(2), []byte(`{"detail":{"requestParameters":{"ipPermissions":{"items":[{"ipProtocol":"-1","ipv6Ranges":{"items":[{"cidrIpv6":"::/0"}]}}]}}}}`), []byte(`{}`))

	machines := make([]*asl.Machine, len(eventsA))
	for i, name := range eventsA {
		p, err := playbooks.Get(name)
		if err != nil {
			f.Fatal(err)
		}
		if machines[i], err = asl.Parse(p.Definition); err != nil {
			f.Fatal(err)
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, event, result []byte) {
		var in, out any
		if json.Unmarshal(event, &in) != nil {
			return
		}
		if json.Unmarshal(result, &out) != nil {
			out = map[string]any{}
		}
		// Tasks whose resource ends with one of the result's "_fail" names fail.
		var fail []string
		if m, ok := out.(map[string]any); ok {
			if l, ok := m["_fail"].([]any); ok {
				for _, v := range l {
					if s, ok := v.(string); ok && s != "" {
						fail = append(fail, s)
					}
				}
			}
		}
		answer := task.HandlerFunc(func(_ context.Context, call *task.Call) (any, error) {
			for _, s := range fail {
				if strings.HasSuffix(task.BaseResource(call.Resource), s) {
					return nil, &asl.Error{Name: "States.TaskFailed", Cause: "fuzz: " + s + " fails"}
				}
			}
			return out, nil
		})
		reg := task.NewRegistry()
		reg.Register("arn:aws:states:::aws-sdk:*", answer)
		reg.Register("steward:*", answer)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		m := machines[int(which)%len(machines)]
		res, err := engine.Run(ctx, engine.RunParams{Machine: m, Input: in, Tasks: reg, MaxTransitions: 400})
		if err != nil {
			t.Fatalf("run: %v", err)
		}
		if res.Status != "SUCCEEDED" && res.Status != "FAILED" {
			t.Fatalf("status %s", res.Status)
		}
	})
}

// TestIAMRestrictedActionsDetection: which actions of a policy version
// the playbook finds restricted (table; the playbook runs in memory with
// IAM answered by the table's document).
func TestIAMRestrictedActionsDetection(t *testing.T) {
	p, err := playbooks.Get("iam-restricted-actions")
	if err != nil {
		t.Fatal(err)
	}
	m, err := asl.Parse(p.Definition)
	if err != nil {
		t.Fatal(err)
	}
	event := evaWrap(t, evaIAMRecord(t, "CreatePolicyVersion", "arn:aws:iam::1:policy/p", evaSafePolicy, "v2", true))
	long := strings.Repeat("*a", 60) + "*b"
	tests := []struct {
		name, document string
		want           []string // restricted actions found; none: compliant
	}{
		{"sample policy", evaSamplePolicy, []string{"s3:DeleteBucket"}},
		{"safe", evaSafePolicy, nil},
		{"star", `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`,
			[]string{"s3:DeleteBucket", "s3:DeleteObject", "iam:*", "organizations:*", "iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:PassRole",
				"iam:AttachRolePolicy", "iam:AttachUserPolicy", "iam:PutRolePolicy", "iam:PutUserPolicy", "iam:CreateAccessKey", "iam:UpdateAssumeRolePolicy",
				"sts:AssumeRole", "cloudtrail:StopLogging", "cloudtrail:DeleteTrail", "kms:ScheduleKeyDeletion"}},
		{"service wildcard, any case", `{"Statement":[{"Effect":"Allow","Action":["S3:delete*"],"Resource":"*"}]}`, []string{"s3:DeleteBucket", "s3:DeleteObject"}},
		{"question mark", `{"Statement":[{"Effect":"Allow","Action":"sts:AssumeRol?","Resource":"*"}]}`, []string{"sts:AssumeRole"}},
		{"deny is not a grant", `{"Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}`, nil},
		{"read-only IAM", `{"Statement":[{"Effect":"Allow","Action":["iam:Get*","iam:List*"],"Resource":"*"}]}`, nil},
		{"IAM wildcard", `{"Statement":[{"Effect":"Allow","Action":"iam:*","Resource":"*"}]}`,
			[]string{"iam:*", "iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:PassRole", "iam:AttachRolePolicy", "iam:AttachUserPolicy",
				"iam:PutRolePolicy", "iam:PutUserPolicy", "iam:CreateAccessKey", "iam:UpdateAssumeRolePolicy"}},
		{"NotAction", `{"Statement":[{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}]}`, []string{"NotAction iam:*"}},
		{"many wildcards (worst case for the matcher)", `{"Statement":[{"Effect":"Allow","Action":"` + long + `","Resource":"*"}]}`, nil},
	}
	pass := 0
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reg := task.NewRegistry()
			reg.Register("arn:aws:states:::aws-sdk:*", task.HandlerFunc(func(_ context.Context, call *task.Call) (any, error) {
				switch task.BaseResource(call.Resource) {
				case "arn:aws:states:::aws-sdk:iam:getPolicyVersion":
					return map[string]any{"PolicyVersion": map[string]any{"VersionId": "v2", "Document": url.QueryEscape(tc.document)}}, nil
				case "arn:aws:states:::aws-sdk:iam:getPolicy":
					return map[string]any{"Policy": map[string]any{"DefaultVersionId": "v1", "PolicyName": "p"}}, nil
				}
				return map[string]any{}, nil
			}))
			reg.Register("steward:*", task.HandlerFunc(func(_ context.Context, call *task.Call) (any, error) {
				return map[string]any{"Excepted": false, "decision": "approve"}, nil
			}))
			start := time.Now()
			res, err := engine.Run(context.Background(), engine.RunParams{Machine: m, Input: evaDecodeJSONValue(t, evaMustJSON(t, event)), Tasks: reg})
			if err != nil {
				t.Fatal(err)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %v", d)
			}
			if res.Status != "SUCCEEDED" {
				t.Fatalf("%s: %s: %s", res.Status, res.Error, res.Cause)
			}
			out, _ := res.Output.(map[string]any)
			var got []string
			if l, ok := out["restricted"].([]any); ok {
				for _, v := range l {
					got = append(got, fmt.Sprint(v))
				}
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Fatalf("restricted %v, want %v (output %v)", got, tc.want, out)
			}
			if len(tc.want) == 0 && out["outcome"] != "compliant" {
				t.Fatalf("outcome %v, want compliant", out["outcome"])
			}
			pass++
		})
	}
	t.Logf("restricted-action detection: %d/%d documents", pass, len(tests))
}

func evaDecodeJSONValue(t testing.TB, b []byte) any {
	t.Helper()
	return evaDecodeJSON(t, string(b))
}

// BenchmarkEventsARulesEvaluate: the five rules of group A against the
// real CloudTrail records, one evaluation per op.
func BenchmarkEventsARulesEvaluate(b *testing.B) {
	s := evaEventsARules(b)
	var events [][]byte
	for _, c := range evaEventsARuleCases() {
		rec := evaRealRecord(b, c.record)
		if c.derive != nil {
			rec = evaClone(b, rec)
			c.derive(b, rec)
		}
		events = append(events, evaMustJSON(b, evaWrap(b, rec)))
	}
	p := rules.EvaluateParams{At: time.Now(), Counter: &rules.MemoryCounter{}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Evaluate(context.Background(), events[i%len(events)], p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkS3DanglingDNSZoneScan: s3-dangling-dns in memory over one
// hosted zone of 1,000 record sets (10 dangling) and 100 distributions,
// AWS answered at once: the cost of the playbook's own matching.
func BenchmarkS3DanglingDNSZoneScan(b *testing.B) {
	p, err := playbooks.Get("s3-dangling-dns")
	if err != nil {
		b.Fatal(err)
	}
	m, err := asl.Parse(p.Definition)
	if err != nil {
		b.Fatal(err)
	}
	var records, dists []any
	for i := 0; i < 1000; i++ {
		target := fmt.Sprintf("site-%d.s3.amazonaws.com", i)
		if i%100 == 0 {
			target = "secrets.s3-website-us-east-2.amazonaws.com"
		}
		records = append(records, map[string]any{"Name": fmt.Sprintf("r%d.example.com.", i), "Type": "CNAME", "TTL": 300,
			"ResourceRecords": []any{map[string]any{"Value": target}}})
	}
	for i := 0; i < 100; i++ {
		dists = append(dists, map[string]any{"Id": fmt.Sprintf("E%d", i), "ARN": fmt.Sprintf("arn:aws:cloudfront::1:distribution/E%d", i),
			"Origins": map[string]any{"Quantity": 1, "Items": []any{map[string]any{"Id": "o", "DomainName": fmt.Sprintf("site-%d.s3.amazonaws.com", i)}}}})
	}
	answers := map[string]any{
		"s3:headBucket":                    nil,
		"route53:listHostedZones":          map[string]any{"HostedZones": []any{map[string]any{"Id": "/hostedzone/Z1", "Name": "example.com."}}, "IsTruncated": false},
		"route53:listResourceRecordSets":   map[string]any{"ResourceRecordSets": records, "IsTruncated": false},
		"route53:listTagsForResource":      map[string]any{"ResourceTagSet": map[string]any{"Tags": []any{}}},
		"route53:changeResourceRecordSets": map[string]any{"ChangeInfo": map[string]any{"Id": "/change/C1", "Status": "PENDING"}},
		"cloudfront:listDistributions":     map[string]any{"DistributionList": map[string]any{"IsTruncated": false, "Items": dists}},
	}
	reg := task.NewRegistry()
	reg.Register("arn:aws:states:::aws-sdk:*", task.HandlerFunc(func(_ context.Context, call *task.Call) (any, error) {
		name := strings.TrimPrefix(task.BaseResource(call.Resource), "arn:aws:states:::aws-sdk:")
		a, ok := answers[name]
		if !ok || a == nil {
			return nil, &asl.Error{Name: "S3.NotFoundException", Cause: name}
		}
		return a, nil
	}))
	reg.Register("steward:*", task.HandlerFunc(func(context.Context, *task.Call) (any, error) { return map[string]any{}, nil }))
	input := evaDecodeJSONValue(b, evaMustJSON(b, evaWrap(b, evaRealRecord(b, "DeleteBucket__panther__an-s3-bucket-was-deleted.json"))))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := engine.Run(context.Background(), engine.RunParams{Machine: m, Input: input, Tasks: reg})
		if err != nil {
			b.Fatal(err)
		}
		if res.Status != "SUCCEEDED" {
			b.Fatalf("%s: %s", res.Error, res.Cause)
		}
		if n := len(res.Output.(map[string]any)["deleted"].([]any)); n != 10 {
			b.Fatalf("deleted %d, want 10", n)
		}
	}
}

// BenchmarkSGOpenIngressEndToEnd: one sg-open-ingress execution per op,
// durable (SQLite), through the change gate, against the simulated AWS.
func BenchmarkSGOpenIngressEndToEnd(b *testing.B) {
	rec := evaClone(b, evaRealRecord(b, "AuthorizeSecurityGroupIngress__panther__security-group-modified.json"))
	evaSet(b, rec, "0.0.0.0/0", "requestParameters", "ipPermissions", "items", "0", "ipRanges", "items", "0", "cidrIp")
	account, region := rec["recipientAccountId"].(string), rec["awsRegion"].(string)
	h := playbooktest.New(b, playbooktest.Options{
		Accounts:  []playbooktest.Account{{ID: account, Class: "production", Regions: []string{region}}},
		Stages:    stage.Fixed(stage.Enforce),
		Playbooks: []*playbooks.Playbook{evaMustPlaybook(b, "sg-open-ingress")},
		Limits:    func(string) (int, int) { return 0, 0 },
	})
	h.NeedSim("seeds security groups")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		group := fmt.Sprintf("sg-%08x", i)
		if err := h.Sim.AddResources(account, region, awssim.Resources{SecurityGroups: []awssim.SecurityGroup{{ID: group, Name: group,
			Tags:    awssim.Tags{{Key: "owner", Value: "alice@example.com"}},
			Ingress: []awssim.SecurityGroupRule{{Protocol: "tcp", FromPort: 22, ToPort: 22, CidrIPv4: "0.0.0.0/0"}}}}}); err != nil {
			b.Fatal(err)
		}
		evaSet(b, rec, group, "requestParameters", "groupId")
		event := evaWrap(b, rec)
		b.StartTimer()
		res := h.Start("sg-open-ingress", event).Wait()
		if res.Outcome() != "fixed" {
			b.Fatalf("outcome %q: %s %s", res.Outcome(), res.Error, res.Cause)
		}
	}
}

func evaMustPlaybook(t testing.TB, name string) *playbooks.Playbook {
	t.Helper()
	p, err := playbooks.Get(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// evaScore counts the end-to-end scenarios driven by the real records, for
// the pass count the judges print.
var evaScore evaCounter

type evaCounter struct{ pass, total, excepted int }

// add counts one scenario and logs the running count on the parent test.
func (c *evaCounter) add(t *testing.T, ok bool) {
	t.Helper()
	c.total++
	if ok {
		c.pass++
	}
	t.Logf("end-to-end scenarios from real CloudTrail records (or derived from them, as named) so far: %d/%d pass; %d of them could not check their rollback (a known exception of evaKnownExceptions)", c.pass, c.total, c.excepted)
}

// TestSGOpenIngressIPv6AllTraffic: a call derived from the real "security
// group modified" record that opens all traffic to ::/0 (and SSH to one
// address) revokes the IPv6 rule only.
func TestSGOpenIngressIPv6AllTraffic(t *testing.T) {
	rec := evaClone(t, evaRealRecord(t, "AuthorizeSecurityGroupIngress__panther__security-group-modified.json"))
	items := rec["requestParameters"].(map[string]any)["ipPermissions"].(map[string]any)["items"].([]any)
	rec["requestParameters"].(map[string]any)["ipPermissions"].(map[string]any)["items"] = append(items,
		map[string]any{"ipProtocol": "-1", "groups": map[string]any{}, "ipRanges": map[string]any{}, "prefixListIds": map[string]any{},
			"ipv6Ranges": map[string]any{"items": []any{map[string]any{"cidrIpv6": "::/0"}}}})
	event := evaWrap(t, rec)
	account, region := event["account"].(string), event["region"].(string)
	h := evaEventsAHarness(t, account, region, stage.Enforce)
	if err := h.Sim.AddResources(account, region, awssim.Resources{SecurityGroups: []awssim.SecurityGroup{{
		ID: "sg-1", Name: "bastion", Tags: awssim.Tags{{Key: "owner", Value: "alice@example.com"}},
		Ingress: []awssim.SecurityGroupRule{
			{Protocol: "tcp", FromPort: 22, ToPort: 22, CidrIPv4: "127.0.0.1/32"},
			{Protocol: "-1", FromPort: -1, ToPort: -1, CidrIPv6: "::/0"},
		},
	}}}); err != nil {
		t.Fatal(err)
	}
	before := evaSgRules(t, h, account, region, "sg-1")
	run := evaStartFromEvent(t, h, event, "sg-open-ingress")
	evaFinish(t, run, "fixed")
	if got := evaSgRules(t, h, account, region, "sg-1"); strings.Join(got, ";") != "tcp 22-22 127.0.0.1/32" {
		t.Fatalf("rules after the run %v", got)
	}
	evaRollback(t, h, run)
	if got := evaSgRules(t, h, account, region, "sg-1"); strings.Join(got, ";") != strings.Join(before, ";") {
		t.Fatalf("rules after rollback %v, want %v", got, before)
	}
}

// evaRunDangling runs a dangling-DNS playbook in memory on event, with
// one hosted zone holding records and no distribution, and returns the
// records it deleted.
func evaRunDangling(t *testing.T, playbook string, event map[string]any, records []any, live []any) []string {
	t.Helper()
	m, err := asl.Parse(evaMustPlaybook(t, playbook).Definition)
	if err != nil {
		t.Fatal(err)
	}
	answers := map[string]any{
		"route53:listHostedZones":                      map[string]any{"HostedZones": []any{map[string]any{"Id": "/hostedzone/Z1", "Name": "example.org."}}, "IsTruncated": false},
		"route53:listResourceRecordSets":               map[string]any{"ResourceRecordSets": records, "IsTruncated": false},
		"route53:listTagsForResource":                  map[string]any{"ResourceTagSet": map[string]any{"Tags": []any{}}},
		"route53:changeResourceRecordSets":             map[string]any{"ChangeInfo": map[string]any{"Id": "/change/C1", "Status": "PENDING"}},
		"cloudfront:listDistributions":                 map[string]any{"DistributionList": map[string]any{"IsTruncated": false, "Items": []any{}}},
		"elasticloadbalancingv2:describeLoadBalancers": map[string]any{"LoadBalancers": live},
	}
	reg := task.NewRegistry()
	reg.Register("arn:aws:states:::aws-sdk:*", task.HandlerFunc(func(_ context.Context, call *task.Call) (any, error) {
		name := strings.TrimPrefix(task.BaseResource(call.Resource), "arn:aws:states:::aws-sdk:")
		if a, ok := answers[name]; ok {
			return a, nil
		}
		return nil, &asl.Error{Name: "S3.NotFoundException", Cause: name}
	}))
	reg.Register("steward:*", task.HandlerFunc(func(context.Context, *task.Call) (any, error) { return map[string]any{}, nil }))
	res, err := engine.Run(context.Background(), engine.RunParams{Machine: m, Input: evaDecodeJSONValue(t, evaMustJSON(t, event)), Tasks: reg})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != "SUCCEEDED" {
		t.Fatalf("%s: %s: %s", res.Status, res.Error, res.Cause)
	}
	var out []string
	if l, ok := res.Output.(map[string]any)["deleted"].([]any); ok {
		for _, v := range l {
			out = append(out, fmt.Sprint(v))
		}
	}
	return out
}

// TestDanglingDNSMatching: which record targets count as the deleted
// bucket's or load balancer's (table; the playbooks run in memory).
func TestDanglingDNSMatching(t *testing.T) {
	cname := func(name, target string) any {
		return map[string]any{"Name": name, "Type": "CNAME", "TTL": 300, "ResourceRecords": []any{map[string]any{"Value": target}}}
	}
	alias := func(name, typ, target string) any {
		return map[string]any{"Name": name, "Type": typ, "AliasTarget": map[string]any{"DNSName": target, "HostedZoneId": "Z", "EvaluateTargetHealth": false}}
	}
	// s3: the real DeleteBucket record with the bucket renamed to a
	// domain, as buckets that serve a website under their own name are.
	rec := evaClone(t, evaRealRecord(t, "DeleteBucket__panther__an-s3-bucket-was-deleted.json"))
	evaSet(t, rec, "www.example.org", "requestParameters", "bucketName")
	s3Event := evaWrap(t, rec)
	elbEvent := evaWrap(t, evaRealRecord(t, "DeleteLoadBalancer__awsdocs__elbv2-1.json"))
	const lb = "my-load-balancer"
	tests := []struct {
		name     string
		playbook string
		event    map[string]any
		record   any
		live     []any
		deleted  bool
	}{
		{"s3 path-style global", "s3-dangling-dns", s3Event, cname("a.example.org.", "www.example.org.s3.amazonaws.com"), nil, true},
		{"s3 regional", "s3-dangling-dns", s3Event, cname("a.example.org.", "www.example.org.s3.eu-west-1.amazonaws.com."), nil, true},
		{"s3 legacy dash region", "s3-dangling-dns", s3Event, cname("a.example.org.", "www.example.org.s3-us-west-2.amazonaws.com"), nil, true},
		{"s3 website dash", "s3-dangling-dns", s3Event, cname("a.example.org.", "www.example.org.s3-website-us-east-2.amazonaws.com"), nil, true},
		{"s3 website dot", "s3-dangling-dns", s3Event, cname("a.example.org.", "WWW.EXAMPLE.ORG.s3-website.us-east-2.amazonaws.com"), nil, true},
		{"s3 dualstack", "s3-dangling-dns", s3Event, cname("a.example.org.", "www.example.org.s3.dualstack.us-east-2.amazonaws.com"), nil, true},
		{"s3 website alias named as the bucket", "s3-dangling-dns", s3Event, alias("www.example.org.", "A", "s3-website.us-east-2.amazonaws.com."), nil, true},
		{"s3 website alias of another name", "s3-dangling-dns", s3Event, alias("other.example.org.", "A", "s3-website.us-east-2.amazonaws.com."), nil, false},
		{"s3 another bucket with the name as prefix", "s3-dangling-dns", s3Event, cname("a.example.org.", "www.example.org-old.s3.amazonaws.com"), nil, false},
		{"s3 another bucket with the name as suffix", "s3-dangling-dns", s3Event, cname("a.example.org.", "x.www.example.org.s3.amazonaws.com"), nil, false},
		{"s3 not amazonaws", "s3-dangling-dns", s3Event, cname("a.example.org.", "www.example.org.s3.example.net"), nil, false},
		{"s3 TXT record", "s3-dangling-dns", s3Event, map[string]any{"Name": "a.example.org.", "Type": "TXT", "TTL": 300,
			"ResourceRecords": []any{map[string]any{"Value": "www.example.org.s3.amazonaws.com"}}}, nil, false},
		{"elb application", "elb-dangling-dns", elbEvent, cname("a.example.org.", lb+"-1234567890.us-west-2.elb.amazonaws.com"), nil, true},
		{"elb dualstack alias", "elb-dangling-dns", elbEvent, alias("a.example.org.", "AAAA", "dualstack."+lb+"-1234567890.us-west-2.elb.amazonaws.com."), nil, true},
		{"elb internal", "elb-dangling-dns", elbEvent, cname("a.example.org.", "internal-"+lb+"-77.us-west-2.elb.amazonaws.com"), nil, true},
		{"elb network form", "elb-dangling-dns", elbEvent, cname("a.example.org.", lb+"-0123456789abcdef.elb.us-west-2.amazonaws.com"), nil, true},
		{"elb other region", "elb-dangling-dns", elbEvent, cname("a.example.org.", lb+"-1.eu-west-1.elb.amazonaws.com"), nil, false},
		{"elb longer name", "elb-dangling-dns", elbEvent, cname("a.example.org.", lb+"-2-1.us-west-2.elb.amazonaws.com"), nil, false},
		{"elb shorter name", "elb-dangling-dns", elbEvent, cname("a.example.org.", "load-balancer-1.us-west-2.elb.amazonaws.com"), nil, false},
		{"elb of the same name that exists now", "elb-dangling-dns", elbEvent, cname("a.example.org.", lb+"-9.us-west-2.elb.amazonaws.com"),
			[]any{map[string]any{"DNSName": lb + "-9.us-west-2.elb.amazonaws.com"}}, false},
	}
	pass := 0
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := evaRunDangling(t, tc.playbook, tc.event, []any{tc.record}, tc.live)
			if (len(got) == 1) != tc.deleted || len(got) > 1 {
				t.Fatalf("deleted %v, want deleted=%v", got, tc.deleted)
			}
			pass++
		})
	}
	t.Logf("dangling-DNS target matching: %d/%d records", pass, len(tests))
}
