package jsonata

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

func mustParse(t *testing.T, s string) any {
	t.Helper()
	v, err := ParseJSON([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestEvalTable(t *testing.T) {
	input := `{"detail":{"eventName":"CreateBucket","requestParameters":{"bucketName":"b1"},
		"resources":[{"type":"AWS::S3::Bucket","ARN":"arn:aws:s3:::b1"},{"type":"AWS::S3::Object","ARN":"arn:aws:s3:::b1/k"}]},
		"n":[3,1,2],"empty":[],"nul":null}`
	tests := []struct {
		name, expr, want string // want is JSON, or "undefined"
	}{
		{"path", "detail.requestParameters.bucketName", `"b1"`},
		{"filter", "detail.resources[type='AWS::S3::Bucket'].ARN", `"arn:aws:s3:::b1"`},
		{"missing", "detail.nothing", "undefined"},
		{"null", "nul", "null"},
		{"keep array", "detail.resources[type='AWS::S3::Bucket'][].ARN", `["arn:aws:s3:::b1"]`},
		{"sum", "$sum(n)", "6"},
		{"sort", "$sort(n)", "[1,2,3]"},
		{"order-by", "detail.resources^(>type).type", `["AWS::S3::Object","AWS::S3::Bucket"]`},
		{"object", `{"name": detail.eventName, "count": $count(n)}`, `{"name":"CreateBucket","count":3}`},
		{"group", `detail.resources{type: ARN}`, `{"AWS::S3::Bucket":"arn:aws:s3:::b1","AWS::S3::Object":"arn:aws:s3:::b1/k"}`},
		{"lambda", "(function($x){$x*2})(21)", "42"},
		{"chain", `"a,b" ~> $split(",") ~> $join("-")`, `"a-b"`},
		{"transform", `detail ~> |requestParameters|{"bucketName":"b2"}| ~> $lookup("requestParameters")`, `{"bucketName":"b2"}`},
		{"coalesce", "nothing ?? 5", "5"},
		{"elvis", `"" ?: "x"`, `"x"`},
		{"regex", `$match("ab12", /[0-9]+/).match`, `"12"`},
		{"string", `$string({"a":[1,2.5]})`, `"{\"a\":[1,2.5]}"`},
		{"empty array", "empty", "[]"},
		{"big float", "1e21", "1e+21"},
		{"integral float", "10/2", "5"},
	}
	in := mustParse(t, input)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, err := Compile(tc.expr)
			if err != nil {
				t.Fatalf("compile: %v", err)
			}
			got, err := e.Eval(in, nil)
			if err != nil {
				t.Fatalf("eval: %v", err)
			}
			if tc.want == "undefined" {
				if got != Undefined {
					t.Fatalf("got %v, want undefined", got)
				}
				return
			}
			b, err := json.Marshal(got)
			if err != nil {
				t.Fatal(err)
			}
			var w, g any
			_ = json.Unmarshal([]byte(tc.want), &w)
			_ = json.Unmarshal(b, &g)
			if fmt.Sprint(w) != fmt.Sprint(g) {
				t.Fatalf("got %s, want %s", b, tc.want)
			}
		})
	}
}

func TestErrorsAreTyped(t *testing.T) {
	tests := []struct {
		expr, code string
	}{
		{"1 +", "S0207"},
		{`"abc`, "S0101"},
		{"$x := ", "S0207"},
		{"1 + 'a'", "T2002"},
		{"$number('x')", "D3030"},
		{"$error('boom')", "D3137"},
		{"[1..2e7]", "D2014"},
	}
	for _, tc := range tests {
		e, err := Compile(tc.expr)
		if err == nil {
			_, err = e.Eval(nil, nil)
		}
		var je *Error
		if !errors.As(err, &je) || je.Code != tc.code {
			t.Errorf("%s: got %v, want code %s", tc.expr, err, tc.code)
		}
	}
	_, err := Compile("1 +")
	if !errors.Is(err, ErrSyntax) {
		t.Errorf("compile error does not match ErrSyntax: %v", err)
	}
}

func TestInputModel(t *testing.T) {
	// encoding/json with UseNumber, plus Go ints and float64
	dec := json.NewDecoder(strings.NewReader(`{"a":{"b":[1,2,3]},"c":"x"}`))
	dec.UseNumber()
	var in any
	if err := dec.Decode(&in); err != nil {
		t.Fatal(err)
	}
	in.(map[string]any)["i"] = 4
	in.(map[string]any)["i64"] = int64(5)
	e := MustCompile("$sum(a.b) + i + i64")
	got, err := e.Eval(in, nil)
	if err != nil || got != 15.0 {
		t.Fatalf("got %v, %v", got, err)
	}
	// output is plain Go values
	got, err = MustCompile(`{"x": a.b, "y": {"z": c}}`).Eval(in, nil)
	if err != nil {
		t.Fatal(err)
	}
	m, ok := got.(map[string]any)
	if !ok {
		t.Fatalf("output %T, want map[string]any", got)
	}
	if arr, ok := m["x"].([]any); !ok || arr[0] != 1.0 {
		t.Fatalf("x = %#v", m["x"])
	}
}

