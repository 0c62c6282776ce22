package jsonata

import (
	"encoding/json"
	"testing"
	"time"
)

var fuzzSeeds = []string{
	"a.b.c",
	"Account.Order[0].Product[Price > 30].`Product Name`",
	"$sum(Account.Order.Product.(Price * Quantity))",
	"**.Price",
	"Account.Order.Product.%.OrderID",
	"Account.Order#$i.Product@$p[$i < 1].{'n': $p.Price}",
	"[1..5].($ * 2)",
	"$map([1,2,3], function($v, $i) { $v + $i })",
	"($f := function($n){ $n <= 1 ? 1 : $n * $f($n - 1) }; $f(5))",
	"$ ~> |Account.Order|{'x': 1}, ['OrderID']|",
	"items^(>price, name)",
	"$match('abc123', /([a-z]+)([0-9]+)/i)",
	"$replace('hello', /l+/, function($m){ $uppercase($m.match) })",
	"$fromMillis(1521801216617, '[FNn], [D1o] [MNn] [Y] [h]:[m01] [PN]')",
	"$toMillis('2018-03-27', '[Y1]-[M01]-[D01]')",
	"$formatNumber(1234.5678, '#,##0.00')",
	"$formatInteger(1984, 'I')",
	"a ?? b ?: c",
	"{ 'a': 1, 'b': [1, 2, {'c': null}] }",
	"$string($, true)",
	"$eval('1 + 2')",
	"λ($x)<n:n>{$x}(1)",
	"$substring('hello', -3, 2) & $pad('x', -5, '#')",
	"/* comment */ $spread({'a':1})",
	"$sift($, function($v, $k){$k = 'a'})",
}

// FuzzCompile checks that no expression makes the parser panic or hang.
func FuzzCompile(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		e, err := Compile(expr)
		if err == nil && e == nil {
			t.Fatal("nil expression without error")
		}
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error of type %T", err)
			}
		}
	})
}

// FuzzEval evaluates expressions against small JSON inputs.
func FuzzEval(f *testing.F) {
	inputs := []string{
		`{"a":{"b":{"c":1}},"items":[{"price":2,"name":"x"},{"price":1,"name":"y"}]}`,
		`[1,2,3]`,
		`{"Account":{"Order":[{"OrderID":"o1","Product":[{"Price":34.45,"Quantity":2}]}]}}`,
		`"text"`,
		`null`,
	}
	for i, s := range fuzzSeeds {
		f.Add(s, inputs[i%len(inputs)])
	}
	f.Fuzz(func(t *testing.T, expr, input string) {
		e, err := Compile(expr)
		if err != nil {
			return
		}
		in, err := ParseJSON([]byte(input))
		if err != nil {
			in = Undefined
		}
		opts := &EvalOptions{MaxDepth: 300, Timeout: 200 * time.Millisecond,
			Now: func() time.Time { return time.Unix(1700000000, 0) }}
		res, err := e.Eval(in, opts)
		if err != nil {
			if je, ok := err.(*Error); ok && je.Code == "U1000" {
				t.Fatalf("internal error for %q on %s: %v", expr, input, err)
			}
			return
		}
		if res != Undefined {
			if _, err := json.Marshal(res); err != nil {
				t.Fatalf("output of %q does not marshal: %v", expr, err)
			}
		}
	})
}
