package change

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// obj is a JSON object in steward's value model.
type obj = map[string]any

// normalize turns any value (including Go numbers and typed structs) into
// steward's JSON value model: map[string]any, []any, string, json.Number,
// bool, nil.
func normalize(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	return decode(b)
}

// decode reads JSON with UseNumber; nil on bad or empty input.
func decode(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil
	}
	return v
}

// encode writes v as JSON; nil for nil.
func encode(v any) json.RawMessage {
	if v == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	return b
}

// asObj returns v as an object (empty when it is not one).
func asObj(v any) obj {
	if m, ok := v.(map[string]any); ok {
		return m
	}
	return obj{}
}

// asList returns v as a list (nil when it is not one).
func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// get walks a dotted path of fields and list indexes: "Reservations.0.Instances".
func get(v any, path string) any {
	if path == "" {
		return v
	}
	for _, p := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[p]
		case []any:
			i, err := strconv.Atoi(p)
			if err != nil || i < 0 || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

// str returns the string at path ("" when absent or not a string).
func str(v any, path string) string {
	s, _ := get(v, path).(string)
	return s
}

// strs returns the strings of the list at path.
func strs(v any, path string) []string {
	var out []string
	for _, x := range asList(get(v, path)) {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// pick copies the named fields of an object that are present.
func pick(v any, fields ...string) obj {
	m := asObj(v)
	out := obj{}
	for _, f := range fields {
		if x, ok := m[f]; ok && x != nil {
			out[f] = x
		}
	}
	return out
}

// sortedByJSON returns a copy of a list sorted by each item's JSON, so
// two reads that list the same items in another order compare equal.
func sortedByJSON(l []any) []any {
	type kv struct {
		k string
		v any
	}
	items := make([]kv, 0, len(l))
	for _, x := range l {
		items = append(items, kv{string(encode(x)), x})
	}
	sort.Slice(items, func(i, j int) bool { return items[i].k < items[j].k })
	out := make([]any, len(items))
	for i, it := range items {
		out[i] = it.v
	}
	return out
}

// shortHash is a stable 10-hex-digit digest of the parts.
func shortHash(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:10]
}

// diff lists the paths where recorded and now differ.
func diff(path string, recorded, now any, out *[]Diff) {
	switch r := recorded.(type) {
	case map[string]any:
		n, ok := now.(map[string]any)
		if !ok {
			*out = append(*out, Diff{Path: orRoot(path), Recorded: recorded, Now: now})
			return
		}
		keys := map[string]bool{}
		for k := range r {
			keys[k] = true
		}
		for k := range n {
			keys[k] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			diff(join(path, k), r[k], n[k], out)
		}
	case []any:
		n, ok := now.([]any)
		if !ok {
			*out = append(*out, Diff{Path: orRoot(path), Recorded: recorded, Now: now})
			return
		}
		if len(n) != len(r) {
			// Say which items came and went rather than the whole list.
			count := map[string]int{}
			for _, x := range r {
				count[string(encode(x))]++
			}
			for _, x := range n {
				k := string(encode(x))
				if count[k] > 0 {
					count[k]--
					continue
				}
				*out = append(*out, Diff{Path: path + "[+]", Now: x})
			}
			for _, x := range r {
				k := string(encode(x))
				if count[k] > 0 {
					count[k]--
					*out = append(*out, Diff{Path: path + "[-]", Recorded: x})
				}
			}
			return
		}
		for i := range r {
			diff(fmt.Sprintf("%s[%d]", path, i), r[i], n[i], out)
		}
	default:
		if !scalarEqual(recorded, now) {
			*out = append(*out, Diff{Path: orRoot(path), Recorded: recorded, Now: now})
		}
	}
}

func scalarEqual(a, b any) bool {
	if an, ok := a.(json.Number); ok {
		if bn, ok := b.(json.Number); ok {
			af, e1 := an.Float64()
			bf, e2 := bn.Float64()
			if e1 == nil && e2 == nil {
				return af == bf
			}
			return an == bn
		}
		return false
	}
	switch a.(type) {
	case map[string]any, []any:
		return false
	}
	switch b.(type) {
	case map[string]any, []any:
		return false
	}
	return a == b
}

func join(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

func orRoot(p string) string {
	if p == "" {
		return "(whole resource)"
	}
	return p
}

// brief renders a value for an error message, cut short.
func brief(v any) string {
	if v == nil {
		return "(absent)"
	}
	s := string(encode(v))
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

func sortDiffs(d []Diff) {
	sort.Slice(d, func(i, j int) bool { return d[i].Path < d[j].Path })
}

// secretFields are field names whose values change records never keep
// (compared without case): what AWS returns or takes as a secret.
var secretFields = map[string]bool{
	"secretaccesskey": true, "sessiontoken": true, "password": true, "newpassword": true, "oldpassword": true,
	"privatekey": true, "privatekeymaterial": true, "keymaterial": true, "secretstring": true, "secretbinary": true,
	"masteruserpassword": true, "authtoken": true, "clientsecret": true,
}

// redact returns a copy of v with the values of secret fields replaced,
// so change records (stored, and served by the API) hold no secrets.
func redact(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, y := range x {
			if secretFields[strings.ToLower(k)] {
				out[k] = "(redacted)"
				continue
			}
			out[k] = redact(y)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, y := range x {
			out[i] = redact(y)
		}
		return out
	}
	return v
}
