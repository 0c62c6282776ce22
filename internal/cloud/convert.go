package cloud

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ErrBadParameters reports task parameters that do not fit the API's
// input shape.
var ErrBadParameters = errors.New("parameters do not fit the input shape")

// ParamError says where task parameters do not fit the input shape.
type ParamError struct {
	// Path is where in the parameters, e.g. "Filters[0].Values".
	Path string
	// Msg says what is wrong.
	Msg string
}

func (e *ParamError) Error() string {
	if e.Path == "" {
		return e.Msg
	}
	return e.Path + ": " + e.Msg
}

// Unwrap makes errors.Is(err, ErrBadParameters) true.
func (e *ParamError) Unwrap() error { return ErrBadParameters }

var (
	timeType  = reflect.TypeOf(time.Time{})
	bytesType = reflect.TypeOf([]byte(nil))
)

// decodeInput fills the struct dst points to from a JSON value in
// steward's value model (map[string]any, []any, string, json.Number,
// float64, int, int64, bool, nil). Field names are the API's PascalCase
// member names, matched exactly or, failing that, ignoring case.
func decodeInput(v any, dst reflect.Value) error {
	if v == nil {
		return nil
	}
	if _, ok := v.(map[string]any); !ok {
		return &ParamError{Msg: fmt.Sprintf("parameters must be a JSON object, not %s", kindOf(v))}
	}
	return decodeValue(v, dst, "")
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number, float64, float32, int, int64, int32:
		return "a number"
	}
	return fmt.Sprintf("a %T", v)
}

func decodeValue(v any, dst reflect.Value, path string) error {
	if v == nil {
		dst.Set(reflect.Zero(dst.Type()))
		return nil
	}
	t := dst.Type()
	switch t.Kind() {
	case reflect.Pointer:
		p := reflect.New(t.Elem())
		if err := decodeValue(v, p.Elem(), path); err != nil {
			return err
		}
		dst.Set(p)
		return nil
	case reflect.Struct:
		if t == timeType {
			tm, err := parseTime(v)
			if err != nil {
				return &ParamError{Path: path, Msg: err.Error()}
			}
			dst.Set(reflect.ValueOf(tm))
			return nil
		}
		m, ok := v.(map[string]any)
		if !ok {
			return &ParamError{Path: path, Msg: fmt.Sprintf("want an object, got %s", kindOf(v))}
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			f, ok := fieldByName(t, k)
			if !ok {
				return &ParamError{Path: join(path, k), Msg: fmt.Sprintf("unknown field (%s has %s)", t.Name(), strings.Join(fieldNames(t), ", "))}
			}
			if err := decodeValue(m[k], dst.FieldByIndex(f.Index), join(path, f.Name)); err != nil {
				return err
			}
		}
		return nil
	case reflect.String:
		s, ok := v.(string)
		if !ok {
			return &ParamError{Path: path, Msg: fmt.Sprintf("want a string, got %s", kindOf(v))}
		}
		dst.SetString(s)
		return nil
	case reflect.Bool:
		b, ok := v.(bool)
		if !ok {
			return &ParamError{Path: path, Msg: fmt.Sprintf("want a boolean, got %s", kindOf(v))}
		}
		dst.SetBool(b)
		return nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := toInt(v)
		if err != nil {
			return &ParamError{Path: path, Msg: err.Error()}
		}
		if dst.OverflowInt(n) {
			return &ParamError{Path: path, Msg: fmt.Sprintf("%d is out of range for %s", n, t.Kind())}
		}
		dst.SetInt(n)
		return nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, err := toInt(v)
		if err != nil {
			return &ParamError{Path: path, Msg: err.Error()}
		}
		if n < 0 || dst.OverflowUint(uint64(n)) {
			return &ParamError{Path: path, Msg: fmt.Sprintf("%d is out of range for %s", n, t.Kind())}
		}
		dst.SetUint(uint64(n))
		return nil
	case reflect.Float32, reflect.Float64:
		f, err := toFloat(v)
		if err != nil {
			return &ParamError{Path: path, Msg: err.Error()}
		}
		if dst.OverflowFloat(f) {
			return &ParamError{Path: path, Msg: fmt.Sprintf("%g is out of range", f)}
		}
		dst.SetFloat(f)
		return nil
	case reflect.Slice:
		if t == bytesType || t.Elem().Kind() == reflect.Uint8 {
			s, ok := v.(string)
			if !ok {
				return &ParamError{Path: path, Msg: fmt.Sprintf("want a base64 string, got %s", kindOf(v))}
			}
			b, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				return &ParamError{Path: path, Msg: "not valid base64"}
			}
			dst.SetBytes(b)
			return nil
		}
		arr, ok := v.([]any)
		if !ok {
			return &ParamError{Path: path, Msg: fmt.Sprintf("want an array, got %s", kindOf(v))}
		}
		out := reflect.MakeSlice(t, len(arr), len(arr))
		for i, e := range arr {
			if err := decodeValue(e, out.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		dst.Set(out)
		return nil
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			return &ParamError{Path: path, Msg: "unsupported map key type " + t.Key().String()}
		}
		m, ok := v.(map[string]any)
		if !ok {
			return &ParamError{Path: path, Msg: fmt.Sprintf("want an object, got %s", kindOf(v))}
		}
		out := reflect.MakeMapWithSize(t, len(m))
		for k, e := range m {
			ev := reflect.New(t.Elem()).Elem()
			if err := decodeValue(e, ev, join(path, k)); err != nil {
				return err
			}
			out.SetMapIndex(reflect.ValueOf(k).Convert(t.Key()), ev)
		}
		dst.Set(out)
		return nil
	case reflect.Interface:
		if t.NumMethod() == 0 {
			dst.Set(reflect.ValueOf(v))
			return nil
		}
		return &ParamError{Path: path, Msg: "this field's type (" + t.String() + ") is a union or document, which the aws-sdk integration does not build from parameters yet"}
	}
	return &ParamError{Path: path, Msg: "unsupported field type " + t.String()}
}

