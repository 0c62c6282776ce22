package pattern

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
)

var fuzzPatterns = []string{
	`{"source":["aws.s3"],"detail":{"eventName":["DeleteBucket"]}}`,
	`{"a":[{"prefix":"us-"},{"suffix":{"equals-ignore-case":".PNG"}},{"wildcard":"a*b\\*c"}]}`,
	`{"n":[{"numeric":[">",0,"<=",5]},{"numeric":["=",3.5e1]},1e3,null,true]}`,
	`{"ip":[{"cidr":"10.0.0.0/8"},{"cidr":"2001:db8::/32"},"10.1.1.1"]}`,
	`{"a":[{"anything-but":{"prefix":["x","y"]}},{"exists":false}],"$or":[{"b":["1"]},{"c":{"d":[{"exists":true}]}}]}`,
	`{"a":[{"anything-but":[1,2]}],"b":[{"anything-but":{"equals-ignore-case":"X"}}],"c":[{"anything-but":{"wildcard":"*x*"}}]}`,
	`{"r":{"k":["a"],"v":["1"]}}`,
	`{"a":[{"numeric":[">",1,"<"]}]}`,
}

var fuzzEvents = []string{
	`{"source":"aws.s3","detail":{"eventName":"DeleteBucket"}}`,
	`{"a":"us-east-1","n":[1,2,3.5e1],"ip":"10.2.3.4","b":"1"}`,
	`{"r":[{"k":"a","v":"2"},{"k":"b","v":"1"}],"c":{"d":null}}`,
	`{"a":"x\u00e9\"\\","n":-0.000001,"ip":"2001:db8::5","x":[[{"y":[true,false]}]]}`,
	`{"a":{"b":{"c":[]}},"a.b":"dotted"}`,
}

// FuzzCompile checks that Compile never panics and that every failure is
// an InvalidPatternError or ErrPatternTooLong.
func FuzzCompile(f *testing.F) {
	for _, p := range fuzzPatterns {
		f.Add([]byte(p))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		p, err := Compile(src)
		if err != nil {
			if !errors.Is(err, ErrInvalidPattern) && !errors.Is(err, ErrPatternTooLong) {
				t.Fatalf("Compile error of unexpected type: %v", err)
			}
			return
		}
		if p.String() != string(src) {
			t.Fatal("String does not return the source")
		}
	})
}

// FuzzMatch checks that Pattern.Match and the Matcher agree and never
// panic.
func FuzzMatch(f *testing.F) {
	for _, p := range fuzzPatterns {
		for _, e := range fuzzEvents {
			f.Add([]byte(p), []byte(e))
		}
	}
	f.Fuzz(func(t *testing.T, pat, ev []byte) {
		p, err := Compile(pat)
		if err != nil {
			return
		}
		got, err := p.Match(ev)
		m := NewMatcher()
		m.Add("r", p)
		ids, merr := m.Match(ev)
		if (err == nil) != (merr == nil) {
			t.Fatalf("errors disagree: %v vs %v", err, merr)
		}
		if err != nil {
			if !errors.Is(err, ErrMalformedEvent) {
				t.Fatalf("Match error of unexpected type: %v", err)
			}
			return
		}
		if got != (len(ids) == 1) {
			t.Fatalf("Pattern.Match = %v, Matcher = %v", got, ids)
		}
	})
}

// FuzzFlatten checks the event scanner against encoding/json: it accepts
// exactly the JSON objects encoding/json accepts, and finds the same
// number of scalar leaves.
func FuzzFlatten(f *testing.F) {
	for _, e := range fuzzEvents {
		f.Add([]byte(e))
	}
	f.Add([]byte(`{"a":1,}`))
	f.Add([]byte(`{"a":"\ud800"}`))
	f.Fuzz(func(t *testing.T, ev []byte) {
		var fe flatEvent
		err := flatten(ev, nil, &fe)
		var v any
		jerr := json.Unmarshal(ev, &v)
		_, isObj := v.(map[string]any)
		if jerr == nil && isObj && err != nil && !deepJSON(ev) {
			t.Fatalf("scanner rejected a valid object: %v", err)
		}
		if err == nil && (jerr != nil || !isObj) {
			t.Fatalf("scanner accepted what encoding/json rejects (%v)", jerr)
		}
		if err != nil {
			return
		}
		if n := countLeaves(v); n != len(fe.leaves) && !hasDuplicateKeys(ev) {
			t.Fatalf("scanner found %d leaves, encoding/json %d", len(fe.leaves), n)
		}
	})
}

// deepJSON reports nesting beyond the scanner's limit.
func deepJSON(b []byte) bool {
	d, max := 0, 0
	for _, c := range b {
		switch c {
		case '{', '[':
			d++
			if d > max {
				max = d
			}
		case '}', ']':
			d--
		}
	}
	return max > maxEventNesting
}

func countLeaves(v any) int {
	switch x := v.(type) {
	case map[string]any:
		n := 0
		for _, e := range x {
			n += countLeaves(e)
		}
		return n
	case []any:
		n := 0
		for _, e := range x {
			n += countLeaves(e)
		}
		return n
	}
	return 1
}

// hasDuplicateKeys is a cheap over-approximation: encoding/json keeps one
// value per key while the scanner keeps all, so counts may differ.
func hasDuplicateKeys(b []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(b))
	type frame struct {
		obj  bool
		keys map[string]bool
		key  bool // next string token is a key
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		top := (*frame)(nil)
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		switch x := tok.(type) {
		case json.Delim:
			switch x {
			case '{':
				stack = append(stack, &frame{obj: true, keys: map[string]bool{}, key: true})
				continue
			case '[':
				stack = append(stack, &frame{})
				continue
			default:
				stack = stack[:len(stack)-1]
			}
		case string:
			if top != nil && top.obj && top.key {
				if top.keys[x] {
					return true
				}
				top.keys[x] = true
				top.key = false
				continue
			}
		}
		if len(stack) > 0 && stack[len(stack)-1].obj {
			stack[len(stack)-1].key = true
		}
	}
}
