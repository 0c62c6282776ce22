package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/asl"
	"github.com/stewardhq/steward/internal/task"
	"github.com/stewardhq/steward/internal/testdata"
)

// conformanceCase is one execution recorded against real Step Functions.
type conformanceCase = testdata.ConformanceCase

func loadConformance(t *testing.T) []*conformanceCase { return testdata.ConformanceCases(t) }

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
		if diff := testdata.JSONDiff("$", want, res.Output, c.Placeholders); diff != "" {
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
