package jsonpath

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxPathLen bounds the paths Compile accepts, so a hostile definition
// cannot make compilation or evaluation unreasonably expensive.
const maxPathLen = 64 << 10

// maxFilterDepth bounds the nesting of parentheses and paths in filters.
const maxFilterDepth = 32

// Compile compiles a JSONPath that starts with "$". It accepts what Jayway
// accepts as Step Functions uses it: .name (any characters but '.', '[',
// '(' and space), ['name'] and ["name"] with backslash escapes, [n] and
// negative indexes, [*] and .*, ..name deep scan, [start:end] slices,
// [a,b] unions of indexes or names, filters [?(...)] with ==, !=, <, <=, >,
// >=, =~ /regex/flags, in, nin, subsetof, anyof, noneof, size, empty,
// contains, &&, ||, ! and parentheses, and a trailing .length() function.
// Errors are *SyntaxError.
func Compile(s string) (*Path, error) {
	return compile(s, 0, false)
}

func compile(s string, depth int, inFilter bool) (*Path, error) {
	c := &compiler{src: s, depth: depth}
	if len(s) > maxPathLen {
		return nil, c.fail(0, "path is longer than %d bytes", maxPathLen)
	}
	if s == "" {
		return nil, c.fail(0, "path is empty")
	}
	if s[0] != '$' && !(inFilter && s[0] == '@') {
		return nil, c.fail(0, "path must start with '$'")
	}
	p := &Path{src: s, root: s[0]}
	c.pos = 1
	if err := c.steps(p); err != nil {
		return nil, err
	}
	p.definite = true
	p.ref = p.fn == ""
	for i := range p.steps {
		st := &p.steps[i]
		if !st.definite(i == len(p.steps)-1) {
			p.definite = false
		}
		if st.kind != stepName && st.kind != stepIndex {
			p.ref = false
		}
		if st.kind == stepScan {
			p.hasScan = true
		}
	}
	if p.root != '$' {
		p.ref = false
	}
	if p.fn != "" && p.hasScan {
		p.definite = true
	}
	return p, nil
}

type compiler struct {
	src   string
	pos   int
	depth int
}

func (c *compiler) fail(off int, format string, args ...any) error {
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	return &SyntaxError{Path: c.src, Offset: off, Msg: msg}
}

func (c *compiler) eof() bool { return c.pos >= len(c.src) }

func (c *compiler) peek() byte {
	if c.pos < len(c.src) {
		return c.src[c.pos]
	}
	return 0
}

func (c *compiler) skipSpaces() {
	for c.pos < len(c.src) && c.src[c.pos] == ' ' {
		c.pos++
	}
}

func (c *compiler) steps(p *Path) error {
	if c.eof() {
		return nil
	}
	if ch := c.peek(); ch != '.' && ch != '[' {
		return c.fail(c.pos, "expected '.' or '[' after '%c'", p.root)
	}
	for !c.eof() {
		if p.fn != "" {
			return c.fail(c.pos, "nothing may follow a function call")
		}
		switch c.peek() {
		case '.':
			if err := c.dot(p); err != nil {
				return err
			}
		case '[':
			if err := c.bracket(p); err != nil {
				return err
			}
		default:
			return c.fail(c.pos, "unexpected character %q", c.peek())
		}
	}
	if n := len(p.steps); n > 0 && p.steps[n-1].kind == stepScan {
		return c.fail(len(c.src), "path must not end with '..'")
	}
	return nil
}

// dot reads ".name", ".*", "..", ".[" and ".length()".
func (c *compiler) dot(p *Path) error {
	start := c.pos
	c.pos++ // '.'
	if c.peek() == '.' {
		c.pos++
		p.steps = append(p.steps, step{kind: stepScan})
		if c.eof() {
			return c.fail(start, "path must not end with '..'")
		}
	} else if c.eof() {
		return c.fail(start, "path must not end with '.'")
	}
	switch c.peek() {
	case '.':
		return c.fail(c.pos, "character '.' is not valid here")
	case '[':
		return c.bracket(p)
	case '*':
		c.pos++
		p.steps = append(p.steps, step{kind: stepWildcard})
		return nil
	case ' ':
		return c.fail(c.pos, "use bracket notation ['my prop'] for names with blanks")
	}
	nameStart := c.pos
	for !c.eof() {
		ch := c.peek()
		if ch == '.' || ch == '[' || ch == '(' {
			break
		}
		if ch == ' ' {
			return c.fail(c.pos, "use bracket notation ['my prop'] for names with blanks")
		}
		c.pos++
	}
	name := c.src[nameStart:c.pos]
	if c.peek() == '(' {
		// A function call: only "()" with no arguments, at the end.
		if !strings.HasPrefix(c.src[c.pos:], "()") {
			return c.fail(c.pos, "functions take no arguments here")
		}
		switch name {
		case "length":
		default:
			return c.fail(nameStart, "unsupported function %s()", name)
		}
		c.pos += 2
		if !c.eof() {
			return c.fail(c.pos, "nothing may follow a function call")
		}
		p.fn = name
		return nil
	}
	if name == "" {
		return c.fail(nameStart, "empty property name")
	}
	p.steps = append(p.steps, step{kind: stepName, name: name})
	return nil
}

