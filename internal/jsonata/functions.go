package jsonata

import (
	"encoding/base64"
	"math"
	"math/rand/v2"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"
)

var builtins map[string]*builtinFn

type builtinImpl func(ev *evaluator, args []any, ctx callCtx) (any, error)

func register(name, sig string, arity int, fn builtinImpl) {
	s, err := parseSignatureUncached(sig)
	if err != nil {
		panic("jsonata: bad builtin signature " + sig)
	}
	builtins[name] = &builtinFn{name: name, sig: s, arity: arity, fn: fn}
}

func arg(args []any, i int) any {
	if i < len(args) {
		return args[i]
	}
	return Undefined
}

func numArg(args []any, i int) (float64, bool) {
	return asNumber(arg(args, i))
}

func init() {
	builtins = make(map[string]*builtinFn, 80)
	registerStringFunctions()
	registerNumericFunctions()
	registerArrayFunctions()
	registerObjectFunctions()
	registerDateFunctions()
}

func registerStringFunctions() {
	register("string", "<x-b?:s>", 1, func(ev *evaluator, args []any, ctx callCtx) (any, error) {
		a := arg(args, 0)
		if isUndef(a) {
			return Undefined, nil
		}
		pretty, _ := arg(args, 1).(bool)
		return toJSString(a, pretty)
	})
	register("length", "<s-:n>", 1, func(ev *evaluator, args []any, ctx callCtx) (any, error) {
		s, ok := arg(args, 0).(string)
		if !ok {
			return Undefined, nil
		}
		return float64(utf8.RuneCountInString(s)), nil
	})
	register("substring", "<s-nn?:s>", 3, func(ev *evaluator, args []any, ctx callCtx) (any, error) {
		s, ok := arg(args, 0).(string)
		if !ok {
			return Undefined, nil
		}
		runes := []rune(s)
		n := float64(len(runes))
		start, _ := numArg(args, 1)
		start = jsTrunc(start)
		if n+start < 0 {
			start = 0
		}
		if l, ok := numArg(args, 2); ok {
			l = jsTrunc(l)
			if l <= 0 {
				return "", nil
			}
			var end float64
			if start >= 0 {
				end = start + l
			} else {
				end = n + start + l
			}
			return string(sliceRunes(runes, start, end)), nil
		}
		return string(sliceRunes(runes, start, n)), nil
	})
	register("substringBefore", "<s-s:s>", 2, func(ev *evaluator, args []any, ctx callCtx) (any, error) {
		s, ok := arg(args, 0).(string)
		if !ok {
			return Undefined, nil
		}
		chars, ok := arg(args, 1).(string)
		if !ok {
			return s, nil
		}
		if i := strings.Index(s, chars); i >= 0 {
			return s[:i], nil
		}
		return s, nil
	})
	register("substringAfter", "<s-s:s>", 2, func(ev *evaluator, args []any, ctx callCtx) (any, error) {
		s, ok := arg(args, 0).(string)
		if !ok {
			return Undefined, nil
		}
		chars, ok := arg(args, 1).(string)
		if !ok {
			return s, nil
		}
		if i := strings.Index(s, chars); i >= 0 {
			return s[i+len(chars):], nil
		}
		return s, nil
	})
	register("lowercase", "<s-:s>", 1, func(ev *evaluator, args []any, ctx callCtx) (any, error) {
		s, ok := arg(args, 0).(string)
		if !ok {
			return Undefined, nil
		}
		return strings.ToLower(s), nil
	})
	register("uppercase", "<s-:s>", 1, func(ev *evaluator, args []any, ctx callCtx) (any, error) {
		s, ok := arg(args, 0).(string)
		if !ok {
			return Undefined, nil
		}
		return strings.ToUpper(s), nil
	})
	register("trim", "<s-:s>", 1, func(ev *evaluator, args []any, ctx callCtx) (any, error) {
		s, ok := arg(args, 0).(string)
		if !ok {
			return Undefined, nil
		}
		var sb strings.Builder
		inWS := false
		for _, r := range s {
			if r == ' ' || r == '\t' || r == '\n' || r == '\r' {
				if !inWS {
					sb.WriteByte(' ')
				}
				inWS = true
				continue
			}
			inWS = false
			sb.WriteRune(r)
		}
		out := sb.String()
		out = strings.TrimPrefix(out, " ")
		out = strings.TrimSuffix(out, " ")
		return out, nil
	})
	register("pad", "<s-ns?:s>", 3, func(ev *evaluator, args []any, ctx callCtx) (any, error) {
		s, ok := arg(args, 0).(string)
		if !ok {
			return Undefined, nil
		}
		width, _ := numArg(args, 1)
		ch, ok := arg(args, 2).(string)
		if !ok || ch == "" {
			ch = " "
		}
		left := width < 0
		size := int(math.Abs(jsTrunc(width)))
		if size > 1e7 {
			size = 1e7
		}
		padLen := size - utf8.RuneCountInString(s)
		if padLen <= 0 {
			return s, nil
		}
		chr := []rune(ch)
		pad := make([]rune, 0, padLen)
		for len(pad) < padLen {
			pad = append(pad, chr...)
		}
		pad = pad[:padLen]
		if left {
			return string(pad) + s, nil
		}
		return s + string(pad), nil
	})
	register("contains", "<s-(sf):b>", 2, func(ev *evaluator, args []any, ctx callCtx) (any, error) {
		s, ok := arg(args, 0).(string)
		if !ok {
			return Undefined, nil
		}
		switch t := arg(args, 1).(type) {
		case undefinedType:
			return Undefined, nil
		case string:
			return strings.Contains(s, t), nil
		default:
			ms, err := ev.matchAll(t, s, -1)
			if err != nil {
				return nil, err
			}
			return len(ms) > 0, nil
		}
	})
	register("split", "<s-(sf)n?:a<s>>", 3, func(ev *evaluator, args []any, ctx callCtx) (any, error) {
		s, ok := arg(args, 0).(string)
		if !ok {
			return Undefined, nil
		}
		limit := -1
		if l, ok := numArg(args, 2); ok {
			if l < 0 {
				return nil, newErr("D3020", 0, "", l)
			}
			limit = int(math.Min(jsTrunc(l), 1e9))
		}
		result := []any{}
		if limit == 0 {
			return result, nil
		}
		switch sep := arg(args, 1).(type) {
		case string:
			var parts []string
			if sep == "" {
				for _, r := range s {
					parts = append(parts, string(r))
				}
			} else {
				parts = strings.Split(s, sep)
			}
			for _, p := range parts {
				if limit >= 0 && len(result) >= limit {
					break
				}
				result = append(result, p)
			}
		default:
			ms, err := ev.matchAll(sep, s, limit)
			if err != nil {
				return nil, err
			}
			start := 0
			for _, m := range ms {
				result = append(result, s[start:m.start])
				start = m.end
			}
			if limit < 0 || len(ms) < limit {
				result = append(result, s[start:])
			}
		}
		return result, nil
	})
	register("join", "<a<s>s?:s>", 2, func(ev *evaluator, args []any, ctx callCtx) (any, error) {
		items, ok := arrayItems(arg(args, 0))
		if !ok {
			return Undefined, nil
		}
		sep, _ := arg(args, 1).(string)
		parts := make([]string, len(items))
		for i, it := range items {
			parts[i], _ = it.(string)
		}
		return strings.Join(parts, sep), nil
	})
	register("match", "<s-f<s:o>n?:a<o>>", 3, func(ev *evaluator, args []any, ctx callCtx) (any, error) {
		s, ok := arg(args, 0).(string)
		if !ok {
			return Undefined, nil
		}
		limit := -1
		if l, ok := numArg(args, 2); ok {
			if l < 0 {
				return nil, newErr("D3040", 0, "", l)
			}
			limit = int(math.Min(jsTrunc(l), 1e9))
		}
		res := &seq{sequence: true}
		if limit == 0 {
			return res, nil
		}
		ms, err := ev.matchAll(arg(args, 1), s, limit)
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			o := newObject(3)
			o.Set("match", m.match)
			o.Set("index", float64(m.index))
			groups := make([]any, len(m.groups))
			copy(groups, m.groups)
			o.Set("groups", groups)
			res.items = append(res.items, o)
		}
		return res, nil
	})
	register("replace", "<s-(sf)(sf)n?:s>", 4, fnReplace)
	register("eval", "<sx?:x>", 2, func(ev *evaluator, args []any, ctx callCtx) (any, error) {
		src, ok := arg(args, 0).(string)
		if !ok {
			return Undefined, nil
		}
		input := ctx.input
		if f := arg(args, 1); !isUndef(f) {
			input = f
			if a, ok := f.([]any); ok {
				input = &seq{items: []any{a}, sequence: true, outerWrapper: true}
			}
		}
		ast, err := parse(src)
		if err != nil {
			msg := err.Error()
			return nil, newErr("D3120", 0, "", msg)
		}
		env := ctx.env
		if env == nil {
			env = newFrame(nil)
		}
		r, err := ev.eval(ast, input, env)
		if err != nil {
			if e, ok := err.(*Error); ok && (e.Code == "U1001" || e.Code == "U1002") {
				return nil, err
			}
			return nil, newErr("D3121", 0, "", err.Error())
		}
		return r, nil
	})
	register("base64encode", "<s-:s>", 1, func(ev *evaluator, args []any, ctx callCtx) (any, error) {
		s, ok := arg(args, 0).(string)
		if !ok {
			return Undefined, nil
		}
		return base64.StdEncoding.EncodeToString([]byte(s)), nil
	})
	register("base64decode", "<s-:s>", 1, func(ev *evaluator, args []any, ctx callCtx) (any, error) {
		s, ok := arg(args, 0).(string)
		if !ok {
			return Undefined, nil
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			b, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
			if err != nil {
				return Undefined, nil
			}
		}
		return string(b), nil
	})
	register("encodeUrlComponent", "<s-:s>", 1, func(ev *evaluator, args []any, ctx callCtx) (any, error) {
		s, ok := arg(args, 0).(string)
		if !ok {
			return Undefined, nil
		}
		if !utf8.ValidString(s) {
			return nil, newErr("D3140", 0, "encodeUrlComponent", s)
		}
		return uriEncode(s, "-_.!~*'()"), nil
	})
	register("encodeUrl", "<s-:s>", 1, func(ev *evaluator, args []any, ctx callCtx) (any, error) {
		s, ok := arg(args, 0).(string)
		if !ok {
			return Undefined, nil
		}
		if !utf8.ValidString(s) {
			return nil, newErr("D3140", 0, "encodeUrl", s)
		}
		return uriEncode(s, "-_.!~*'();/?:@&=+$,#"), nil
	})
	register("decodeUrlComponent", "<s-:s>", 1, func(ev *evaluator, args []any, ctx callCtx) (any, error) {
		s, ok := arg(args, 0).(string)
		if !ok {
			return Undefined, nil
		}
		r, ok := uriDecode(s, "")
		if !ok {
			return nil, newErr("D3140", 0, "decodeUrlComponent", s)
		}
		return r, nil
	})
	register("decodeUrl", "<s-:s>", 1, func(ev *evaluator, args []any, ctx callCtx) (any, error) {
		s, ok := arg(args, 0).(string)
		if !ok {
			return Undefined, nil
		}
		r, ok := uriDecode(s, ";/?:@&=+$,#")
		if !ok {
			return nil, newErr("D3140", 0, "decodeUrl", s)
		}
		return r, nil
	})
}

