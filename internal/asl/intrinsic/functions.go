package intrinsic

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"hash"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Limits Step Functions documents for intrinsic functions.
const (
	// MaxArrayRange is the most items States.ArrayRange may produce.
	MaxArrayRange = 1000
	// MaxEncodeInput is the most characters States.Base64Encode,
	// States.Base64Decode and States.Hash accept.
	MaxEncodeInput = 10000
)

// argKind is what a parameter accepts, for checking literal arguments at
// parse time.
type argKind uint8

const (
	kAny argKind = iota
	kString
	kInt // a number, rounded to an integer as Java's Math.round
	kArray
	kObject
	kBool
)

func (k argKind) String() string {
	switch k {
	case kString:
		return "a string"
	case kInt:
		return "an integer"
	case kArray:
		return "an array"
	case kObject:
		return "a JSON object"
	case kBool:
		return "a boolean"
	}
	return "a value"
}

type function struct {
	name     string
	min, max int // argument counts; max < 0 means no limit
	kinds    []argKind
	impl     func(n *node, args []any) (any, error)
	extra    func(p *parser, n *node) error // further parse-time checks
}

var functions map[string]*function

func init() {
	list := []*function{
		{name: "States.Format", min: 1, max: -1, kinds: []argKind{kString}, impl: fnFormat, extra: checkFormat},
		{name: "States.StringToJson", min: 1, max: 1, kinds: []argKind{kString}, impl: fnStringToJSON},
		{name: "States.JsonToString", min: 1, max: 1, impl: fnJSONToString},
		{name: "States.Array", min: 0, max: -1, impl: fnArray},
		{name: "States.ArrayPartition", min: 2, max: 2, kinds: []argKind{kArray, kInt}, impl: fnArrayPartition},
		{name: "States.ArrayContains", min: 2, max: 2, kinds: []argKind{kArray, kAny}, impl: fnArrayContains},
		{name: "States.ArrayRange", min: 3, max: 3, kinds: []argKind{kInt, kInt, kInt}, impl: fnArrayRange},
		{name: "States.ArrayGetItem", min: 2, max: 2, kinds: []argKind{kArray, kInt}, impl: fnArrayGetItem},
		{name: "States.ArrayLength", min: 1, max: 1, kinds: []argKind{kArray}, impl: fnArrayLength},
		{name: "States.ArrayUnique", min: 1, max: 1, kinds: []argKind{kArray}, impl: fnArrayUnique},
		{name: "States.Base64Encode", min: 1, max: 1, kinds: []argKind{kString}, impl: fnBase64Encode},
		{name: "States.Base64Decode", min: 1, max: 1, kinds: []argKind{kString}, impl: fnBase64Decode},
		{name: "States.Hash", min: 2, max: 2, kinds: []argKind{kAny, kString}, impl: fnHash, extra: checkHash},
		{name: "States.JsonMerge", min: 3, max: 3, kinds: []argKind{kObject, kObject, kBool}, impl: fnJSONMerge, extra: checkJSONMerge},
		{name: "States.MathRandom", min: 2, max: 3, kinds: []argKind{kInt, kInt, kInt}, impl: fnMathRandom},
		{name: "States.MathAdd", min: 2, max: 2, kinds: []argKind{kInt, kInt}, impl: fnMathAdd},
		{name: "States.StringSplit", min: 2, max: 2, kinds: []argKind{kString, kString}, impl: fnStringSplit},
		{name: "States.UUID", min: 0, max: 0, impl: fnUUID},
	}
	functions = make(map[string]*function, len(list))
	for _, f := range list {
		functions[f.name] = f
	}
}

// check validates a parsed call's arguments as far as parse time allows.
func (f *function) check(p *parser, n *node) error {
	got := len(n.args)
	if got < f.min || (f.max >= 0 && got > f.max) {
		var want string
		switch {
		case f.max < 0:
			want = "at least " + strconv.Itoa(f.min)
		case f.min == f.max:
			want = strconv.Itoa(f.min)
		default:
			want = strconv.Itoa(f.min) + " to " + strconv.Itoa(f.max)
		}
		return p.fail(n.off, "%s takes %s argument(s), got %d", f.name, want, got)
	}
	for i, a := range n.args {
		if i >= len(f.kinds) {
			break
		}
		k := f.kinds[i]
		var ok bool
		switch a.kind {
		case litNode:
			ok = literalFits(a.lit, k)
		case callNode:
			ok = resultFits(a.fn.name, k)
		default:
			ok = true
		}
		if !ok {
			return p.fail(a.off, "argument %d of %s must be %s, got %s", i+1, f.name, k, a.text)
		}
	}
	if f.extra != nil {
		return f.extra(p, n)
	}
	return nil
}

