package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/asl"
	"github.com/stewardhq/steward/internal/task"
	"github.com/stewardhq/steward/internal/testdata"
)

// conformanceCase is one execution recorded against real Step Functions.
type conformanceCase struct {
	ID           string          `json:"id"`
	Group        string          `json:"group"`
	Definition   json.RawMessage `json:"definition"`
	Input        json.RawMessage `json:"input"`
	Placeholders bool            `json:"placeholders_in_expected"`
	Expected     struct {
		Status string          `json:"status"`
		Output json.RawMessage `json:"output"`
		Error  *string         `json:"error"`
		Cause  *string         `json:"cause"`
	} `json:"expected"`
	History []struct {
		Type string `json:"type"`
	} `json:"history"`
}

// conformanceExceptions lists recorded cases steward does not pass, with
// the reason. Keep it short and honest.
var conformanceExceptions = map[string]string{
	"test_variable": "the recorded definition still holds LocalStack's template placeholder %CONTEXT_OBJECT_LITERAL_PLACEHOLDER% as the Variable",
}

// timestampPlaceholder: LocalStack's snapshot replaced the timestamps in
// these recordings, in the definition and input alike, with the word
// "date", so what real Step Functions compared is no longer in the file.
const timestampPlaceholder = "the recording's timestamps were replaced by the placeholder \"date\" (in the definition and input), so the compared values are lost"

func init() {
	for _, id := range []string{"test_timestamp_equals_0", "test_timestamp_equals_8", "test_timestamp_equals_12", "test_timestamp_equals_16",
		"test_timestamp_equals_path_0", "test_timestamp_greater_than_0", "test_timestamp_greater_than_equals_0", "test_timestamp_less_than_0",
		"test_timestamp_less_than_equals_0"} {
		conformanceExceptions[id] = timestampPlaceholder
	}
}

func loadConformance(t *testing.T) []*conformanceCase {
	dir := testdata.Dir(t, "asl", "conformance")
	files, err := filepath.Glob(filepath.Join(dir, "*", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no conformance cases in %s: %v", dir, err)
	}
	sort.Strings(files)
	var cases []*conformanceCase
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		c := &conformanceCase{}
		if err := json.Unmarshal(data, c); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if c.Group == "" {
			c.Group = filepath.Base(filepath.Dir(f))
		}
		if c.ID == "" {
			c.ID = strings.TrimSuffix(filepath.Base(f), ".json")
		}
		cases = append(cases, c)
	}
	return cases
}

func queryLanguage(def json.RawMessage) string {
	if strings.Contains(string(def), `"QueryLanguage": "JSONata"`) || strings.Contains(string(def), `"QueryLanguage":"JSONata"`) {
		return asl.JSONata
	}
	return asl.JSONPath
}

// runCase runs one case in memory and returns a mismatch description, or "".
func runCase(c *conformanceCase, run func(m *asl.Machine, input any) (*Result, error)) string {
	m, err := asl.Parse(c.Definition)
	if err != nil {
		return fmt.Sprintf("definition rejected: %v", err)
	}
	input, err := asl.DecodeJSON(c.Input)
	if err != nil {
		return fmt.Sprintf("input: %v", err)
	}
	res, err := run(m, input)
	if err != nil {
		return fmt.Sprintf("run: %v", err)
	}
	if res.Status != c.Expected.Status {
		return fmt.Sprintf("status %s (%s: %s), want %s", res.Status, res.Error, res.Cause, c.Expected.Status)
	}
	if c.Expected.Status == StatusSucceeded {
		want, err := asl.DecodeJSON(c.Expected.Output)
		if err != nil {
			return fmt.Sprintf("expected output: %v", err)
		}
		if diff := jsonDiff("$", want, res.Output, c.Placeholders); diff != "" {
			return "output: " + diff
		}
		return ""
	}
	if c.Expected.Error != nil && *c.Expected.Error != res.Error {
		return fmt.Sprintf("error %q, want %q", res.Error, *c.Expected.Error)
	}
	if c.Expected.Error == nil && res.Error != "" {
		return fmt.Sprintf("error %q, want none", res.Error)
	}
	if c.Expected.Cause != nil && *c.Expected.Cause != res.Cause {
		return fmt.Sprintf("cause %q, want %q", res.Cause, *c.Expected.Cause)
	}
	if c.Expected.Cause == nil && res.Cause != "" {
		return fmt.Sprintf("cause %q, want none", res.Cause)
	}
	return ""
}