var _ = url.QueryEscape

func uriEncode(s, unreserved string) string {
	var sb strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strings.IndexByte(unreserved, c) >= 0 {
			sb.WriteByte(c)
			continue
		}
		sb.WriteByte('%')
		sb.WriteByte("0123456789ABCDEF"[c>>4])
		sb.WriteByte("0123456789ABCDEF"[c&15])
	}
	return sb.String()
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// uriDecode implements decodeURI/decodeURIComponent; reserved lists the
// characters whose escapes are kept as they are.
func uriDecode(s, reserved string) (string, bool) {
	var out []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '%' {
			out = append(out, c)
			continue
		}
		if i+2 >= len(s) {
			return "", false
		}
		h, ok1 := unhex(s[i+1])
		l, ok2 := unhex(s[i+2])
		if !ok1 || !ok2 {
			return "", false
		}
		b := h<<4 | l
		if b < 0x80 && strings.IndexByte(reserved, b) >= 0 {
			out = append(out, s[i:i+3]...)
		} else {
			out = append(out, b)
		}
		i += 2
	}
	if !utf8.Valid(out) {
		return "", false
	}
	return string(out), true
}

func jsTrunc(f float64) float64 {
	if math.IsNaN(f) {
		return 0
	}
	return math.Trunc(f)
}