func literalFits(v any, k argKind) bool {
	switch k {
	case kString:
		_, ok := v.(string)
		return ok
	case kInt:
		_, ok := toInt(v)
		return ok
	case kArray, kObject:
		return false // literals are never arrays or objects
	case kBool:
		_, ok := v.(bool)
		return ok
	}
	return true
}

// results says what each function returns, for checking nested calls.
var results = map[string]argKind{
	"States.Format": kString, "States.JsonToString": kString, "States.Array": kArray,
	"States.ArrayPartition": kArray, "States.ArrayContains": kBool, "States.ArrayRange": kArray,
	"States.ArrayLength": kInt, "States.ArrayUnique": kArray, "States.Base64Encode": kString,
	"States.Base64Decode": kString, "States.Hash": kString, "States.JsonMerge": kObject,
	"States.MathRandom": kInt, "States.MathAdd": kInt, "States.StringSplit": kArray, "States.UUID": kString,
}

func resultFits(fn string, k argKind) bool {
	r, known := results[fn]
	return !known || k == kAny || r == k
}

func checkFormat(p *parser, n *node) error {
	t := n.args[0]
	if t.kind != litNode || t.tmpl == nil {
		return nil
	}
	if want := len(t.tmpl) - 1; want != len(n.args)-1 {
		return p.fail(n.off, "the number of arguments for States.Format (%d) does not match the number of placeholders {} in the format string (%d)", len(n.args)-1, want)
	}
	return nil
}

func checkHash(p *parser, n *node) error {
	a := n.args[1]
	if a.kind != litNode {
		return nil
	}
	if _, ok := hashes[a.lit.(string)]; !ok {
		return p.fail(a.off, "%s", hashAlgorithmMessage(a.lit.(string)))
	}
	return nil
}

func checkJSONMerge(p *parser, n *node) error {
	a := n.args[2]
	if a.kind == litNode && a.lit == true {
		return p.fail(a.off, "%s", deepMergeMessage)
	}
	return nil
}

const deepMergeMessage = "Currently, Step Functions only supports the shallow merging mode; therefore, you must specify the boolean value as false."

func hashAlgorithmMessage(alg string) string {
	return "The hash algorithm '" + alg + "' is not supported. Supported algorithms: MD5, SHA-1, SHA-256, SHA-384, SHA-512"
}

// toInt converts a number to an int as Step Functions does for integer
// parameters: Java's Math.round (halves round up), within 32 bits.
func toInt(v any) (int, bool) {
	var f float64
	switch t := v.(type) {
	case json.Number:
		if i, err := strconv.ParseInt(string(t), 10, 64); err == nil {
			if i < math.MinInt32 || i > math.MaxInt32 {
				return 0, false
			}
			return int(i), true
		}
		x, err := strconv.ParseFloat(string(t), 64)
		if err != nil {
			return 0, false
		}
		f = x
	case float64:
		f = t
	case float32:
		f = float64(t)
	case int:
		f = float64(t)
	case int64:
		f = float64(t)
	case int32:
		return int(t), true
	default:
		return 0, false
	}
	r := math.Floor(f + 0.5)
	if math.IsNaN(r) || r < math.MinInt32 || r > math.MaxInt32 {
		return 0, false
	}
	return int(r), true
}

func intNumber(i int) json.Number { return json.Number(strconv.Itoa(i)) }

func argType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case bool:
		return "boolean"
	}
	if _, ok := numberText(v); ok {
		return "number"
	}
	return "unknown"
}

func wantArray(n *node, args []any, i int) ([]any, error) {
	a, ok := args[i].([]any)
	if !ok {
		return nil, failf("Invalid arguments in %s: argument %d must be an array, got %s", n.fn.name, i+1, argType(args[i]))
	}
	return a, nil
}

func wantString(n *node, args []any, i int) (string, error) {
	s, ok := args[i].(string)
	if !ok {
		return "", failf("Invalid arguments in %s: argument %d must be a string, got %s", n.fn.name, i+1, argType(args[i]))
	}
	return s, nil
}

