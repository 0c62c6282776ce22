package jsonpath

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
)

var errLiteral = errors.New("malformed JSON literal")

// parseLenientJSON parses one JSON value at the start of s, accepting
// single-quoted strings as Jayway's filter literals do. It returns the value
// (in steward's value model) and the number of bytes consumed.
func parseLenientJSON(s string, depth int) (any, int, error) {
	lp := &literalParser{s: s, depth: depth}
	v, err := lp.value()
	if err != nil {
		return nil, 0, err
	}
	return v, lp.pos, nil
}

type literalParser struct {
	s     string
	pos   int
	depth int
}

func (lp *literalParser) skip() {
	for lp.pos < len(lp.s) && strings.IndexByte(" \t\r\n", lp.s[lp.pos]) >= 0 {
		lp.pos++
	}
}

func (lp *literalParser) value() (any, error) {
	lp.depth++
	defer func() { lp.depth-- }()
	if lp.depth > maxFilterDepth {
		return nil, errors.New("JSON literal nested too deeply")
	}
	lp.skip()
	if lp.pos >= len(lp.s) {
		return nil, errLiteral
	}
	switch ch := lp.s[lp.pos]; {
	case ch == '[':
		lp.pos++
		out := []any{}
		lp.skip()
		if lp.pos < len(lp.s) && lp.s[lp.pos] == ']' {
			lp.pos++
			return out, nil
		}
		for {
			v, err := lp.value()
			if err != nil {
				return nil, err
			}
			out = append(out, v)
			lp.skip()
			if lp.pos >= len(lp.s) {
				return nil, errLiteral
			}
			if lp.s[lp.pos] == ',' {
				lp.pos++
				continue
			}
			if lp.s[lp.pos] == ']' {
				lp.pos++
				return out, nil
			}
			return nil, errLiteral
		}
	case ch == '{':
		lp.pos++
		out := map[string]any{}
		lp.skip()
		if lp.pos < len(lp.s) && lp.s[lp.pos] == '}' {
			lp.pos++
			return out, nil
		}
		for {
			lp.skip()
			if lp.pos >= len(lp.s) || (lp.s[lp.pos] != '"' && lp.s[lp.pos] != '\'') {
				return nil, errLiteral
			}
			k, err := lp.str()
			if err != nil {
				return nil, err
			}
			lp.skip()
			if lp.pos >= len(lp.s) || lp.s[lp.pos] != ':' {
				return nil, errLiteral
			}
			lp.pos++
			v, err := lp.value()
			if err != nil {
				return nil, err
			}
			out[k] = v
			lp.skip()
			if lp.pos >= len(lp.s) {
				return nil, errLiteral
			}
			if lp.s[lp.pos] == ',' {
				lp.pos++
				continue
			}
			if lp.s[lp.pos] == '}' {
				lp.pos++
				return out, nil
			}
			return nil, errLiteral
		}
	case ch == '"' || ch == '\'':
		return lp.str()
	case ch == '-' || (ch >= '0' && ch <= '9'):
		start := lp.pos
		for lp.pos < len(lp.s) && strings.IndexByte("0123456789.eE+-", lp.s[lp.pos]) >= 0 {
			lp.pos++
		}
		text := lp.s[start:lp.pos]
		if _, ok := parseDecimal(text); !ok {
			return nil, errLiteral
		}
		return json.Number(text), nil
	}
	for _, w := range []struct {
		word string
		v    any
	}{{"true", true}, {"false", false}, {"null", nil}} {
		if strings.HasPrefix(lp.s[lp.pos:], w.word) {
			lp.pos += len(w.word)
			return w.v, nil
		}
	}
	return nil, errLiteral
}

func (lp *literalParser) str() (string, error) {
	q := lp.s[lp.pos]
	lp.pos++
	var b strings.Builder
	for lp.pos < len(lp.s) {
		ch := lp.s[lp.pos]
		switch {
		case ch == q:
			lp.pos++
			return b.String(), nil
		case ch == '\\':
			if lp.pos+1 >= len(lp.s) {
				return "", errLiteral
			}
			e := lp.s[lp.pos+1]
			lp.pos += 2
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
				if lp.pos+4 > len(lp.s) {
					return "", errLiteral
				}
				n, err := strconv.ParseUint(lp.s[lp.pos:lp.pos+4], 16, 32)
				if err != nil {
					return "", errLiteral
				}
				b.WriteRune(rune(n))
				lp.pos += 4
			default:
				b.WriteByte(e)
			}
		default:
			b.WriteByte(ch)
			lp.pos++
		}
	}
	return "", errLiteral
}
