package pattern

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// sharedTestdata finds /work/shared/testdata: the module root (the folder
// holding go.mod) followed by "../shared/testdata". Tests skip when absent.
func sharedTestdata(t testing.TB, sub string) string {
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
			t.Skip("module root not found; outside test data unavailable")
		}
		dir = parent
	}
	p := filepath.Join(dir, "..", "shared", "testdata", sub)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("outside test data %s is absent; skipping", p)
	}
	return p
}

type ebCase struct {
	Name     string          `json:"name"`
	Expected string          `json:"expected"`
	Event    json.RawMessage `json:"event"`
	Pattern  json.RawMessage `json:"pattern"`
	AWSError *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"aws_error"`
}

// knownExceptions lists judge cases that cannot pass, with the reason.
// Empty: every case is expected to pass.
var knownExceptions = map[string]string{}

// TestEventBridgeConformance runs the LocalStack cases that were validated
// against EventBridge's TestEventPattern, through both Pattern.Match and
// the Matcher.
func TestEventBridgeConformance(t *testing.T) {
	dir := sharedTestdata(t, "eventbridge-patterns")
	raw, err := os.ReadFile(filepath.Join(dir, "localstack-test-event-pattern-cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []ebCase
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	pass, skipped := 0, 0
	for _, c := range cases {
		if reason, ok := knownExceptions[c.Name]; ok {
			t.Logf("known exception %s: %s", c.Name, reason)
			skipped++
			continue
		}
		if checkCase(t, c.Name, c.Expected, c.Pattern, c.Event, c.AWSError) {
			pass++
		}
	}
	// the raw duplicate-key case, kept byte for byte
	total := len(cases) + 1
	pat, err1 := os.ReadFile(filepath.Join(dir, "raw", "complex_multi_key_event_pattern.json"))
	ev, err2 := os.ReadFile(filepath.Join(dir, "raw", "complex_multi_key_event.json"))
	if err1 != nil || err2 != nil {
		t.Errorf("raw duplicate-key case unreadable: %v %v", err1, err2)
	} else if checkCase(t, "raw/complex_multi_key", "match", pat, ev, nil) {
		pass++
	}
	t.Logf("EventBridge conformance: %d/%d passed (%d known exceptions)", pass, total, skipped)
}

func checkCase(t *testing.T, name, expected string, pat, ev []byte, awsErr *struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}) bool {
	t.Helper()
	p, err := Compile(pat)
	if expected == "invalid" {
		var ipe *InvalidPatternError
		switch {
		case err == nil:
			t.Errorf("%s: compiled, want error %q", name, awsErr.Message)
			return false
		case !errors.As(err, &ipe):
			t.Errorf("%s: error %v is not *InvalidPatternError", name, err)
			return false
		case awsErr != nil && ipe.Error() != awsErr.Message:
			t.Errorf("%s: error\n got %q\nwant %q", name, ipe.Error(), awsErr.Message)
			return false
		}
		return true
	}
	if err != nil {
		t.Errorf("%s: Compile: %v", name, err)
		return false
	}
	want := expected == "match"
	got, err := p.Match(ev)
	if err != nil {
		t.Errorf("%s: Match: %v", name, err)
		return false
	}
	if got != want {
		t.Errorf("%s: Pattern.Match = %v, want %v", name, got, want)
		return false
	}
	m := NewMatcher()
	m.Add("other", MustCompile(`{"source":["never.matches"]}`))
	m.Add(name, p)
	ids, err := m.Match(ev)
	if err != nil {
		t.Errorf("%s: Matcher.Match: %v", name, err)
		return false
	}
	if gotM := len(ids) == 1 && ids[0] == name; gotM != want || len(ids) > 1 {
		t.Errorf("%s: Matcher.Match = %v, want match=%v", name, ids, want)
		return false
	}
	return true
}
