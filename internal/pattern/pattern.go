// Package pattern compiles and matches Amazon EventBridge event patterns.
//
// Compile accepts the pattern syntax EventBridge accepts (exact values,
// prefix, suffix, equals-ignore-case, wildcard, anything-but, numeric, cidr,
// exists, $or) and rejects what it rejects, with EventBridge's own
// InvalidEventPatternException text. Pattern.Match tests one event; Matcher
// holds many patterns by rule id and finds all that match an event at a
// cost that does not grow with the number of rules.
//
// Semantics follow EventBridge: a pattern matches when every field it names
// matches; a field matches when any of the event's values at that path
// (every element when the event holds an array) matches any of the
// pattern's values; values drawn from different elements of one array of
// objects are never combined; nested field names join with "." so
// {"a":{"b":..}} and {"a.b":..} name the same field.
package pattern

import (
	"errors"
	"sort"
	"strconv"
	"unicode/utf8"
)

// MaxPatternLength is EventBridge's limit on the length of an event
// pattern, in characters.
const MaxPatternLength = 4096

// Sentinel errors; branch with errors.Is.
var (
	// ErrInvalidPattern is matched by every *InvalidPatternError.
	ErrInvalidPattern = errors.New("invalid event pattern")
	// ErrPatternTooLong means the pattern exceeds MaxPatternLength.
	ErrPatternTooLong = errors.New("event pattern longer than 4096 characters")
	// ErrMalformedEvent means the event is not a well-formed JSON object.
	ErrMalformedEvent = errors.New("malformed event")
)

const invalidPrefix = "Event pattern is not valid. Reason: "

// InvalidPatternError is EventBridge's InvalidEventPatternException.
// Error returns exactly the text EventBridge returns.
type InvalidPatternError struct {
	// Message is the full text, "Event pattern is not valid. Reason: ...".
	Message string
	// Reason is the part after "Reason: ".
	Reason string
}

func (e *InvalidPatternError) Error() string { return e.Message }

// Is makes errors.Is(err, ErrInvalidPattern) true.
func (e *InvalidPatternError) Is(target error) bool { return target == ErrInvalidPattern }

func invalid(reason string) error {
	return &InvalidPatternError{Message: invalidPrefix + reason, Reason: reason}
}

// EventError says why an event could not be read.
type EventError struct {
	Offset int    // byte offset of the problem
	Msg    string // what is wrong
}

func (e *EventError) Error() string {
	return "malformed event: " + e.Msg + " at offset " + strconv.Itoa(e.Offset)
}

// Is makes errors.Is(err, ErrMalformedEvent) true.
func (e *EventError) Is(target error) bool { return target == ErrMalformedEvent }

// Pattern is a compiled event pattern. It is immutable and safe for
// concurrent use.
type Pattern struct {
	src      string
	branches []*branch
	paths    *pathSet
}

// String returns the pattern source as given to Compile.
func (p *Pattern) String() string { return p.src }

// branch is one alternative of a pattern: all its fields must match.
// A pattern without $or has one branch.
type branch struct {
	fields []*field
	pids   []int32 // fields[i].pid, for Pattern.Match
}

// field is the list of values a pattern gives for one path.
type field struct {
	path      string
	pid       int32 // index in the pattern's path set
	matchers  []*matcher
	hasAbsent bool // an {"exists": false} is among the values
	indexable bool // every matcher can be served by the Matcher's index
}

type matchKind uint8

const (
	mExactString matchKind = iota + 1
	mExactIP
	mExactNumber
	mExactTrue
	mExactFalse
	mExactNull
	mPrefix
	mPrefixFold
	mSuffix
	mSuffixFold
	mEqualsFold
	mWildcard
	mNumeric
	mCIDR
	mExists
	mAbsent
	mButStrings
	mButNumbers
	mButPrefix
	mButSuffix
	mButFold
	mButWildcard
)

// matcher is one value of a field's list.
type matcher struct {
	kind  matchKind
	s     string // operand of string kinds (folded for the *Fold kinds)
	num   int64  // exact number in millionths, when numOK
	numOK bool
	lo    int64 // numeric range, inclusive, millionths
	hi    int64
	ip    ipRange // mCIDR, and mExactIP as a one-address range
	wc    *wildcard
	strs  []string // anything-but prefix/suffix lists
	set   map[string]bool
	nums  map[int64]bool
	wcs   []*wildcard
}

