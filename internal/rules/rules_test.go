package rules

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/ingest"
	"github.com/stewardhq/steward/internal/pattern"
	"github.com/stewardhq/steward/internal/testdata"
)

// catalogue is written the way the DESIGN playbooks need their rules.
const catalogue = `
rules:
  - name: s3-dangling-dns
    pattern:
      source: [aws.s3]
      detail-type: [AWS API Call via CloudTrail]
      detail:
        eventName: [DeleteBucket]
    playbooks: [s3-dangling-dns]
    inputTransformer:
      inputPathsMap: {bucket: $.detail.requestParameters.bucketName, account: $.account, region: $.region}
      inputTemplate: '{"bucket": <bucket>, "account": "<account>", "region": "<region>", "rule": "<aws.events.rule-name>", "why": "bucket <bucket> was deleted"}'
  - name: ec2-manual-launch
    pattern:
      source: [aws.ec2]
      detail:
        eventName: [RunInstances]
        errorCode: [{exists: false}]
        userIdentity:
          type: [AssumedRole, IAMUser]
          invokedBy: [{exists: false}]
    playbooks: [ec2-manual-launch]
    threshold: {key: $.detail.userIdentity.arn, window: 15m, above: 5, then: skip}
  - name: sg-open-ingress
    pattern: '{"source":["aws.ec2"],"detail":{"eventName":["AuthorizeSecurityGroupIngress"],"$or":[{"requestParameters":{"ipPermissions":{"items":{"ipRanges":{"items":{"cidrIp":["0.0.0.0/0"]}}}}}},{"requestParameters":{"ipPermissions":{"items":{"ipv6Ranges":{"items":{"cidrIpv6":["::/0"]}}}}}}]}}'
    playbooks: [sg-open-ingress]
  - name: hub-finding-ec2
    pattern:
      source: [aws.securityhub]
      detail-type: [Security Hub Findings - Imported]
      detail:
        findings:
          Compliance: {Status: [FAILED]}
          Workflow: {Status: [NEW]}
          $or:
            - Compliance: {SecurityControlId: [{prefix: EC2.}]}
            - ProductFields: {ControlId: [{prefix: EC2.}]}
    playbooks: [hub-finding]
  - name: config-item-created
    pattern:
      source: [aws.config]
      detail-type: [Config Configuration Item Change]
      detail:
        messageType: [ConfigurationItemChangeNotification]
        configurationItemDiff: {changeType: [CREATE]}
    playbooks: [owner-tag]
  - name: config-noncompliant
    pattern:
      messageType: [ComplianceChangeNotification]
      newEvaluationResult: {complianceType: [NON_COMPLIANT]}
    playbooks: [hub-finding]
  - name: guardduty-instance
    pattern:
      source: [aws.guardduty]
      detail-type: [GuardDuty Finding]
      detail: {resource: {resourceType: [Instance]}}
    playbooks: [guardduty-quarantine]
`

var known = map[string]bool{"owner-tag": true, "s3-dangling-dns": true, "ec2-manual-launch": true, "sg-open-ingress": true, "hub-finding": true, "guardduty-quarantine": true, "ec2-quarantine-surge": true}

func loadCatalogue(t *testing.T) *Set {
	t.Helper()
	f, err := ParseFile([]byte(catalogue))
	if err != nil {
		t.Fatal(err)
	}
	s := NewSet(func(name string) bool { return known[name] })
	if err := s.PutAll(f.Rules); err != nil {
		t.Fatal(err)
	}
	return s
}

// eventFiles reads every event of the outside suites, wrapping raw
// CloudTrail records as EventBridge does.
func eventFiles(t *testing.T) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	root := testdata.Dir(t)
	for _, glob := range []string{"cloudtrail/raw/*.json", "cloudtrail/eventbridge/*.json", "securityhub/eventbridge/*.json", "guardduty/eventbridge/*.json", "config/configuration-item-change/*.json", "config/compliance-change/*.json"} {
		files, _ := filepath.Glob(filepath.Join(root, glob))
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(glob, "compliance-change") {
				// An SNS delivery of a Config compliance notification: the
				// event is its Message.
				var sns struct{ Message json.RawMessage }
				if err := json.Unmarshal(data, &sns); err != nil {
					t.Fatalf("%s: %v", f, err)
				}
				data = sns.Message
			}
			if strings.Contains(glob, "raw") {
				var rec map[string]any
				if err := json.Unmarshal(data, &rec); err != nil {
					t.Fatalf("%s: %v", f, err)
				}
				ev, err := ingest.WrapCloudTrail(rec)
				if err != nil {
					t.Fatalf("%s: %v", f, err)
				}
				data, _ = json.Marshal(ev)
			}
			out[filepath.Base(filepath.Dir(f))+"/"+filepath.Base(f)] = data
		}
	}
	return out
}

