package jsonpath

import (
	"encoding/json"
	"errors"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf16"
)

// expr is a compiled filter expression, tested against one candidate node
// ("@") with "$" bound to root.
type expr interface {
	test(item any, env *evalEnv) bool
}

type orExpr struct{ l, r expr }

func (e *orExpr) test(item any, env *evalEnv) bool { return e.l.test(item, env) || e.r.test(item, env) }

type andExpr struct{ l, r expr }

func (e *andExpr) test(item any, env *evalEnv) bool {
	return e.l.test(item, env) && e.r.test(item, env)
}

type notExpr struct{ e expr }

func (e *notExpr) test(item any, env *evalEnv) bool { return !e.e.test(item, env) }

// existsExpr is a bare path in a filter: true when the path selects
// something (want=true), or nothing (want=false, written "!@.x").
type existsExpr struct {
	p    *Path
	want bool
}

func (e *existsExpr) test(item any, env *evalEnv) bool {
	v := e.p.valueIn(item, env)
	found := v.k != vUndef
	if found && !e.p.definite {
		if a, ok := v.j.([]any); ok && len(a) == 0 {
			found = false
		}
	}
	return found == e.want
}

type relOp uint8

const (
	opEq relOp = iota
	opNe
	opLt
	opLe
	opGt
	opGe
	opRegex
	opIn
	opNin
	opSubsetOf
	opAnyOf
	opNoneOf
	opSize
	opEmpty
	opContains
)

var relOps = map[string]relOp{
	"==": opEq, "!=": opNe, "<": opLt, "<=": opLe, ">": opGt, ">=": opGe, "=~": opRegex,
	"in": opIn, "nin": opNin, "subsetof": opSubsetOf, "anyof": opAnyOf, "noneof": opNoneOf,
	"size": opSize, "empty": opEmpty, "contains": opContains,
}

type relExpr struct {
	l, r operand
	op   relOp
}

func (e *relExpr) test(item any, env *evalEnv) bool {
	l := e.l.value(item, env)
	r := e.r.value(item, env)
	switch e.op {
	case opEq:
		return equalVals(l, r)
	case opNe:
		return !equalVals(l, r)
	case opLt, opLe, opGt, opGe:
		var c int
		switch {
		case l.k == vNum && r.k == vNum:
			c = cmpFloat(l.n, r.n)
		case l.k == vStr && r.k == vStr:
			c = compareUTF16(l.s, r.s)
		default:
			return false
		}
		switch e.op {
		case opLt:
			return c < 0
		case opLe:
			return c <= 0
		case opGt:
			return c > 0
		}
		return c >= 0
	case opRegex:
		if (l.k == vRegex) == (r.k == vRegex) {
			return false
		}
		if l.k == vRegex {
			return l.re.MatchString(r.regexInput())
		}
		return r.re.MatchString(l.regexInput())
	case opIn, opNin:
		in := false
		if a, ok := r.j.([]any); ok && r.k == vJSON {
			for _, x := range a {
				if equalVals(l, toVal(x)) {
					in = true
					break
				}
			}
		} else if e.op == opNin {
			return true
		}
		return in == (e.op == opIn)
	case opSubsetOf, opAnyOf, opNoneOf:
		la, ok1 := l.j.([]any)
		ra, ok2 := r.j.([]any)
		if l.k != vJSON || r.k != vJSON || !ok1 || !ok2 {
			return false
		}
		count := 0
		for _, x := range la {
			xv := toVal(x)
			for _, y := range ra {
				if equalVals(xv, toVal(y)) {
					count++
					break
				}
			}
		}
		switch e.op {
		case opSubsetOf:
			return count == len(la)
		case opAnyOf:
			return count > 0
		}
		return count == 0
	case opSize:
		if r.k != vNum {
			return false
		}
		switch {
		case l.k == vStr:
			return float64(utf16Len(l.s)) == r.n
		case l.k == vJSON:
			if a, ok := l.j.([]any); ok {
				return float64(len(a)) == r.n
			}
		}
		return false
	case opEmpty:
		if r.k != vBool {
			return false
		}
		switch {
		case l.k == vStr:
			return (l.s == "") == r.b
		case l.k == vJSON:
			if a, ok := l.j.([]any); ok {
				return (len(a) == 0) == r.b
			}
		}
		return false
	case opContains:
		switch {
		case l.k == vStr && r.k == vStr:
			return strings.Contains(l.s, r.s)
		case l.k == vJSON:
			if a, ok := l.j.([]any); ok {
				for _, x := range a {
					if equalVals(toVal(x), r) {
						return true
					}
				}
			}
		}
		return false
	}
	return false
}

