package jsonpath

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

var fuzzPaths = []string{
	"$", "$.a", "$['a b']", `$["x\"y"]`, "$.a[0].b", "$.a[-1]", "$.a[*].b", "$..b", "$.a[1:3]",
	"$.a[:2]", "$.a[-2:]", "$.a[0,2]", "$['a','c']", "$.a[?(@.b == 1)]", "$.a[?(@.b > 1 && @.c)]",
	"$.a[?(@.b =~ /x.*/i)]", "$.a[?(@.b in [1,2])]", "$.a.length()", "$..[?(@.b)]", "$.*",
	"$.[?(@.a)]", "$.a[?(!@.c || (@.b != 'x'))]", "$.a[?(@.b <= $.c)]",
}

const fuzzDoc = `{"a":[{"b":1,"c":"x"},{"b":2},{"b":"x1"},[1,2]],"c":3,"a b":null,"x\"y":true}`

// FuzzCompile compiles arbitrary text; whatever compiles must evaluate
// against a document without panicking and, for reference paths, Set must
// not mutate the document.
func FuzzCompile(f *testing.F) {
	for _, p := range fuzzPaths {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := Compile(s)
		if err != nil {
			if _, ok := err.(*SyntaxError); !ok {
				t.Fatalf("Compile(%q) error %T, want *SyntaxError", s, err)
			}
			return
		}
		if p.String() != s {
			t.Fatalf("String() = %q, want %q", p.String(), s)
		}
		checkPath(t, p, fuzzDoc)
	})
}

// FuzzGet evaluates arbitrary paths over arbitrary documents.
func FuzzGet(f *testing.F) {
	for _, p := range fuzzPaths {
		f.Add(p, fuzzDoc)
	}
	f.Add("$.x.y", `{"x":{"y":[1,{"z":null}]}}`)
	f.Add("$..z", `[[[{"z":1}]],{"z":{"z":2}}]`)
	f.Fuzz(func(t *testing.T, s, doc string) {
		p, err := Compile(s)
		if err != nil {
			return
		}
		checkPath(t, p, doc)
	})
}

func checkPath(t *testing.T, p *Path, doc string) {
	dec := json.NewDecoder(bytes.NewReader([]byte(doc)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return
	}
	before, _ := json.Marshal(v)
	got, err := p.Get(v)
	if err == nil && !p.IsDefinite() {
		if _, ok := got.([]any); !ok {
			t.Fatalf("Get(%q) of an indefinite path = %T, want []any", p, got)
		}
	}
	if p.IsReference() {
		nv, err := p.Set(v, "new")
		if err == nil {
			back, err := p.Get(nv)
			if err != nil || !reflect.DeepEqual(back, "new") {
				t.Fatalf("Get after Set(%q) = %v, %v", p, back, err)
			}
		}
	}
	after, _ := json.Marshal(v)
	if !bytes.Equal(before, after) {
		t.Fatalf("%q mutated the document: %s -> %s", p, before, after)
	}
}