// placeholder matches the values LocalStack's snapshot transformers put in
// recordings in place of ARNs, names and times.
var placeholder = regexp.MustCompile(`<[A-Za-z_0-9:-]+>|^(start-time|entered-time|snf_role_arn|timestamp|date|[a-z]+-uuid)$`)

// jsonDiff compares JSON values: numbers numerically; with placeholders,
// an expected string holding a placeholder matches any string.
func jsonDiff(at string, want, got any, placeholders bool) string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Sprintf("%s: got %s, want an object", at, jsonString(got))
		}
		for k, wv := range w {
			gv, ok := g[k]
			if !ok {
				return fmt.Sprintf("%s.%s: missing", at, k)
			}
			if d := jsonDiff(at+"."+k, wv, gv, placeholders); d != "" {
				return d
			}
		}
		for k := range g {
			if _, ok := w[k]; !ok {
				return fmt.Sprintf("%s.%s: unexpected (%s)", at, k, jsonString(g[k]))
			}
		}
		return ""
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return fmt.Sprintf("%s: got %s, want %s", at, jsonString(got), jsonString(want))
		}
		for i := range w {
			if d := jsonDiff(fmt.Sprintf("%s[%d]", at, i), w[i], g[i], placeholders); d != "" {
				return d
			}
		}
		return ""
	case string:
		if g, ok := got.(string); ok && (g == w || placeholders && placeholder.MatchString(w)) {
			return ""
		}
		// The recordings keep a non-object execution output as its JSON text.
		if at == "$" {
			if decoded, err := asl.DecodeJSON([]byte(w)); err == nil {
				return jsonDiff("$ (as JSON text)", decoded, got, placeholders)
			}
		}
		return fmt.Sprintf("%s: got %s, want %q", at, jsonString(got), w)
	case json.Number:
		wf, _ := w.Float64()
		var gf float64
		switch g := got.(type) {
		case json.Number:
			gf, _ = g.Float64()
		case float64:
			gf = g
		case int:
			gf = float64(g)
		default:
			return fmt.Sprintf("%s: got %s, want %s", at, jsonString(got), w)
		}
		if wf != gf {
			return fmt.Sprintf("%s: got %v, want %s", at, got, w)
		}
		return ""
	default:
		if jsonString(want) != jsonString(got) {
			return fmt.Sprintf("%s: got %s, want %s", at, jsonString(got), jsonString(want))
		}
		return ""
	}
}

// TestConformance runs the executions recorded against real Step Functions
// in memory and prints the pass count by group, JSONPath and JSONata apart.
func TestConformance(t *testing.T) {
	cases := loadConformance(t)
	tasks := task.NewRegistry()
	task.RegisterBasics(tasks)
	run := func(m *asl.Machine, input any) (*Result, error) {
		return Run(context.Background(), RunParams{Machine: m, Input: input, Tasks: tasks, Start: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)})
	}
	reportConformance(t, cases, run)
}

func reportConformance(t *testing.T, cases []*conformanceCase, run func(m *asl.Machine, input any) (*Result, error)) {
	type tally struct{ pass, total int }
	counts := map[string]*tally{}
	var keys []string
	passed := map[string]int{}
	totals := map[string]int{}
	for _, c := range cases {
		ql := queryLanguage(c.Definition)
		key := ql + " " + c.Group
		if counts[key] == nil {
			counts[key] = &tally{}
			keys = append(keys, key)
		}
		counts[key].total++
		totals[ql]++
		diff := runCase(c, run)
		reason, excepted := conformanceExceptions[c.ID]
		switch {
		case diff == "":
			counts[key].pass++
			passed[ql]++
			if excepted {
				t.Errorf("%s/%s passes now: remove it from conformanceExceptions", c.Group, c.ID)
			}
		case excepted:
			t.Logf("known failure %s/%s (%s): %s", c.Group, c.ID, reason, diff)
		case ql == asl.JSONata:
			t.Logf("JSONata case %s/%s fails: %s", c.Group, c.ID, diff)
		default:
			t.Errorf("%s/%s: %s", c.Group, c.ID, diff)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.Logf("conformance %-40s %3d/%d passed", k, counts[k].pass, counts[k].total)
	}
	for _, ql := range []string{asl.JSONPath, asl.JSONata} {
		t.Logf("conformance %s total: %d/%d passed", ql, passed[ql], totals[ql])
	}
}
