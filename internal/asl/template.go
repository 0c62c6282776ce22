package asl

import (
	"errors"
	"fmt"
	"strings"

	"github.com/stewardhq/steward/internal/asl/intrinsic"
)

// template is a compiled payload template (Parameters, ResultSelector,
// ItemSelector, Assign, Credentials in JSONPath mode): a JSON value in which
// every field whose name ends in ".$" is replaced by the value its path or
// intrinsic function selects.
type template struct {
	root tnode
}

type tnode interface {
	eval(e *env) (any, error)
}

// tLiteral is a part of the template with nothing to evaluate. Values are
// never mutated, so it is returned as is.
type tLiteral struct{ v any }

func (n tLiteral) eval(*env) (any, error) { return n.v, nil }

type tObject struct {
	keys []string
	vals []tnode
}

func (n *tObject) eval(e *env) (any, error) {
	out := make(map[string]any, len(n.keys))
	for i, k := range n.keys {
		v, err := n.vals[i].eval(e)
		if err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, nil
}

type tArray struct{ elems []tnode }

func (n *tArray) eval(e *env) (any, error) {
	out := make([]any, len(n.elems))
	for i, el := range n.elems {
		v, err := el.eval(e)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// tPath is "field.$": "$.path" (or $$.path, or $variable.path).
type tPath struct {
	field string
	ref   *ref
}

func (n *tPath) eval(e *env) (any, error) {
	v, err := n.ref.get(e)
	if err != nil {
		if errors.Is(err, errPathNotFound) {
			return nil, NewError(ErrRuntime, "The JsonPath argument for the field '%s' could not be found in the input '%s'", n.field, marshalCompact(e.input))
		}
		return nil, NewError(ErrRuntime, "The JsonPath argument for the field '%s' could not be evaluated: %v", n.field, err)
	}
	return v, nil
}

// tCall is "field.$": "States.Function(...)".
type tCall struct {
	field string
	call  *intrinsic.Call
}

func (n *tCall) eval(e *env) (any, error) {
	v, err := n.call.Eval(e)
	if err != nil {
		var ie *intrinsic.Error
		if errors.As(err, &ie) {
			return nil, &Error{Name: ie.Name, Cause: ie.Cause}
		}
		return nil, NewError(ErrIntrinsicFailure, "%v", err)
	}
	return v, nil
}

func (t *template) eval(e *env) (any, error) {
	if t == nil {
		return e.input, nil
	}
	return t.root.eval(e)
}

// compileTemplate compiles a payload template value found at loc. Problems
// are reported through c.
func (c *compiler) compileTemplate(v any, loc string) *template {
	n, _ := c.compileNode(v, loc)
	return &template{root: n}
}

// compileNode returns the node and whether it (or anything below it) is
// dynamic.
func (c *compiler) compileNode(v any, loc string) (tnode, bool) {
	switch x := v.(type) {
	case map[string]any:
		obj := &tObject{}
		dynamic := false
		for _, k := range sortedKeys(x) {
			val := x[k]
			if strings.HasSuffix(k, ".$") {
				name := strings.TrimSuffix(k, ".$")
				s, ok := val.(string)
				if !ok {
					c.problem(codeSchema, loc+"/"+k, "The value for the field '%s' must be a STRING that contains a JSONPath but was a %s", k, typeName(val))
					continue
				}
				obj.keys = append(obj.keys, name)
				obj.vals = append(obj.vals, c.compileDynamic(k, s, loc+"/"+k))
				dynamic = true
				continue
			}
			n, d := c.compileNode(val, loc+"/"+k)
			obj.keys = append(obj.keys, k)
			obj.vals = append(obj.vals, n)
			dynamic = dynamic || d
		}
		if !dynamic {
			return tLiteral{v: v}, false
		}
		return obj, true
	case []any:
		arr := &tArray{}
		dynamic := false
		for i, el := range x {
			n, d := c.compileNode(el, fmt.Sprintf("%s[%d]", loc, i))
			arr.elems = append(arr.elems, n)
			dynamic = dynamic || d
		}
		if !dynamic {
			return tLiteral{v: v}, false
		}
		return arr, true
	}
	return tLiteral{v: v}, false
}

// compileDynamic compiles the value of a "field.$" entry: a path or an
// intrinsic function call.
func (c *compiler) compileDynamic(field, s, loc string) tnode {
	if intrinsic.IsCall(s) {
		call, err := intrinsic.Parse(s)
		if err != nil {
			c.problem(codeSchema, loc, "The value for the field '%s' must be a valid JSONPath or a valid intrinsic function call: %v", field, err)
			return tLiteral{}
		}
		return &tCall{field: field, call: call}
	}
	r, err := compileRef(s)
	if err != nil {
		c.problem(codeSchema, loc, "The value for the field '%s' must be a valid JSONPath or a valid intrinsic function call: %v", field, err)
		return tLiteral{}
	}
	return &tPath{field: field, ref: r}
}
