package jsonata

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// token kinds produced by the lexer.
const (
	tokEnd = iota
	tokOperator
	tokString
	tokNumber
	tokName
	tokVariable
	tokValue // true, false, null
	tokRegex
)

type token struct {
	kind  int
	str   string // operator, string, name, variable, regex pattern
	num   float64
	val   any // for tokValue: true/false/nil
	flags string
	pos   int
}

func isOperatorChar(c byte) bool {
	switch c {
	case '.', '[', ']', '{', '}', '(', ')', ',', '@', '#', ';', ':', '?', '+', '-', '*', '/', '%', '|', '=', '<', '>', '^', '&', '!', '~':
		return true
	}
	return false
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v'
}

type lexer struct {
	src string
	pos int
}

// next returns the next token. When infix is false a '/' starts a regex
// literal, otherwise it is the division operator.
func (l *lexer) next(infix bool) (token, *Error) {
	src := l.src
	for l.pos < len(src) && isSpace(src[l.pos]) {
		l.pos++
	}
	if l.pos >= len(src) {
		return token{kind: tokEnd, pos: len(src)}, nil
	}
	c := src[l.pos]
	if c == '/' && l.pos+1 < len(src) && src[l.pos+1] == '*' {
		start := l.pos
		end := strings.Index(src[l.pos+2:], "*/")
		if end < 0 {
			return token{}, newErr("S0106", start, "", nil)
		}
		l.pos += 2 + end + 2
		return l.next(infix)
	}
	if !infix && c == '/' {
		l.pos++
		return l.scanRegex()
	}
	if l.pos+1 < len(src) {
		two := src[l.pos : l.pos+2]
		switch two {
		case "..", ":=", "!=", ">=", "<=", "**", "~>", "?:", "??":
			l.pos += 2
			return token{kind: tokOperator, str: two, pos: l.pos}, nil
		}
	}
	if isOperatorChar(c) {
		l.pos++
		return token{kind: tokOperator, str: string(c), pos: l.pos}, nil
	}
	if c == '"' || c == '\'' {
		return l.scanString(c)
	}
	if c >= '0' && c <= '9' {
		return l.scanNumber()
	}
	if c == '`' {
		l.pos++
		end := strings.IndexByte(src[l.pos:], '`')
		if end < 0 {
			l.pos = len(src)
			return token{}, newErr("S0105", l.pos, "", nil)
		}
		name := src[l.pos : l.pos+end]
		l.pos += end + 1
		return token{kind: tokName, str: name, pos: l.pos}, nil
	}
	i := l.pos
	for i < len(src) && !isSpace(src[i]) && !isOperatorChar(src[i]) {
		i++
	}
	start := l.pos
	l.pos = i
	if src[start] == '$' {
		return token{kind: tokVariable, str: src[start+1 : i], pos: i}, nil
	}
	name := src[start:i]
	switch name {
	case "and", "or", "in":
		return token{kind: tokOperator, str: name, pos: i}, nil
	case "true":
		return token{kind: tokValue, val: true, pos: i}, nil
	case "false":
		return token{kind: tokValue, val: false, pos: i}, nil
	case "null":
		return token{kind: tokValue, val: nil, pos: i}, nil
	}
	return token{kind: tokName, str: name, pos: i}, nil
}

func (l *lexer) scanNumber() (token, *Error) {
	src := l.src
	i := l.pos
	if src[i] == '0' {
		i++
	} else {
		for i < len(src) && src[i] >= '0' && src[i] <= '9' {
			i++
		}
	}
	if i+1 < len(src) && src[i] == '.' && src[i+1] >= '0' && src[i+1] <= '9' {
		i++
		for i < len(src) && src[i] >= '0' && src[i] <= '9' {
			i++
		}
	}
	if i < len(src) && (src[i] == 'e' || src[i] == 'E') {
		j := i + 1
		if j < len(src) && (src[j] == '+' || src[j] == '-') {
			j++
		}
		if j < len(src) && src[j] >= '0' && src[j] <= '9' {
			for j < len(src) && src[j] >= '0' && src[j] <= '9' {
				j++
			}
			i = j
		}
	}
	text := src[l.pos:i]
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return token{}, newErr("S0102", l.pos, text, nil)
	}
	l.pos = i
	return token{kind: tokNumber, num: f, pos: i}, nil
}

func (l *lexer) scanString(quote byte) (token, *Error) {
	src := l.src
	l.pos++
	var sb strings.Builder
	for l.pos < len(src) {
		c := src[l.pos]
		if c == '\\' {
			l.pos++
			if l.pos >= len(src) {
				break
			}
			e := src[l.pos]
			switch e {
			case '"', '\\', '/':
				sb.WriteByte(e)
			case 'b':
				sb.WriteByte('\b')
			case 'f':
				sb.WriteByte('\f')
			case 'n':
				sb.WriteByte('\n')
			case 'r':
				sb.WriteByte('\r')
			case 't':
				sb.WriteByte('\t')
			case 'u':
				if l.pos+5 > len(src) {
					return token{}, newErr("S0104", l.pos, "", nil)
				}
				hex := src[l.pos+1 : l.pos+5]
				cp, err := strconv.ParseUint(hex, 16, 32)
				if err != nil || strings.ContainsAny(hex, "+-xX_") {
					return token{}, newErr("S0104", l.pos, "", nil)
				}
				l.pos += 4
				r := rune(cp)
				// combine UTF-16 surrogate pairs
				if r >= 0xD800 && r < 0xDC00 && l.pos+7 <= len(src) && src[l.pos+1] == '\\' && src[l.pos+2] == 'u' {
					lo, err2 := strconv.ParseUint(src[l.pos+3:l.pos+7], 16, 32)
					if err2 == nil && lo >= 0xDC00 && lo < 0xE000 {
						r = (r-0xD800)<<10 + (rune(lo) - 0xDC00) + 0x10000
						l.pos += 6
					}
				}
				sb.WriteRune(r)
			default:
				_, size := utf8.DecodeRuneInString(src[l.pos:])
				return token{}, newErr("S0103", l.pos, src[l.pos:l.pos+size], nil)
			}
			l.pos++
			continue
		}
		if c == quote {
			l.pos++
			return token{kind: tokString, str: sb.String(), pos: l.pos}, nil
		}
		sb.WriteByte(c)
		l.pos++
	}
	return token{}, newErr("S0101", l.pos, "", nil)
}

func (l *lexer) scanRegex() (token, *Error) {
	src := l.src
	start := l.pos
	depth := 0
	for l.pos < len(src) {
		c := src[l.pos]
		if c == '/' && depth == 0 {
			bs := 0
			for l.pos-(bs+1) >= 0 && src[l.pos-(bs+1)] == '\\' {
				bs++
			}
			if bs%2 == 0 {
				pattern := src[start:l.pos]
				if pattern == "" {
					return token{}, newErr("S0301", l.pos, "", nil)
				}
				l.pos++
				fs := l.pos
				for l.pos < len(src) && (src[l.pos] == 'i' || src[l.pos] == 'm') {
					l.pos++
				}
				return token{kind: tokRegex, str: pattern, flags: src[fs:l.pos], pos: l.pos}, nil
			}
		}
		prevBackslash := l.pos > 0 && src[l.pos-1] == '\\'
		if (c == '(' || c == '[' || c == '{') && !prevBackslash {
			depth++
		}
		if (c == ')' || c == ']' || c == '}') && !prevBackslash {
			depth--
		}
		l.pos++
	}
	return token{}, newErr("S0302", l.pos, "", nil)
}
