package pattern

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// steward's own rules, as a user would write them.
var stewardRules = map[string]string{
	"s3-delete-bucket": `{
		"source": ["aws.s3"],
		"detail-type": ["AWS API Call via CloudTrail"],
		"detail": {"eventSource": ["s3.amazonaws.com"], "eventName": ["DeleteBucket"]}
	}`,
	"s3-create-bucket": `{
		"source": ["aws.s3"],
		"detail": {"eventName": ["CreateBucket"]}
	}`,
	// RunInstances by a person: a user, root, or an assumed role whose
	// session is not the Auto Scaling service's.
	"ec2-run-by-person": `{
		"source": ["aws.ec2"],
		"detail": {
			"eventName": ["RunInstances"],
			"userIdentity": {
				"type": ["IAMUser", "Root", "AssumedRole"],
				"arn": [{"anything-but": {"suffix": "/AutoScaling"}}]
			}
		}
	}`,
	"ec2-run-by-autoscaling": `{
		"source": ["aws.ec2"],
		"detail": {
			"eventName": ["RunInstances"],
			"userIdentity": {"type": ["AssumedRole"], "arn": [{"suffix": "/AutoScaling"}]}
		}
	}`,
	"sg-open-to-world": `{
		"source": ["aws.ec2"],
		"detail": {
			"eventName": ["AuthorizeSecurityGroupIngress"],
			"requestParameters": {"ipPermissions": {"items": {"ipRanges": {"items": {"cidrIp": ["0.0.0.0/0"]}}}}}
		}
	}`,
	"securityhub-ec2-8-failed": `{
		"source": ["aws.securityhub"],
		"detail-type": ["Security Hub Findings - Imported"],
		"detail": {"findings": {
			"Compliance": {"SecurityControlId": ["EC2.8"], "Status": ["FAILED"]},
			"RecordState": ["ACTIVE"],
			"Workflow": {"Status": ["NEW", "NOTIFIED"]}
		}}
	}`,
	"securityhub-ec2-7-failed": `{
		"source": ["aws.securityhub"],
		"detail": {"findings": {
			"ProductFields": {"ControlId": ["EC2.7"]},
			"Compliance": {"Status": ["FAILED"]}
		}}
	}`,
	"console-login-without-mfa": `{
		"detail": {
			"eventName": ["ConsoleLogin"],
			"additionalEventData": {"MFAUsed": [{"anything-but": "Yes"}]}
		}
	}`,
}

