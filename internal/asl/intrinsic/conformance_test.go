package intrinsic

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stewardhq/steward/internal/asl/jsonpath"
)

// sharedTestdata finds /work/shared/testdata as "../shared/testdata" from
// the module root (the directory holding go.mod).
func sharedTestdata(t testing.TB) string {
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
			t.Skip("module root (go.mod) not found")
		}
		dir = parent
	}
	td := filepath.Join(dir, "..", "shared", "testdata")
	if _, err := os.Stat(td); err != nil {
		t.Skipf("shared test data not found at %s: %v", td, err)
	}
	return td
}

func decodeJSON(t testing.TB, data []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode: %v", err)
	}
	return v
}

type testEnv struct {
	input, context any
	vars           map[string]any
}

func (e *testEnv) Input() any   { return e.input }
func (e *testEnv) Context() any { return e.context }
func (e *testEnv) Variable(name string) (any, bool) {
	v, ok := e.vars[name]
	return v, ok
}

type conformanceCase struct {
	Definition map[string]any `json:"definition"`
	Input      any            `json:"input"`
	Expected   struct {
		Status string `json:"status"`
		Output any    `json:"output"`
		Error  any    `json:"error"`
		Cause  any    `json:"cause"`
	} `json:"expected"`
}

// recordedContext returns the context object recorded (normalized by
// LocalStack's transformers) in base/test_base__test_query_context_object_values.
func recordedContext(t *testing.T, td string) map[string]any {
	data, err := os.ReadFile(filepath.Join(td, "asl", "conformance", "base", "test_base__test_query_context_object_values.json"))
	if err != nil {
		t.Logf("no recorded context object: %v", err)
		return nil
	}
	var c conformanceCase
	v := decodeJSON(t, data)
	raw, _ := json.Marshal(v)
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&c); err != nil {
		t.Fatal(err)
	}
	out, _ := c.Expected.Output.(map[string]any)
	q, _ := out["query_values_1"].(map[string]any)
	ctx, _ := q["context_object"].(map[string]any)
	return ctx
}

// contextFor builds the context object of an execution of the case: the
// recorded shape with this case's input and state name.
func contextFor(base map[string]any, input any, state string) any {
	ctx := map[string]any{}
	for k, v := range base {
		ctx[k] = v
	}
	if ex, ok := base["Execution"].(map[string]any); ok {
		e := map[string]any{}
		for k, v := range ex {
			e[k] = v
		}
		e["Input"] = input
		ctx["Execution"] = e
	}
	if st, ok := base["State"].(map[string]any); ok {
		s := map[string]any{}
		for k, v := range st {
			s[k] = v
		}
		s["Name"] = state
		ctx["State"] = s
	}
	return ctx
}

// TestConformance evaluates the intrinsic calls (and paths) of the recorded
// Step Functions executions in intrinsic_functions/ and base/ whose state
// machine is a single JSONPath Pass state, and compares the state's output
// with the recorded one.
func TestConformance(t *testing.T) {
	td := sharedTestdata(t)
	var files []string
	for _, group := range []string{"intrinsic_functions", "base"} {
		dir := filepath.Join(td, "asl", "conformance", group)
		fs, err := filepath.Glob(filepath.Join(dir, "*.json"))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, fs...)
	}
	if len(files) == 0 {
		t.Skip("no conformance cases under asl/conformance/{intrinsic_functions,base}")
	}
	baseCtx := recordedContext(t, td)
	sort.Strings(files)
	checked, passed := 0, 0
	var skipped []string
	for _, f := range files {
		name := filepath.Base(filepath.Dir(f)) + "/" + strings.TrimSuffix(filepath.Base(f), ".json")
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var c conformanceCase
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		if err := dec.Decode(&c); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		state, stateName, why := singlePassState(c.Definition)
		if why != "" {
			skipped = append(skipped, name+": "+why)
			continue
		}
		checked++
		env := &testEnv{context: contextFor(baseCtx, c.Input, stateName)}
		got, err := runPass(state, c.Input, env)
		switch c.Expected.Status {
		case "SUCCEEDED":
			if err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			if g, w := CompactJSON(got), CompactJSON(normalizeNumbers(c.Expected.Output)); g != w {
				t.Errorf("%s:\n got  %s\n want %s", name, g, w)
				continue
			}
		default:
			var ie *Error
			if !errors.As(err, &ie) || ie.Name != c.Expected.Error {
				t.Errorf("%s: got %v, want error %v", name, err, c.Expected.Error)
				continue
			}
		}
		passed++
	}
	for _, s := range skipped {
		t.Logf("skipped %s", s)
	}
	t.Logf("intrinsic conformance: %d cases, %d checked, %d passed, %d skipped", len(files), checked, passed, len(skipped))
}

// singlePassState returns the only state of a JSONPath state machine when
// it is a Pass state, or why the case is out of scope here.
func singlePassState(def map[string]any) (map[string]any, string, string) {
	if def["QueryLanguage"] == "JSONata" {
		return nil, "", "JSONata state machine (not intrinsic functions)"
	}
	states, _ := def["States"].(map[string]any)
	if len(states) != 1 {
		return nil, "", "more than one state"
	}
	for name, s := range states {
		st, _ := s.(map[string]any)
		if st["QueryLanguage"] == "JSONata" {
			return nil, "", "JSONata state (not intrinsic functions)"
		}
		if st["Type"] != "Pass" {
			return nil, "", "not a Pass state"
		}
		return st, name, ""
	}
	return nil, "", "no state"
}

// runPass applies InputPath, Parameters (top-level keys only), ResultPath
// and OutputPath of a Pass state, evaluating "key.$" values as intrinsic
// calls or paths.
func runPass(st map[string]any, input any, env *testEnv) (any, error) {
	effective := input
	if ip, ok := st["InputPath"].(string); ok {
		p, err := jsonpath.Compile(ip)
		if err != nil {
			return nil, err
		}
		if effective, err = p.Get(input); err != nil {
			return nil, err
		}
	}
	env.input = effective
	result := effective
	if r, ok := st["Result"]; ok {
		result = r
	}
	if params, ok := st["Parameters"].(map[string]any); ok {
		out := map[string]any{}
		for k, v := range params {
			s, isStr := v.(string)
			if !strings.HasSuffix(k, ".$") || !isStr {
				out[k] = v
				continue
			}
			key := strings.TrimSuffix(k, ".$")
			var val any
			var err error
			if IsCall(s) {
				var call *Call
				if call, err = Parse(s); err == nil {
					val, err = call.Eval(env)
				}
			} else {
				var p *jsonpath.Path
				doc := effective
				src := s
				if strings.HasPrefix(s, "$$") {
					doc, src = env.context, s[1:]
				}
				if p, err = jsonpath.Compile(src); err == nil {
					val, err = p.Get(doc)
				}
			}
			if err != nil {
				return nil, err
			}
			out[key] = val
		}
		result = out
	}
	output := result
	if rp, ok := st["ResultPath"].(string); ok {
		p, err := jsonpath.Compile(rp)
		if err != nil {
			return nil, err
		}
		if output, err = p.Set(input, result); err != nil {
			return nil, err
		}
	}
	if op, ok := st["OutputPath"].(string); ok {
		p, err := jsonpath.Compile(op)
		if err != nil {
			return nil, err
		}
		return p.Get(output)
	}
	return output, nil
}
