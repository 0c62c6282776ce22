// Package jsonpath implements JSONPath as AWS Step Functions evaluates it in
// JSONPath-mode states: the Jayway JsonPath dialect (Step Functions runs on
// Java), over steward's JSON value model.
//
// Documents are values decoded by encoding/json with UseNumber():
// map[string]any, []any, string, json.Number, bool and nil; float64, int and
// int64 are accepted as numbers too.
//
// A path is compiled once with Compile and evaluated many times with Get. A
// Reference Path (ASL's term: only .name, ['name'] and [n] steps) selects at
// most one node; Get returns that node or an error wrapping ErrNotFound. Any
// other ("indefinite") path returns a []any of all matches in document
// order, possibly empty, as Jayway does.
//
// Go maps do not keep the key order of the JSON text they were decoded
// from, so where Jayway walks an object's members in document order (the
// wildcard, deep scan), this package walks them in sorted key order.
package jsonpath

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
)

// ErrNotFound is returned (wrapped, with detail) by Get when a reference
// path, or the definite prefix of any path, selects nothing.
var ErrNotFound = errors.New("jsonpath: no value at path")

// ErrTooComplex is returned (wrapped) by Get when evaluating a path would
// visit more than a few million nodes.
var ErrTooComplex = errors.New("jsonpath: evaluation exceeds the work limit")

// ErrNotReference is returned (wrapped in a *SetError) by Set for a path that
// is not a reference path.
var ErrNotReference = errors.New("jsonpath: not a reference path")

// ErrNotContainer is returned (wrapped in a *SetError) by Set when a step of
// the path goes through a value that is not an object (or, for an index
// step, not an array holding that index).
var ErrNotContainer = errors.New("jsonpath: cannot step into value")

// SyntaxError reports a path that does not compile.
type SyntaxError struct {
	Path   string // the path as given
	Offset int    // byte offset in Path where the problem was found
	Msg    string // what is wrong
}

// Error describes the problem and where it is.
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("invalid JSONPath %q at offset %d: %s", e.Path, e.Offset, e.Msg)
}

// SetError reports a failed Set. Err is ErrNotReference or ErrNotContainer.
type SetError struct {
	Path  string // the path being set
	Step  string // the step that failed, in bracket notation, e.g. ['a'] or [2]
	Found string // JSON type of the value the step met ("string", "null", ...)
	Err   error
}

// Error describes the failed step.
func (e *SetError) Error() string {
	if errors.Is(e.Err, ErrNotReference) {
		return fmt.Sprintf("set %s: %v", e.Path, e.Err)
	}
	return fmt.Sprintf("set %s: step %s met a %s: %v", e.Path, e.Step, e.Found, e.Err)
}

// Unwrap returns the sentinel error.
func (e *SetError) Unwrap() error { return e.Err }

// Path is a compiled JSONPath. It is immutable and safe for concurrent use.
type Path struct {
	src      string
	root     byte // '$' or '@' (filters only)
	steps    []step
	fn       string // trailing function such as "length", or ""
	definite bool   // Jayway: the path (before fn) selects at most one node
	ref      bool   // ASL reference path
	hasScan  bool
}

type stepKind uint8

const (
	stepName     stepKind = iota // .name, ['name']
	stepNames                    // ['a','b']
	stepIndex                    // [n]
	stepIndexes                  // [a,b]
	stepSlice                    // [a:b]
	stepWildcard                 // .* [*]
	stepScan                     // ..
	stepFilter                   // [?(...)]
)

type sliceKind uint8

const (
	sliceFrom sliceKind = iota
	sliceTo
	sliceBetween
)

type step struct {
	kind    stepKind
	name    string
	names   []string
	index   int
	indexes []int
	slice   sliceKind
	from    int
	to      int
	filter  expr
}

// definite reports whether the step alone selects at most one node, given
// whether it is the last step (Jayway merges multiple names at the leaf).
func (s *step) definite(leaf bool) bool {
	switch s.kind {
	case stepName, stepIndex:
		return true
	case stepNames:
		return leaf
	}
	return false
}

// String returns the path text as given to Compile.
func (p *Path) String() string { return p.src }

// IsReference reports whether p is an ASL Reference Path: "$" followed only
// by single-name and single-index steps.
func (p *Path) IsReference() bool { return p.ref }

// IsDefinite reports whether Get returns a single node (rather than a list
// of matches): true for reference paths, for paths ending in a multi-name
// step such as ['a','b'] (Jayway merges those into one object) and for
// function paths over a definite path.
func (p *Path) IsDefinite() bool { return p.definite }

// Get evaluates p against doc. For a definite path (see IsDefinite) it
// returns the selected node or an error wrapping ErrNotFound. Otherwise it
// returns a []any of all matches (possibly empty); it still fails with
// ErrNotFound when a step before the first indefinite step finds nothing, as
// Jayway does. The result shares structure with doc: do not mutate it.
func (p *Path) Get(doc any) (any, error) {
	if p.ref {
		return p.getRef(doc)
	}
	return p.getAll(doc, &evalEnv{root: doc})
}

