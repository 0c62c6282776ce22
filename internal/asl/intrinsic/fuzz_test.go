package intrinsic

import (
	"bytes"
	"encoding/json"
	"testing"
)

var fuzzExprs = []string{
	`States.Format('Hello {}', $.name)`,
	`States.Format('\{\} {} \'x\' \\', $$.Execution.Name)`,
	`States.StringToJson($.json)`,
	`States.JsonToString($.obj)`,
	`States.Array(1, 'a', true, null, $.n, States.Array(2))`,
	`States.ArrayPartition($.arr, 2)`,
	`States.ArrayContains($.arr, 1)`,
	`States.ArrayRange(1, 9, 2)`,
	`States.ArrayGetItem($.arr, 0)`,
	`States.ArrayLength($.arr)`,
	`States.ArrayUnique($.arr)`,
	`States.Base64Encode($.name)`,
	`States.Base64Decode('SGVsbG8=')`,
	`States.Hash($.name, 'SHA-1')`,
	`States.JsonMerge($.obj, $.obj, false)`,
	`States.MathRandom(1, 10, 3)`,
	`States.MathAdd($.n, -1)`,
	`States.StringSplit($.name, 'a')`,
	`States.UUID()`,
	`States.Format('{}', $v.x[0])`,
	`States.ArrayLength($.arr[?(@ > 1)])`,
}

const fuzzInput = `{"name":"Arnav","json":"{\"a\":[1,2.5]}","obj":{"a":1,"b":[true]},"arr":[1,2,2,"x"],"n":5}`

func fuzzEnv(input any) *testEnv {
	return &testEnv{
		input:   input,
		context: map[string]any{"Execution": map[string]any{"Name": "e"}},
		vars:    map[string]any{"v": map[string]any{"x": []any{json.Number("1")}}},
	}
}

func decodeInput(s string) (any, bool) {
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	return v, true
}

// FuzzParse parses arbitrary text; whatever parses must evaluate without
// panicking, failing only with *Error.
func FuzzParse(f *testing.F) {
	for _, e := range fuzzExprs {
		f.Add(e)
	}
	input, _ := decodeInput(fuzzInput)
	f.Fuzz(func(t *testing.T, s string) {
		c, err := Parse(s)
		if err != nil {
			if _, ok := err.(*SyntaxError); !ok {
				t.Fatalf("Parse(%q) error %T, want *SyntaxError", s, err)
			}
			return
		}
		if c.String() != s {
			t.Fatalf("String() = %q", c.String())
		}
		checkEval(t, c, input)
	})
}

// FuzzEval evaluates arbitrary calls over arbitrary inputs.
func FuzzEval(f *testing.F) {
	for _, e := range fuzzExprs {
		f.Add(e, fuzzInput)
	}
	f.Add(`States.Format('{} {}', $.a, $.b)`, `{"a":{"x":[1,{"y":null}]},"b":1e300}`)
	f.Add(`States.MathAdd($.a, $.b)`, `{"a":2147483647,"b":-0.5}`)
	f.Fuzz(func(t *testing.T, s, in string) {
		c, err := Parse(s)
		if err != nil {
			return
		}
		input, ok := decodeInput(in)
		if !ok {
			return
		}
		checkEval(t, c, input)
	})
}

func checkEval(t *testing.T, c *Call, input any) {
	before := CompactJSON(input)
	v, err := c.Eval(fuzzEnv(input))
	if err != nil {
		if _, ok := err.(*Error); !ok {
			t.Fatalf("Eval(%q) error %T (%v), want *Error", c, err, err)
		}
	} else {
		_ = CompactJSON(v)
	}
	if after := CompactJSON(input); after != before {
		t.Fatalf("Eval(%q) mutated the input: %s -> %s", c, before, after)
	}
}
