package intrinsic

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

const evalInput = `{
  "name": "Arnav",
  "template": "Hello, my name is {}.",
  "obj": {"b": 2, "a": [1, "x", null, true, {"k": 1.5}]},
  "arr": [1, 2, 3, 2, 1, {"a": 1}, {"a": 1}, [1], [1], 1.0],
  "str": "a,b,,c",
  "json": "{\"foo\": \"bar\", \"n\": [1, 2.50, -0]}",
  "n": 7,
  "f": 2.5,
  "big": 2147483647,
  "t": true,
  "esc": "quote\" backslash\\ tab\t nl\n ctl\u0001 uni\u00e9 slash/",
  "nested": {"o": {"x": 1}},
  "arn": "arn:aws:imagebuilder:us-east-1:111111111111:image/recipe-name/1.2.3",
  "items": [{"id": 1, "ok": true}, {"id": 2, "ok": false}]
}`

func TestEval(t *testing.T) {
	env := &testEnv{
		input:   decodeJSON(t, []byte(evalInput)),
		context: decodeJSON(t, []byte(`{"Execution": {"Name": "exec-1", "StartTime": "2024-01-02T03:04:05Z"}, "StateMachine": {"Name": "sm", "Id": "arn:sm"}}`)),
		vars:    map[string]any{"v": decodeJSON(t, []byte(`{"x": [10, 20]}`)), "s": "str"},
	}
	tests := []struct {
		expr string
		want string // CompactJSON of the result
	}{
		{`States.Format('Hello, my name is {}.', $.name)`, `"Hello, my name is Arnav."`},
		{`States.Format($.template, $.name)`, `"Hello, my name is Arnav."`},
		{`States.Format('{} {} {} {} {}', $.n, $.f, $.t, $.obj, null)`, `"7 2.5 true {a=[1, x, null, true, {k=1.5}], b=2} null"`},
		{`States.Format('\{\} \'q\' \\ {}', 'x')`, `"{} 'q' \\ x"`},
		{`States.Format('no placeholders')`, `"no placeholders"`},
		{`States.Format('{}', $$.Execution.Name)`, `"exec-1"`},
		{`States.Format('{}-{}', $v.x[1], $s)`, `"20-str"`},
		{`States.Format('{}', 1.0)`, `"1.0"`},
		{`States.Format('{}', $.arr)`, `"[1, 2, 3, 2, 1, {a=1}, {a=1}, [1], [1], 1.0]"`},
		{`States.StringToJson($.json)`, `{"foo":"bar","n":[1,2.5,0]}`},
		{`States.StringToJson('  ')`, `null`},
		{`States.StringToJson('"x"')`, `"x"`},
		{`States.JsonToString($.obj)`, `"{\"a\":[1,\"x\",null,true,{\"k\":1.5}],\"b\":2}"`},
		{`States.JsonToString($.esc)`, `"\"quote\\\" backslash\\\\ tab\\t nl\\n ctl\\u0001 uni` + "\u00e9" + ` slash/\""`},
		{`States.JsonToString($.f)`, `"2.5"`},
		{`States.Array()`, `[]`},
		{`States.Array(1, 'a', true, null, $.n, States.Array(2))`, `[1,"a",true,null,7,[2]]`},
		{`States.ArrayPartition($.arr, 4)`, `[[1,2,3,2],[1,{"a":1},{"a":1},[1]],[[1],1.0]]`},
		{`States.ArrayContains($.arr, $.nested.o.x)`, `true`},
		{`States.ArrayContains($.arr, 9)`, `false`},
		{`States.ArrayContains($.arr, States.StringToJson('{"a":1}'))`, `true`},
		{`States.ArrayRange(1, 9, 2)`, `[1,3,5,7,9]`},
		{`States.ArrayRange(5, 1, -2)`, `[5,3,1]`},
		{`States.ArrayRange(5, 1, 2)`, `[]`},
		{`States.ArrayRange(0, 999, 1)`, ""}, // length checked below
		{`States.ArrayGetItem($.arr, 5)`, `{"a":1}`},
		{`States.ArrayGetItem(States.StringSplit($$.Execution.StartTime, 'T'), 0)`, `"2024-01-02"`},
		{`States.ArrayLength($.arr)`, `10`},
		{`States.ArrayUnique($.arr)`, `[1,2,3,{"a":1},[1],1.0]`}, // Jackson: 1 != 1.0
		{`States.Base64Encode('Data to encode')`, `"RGF0YSB0byBlbmNvZGU="`},
		{`States.Base64Decode('RGF0YSB0byBlbmNvZGU=')`, `"Data to encode"`},
		{`States.Hash('input data', 'SHA-256')`, `"b4a697a057313163aee33cd8d40c66e9f0f177e00cac2de32475ffff6169c3e3"`},
		{`States.Hash('input data', 'MD5')`, `"812f45842bc6d66ee14572ce20db8e86"`},
		{`States.JsonMerge($.obj, $.nested, false)`, `{"a":[1,"x",null,true,{"k":1.5}],"b":2,"o":{"x":1}}`},
		{`States.MathAdd($.n, -1)`, `6`},
		{`States.MathAdd($.f, 0)`, `3`},
		{`States.MathAdd(-2.5, 0)`, `-2`},
		{`States.MathRandom(7, 8)`, `7`},
		{`States.MathRandom(1, 1000, 42)`, ""}, // determinism checked below
		{`States.StringSplit($.str, ',')`, `["a","b","c"]`},
		{`States.StringSplit('a+b=c', '+=')`, `["a","b","c"]`},
		{`States.StringSplit('', ',')`, `[]`},
		{`States.Format('{}.{}.{}', States.ArrayGetItem(States.StringSplit(States.ArrayGetItem(States.StringSplit($.arn, '/'), 2), '.'), 0), States.ArrayGetItem(States.StringSplit(States.ArrayGetItem(States.StringSplit($.arn, '/'), 2), '.'), 1), States.ArrayGetItem(States.StringSplit(States.ArrayGetItem(States.StringSplit($.arn, '/'), 2), '.'), 2))`, `"1.2.3"`},
		{`States.ArrayLength($.items[?(@.ok == true)])`, `1`},
		{`States.ArrayLength($.arr[*])`, `10`},
		{`  States.Array( 1 ,  $.n  )  `, `[1,7]`},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			if !IsCall(tt.expr) {
				t.Fatalf("IsCall = false")
			}
			c, err := Parse(tt.expr)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			got, err := c.Eval(env)
			if err != nil {
				t.Fatalf("Eval: %v", err)
			}
			if tt.want == "" {
				return
			}
			if g := CompactJSON(got); g != tt.want {
				t.Fatalf("got  %s\nwant %s", g, tt.want)
			}
		})
	}
	c, _ := Parse(`States.ArrayRange(0, 999, 1)`)
	if got, _ := c.Eval(env); len(got.([]any)) != 1000 {
		t.Errorf("ArrayRange(0, 999, 1) has %d items", len(got.([]any)))
	}
	c, _ = Parse(`States.MathRandom(1, 1000, 42)`)
	a, _ := c.Eval(env)
	b, _ := c.Eval(env)
	if CompactJSON(a) != CompactJSON(b) {
		t.Errorf("seeded MathRandom differs: %v %v", a, b)
	}
	c, _ = Parse(`States.UUID()`)
	u, _ := c.Eval(env)
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(u.(string)) {
		t.Errorf("UUID() = %v", u)
	}
}