// getRef is the allocation-free fast path for reference paths.
func (p *Path) getRef(doc any) (any, error) {
	cur := doc
	for i := range p.steps {
		s := &p.steps[i]
		switch s.kind {
		case stepName:
			m, ok := cur.(map[string]any)
			if !ok {
				return nil, p.notFound(i, cur)
			}
			v, ok := m[s.name]
			if !ok {
				return nil, p.notFound(i, cur)
			}
			cur = v
		case stepIndex:
			a, ok := cur.([]any)
			if !ok {
				return nil, p.notFound(i, cur)
			}
			j := s.index
			if j < 0 {
				j += len(a)
			}
			if j < 0 || j >= len(a) {
				return nil, p.notFound(i, cur)
			}
			cur = a[j]
		}
	}
	return cur, nil
}

func (p *Path) notFound(i int, at any) error {
	return fmt.Errorf("%w: %s: step %s met %s", ErrNotFound, p.src, p.steps[i].text(), typeName(at))
}

// maxWork bounds the nodes one Get may visit, so that paths such as
// $..*..*..* over deep documents fail rather than run for hours.
const maxWork = 1 << 22

// evalEnv is shared by a Get and the paths in its filters.
type evalEnv struct {
	root any // what "$" refers to inside filters
	work int // nodes visited so far
}

// getAll evaluates a general path.
func (p *Path) getAll(doc any, env *evalEnv) (any, error) {
	ev := evaluator{p: p, env: env}
	if err := ev.eval(0, doc, true); err != nil {
		return nil, err
	}
	if p.fn != "" {
		return p.applyFunc(ev.out)
	}
	if p.definite {
		if len(ev.out) == 0 {
			return nil, fmt.Errorf("%w: %s", ErrNotFound, p.src)
		}
		return ev.out[len(ev.out)-1], nil
	}
	if ev.out == nil {
		return []any{}, nil
	}
	return ev.out, nil
}

func (p *Path) applyFunc(matches []any) (any, error) {
	if p.hasScan || !p.definite {
		if p.hasScan {
			// Jayway applies a function after a deep scan to the whole
			// result list.
			return callFunc(p.fn, matches), nil
		}
		out := make([]any, 0, len(matches))
		for _, m := range matches {
			out = append(out, callFunc(p.fn, m))
		}
		return out, nil
	}
	if len(matches) == 0 {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, p.src)
	}
	return callFunc(p.fn, matches[len(matches)-1]), nil
}

func callFunc(name string, v any) any {
	switch name {
	case "length":
		switch t := v.(type) {
		case []any:
			return json.Number(strconv.Itoa(len(t)))
		case map[string]any:
			return json.Number(strconv.Itoa(len(t)))
		}
	}
	return nil
}

type evaluator struct {
	p   *Path
	env *evalEnv
	out []any
}

// eval applies steps[i:] to cur. upDef says whether every step before i was
// definite; Jayway then reports a missing node as an error rather than
// skipping it.
func (ev *evaluator) eval(i int, cur any, upDef bool) error {
	ev.env.work++
	if ev.env.work > maxWork {
		return fmt.Errorf("%w: %s", ErrTooComplex, ev.p.src)
	}
	steps := ev.p.steps
	if i == len(steps) {
		ev.out = append(ev.out, cur)
		return nil
	}
	s := &steps[i]
	leaf := i == len(steps)-1
	switch s.kind {
	case stepName:
		m, ok := cur.(map[string]any)
		if !ok {
			if upDef {
				return ev.p.notFound(i, cur)
			}
			return nil
		}
		v, ok := m[s.name]
		if !ok {
			if !leaf && upDef {
				return ev.p.notFound(i, cur)
			}
			return nil
		}
		return ev.eval(i+1, v, upDef)
	case stepNames:
		m, ok := cur.(map[string]any)
		if !ok {
			if upDef {
				return ev.p.notFound(i, cur)
			}
			return nil
		}
		if leaf {
			merged := make(map[string]any, len(s.names))
			for _, n := range s.names {
				if v, ok := m[n]; ok {
					merged[n] = v
				}
			}
			ev.out = append(ev.out, merged)
			return nil
		}
		for _, n := range s.names {
			if v, ok := m[n]; ok {
				if err := ev.eval(i+1, v, false); err != nil {
					return err
				}
			}
		}
		return nil
	case stepIndex, stepIndexes, stepSlice:
		a, ok := cur.([]any)
		if !ok {
			if upDef {
				return ev.p.notFound(i, cur)
			}
			return nil
		}
		switch s.kind {
		case stepIndex:
			if v, ok := index(a, s.index); ok {
				return ev.eval(i+1, v, upDef)
			}
			return nil
		case stepIndexes:
			for _, j := range s.indexes {
				if v, ok := index(a, j); ok {
					if err := ev.eval(i+1, v, false); err != nil {
						return err
					}
				}
			}
			return nil
		}
		from, to := s.bounds(len(a))
		for j := from; j < to; j++ {
			if v, ok := index(a, j); ok {
				if err := ev.eval(i+1, v, false); err != nil {
					return err
				}
			}
		}
		return nil
	case stepWildcard:
		switch t := cur.(type) {
		case map[string]any:
			for _, k := range sortedKeys(t) {
				if err := ev.eval(i+1, t[k], false); err != nil {
					return err
				}
			}
		case []any:
			for _, v := range t {
				if err := ev.eval(i+1, v, false); err != nil {
					return err
				}
			}
		}
		return nil
	case stepScan:
		return ev.scan(i, cur)
	case stepFilter:
		switch t := cur.(type) {
		case map[string]any:
			if s.filter.test(t, ev.env) {
				return ev.eval(i+1, t, false)
			}
		case []any:
			for _, v := range t {
				if s.filter.test(v, ev.env) {
					if err := ev.eval(i+1, v, false); err != nil {
						return err
					}
				}
			}
		default:
			if upDef {
				return fmt.Errorf("%w: %s: filter %s cannot be applied to %s", ErrNotFound, ev.p.src, s.text(), typeName(cur))
			}
		}
		return nil
	}
	return nil
}