// fieldByName finds an exported field by exact name, else ignoring case.
func fieldByName(t reflect.Type, name string) (reflect.StructField, bool) {
	if f, ok := t.FieldByName(name); ok && f.IsExported() && len(f.Index) == 1 {
		return f, true
	}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.IsExported() && strings.EqualFold(f.Name, name) {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

func fieldNames(t reflect.Type) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		if f := t.Field(i); f.IsExported() {
			out = append(out, f.Name)
		}
	}
	return out
}

func toInt(v any) (int64, error) {
	switch n := v.(type) {
	case string:
		// Some APIs carry integers as strings (Route 53's MaxItems), and
		// Step Functions takes them so; the Go SDK types them as numbers.
		i, err := strconv.ParseInt(n, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("want an integer, got the string %q", n)
		}
		return i, nil
	case json.Number:
		if i, err := n.Int64(); err == nil {
			return i, nil
		}
		f, err := n.Float64()
		if err != nil {
			return 0, fmt.Errorf("%q is not a number", string(n))
		}
		return floatToInt(f)
	case float64:
		return floatToInt(n)
	case float32:
		return floatToInt(float64(n))
	case int:
		return int64(n), nil
	case int64:
		return n, nil
	case int32:
		return int64(n), nil
	}
	return 0, fmt.Errorf("want an integer, got %s", kindOf(v))
}

func floatToInt(f float64) (int64, error) {
	if f != math.Trunc(f) || math.IsInf(f, 0) || math.IsNaN(f) || f > math.MaxInt64 || f < math.MinInt64 {
		return 0, fmt.Errorf("want an integer, got %v", f)
	}
	return int64(f), nil
}

func toFloat(v any) (float64, error) {
	switch n := v.(type) {
	case json.Number:
		f, err := n.Float64()
		if err != nil {
			return 0, fmt.Errorf("%q is not a number", string(n))
		}
		return f, nil
	case float64:
		return n, nil
	case float32:
		return float64(n), nil
	case int:
		return float64(n), nil
	case int64:
		return float64(n), nil
	case int32:
		return float64(n), nil
	}
	return 0, fmt.Errorf("want a number, got %s", kindOf(v))
}

