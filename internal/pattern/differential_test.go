package pattern

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"testing"
)

// TestMatcherAgreesWithPatterns holds a few thousand varied rules in one
// Matcher and checks, on real events, that it returns exactly the rules
// whose Pattern.Match is true.
func TestMatcherAgreesWithPatterns(t *testing.T) {
	root := sharedTestdata(t, "cloudtrail")
	var events [][]byte
	for _, dir := range []string{"eventbridge", "raw"} {
		files, err := filepath.Glob(filepath.Join(root, dir, "*.json"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if dir == "raw" {
				raw = cloudTrailEvent(t, raw)
			}
			events = append(events, raw)
		}
	}
	rules := benchRules(1000)
	// rules that do match some of these events
	for _, name := range []string{"RunInstances", "AuthorizeSecurityGroupIngress", "ConsoleLogin", "CreateBucket", "DeleteTrail"} {
		rules = append(rules,
			fmt.Sprintf(`{"detail":{"eventName":[%q]}}`, name),
			fmt.Sprintf(`{"detail":{"eventName":[{"prefix":%q}],"userIdentity":{"type":[{"anything-but":"Root"}]}}}`, name[:4]),
			fmt.Sprintf(`{"detail":{"eventName":[%q],"errorCode":[{"exists":false}]}}`, name),
			fmt.Sprintf(`{"$or":[{"detail":{"eventName":[%q]}},{"detail":{"sourceIPAddress":[{"cidr":"10.0.0.0/8"}]}}]}`, name),
		)
	}
	rules = append(rules,
		`{"detail":{"requestParameters":{"ipPermissions":{"items":{"ipRanges":{"items":{"cidrIp":[{"prefix":"0.0.0.0"}]}},"fromPort":[{"numeric":["<=",443]}]}}}}}`,
		`{"detail":{"userIdentity":{"arn":[{"wildcard":"arn:aws:sts::*:assumed-role/*"}]}}}`,
		`{"detail":{"awsRegion":[{"equals-ignore-case":"US-EAST-1"}]}}`,
		`{"detail":{"responseElements":[null]}}`,
	)
	m := NewMatcher()
	pats := make(map[string]*Pattern, len(rules))
	for i, r := range rules {
		p, err := Compile([]byte(r))
		if err != nil {
			t.Fatalf("rule %d %s: %v", i, r, err)
		}
		id := fmt.Sprintf("r%05d", i)
		pats[id] = p
		m.Add(id, p)
	}
	total := 0
	for i, ev := range events {
		got, err := m.Match(ev)
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		var want []string
		for id, p := range pats {
			ok, err := p.Match(ev)
			if err != nil {
				t.Fatalf("event %d: %v", i, err)
			}
			if ok {
				want = append(want, id)
			}
		}
		sort.Strings(want)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("event %d: Matcher %v, patterns one by one %v", i, got, want)
		}
		total += len(want)
	}
	if total == 0 {
		t.Fatal("no rule matched any event; the test proves nothing")
	}
	t.Logf("%d events x %d rules: Matcher agrees with Pattern.Match (%d matches)", len(events), len(rules), total)
}