// scan applies the step after a deep scan (steps[i+1]) to cur and every
// node below it, in pre-order.
func (ev *evaluator) scan(i int, cur any) error {
	ev.env.work++
	if ev.env.work > maxWork {
		return fmt.Errorf("%w: %s", ErrTooComplex, ev.p.src)
	}
	next := &ev.p.steps[i+1]
	apply := false
	switch next.kind {
	case stepName:
		if m, ok := cur.(map[string]any); ok {
			_, apply = m[next.name]
		}
	case stepNames:
		if m, ok := cur.(map[string]any); ok {
			apply = true
			if i+1 == len(ev.p.steps)-1 {
				for _, n := range next.names {
					if _, ok := m[n]; !ok {
						apply = false
						break
					}
				}
			}
		}
	case stepIndex, stepIndexes, stepSlice:
		_, apply = cur.([]any)
	case stepWildcard:
		apply = true
	case stepFilter:
		// Jayway tests each object against the filter; arrays are walked
		// into, so their object elements are tested there.
		if m, ok := cur.(map[string]any); ok && next.filter.test(m, ev.env) {
			if err := ev.eval(i+2, m, false); err != nil {
				return err
			}
		}
	}
	if apply {
		if err := ev.eval(i+1, cur, false); err != nil {
			return err
		}
	}
	switch t := cur.(type) {
	case map[string]any:
		for _, k := range sortedKeys(t) {
			if err := ev.scan(i, t[k]); err != nil {
				return err
			}
		}
	case []any:
		for _, v := range t {
			if err := ev.scan(i, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// bounds returns the index range a slice step visits in an array of length
// n, following Jayway (which, for [from:to], does not wrap a negative from).
func (s *step) bounds(n int) (int, int) {
	switch s.slice {
	case sliceFrom:
		from := s.from
		if from < 0 {
			from += n
		}
		if from < 0 {
			from = 0
		}
		return from, n
	case sliceTo:
		to := s.to
		if to < 0 {
			to += n
		}
		if to > n {
			to = n
		}
		return 0, to
	}
	to := s.to
	if to > n {
		to = n
	}
	return s.from, to
}

func index(a []any, j int) (any, bool) {
	if j < 0 {
		j += len(a)
	}
	if j < 0 || j >= len(a) {
		return nil, false
	}
	return a[j], true
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// text renders a step in Jayway's bracket notation, for messages.
func (s *step) text() string {
	switch s.kind {
	case stepName:
		return "['" + s.name + "']"
	case stepNames:
		out := "["
		for i, n := range s.names {
			if i > 0 {
				out += ","
			}
			out += "'" + n + "'"
		}
		return out + "]"
	case stepIndex:
		return "[" + strconv.Itoa(s.index) + "]"
	case stepIndexes:
		out := "["
		for i, n := range s.indexes {
			if i > 0 {
				out += ","
			}
			out += strconv.Itoa(n)
		}
		return out + "]"
	case stepSlice:
		switch s.slice {
		case sliceFrom:
			return "[" + strconv.Itoa(s.from) + ":]"
		case sliceTo:
			return "[:" + strconv.Itoa(s.to) + "]"
		}
		return "[" + strconv.Itoa(s.from) + ":" + strconv.Itoa(s.to) + "]"
	case stepWildcard:
		return "[*]"
	case stepScan:
		return ".."
	case stepFilter:
		return "[?]"
	}
	return "?"
}

// typeName names the JSON type of v, for messages.
func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case bool:
		return "boolean"
	case json.Number, float64, float32, int, int64, int32, uint64:
		return "number"
	}
	return fmt.Sprintf("%T", v)
}