type vkind uint8

const (
	vUndef vkind = iota
	vNull
	vBool
	vNum
	vStr
	vJSON // array or object
	vRegex
)

// val is a filter operand's value, as Jayway's ValueNode.
type val struct {
	k  vkind
	b  bool
	n  float64
	s  string // string value, or a number's text
	j  any    // array or object
	re *regexp.Regexp
}

func (v val) regexInput() string {
	switch v.k {
	case vStr, vNum:
		return v.s
	case vBool:
		if v.b {
			return "true"
		}
		return "false"
	}
	return ""
}

// operand is a literal or a path in a filter.
type operand struct {
	path *Path // nil for a literal
	lit  val
}

func (o *operand) value(item any, env *evalEnv) val {
	if o.path == nil {
		return o.lit
	}
	return o.path.valueIn(item, env)
}

// valueIn evaluates a filter path ("@..." over item, "$..." over root).
func (p *Path) valueIn(item any, env *evalEnv) val {
	doc := item
	if p.root == '$' {
		doc = env.root
	}
	v, err := p.getAll(doc, env)
	if err != nil {
		return val{}
	}
	return toVal(v)
}

func toVal(v any) val {
	switch t := v.(type) {
	case nil:
		return val{k: vNull}
	case bool:
		return val{k: vBool, b: t}
	case string:
		return val{k: vStr, s: t}
	case json.Number:
		f, err := strconv.ParseFloat(string(t), 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return val{k: vStr, s: string(t)}
		}
		return val{k: vNum, n: f, s: string(t)}
	case float64:
		return val{k: vNum, n: t, s: strconv.FormatFloat(t, 'g', -1, 64)}
	case float32:
		return val{k: vNum, n: float64(t), s: strconv.FormatFloat(float64(t), 'g', -1, 32)}
	case int:
		return val{k: vNum, n: float64(t), s: strconv.Itoa(t)}
	case int64:
		return val{k: vNum, n: float64(t), s: strconv.FormatInt(t, 10)}
	case int32:
		return val{k: vNum, n: float64(t), s: strconv.FormatInt(int64(t), 10)}
	case []any, map[string]any:
		return val{k: vJSON, j: t}
	}
	return val{}
}

// equalVals is Jayway's == on value nodes: numbers compare by value and a
// number equals a string holding the same number; JSON nodes compare
// deeply; undefined equals nothing.
func equalVals(l, r val) bool {
	switch l.k {
	case vUndef, vRegex:
		return false
	case vNull:
		return r.k == vNull
	case vBool:
		return r.k == vBool && l.b == r.b
	case vNum:
		switch r.k {
		case vNum:
			return l.n == r.n
		case vStr:
			f, ok := parseDecimal(r.s)
			return ok && f == l.n
		}
		return false
	case vStr:
		switch r.k {
		case vStr:
			return l.s == r.s
		case vNum:
			return l.s == r.s
		}
		return false
	case vJSON:
		return r.k == vJSON && deepEqual(l.j, r.j)
	}
	return false
}

// parseDecimal parses s as Java's BigDecimal would (no spaces, no "NaN").
func parseDecimal(s string) (float64, bool) {
	if s == "" {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9') && c != '.' && c != '-' && c != '+' && c != 'e' && c != 'E' {
			return 0, false
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, false
	}
	return f, true
}