func wantInt(n *node, args []any, i int) (int, error) {
	v, ok := toInt(args[i])
	if !ok {
		return 0, failf("Invalid arguments in %s: argument %d must be an integer between -2147483648 and 2147483647, got %s", n.fn.name, i+1, CompactJSON(args[i]))
	}
	return v, nil
}

func fnFormat(n *node, args []any) (any, error) {
	var segs []string
	if t := n.args[0]; t.kind == litNode && t.tmpl != nil {
		segs = t.tmpl
	} else {
		s, err := wantString(n, args, 0)
		if err != nil {
			return nil, err
		}
		segs = strings.Split(s, "{}")
	}
	if len(segs)-1 != len(args)-1 {
		return nil, failf("The number of arguments for States.Format (%d) does not match the number of placeholders {} in the format string (%d)", len(args)-1, len(segs)-1)
	}
	size := 0
	for _, s := range segs {
		size += len(s)
	}
	var b strings.Builder
	b.Grow(size + 16*(len(args)-1))
	b.WriteString(segs[0])
	for i, s := range segs[1:] {
		javaString(&b, args[i+1])
		b.WriteString(s)
	}
	return b.String(), nil
}

func fnStringToJSON(n *node, args []any) (any, error) {
	s, err := wantString(n, args, 0)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, failf("Invalid arguments in States.StringToJson: the string is not valid JSON: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, failf("Invalid arguments in States.StringToJson: unexpected data after the JSON value")
	}
	return normalizeNumbers(v), nil
}

// normalizeNumbers rewrites json.Number texts in v (in place: v is freshly
// decoded) as Jackson would re-print them.
func normalizeNumbers(v any) any {
	switch t := v.(type) {
	case json.Number:
		return json.Number(normalizeNumber(string(t)))
	case []any:
		for i := range t {
			t[i] = normalizeNumbers(t[i])
		}
	case map[string]any:
		for k, e := range t {
			t[k] = normalizeNumbers(e)
		}
	}
	return v
}

func fnJSONToString(_ *node, args []any) (any, error) {
	return CompactJSON(args[0]), nil
}

func fnArray(_ *node, args []any) (any, error) {
	out := make([]any, len(args))
	copy(out, args)
	return out, nil
}

func fnArrayPartition(n *node, args []any) (any, error) {
	a, err := wantArray(n, args, 0)
	if err != nil {
		return nil, err
	}
	size, err := wantInt(n, args, 1)
	if err != nil {
		return nil, err
	}
	if size <= 0 {
		return nil, failf("Invalid arguments in States.ArrayPartition: the chunk size must be a positive integer, got %d", size)
	}
	out := make([]any, 0, (len(a)+size-1)/size)
	for i := 0; i < len(a); i += size {
		end := min(i+size, len(a))
		chunk := make([]any, end-i)
		copy(chunk, a[i:end])
		out = append(out, chunk)
	}
	return out, nil
}

func fnArrayContains(n *node, args []any) (any, error) {
	a, err := wantArray(n, args, 0)
	if err != nil {
		return nil, err
	}
	for _, e := range a {
		if jsonEqual(e, args[1]) {
			return true, nil
		}
	}
	return false, nil
}

func fnArrayRange(n *node, args []any) (any, error) {
	var v [3]int
	for i := range v {
		x, err := wantInt(n, args, i)
		if err != nil {
			return nil, err
		}
		v[i] = x
	}
	start, end, step := v[0], v[1], v[2]
	if step == 0 {
		return nil, failf("Invalid arguments in States.ArrayRange: the step must not be zero")
	}
	count := 0
	if (step > 0 && start <= end) || (step < 0 && start >= end) {
		count = (end-start)/step + 1
	}
	if count > MaxArrayRange {
		return nil, failf("Invalid arguments in States.ArrayRange: the array would have %d items, more than the maximum of %d", count, MaxArrayRange)
	}
	out := make([]any, count)
	for i := range out {
		out[i] = intNumber(start + i*step)
	}
	return out, nil
}

func fnArrayGetItem(n *node, args []any) (any, error) {
	a, err := wantArray(n, args, 0)
	if err != nil {
		return nil, err
	}
	i, err := wantInt(n, args, 1)
	if err != nil {
		return nil, err
	}
	if i < 0 || i >= len(a) {
		return nil, failf("Invalid arguments in States.ArrayGetItem: index %d is out of bounds for an array of length %d", i, len(a))
	}
	return a[i], nil
}

