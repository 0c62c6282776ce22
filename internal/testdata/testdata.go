// Package testdata finds the outside test suites in ../shared/testdata,
// beside the repository, for tests.
package testdata

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// Dir returns the path of a folder under ../shared/testdata, or skips the
// test with a clear message when the suites are not there.
func Dir(t testing.TB, sub ...string) string {
	t.Helper()
	root, err := moduleRoot()
	if err != nil {
		t.Skipf("outside test suites not found: %v", err)
	}
	dir := filepath.Join(append([]string{root, "..", "shared", "testdata"}, sub...)...)
	if env := os.Getenv("STEWARD_TESTDATA"); env != "" {
		dir = filepath.Join(append([]string{env}, sub...)...)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("outside test suite %s is absent (it lives in ../shared/testdata beside the repository, or set STEWARD_TESTDATA): skipping", dir)
	}
	return dir
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", os.ErrNotExist
		}
		dir = parent
	}
}

// placeholder matches the values LocalStack's snapshot transformers put in
// recordings in place of ARNs, names and times.
var placeholder = regexp.MustCompile(`<[A-Za-z_0-9:-]+>|^(start-time|entered-time|snf_role_arn|timestamp|date|[a-z]+-uuid)$`)

// JSONDiff compares JSON values: numbers numerically; with placeholders,
// an expected string holding a placeholder matches any string. It
// returns "" when they match, else where and how they differ. At the top
// level ("$") an expected string may be the JSON text of the value.
func JSONDiff(at string, want, got any, placeholders bool) string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Sprintf("%s: got %s, want an object", at, jsonText(got))
		}
		for k, wv := range w {
			gv, ok := g[k]
			if !ok {
				return fmt.Sprintf("%s.%s: missing", at, k)
			}
			if d := JSONDiff(at+"."+k, wv, gv, placeholders); d != "" {
				return d
			}
		}
		for k := range g {
			if _, ok := w[k]; !ok {
				return fmt.Sprintf("%s.%s: unexpected (%s)", at, k, jsonText(g[k]))
			}
		}
		return ""
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return fmt.Sprintf("%s: got %s, want %s", at, jsonText(got), jsonText(want))
		}
		for i := range w {
			if d := JSONDiff(fmt.Sprintf("%s[%d]", at, i), w[i], g[i], placeholders); d != "" {
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
			if decoded, err := decodeJSON([]byte(w)); err == nil {
				return JSONDiff("$ (as JSON text)", decoded, got, placeholders)
			}
		}
		return fmt.Sprintf("%s: got %s, want %q", at, jsonText(got), w)
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
			return fmt.Sprintf("%s: got %s, want %s", at, jsonText(got), w)
		}
		if wf != gf {
			return fmt.Sprintf("%s: got %v, want %s", at, got, w)
		}
		return ""
	default:
		if jsonText(want) != jsonText(got) {
			return fmt.Sprintf("%s: got %s, want %s", at, jsonText(got), jsonText(want))
		}
		return ""
	}
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	return string(b)
}

func decodeJSON(s []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("trailing data")
	}
	return v, nil
}

// ConformanceCase is one execution recorded against real Step Functions,
// from asl/conformance.
type ConformanceCase struct {
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

// ConformanceCases loads every recorded execution, sorted by file name.
func ConformanceCases(t testing.TB) []*ConformanceCase {
	t.Helper()
	dir := Dir(t, "asl", "conformance")
	files, err := filepath.Glob(filepath.Join(dir, "*", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no conformance cases in %s: %v", dir, err)
	}
	sort.Strings(files)
	var cases []*ConformanceCase
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		c := &ConformanceCase{}
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

// DecodeJSON decodes one JSON document with numbers as json.Number.
func DecodeJSON(data []byte) (any, error) { return decodeJSON(data) }