// sliceRunes implements Array#slice on runes.
func sliceRunes(r []rune, start, end float64) []rune {
	n := float64(len(r))
	if start < 0 {
		start = math.Max(n+start, 0)
	}
	if end < 0 {
		end = math.Max(n+end, 0)
	}
	start = math.Min(start, n)
	end = math.Min(end, n)
	if start >= end {
		return nil
	}
	return r[int(start):int(end)]
}

// toJSString implements $string.
func toJSString(v any, pretty bool) (string, error) {
	if s, ok := v.(string); ok {
		return s, nil
	}
	if isFunction(v) {
		return "", nil
	}
	if f, ok := asNumber(v); ok && (math.IsInf(f, 0) || math.IsNaN(f)) {
		return "", newErr("D3001", 0, "", f)
	}
	if s, ok := v.(*seq); ok && s.outerWrapper && len(s.items) > 0 {
		v = s.items[0]
	}
	return stringify(v, pretty)
}

func registerNumericFunctions() {
	register("number", "<(nsb)-:n>", 1, func(ev *evaluator, args []any, ctx callCtx) (any, error) {
		a := arg(args, 0)
		if isUndef(a) {
			return Undefined, nil
		}
		if f, ok := asNumber(a); ok {
			return f, nil
		}
		switch x := a.(type) {
		case bool:
			if x {
				return 1.0, nil
			}
			return 0.0, nil
		case string:
			if f, ok := parseJSNumber(x); ok {
				return f, nil
			}
		}
		return nil, newErr("D3030", 0, "", a)
	})
	unary := func(name string, f func(float64) float64) {
		register(name, "<n-:n>", 1, func(ev *evaluator, args []any, ctx callCtx) (any, error) {
			x, ok := numArg(args, 0)
			if !ok {
				return Undefined, nil
			}
			return f(x), nil
		})
	}
	unary("abs", math.Abs)
	unary("floor", math.Floor)
	unary("ceil", math.Ceil)
	register("sqrt", "<n-:n>", 1, func(ev *evaluator, args []any, ctx callCtx) (any, error) {
		x, ok := numArg(args, 0)
		if !ok {
			return Undefined, nil
		}
		if x < 0 {
			return nil, newErr("D3060", 0, "sqrt", x)
		}
		return math.Sqrt(x), nil
	})
	register("power", "<n-n:n>", 2, func(ev *evaluator, args []any, ctx callCtx) (any, error) {
		b, ok := numArg(args, 0)
		if !ok {
			return Undefined, nil
		}
		e, _ := numArg(args, 1)
		r := math.Pow(b, e)
		if math.IsInf(r, 0) || math.IsNaN(r) {
			return nil, newErr("D3061", 0, "power", b)
		}
		return r, nil
	})
	register("round", "<n-n?:n>", 2, func(ev *evaluator, args []any, ctx callCtx) (any, error) {
		x, ok := numArg(args, 0)
		if !ok {
			return Undefined, nil
		}
		p, _ := numArg(args, 1)
		return roundHalfEven(x, int(p)), nil
	})
	register("random", "<:n>", 0, func(ev *evaluator, args []any, ctx callCtx) (any, error) {
		return rand.Float64(), nil
	})
	register("sum", "<a<n>:n>", 1, func(ev *evaluator, args []any, ctx callCtx) (any, error) {
		items, ok := arrayItems(arg(args, 0))
		if !ok {
			return Undefined, nil
		}
		total := 0.0
		for _, it := range items {
			f, _ := asNumber(it)
			total += f
		}
		return total, nil
	})
	register("count", "<a:n>", 1, func(ev *evaluator, args []any, ctx callCtx) (any, error) {
		items, ok := arrayItems(arg(args, 0))
		if !ok {
			return 0.0, nil
		}
		return float64(len(items)), nil
	})
	minmax := func(name string, better func(a, b float64) bool) {
		register(name, "<a<n>:n>", 1, func(ev *evaluator, args []any, ctx callCtx) (any, error) {
			items, ok := arrayItems(arg(args, 0))
			if !ok || len(items) == 0 {
				return Undefined, nil
			}
			best, _ := asNumber(items[0])
			for _, it := range items[1:] {
				f, _ := asNumber(it)
				if better(f, best) {
					best = f
				}
			}
			return best, nil
		})
	}
	minmax("max", func(a, b float64) bool { return a > b })
	minmax("min", func(a, b float64) bool { return a < b })
	register("average", "<a<n>:n>", 1, func(ev *evaluator, args []any, ctx callCtx) (any, error) {
		items, ok := arrayItems(arg(args, 0))
		if !ok || len(items) == 0 {
			return Undefined, nil
		}
		total := 0.0
		for _, it := range items {
			f, _ := asNumber(it)
			total += f
		}
		return total / float64(len(items)), nil
	})
	register("formatNumber", "<n-so?:s>", 3, fnFormatNumber)
	register("formatBase", "<n-n?:s>", 2, func(ev *evaluator, args []any, ctx callCtx) (any, error) {
		x, ok := numArg(args, 0)
		if !ok {
			return Undefined, nil
		}
		x = roundHalfEven(x, 0)
		radix := 10.0
		if r, ok := numArg(args, 1); ok {
			radix = r
		}
		if radix < 2 || radix > 36 {
			return nil, newErr("D3100", 0, "", radix)
		}
		return formatRadix(x, int(radix)), nil
	})
	register("formatInteger", "<n-s:s>", 2, fnFormatInteger)
	register("parseInteger", "<s-s:n>", 2, fnParseInteger)
}