// TestCatalogueRulesOnRealEvents runs the real CloudTrail, Security Hub and
// GuardDuty events through rules written as the playbooks need them.
func TestCatalogueRulesOnRealEvents(t *testing.T) {
	s := loadCatalogue(t)
	want := map[string][]string{
		"raw/DeleteBucket__panther__an-s3-bucket-was-deleted.json":                                 {"s3-dangling-dns"},
		"raw/RunInstances__custodian__event-cloud-trail-run-instance-creator-assumed.json":         {"ec2-manual-launch"},
		"raw/RunInstances__flatiron__test-ec2-runinstances.json":                                   {"ec2-manual-launch"},
		"raw/AuthorizeSecurityGroupIngress__flatiron__test-ec2-authorizesecuritygroupingress.json": {"sg-open-ingress"},
		"eventbridge/imported__asr__afsbp-ec2-7.json":                                              {"hub-finding-ec2"},
		"eventbridge/ec2-duty-event__custodian.json":                                               {"guardduty-instance"},
		"configuration-item-change/sqs-discover__custodian.json":                                   {"config-item-created"},
		// The recorded compliance change is to COMPLIANT: no rule starts.
		"compliance-change/sns-notification__awsdocs.json": nil,
	}
	events := eventFiles(t)
	matched := 0
	for name, data := range events {
		starts, err := s.Evaluate(context.Background(), data, EvaluateParams{At: time.Now(), Counter: &MemoryCounter{}})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var got []string
		for _, st := range starts {
			got = append(got, st.Rule)
		}
		sort.Strings(got)
		if strings.Join(got, ",") != strings.Join(want[name], ",") {
			t.Errorf("%s: rules %v, want %v", name, got, want[name])
		}
		if len(got) > 0 {
			matched++
		}
	}
	// The same notification, turned NON_COMPLIANT, starts the playbook.
	flipped := strings.Replace(string(events["compliance-change/sns-notification__awsdocs.json"]), `"COMPLIANT"`, `"NON_COMPLIANT"`, 1)
	if starts, err := s.Evaluate(context.Background(), []byte(flipped), EvaluateParams{At: time.Now()}); err != nil || len(starts) != 1 || starts[0].Rule != "config-noncompliant" {
		t.Errorf("NON_COMPLIANT notification: %+v %v", starts, err)
	}
	for name := range want {
		if _, ok := events[name]; !ok {
			t.Errorf("expected event %s is not in the suite", name)
		}
	}
	t.Logf("%d real events, %d matched a catalogue rule as expected", len(events), matched)
}

func TestInputTransformer(t *testing.T) {
	s := loadCatalogue(t)
	events := eventFiles(t)
	starts, err := s.Evaluate(context.Background(), events["raw/DeleteBucket__panther__an-s3-bucket-was-deleted.json"], EvaluateParams{At: time.Now()})
	if err != nil || len(starts) != 1 {
		t.Fatalf("got %v, %v", starts, err)
	}
	in, _ := json.Marshal(starts[0].Input)
	var got map[string]any
	_ = json.Unmarshal(in, &got)
	bucket, _ := got["bucket"].(string)
	if bucket == "" || got["rule"] != "s3-dangling-dns" || got["region"] != "us-east-2" || got["why"] != "bucket "+bucket+" was deleted" {
		t.Errorf("transformed input %s", in)
	}
}

func TestTemplateSubstitution(t *testing.T) {
	event := []byte(`{"id":"1","detail":{"n":3,"s":"a\"b","obj":{"k":[1,2]}}}`)
	doc, _ := decode(event)
	tests := []struct {
		template string
		want     string
	}{
		{`{"n": <n>, "s": <s>, "o": <o>}`, `{"n":3,"o":{"k":[1,2]},"s":"a\"b"}`},
		{`{"text": "n is <n> and s is <s>"}`, `{"text":"n is 3 and s is a\"b"}`},
		{`{"missing": <nope>}`, `{"missing":null}`},
		{`<s> has <n>`, `"a\"b has 3"`},
		{`{"whole": <aws.events.event.json>}`, `{"whole":{"detail":{"n":3,"obj":{"k":[1,2]},"s":"a\"b"},"id":"1"}}`},
		{`{"envelope": <aws.events.event>}`, `{"envelope":{"id":"1"}}`},
	}
	for _, tt := range tests {
		tr, err := compileTransformer(&InputTransformer{InputPathsMap: map[string]string{"n": "$.detail.n", "s": "$.detail.s", "o": "$.detail.obj", "nope": "$.detail.none"}, InputTemplate: tt.template})
		if err != nil {
			t.Fatalf("%s: %v", tt.template, err)
		}
		v, err := tr.apply(event, doc, "r", "arn", time.Now())
		if err != nil {
			t.Fatalf("%s: %v", tt.template, err)
		}
		got, _ := json.Marshal(v)
		if string(got) != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.template, got, tt.want)
		}
	}
}

