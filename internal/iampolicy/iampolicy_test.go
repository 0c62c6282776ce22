package iampolicy

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

func TestActions(t *testing.T) {
	tests := []struct {
		service, action string
		want            []string
		err             error
	}{
		{"ec2", "deleteVolume", []string{"ec2:DeleteVolume"}, nil},
		{"ec2", "createSnapshot", []string{"ec2:CreateSnapshot"}, nil},
		{"rds", "deleteDBInstance", []string{"rds:DeleteDBInstance"}, nil},
		{"ec2", "DescribeVolumes", []string{"ec2:DescribeVolumes"}, nil},
		{"elasticloadbalancingv2", "describeLoadBalancers", []string{"elasticloadbalancing:DescribeLoadBalancers"}, nil},
		{"resourcegroupstaggingapi", "tagResources", []string{"tag:TagResources"}, nil},
		{"s3", "putPublicAccessBlock", []string{"s3:PutBucketPublicAccessBlock"}, nil},
		{"s3", "getPublicAccessBlock", []string{"s3:GetBucketPublicAccessBlock"}, nil},
		{"s3", "deletePublicAccessBlock", []string{"s3:PutBucketPublicAccessBlock"}, nil},
		{"s3", "listObjectsV2", []string{"s3:ListBucket"}, nil},
		{"s3", "copyObject", []string{"s3:GetObject", "s3:PutObject"}, nil},
		{"s3", "deleteBucketPolicy", []string{"s3:DeleteBucketPolicy"}, nil},
		{"s3control", "putPublicAccessBlock", []string{"s3:PutAccountPublicAccessBlock"}, nil},
		{"sts", "getCallerIdentity", []string{}, nil},
		{"sfn", "listExecutions", []string{"states:ListExecutions"}, nil},
		{"redshiftdata", "executeStatement", []string{"redshift-data:ExecuteStatement"}, nil},
		{"route53", "changeResourceRecordSets", []string{"route53:ChangeResourceRecordSets"}, nil},
		{"rds", "describeDBInstances", []string{"rds:DescribeDBInstances"}, nil},
		{"iam", "createPolicyVersion", []string{"iam:CreatePolicyVersion"}, nil},
		{"nosuchservice", "doIt", nil, ErrUnknownService},
		{"", "doIt", nil, ErrBadResource},
		{"ec2", "delete Volume", nil, ErrBadResource},
	}
	for _, tt := range tests {
		t.Run(tt.service+":"+tt.action, func(t *testing.T) {
			got, err := Actions(tt.service, tt.action)
			if !errors.Is(err, tt.err) {
				t.Fatalf("error %v, want %v", err, tt.err)
			}
			if tt.err == nil && !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestForResource(t *testing.T) {
	tests := []struct {
		resource string
		want     []string
		kind     ResourceKind
		wantErr  bool
	}{
		{"arn:aws:states:::aws-sdk:ec2:stopInstances", []string{"ec2:StopInstances"}, KindSDK, false},
		{"arn:aws:states:::aws-sdk:ec2:stopInstances.waitForTaskToken", []string{"ec2:StopInstances"}, KindSDK, false},
		{"arn:aws:states:::aws-sdk:ec2", nil, KindSDK, true},
		{"arn:aws:states:::aws-sdk:ec2:a:b", nil, KindSDK, true},
		{"arn:aws:states:::sns:publish", []string{"sns:Publish"}, KindOptimized, false},
		{"arn:aws:states:::lambda:invoke.waitForTaskToken", []string{"lambda:InvokeFunction"}, KindOptimized, false},
		{"arn:aws:states:::states:startExecution.sync:2", []string{"states:StartExecution", "states:DescribeExecution", "states:StopExecution", "events:PutTargets", "events:PutRule", "events:DescribeRule"}, KindOptimized, false},
		{"arn:aws:lambda:us-east-1:123456789012:function:f", []string{"lambda:InvokeFunction"}, KindLambda, false},
		{"steward:tag", TaggingActions, KindBuiltin, false},
		{"steward:approval.waitForTaskToken", []string{}, KindBuiltin, false},
		{"steward:nosuch", nil, KindBuiltin, true},
		{"arn:aws:states:us-east-1:123456789012:activity:a", nil, KindOther, false},
	}
	for _, tt := range tests {
		got, kind, err := ForResource(tt.resource)
		if (err != nil) != tt.wantErr || kind != tt.kind {
			t.Fatalf("%s: kind %v err %v, want kind %v err %v", tt.resource, kind, err, tt.kind, tt.wantErr)
		}
		if !tt.wantErr && !reflect.DeepEqual(got, tt.want) {
			t.Fatalf("%s: got %q, want %q", tt.resource, got, tt.want)
		}
	}
}

const ebsLike = `{
  "StartAt": "Describe",
  "States": {
    "Describe": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:ec2:describeVolumes", "Next": "Both"},
    "Both": {"Type": "Parallel", "Next": "Each", "Branches": [
      {"StartAt": "Owner", "States": {"Owner": {"Type": "Task", "Resource": "steward:owner", "End": true}}},
      {"StartAt": "Snap", "States": {"Snap": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:ec2:createSnapshot", "End": true}}}
    ]},
    "Each": {"Type": "Map", "ItemsPath": "$.Volumes", "Next": "Ask",
      "ItemProcessor": {"StartAt": "Del", "States": {
        "Del": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:ec2:deleteVolume", "End": true}}}},
    "Ask": {"Type": "Task", "Resource": "steward:approval.waitForTaskToken", "Next": "Tell"},
    "Tell": {"Type": "Task", "Resource": "arn:aws:states:::sns:publish", "End": true}
  }
}`

func TestFromDefinition(t *testing.T) {
	p, err := FromDefinition([]byte(ebsLike))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"ec2:CreateSnapshot", "ec2:DeleteVolume", "ec2:DescribeVolumes"}; !reflect.DeepEqual(p.Calls, want) {
		t.Fatalf("calls %q, want %q", p.Calls, want)
	}
	if want := []string{"ec2:CreateTags"}; !reflect.DeepEqual(p.Dependent, want) {
		t.Fatalf("calls %q, want %q", p.Calls, want)
	}
	if !reflect.DeepEqual(p.Integrations, []string{"sns:Publish"}) {
		t.Fatalf("integrations %q", p.Integrations)
	}
	if !contains(p.Builtin, "cloudtrail:LookupEvents") || !contains(p.Builtin, "tag:TagResources") {
		t.Fatalf("builtin %q lacks the owner task's lookups and tags", p.Builtin)
	}
	all := p.All()
	if !sort.StringsAreSorted(all) || !contains(all, "ec2:DeleteVolume") || !contains(all, "sns:Publish") {
		t.Fatalf("all %q", all)
	}
	doc := PlaybookPolicy("ebs-unused", p)
	var back map[string]any
	if err := json.Unmarshal(doc.JSON(), &back); err != nil {
		t.Fatal(err)
	}
	st := back["Statement"].([]any)[0].(map[string]any)
	if back["Version"] != "2012-10-17" || st["Sid"] != "StewardEbsUnused" || st["Effect"] != "Allow" || st["Resource"] != "*" {
		t.Fatalf("policy %s", doc.JSON())
	}
}

func TestFromDefinitionErrors(t *testing.T) {
	if _, err := FromDefinition([]byte(`{"StartAt":`)); err == nil {
		t.Fatal("malformed definition: no error")
	}
	def := `{"StartAt":"A","States":{
	  "A":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:nosuch:doIt","Next":"B"},
	  "B":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:ec2:stopInstances","End":true}}}`
	p, err := FromDefinition([]byte(def))
	if !errors.Is(err, ErrUnknownService) || !strings.Contains(err.Error(), `state "A"`) {
		t.Fatalf("error %v: want ErrUnknownService naming the state", err)
	}
	if !reflect.DeepEqual(p.Calls, []string{"ec2:StopInstances"}) || len(p.Unmapped) != 1 {
		t.Fatalf("the other states are still mapped: %+v", p)
	}
}

func TestDependent(t *testing.T) {
	if got := Dependent("rds:DeleteDBInstance"); !reflect.DeepEqual(got, []string{"rds:CreateDBSnapshot"}) {
		t.Fatalf("rds:DeleteDBInstance: %q", got)
	}
	if got := Dependent("ec2:DescribeVolumes"); len(got) != 0 {
		t.Fatalf("ec2:DescribeVolumes: %q", got)
	}
}

func TestStewardPolicy(t *testing.T) {
	d := StewardPolicy("arn:aws:iam::{account}:role/steward-remediator", "arn:aws:iam::{account}:role/steward-tagger")
	got := d.Statement[0].Resource.([]string)
	if want := []string{"arn:aws:iam::*:role/steward-remediator", "arn:aws:iam::*:role/steward-tagger"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("resources %q", got)
	}
	if !reflect.DeepEqual(d.Statement[0].Action, []string{"sts:AssumeRole"}) {
		t.Fatalf("actions %q", d.Statement[0].Action)
	}
}

func TestSid(t *testing.T) {
	for in, want := range map[string]string{"steward ebs-unused": "StewardEbsUnused", "s3-dangling-dns": "S3DanglingDns", "": "", "ü-x": "X"} {
		if got := Sid(in); got != want {
			t.Fatalf("Sid(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestRealDefinitions is the outside judge: real ASL definitions from
// public repositories (../shared/testdata/asl/definitions). Each must parse
// and every Task resource of the integrations Step Functions offers must
// map to IAM actions. No expected policies come with the data, so this
// checks coverage and shape, not exact equality.
func TestRealDefinitions(t *testing.T) {
	dir := filepath.Join(sharedTestdata(t), "asl", "definitions")
	files, _ := filepath.Glob(filepath.Join(dir, "*.asl.json"))
	if len(files) == 0 {
		t.Skipf("no definitions in %s", dir)
	}
	passed, tasks, excepted := 0, 0, 0
	for _, f := range files {
		if why, ok := invalidDefinitions[filepath.Base(f)]; ok {
			t.Logf("%s: not counted: %s", filepath.Base(f), why)
			excepted++
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		p, err := FromDefinition(b)
		if err != nil {
			t.Errorf("%s: %v", filepath.Base(f), err)
			continue
		}
		for _, a := range p.All() {
			svc, act, ok := strings.Cut(a, ":")
			if !ok || svc == "" || act == "" || strings.ToUpper(act[:1]) != act[:1] {
				t.Errorf("%s: malformed action %q", filepath.Base(f), a)
			}
		}
		tasks += len(p.All())
		passed++
	}
	t.Logf("real ASL definitions: %d/%d mapped to IAM actions (%d excepted, %d actions in all)", passed, len(files), excepted, tasks)
}

// invalidDefinitions are real definitions Step Functions itself refuses,
// so they have no permissions to derive; each with the reason.
var invalidDefinitions = map[string]string{
	"shared-fallback-state-jsonata__statemachine.asl.json": `upstream bug: "QueryLanguage" sits inside States as if it were a state (internal/asl refuses it, as Step Functions would)`,
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// sharedTestdata finds ../shared/testdata from the module root, or skips.
func sharedTestdata(t *testing.T) string {
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
			t.Skip("module root not found")
		}
		dir = parent
	}
	td := filepath.Join(dir, "..", "shared", "testdata")
	if _, err := os.Stat(td); err != nil {
		t.Skipf("outside test data not found at %s: skipping the judge", td)
	}
	return td
}