func TestEvalErrors(t *testing.T) {
	env := &testEnv{input: decodeJSON(t, []byte(evalInput)), context: map[string]any{}}
	tests := []struct {
		expr, name string
	}{
		{`States.Format($.template)`, ErrNameIntrinsicFailure},
		{`States.Format($.n)`, ErrNameIntrinsicFailure},
		{`States.Format('{}', $.missing)`, ErrNameRuntime},
		{`States.Format('{}', $$.missing)`, ErrNameRuntime},
		{`States.Format('{}', $nope)`, ErrNameRuntime},
		{`States.StringToJson($.name)`, ErrNameIntrinsicFailure},
		{`States.StringToJson('{} x')`, ErrNameIntrinsicFailure},
		{`States.StringToJson($.n)`, ErrNameIntrinsicFailure},
		{`States.ArrayPartition($.arr, 0)`, ErrNameIntrinsicFailure},
		{`States.ArrayPartition($.name, 1)`, ErrNameIntrinsicFailure},
		{`States.ArrayRange(0, 1000, 1)`, ErrNameIntrinsicFailure},
		{`States.ArrayRange(0, 10, $.name)`, ErrNameIntrinsicFailure},
		{`States.ArrayGetItem($.arr, 10)`, ErrNameIntrinsicFailure},
		{`States.ArrayGetItem($.arr, -1)`, ErrNameIntrinsicFailure},
		{`States.ArrayLength($.obj)`, ErrNameIntrinsicFailure},
		{`States.Base64Decode('!!!')`, ErrNameIntrinsicFailure},
		{`States.Base64Encode($.n)`, ErrNameIntrinsicFailure},
		{`States.Hash('x', $.name)`, ErrNameIntrinsicFailure},
		{`States.JsonMerge($.obj, $.arr, false)`, ErrNameIntrinsicFailure},
		{`States.JsonMerge($.obj, $.obj, $.t)`, ErrNameIntrinsicFailure},
		{`States.MathAdd($.big, 1)`, ErrNameIntrinsicFailure},
		{`States.MathAdd($.name, 1)`, ErrNameIntrinsicFailure},
		{`States.MathRandom(5, 5)`, ErrNameIntrinsicFailure},
		{`States.StringSplit($.n, ',')`, ErrNameIntrinsicFailure},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			c, err := Parse(tt.expr)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			got, err := c.Eval(env)
			var ie *Error
			if !errors.As(err, &ie) || ie.Name != tt.name || ie.Cause == "" {
				t.Fatalf("Eval = %v, %v; want *Error %s", got, err, tt.name)
			}
		})
	}
	c, _ := Parse(`States.Base64Encode($.s)`)
	env.input = map[string]any{"s": strings.Repeat("x", MaxEncodeInput+1)}
	if _, err := c.Eval(env); err == nil {
		t.Errorf("Base64Encode of %d characters: no error", MaxEncodeInput+1)
	}
}