// bracket reads "[...]" at c.pos.
func (c *compiler) bracket(p *Path) error {
	open := c.pos
	c.pos++
	c.skipSpaces()
	if c.eof() {
		return c.fail(open, "unclosed '['")
	}
	switch ch := c.peek(); {
	case ch == '\'' || ch == '"':
		return c.names(p, open)
	case ch == '*':
		c.pos++
		c.skipSpaces()
		if c.peek() != ']' {
			return c.fail(c.pos, "expected ']' after '*'")
		}
		c.pos++
		p.steps = append(p.steps, step{kind: stepWildcard})
		return nil
	case ch == '?':
		return c.filter(p, open)
	case ch == '-' || ch == ':' || (ch >= '0' && ch <= '9'):
		return c.indexes(p, open)
	}
	return c.fail(c.pos, "expected a quoted name, an index, '*' or '?' after '['")
}

// names reads ['a'] or ['a', "b"] with c.pos on the first quote.
func (c *compiler) names(p *Path, open int) error {
	var names []string
	for {
		c.skipSpaces()
		q := c.peek()
		if q != '\'' && q != '"' {
			return c.fail(c.pos, "expected a quoted name")
		}
		name, err := c.quoted(q)
		if err != nil {
			return err
		}
		names = append(names, name)
		c.skipSpaces()
		switch c.peek() {
		case ',':
			c.pos++
			continue
		case ']':
			c.pos++
		default:
			return c.fail(c.pos, "expected ',' or ']' after a quoted name")
		}
		break
	}
	if len(names) == 1 {
		p.steps = append(p.steps, step{kind: stepName, name: names[0]})
	} else {
		p.steps = append(p.steps, step{kind: stepNames, names: names})
	}
	return nil
}

// quoted reads a string quoted with q at c.pos, handling backslash escapes
// as Jayway does (Java escapes: \n \t \r \b \f \uXXXX, and any other
// escaped character stands for itself).
func (c *compiler) quoted(q byte) (string, error) {
	start := c.pos
	c.pos++
	var b strings.Builder
	plain := true
	segStart := c.pos
	for {
		if c.eof() {
			return "", c.fail(start, "unclosed quote %c", q)
		}
		ch := c.src[c.pos]
		if ch == q {
			var s string
			if plain {
				s = c.src[segStart:c.pos]
			} else {
				b.WriteString(c.src[segStart:c.pos])
				s = b.String()
			}
			c.pos++
			return s, nil
		}
		if ch != '\\' {
			c.pos++
			continue
		}
		plain = false
		b.WriteString(c.src[segStart:c.pos])
		c.pos++
		if c.eof() {
			return "", c.fail(start, "unclosed quote %c", q)
		}
		e := c.src[c.pos]
		c.pos++
		switch e {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'u':
			if c.pos+4 > len(c.src) {
				return "", c.fail(c.pos-2, "bad \\u escape")
			}
			n, err := strconv.ParseUint(c.src[c.pos:c.pos+4], 16, 32)
			if err != nil {
				return "", c.fail(c.pos-2, "bad \\u escape")
			}
			r := rune(n)
			if !utf8.ValidRune(r) {
				r = utf8.RuneError
			}
			b.WriteRune(r)
			c.pos += 4
		default:
			b.WriteByte(e)
		}
		segStart = c.pos
	}
}