// Compile parses and validates an EventBridge event pattern.
// An invalid pattern yields an *InvalidPatternError.
func Compile(src []byte) (*Pattern, error) {
	if utf8.RuneCount(src) > MaxPatternLength {
		return nil, ErrPatternTooLong
	}
	root, err := parseTree(src)
	if err != nil {
		return nil, invalid(err.Error())
	}
	if root.kind != nodeObject {
		return nil, invalid("Filter is not an object")
	}
	var rules []ruleMap
	if err := parseObject(&rules, nil, root, false); err != nil {
		return nil, err
	}
	p := &Pattern{src: string(src), paths: newPathSet()}
	for _, r := range rules {
		b := &branch{}
		for path, ms := range r {
			f := &field{path: path, matchers: ms, indexable: true}
			for _, m := range ms {
				switch m.kind {
				case mAbsent:
					f.hasAbsent = true
					f.indexable = false
				case mButStrings, mButNumbers, mButPrefix, mButSuffix, mButFold, mButWildcard:
					f.indexable = false
				}
			}
			f.pid = p.paths.add(path)
			b.fields = append(b.fields, f)
		}
		sort.Slice(b.fields, func(i, j int) bool { return b.fields[i].path < b.fields[j].path })
		for _, f := range b.fields {
			b.pids = append(b.pids, f.pid)
		}
		p.branches = append(p.branches, b)
	}
	if err := checkComplexity(p); err != nil {
		return nil, err
	}
	return p, nil
}

// MustCompile is Compile for patterns known to be valid; it panics on error.
func MustCompile(src string) *Pattern {
	p, err := Compile([]byte(src))
	if err != nil {
		panic(err)
	}
	return p
}

func checkComplexity(p *Pattern) error {
	byPath := map[string][]*wildcard{}
	seen := map[string]bool{}
	for _, b := range p.branches {
		for _, f := range b.fields {
			for _, m := range f.matchers {
				if m.kind != mWildcard {
					continue
				}
				k := f.path + "\x00" + m.wc.src
				if seen[k] {
					continue
				}
				seen[k] = true
				byPath[f.path] = append(byPath[f.path], m.wc)
			}
		}
	}
	for _, ws := range byPath {
		if wildcardComplexity(ws, wildcardComplexityLimit) > wildcardComplexityLimit {
			return invalid(msgTooComplex)
		}
	}
	return nil
}

// ruleMap is one branch under construction: path -> values.
type ruleMap map[string][]*matcher

func copyRules(rules []ruleMap) []ruleMap {
	out := make([]ruleMap, len(rules))
	for i, r := range rules {
		c := make(ruleMap, len(r))
		for k, v := range r {
			c[k] = v
		}
		out[i] = c
	}
	return out
}

const orKeyword = "$or"

// reservedInOr are names EventBridge refuses as field names inside $or.
var reservedInOr = map[string]bool{
	"exactly": true, "equals-ignore-case": true, "prefix": true, "suffix": true,
	"anything-but": true, "exists": true, "wildcard": true, "numeric": true,
	"cidr": true, "html": true, "=": true, "<": true, "<=": true, ">": true, ">=": true,
	"regex": true, "not-wildcard": true, "not-equals-ignore-case": true,
	"date-after": true, "date-on-or-after": true, "date-before": true,
	"date-on-or-before": true, "in-date-range": true,
	"ip-address-in-range": true, "ip-address-not-in-range": true,
}

func joinPath(path []string, name string) string {
	n := len(name)
	for _, p := range path {
		n += len(p) + 1
	}
	b := make([]byte, 0, n)
	for _, p := range path {
		b = append(b, p...)
		b = append(b, '.')
	}
	return string(append(b, name...))
}