func deepEqual(a, b any) bool {
	switch x := a.(type) {
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !deepEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, xv := range x {
			yv, ok := y[k]
			if !ok || !deepEqual(xv, yv) {
				return false
			}
		}
		return true
	}
	va, vb := toVal(a), toVal(b)
	if va.k == vNum && vb.k == vNum {
		return va.n == vb.n
	}
	if va.k != vb.k {
		return false
	}
	return equalVals(va, vb)
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	case a == b:
		return 0
	}
	// NaN cannot come from JSON; order it last for determinism.
	if math.IsNaN(a) {
		return 1
	}
	return -1
}

// compareUTF16 compares as Java's String.compareTo (UTF-16 code units).
func compareUTF16(a, b string) int {
	ascii := true
	for i := 0; i < len(a) && ascii; i++ {
		ascii = a[i] < 0x80
	}
	for i := 0; i < len(b) && ascii; i++ {
		ascii = b[i] < 0x80
	}
	if ascii {
		return strings.Compare(a, b)
	}
	ua, ub := utf16.Encode([]rune(a)), utf16.Encode([]rune(b))
	for i := 0; i < len(ua) && i < len(ub); i++ {
		if ua[i] != ub[i] {
			if ua[i] < ub[i] {
				return -1
			}
			return 1
		}
	}
	switch {
	case len(ua) < len(ub):
		return -1
	case len(ua) > len(ub):
		return 1
	}
	return 0
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

// filterParser parses the body of "[?( ... )]": s[pos:] is the body, s ends
// just before the closing ')'.
type filterParser struct {
	c     *compiler
	s     string
	pos   int
	depth int
}

func (fp *filterParser) fail(off int, msg string) error {
	return &SyntaxError{Path: fp.c.src, Offset: off, Msg: msg}
}

func (fp *filterParser) skip() {
	for fp.pos < len(fp.s) && (fp.s[fp.pos] == ' ' || fp.s[fp.pos] == '\t' || fp.s[fp.pos] == '\n' || fp.s[fp.pos] == '\r') {
		fp.pos++
	}
}

func (fp *filterParser) has(tok string) bool {
	fp.skip()
	return strings.HasPrefix(fp.s[fp.pos:], tok)
}

func (fp *filterParser) parse() (expr, error) {
	fp.depth++
	if fp.depth > maxFilterDepth {
		return nil, fp.fail(fp.pos, "filter nested too deeply")
	}
	e, err := fp.or()
	if err != nil {
		return nil, err
	}
	fp.skip()
	if fp.pos != len(fp.s) {
		return nil, fp.fail(fp.pos, "unexpected text in filter")
	}
	return e, nil
}

func (fp *filterParser) or() (expr, error) {
	l, err := fp.and()
	if err != nil {
		return nil, err
	}
	for fp.has("||") {
		fp.pos += 2
		r, err := fp.and()
		if err != nil {
			return nil, err
		}
		l = &orExpr{l, r}
	}
	return l, nil
}

func (fp *filterParser) and() (expr, error) {
	l, err := fp.unary()
	if err != nil {
		return nil, err
	}
	for fp.has("&&") {
		fp.pos += 2
		r, err := fp.unary()
		if err != nil {
			return nil, err
		}
		l = &andExpr{l, r}
	}
	return l, nil
}

func (fp *filterParser) unary() (expr, error) {
	fp.depth++
	defer func() { fp.depth-- }()
	if fp.depth > maxFilterDepth {
		return nil, fp.fail(fp.pos, "filter nested too deeply")
	}
	fp.skip()
	if fp.pos >= len(fp.s) {
		return nil, fp.fail(fp.pos, "expected an expression")
	}
	switch fp.s[fp.pos] {
	case '!':
		save := fp.pos
		fp.pos++
		fp.skip()
		if fp.pos < len(fp.s) && (fp.s[fp.pos] == '@' || fp.s[fp.pos] == '$') {
			p, err := fp.path()
			if err != nil {
				return nil, err
			}
			if fp.relOpAhead() {
				return nil, fp.fail(save, "'!' applies to a path or a parenthesized expression")
			}
			return &existsExpr{p: p, want: false}, nil
		}
		e, err := fp.unary()
		if err != nil {
			return nil, err
		}
		return &notExpr{e}, nil
	case '(':
		fp.pos++
		e, err := fp.or()
		if err != nil {
			return nil, err
		}
		fp.skip()
		if fp.pos >= len(fp.s) || fp.s[fp.pos] != ')' {
			return nil, fp.fail(fp.pos, "expected ')'")
		}
		fp.pos++
		return e, nil
	}
	return fp.relation()
}

func (fp *filterParser) relOpAhead() bool {
	save := fp.pos
	_, ok := fp.readOp()
	fp.pos = save
	return ok
}

func (fp *filterParser) relation() (expr, error) {
	start := fp.pos
	l, err := fp.operand()
	if err != nil {
		return nil, err
	}
	op, ok := fp.readOp()
	if !ok {
		if l.path == nil {
			return nil, fp.fail(start, "a filter term must be a path or a comparison")
		}
		return &existsExpr{p: l.path, want: true}, nil
	}
	r, err := fp.operand()
	if err != nil {
		return nil, err
	}
	if op == opRegex && l.lit.k != vRegex && r.lit.k != vRegex {
		return nil, fp.fail(start, "=~ needs a /regular expression/")
	}
	return &relExpr{l: l, r: r, op: op}, nil
}

func isOpChar(c byte) bool { return c == '<' || c == '>' || c == '=' || c == '~' || c == '!' }

// readOp reads a relational operator, or reports false (position kept).
func (fp *filterParser) readOp() (relOp, bool) {
	fp.skip()
	start := fp.pos
	if fp.pos >= len(fp.s) {
		return 0, false
	}
	if isOpChar(fp.s[fp.pos]) {
		for fp.pos < len(fp.s) && isOpChar(fp.s[fp.pos]) {
			fp.pos++
		}
	} else {
		for fp.pos < len(fp.s) && isWordChar(fp.s[fp.pos]) {
			fp.pos++
		}
	}
	op, ok := relOps[strings.ToLower(fp.s[start:fp.pos])]
	if !ok {
		fp.pos = start
	}
	return op, ok
}

func isWordChar(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func (fp *filterParser) operand() (operand, error) {
	fp.skip()
	if fp.pos >= len(fp.s) {
		return operand{}, fp.fail(fp.pos, "expected a value")
	}
	start := fp.pos
	switch ch := fp.s[fp.pos]; {
	case ch == '@' || ch == '$':
		p, err := fp.path()
		if err != nil {
			return operand{}, err
		}
		return operand{path: p}, nil
	case ch == '\'' || ch == '"':
		save := fp.c.pos
		fp.c.pos = fp.pos
		s, err := fp.c.quoted(ch)
		fp.pos = fp.c.pos
		fp.c.pos = save
		if err != nil {
			return operand{}, err
		}
		return operand{lit: val{k: vStr, s: s}}, nil
	case ch == '/':
		return fp.regex()
	case ch == '[' || ch == '{':
		v, n, err := parseLenientJSON(fp.s[fp.pos:], fp.depth)
		if err != nil {
			return operand{}, fp.fail(start, "bad JSON literal: "+err.Error())
		}
		fp.pos += n
		return operand{lit: toVal(v)}, nil
	case ch == '-' || (ch >= '0' && ch <= '9'):
		for fp.pos < len(fp.s) && strings.IndexByte("0123456789.eE+-", fp.s[fp.pos]) >= 0 {
			fp.pos++
		}
		text := fp.s[start:fp.pos]
		f, ok := parseDecimal(text)
		if !ok {
			return operand{}, fp.fail(start, "bad number "+strconv.Quote(text))
		}
		return operand{lit: val{k: vNum, n: f, s: text}}, nil
	}
	for _, w := range []struct {
		word string
		v    val
	}{{"true", val{k: vBool, b: true}}, {"false", val{k: vBool}}, {"null", val{k: vNull}}} {
		if strings.HasPrefix(fp.s[fp.pos:], w.word) {
			fp.pos += len(w.word)
			return operand{lit: w.v}, nil
		}
	}
	return operand{}, fp.fail(start, "expected a value")
}

// path reads a path operand ("@..." or "$...") as Jayway delimits it: up to
// a space, an operator character, "&&", "||" or an unmatched ')', skipping
// over brackets.
func (fp *filterParser) path() (*Path, error) {
	start := fp.pos
	fp.pos++
	for fp.pos < len(fp.s) {
		ch := fp.s[fp.pos]
		if ch == '[' {
			end, err := fp.closeBracket(fp.pos)
			if err != nil {
				return nil, err
			}
			fp.pos = end + 1
			continue
		}
		if ch == '(' && strings.HasPrefix(fp.s[fp.pos:], "()") {
			fp.pos += 2
			continue
		}
		if ch == ' ' || ch == ')' || isOpChar(ch) || strings.HasPrefix(fp.s[fp.pos:], "&&") || strings.HasPrefix(fp.s[fp.pos:], "||") {
			break
		}
		fp.pos++
	}
	text := fp.s[start:fp.pos]
	p, err := compile(text, fp.depth+1, true)
	if err != nil {
		var se *SyntaxError
		if errors.As(err, &se) {
			return nil, fp.fail(start+se.Offset, se.Msg)
		}
		return nil, err
	}
	return p, nil
}

// closeBracket returns the index of the ']' matching the '[' at i.
func (fp *filterParser) closeBracket(i int) (int, error) {
	depth := 0
	for j := i; j < len(fp.s); j++ {
		switch ch := fp.s[j]; ch {
		case '\'', '"':
			k := j + 1
			for k < len(fp.s) && fp.s[k] != ch {
				if fp.s[k] == '\\' {
					k++
				}
				k++
			}
			j = k
		case '[':
			depth++
		case ']':
			depth--
			if depth == 0 {
				return j, nil
			}
		}
	}
	return 0, fp.fail(i, "unclosed '['")
}

func (fp *filterParser) regex() (operand, error) {
	start := fp.pos
	fp.pos++
	var b strings.Builder
	for {
		if fp.pos >= len(fp.s) {
			return operand{}, fp.fail(start, "unclosed regular expression")
		}
		ch := fp.s[fp.pos]
		if ch == '\\' && fp.pos+1 < len(fp.s) {
			if fp.s[fp.pos+1] == '/' {
				b.WriteByte('/')
			} else {
				b.WriteByte('\\')
				b.WriteByte(fp.s[fp.pos+1])
			}
			fp.pos += 2
			continue
		}
		if ch == '/' {
			fp.pos++
			break
		}
		b.WriteByte(ch)
		fp.pos++
	}
	flags := ""
	for fp.pos < len(fp.s) && isWordChar(fp.s[fp.pos]) {
		switch fp.s[fp.pos] {
		case 'i', 'm', 's':
			if !strings.ContainsRune(flags, rune(fp.s[fp.pos])) {
				flags += string(fp.s[fp.pos])
			}
		}
		fp.pos++
	}
	pat := `\A(?:` + b.String() + `)\z`
	if flags != "" {
		pat = "(?" + flags + ")" + pat
	}
	re, err := regexp.Compile(pat)
	if err != nil {
		return operand{}, fp.fail(start, "bad regular expression: "+err.Error())
	}
	return operand{lit: val{k: vRegex, re: re}}, nil
}