func TestKeyOrderWithParseJSON(t *testing.T) {
	in := mustParse(t, `{"z":1,"a":2,"m":3}`)
	got, err := MustCompile("$keys($)").Eval(in, nil)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != "[z a m]" {
		t.Fatalf("got %v", got)
	}
	s, _ := MustCompile("$string($)").Eval(in, nil)
	if s != `{"z":1,"a":2,"m":3}` {
		t.Fatalf("got %v", s)
	}
}

func TestBindingsAndFunc(t *testing.T) {
	opts := &EvalOptions{Bindings: map[string]any{
		"prefix": "arn:",
		"double": Func{Signature: "<n:n>", Fn: func(args []any) (any, error) {
			return args[0].(float64) * 2, nil
		}},
		"fail": Func{Fn: func(args []any) (any, error) { return nil, errors.New("nope") }},
	}}
	got, err := MustCompile(`$prefix & $string($double(21))`).Eval(nil, opts)
	if err != nil || got != "arn:42" {
		t.Fatalf("got %v, %v", got, err)
	}
	got, err = MustCompile(`$map([1,2], $double)`).Eval(nil, opts)
	if err != nil || fmt.Sprint(got) != "[2 4]" {
		t.Fatalf("got %v, %v", got, err)
	}
	if _, err := MustCompile(`$fail()`).Eval(nil, opts); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("want Go error through, got %v", err)
	}
	if _, err := MustCompile(`$double("x")`).Eval(nil, opts); err == nil {
		t.Fatal("want signature error")
	}
}

func TestNowIsFixed(t *testing.T) {
	fixed := time.Date(2024, 5, 6, 7, 8, 9, 10e6, time.UTC)
	opts := &EvalOptions{Now: func() time.Time { return fixed }}
	got, err := MustCompile(`[$now(), $millis()]`).Eval(nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	arr := got.([]any)
	if arr[0] != "2024-05-06T07:08:09.010Z" || arr[1] != float64(fixed.UnixMilli()) {
		t.Fatalf("got %v", got)
	}
}

func TestLimits(t *testing.T) {
	_, err := MustCompile(`($f := function($n){ $n = 0 ? 0 : 1 + $f($n - 1) }; $f(100000))`).Eval(nil, &EvalOptions{MaxDepth: 500})
	if !errors.Is(err, ErrDepth) {
		t.Fatalf("want ErrDepth, got %v", err)
	}
	_, err = MustCompile(`$string($reduce([1..20000], function($a, $v){ [[$a]] }, []))`).Eval(nil, nil)
	var je *Error
	if !errors.As(err, &je) || je.Code != "U1001" {
		t.Fatalf("want U1001 for a too deeply nested value, got %v", err)
	}
	start := time.Now()
	_, err = MustCompile(`($f := function(){ $f() }; $f())`).Eval(nil, &EvalOptions{Timeout: 20 * time.Millisecond})
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("want ErrTimeout, got %v", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatalf("timeout took %v", time.Since(start))
	}
}

func TestConcurrentEval(t *testing.T) {
	e := MustCompile(`($x := items[v > 1].v; {"n": $count($x), "s": $sum($x), "k": $keys(items[0])})`)
	in := mustParse(t, `{"items":[{"v":1},{"v":2},{"v":3}]}`)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 200; j++ {
				got, err := e.Eval(in, nil)
				if err != nil {
					errs <- err
					return
				}
				m := got.(map[string]any)
				if m["n"] != 2.0 || m["s"] != 5.0 {
					errs <- fmt.Errorf("got %v", got)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestUndefinedInput(t *testing.T) {
	got, err := MustCompile(`foo`).Eval(Undefined, nil)
	if err != nil || got != Undefined {
		t.Fatalf("got %v, %v", got, err)
	}
	got, err = MustCompile(`$exists($)`).Eval(Undefined, nil)
	if err != nil || got != false {
		t.Fatalf("got %v, %v", got, err)
	}
}

func TestParseJSON(t *testing.T) {
	v, err := ParseJSON([]byte(`{"b":[1,{"c":null}],"a":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(v)
	if err != nil || string(b) != `{"b":[1,{"c":null}],"a":"x"}` {
		t.Fatalf("round trip: %s, %v", b, err)
	}
	for _, bad := range []string{``, `{`, `{"a":1} 2`, `[1,]`, `{1:2}`} {
		if _, err := ParseJSON([]byte(bad)); err == nil {
			t.Errorf("ParseJSON(%q) succeeded", bad)
		}
	}
}
