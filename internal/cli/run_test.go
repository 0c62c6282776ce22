package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stewardhq/steward/internal/testdata"
)

// steward runs the command line in-process and returns its exit code and
// output.
func steward(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), args, strings.NewReader(""), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRunJSONConformance runs every recorded Step Functions execution
// through `steward run --json`, as a user would, and compares the one JSON
// object it prints with the recording.
func TestRunJSONConformance(t *testing.T) {
	cases := testdata.ConformanceCases(t)
	dir := t.TempDir()
	pass := map[bool]int{}
	total := map[bool]int{}
	for _, c := range cases {
		jsonata := strings.Contains(string(c.Definition), `"JSONata"`)
		total[jsonata]++
		def := writeFile(t, dir, c.ID+".asl.json", c.Definition)
		in := writeFile(t, dir, c.ID+".input.json", c.Input)
		code, out, errOut := steward(t, "run", def, "--input", "@"+in, "--json")
		if code != 0 {
			continue // definitions the recordings corrupted; the engine test lists them
		}
		var got struct {
			Status string  `json:"status"`
			Output any     `json:"output"`
			Error  *string `json:"error"`
			Cause  *string `json:"cause"`
		}
		dec := json.NewDecoder(strings.NewReader(out))
		dec.UseNumber()
		if err := dec.Decode(&got); err != nil || dec.More() {
			t.Errorf("%s: steward run --json printed %q (stderr %q), not exactly one JSON object", c.ID, out, errOut)
			continue
		}
		if got.Status != c.Expected.Status {
			continue
		}
		if got.Status == "SUCCEEDED" {
			want, err := testdata.DecodeJSON(c.Expected.Output)
			if err != nil || testdata.JSONDiff("$", want, got.Output, c.Placeholders) != "" {
				continue
			}
		} else if !sameString(got.Error, c.Expected.Error) || !sameString(got.Cause, c.Expected.Cause) {
			continue
		}
		pass[jsonata]++
	}
	t.Logf("steward run --json: JSONPath %d/%d, JSONata %d/%d match the recordings", pass[false], total[false], pass[true], total[true])
	if pass[true] != total[true] {
		t.Errorf("every JSONata case must pass through steward run --json: %d/%d", pass[true], total[true])
	}
	if total[false]-pass[false] > 10 {
		t.Errorf("more JSONPath cases fail through the CLI (%d) than the engine's listed exceptions (10)", total[false]-pass[false])
	}
}

func sameString(a, b *string) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

func TestValidateExitCodes(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, dir, "good.yaml", []byte("StartAt: A\nStates:\n  A: {Type: Succeed}\n"))
	bad := writeFile(t, dir, "bad.json", []byte(`{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"}}}`))
	if code, out, _ := steward(t, "validate", good); code != 0 || !strings.Contains(out, "valid") {
		t.Errorf("valid file: exit %d, %q", code, out)
	}
	code, out, _ := steward(t, "validate", good, bad)
	if code != 1 || !strings.Contains(out, "MISSING_TRANSITION_TARGET: Missing 'Next' target: B at /States/A/Next") {
		t.Errorf("invalid file: exit %d, %q", code, out)
	}
	if code, _, _ := steward(t, "validate", filepath.Join(dir, "missing.json")); code != 1 {
		t.Errorf("missing file: exit %d", code)
	}
}

func TestRunBadInput(t *testing.T) {
	dir := t.TempDir()
	def := writeFile(t, dir, "p.json", []byte(`{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}`))
	code, _, errOut := steward(t, "run", def, "--input", `{"a":`)
	if code != 1 || !strings.Contains(errOut, "error: the input is not valid JSON") || !strings.Contains(errOut, "hint:") {
		t.Errorf("malformed input: exit %d, stderr %q", code, errOut)
	}
	bad := writeFile(t, dir, "bad.json", []byte(`{"StartAt":"A","States":{"A":{"Type":"Nope"}}}`))
	code, out, errOut := steward(t, "run", bad, "--json")
	if code != 1 || out != "" || !strings.Contains(errOut, "SCHEMA_VALIDATION_FAILED") {
		t.Errorf("invalid playbook: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	unknown := writeFile(t, dir, "unknown.json", []byte(`{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"steward:nope","End":true}}}`))
	code, _, errOut = steward(t, "run", unknown)
	if code != 1 || !strings.Contains(errOut, `unknown task resource "steward:nope"`) {
		t.Errorf("unknown task: exit %d, stderr %q", code, errOut)
	}
	fail := writeFile(t, dir, "fail.json", []byte(`{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"E","Cause":"c"}}}`))
	code, out, _ = steward(t, "run", fail, "--json")
	if code != 0 || strings.TrimSpace(out) != `{"cause":"c","error":"E","output":null,"status":"FAILED"}` {
		t.Errorf("failed execution: exit %d, %q", code, out)
	}
}
