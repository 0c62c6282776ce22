package jsonata

import (
	"encoding/json"
	"math"
	"sort"
	"strconv"
	"strings"
)

type undefinedType struct{}

// Undefined is the value Eval returns when an expression yields nothing
// (JSONata's undefined, as opposed to JSON null which is Go nil). Compare
// with ==. It is never nested inside a returned object or array.
var Undefined any = undefinedType{}

func isUndef(v any) bool {
	_, ok := v.(undefinedType)
	return ok
}

// Object is a JSON object that keeps its keys in insertion order, as
// JavaScript objects do. ParseJSON produces it and the evaluator creates it;
// Eval converts it back to map[string]any at the output boundary.
type Object struct {
	keys []string
	vals map[string]any
}

func newObject(n int) *Object {
	return &Object{keys: make([]string, 0, n), vals: make(map[string]any, n)}
}

// Keys returns the keys in insertion order.
func (o *Object) Keys() []string { return o.keys }

// Get returns the value stored under key.
func (o *Object) Get(key string) (any, bool) {
	v, ok := o.vals[key]
	return v, ok
}

// Set stores a value under key, appending the key if it is new.
func (o *Object) Set(key string, v any) {
	if _, ok := o.vals[key]; !ok {
		if idx, isIdx := arrayIndexKey(key); isIdx {
			// JavaScript orders integer-like keys first, ascending
			pos := 0
			for pos < len(o.keys) {
				k2, ok2 := arrayIndexKey(o.keys[pos])
				if !ok2 || k2 > idx {
					break
				}
				pos++
			}
			o.keys = append(o.keys, "")
			copy(o.keys[pos+1:], o.keys[pos:])
			o.keys[pos] = key
		} else {
			o.keys = append(o.keys, key)
		}
	}
	o.vals[key] = v
}

