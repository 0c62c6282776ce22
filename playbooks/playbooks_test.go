package playbooks

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stewardhq/steward/internal/rules"
)

func TestEmbeddedPlaybooks(t *testing.T) {
	if err := Problems(); err != nil {
		t.Fatalf("embedded playbooks:\n%v", err)
	}
	all := All()
	if len(all) == 0 {
		t.Fatal("no embedded playbooks")
	}
	set := rules.NewSet(Exists)
	for _, p := range all {
		if p.Trigger == TriggerSchedule && (p.Scan == nil || p.Schedule == "") {
			t.Errorf("%s: scheduled without scan or schedule", p.Name)
		}
		if err := set.PutAll(p.Rules); err != nil {
			t.Errorf("%s: rules: %v", p.Name, err)
		}
		got, err := Get(p.Name)
		if err != nil || got != p {
			t.Errorf("Get(%q) = %v, %v", p.Name, got, err)
		}
		if len(p.PolicyActions()) < len(p.Permissions) {
			t.Errorf("%s: policy lacks permissions", p.Name)
		}
	}
	t.Logf("%d embedded playbooks parse, validate and match their permissions", len(all))
	if _, err := Get("no-such-playbook"); !errors.Is(err, ErrUnknownPlaybook) {
		t.Errorf("Get(unknown) = %v, want ErrUnknownPlaybook", err)
	}
}

const goodMeta = `name: demo
description: A demo.
trigger: schedule
schedule: "0 6 * * *"
scan: {service: ec2, action: DescribeVolumes, items: Volumes}
permissions: [ec2:DeleteVolume, ec2:DescribeVolumes]
`

const goodDef = `{"StartAt": "Delete", "States": {
  "Delete": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:ec2:deleteVolume", "Next": "Tag"},
  "Tag": {"Type": "Task", "Resource": "steward:tag", "End": true}}}`