func parseObject(rules *[]ruleMap, path []string, obj *node, inOr bool) error {
	for _, m := range obj.members {
		if m.name == orKeyword {
			if err := parseOr(rules, path, m.value); err != nil {
				return err
			}
			continue
		}
		if inOr && reservedInOr[m.name] {
			return invalid(m.name + " is Ruler reserved fieldName which cannot be used inside $or.")
		}
		switch m.value.kind {
		case nodeObject:
			sub := append(path[:len(path):len(path)], m.name)
			if err := parseObject(rules, sub, m.value, inOr); err != nil {
				return err
			}
		case nodeArray:
			if err := writeRules(rules, joinPath(path, m.name), m.value); err != nil {
				return err
			}
		default:
			return invalid("\"" + m.name + "\" must be an object or an array")
		}
	}
	if len(obj.members) == 0 {
		return invalid("Empty objects are not allowed")
	}
	return nil
}

func parseOr(rules *[]ruleMap, path []string, v *node) error {
	current := copyRules(*rules)
	*rules = nil
	if v.kind != nodeArray {
		return invalid("It must be an Array followed with $or.")
	}
	for _, item := range v.items {
		if item.kind != nodeObject {
			return invalid("Only JSON object is allowed in array of $or relationship.")
		}
		next := copyRules(current)
		if len(next) == 0 {
			next = append(next, ruleMap{})
		}
		if err := parseObject(&next, path, item, true); err != nil {
			return err
		}
		*rules = append(*rules, next...)
	}
	if len(v.items) < 2 {
		return invalid("There must have at least 2 Objects in $or relationship.")
	}
	return nil
}

func writeRules(rules *[]ruleMap, name string, arr *node) error {
	var values []*matcher
	for _, item := range arr.items {
		switch item.kind {
		case nodeObject:
			m, err := matchExpression(item)
			if err != nil {
				return err
			}
			values = append(values, m)
		case nodeString:
			if k, ok := parseIP(item.text); ok {
				values = append(values, &matcher{kind: mExactIP, s: item.text, ip: ipRange{lo: k, hi: k}})
			} else {
				values = append(values, &matcher{kind: mExactString, s: item.text})
			}
		case nodeNumber:
			m := &matcher{kind: mExactNumber, s: item.text}
			if n, err := parseMicro(item.text); err == nil {
				m.num, m.numOK = n, true
			}
			values = append(values, m)
		case nodeTrue:
			values = append(values, &matcher{kind: mExactTrue})
		case nodeFalse:
			values = append(values, &matcher{kind: mExactFalse})
		case nodeNull:
			values = append(values, &matcher{kind: mExactNull})
		default:
			return invalid("Match value must be String, number, true, false, or null")
		}
	}
	if len(values) == 0 {
		return invalid("Empty arrays are not allowed")
	}
	if len(*rules) == 0 {
		*rules = append(*rules, ruleMap{})
	}
	for _, r := range *rules {
		r[name] = values
	}
	return nil
}

const (
	msgOneKey  = "Only one key allowed in match expression"
	msgTooMany = "Too many elements in numeric expression"
)

func matchExpression(obj *node) (*matcher, error) {
	if len(obj.members) == 0 {
		return nil, invalid("Match expression name not found")
	}
	name, v := obj.members[0].name, obj.members[0].value
	extra := len(obj.members) > 1
	stringOp := func(kind matchKind, msg string) (*matcher, error) {
		if v.kind != nodeString {
			return nil, invalid(msg)
		}
		if extra {
			return nil, invalid(msgOneKey)
		}
		m := &matcher{kind: kind, s: v.text}
		if kind == mEqualsFold {
			m.s = fold(v.text)
		}
		return m, nil
	}
	switch name {
	case "prefix", "suffix":
		if v.kind == nodeObject {
			return foldAffix(name, v, extra)
		}
		if name == "prefix" {
			return stringOp(mPrefix, "prefix match pattern must be a string")
		}
		return stringOp(mSuffix, "suffix match pattern must be a string")
	case "equals-ignore-case":
		return stringOp(mEqualsFold, "equals-ignore-case match pattern must be a string")
	case "numeric":
		if v.kind != nodeArray {
			return nil, invalid("Value of numeric must be an array.")
		}
		m, err := numericExpression(v.items)
		if err != nil {
			return nil, err
		}
		if extra {
			return nil, invalid(msgTooMany)
		}
		return m, nil
	case "anything-but":
		return anythingBut(v, extra)
	case "exists":
		var m *matcher
		switch v.kind {
		case nodeTrue:
			m = &matcher{kind: mExists}
		case nodeFalse:
			m = &matcher{kind: mAbsent}
		default:
			return nil, invalid("exists match pattern must be either true or false.")
		}
		if extra {
			return nil, invalid(msgOneKey)
		}
		return m, nil
	case "cidr":
		if v.kind != nodeString {
			return nil, invalid("prefix match pattern must be a string")
		}
		r, msg := parseCIDR(v.text)
		if msg != "" {
			return nil, invalid(msg)
		}
		if extra {
			return nil, invalid(msgOneKey)
		}
		return &matcher{kind: mCIDR, ip: r, s: v.text}, nil
	case "wildcard":
		if v.kind != nodeString {
			return nil, invalid("wildcard match pattern must be a string")
		}
		w, msg := parseWildcard(v.text)
		if msg != "" {
			return nil, invalid(msg)
		}
		if extra {
			return nil, invalid(msgOneKey)
		}
		return &matcher{kind: mWildcard, wc: w, s: v.text}, nil
	}
	return nil, invalid("Unrecognized match type " + name)
}