// arrayIndexKey reports whether key is a canonical array index ("0", "17").
func arrayIndexKey(key string) (uint64, bool) {
	if key == "" || len(key) > 10 || (len(key) > 1 && key[0] == '0') {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(key); i++ {
		c := key[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, n < 4294967295
}

// Delete removes key.
func (o *Object) Delete(key string) {
	if _, ok := o.vals[key]; !ok {
		return
	}
	delete(o.vals, key)
	for i, k := range o.keys {
		if k == key {
			o.keys = append(o.keys[:i:i], o.keys[i+1:]...)
			break
		}
	}
}

// MarshalJSON encodes the object with its keys in order, rendering numbers
// as $string does (15 significant digits for non-integers).
func (o *Object) MarshalJSON() ([]byte, error) {
	var sb strings.Builder
	if err := writeJSON(&sb, o, false, 0); err != nil {
		return nil, err
	}
	return []byte(sb.String()), nil
}

// Len returns the number of keys.
func (o *Object) Len() int { return len(o.keys) }

// seq is an array carrying JSONata's internal flags. Plain input arrays are
// []any; both are arrays for every purpose.
type seq struct {
	items         []any
	sequence      bool
	cons          bool
	keepSingleton bool
	outerWrapper  bool
	tupleStream   bool
}

// tuple is one element of a tuple stream: "@" holds the context value, other
// keys hold variable bindings.
type tuple map[string]any

func arrayItems(v any) ([]any, bool) {
	switch a := v.(type) {
	case []any:
		return a, true
	case *seq:
		return a.items, true
	}
	return nil, false
}

func isArray(v any) bool {
	switch v.(type) {
	case []any, *seq:
		return true
	}
	return false
}

func isSequence(v any) bool {
	s, ok := v.(*seq)
	return ok && s.sequence
}

func isObject(v any) bool {
	switch v.(type) {
	case map[string]any, *Object:
		return true
	}
	return false
}

func objGet(v any, key string) (any, bool) {
	switch o := v.(type) {
	case *Object:
		r, ok := o.vals[key]
		return r, ok
	case map[string]any:
		r, ok := o[key]
		return r, ok
	}
	return nil, false
}

func objKeys(v any) []string {
	switch o := v.(type) {
	case *Object:
		return o.keys
	case map[string]any:
		keys := make([]string, 0, len(o))
		for k := range o {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		return keys
	}
	return nil
}

func objLen(v any) int {
	switch o := v.(type) {
	case *Object:
		return len(o.keys)
	case map[string]any:
		return len(o)
	}
	return 0
}

// asNumber reports whether v is a JSON number and returns its value.
func asNumber(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case json.Number:
		f, err := strconv.ParseFloat(string(n), 64)
		if err != nil {
			return math.NaN(), true
		}
		return f, true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case float32:
		return float64(n), true
	case int32:
		return float64(n), true
	case uint64:
		return float64(n), true
	case uint:
		return float64(n), true
	}
	return 0, false
}

func isNumber(v any) bool {
	_, ok := asNumber(v)
	return ok
}

func isInteger(f float64) bool {
	return !math.IsInf(f, 0) && !math.IsNaN(f) && f == math.Trunc(f)
}

func isFunction(v any) bool {
	switch v.(type) {
	case *lambdaFn, *builtinFn, *partialFn, Func, *Func, *regexFn, *nativeClosure, *transformFn:
		return true
	}
	return false
}

// typeSymbol returns the signature symbol of a value.
func typeSymbol(v any) byte {
	if isFunction(v) {
		return 'f'
	}
	switch v.(type) {
	case undefinedType:
		return 'm'
	case string:
		return 's'
	case bool:
		return 'b'
	case nil:
		return 'l'
	case []any, *seq:
		return 'a'
	case map[string]any, *Object:
		return 'o'
	}
	if isNumber(v) {
		return 'n'
	}
	return 'm'
}

// toBoolean implements JSONata's $boolean casting rules.
func toBoolean(v any) bool {
	switch x := v.(type) {
	case undefinedType, nil:
		return false
	case bool:
		return x
	case string:
		return x != ""
	case []any, *seq:
		items, _ := arrayItems(v)
		if len(items) == 1 {
			return toBoolean(items[0])
		}
		for _, it := range items {
			if toBoolean(it) {
				return true
			}
		}
		return false
	case map[string]any, *Object:
		return objLen(v) > 0
	}
	if f, ok := asNumber(v); ok {
		return f != 0 && !math.IsNaN(f)
	}
	return false
}

// formatNumber renders a float64 the way JavaScript's Number#toString does.
func formatNumber(f float64) string {
	if math.IsNaN(f) {
		return "NaN"
	}
	if math.IsInf(f, 1) {
		return "Infinity"
	}
	if math.IsInf(f, -1) {
		return "-Infinity"
	}
	if f == 0 {
		return "0"
	}
	if f == math.Trunc(f) && math.Abs(f) < 1e21 {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // d.ddddde±XX
	neg := false
	if e[0] == '-' {
		neg = true
		e = e[1:]
	}
	mant, expStr, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expStr)
	digits := strings.Replace(mant, ".", "", 1)
	var out string
	if exp >= -6 && exp < 21 {
		if exp >= 0 {
			if len(digits) <= exp+1 {
				out = digits + strings.Repeat("0", exp+1-len(digits))
			} else {
				out = digits[:exp+1] + "." + digits[exp+1:]
			}
		} else {
			out = "0." + strings.Repeat("0", -exp-1) + digits
		}
	} else {
		out = digits[:1]
		if len(digits) > 1 {
			out += "." + digits[1:]
		}
		if exp >= 0 {
			out += "e+" + strconv.Itoa(exp)
		} else {
			out += "e-" + strconv.Itoa(-exp)
		}
	}
	if neg {
		out = "-" + out
	}
	return out
}

// precision15 rounds a number to 15 significant digits as $string does.
func precision15(f float64) float64 {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return f
	}
	r, err := strconv.ParseFloat(strconv.FormatFloat(f, 'g', 15, 64), 64)
	if err != nil {
		return f
	}
	return r
}

// deepEqual compares two JSONata values structurally.
func deepEqual(a, b any) bool { return deepEqualD(a, b, 0) }

func deepEqualD(a, b any, d int) bool {
	checkValueDepth(d)
	if an, ok := asNumber(a); ok {
		bn, ok := asNumber(b)
		return ok && an == bn
	}
	switch x := a.(type) {
	case undefinedType:
		return isUndef(b)
	case nil:
		return b == nil
	case string:
		y, ok := b.(string)
		return ok && x == y
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case []any, *seq:
		ai, _ := arrayItems(a)
		bi, ok := arrayItems(b)
		if !ok || len(ai) != len(bi) {
			return false
		}
		for i := range ai {
			if !deepEqualD(ai[i], bi[i], d+1) {
				return false
			}
		}
		return true
	case map[string]any, *Object:
		if !isObject(b) || objLen(a) != objLen(b) {
			return false
		}
		for _, k := range objKeys(a) {
			av, _ := objGet(a, k)
			bv, ok := objGet(b, k)
			if !ok || !deepEqualD(av, bv, d+1) {
				return false
			}
		}
		return true
	}
	return false
}

// stringify renders a value as JSON the way JSONata's $string does
// (numbers to 15 significant digits, functions as "").
func stringify(v any, pretty bool) (string, error) {
	var sb strings.Builder
	if err := writeJSON(&sb, v, pretty, 0); err != nil {
		return "", err
	}
	return sb.String(), nil
}

func writeIndent(sb *strings.Builder, pretty bool, level int) {
	if pretty {
		sb.WriteByte('\n')
		for i := 0; i < level; i++ {
			sb.WriteString("  ")
		}
	}
}

func writeJSONString(sb *strings.Builder, s string) {
	sb.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			sb.WriteString(`\"`)
		case '\\':
			sb.WriteString(`\\`)
		case '\n':
			sb.WriteString(`\n`)
		case '\r':
			sb.WriteString(`\r`)
		case '\t':
			sb.WriteString(`\t`)
		case '\b':
			sb.WriteString(`\b`)
		case '\f':
			sb.WriteString(`\f`)
		default:
			if r < 0x20 {
				sb.WriteString(`\u00`)
				sb.WriteByte("0123456789abcdef"[r>>4])
				sb.WriteByte("0123456789abcdef"[r&0xF])
			} else {
				sb.WriteRune(r)
			}
		}
	}
	sb.WriteByte('"')
}

