// Package intrinsic parses and evaluates the Amazon States Language
// intrinsic functions (States.Format, States.StringToJson, ...) as AWS Step
// Functions does in JSONPath-mode states.
//
// A call is parsed once with Parse and evaluated many times with Eval
// against an Env that supplies the state input ($), the context object ($$)
// and variables ($name). Values use steward's JSON value model:
// map[string]any, []any, string, json.Number, bool and nil (float64, int and
// int64 are accepted as numbers); numbers produced are json.Number with
// Step Functions' text (integers without a decimal point).
package intrinsic

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/stewardhq/steward/internal/asl/jsonpath"
)

// MaxNesting is how deeply calls may nest in one field: Step Functions
// allows up to 10 intrinsic functions nested within a field.
const MaxNesting = 10

// maxExprLen bounds the expressions Parse accepts.
const maxExprLen = 64 << 10

// SyntaxError reports an expression that does not parse, names an unknown
// function, or passes arguments that are wrong in number or (for literals)
// in type.
type SyntaxError struct {
	Expr   string // the expression as given
	Offset int    // byte offset in Expr where the problem was found
	Msg    string // what is wrong
}

// Error describes the problem and where it is.
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("invalid intrinsic function call %q at offset %d: %s", e.Expr, e.Offset, e.Msg)
}

// Env supplies what paths in arguments refer to.
type Env interface {
	// Input returns what "$" refers to: the state's effective input.
	Input() any
	// Context returns what "$$" refers to: the context object.
	Context() any
	// Variable returns the value of variable name (bound by Assign), and
	// whether it exists.
	Variable(name string) (any, bool)
}

// Call is a parsed intrinsic function call. It is immutable and safe for
// concurrent use.
type Call struct {
	src  string
	root *node
}

// String returns the expression as given to Parse.
func (c *Call) String() string { return c.src }

// Name returns the called function's name, e.g. "States.Format".
func (c *Call) Name() string { return c.root.fn.name }

type nodeKind uint8

const (
	litNode  nodeKind = iota // literal value
	pathNode                 // $... over the input
	ctxNode                  // $$... over the context object
	varNode                  // $name... over a variable
	callNode                 // nested States.X(...)
)

type node struct {
	kind    nodeKind
	text    string // source text of this argument
	off     int    // byte offset of the argument in the expression
	lit     any
	path    *jsonpath.Path
	varName string
	fn      *function
	args    []*node
	// tmpl is a literal format string split at its placeholders (for
	// States.Format's first argument); nil otherwise.
	tmpl []string
}

// IsCall reports whether s looks like an intrinsic function call, that is
// "States.Name(...)" possibly surrounded by blanks. It does not check that
// the call is well formed: Parse does.
func IsCall(s string) bool {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "States.") || !strings.HasSuffix(s, ")") {
		return false
	}
	i := strings.IndexByte(s, '(')
	return i > len("States.")
}

// Parse parses an intrinsic function call such as
// "States.Format('Hello {}', $.name)". Arguments may be string literals in
// single quotes (escapes \' \{ \} \\), numbers, true, false, null, paths over
// the input ($...), the context object ($$...) or a variable ($name...), and
// nested calls. Unknown functions, wrong argument counts and literal
// arguments of the wrong type are reported as *SyntaxError.
func Parse(s string) (*Call, error) {
	p := &parser{src: s}
	if len(s) > maxExprLen {
		return nil, p.fail(0, "expression is longer than %d bytes", maxExprLen)
	}
	p.skip()
	if !strings.HasPrefix(s[p.pos:], "States.") {
		return nil, p.fail(p.pos, "an intrinsic function call starts with 'States.'")
	}
	n, err := p.call(1)
	if err != nil {
		return nil, err
	}
	p.skip()
	if p.pos != len(s) {
		return nil, p.fail(p.pos, "unexpected text after the call")
	}
	return &Call{src: s, root: n}, nil
}

type parser struct {
	src string
	pos int
}