// foldAffix parses {"prefix": {"equals-ignore-case": "..."}} and the
// suffix form.
func foldAffix(op string, inner *node, extra bool) (*matcher, error) {
	title := "Prefix"
	kind := mPrefixFold
	if op == "suffix" {
		title, kind = "Suffix", mSuffixFold
	}
	if len(inner.members) == 0 {
		return nil, invalid(title + " expression name not found")
	}
	if inner.members[0].name != "equals-ignore-case" {
		return nil, invalid("Unsupported " + op + " pattern: " + inner.members[0].name)
	}
	v := inner.members[0].value
	if v.kind != nodeString {
		return nil, invalid("equals-ignore-case match pattern must be a string")
	}
	if len(inner.members) > 1 || extra {
		return nil, invalid(msgOneKey)
	}
	return &matcher{kind: kind, s: fold(v.text)}, nil
}

func isNumber(n *node) bool { return n != nil && n.kind == nodeNumber }

// numericExpression parses the array of a numeric match the way
// EventBridge reads it, token by token.
func numericExpression(items []*node) (*matcher, error) {
	at := func(i int) *node {
		if i < len(items) {
			return items[i]
		}
		return nil
	}
	text := func(n *node) string {
		if n == nil {
			return "]"
		}
		return n.tokenText()
	}
	first := at(0)
	if first == nil || first.kind != nodeString {
		return nil, invalid("Invalid member in numeric match: " + text(first))
	}
	op := first.text
	val := at(1)
	switch op {
	case "=":
		if !isNumber(val) {
			return nil, invalid("Value of equals must be numeric")
		}
		if at(2) != nil {
			return nil, invalid(msgTooMany)
		}
		n, err := parseMicro(val.text)
		if err != nil {
			return nil, invalid(err.Error())
		}
		return &matcher{kind: mNumeric, lo: n, hi: n}, nil
	case ">=", ">":
		if !isNumber(val) {
			return nil, invalid("Value of " + op + " must be numeric")
		}
		open := op == ">"
		next := at(2)
		if next == nil {
			lo, err := parseMicro(val.text)
			if err != nil {
				return nil, invalid(err.Error())
			}
			if open {
				lo++
			}
			return &matcher{kind: mNumeric, lo: lo, hi: maxMicro}, nil
		}
		if next.kind != nodeString {
			return nil, invalid("Bad value in numeric range: " + next.tokenText())
		}
		op2 := next.text
		if op2 != "<" && op2 != "<=" {
			return nil, invalid("Bad numeric range operator: " + op2)
		}
		top := at(3)
		if !isNumber(top) {
			return nil, invalid("Value of " + op2 + " must be numeric")
		}
		if at(4) != nil {
			return nil, invalid("Too many terms in numeric range expression")
		}
		lo, err := parseMicro(val.text)
		if err != nil {
			return nil, invalid(err.Error())
		}
		hi, err := parseMicro(top.text)
		if err != nil {
			return nil, invalid(err.Error())
		}
		if lo >= hi {
			return nil, invalid("Bottom must be less than top")
		}
		if open {
			lo++
		}
		if op2 == "<" {
			hi--
		}
		return &matcher{kind: mNumeric, lo: lo, hi: hi}, nil
	case "<=", "<":
		if !isNumber(val) {
			return nil, invalid("Value of " + op + " must be numeric")
		}
		if at(2) != nil {
			return nil, invalid(msgTooMany)
		}
		hi, err := parseMicro(val.text)
		if err != nil {
			return nil, invalid(err.Error())
		}
		if op == "<" {
			hi--
		}
		return &matcher{kind: mNumeric, lo: minMicro, hi: hi}, nil
	}
	return nil, invalid("Unrecognized numeric range operator: " + op)
}