// indexes reads [n], [a,b], [a:b], [a:], [:b] with c.pos after '[' and
// spaces.
func (c *compiler) indexes(p *Path, open int) error {
	end := strings.IndexByte(c.src[c.pos:], ']')
	if end < 0 {
		return c.fail(open, "unclosed '['")
	}
	body := strings.TrimSpace(c.src[c.pos : c.pos+end])
	bodyOff := c.pos
	c.pos += end + 1
	if strings.Contains(body, ":") {
		parts := strings.Split(body, ":")
		if len(parts) > 3 {
			return c.fail(bodyOff, "bad slice %q", body)
		}
		var from, to int
		hasFrom, hasTo := parts[0] != "", parts[1] != ""
		var err error
		if hasFrom {
			if from, err = parseIndex(parts[0]); err != nil {
				return c.fail(bodyOff, "bad slice %q", body)
			}
		}
		if hasTo {
			if to, err = parseIndex(parts[1]); err != nil {
				return c.fail(bodyOff, "bad slice %q", body)
			}
		}
		if len(parts) == 3 && parts[2] != "" {
			if _, err = parseIndex(parts[2]); err != nil {
				return c.fail(bodyOff, "bad slice %q", body)
			}
		}
		st := step{kind: stepSlice, from: from, to: to}
		switch {
		case hasFrom && !hasTo:
			st.slice = sliceFrom
		case hasFrom:
			st.slice = sliceBetween
		case hasTo:
			st.slice = sliceTo
		default:
			return c.fail(bodyOff, "bad slice %q", body)
		}
		p.steps = append(p.steps, st)
		return nil
	}
	parts := strings.Split(body, ",")
	idx := make([]int, 0, len(parts))
	for _, part := range parts {
		n, err := parseIndex(strings.TrimSpace(part))
		if err != nil {
			return c.fail(bodyOff, "bad array index %q", body)
		}
		idx = append(idx, n)
	}
	if len(idx) == 1 {
		p.steps = append(p.steps, step{kind: stepIndex, index: idx[0]})
	} else {
		p.steps = append(p.steps, step{kind: stepIndexes, indexes: idx})
	}
	return nil
}

// parseIndex parses a Java int: optional '-', digits, within 32 bits.
func parseIndex(s string) (int, error) {
	if s == "" || s == "-" {
		return 0, strconv.ErrSyntax
	}
	for i := 0; i < len(s); i++ {
		if !(s[i] >= '0' && s[i] <= '9') && !(i == 0 && s[i] == '-') {
			return 0, strconv.ErrSyntax
		}
	}
	n, err := strconv.ParseInt(s, 10, 32)
	return int(n), err
}

// filter reads "[?(...)]" with c.pos on '?'.
func (c *compiler) filter(p *Path, open int) error {
	c.pos++ // '?'
	c.skipSpaces()
	if c.peek() != '(' {
		return c.fail(c.pos, "expected '(' after '[?'")
	}
	bodyStart := c.pos + 1
	end, err := c.matchParen(c.pos)
	if err != nil {
		return err
	}
	c.pos = end + 1
	c.skipSpaces()
	if c.peek() != ']' {
		return c.fail(c.pos, "expected ']' to close the filter")
	}
	c.pos++
	fp := &filterParser{c: c, s: c.src[:end], pos: bodyStart, depth: c.depth}
	e, err := fp.parse()
	if err != nil {
		return err
	}
	p.steps = append(p.steps, step{kind: stepFilter, filter: e})
	return nil
}

// matchParen returns the index of the ')' matching the '(' at i, skipping
// quoted strings and regex literals.
func (c *compiler) matchParen(i int) (int, error) {
	depth := 0
	s := c.src
	prevSig := byte(0)
	for j := i; j < len(s); j++ {
		ch := s[j]
		switch ch {
		case '\'', '"':
			k := j + 1
			for k < len(s) && s[k] != ch {
				if s[k] == '\\' {
					k++
				}
				k++
			}
			if k >= len(s) {
				return 0, c.fail(j, "unclosed quote %c", ch)
			}
			j = k
		case '/':
			// A regex literal follows an operator such as =~.
			if prevSig == '~' {
				k := j + 1
				for k < len(s) && s[k] != '/' {
					if s[k] == '\\' {
						k++
					}
					k++
				}
				if k >= len(s) {
					return 0, c.fail(j, "unclosed regular expression")
				}
				j = k
			}
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return j, nil
			}
		}
		if ch != ' ' {
			prevSig = ch
		}
	}
	return 0, c.fail(i, "unclosed '('")
}