func formatRadix(x float64, radix int) string {
	if math.IsInf(x, 0) || math.IsNaN(x) {
		return formatNumber(x)
	}
	if math.Abs(x) < 1<<62 {
		return strconv.FormatInt(int64(x), radix)
	}
	neg := x < 0
	x = math.Abs(x)
	var digits []byte
	for x >= 1 {
		d := math.Mod(x, float64(radix))
		digits = append(digits, "0123456789abcdefghijklmnopqrstuvwxyz"[int(d)])
		x = math.Floor(x / float64(radix))
	}
	for i, j := 0, len(digits)-1; i < j; i, j = i+1, j-1 {
		digits[i], digits[j] = digits[j], digits[i]
	}
	if neg {
		return "-" + string(digits)
	}
	return string(digits)
}

// parseJSNumber implements the string branch of $number.
func parseJSNumber(s string) (float64, bool) {
	if len(s) > 2 && s[0] == '0' {
		base := 0
		switch s[1] {
		case 'x', 'X':
			base = 16
		case 'o', 'O':
			base = 8
		case 'b', 'B':
			base = 2
		}
		if base != 0 {
			n, err := strconv.ParseUint(s[2:], base, 64)
			if err != nil {
				return 0, false
			}
			return float64(n), true
		}
	}
	// JSON number grammar (leading zeros allowed as in the reference)
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	ds := i
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == ds {
		return 0, false
	}
	if i < len(s) && s[i] == '.' {
		i++
		fs := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == fs {
			return 0, false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		es := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == es {
			return 0, false
		}
	}
	if i != len(s) {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// roundHalfEven rounds to the given number of decimal places using
// banker's rounding, shifting the decimal point textually as the reference
// implementation does.
func roundHalfEven(x float64, precision int) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return x
	}
	v := x
	if precision != 0 {
		v = shiftDecimal(x, precision)
	}
	r := math.Floor(v + 0.5)
	if math.Abs(r-v) == 0.5 && math.Abs(math.Mod(r, 2)) == 1 {
		r--
	}
	if precision != 0 {
		r = shiftDecimal(r, -precision)
	}
	if r == 0 {
		r = 0 // no negative zero
	}
	return r
}

func shiftDecimal(x float64, by int) float64 {
	s := formatNumber(x)
	mant, exp, _ := strings.Cut(s, "e")
	e := 0
	if exp != "" {
		e, _ = strconv.Atoi(exp)
	}
	f, err := strconv.ParseFloat(mant+"e"+strconv.Itoa(e+by), 64)
	if err != nil {
		return x * math.Pow(10, float64(by))
	}
	return f
}

func registerArrayFunctions() {
	register("append", "<xx:a>", 2, func(ev *evaluator, args []any, ctx callCtx) (any, error) {
		return appendValues(arg(args, 0), arg(args, 1)), nil
	})
	register("sort", "<af?:a>", 2, fnSort)
	register("reverse", "<a:a>", 1, func(ev *evaluator, args []any, ctx callCtx) (any, error) {
		a := arg(args, 0)
		items, ok := arrayItems(a)
		if !ok {
			return Undefined, nil
		}
		if len(items) <= 1 {
			return a, nil
		}
		out := make([]any, len(items))
		for i, it := range items {
			out[len(items)-1-i] = it
		}
		return out, nil
	})
	register("shuffle", "<a:a>", 1, func(ev *evaluator, args []any, ctx callCtx) (any, error) {
		a := arg(args, 0)
		items, ok := arrayItems(a)
		if !ok {
			return Undefined, nil
		}
		if len(items) <= 1 {
			return a, nil
		}
		out := append([]any(nil), items...)
		rand.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
		return out, nil
	})
	register("distinct", "<x:x>", 1, func(ev *evaluator, args []any, ctx callCtx) (any, error) {
		a := arg(args, 0)
		items, ok := arrayItems(a)
		if !ok || len(items) <= 1 {
			return a, nil
		}
		var out []any
		for _, it := range items {
			dup := false
			for _, o := range out {
				if deepEqual(it, o) {
					dup = true
					break
				}
			}
			if !dup {
				out = append(out, it)
			}
		}
		if isSequence(a) {
			return &seq{items: out, sequence: true}, nil
		}
		return out, nil
	})
	register("zip", "<a+>", 1, func(ev *evaluator, args []any, ctx callCtx) (any, error) {
		minLen := -1
		for _, a := range args {
			items, ok := arrayItems(a)
			l := len(items)
			if !ok {
				l = 0
			}
			if minLen < 0 || l < minLen {
				minLen = l
			}
		}
		out := []any{}
		for i := 0; i < minLen; i++ {
			t := make([]any, len(args))
			for j, a := range args {
				items, _ := arrayItems(a)
				t[j] = items[i]
			}
			out = append(out, t)
		}
		return out, nil
	})
	register("map", "<af>", 2, func(ev *evaluator, args []any, ctx callCtx) (any, error) {
		a := arg(args, 0)
		items, ok := arrayItems(a)
		if !ok {
			return Undefined, nil
		}
		h := newHOFCaller(ev, arg(args, 1))
		res := &seq{sequence: true, items: make([]any, 0, len(items))}
		for i, it := range items {
			r, err := h.call(it, func() any { return float64(i) }, a)
			if err != nil {
				return nil, err
			}
			if !isUndef(r) {
				res.items = append(res.items, r)
			}
		}
		return res, nil
	})
	register("filter", "<af>", 2, func(ev *evaluator, args []any, ctx callCtx) (any, error) {
		a := arg(args, 0)
		items, ok := arrayItems(a)
		if !ok {
			return Undefined, nil
		}
		h := newHOFCaller(ev, arg(args, 1))
		res := &seq{sequence: true}
		for i, it := range items {
			r, err := h.call(it, func() any { return float64(i) }, a)
			if err != nil {
				return nil, err
			}
			if toBoolean(r) {
				res.items = append(res.items, it)
			}
		}
		return res, nil
	})
	register("single", "<af?>", 2, func(ev *evaluator, args []any, ctx callCtx) (any, error) {
		a := arg(args, 0)
		items, ok := arrayItems(a)
		if !ok {
			return Undefined, nil
		}
		f := arg(args, 1)
		found := false
		var result any = Undefined
		for i, it := range items {
			pos := true
			if !isUndef(f) {
				r, err := ev.callHOF(f, it, float64(i), a)
				if err != nil {
					return nil, err
				}
				pos = toBoolean(r)
			}
			if pos {
				if found {
					return nil, newErr("D3138", 0, "single", nil)
				}
				found = true
				result = it
			}
		}
		if !found {
			return nil, newErr("D3139", 0, "single", nil)
		}
		return result, nil
	})
	register("reduce", "<afj?:j>", 3, func(ev *evaluator, args []any, ctx callCtx) (any, error) {
		a := arg(args, 0)
		items, ok := arrayItems(a)
		if !ok {
			return Undefined, nil
		}
		f := arg(args, 1)
		ar := fnArity(f)
		if ar < 2 {
			return nil, newErr("D3050", 0, "reduce", 1.0)
		}
		init := arg(args, 2)
		var result any
		idx := 0
		if isUndef(init) && len(items) > 0 {
			result = items[0]
			idx = 1
		} else {
			result = init
		}
		for ; idx < len(items); idx++ {
			cargs := []any{result, items[idx]}
			if ar >= 3 {
				cargs = append(cargs, float64(idx))
			}
			if ar >= 4 {
				cargs = append(cargs, a)
			}
			r, err := ev.apply(f, cargs, nil, nil)
			if err != nil {
				return nil, err
			}
			result = r
		}
		return result, nil
	})
}

func fnSort(ev *evaluator, args []any, ctx callCtx) (any, error) {
	a := arg(args, 0)
	items, ok := arrayItems(a)
	if !ok {
		return Undefined, nil
	}
	if len(items) <= 1 {
		return a, nil
	}
	f := arg(args, 1)
	var swap func(x, y any) (bool, error)
	if isUndef(f) {
		allNum, allStr := true, true
		for _, it := range items {
			if !isNumber(it) {
				allNum = false
			}
			if !isString(it) {
				allStr = false
			}
		}
		if !allNum && !allStr {
			return nil, newErr("D3070", 0, "sort", nil)
		}
		swap = func(x, y any) (bool, error) {
			if allNum {
				xf, _ := asNumber(x)
				yf, _ := asNumber(y)
				return xf > yf, nil
			}
			return compareStrings(x.(string), y.(string)) > 0, nil
		}
	} else {
		swap = func(x, y any) (bool, error) {
			r, err := ev.apply(f, []any{x, y}, nil, nil)
			if err != nil {
				return false, err
			}
			return toBoolean(r), nil
		}
	}
	idx := make([]int, len(items))
	for i := range idx {
		idx[i] = i
	}
	var serr error
	sorted := mergeSortIdx(idx, func(i, j int) bool {
		if serr != nil {
			return false
		}
		r, err := swap(items[i], items[j])
		if err != nil {
			serr = err
		}
		return r
	})
	if serr != nil {
		return nil, serr
	}
	out := make([]any, len(sorted))
	for i, k := range sorted {
		out[i] = items[k]
	}
	return out, nil
}

func registerObjectFunctions() {
	register("keys", "<x-:a<s>>", 1, func(ev *evaluator, args []any, ctx callCtx) (any, error) {
		return keysOf(arg(args, 0)), nil
	})
	register("lookup", "<x-s:x>", 2, func(ev *evaluator, args []any, ctx callCtx) (any, error) {
		k, _ := arg(args, 1).(string)
		return lookupField(arg(args, 0), k), nil
	})
	register("spread", "<x-:a<o>>", 1, func(ev *evaluator, args []any, ctx callCtx) (any, error) {
		return spread(arg(args, 0)), nil
	})
	register("merge", "<a<o>:o>", 1, func(ev *evaluator, args []any, ctx callCtx) (any, error) {
		items, ok := arrayItems(arg(args, 0))
		if !ok {
			return Undefined, nil
		}
		res := newObject(8)
		for _, it := range items {
			for _, k := range objKeys(it) {
				v, _ := objGet(it, k)
				res.Set(k, v)
			}
		}
		return res, nil
	})
	register("each", "<o-f:a>", 2, func(ev *evaluator, args []any, ctx callCtx) (any, error) {
		o := arg(args, 0)
		if !isObject(o) {
			return Undefined, nil
		}
		f := arg(args, 1)
		res := &seq{sequence: true}
		for _, k := range objKeys(o) {
			v, _ := objGet(o, k)
			r, err := ev.callHOF(f, v, k, o)
			if err != nil {
				return nil, err
			}
			if !isUndef(r) {
				res.items = append(res.items, r)
			}
		}
		return res, nil
	})
	register("sift", "<o-f?:o>", 2, func(ev *evaluator, args []any, ctx callCtx) (any, error) {
		o := arg(args, 0)
		if !isObject(o) {
			return Undefined, nil
		}
		f := arg(args, 1)
		res := newObject(4)
		for _, k := range objKeys(o) {
			v, _ := objGet(o, k)
			r, err := ev.callHOF(f, v, k, o)
			if err != nil {
				return nil, err
			}
			if toBoolean(r) {
				res.Set(k, v)
			}
		}
		if res.Len() == 0 {
			return Undefined, nil
		}
		return res, nil
	})
	register("error", "<s?:x>", 1, func(ev *evaluator, args []any, ctx callCtx) (any, error) {
		msg, ok := arg(args, 0).(string)
		if !ok || msg == "" {
			msg = "$error() function evaluated"
		}
		e := newErr("D3137", 0, "error", msg)
		e.Message = msg
		return nil, e
	})
	register("assert", "<bs?:x>", 2, func(ev *evaluator, args []any, ctx callCtx) (any, error) {
		c, _ := arg(args, 0).(bool)
		if !c {
			msg, ok := arg(args, 1).(string)
			if !ok || msg == "" {
				msg = "$assert() statement failed"
			}
			e := newErr("D3141", 0, "assert", msg)
			e.Message = msg
			return nil, e
		}
		return Undefined, nil
	})
	register("type", "<x:s>", 1, func(ev *evaluator, args []any, ctx callCtx) (any, error) {
		a := arg(args, 0)
		switch typeSymbol(a) {
		case 'm':
			return Undefined, nil
		case 'l':
			return "null", nil
		case 'n':
			return "number", nil
		case 's':
			return "string", nil
		case 'b':
			return "boolean", nil
		case 'a':
			return "array", nil
		case 'f':
			return "function", nil
		}
		return "object", nil
	})
	register("boolean", "<x-:b>", 1, func(ev *evaluator, args []any, ctx callCtx) (any, error) {
		a := arg(args, 0)
		if isUndef(a) {
			return Undefined, nil
		}
		return toBoolean(a), nil
	})
	register("not", "<x-:b>", 1, func(ev *evaluator, args []any, ctx callCtx) (any, error) {
		a := arg(args, 0)
		if isUndef(a) {
			return Undefined, nil
		}
		return !toBoolean(a), nil
	})
	register("exists", "<x:b>", 1, func(ev *evaluator, args []any, ctx callCtx) (any, error) {
		return !isUndef(arg(args, 0)), nil
	})
	register("clone", "<(oa)-:o>", 1, func(ev *evaluator, args []any, ctx callCtx) (any, error) {
		a := arg(args, 0)
		if isUndef(a) {
			return Undefined, nil
		}
		return deepClone(a), nil
	})
}

func keysOf(a any) any { return keysOfD(a, 0) }

func keysOfD(a any, d int) any {
	checkValueDepth(d)
	res := &seq{sequence: true}
	if items, ok := arrayItems(a); ok {
		seen := map[string]bool{}
		for _, it := range items {
			ks, _ := arrayItems(keysOfD(it, d+1))
			for _, k := range ks {
				s := k.(string)
				if !seen[s] {
					seen[s] = true
					res.items = append(res.items, s)
				}
			}
		}
		return res
	}
	if isObject(a) {
		for _, k := range objKeys(a) {
			res.items = append(res.items, k)
		}
	}
	return res
}

func spread(a any) any { return spreadD(a, 0) }

func spreadD(a any, d int) any {
	checkValueDepth(d)
	if items, ok := arrayItems(a); ok {
		var res any = &seq{sequence: true}
		for _, it := range items {
			res = appendValues(res, spreadD(it, d+1))
		}
		return res
	}
	if isObject(a) {
		res := &seq{sequence: true}
		for _, k := range objKeys(a) {
			v, _ := objGet(a, k)
			o := newObject(1)
			o.Set(k, v)
			res.items = append(res.items, o)
		}
		return res
	}
	return a
}
