package jsonpath

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Set returns a new document: doc with value placed at p, as ASL's
// ResultPath does. Only reference paths can be set; "$" replaces the whole
// document. Missing object members along the way are created as empty
// objects. doc and value are never mutated: only the objects and arrays on
// the path (the spine) are copied, everything else is shared.
//
// An index step ([n]) replaces an existing element of an existing array; it
// never grows an array. A step that meets anything else (a string, a
// number, null, an array for a name step, ...) fails with a *SetError
// wrapping ErrNotContainer, which Step Functions reports as States.Runtime.
// A non-reference path fails with a *SetError wrapping ErrNotReference.
func (p *Path) Set(doc, value any) (any, error) {
	if !p.ref {
		return nil, &SetError{Path: p.src, Err: ErrNotReference}
	}
	return p.set(0, doc, value, true)
}

func (p *Path) set(i int, cur, value any, present bool) (any, error) {
	if i == len(p.steps) {
		return value, nil
	}
	s := &p.steps[i]
	switch s.kind {
	case stepName:
		var m map[string]any
		switch t := cur.(type) {
		case map[string]any:
			m = t
		default:
			if present {
				return nil, &SetError{Path: p.src, Step: s.text(), Found: typeName(cur), Err: ErrNotContainer}
			}
		}
		child, ok := m[s.name]
		nv, err := p.set(i+1, child, value, ok)
		if err != nil {
			return nil, err
		}
		out := make(map[string]any, len(m)+1)
		for k, v := range m {
			out[k] = v
		}
		out[s.name] = nv
		return out, nil
	case stepIndex:
		a, ok := cur.([]any)
		j := s.index
		if ok && j < 0 {
			j += len(a)
		}
		if !ok || j < 0 || j >= len(a) {
			found := typeName(cur)
			if !present {
				found = "missing value"
			} else if ok {
				found = fmt.Sprintf("array of length %d", len(a))
			}
			return nil, &SetError{Path: p.src, Step: s.text(), Found: found, Err: ErrNotContainer}
		}
		nv, err := p.set(i+1, a[j], value, true)
		if err != nil {
			return nil, err
		}
		out := make([]any, len(a))
		copy(out, a)
		out[j] = nv
		return out, nil
	}
	return nil, &SetError{Path: p.src, Err: ErrNotReference}
}

// CompileVariable compiles a variable reference as ASL writes it: "$name",
// "$name.field", "$name[0].x" and so on, where name was bound by an Assign
// field. It returns the variable name and a path ("$", "$.field",
// "$[0].x") to evaluate over the variable's value. The name must start with
// a letter or '_' and continue with letters, digits or '_'. Errors are
// *SyntaxError with offsets into s.
func CompileVariable(s string) (name string, rest *Path, err error) {
	if !strings.HasPrefix(s, "$") || strings.HasPrefix(s, "$$") {
		return "", nil, &SyntaxError{Path: s, Offset: 0, Msg: "a variable reference starts with a single '$'"}
	}
	end := 1
	for end < len(s) {
		r, size := utf8.DecodeRuneInString(s[end:])
		if r == '.' || r == '[' {
			break
		}
		ok := r == '_' || unicode.IsLetter(r) || (end > 1 && unicode.IsDigit(r))
		if !ok {
			return "", nil, &SyntaxError{Path: s, Offset: end, Msg: fmt.Sprintf("character %q is not allowed in a variable name", r)}
		}
		end += size
	}
	if end == 1 {
		return "", nil, &SyntaxError{Path: s, Offset: 1, Msg: "missing variable name after '$'"}
	}
	rest, err = Compile("$" + s[end:])
	if err != nil {
		if se, ok := err.(*SyntaxError); ok {
			off := se.Offset
			if off > 0 {
				off += end - 1
			}
			return "", nil, &SyntaxError{Path: s, Offset: off, Msg: se.Msg}
		}
		return "", nil, err
	}
	return s[1:end], rest, nil
}
