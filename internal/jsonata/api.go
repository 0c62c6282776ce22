package jsonata

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// Expr is a compiled JSONata expression. It is immutable and safe for
// concurrent use by many goroutines.
type Expr struct {
	src  string
	root *node
}

// EvalOptions controls one evaluation. The zero value (or nil) is valid.
type EvalOptions struct {
	// Bindings are variables visible to the expression as $name. A Func (or
	// *Func) value is callable as a function.
	Bindings map[string]any
	// MaxDepth bounds the nesting of evaluation (error U1001 when exceeded);
	// 0 means a default of 10000.
	MaxDepth int
	// Timeout bounds the evaluation time (error U1001 matching ErrTimeout);
	// 0 means no limit. Set it for untrusted expressions: a tail-recursive
	// loop runs in constant depth and so never reaches MaxDepth.
	Timeout time.Duration
	// Now supplies the time for $now() and $millis(); nil means time.Now.
	Now func() time.Time
}

// Compile parses a JSONata expression. Errors are *Error with an S0xxx code.
func Compile(expr string) (e *Expr, err error) {
	defer func() {
		if r := recover(); r != nil {
			e = nil
			err = &Error{Code: "S0500", Message: fmt.Sprintf("internal error: %v", r)}
		}
	}()
	root, err := parse(expr)
	if err != nil {
		return nil, err
	}
	return &Expr{src: expr, root: root}, nil
}

// MustCompile is Compile for expressions known to be valid; it panics on error.
func MustCompile(expr string) *Expr {
	e, err := Compile(expr)
	if err != nil {
		panic(err)
	}
	return e
}

// String returns the source of the expression.
func (e *Expr) String() string { return e.src }

// Eval evaluates the expression against input, a value of the shared JSON
// model (map[string]any, []any, string, json.Number/float64/int, bool, nil,
// or *Object from ParseJSON); pass Undefined for no input.
//
// The result is a plain Go JSON value (map[string]any, []any, string,
// float64, bool, nil), or Undefined when the expression yields nothing.
// Errors are *Error carrying JSONata's error codes.
func (e *Expr) Eval(input any, opts *EvalOptions) (result any, err error) {
	defer func() {
		if r := recover(); r != nil {
			result = nil
			if nf, ok := r.(nonFiniteOutput); ok {
				err = newErr("D1001", 0, "", nf.f)
				return
			}
			if _, ok := r.(valueTooDeep); ok {
				err = &Error{Code: "U1001", Message: "Value nesting exceeds the supported depth"}
				return
			}
			err = &Error{Code: "U1000", Message: fmt.Sprintf("internal error: %v", r)}
		}
	}()
	if opts == nil {
		opts = &EvalOptions{}
	}
	run := &evalRun{}
	ev := &run.ev
	ev.maxDepth, ev.nowFunc = opts.MaxDepth, opts.Now
	if ev.maxDepth <= 0 {
		ev.maxDepth = defaultMaxDepth
	}
	if opts.Timeout > 0 {
		ev.timed = true
		ev.deadline = time.Now().Add(opts.Timeout)
	}
	if a, ok := input.([]any); ok {
		input = &seq{items: []any{a}, sequence: true, outerWrapper: true}
	}
	env := &run.root
	run.rootNames[0], run.rootVals[0] = "$", input
	env.names, env.vals = run.rootNames[:1:1], run.rootVals[:1:1]
	for k, v := range opts.Bindings {
		env.bind(k, v)
	}
	r, err := ev.eval(e.root, input, env)
	if err != nil {
		return nil, err
	}
	if isUndef(r) {
		return Undefined, nil
	}
	return toOutput(r), nil
}

// evalRun groups the per-evaluation allocations into one.
type evalRun struct {
	ev        evaluator
	root      frame
	rootNames [1]string
	rootVals  [1]any
}

// ParseJSON decodes JSON into the evaluator's input representation, keeping
// object key order (*Object) so that $keys, $each, $string and the wildcard
// see keys in document order. Numbers become float64.
func ParseJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := decodeValue(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("jsonata: parse JSON: trailing data")
	}
	return v, nil
}

func decodeValue(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("jsonata: parse JSON: %w", err)
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			o := newObject(8)
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, fmt.Errorf("jsonata: parse JSON: %w", err)
				}
				k, ok := kt.(string)
				if !ok {
					return nil, fmt.Errorf("jsonata: parse JSON: bad key")
				}
				v, err := decodeValue(dec)
				if err != nil {
					return nil, err
				}
				o.Set(k, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, fmt.Errorf("jsonata: parse JSON: %w", err)
			}
			return o, nil
		case '[':
			arr := []any{}
			for dec.More() {
				v, err := decodeValue(dec)
				if err != nil {
					return nil, err
				}
				arr = append(arr, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, fmt.Errorf("jsonata: parse JSON: %w", err)
			}
			return arr, nil
		}
		return nil, fmt.Errorf("jsonata: parse JSON: unexpected %v", t)
	case json.Number:
		f, err := t.Float64()
		if err != nil {
			return nil, fmt.Errorf("jsonata: parse JSON: %w", err)
		}
		return f, nil
	default:
		return t, nil
	}
}