func TestParseErrors(t *testing.T) {
	bad := []string{
		``, `$.x`, `States.`, `States.Nope()`, `States.Format`, `States.Format(`, `States.Format('x'`,
		`States.Format('x)`, `States.Format()`, `States.Format('{}')`, `States.Format('{} {}', 1)`,
		`States.Format('x', 1)`, `States.UUID(1)`, `States.ArrayLength()`, `States.ArrayLength(1, 2)`,
		`States.ArrayLength('abc')`, `States.MathAdd('a', 1)`, `States.Hash('x', 'SHA-3')`,
		`States.JsonMerge($.a, $.b, true)`, `States.JsonMerge($.a, $.b, 'false')`, `States.Array(1,)`,
		`States.Array(,1)`, `States.Array(1 2)`, `States.Array(foo)`, `States.Array($.a b)`,
		`States.Array($..)`, `States.Array($$)` + `x`, `States.Array(1) x`, `States.Array('a\`,
		`States.Array(-)`, `States.Array(1.)`, `States.Array($1x)`, `States.ArrayLength(States.Format('x'))`,
		`States.Array(` + strings.Repeat(`States.Array(`, MaxNesting) + strings.Repeat(`)`, MaxNesting+1),
	}
	for _, s := range bad {
		c, err := Parse(s)
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("Parse(%q) = %v, %v; want *SyntaxError", s, c, err)
			continue
		}
		if se.Offset < 0 || se.Offset > len(s) {
			t.Errorf("Parse(%q): offset %d out of range", s, se.Offset)
		}
	}
	nested := strings.Repeat(`States.Array(`, MaxNesting) + strings.Repeat(`)`, MaxNesting)
	if _, err := Parse(nested); err != nil {
		t.Errorf("Parse of %d nested calls: %v", MaxNesting, err)
	}
}

func TestIsCall(t *testing.T) {
	for s, want := range map[string]bool{
		"States.Format('x')":   true,
		" States.UUID() ":      true,
		"States.Format":        false,
		"$.States.Format(1)":   false,
		"States.()":            false,
		"hello":                false,
		"States.Array($.a[0])": true,
	} {
		if got := IsCall(s); got != want {
			t.Errorf("IsCall(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestJavaNumbers(t *testing.T) {
	for in, want := range map[string]string{
		"1": "1", "-0": "0", "1.0": "1.0", "1.10": "1.1", "1e2": "100.0", "1E7": "1.0E7",
		"0.001": "0.001", "0.0001": "1.0E-4", "123456789012345678901234567890": "123456789012345678901234567890",
		"-2.5e-10": "-2.5E-10", "0.0": "0.0", "-0.0": "-0.0", "9999999.0": "9999999.0",
	} {
		if got := normalizeNumber(in); got != want {
			t.Errorf("normalizeNumber(%s) = %s, want %s", in, got, want)
		}
	}
}

// TestParseRecordedDefinitions parses every intrinsic call found in the
// shared ASL definitions and recorded executions: all were accepted by
// Step Functions.
func TestParseRecordedDefinitions(t *testing.T) {
	td := sharedTestdata(t)
	var calls []string
	var walk func(v any)
	walk = func(v any) {
		switch t := v.(type) {
		case map[string]any:
			for k, e := range t {
				if s, ok := e.(string); ok && strings.HasSuffix(k, ".$") && IsCall(s) {
					calls = append(calls, s)
				}
				walk(e)
			}
		case []any:
			for _, e := range t {
				walk(e)
			}
		}
	}
	err := filepath.WalkDir(filepath.Join(td, "asl"), func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".json") {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		walk(decodeJSON(t, data))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ok := 0
	for _, s := range calls {
		if _, err := Parse(s); err != nil {
			t.Errorf("Parse(%q): %v", s, err)
			continue
		}
		ok++
	}
	t.Logf("recorded intrinsic calls: %d found, %d parsed", len(calls), ok)
}

// TestConcurrentEval uses one parsed Call from many goroutines (run with
// -race).
func TestConcurrentEval(t *testing.T) {
	env := &testEnv{input: decodeJSON(t, []byte(evalInput)), context: map[string]any{}}
	c, err := Parse(`States.Format('{} {}', States.ArrayUnique($.arr), States.JsonToString($.obj))`)
	if err != nil {
		t.Fatal(err)
	}
	want, err := c.Eval(env)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	for g := 0; g < 8; g++ {
		go func() {
			for i := 0; i < 200; i++ {
				got, err := c.Eval(env)
				if err != nil || got != want {
					done <- fmt.Errorf("Eval = %v, %v", got, err)
					return
				}
			}
			done <- nil
		}()
	}
	for g := 0; g < 8; g++ {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}
