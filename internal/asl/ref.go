package asl

import (
	"errors"
	"fmt"
	"strings"

	"github.com/stewardhq/steward/internal/asl/jsonpath"
)

// refSource says what a path is evaluated against.
type refSource int

const (
	srcInput    refSource = iota // $...
	srcContext                   // $$...
	srcVariable                  // $name...
)

// ref is a compiled path in a JSONPath-mode field: over the state's input
// ($), the context object ($$), or a variable ($name).
type ref struct {
	text string
	src  refSource
	name string // variable name, for srcVariable
	path *jsonpath.Path
}

// compileRef compiles a path as ASL fields take them.
func compileRef(s string) (*ref, error) {
	switch {
	case strings.HasPrefix(s, "$$"):
		p, err := jsonpath.Compile(s[1:])
		if err != nil {
			return nil, err
		}
		return &ref{text: s, src: srcContext, path: p}, nil
	case s == "$" || strings.HasPrefix(s, "$.") || strings.HasPrefix(s, "$["):
		p, err := jsonpath.Compile(s)
		if err != nil {
			return nil, err
		}
		return &ref{text: s, src: srcInput, path: p}, nil
	case strings.HasPrefix(s, "$"):
		name, rest, err := jsonpath.CompileVariable(s)
		if err != nil {
			return nil, err
		}
		return &ref{text: s, src: srcVariable, name: name, path: rest}, nil
	}
	return nil, fmt.Errorf("%q is not a path: it must start with '$'", s)
}

// isReference reports whether the path selects at most one node.
func (r *ref) isReference() bool { return r.path == nil || r.path.IsReference() }

// errPathNotFound is returned (wrapped) when a reference path selects nothing.
var errPathNotFound = errors.New("path not found")

// get evaluates the path in env.
func (r *ref) get(e *env) (any, error) {
	var doc any
	switch r.src {
	case srcInput:
		doc = e.input
	case srcContext:
		doc = e.contextValue()
	case srcVariable:
		v, ok := e.variable(r.name)
		if !ok {
			return nil, fmt.Errorf("variable $%s: %w", r.name, errPathNotFound)
		}
		doc = v
	}
	if r.path == nil {
		return doc, nil
	}
	v, err := r.path.Get(doc)
	if err != nil {
		if errors.Is(err, jsonpath.ErrNotFound) {
			return nil, fmt.Errorf("%s: %w", r.text, errPathNotFound)
		}
		return nil, err
	}
	return v, nil
}