func TestThreshold(t *testing.T) {
	s := loadCatalogue(t)
	data := eventFiles(t)["raw/RunInstances__custodian__event-cloud-trail-run-instance-creator-assumed.json"]
	counter := &MemoryCounter{}
	t0 := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	var outcomes []string
	for i, minute := range []int{0, 1, 2, 3, 4, 5, 6, 30} {
		starts, err := s.Evaluate(context.Background(), data, EvaluateParams{At: t0.Add(time.Duration(minute) * time.Minute), Counter: counter})
		if err != nil || len(starts) != 1 {
			t.Fatalf("event %d: %v %v", i, starts, err)
		}
		if starts[0].Skipped {
			outcomes = append(outcomes, "skip")
		} else {
			outcomes = append(outcomes, starts[0].Playbook)
		}
	}
	want := "ec2-manual-launch ec2-manual-launch ec2-manual-launch ec2-manual-launch ec2-manual-launch skip skip ec2-manual-launch"
	if got := strings.Join(outcomes, " "); got != want {
		t.Errorf("outcomes:\n got %s\nwant %s", got, want)
	}

	// A threshold may start another playbook instead.
	r, _ := s.Get("ec2-manual-launch")
	r.Threshold = &Threshold{Key: "$.detail.userIdentity.arn", Window: Duration(15 * time.Minute), Above: 1, Then: ThenStart, Playbook: "ec2-quarantine-surge"}
	if err := s.Put(r); err != nil {
		t.Fatal(err)
	}
	c2 := &MemoryCounter{}
	_, _ = s.Evaluate(context.Background(), data, EvaluateParams{At: t0, Counter: c2})
	starts, _ := s.Evaluate(context.Background(), data, EvaluateParams{At: t0, Counter: c2})
	if len(starts) != 1 || starts[0].Playbook != "ec2-quarantine-surge" || !starts[0].ByThreshold {
		t.Errorf("second event: %+v", starts)
	}
}

func TestRejectsBadRules(t *testing.T) {
	s := NewSet(func(name string) bool { return name == "known" })
	tests := []struct {
		name string
		rule Rule
		want error
		text string
	}{
		{"unknown playbook", Rule{Name: "r", Pattern: json.RawMessage(`{"source":["x"]}`), Playbooks: []string{"nope"}}, ErrUnknownPlaybook, `"nope"`},
		{"invalid pattern", Rule{Name: "r", Pattern: json.RawMessage(`{"source":"x"}`), Playbooks: []string{"known"}}, ErrInvalidRule, "pattern"},
		{"no playbook", Rule{Name: "r", Pattern: json.RawMessage(`{"source":["x"]}`)}, ErrInvalidRule, "starts no playbook"},
		{"bad name", Rule{Name: "a b", Pattern: json.RawMessage(`{"source":["x"]}`), Playbooks: []string{"known"}}, ErrInvalidRule, "rule name"},
		{"undefined placeholder", Rule{Name: "r", Pattern: json.RawMessage(`{"source":["x"]}`), Playbooks: []string{"known"}, InputTransformer: &InputTransformer{InputTemplate: `{"a": <b>}`}}, ErrInvalidRule, "<b>"},
		{"threshold without window", Rule{Name: "r", Pattern: json.RawMessage(`{"source":["x"]}`), Playbooks: []string{"known"}, Threshold: &Threshold{Key: "$.id", Above: 1, Then: ThenSkip}}, ErrInvalidRule, "window"},
	}
	for _, tt := range tests {
		err := s.Put(tt.rule)
		if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.text) {
			t.Errorf("%s: got %v, want %v mentioning %q", tt.name, err, tt.want, tt.text)
		}
	}
	var ip *pattern.InvalidPatternError
	if err := s.Put(Rule{Name: "r", Pattern: json.RawMessage(`{"source":"x"}`), Playbooks: []string{"known"}}); !errors.As(err, &ip) {
		t.Errorf("an invalid pattern keeps EventBridge's error: %v", err)
	}
	if len(s.List()) != 0 {
		t.Errorf("rejected rules were kept: %v", s.List())
	}
}

func FuzzParseFile(f *testing.F) {
	f.Add([]byte(catalogue))
	f.Add([]byte("rules:\n  - name: x\n    pattern: {a: [1]}\n    playbooks: [p]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := ParseFile(data)
		if err != nil {
			return
		}
		s := NewSet(nil)
		_ = s.PutAll(file.Rules)
	})
}
