package jsonata

import (
	"regexp"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// compileRegex translates a JavaScript regular expression to RE2 syntax.
func compileRegex(pattern, flags string) (*regexp.Regexp, error) {
	var sb strings.Builder
	prefix := ""
	if strings.Contains(flags, "i") {
		prefix += "i"
	}
	if strings.Contains(flags, "m") {
		prefix += "m"
	}
	if prefix != "" {
		sb.WriteString("(?" + prefix + ")")
	}
	for i := 0; i < len(pattern); i++ {
		c := pattern[i]
		if c == '\\' && i+1 < len(pattern) {
			n := pattern[i+1]
			if n == 'u' && i+5 < len(pattern) {
				sb.WriteString(`\x{` + pattern[i+2:i+6] + `}`)
				i += 5
				continue
			}
			if n == '/' {
				sb.WriteByte('/')
				i++
				continue
			}
			sb.WriteByte(c)
			sb.WriteByte(n)
			i++
			continue
		}
		sb.WriteByte(c)
	}
	return regexp.Compile(sb.String())
}

type regexMatch struct {
	match  string
	start  int // byte offsets
	end    int
	index  int // UTF-16 offset of start
	groups []any
}

func utf16Index(s string, byteOff int) int {
	n := 0
	for _, r := range s[:byteOff] {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

// matchAll returns the successive matches of a regex (or a custom matcher
// function) in s, at most limit of them when limit >= 0.
func (ev *evaluator) matchAll(matcher any, s string, limit int) ([]regexMatch, error) {
	switch m := matcher.(type) {
	case *regexFn:
		locs := m.re.FindAllStringSubmatchIndex(s, -1)
		var out []regexMatch
		for i, loc := range locs {
			if limit >= 0 && len(out) >= limit {
				break
			}
			if i > 0 && loc[0] == loc[1] {
				if locs[i-1][1] >= len(s) {
					break
				}
				return nil, newErr("D1004", 0, "", m.src)
			}
			rm := regexMatch{match: s[loc[0]:loc[1]], start: loc[0], end: loc[1], index: utf16Index(s, loc[0])}
			for g := 1; g*2 < len(loc); g++ {
				if loc[g*2] < 0 {
					rm.groups = append(rm.groups, "")
				} else {
					rm.groups = append(rm.groups, s[loc[g*2]:loc[g*2+1]])
				}
			}
			if rm.groups == nil {
				rm.groups = []any{}
			}
			out = append(out, rm)
			if i == 0 && loc[0] == loc[1] && len(locs) > 1 {
				// an empty first match followed by more matches never progresses
				if limit < 0 || limit > 1 {
					return nil, newErr("D1004", 0, "", m.src)
				}
			}
		}
		return out, nil
	default:
		if !isFunction(matcher) {
			return nil, nil
		}
		// custom matcher: a function returning {match, start, end, groups, next}
		r, err := ev.apply(matcher, []any{s}, nil, nil)
		if err != nil {
			return nil, err
		}
		var out []regexMatch
		for !isUndef(r) && r != nil {
			if limit >= 0 && len(out) >= limit {
				break
			}
			if !isObject(r) {
				return nil, newErr("T1010", 0, "", nil)
			}
			mv, _ := objGet(r, "match")
			sv, _ := objGet(r, "start")
			evv, _ := objGet(r, "end")
			ms, ok1 := mv.(string)
			st, ok2 := asNumber(sv)
			en, ok3 := asNumber(evv)
			if !ok1 || !ok2 || !ok3 {
				return nil, newErr("T1010", 0, "", nil)
			}
			rm := regexMatch{match: ms, start: utf16ToByte(s, int(st)), end: utf16ToByte(s, int(en)), index: int(st)}
			gv, _ := objGet(r, "groups")
			if g, ok := arrayItems(gv); ok {
				rm.groups = g
			} else {
				rm.groups = []any{}
			}
			out = append(out, rm)
			nf, _ := objGet(r, "next")
			if !isFunction(nf) {
				break
			}
			r, err = ev.apply(nf, nil, nil, nil)
			if err != nil {
				return nil, err
			}
			if len(out) > 100000 {
				break
			}
		}
		return out, nil
	}
}

func utf16ToByte(s string, idx int) int {
	if idx <= 0 {
		return 0
	}
	n := 0
	for i, r := range s {
		if n >= idx {
			return i
		}
		n += len(utf16.Encode([]rune{r}))
	}
	return len(s)
}

func regexMatchObject(m *regexFn, s string, from int) any {
	loc := m.re.FindStringSubmatchIndex(s)
	if loc == nil {
		return Undefined
	}
	o := newObject(4)
	o.Set("match", s[loc[0]:loc[1]])
	o.Set("start", float64(utf16Index(s, loc[0])))
	o.Set("end", float64(utf16Index(s, loc[1])))
	groups := []any{}
	for g := 1; g*2 < len(loc); g++ {
		if loc[g*2] < 0 {
			groups = append(groups, "")
		} else {
			groups = append(groups, s[loc[g*2]:loc[g*2+1]])
		}
	}
	o.Set("groups", groups)
	return o
}

func matchToObject(m regexMatch) *Object {
	o := newObject(4)
	o.Set("match", m.match)
	o.Set("index", float64(m.index))
	o.Set("start", float64(m.index))
	o.Set("end", float64(m.index+utf16Len(m.match)))
	o.Set("groups", m.groups)
	return o
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

func fnReplace(ev *evaluator, args []any, ctx callCtx) (any, error) {
	s, ok := arg(args, 0).(string)
	if !ok {
		return Undefined, nil
	}
	pattern := arg(args, 1)
	repl := arg(args, 2)
	if ps, ok := pattern.(string); ok && ps == "" {
		return nil, newErr("D3010", 0, "replace", ps)
	}
	limit := -1
	if l, ok := numArg(args, 3); ok {
		if l < 0 {
			return nil, newErr("D3011", 0, "replace", l)
		}
		limit = int(min(jsTrunc(l), 1e9))
	}
	if limit == 0 {
		return s, nil
	}
	if ps, ok := pattern.(string); ok {
		rs, err := replacementText(repl)
		if err != nil {
			return nil, err
		}
		var sb strings.Builder
		pos := 0
		count := 0
		for {
			if limit >= 0 && count >= limit {
				break
			}
			i := strings.Index(s[pos:], ps)
			if i < 0 {
				break
			}
			sb.WriteString(s[pos : pos+i])
			sb.WriteString(rs)
			pos += i + len(ps)
			count++
		}
		sb.WriteString(s[pos:])
		return sb.String(), nil
	}
	ms, err := ev.matchAll(pattern, s, limit)
	if err != nil {
		return nil, err
	}
	if len(ms) == 0 {
		return s, nil
	}
	var sb strings.Builder
	pos := 0
	for _, m := range ms {
		if m.start < pos {
			continue
		}
		sb.WriteString(s[pos:m.start])
		if rs, ok := repl.(string); ok {
			sb.WriteString(expandReplacement(rs, m))
		} else {
			r, err := ev.apply(repl, []any{matchToObject(m)}, nil, nil)
			if err != nil {
				return nil, err
			}
			str, ok := r.(string)
			if !ok {
				return nil, newErr("D3012", 0, "replace", r)
			}
			sb.WriteString(str)
		}
		pos = m.start + len(m.match)
	}
	sb.WriteString(s[pos:])
	return sb.String(), nil
}

func replacementText(repl any) (string, error) {
	if s, ok := repl.(string); ok {
		return s, nil
	}
	return "", nil
}

// expandReplacement substitutes $n and $$ in a replacement string.
func expandReplacement(repl string, m regexMatch) string {
	var sb strings.Builder
	pos := 0
	for pos < len(repl) {
		idx := strings.IndexByte(repl[pos:], '$')
		if idx < 0 {
			break
		}
		sb.WriteString(repl[pos : pos+idx])
		pos += idx + 1
		if pos >= len(repl) {
			sb.WriteByte('$')
			return sb.String()
		}
		c := repl[pos]
		if c == '$' {
			sb.WriteByte('$')
			pos++
			continue
		}
		if c == '0' {
			sb.WriteString(m.match)
			pos++
			continue
		}
		maxDigits := 1
		if len(m.groups) > 0 {
			maxDigits = len(itoa(len(m.groups)))
		}
		end := min(pos+maxDigits, len(repl))
		digits := leadingDigits(repl[pos:end])
		if digits == "" {
			sb.WriteByte('$')
			continue
		}
		n := atoi(digits)
		if maxDigits > 1 && n > len(m.groups) && len(digits) > 1 {
			digits = digits[:len(digits)-1]
			n = atoi(digits)
		}
		if len(m.groups) > 0 && n >= 1 && n <= len(m.groups) {
			if g, ok := m.groups[n-1].(string); ok {
				sb.WriteString(g)
			}
		}
		pos += len(digits)
	}
	sb.WriteString(repl[pos:])
	return sb.String()
}

func leadingDigits(s string) string {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return s[:i]
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
		if n > 1e9 {
			break
		}
	}
	return n
}

var _ = utf8.RuneLen
