package pattern

import (
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// nodeKind is the kind of a JSON value in a pattern document.
type nodeKind uint8

const (
	nodeObject nodeKind = iota + 1
	nodeArray
	nodeString
	nodeNumber
	nodeTrue
	nodeFalse
	nodeNull
)

// node is one JSON value of a pattern document. Objects keep their members
// in document order, duplicates included, because EventBridge processes a
// pattern as a token stream: a repeated key is compiled twice and the later
// one wins.
type node struct {
	kind    nodeKind
	text    string // string content (unescaped) or the number as written
	members []member
	items   []*node
}

type member struct {
	name  string
	value *node
}

// tokenText is what a streaming JSON parser reports as the text of the token
// that starts this value; EventBridge quotes it in some messages.
func (n *node) tokenText() string {
	switch n.kind {
	case nodeObject:
		return "{"
	case nodeArray:
		return "["
	case nodeTrue:
		return "true"
	case nodeFalse:
		return "false"
	case nodeNull:
		return "null"
	}
	return n.text
}

// maxNesting bounds recursion on hostile input.
const maxNesting = 200

// syntaxError describes malformed JSON at a byte offset.
type syntaxError struct {
	Offset int
	Msg    string
}

func (e *syntaxError) Error() string {
	return fmt.Sprintf("%s at offset %d", e.Msg, e.Offset)
}

// treeParser parses a whole JSON document into nodes.
type treeParser struct {
	src []byte
	pos int
}

func parseTree(src []byte) (*node, error) {
	p := &treeParser{src: src}
	p.skipSpace()
	n, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.pos != len(p.src) {
		return nil, p.errorf("unexpected data after the top-level value")
	}
	return n, nil
}

func (p *treeParser) errorf(format string, args ...any) error {
	return &syntaxError{Offset: p.pos, Msg: fmt.Sprintf(format, args...)}
}

func (p *treeParser) skipSpace() {
	for p.pos < len(p.src) {
		switch p.src[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *treeParser) value(depth int) (*node, error) {
	if depth > maxNesting {
		return nil, p.errorf("nesting too deep")
	}
	if p.pos >= len(p.src) {
		return nil, p.errorf("unexpected end of input")
	}
	switch c := p.src[p.pos]; {
	case c == '{':
		p.pos++
		n := &node{kind: nodeObject}
		p.skipSpace()
		if p.pos < len(p.src) && p.src[p.pos] == '}' {
			p.pos++
			return n, nil
		}
		for {
			p.skipSpace()
			if p.pos >= len(p.src) || p.src[p.pos] != '"' {
				return nil, p.errorf("expected a field name")
			}
			name, err := p.str()
			if err != nil {
				return nil, err
			}
			p.skipSpace()
			if p.pos >= len(p.src) || p.src[p.pos] != ':' {
				return nil, p.errorf("expected ':'")
			}
			p.pos++
			p.skipSpace()
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			n.members = append(n.members, member{name: name, value: v})
			p.skipSpace()
			if p.pos >= len(p.src) {
				return nil, p.errorf("unexpected end of input in object")
			}
			if p.src[p.pos] == ',' {
				p.pos++
				continue
			}
			if p.src[p.pos] == '}' {
				p.pos++
				return n, nil
			}
			return nil, p.errorf("expected ',' or '}'")
		}
	case c == '[':
		p.pos++
		n := &node{kind: nodeArray}
		p.skipSpace()
		if p.pos < len(p.src) && p.src[p.pos] == ']' {
			p.pos++
			return n, nil
		}
		for {
			p.skipSpace()
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			n.items = append(n.items, v)
			p.skipSpace()
			if p.pos >= len(p.src) {
				return nil, p.errorf("unexpected end of input in array")
			}
			if p.src[p.pos] == ',' {
				p.pos++
				continue
			}
			if p.src[p.pos] == ']' {
				p.pos++
				return n, nil
			}
			return nil, p.errorf("expected ',' or ']'")
		}
	case c == '"':
		s, err := p.str()
		if err != nil {
			return nil, err
		}
		return &node{kind: nodeString, text: s}, nil
	case c == '-' || (c >= '0' && c <= '9'):
		end, ok := scanNumber(p.src, p.pos)
		if !ok {
			return nil, p.errorf("malformed number")
		}
		n := &node{kind: nodeNumber, text: string(p.src[p.pos:end])}
		p.pos = end
		return n, nil
	default:
		for _, lit := range [...]struct {
			word string
			kind nodeKind
		}{{"true", nodeTrue}, {"false", nodeFalse}, {"null", nodeNull}} {
			if hasWord(p.src[p.pos:], lit.word) {
				p.pos += len(lit.word)
				return &node{kind: lit.kind}, nil
			}
		}
		return nil, p.errorf("unexpected character %q", c)
	}
}

func hasWord(b []byte, w string) bool {
	return len(b) >= len(w) && string(b[:len(w)]) == w
}

func (p *treeParser) str() (string, error) {
	s, end, err := scanString(p.src, p.pos)
	if err != nil {
		return "", &syntaxError{Offset: p.pos, Msg: err.Error()}
	}
	p.pos = end
	return s, nil
}

// scanNumber returns the end of the JSON number starting at i.
func scanNumber(b []byte, i int) (int, bool) {
	if i < len(b) && b[i] == '-' {
		i++
	}
	if i >= len(b) {
		return i, false
	}
	if b[i] == '0' {
		i++
	} else if b[i] >= '1' && b[i] <= '9' {
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	} else {
		return i, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		start := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == start {
			return i, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		start := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == start {
			return i, false
		}
	}
	return i, true
}

type stringError string

func (e stringError) Error() string { return string(e) }

// scanString decodes the JSON string whose opening quote is at b[i] and
// returns its content and the offset just past the closing quote.
func scanString(b []byte, i int) (string, int, error) {
	i++ // opening quote
	start := i
	for i < len(b) {
		c := b[i]
		if c == '"' {
			return string(b[start:i]), i + 1, nil
		}
		if c == '\\' {
			break
		}
		if c < 0x20 {
			return "", i, stringError("control character in string")
		}
		i++
	}
	if i >= len(b) {
		return "", i, stringError("unterminated string")
	}
	// Slow path: escapes present.
	out := make([]byte, 0, i-start+16)
	out = append(out, b[start:i]...)
	for i < len(b) {
		c := b[i]
		switch {
		case c == '"':
			return string(out), i + 1, nil
		case c < 0x20:
			return "", i, stringError("control character in string")
		case c != '\\':
			out = append(out, c)
			i++
			continue
		}
		i++
		if i >= len(b) {
			break
		}
		switch b[i] {
		case '"', '\\', '/':
			out = append(out, b[i])
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := hex4(b, i+1)
			if !ok {
				return "", i, stringError("bad \\u escape")
			}
			i += 4
			if utf16.IsSurrogate(r) {
				if r2, ok2 := lowSurrogate(b, i+1); ok2 {
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						r = dec
						i += 6
					} else {
						r = utf8.RuneError
					}
				} else {
					r = utf8.RuneError
				}
			}
			out = utf8.AppendRune(out, r)
		default:
			return "", i, stringError("bad escape " + strconv.QuoteRune(rune(b[i])))
		}
		i++
	}
	return "", i, stringError("unterminated string")
}

func lowSurrogate(b []byte, i int) (rune, bool) {
	if i+1 < len(b) && b[i] == '\\' && b[i+1] == 'u' {
		r, ok := hex4(b, i+2)
		if ok && r >= 0xDC00 && r <= 0xDFFF {
			return r, true
		}
	}
	return 0, false
}

func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c-'a') + 10
		case c >= 'A' && c <= 'F':
			r |= rune(c-'A') + 10
		default:
			return 0, false
		}
	}
	return r, true
}