func writeJSON(sb *strings.Builder, v any, pretty bool, level int) error {
	checkValueDepth(level)
	if isFunction(v) {
		sb.WriteString(`""`)
		return nil
	}
	if f, ok := asNumber(v); ok {
		if math.IsInf(f, 0) || math.IsNaN(f) {
			return newErr("D1001", 0, "", f)
		}
		if f != math.Trunc(f) {
			f = precision15(f)
		}
		sb.WriteString(formatNumber(f))
		return nil
	}
	switch x := v.(type) {
	case nil, undefinedType:
		sb.WriteString("null")
	case string:
		writeJSONString(sb, x)
	case bool:
		if x {
			sb.WriteString("true")
		} else {
			sb.WriteString("false")
		}
	case []any, *seq:
		items, _ := arrayItems(v)
		if len(items) == 0 {
			sb.WriteString("[]")
			return nil
		}
		sb.WriteByte('[')
		for i, it := range items {
			if i > 0 {
				sb.WriteByte(',')
			}
			writeIndent(sb, pretty, level+1)
			if err := writeJSON(sb, it, pretty, level+1); err != nil {
				return err
			}
		}
		writeIndent(sb, pretty, level)
		sb.WriteByte(']')
	case map[string]any, *Object:
		keys := objKeys(v)
		first := true
		sb.WriteByte('{')
		for _, k := range keys {
			val, _ := objGet(v, k)
			if isUndef(val) {
				continue
			}
			if !first {
				sb.WriteByte(',')
			}
			first = false
			writeIndent(sb, pretty, level+1)
			writeJSONString(sb, k)
			sb.WriteByte(':')
			if pretty {
				sb.WriteByte(' ')
			}
			if err := writeJSON(sb, val, pretty, level+1); err != nil {
				return err
			}
		}
		if !first {
			writeIndent(sb, pretty, level)
		}
		sb.WriteByte('}')
	case tuple:
		sb.WriteString("{}")
	default:
		sb.WriteString("null")
	}
	return nil
}

// maxValueDepth bounds the nesting of values walked recursively, so that a
// value built iteratively (e.g. by $reduce) cannot exhaust the Go stack.
const maxValueDepth = 10000

type valueTooDeep struct{}

// nonFiniteOutput reports an Infinity or NaN reaching the output, which
// JSON cannot represent.
type nonFiniteOutput struct{ f float64 }

func checkValueDepth(d int) {
	if d > maxValueDepth {
		panic(valueTooDeep{})
	}
}

// toOutput converts an internal value to plain Go JSON values.
func toOutput(v any) any { return toOutputD(v, 0) }

func toOutputD(v any, d int) any {
	checkValueDepth(d)
	if f, ok := asNumber(v); ok {
		if math.IsInf(f, 0) || math.IsNaN(f) {
			panic(nonFiniteOutput{f})
		}
		return f
	}
	switch x := v.(type) {
	case nil, string, bool, undefinedType:
		return v
	case []any, *seq:
		items, _ := arrayItems(v)
		out := make([]any, 0, len(items))
		for _, it := range items {
			if isUndef(it) {
				continue
			}
			out = append(out, toOutputD(it, d+1))
		}
		return out
	case *Object:
		m := make(map[string]any, len(x.keys))
		for _, k := range x.keys {
			val := x.vals[k]
			if isUndef(val) {
				continue
			}
			m[k] = toOutputD(val, d+1)
		}
		return m
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, val := range x {
			if isUndef(val) {
				continue
			}
			m[k] = toOutputD(val, d+1)
		}
		return m
	}
	if isFunction(v) {
		return ""
	}
	return nil
}