func fnArrayLength(n *node, args []any) (any, error) {
	a, err := wantArray(n, args, 0)
	if err != nil {
		return nil, err
	}
	return intNumber(len(a)), nil
}

func fnArrayUnique(n *node, args []any) (any, error) {
	a, err := wantArray(n, args, 0)
	if err != nil {
		return nil, err
	}
	out := make([]any, 0, len(a))
	seen := make(map[string]struct{}, len(a))
	var b strings.Builder
	for _, e := range a {
		b.Reset()
		canonKey(&b, e)
		k := b.String()
		if _, dup := seen[k]; dup {
			continue
		}
		seen[k] = struct{}{}
		out = append(out, e)
	}
	return out, nil
}

// javaLen is the length of s in UTF-16 code units, as Java counts
// characters.
func javaLen(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

func checkEncodeInput(fn, s string) error {
	if len(s) > MaxEncodeInput && javaLen(s) > MaxEncodeInput {
		return failf("Invalid arguments in %s: the input string must not exceed %d characters", fn, MaxEncodeInput)
	}
	return nil
}

func fnBase64Encode(n *node, args []any) (any, error) {
	s, err := wantString(n, args, 0)
	if err != nil {
		return nil, err
	}
	if err := checkEncodeInput(n.fn.name, s); err != nil {
		return nil, err
	}
	return base64.StdEncoding.EncodeToString([]byte(s)), nil
}

func fnBase64Decode(n *node, args []any) (any, error) {
	s, err := wantString(n, args, 0)
	if err != nil {
		return nil, err
	}
	if err := checkEncodeInput(n.fn.name, s); err != nil {
		return nil, err
	}
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		raw, err = base64.RawStdEncoding.DecodeString(s)
		if err != nil {
			return nil, failf("Invalid arguments in States.Base64Decode: the input is not valid base64")
		}
	}
	if !utf8.Valid(raw) {
		return strings.ToValidUTF8(string(raw), "\uFFFD"), nil
	}
	return string(raw), nil
}

var hashes = map[string]func() hash.Hash{
	"MD5": md5.New, "SHA-1": sha1.New, "SHA-256": sha256.New, "SHA-384": sha512.New384, "SHA-512": sha512.New,
}

func fnHash(n *node, args []any) (any, error) {
	alg, err := wantString(n, args, 1)
	if err != nil {
		return nil, err
	}
	newHash, ok := hashes[alg]
	if !ok {
		return nil, failf("%s", hashAlgorithmMessage(alg))
	}
	var data string
	if s, ok := args[0].(string); ok {
		data = s
	} else {
		data = CompactJSON(args[0])
	}
	if err := checkEncodeInput(n.fn.name, data); err != nil {
		return nil, err
	}
	h := newHash()
	io.WriteString(h, data)
	return hex.EncodeToString(h.Sum(nil)), nil
}

func fnJSONMerge(n *node, args []any) (any, error) {
	a, ok1 := args[0].(map[string]any)
	b, ok2 := args[1].(map[string]any)
	if !ok1 || !ok2 {
		return nil, failf("Invalid arguments in States.JsonMerge: the first two arguments must be JSON objects, got %s and %s", argType(args[0]), argType(args[1]))
	}
	deep, ok := args[2].(bool)
	if !ok {
		return nil, failf("Invalid arguments in States.JsonMerge: the third argument must be a boolean, got %s", argType(args[2]))
	}
	if deep {
		return nil, failf("%s", deepMergeMessage)
	}
	out := make(map[string]any, len(a)+len(b))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out, nil
}

func fnMathRandom(n *node, args []any) (any, error) {
	start, err := wantInt(n, args, 0)
	if err != nil {
		return nil, err
	}
	end, err := wantInt(n, args, 1)
	if err != nil {
		return nil, err
	}
	if end <= start {
		return nil, failf("Invalid arguments in States.MathRandom: the end value (%d) must be greater than the start value (%d)", end, start)
	}
	bound := int64(end) - int64(start)
	if len(args) == 3 {
		seed, err := wantInt(n, args, 2)
		if err != nil {
			return nil, err
		}
		r := newJavaRandom(int64(seed))
		return intNumber(start + int(r.nextInt(bound))), nil
	}
	return intNumber(start + int(rand.Int64N(bound))), nil
}

