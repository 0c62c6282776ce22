package asl

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stewardhq/steward/internal/testdata"
)

// invalidDefinitions are the real definitions that must fail validation,
// with the reason.
var invalidDefinitions = map[string]string{
	"shared-fallback-state-jsonata__statemachine.asl.json": `upstream bug: "QueryLanguage": "JSONata" sits inside States as if it were a state, so the states use JSONata fields under JSONPath`,
}

// TestRealDefinitions validates state machines from public projects: each is
// valid, or fails for the reason listed in invalidDefinitions.
func TestRealDefinitions(t *testing.T) {
	dir := testdata.Dir(t, "asl", "definitions")
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(files) == 0 {
		t.Fatalf("no definitions in %s", dir)
	}
	passed := 0
	for _, f := range files {
		name := filepath.Base(f)
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		_, err = Parse(data)
		reason, wantInvalid := invalidDefinitions[name]
		var ve *ValidationError
		switch {
		case err == nil && !wantInvalid:
			passed++
		case err != nil && wantInvalid && errors.As(err, &ve):
			t.Logf("%s is invalid as expected (%s): %v", name, reason, err)
			passed++
		case wantInvalid:
			t.Errorf("%s: validated, but it is invalid: %s", name, reason)
		default:
			t.Errorf("%s: %v", name, err)
		}
		if strings.Contains(string(data), "${") && err == nil {
			t.Logf("%s validates with its deploy-time ${...} placeholders left in place (they are plain strings to ASL)", name)
		}
	}
	t.Logf("real definitions: %d/%d as expected", passed, len(files))
}

func TestValidationProblems(t *testing.T) {
	tests := []struct {
		name string
		def  string
		want []string // substrings, one per expected problem, in order
	}{
		{
			name: "missing next target and unreachable state",
			def:  `{"StartAt":"pass1","States":{"pass1":{"Type":"Pass","Next":"pass3"},"pass2":{"Type":"Pass","End":true}}}`,
			want: []string{
				"MISSING_TRANSITION_TARGET: Missing 'Next' target: pass3 at /States/pass1/Next",
				`MISSING_TRANSITION_TARGET: State "pass2" is not reachable. at /States/pass2`,
			},
		},
		{
			name: "missing StartAt target",
			def:  `{"StartAt":"Nope","States":{"A":{"Type":"Succeed"}}}`,
			want: []string{"Missing 'Next' target: Nope at /StartAt", `State "A" is not reachable.`},
		},
		{
			name: "loop with no terminal state",
			def:  `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"},"B":{"Type":"Pass","Next":"A"}}}`,
			want: []string{"MISSING_END_STATE: Workflow has no terminal state"},
		},
		{
			name: "unknown state type",
			def:  `{"StartAt":"A","States":{"A":{"Type":"Lambda","End":true}}}`,
			want: []string{"SCHEMA_VALIDATION_FAILED: The value for the field 'Type' must be one of", "at /States/A/Type"},
		},
		{
			name: "unknown field",
			def:  `{"StartAt":"A","States":{"A":{"Type":"Pass","End":true,"Foo":1}}}`,
			want: []string{`The field "Foo" is not supported by Step Functions at /States/A`},
		},
		{
			name: "field of another state type",
			def:  `{"StartAt":"A","States":{"A":{"Type":"Pass","End":true,"Resource":"x"}}}`,
			want: []string{`The field "Resource" is not supported for a state of type Pass at /States/A`},
		},
		{
			name: "missing Next and End",
			def:  `{"StartAt":"A","States":{"A":{"Type":"Pass"}}}`,
			want: []string{"These fields are required: [Next | End] at /States/A"},
		},
		{
			name: "retry after States.ALL",
			def: `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"steward:echo","End":true,
				"Retry":[{"ErrorEquals":["States.ALL"]},{"ErrorEquals":["X"]}]}}}`,
			want: []string{"States.ALL must appear only in the last retrier at /States/A/Retry[0]/ErrorEquals"},
		},
		{
			name: "bad paths",
			def: `{"StartAt":"A","States":{"A":{"Type":"Pass","End":true,"InputPath":"nope","ResultPath":"$..x",
				"Parameters":{"x.$":"$.[[["}}}}`,
			want: []string{"/States/A/InputPath", "at /States/A/Parameters/x.$", "ReferencePath at /States/A/ResultPath"},
		},
		{
			name: "choice rule without Next and bad comparison",
			def: `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.x","NumericEquals":"one"},
				{"Variable":"$.x","StringEquals":"a","BooleanEquals":true,"Next":"D"}],"Default":"D"},"D":{"Type":"Succeed"}}}`,
			want: []string{"These fields are required: [Next] at /States/C/Choices[0]", "must be a NUMBER", "exactly one comparison operator"},
		},
		{
			name: "malformed JSON",
			def:  `{"StartAt": "A", "States": {`,
			want: []string{"INVALID_JSON_DESCRIPTION"},
		},
		{
			name: "wait with two durations",
			def:  `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":1,"Timestamp":"2024-01-01T00:00:00Z","End":true}}}`,
			want: []string{"exactly one of [Seconds, Timestamp, SecondsPath, TimestampPath]"},
		},
		{
			name: "JSONata field under JSONPath",
			def:  `{"StartAt":"A","States":{"A":{"Type":"Pass","End":true,"Output":{"x":1}}}}`,
			want: []string{`The field "Output" is supported only when the query language is JSONata`},
		},
		{
			name: "JSONPath field under JSONata",
			def:  `{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{"Type":"Pass","End":true,"InputPath":"$.x"}}}`,
			want: []string{`The field "InputPath" is not supported for a state of type Pass when the query language is JSONata`},
		},
		{
			name: "intrinsic with wrong arguments",
			def:  `{"StartAt":"A","States":{"A":{"Type":"Pass","End":true,"Parameters":{"x.$":"States.Nope(1)"}}}}`,
			want: []string{"at /States/A/Parameters/x.$"},
		},
		{
			name: "branch target outside its branch",
			def: `{"StartAt":"P","States":{"P":{"Type":"Parallel","End":true,"Branches":[
				{"StartAt":"B1","States":{"B1":{"Type":"Pass","Next":"P"}}}]}}}`,
			want: []string{"Missing 'Next' target: P at /States/P/Branches[0]/States/B1/Next"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.def))
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Parse: got %v, want a ValidationError", err)
			}
			text := err.Error()
			for _, w := range tt.want {
				if !strings.Contains(text, w) {
					t.Errorf("problems do not mention %q:\n%s", w, text)
				}
			}
		})
	}
}

