package asl

import "errors"

// jsonataExpr is a compiled JSONata expression, evaluated with bindings
// ($states and the variables in scope).
type jsonataExpr interface {
	eval(bindings map[string]any) (any, error)
}

// errNoJSONata is what JSONata expressions fail with until the JSONata
// package is wired in.
var errNoJSONata = errors.New("JSONata evaluation is not supported by this version of steward yet")

type unsupportedJSONata struct{}

func (unsupportedJSONata) eval(map[string]any) (any, error) { return nil, errNoJSONata }

// compileJSONataExpr compiles one JSONata expression.
func compileJSONataExpr(src string) (jsonataExpr, error) {
	if src == "" {
		return nil, errors.New("the expression is empty")
	}
	return unsupportedJSONata{}, nil
}