// cloudTrailEvent wraps a raw CloudTrail record the way EventBridge
// delivers it ("AWS API Call via CloudTrail").
func cloudTrailEvent(t *testing.T, record []byte) []byte {
	t.Helper()
	var r map[string]any
	if err := json.Unmarshal(record, &r); err != nil {
		t.Fatal(err)
	}
	src, _ := r["eventSource"].(string)
	ev := map[string]any{
		"version":     "0",
		"id":          "00000000-0000-0000-0000-000000000000",
		"detail-type": "AWS API Call via CloudTrail",
		"source":      "aws." + strings.TrimSuffix(src, ".amazonaws.com"),
		"account":     "123456789012",
		"time":        r["eventTime"],
		"region":      r["awsRegion"],
		"resources":   []any{},
		"detail":      json.RawMessage(record),
	}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// securityHubEvent wraps one ASFF finding as "Security Hub Findings - Imported".
func securityHubEvent(t *testing.T, finding []byte) []byte {
	t.Helper()
	ev := map[string]any{
		"version": "0", "id": "1", "detail-type": "Security Hub Findings - Imported",
		"source": "aws.securityhub", "account": "111111111111", "time": "2020-05-27T03:37:40Z",
		"region": "us-east-1", "resources": []any{},
		"detail": map[string]any{"findings": []any{json.RawMessage(finding)}},
	}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestStewardRulesOnRealRecords(t *testing.T) {
	root := sharedTestdata(t, ".")
	m := NewMatcher()
	pats := map[string]*Pattern{}
	for id, src := range stewardRules {
		p, err := Compile([]byte(src))
		if err != nil {
			t.Fatalf("rule %s: %v", id, err)
		}
		pats[id] = p
		m.Add(id, p)
	}
	cases := []struct {
		file  string
		wrap  string // "cloudtrail", "securityhub" or "" for a whole EventBridge event
		rules []string
	}{
		{"cloudtrail/raw/DeleteBucket__panther__an-s3-bucket-was-deleted.json", "cloudtrail", []string{"s3-delete-bucket"}},
		{"cloudtrail/raw/CreateBucket__flatiron__test-s3-createbucket.json", "cloudtrail", []string{"s3-create-bucket"}},
		{"cloudtrail/eventbridge/CreateBucket__custodian__event-cloud-trail-create-bucket.json", "", []string{"s3-create-bucket"}},
		{"cloudtrail/raw/RunInstances__custodian__event-cloud-trail-run-instance-creator-assumed.json", "cloudtrail", []string{"ec2-run-by-person"}},
		{"cloudtrail/raw/RunInstances__custodian__event-cloud-trail-run-instances.json", "cloudtrail", []string{"ec2-run-by-person"}},
		{"cloudtrail/raw/RunInstances__flatiron__test-ec2-runinstances.json", "cloudtrail", []string{"ec2-run-by-person"}},
		{"cloudtrail/raw/RunInstances__panther__successful-unusual-ec2.json", "cloudtrail", []string{"ec2-run-by-autoscaling"}},
		{"cloudtrail/raw/AuthorizeSecurityGroupIngress__flatiron__test-ec2-authorizesecuritygroupingress.json", "cloudtrail", []string{"sg-open-to-world"}},
		{"cloudtrail/raw/AuthorizeSecurityGroupIngress__panther__aws-console-ingress-sg-authorization.json", "cloudtrail", nil},
		{"cloudtrail/raw/AuthorizeSecurityGroupIngress__panther__security-group-modified.json", "cloudtrail", nil},
		{"cloudtrail/raw/StartInstances__awsdocs__log-file-example-2.json", "cloudtrail", nil},
		{"securityhub/asff/securityhub-cspm__afsbp-ec2-8.json", "securityhub", []string{"securityhub-ec2-8-failed"}},
		{"securityhub/asff/securityhub-cspm__afsbp-ec2-7.json", "securityhub", []string{"securityhub-ec2-7-failed"}},
		{"securityhub/asff/securityhub-cspm__awsdocs__sample-control-finding-0.json", "securityhub", nil},
		{"securityhub/eventbridge/imported__asr__afsbp-ec2-7.json", "", []string{"securityhub-ec2-7-failed"}},
		{"securityhub/eventbridge/custom-action__asr__afsbp-ec22.json", "", nil},
	}
	pass := 0
	for _, c := range cases {
		raw, err := os.ReadFile(filepath.Join(root, c.file))
		if err != nil {
			t.Errorf("%s: %v", c.file, err)
			continue
		}
		ev := raw
		switch c.wrap {
		case "cloudtrail":
			ev = cloudTrailEvent(t, raw)
		case "securityhub":
			ev = securityHubEvent(t, raw)
		}
		got, err := m.Match(ev)
		if err != nil {
			t.Errorf("%s: %v", c.file, err)
			continue
		}
		// Pattern.Match must agree with the Matcher rule by rule.
		var one []string
		for id, p := range pats {
			ok, err := p.Match(ev)
			if err != nil {
				t.Fatalf("%s: %v", c.file, err)
			}
			if ok {
				one = append(one, id)
			}
		}
		sort.Strings(one)
		if !reflect.DeepEqual(got, c.rules) || !reflect.DeepEqual(one, c.rules) {
			t.Errorf("%s: Matcher %v, Pattern.Match %v, want %v", c.file, got, one, c.rules)
			continue
		}
		pass++
	}
	t.Logf("steward rules on real records: %d/%d passed", pass, len(cases))
}
