package asl

import (
	"strings"
)

// jvalue is a compiled JSONata-mode field value: a JSON value in which
// strings of the form "{% expression %}" are JSONata expressions.
type jvalue interface {
	eval(e *env) (any, error)
}

type jliteral struct{ v any }

func (j jliteral) eval(*env) (any, error) { return j.v, nil }

type jobject struct {
	keys []string
	vals []jvalue
}

func (j *jobject) eval(e *env) (any, error) {
	out := make(map[string]any, len(j.keys))
	for i, k := range j.keys {
		v, err := j.vals[i].eval(e)
		if err != nil {
			return nil, err
		}
		if v == undefined {
			continue
		}
		out[k] = v
	}
	return out, nil
}

type jarray struct{ elems []jvalue }

func (j *jarray) eval(e *env) (any, error) {
	out := make([]any, 0, len(j.elems))
	for _, el := range j.elems {
		v, err := el.eval(e)
		if err != nil {
			return nil, err
		}
		if v == undefined {
			continue
		}
		out = append(out, v)
	}
	return out, nil
}

// undefinedValue marks a JSONata result that is undefined (no value), which
// Step Functions drops from objects and arrays.
type undefinedValue struct{}

var undefined any = undefinedValue{}

// isJataString reports whether s is a JSONata expression "{% ... %}".
func isJataString(s string) bool {
	return strings.HasPrefix(s, "{%") && strings.HasSuffix(s, "%}") && len(s) >= 4
}

// compileJata compiles a JSONata-mode field value found at loc.
func (c *compiler) compileJata(v any, loc string) jvalue {
	switch x := v.(type) {
	case string:
		if !isJataString(x) {
			return jliteral{v: x}
		}
		src := strings.TrimSpace(x[2 : len(x)-2])
		expr, err := compileJSONataExpr(src)
		if err != nil {
			c.problem(codeSchema, loc, "The JSONata expression '%s' is not valid: %v", src, err)
			return jliteral{}
		}
		return &jexpr{src: src, field: strings.TrimPrefix(fieldOf(loc), "/"), expr: expr}
	case map[string]any:
		obj := &jobject{}
		dynamic := false
		for _, k := range sortedKeys(x) {
			n := c.compileJata(x[k], loc+"/"+k)
			if _, lit := n.(jliteral); !lit {
				dynamic = true
			}
			obj.keys = append(obj.keys, k)
			obj.vals = append(obj.vals, n)
		}
		if !dynamic {
			return jliteral{v: v}
		}
		return obj
	case []any:
		arr := &jarray{}
		dynamic := false
		for i, el := range x {
			n := c.compileJata(el, loc+"/"+itoa(i))
			if _, lit := n.(jliteral); !lit {
				dynamic = true
			}
			arr.elems = append(arr.elems, n)
		}
		if !dynamic {
			return jliteral{v: v}
		}
		return arr
	}
	return jliteral{v: v}
}

// fieldOf turns a location such as /States/A/Output/x into the field path
// Step Functions names in QueryEvaluationError causes ("Output/x").
func fieldOf(loc string) string {
	parts := strings.Split(loc, "/")
	for i := len(parts) - 1; i > 0; i-- {
		if parts[i-1] == "States" && i+1 < len(parts) {
			return strings.Join(parts[i+1:], "/")
		}
	}
	return loc
}

func itoa(i int) string {
	const digits = "0123456789"
	if i < 10 {
		return digits[i : i+1]
	}
	return itoa(i/10) + digits[i%10:i%10+1]
}

// jexpr is one "{% expression %}".
type jexpr struct {
	src   string
	field string
	expr  jsonataExpr
}

func (j *jexpr) eval(e *env) (any, error) {
	v, err := j.expr.eval(e.statesVar())
	if err != nil {
		return nil, NewError(ErrQueryEvaluationError,
			"An error occurred while executing the state '%s' (entered at the event id #%d). The JSONata expression '%s' specified for the field '%s' threw an error during evaluation. %s",
			e.stateName(), e.enteredEventID, j.src, j.field, err.Error())
	}
	return v, nil
}