// parseTime accepts ISO 8601 / RFC 3339 strings and epoch seconds.
func parseTime(v any) (time.Time, error) {
	if s, ok := v.(string); ok {
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
			if t, err := time.Parse(layout, s); err == nil {
				return t.UTC(), nil
			}
		}
		return time.Time{}, fmt.Errorf("%q is not an ISO 8601 timestamp like 2024-01-31T12:00:00Z", s)
	}
	f, err := toFloat(v)
	if err != nil {
		return time.Time{}, fmt.Errorf("want a timestamp (ISO 8601 string or epoch seconds), got %s", kindOf(v))
	}
	if math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1e11 {
		return time.Time{}, fmt.Errorf("%v is out of range for epoch seconds", f)
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
}

// FormatTime renders a timestamp as Step Functions shows those of AWS SDK
// results: ISO 8601 in UTC, with milliseconds only when there are any.
func FormatTime(t time.Time) string {
	t = t.UTC()
	if ms := t.Nanosecond() / int(time.Millisecond); ms != 0 {
		return t.Format("2006-01-02T15:04:05") + fmt.Sprintf(".%03dZ", ms)
	}
	return t.Format("2006-01-02T15:04:05Z")
}

// renderOutput turns an SDK output struct into steward's JSON value model
// in the API's PascalCase shape: ResultMetadata and unset fields dropped,
// numbers as json.Number, times as FormatTime, blobs as base64.
//
// stringNumbers names fields the Go SDK types as numbers where the API
// (and so Step Functions) has strings, e.g. Route 53's MaxItems.
func renderOutput(v reflect.Value, stringNumbers map[string]bool) any {
	r := renderer{stringNumbers: stringNumbers}
	out, ok := r.render(v)
	if !ok {
		return map[string]any{}
	}
	return out
}

type renderer struct{ stringNumbers map[string]bool }

func (r renderer) render(v reflect.Value) (any, bool) {
	switch v.Kind() {
	case reflect.Invalid:
		return nil, false
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil, false
		}
		e := v.Elem()
		if v.Kind() == reflect.Interface && e.Kind() == reflect.Pointer && !e.IsNil() {
			if name, ok := unionMember(e.Elem()); ok {
				inner, ok := r.render(e.Elem().FieldByName("Value"))
				if !ok {
					return map[string]any{}, true
				}
				return map[string]any{name: inner}, true
			}
		}
		return r.render(e)
	case reflect.Struct:
		if v.Type() == timeType {
			return FormatTime(v.Interface().(time.Time)), true
		}
		t := v.Type()
		m := make(map[string]any, t.NumField())
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() || f.Name == "ResultMetadata" {
				continue
			}
			if x, ok := r.render(v.Field(i)); ok {
				if n, isNum := x.(json.Number); isNum && r.stringNumbers[f.Name] {
					x = string(n)
				}
				m[f.Name] = x
			}
		}
		return m, true
	case reflect.String:
		if v.Len() == 0 {
			return nil, false
		}
		return v.String(), true
	case reflect.Bool:
		return v.Bool(), true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return json.Number(strconv.FormatInt(v.Int(), 10)), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return json.Number(strconv.FormatUint(v.Uint(), 10)), true
	case reflect.Float32, reflect.Float64:
		f := v.Float()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, false
		}
		return json.Number(strconv.FormatFloat(f, 'g', -1, 64)), true
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.IsNil() {
			return nil, false
		}
		if v.Type().Elem().Kind() == reflect.Uint8 {
			b := make([]byte, v.Len())
			reflect.Copy(reflect.ValueOf(b), v)
			return base64.StdEncoding.EncodeToString(b), true
		}
		arr := make([]any, v.Len())
		for i := range arr {
			arr[i], _ = r.render(v.Index(i))
		}
		return arr, true
	case reflect.Map:
		if v.IsNil() {
			return nil, false
		}
		m := make(map[string]any, v.Len())
		it := v.MapRange()
		for it.Next() {
			x, _ := r.render(it.Value())
			m[fmt.Sprint(it.Key().Interface())] = x
		}
		return m, true
	}
	return nil, false
}

// unionMember recognises the SDK's union member types (e.g.
// types.AttributeValueMemberS, a struct with one Value field) and returns
// the member name.
func unionMember(v reflect.Value) (string, bool) {
	if v.Kind() != reflect.Struct {
		return "", false
	}
	name := v.Type().Name()
	i := strings.Index(name, "Member")
	if i < 0 || i+len("Member") >= len(name) {
		return "", false
	}
	if _, ok := v.Type().FieldByName("Value"); !ok {
		return "", false
	}
	return name[i+len("Member"):], true
}
