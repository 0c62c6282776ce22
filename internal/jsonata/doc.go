// Package jsonata implements the JSONata 2.x query and transformation
// language (https://docs.jsonata.org), as used by AWS Step Functions when a
// state declares "QueryLanguage": "JSONata".
//
// Compile an expression once and evaluate it many times, from any number of
// goroutines:
//
//	e, err := jsonata.Compile(`detail.resources[type='AWS::S3::Bucket'].ARN`)
//	...
//	v, err := e.Eval(event, &jsonata.EvalOptions{Timeout: time.Second})
//	if v == jsonata.Undefined { ... } // the expression selected nothing
//
// Values. Input follows steward's shared JSON model: map[string]any, []any,
// string, json.Number (or float64, int, int64), bool and nil; ParseJSON
// decodes into *Object, which keeps object keys in document order (JSONata
// results such as $keys, $each and $string depend on key order, so prefer
// ParseJSON when that matters). Output is always plain Go JSON values —
// map[string]any, []any, string, float64, bool, nil — or the Undefined
// sentinel, which is distinct from JSON null (nil). encoding/json marshals
// outputs the way JSONata's JSON.stringify would (integral floats print
// without a fraction). A result holding Infinity or NaN, which JSON cannot
// represent, is reported as error D1001.
//
// Functions. EvalOptions.Bindings binds variables; a Func value binds a Go
// function callable from the expression, optionally with a JSONata
// signature that validates and coerces its arguments.
//
// Step Functions adds functions of its own ($partition, $range, $hash,
// $random with a seed, $uuid, $parse) and the $states variable; they are not
// built in here and are meant to be supplied through Bindings.
//
// Errors. Every error from Compile and Eval is an *Error carrying
// JSONata's error code (S0xxx syntax, T0xxx/T1xxx/T2xxx type, D1xxx-D3xxx
// dynamic, U1001 depth or time limit). errors.Is matches ErrSyntax,
// ErrDepth and ErrTimeout.
//
// Limits. EvalOptions.MaxDepth bounds evaluation nesting (default 10000),
// EvalOptions.Timeout bounds wall time, and EvalOptions.Now fixes the clock
// for $now() and $millis(). Nested values deeper than 10000 levels are
// rejected rather than exhausting the Go stack.
//
// Conformance: the package is tested against the JSONata reference test
// suite (see suite_test.go for the pass count and the listed exceptions).
// Regular expressions are translated to Go's RE2 syntax, so look-around
// assertions and back-references are not supported.
package jsonata
