package jsonata

import (
	"regexp"
	"strings"
	"sync"
)

type sigParam struct {
	regex      string
	typ        string
	array      bool
	context    bool
	contextRe  *regexp.Regexp
	subtype    string
	hasSubtype bool
}

// signature is a parsed JSONata function signature such as <s-n?:s>.
type signature struct {
	def    string
	params []*sigParam
	re     *regexp.Regexp
}

var sigCache sync.Map // string -> *signature

func parseSignature(def string) (*signature, error) {
	if s, ok := sigCache.Load(def); ok {
		return s.(*signature), nil
	}
	s, err := parseSignatureUncached(def)
	if err != nil {
		return nil, err
	}
	sigCache.Store(def, s)
	return s, nil
}

func parseSignatureUncached(def string) (*signature, error) {
	sig := &signature{def: def}
	param := &sigParam{}
	prev := param
	next := func() {
		sig.params = append(sig.params, param)
		prev = param
		param = &sigParam{}
	}
	findClosing := func(start int, open, close byte) int {
		depth := 1
		pos := start
		for pos < len(def)-1 {
			pos++
			c := def[pos]
			if c == close {
				depth--
				if depth == 0 {
					break
				}
			} else if c == open {
				depth++
			}
		}
		return pos
	}
	for pos := 1; pos < len(def); pos++ {
		c := def[pos]
		if c == ':' {
			break
		}
		switch c {
		case 's', 'n', 'b', 'l', 'o':
			param.regex = "[" + string(c) + "m]"
			param.typ = string(c)
			next()
		case 'a':
			param.regex = "[asnblfom]"
			param.typ = "a"
			param.array = true
			next()
		case 'f':
			param.regex = "f"
			param.typ = "f"
			next()
		case 'j':
			param.regex = "[asnblom]"
			param.typ = "j"
			next()
		case 'x':
			param.regex = "[asnblfom]"
			param.typ = "x"
			next()
		case '-':
			prev.context = true
			re, err := regexp.Compile("^" + prev.regex + "$")
			if err != nil {
				return nil, newErr("S0401", pos, "", def)
			}
			prev.contextRe = re
			prev.regex += "?"
		case '?', '+':
			prev.regex += string(c)
		case '(':
			end := findClosing(pos, '(', ')')
			choice := def[pos+1 : end]
			if strings.Contains(choice, "<") {
				return nil, newErr("S0402", pos, "", choice)
			}
			param.regex = "[" + choice + "m]"
			param.typ = "(" + choice + ")"
			pos = end
			next()
		case '<':
			if prev.typ == "a" || prev.typ == "f" {
				end := findClosing(pos, '<', '>')
				prev.subtype = def[pos+1 : end]
				prev.hasSubtype = true
				pos = end
			} else {
				return nil, newErr("S0401", pos, "", prev.typ)
			}
		}
	}
	var sb strings.Builder
	sb.WriteString("^")
	for _, p := range sig.params {
		sb.WriteString("(" + p.regex + ")")
	}
	sb.WriteString("$")
	re, err := regexp.Compile(sb.String())
	if err != nil {
		return nil, newErr("S0401", 0, "", def)
	}
	sig.re = re
	return sig, nil
}

func (s *signature) validate(args []any, context any) ([]any, error) {
	var sb strings.Builder
	for _, a := range args {
		sb.WriteByte(typeSymbol(a))
	}
	supplied := sb.String()
	m := s.re.FindStringSubmatch(supplied)
	if m == nil {
		return nil, s.validationError(args, supplied)
	}
	out := make([]any, 0, len(s.params))
	argIndex := 0
	for i, p := range s.params {
		match := m[i+1]
		if match == "" {
			if p.context && p.contextRe != nil {
				ct := string(typeSymbol(context))
				if p.contextRe.MatchString(ct) {
					out = append(out, context)
				} else {
					return nil, newErr("T0411", 0, "", argIndex+1)
				}
			} else {
				if argIndex < len(args) {
					out = append(out, args[argIndex])
				} else {
					out = append(out, Undefined)
				}
				argIndex++
			}
			continue
		}
		for _, single := range match {
			var arg any = Undefined
			if argIndex < len(args) {
				arg = args[argIndex]
			}
			if p.typ == "a" {
				if single == 'm' {
					arg = Undefined
				} else {
					ok := true
					if p.hasSubtype {
						if single != 'a' && match != p.subtype {
							ok = false
						} else if single == 'a' {
							items, _ := arrayItems(arg)
							if len(items) > 0 {
								it := typeSymbol(items[0])
								if len(p.subtype) == 0 || it != p.subtype[0] {
									ok = false
								} else {
									for _, x := range items {
										if typeSymbol(x) != it {
											ok = false
											break
										}
									}
								}
							}
						}
					}
					if !ok {
						return nil, newErr("T0412", 0, "", argIndex+1)
					}
					if single != 'a' {
						arg = []any{arg}
					}
				}
			}
			out = append(out, arg)
			argIndex++
		}
	}
	return out, nil
}

func (s *signature) validationError(args []any, supplied string) error {
	partial := "^"
	goodTo := 0
	for _, p := range s.params {
		partial += p.regex
		re, err := regexp.Compile(partial)
		if err != nil {
			break
		}
		loc := re.FindStringIndex(supplied)
		if loc == nil {
			return newErr("T0410", 0, "", goodTo+1)
		}
		goodTo = loc[1]
	}
	return newErr("T0410", 0, "", goodTo+1)
}
