package asl

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/stewardhq/steward/internal/jsonata"
)

// JSONataTimeout bounds one JSONata evaluation, so a runaway expression
// fails its state instead of stalling the engine.
const JSONataTimeout = 5 * time.Second

// jsonataExpr is a compiled JSONata expression, evaluated with bindings
// ($states and the variables in scope).
type jsonataExpr interface {
	eval(bindings map[string]any) (any, error)
}

type compiledJSONata struct{ expr *jsonata.Expr }

// compileJSONataExpr compiles one JSONata expression.
func compileJSONataExpr(src string) (jsonataExpr, error) {
	if src == "" {
		return nil, errors.New("the expression is empty")
	}
	e, err := jsonata.Compile(src)
	if err != nil {
		return nil, errors.New(jsonataMessage(err))
	}
	return compiledJSONata{expr: e}, nil
}

func (c compiledJSONata) eval(bindings map[string]any) (any, error) {
	for name, fn := range stepFunctionsFuncs {
		bindings[name] = fn
	}
	var input any = jsonata.Undefined
	if states, ok := bindings["states"].(map[string]any); ok {
		input = states["input"]
	}
	v, err := c.expr.Eval(input, &jsonata.EvalOptions{Bindings: bindings, Timeout: JSONataTimeout})
	if err != nil {
		return nil, errors.New(jsonataMessage(err))
	}
	if v == jsonata.Undefined {
		return undefined, nil
	}
	return v, nil
}

// jsonataMessage renders a JSONata error as Step Functions quotes it in
// causes: "T1006: Attempted to invoke a non-function".
func jsonataMessage(err error) string {
	var je *jsonata.Error
	if !errors.As(err, &je) {
		return err.Error()
	}
	text := je.Error()
	if i := strings.Index(text, ": "); i >= 0 {
		text = text[i+2:]
	}
	return je.Code + ": " + text
}

// stepFunctionsFuncs are the functions Step Functions adds to JSONata.
var stepFunctionsFuncs = map[string]jsonata.Func{
	"partition": {Signature: "<an:a>", Fn: sfnPartition},
	"range":     {Signature: "<nnn:a>", Fn: sfnRange},
	"hash":      {Signature: "<ss:s>", Fn: sfnHash},
	"random":    {Signature: "<n?:n>", Fn: sfnRandom},
	"uuid":      {Signature: "<:s>", Fn: func([]any) (any, error) { return uuid.NewString(), nil }},
	"parse":     {Signature: "<s:x>", Fn: sfnParse},
}

func argInt(args []any, i int, fn string) (int, error) {
	if i >= len(args) {
		return 0, fmt.Errorf("$%s: argument %d is missing", fn, i+1)
	}
	n, ok := toInt(args[i])
	if !ok {
		return 0, fmt.Errorf("$%s: argument %d must be an integer", fn, i+1)
	}
	return n, nil
}

func sfnPartition(args []any) (any, error) {
	arr, _ := args[0].([]any)
	if len(args) > 0 && args[0] != nil && arr == nil {
		arr = []any{args[0]}
	}
	size, err := argInt(args, 1, "partition")
	if err != nil {
		return nil, err
	}
	if size <= 0 {
		return nil, errors.New("$partition: the chunk size must be a positive integer")
	}
	out := make([]any, 0, (len(arr)+size-1)/size)
	for i := 0; i < len(arr); i += size {
		end := min(i+size, len(arr))
		chunk := make([]any, end-i)
		copy(chunk, arr[i:end])
		out = append(out, chunk)
	}
	return out, nil
}

// maxRangeItems is Step Functions' limit on $range (as States.ArrayRange).
const maxRangeItems = 1000

func sfnRange(args []any) (any, error) {
	start, err := argInt(args, 0, "range")
	if err != nil {
		return nil, err
	}
	end, err := argInt(args, 1, "range")
	if err != nil {
		return nil, err
	}
	step, err := argInt(args, 2, "range")
	if err != nil {
		return nil, err
	}
	if step == 0 {
		return nil, errors.New("$range: the step must not be 0")
	}
	var out []any
	for i := start; (step > 0 && i <= end) || (step < 0 && i >= end); i += step {
		if len(out) == maxRangeItems {
			return nil, fmt.Errorf("$range: the result would have more than %d items", maxRangeItems)
		}
		out = append(out, float64(i))
	}
	if out == nil {
		out = []any{}
	}
	return out, nil
}

func sfnHash(args []any) (any, error) {
	data, _ := args[0].(string)
	alg := ""
	if len(args) > 1 {
		alg, _ = args[1].(string)
	}
	var h hash.Hash
	switch alg {
	case "MD5":
		h = md5.New()
	case "SHA-1":
		h = sha1.New()
	case "SHA-256":
		h = sha256.New()
	case "SHA-384":
		h = sha512.New384()
	case "SHA-512":
		h = sha512.New()
	default:
		return nil, fmt.Errorf("$hash: the algorithm must be one of MD5, SHA-1, SHA-256, SHA-384, SHA-512, not %q", alg)
	}
	h.Write([]byte(data))
	return hex.EncodeToString(h.Sum(nil)), nil
}

func sfnRandom(args []any) (any, error) {
	if len(args) == 0 || args[0] == nil {
		return rand.Float64(), nil
	}
	seed, ok := toFloat(args[0])
	if !ok {
		return nil, errors.New("$random: the seed must be a number")
	}
	r := rand.New(rand.NewPCG(math.Float64bits(seed), 0x5eed))
	return r.Float64(), nil
}

func sfnParse(args []any) (any, error) {
	s, _ := args[0].(string)
	v, err := DecodeJSON([]byte(s))
	if err != nil {
		return nil, fmt.Errorf("$parse: the string is not valid JSON: %v", err)
	}
	return v, nil
}