func (p *parser) fail(off int, format string, args ...any) error {
	return &SyntaxError{Expr: p.src, Offset: off, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) skip() {
	for p.pos < len(p.src) {
		switch p.src[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func isIdent(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

// call parses "States.Name(args)" at p.pos.
func (p *parser) call(depth int) (*node, error) {
	start := p.pos
	if depth > MaxNesting {
		return nil, p.fail(start, "intrinsic functions nest more than %d deep", MaxNesting)
	}
	p.pos += len("States.")
	for p.pos < len(p.src) && isIdent(p.src[p.pos]) {
		p.pos++
	}
	name := p.src[start:p.pos]
	fn, ok := functions[name]
	if !ok {
		return nil, p.fail(start, "unknown intrinsic function %q", name)
	}
	p.skip()
	if p.pos >= len(p.src) || p.src[p.pos] != '(' {
		return nil, p.fail(p.pos, "expected '(' after %s", name)
	}
	p.pos++
	n := &node{kind: callNode, off: start, fn: fn}
	p.skip()
	if p.pos < len(p.src) && p.src[p.pos] == ')' {
		p.pos++
	} else {
		for {
			p.skip()
			arg, err := p.arg(depth)
			if err != nil {
				return nil, err
			}
			n.args = append(n.args, arg)
			p.skip()
			if p.pos >= len(p.src) {
				return nil, p.fail(start, "unclosed '(' in call to %s", name)
			}
			if p.src[p.pos] == ',' {
				p.pos++
				continue
			}
			if p.src[p.pos] == ')' {
				p.pos++
				break
			}
			return nil, p.fail(p.pos, "expected ',' or ')' in the arguments of %s", name)
		}
	}
	n.text = p.src[start:p.pos]
	if err := fn.check(p, n); err != nil {
		return nil, err
	}
	return n, nil
}

// arg parses one argument at p.pos.
func (p *parser) arg(depth int) (*node, error) {
	start := p.pos
	if p.pos >= len(p.src) {
		return nil, p.fail(start, "expected an argument")
	}
	rest := p.src[p.pos:]
	switch c := p.src[p.pos]; {
	case c == '\'':
		return p.str()
	case c == '$':
		return p.path()
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	case strings.HasPrefix(rest, "States."):
		return p.call(depth + 1)
	}
	for _, w := range []struct {
		word string
		v    any
	}{{"true", true}, {"false", false}, {"null", nil}} {
		if strings.HasPrefix(rest, w.word) && (len(rest) == len(w.word) || !isIdent(rest[len(w.word)])) {
			p.pos += len(w.word)
			return &node{kind: litNode, text: w.word, off: start, lit: w.v}, nil
		}
	}
	return nil, p.fail(start, "expected a string, number, boolean, null, path or intrinsic function")
}

// str parses a single-quoted string literal. Backslash escapes the next
// character (\' \{ \} \\ as Step Functions documents). The literal is also
// split at its unescaped "{}" placeholders for States.Format.
func (p *parser) str() (*node, error) {
	start := p.pos
	p.pos++
	var b strings.Builder
	var segs []string
	segStart := 0
	for {
		if p.pos >= len(p.src) {
			return nil, p.fail(start, "unclosed string literal")
		}
		c := p.src[p.pos]
		switch {
		case c == '\'':
			p.pos++
			segs = append(segs, b.String()[segStart:])
			return &node{kind: litNode, text: p.src[start:p.pos], off: start, lit: b.String(), tmpl: segs}, nil
		case c == '\\':
			if p.pos+1 >= len(p.src) {
				return nil, p.fail(p.pos, "open escape '\\' at the end of the string literal")
			}
			b.WriteByte(p.src[p.pos+1])
			p.pos += 2
		case c == '{' && p.pos+1 < len(p.src) && p.src[p.pos+1] == '}':
			segs = append(segs, b.String()[segStart:])
			b.WriteString("{}")
			segStart = b.Len()
			p.pos += 2
		default:
			b.WriteByte(c)
			p.pos++
		}
	}
}

// number parses a JSON number literal.
func (p *parser) number() (*node, error) {
	start := p.pos
	if p.src[p.pos] == '-' {
		p.pos++
	}
	digits := func() int {
		n := 0
		for p.pos < len(p.src) && p.src[p.pos] >= '0' && p.src[p.pos] <= '9' {
			p.pos++
			n++
		}
		return n
	}
	if digits() == 0 {
		return nil, p.fail(start, "malformed number")
	}
	if p.pos < len(p.src) && p.src[p.pos] == '.' {
		p.pos++
		if digits() == 0 {
			return nil, p.fail(start, "malformed number")
		}
	}
	if p.pos < len(p.src) && (p.src[p.pos] == 'e' || p.src[p.pos] == 'E') {
		p.pos++
		if p.pos < len(p.src) && (p.src[p.pos] == '+' || p.src[p.pos] == '-') {
			p.pos++
		}
		if digits() == 0 {
			return nil, p.fail(start, "malformed number")
		}
	}
	text := p.src[start:p.pos]
	return &node{kind: litNode, text: text, off: start, lit: json.Number(normalizeNumber(text))}, nil
}

// path parses a path argument: it runs to the ',' or ')' that ends the
// argument, outside brackets, parentheses and quotes.
func (p *parser) path() (*node, error) {
	start := p.pos
	brackets, parens := 0, 0
scan:
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch c {
		case '\'', '"':
			if brackets == 0 && parens == 0 {
				return nil, p.fail(p.pos, "unexpected quote in path")
			}
			q := c
			p.pos++
			for p.pos < len(p.src) && p.src[p.pos] != q {
				if p.src[p.pos] == '\\' {
					p.pos++
				}
				p.pos++
			}
			if p.pos >= len(p.src) {
				return nil, p.fail(start, "unclosed quote in path")
			}
		case '[':
			brackets++
		case ']':
			brackets--
		case '(':
			parens++
		case ')':
			if parens == 0 && brackets <= 0 {
				break scan
			}
			parens--
		case ',':
			if parens == 0 && brackets <= 0 {
				break scan
			}
		}
		p.pos++
	}
	text := strings.TrimRight(p.src[start:p.pos], " \t\r\n")
	n := &node{text: text, off: start}
	var err error
	switch {
	case strings.HasPrefix(text, "$$"):
		n.kind = ctxNode
		n.path, err = jsonpath.Compile(text[1:])
		if se, ok := err.(*jsonpath.SyntaxError); ok {
			return nil, p.fail(start+1+se.Offset, "%s", se.Msg)
		}
	case text == "$" || strings.HasPrefix(text, "$.") || strings.HasPrefix(text, "$["):
		n.kind = pathNode
		n.path, err = jsonpath.Compile(text)
		if se, ok := err.(*jsonpath.SyntaxError); ok {
			return nil, p.fail(start+se.Offset, "%s", se.Msg)
		}
	default:
		n.kind = varNode
		n.varName, n.path, err = jsonpath.CompileVariable(text)
		if se, ok := err.(*jsonpath.SyntaxError); ok {
			return nil, p.fail(start+se.Offset, "%s", se.Msg)
		}
	}
	if err != nil {
		return nil, p.fail(start, "%v", err)
	}
	return n, nil
}