const (
	msgButValue     = "Value of anything-but must be an array or single string/number value."
	msgButFold      = "Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported."
	msgButWildcard  = "wildcard match pattern must be a string"
	msgButAffix     = "prefix/suffix match pattern must be a string"
	msgButListType  = "Inside anything but list, start|null|boolean is not supported."
	msgButListMixed = "Inside anything but list, either all values are number or string, mixed type is not supported"
	msgNullAffix    = "Null prefix/suffix not allowed"
)

func anythingBut(v *node, extra bool) (*matcher, error) {
	op := ""
	innerExtra := false
	if v.kind == nodeObject {
		if len(v.members) == 0 {
			return nil, invalid("Anything-But expression name not found")
		}
		op = v.members[0].name
		switch op {
		case "equals-ignore-case", "prefix", "suffix", "wildcard":
		default:
			return nil, invalid("Unsupported anything-but pattern: " + op)
		}
		innerExtra = len(v.members) > 1
		v = v.members[0].value
	}
	switch v.kind {
	case nodeArray, nodeString, nodeNumber:
	default:
		return nil, invalid(msgButValue)
	}
	var values []*node
	if v.kind == nodeArray {
		values = v.items
	} else {
		values = []*node{v}
	}
	var m *matcher
	if op == "" {
		hasNum, hasStr := false, false
		m = &matcher{}
		for _, item := range values {
			switch item.kind {
			case nodeString:
				hasStr = true
				if m.set == nil {
					m.set = map[string]bool{}
				}
				m.set[item.text] = true
			case nodeNumber:
				hasNum = true
				n, err := parseMicro(item.text)
				if err != nil {
					return nil, invalid(err.Error())
				}
				if m.nums == nil {
					m.nums = map[int64]bool{}
				}
				m.nums[n] = true
			default:
				if v.kind == nodeArray {
					return nil, invalid(msgButListType)
				}
				return nil, invalid("Inside anything-but list, start|null|boolean is not supported.")
			}
		}
		if v.kind == nodeArray && hasNum == hasStr {
			return nil, invalid(msgButListMixed)
		}
		m.kind = mButStrings
		if hasNum {
			m.kind = mButNumbers
		}
	} else {
		m = &matcher{}
		// EventBridge checks every value's type first, then parses
		// wildcards.
		for _, item := range values {
			if item.kind != nodeString {
				switch op {
				case "equals-ignore-case":
					return nil, invalid(msgButFold)
				case "wildcard":
					return nil, invalid(msgButWildcard)
				default:
					return nil, invalid(msgButAffix)
				}
			}
			if (op == "prefix" || op == "suffix") && item.text == "" {
				return nil, invalid(msgNullAffix)
			}
		}
		for _, item := range values {
			switch op {
			case "equals-ignore-case":
				if m.set == nil {
					m.set = map[string]bool{}
				}
				m.set[fold(item.text)] = true
			case "wildcard":
				w, msg := parseWildcard(item.text)
				if msg != "" {
					return nil, invalid(msg)
				}
				m.wcs = append(m.wcs, w)
			default:
				m.strs = append(m.strs, item.text)
			}
		}
		switch op {
		case "equals-ignore-case":
			m.kind = mButFold
		case "wildcard":
			m.kind = mButWildcard
		case "prefix":
			m.kind = mButPrefix
		default:
			m.kind = mButSuffix
		}
	}
	if innerExtra || extra {
		return nil, invalid(msgTooMany)
	}
	return m, nil
}