func TestParseProblems(t *testing.T) {
	tests := []struct {
		name    string
		meta    string
		def     string
		wantErr []string // substrings, all expected; none means valid
	}{
		{name: "valid", meta: goodMeta, def: goodDef},
		{name: "unknown builtin", meta: goodMeta, def: strings.Replace(goodDef, "steward:tag", "steward:frobnicate", 1),
			wantErr: []string{`playbook "demo": state "Tag": resource "steward:frobnicate": unknown task`}},
		{name: "unknown service", meta: goodMeta, def: strings.Replace(goodDef, "aws-sdk:ec2:deleteVolume", "aws-sdk:lightsail:deleteDisk", 1),
			wantErr: []string{`state "Delete": resource "arn:aws:states:::aws-sdk:lightsail:deleteDisk": unknown service "lightsail"`}},
		{name: "lambda", meta: goodMeta, def: strings.Replace(goodDef, "steward:tag", "arn:aws:lambda:us-east-1:1:function:x", 1),
			wantErr: []string{`unknown task`}},
		{name: "bad cron", meta: strings.Replace(goodMeta, `"0 6 * * *"`, `"0 25 * * *"`, 1), def: goodDef,
			wantErr: []string{`playbook "demo": schedule: invalid schedule "0 25 * * *"`}},
		{name: "six fields", meta: strings.Replace(goodMeta, `"0 6 * * *"`, `"0 0 6 * * *"`, 1), def: goodDef,
			wantErr: []string{`want 5 fields`}},
		{name: "permissions differ", meta: strings.Replace(goodMeta, "ec2:DeleteVolume, ", "", 1), def: goodDef,
			wantErr: []string{`permissions [ec2:DescribeVolumes] must be exactly`, `[ec2:DeleteVolume ec2:DescribeVolumes]`}},
		{name: "bad stage", meta: goodMeta + "stages: {production: enforcing}\n", def: goodDef,
			wantErr: []string{`stages: class "production": unknown stage "enforcing"`}},
		{name: "unknown field", meta: goodMeta + "colour: blue\n", def: goodDef, wantErr: []string{"field colour not found"}},
		{name: "bad definition", meta: goodMeta, def: `{"StartAt": "X", "States": {}}`, wantErr: []string{"definition:"}},
		{name: "event without rules", meta: "name: demo\ndescription: d\ntrigger: event\npermissions: [ec2:DeleteVolume]\n", def: goodDef,
			wantErr: []string{"needs rules"}},
		{name: "bad rule", meta: "name: demo\ndescription: d\ntrigger: event\nrules: [{pattern: {source: [aws.ec2]}}]\npermissions: [ec2:DeleteVolume]\n", def: goodDef,
			wantErr: []string{"has no name"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse([]byte(tc.meta), []byte(tc.def))
			if len(tc.wantErr) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				if want := []string{"ec2:DeleteVolume", "ec2:DescribeVolumes"}; strings.Join(p.Permissions, ",") != strings.Join(want, ",") {
					t.Errorf("permissions %v", p.Permissions)
				}
				if got := strings.Join(p.PolicyActions(), ","); !strings.HasPrefix(got, "ec2:CreateTags,ec2:DeleteTags,ec2:DeleteVolume,ec2:DescribeVolumes") || !strings.Contains(got, "tag:TagResources") {
					t.Errorf("policy %s", got)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, ErrInvalidPlaybook) {
				t.Errorf("%v does not wrap ErrInvalidPlaybook", err)
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestLoadFileNames(t *testing.T) {
	fsys := fstest.MapFS{
		"other.yaml":     {Data: []byte(goodMeta)},
		"other.asl.json": {Data: []byte(goodDef)},
		"lone.asl.json":  {Data: []byte(goodDef)},
	}
	got, err := Load(fsys)
	if len(got) != 0 || err == nil {
		t.Fatalf("Load = %v, %v", got, err)
	}
	for _, w := range []string{`must be named demo.yaml and demo.asl.json, not other.yaml`, `no metadata lone.yaml`} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q lacks %q", err, w)
		}
	}
}

func TestIAMAction(t *testing.T) {
	tests := []struct{ service, action, want string }{
		{"ec2", "deleteVolume", "ec2:DeleteVolume"},
		{"ec2", "DescribeVolumes", "ec2:DescribeVolumes"},
		{"s3", "putPublicAccessBlock", "s3:PutBucketPublicAccessBlock"},
		{"s3", "listBuckets", "s3:ListAllMyBuckets"},
		{"s3", "listObjectsV2", "s3:ListBucket"},
		{"elasticloadbalancingv2", "describeLoadBalancers", "elasticloadbalancing:DescribeLoadBalancers"},
		{"resourcegroupstaggingapi", "tagResources", "tag:TagResources"},
		{"route53", "changeResourceRecordSets", "route53:ChangeResourceRecordSets"},
		{"rds", "deleteDBInstance", "rds:DeleteDBInstance"},
	}
	for _, tc := range tests {
		if got := IAMAction(tc.service, tc.action); got != tc.want {
			t.Errorf("IAMAction(%s, %s) = %s, want %s", tc.service, tc.action, got, tc.want)
		}
	}
}

func TestScanPaging(t *testing.T) {
	s := &Scan{Items: "Reservations[].Instances", NextToken: "NextToken", OutputToken: "NextToken", Parameters: map[string]any{"MaxResults": 5}}
	page := map[string]any{
		"Reservations": []any{
			map[string]any{"Instances": []any{"i-1", "i-2"}},
			map[string]any{"Instances": []any{"i-3"}},
			map[string]any{},
		},
		"NextToken": "t2",
	}
	items, err := s.ItemsOf(page)
	if err != nil || len(items) != 3 {
		t.Fatalf("ItemsOf = %v, %v", items, err)
	}
	if tok := s.NextTokenOf(page); tok != "t2" {
		t.Errorf("NextTokenOf = %q", tok)
	}
	if in := s.Input("t2"); in["NextToken"] != "t2" || in["MaxResults"] != 5 || len(s.Parameters) != 1 {
		t.Errorf("Input = %v", in)
	}
	r53 := &Scan{Items: "HostedZones", NextToken: "Marker", OutputToken: "NextMarker"}
	if tok := r53.NextTokenOf(map[string]any{"IsTruncated": false, "NextMarker": "x"}); tok != "" {
		t.Errorf("not truncated, token %q", tok)
	}
	if tok := r53.NextTokenOf(map[string]any{"IsTruncated": true, "NextMarker": "x"}); tok != "x" {
		t.Errorf("truncated, token %q", tok)
	}
	if got, err := (&Scan{Items: "Reservations.Instances"}).ItemsOf(page); err != nil || len(got) != 3 {
		t.Errorf("dotted path without []: %v, %v", got, err)
	}
	if _, err := (&Scan{Items: "A.B"}).ItemsOf(map[string]any{"A": map[string]any{"B": "x"}}); err == nil {
		t.Error("a non-list items field is accepted")
	}
}

func FuzzParse(f *testing.F) {
	f.Add(goodMeta, goodDef)
	f.Add("name: x\ntrigger: event\nrules: [{name: r, pattern: '{\"source\":[\"a\"]}'}]\n", goodDef)
	f.Add("scan: {items: 'a[].b[]'}\n", "{}")
	f.Fuzz(func(t *testing.T, meta, def string) {
		p, err := Parse([]byte(meta), []byte(def))
		if err == nil && p == nil {
			t.Fatal("nil playbook without error")
		}
		if err == nil && p.Scan != nil {
			_, _ = p.Scan.ItemsOf(map[string]any{})
		}
	})
}

func FuzzCheckSchedule(f *testing.F) {
	for _, s := range []string{"0 6 * * *", "*/5 * * * 1-5", "0 0 L * *", "0 0 1W * ?", "@daily", "0 0 * * 7#2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		_ = CheckSchedule(expr)
	})
}

// BenchmarkLoad parses and checks every embedded playbook (what steward
// does once at start).
func BenchmarkLoad(b *testing.B) {
	for b.Loop() {
		if _, err := Load(embedded); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzScanItems feeds arbitrary pages (what a list call answers) to the
// scan's item and token readers.
func FuzzScanItems(f *testing.F) {
	f.Add("Reservations.Instances", `{"Reservations":[{"Instances":[{"InstanceId":"i-1"}]}],"NextToken":"t"}`)
	f.Add("HostedZones", `{"HostedZones":[{"Id":"/hostedzone/Z1"}],"IsTruncated":true,"NextMarker":"m"}`)
	f.Add("A[].B[]", `{"A":[{"B":[1,2]},{"B":3}]}`)
	f.Fuzz(func(t *testing.T, items, page string) {
		var v any
		if err := json.Unmarshal([]byte(page), &v); err != nil {
			return
		}
		s := &Scan{Items: items, NextToken: "NextToken", OutputToken: "NextMarker"}
		_, _ = s.ItemsOf(v)
		_ = s.NextTokenOf(v)
	})
}