func fnMathAdd(n *node, args []any) (any, error) {
	a, err := wantInt(n, args, 0)
	if err != nil {
		return nil, err
	}
	b, err := wantInt(n, args, 1)
	if err != nil {
		return nil, err
	}
	sum := a + b
	if sum < math.MinInt32 || sum > math.MaxInt32 {
		return nil, failf("Invalid arguments in States.MathAdd: the sum %d is outside the range -2147483648 to 2147483647", sum)
	}
	return intNumber(sum), nil
}

// fnStringSplit splits as Java's StringTokenizer: every character of the
// second argument is a delimiter, and empty tokens are dropped.
func fnStringSplit(n *node, args []any) (any, error) {
	s, err := wantString(n, args, 0)
	if err != nil {
		return nil, err
	}
	delims, err := wantString(n, args, 1)
	if err != nil {
		return nil, err
	}
	out := []any{}
	if delims == "" {
		if s != "" {
			out = append(out, s)
		}
		return out, nil
	}
	isDelim := func(r rune) bool { return strings.ContainsRune(delims, r) }
	if len(delims) == 1 {
		d := rune(delims[0])
		isDelim = func(r rune) bool { return r == d }
	}
	start := -1
	for i, r := range s {
		if isDelim(r) {
			if start >= 0 {
				out = append(out, s[start:i])
				start = -1
			}
		} else if start < 0 {
			start = i
		}
	}
	if start >= 0 {
		out = append(out, s[start:])
	}
	return out, nil
}

func fnUUID(*node, []any) (any, error) {
	return uuid.NewString(), nil
}

// jsonEqual compares two JSON values as Jackson's JsonNode.equals does:
// an integer never equals a floating-point number (1 != 1.0).
func jsonEqual(a, b any) bool {
	var x, y strings.Builder
	canonKey(&x, a)
	canonKey(&y, b)
	return x.String() == y.String()
}

// canonKey writes a key for v such that two values have the same key
// exactly when jsonEqual holds.
func canonKey(b *strings.Builder, v any) {
	switch t := v.(type) {
	case nil:
		b.WriteByte('n')
	case bool:
		if t {
			b.WriteByte('T')
		} else {
			b.WriteByte('F')
		}
	case string:
		b.WriteByte('s')
		b.WriteString(strconv.Itoa(len(t)))
		b.WriteByte(':')
		b.WriteString(t)
	case []any:
		b.WriteByte('[')
		for _, e := range t {
			canonKey(b, e)
			b.WriteByte(',')
		}
		b.WriteByte(']')
	case map[string]any:
		b.WriteByte('{')
		for _, k := range sortedKeys(t) {
			canonKey(b, k)
			canonKey(b, t[k])
			b.WriteByte(',')
		}
		b.WriteByte('}')
	default:
		text, ok := numberText(v)
		if !ok {
			b.WriteString("?")
			return
		}
		if strings.ContainsAny(text, ".E") || strings.Contains(text, "Infinity") || text == "NaN" {
			f, _ := strconv.ParseFloat(text, 64)
			b.WriteString("f")
			b.WriteString(strconv.FormatFloat(f, 'g', -1, 64))
		} else {
			b.WriteString("i")
			b.WriteString(text)
		}
	}
}

// javaRandom is java.util.Random, so that a seeded States.MathRandom has a
// chance of giving what Step Functions (on the JVM) gives.
type javaRandom struct{ seed int64 }

const (
	javaMultiplier = 0x5DEECE66D
	javaMask       = (1 << 48) - 1
)

func newJavaRandom(seed int64) *javaRandom {
	return &javaRandom{seed: (seed ^ javaMultiplier) & javaMask}
}

func (r *javaRandom) next(bits uint) int32 {
	r.seed = (r.seed*javaMultiplier + 0xB) & javaMask
	return int32(r.seed >> (48 - bits))
}

// nextInt returns a value in [0, bound) as Random.nextInt(int) does; bound
// up to 2^32-1 is handled by falling back to nextLong-style sampling.
func (r *javaRandom) nextInt(bound int64) int64 {
	if bound <= math.MaxInt32 {
		b := int32(bound)
		if b&(-b) == b {
			return int64((int64(b) * int64(r.next(31))) >> 31)
		}
		for {
			bits := r.next(31)
			val := bits % b
			if bits-val+(b-1) >= 0 {
				return int64(val)
			}
		}
	}
	for {
		hi := int64(r.next(32))
		lo := int64(r.next(32))
		v := (hi<<32 + lo) & math.MaxInt64
		if v < math.MaxInt64-math.MaxInt64%bound {
			return v % bound
		}
	}
}