func TestParseYAML(t *testing.T) {
	def := `
Comment: a YAML playbook
StartAt: Tag
States:
  Tag:
    Type: Pass
    Result: {count: 3, ratio: 0.5}
    ResultPath: $.tag
    End: true
`
	m, err := Parse([]byte(def))
	if err != nil {
		t.Fatal(err)
	}
	if m.StartAt != "Tag" || m.States["Tag"].Type != TypePass {
		t.Fatalf("parsed %+v", m)
	}
}

func TestErrorMatching(t *testing.T) {
	tests := []struct {
		list []string
		name string
		want bool
	}{
		{[]string{"States.ALL"}, "Custom", true},
		{[]string{"States.ALL"}, "States.Timeout", true},
		{[]string{"States.ALL"}, "States.Runtime", false},
		{[]string{"States.ALL"}, "States.DataLimitExceeded", false},
		{[]string{"States.TaskFailed"}, "Custom", true},
		{[]string{"States.TaskFailed"}, "States.Timeout", false},
		{[]string{"States.TaskFailed"}, "States.Permissions", true},
		{[]string{"States.Timeout"}, "States.Timeout", true},
		{[]string{"A", "B"}, "B", true},
		{[]string{"A"}, "B", false},
	}
	for _, tt := range tests {
		if got := errorMatches(tt.list, tt.name); got != tt.want {
			t.Errorf("errorMatches(%v, %q) = %v, want %v", tt.list, tt.name, got, tt.want)
		}
	}
}

func TestWildcardMatch(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"*.log", "a.log", true},
		{"*.log", "a.txt", false},
		{"log-*-2024", "log-x-2024", true},
		{"a*b*c", "abc", true},
		{"a*b*c", "acb", false},
		{`a\*b`, "a*b", true},
		{`a\*b`, "axb", false},
		{"*", "", true},
		{"exact", "exact", true},
	}
	for _, tt := range tests {
		if got := wildcardMatch(tt.pattern, tt.s); got != tt.want {
			t.Errorf("wildcardMatch(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}`))
	f.Add([]byte(`{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.x","NumericEquals":1,"Next":"D"}],"Default":"D"},"D":{"Type":"Succeed"}}}`))
	f.Add([]byte(`{"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.xs","ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}`))
	f.Add([]byte("StartAt: A\nStates:\n  A: {Type: Fail, Error: X}\n"))
	f.Add([]byte(`{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{"Type":"Pass","Output":"{% $states.input %}","End":true}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse(data)
		if err == nil && m == nil {
			t.Fatal("nil machine without an error")
		}
	})
}
