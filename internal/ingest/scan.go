package ingest

import (
	"encoding/json"
	"strings"
)

// These scanners read compact JSON that json.Compact has already
// validated, so they can skip values without checking them again.

// skipValue returns the index just past the value starting at i.
func skipValue(c []byte, i int) int {
	switch c[i] {
	case '"':
		return skipString(c, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(c); j++ {
			switch c[j] {
			case '"':
				j = skipString(c, j) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return len(c)
	default: // number, true, false, null
		j := i
		for j < len(c) && c[j] != ',' && c[j] != '}' && c[j] != ']' {
			j++
		}
		return j
	}
}

// skipString returns the index just past the string starting at i.
func skipString(c []byte, i int) int {
	for j := i + 1; j < len(c); j++ {
		switch c[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(c)
}

// splitArray returns the elements of a compact JSON array.
func splitArray(c []byte) [][]byte {
	var out [][]byte
	i := 1
	for i < len(c) && c[i] != ']' {
		end := skipValue(c, i)
		out = append(out, c[i:end:end])
		i = end
		if i < len(c) && c[i] == ',' {
			i++
		}
	}
	return out
}

// envelope holds the EventBridge envelope fields of an event.
type envelope struct {
	id, source, detailType, account, region, time string
}

// readEnvelope reads the top-level string fields of an EventBridge
// envelope from a compact JSON object.
func readEnvelope(c []byte) envelope {
	var env envelope
	i := 1
	for i < len(c) && c[i] == '"' {
		kEnd := skipString(c, i)
		key := unquote(c[i:kEnd])
		i = kEnd + 1 // the colon
		if i >= len(c) {
			break
		}
		vEnd := skipValue(c, i)
		if c[i] == '"' {
			v := unquote(c[i:vEnd])
			switch key {
			case "id":
				env.id = v
			case "source":
				env.source = v
			case "detail-type":
				env.detailType = v
			case "account":
				env.account = v
			case "region":
				env.region = v
			case "time":
				env.time = v
			}
		}
		i = vEnd
		if i < len(c) && c[i] == ',' {
			i++
		}
	}
	return env
}

// unquote decodes a JSON string literal; without escapes it only strips
// the quotes.
func unquote(q []byte) string {
	if len(q) < 2 {
		return ""
	}
	inner := q[1 : len(q)-1]
	if !strings.Contains(string(inner), `\`) {
		return string(inner)
	}
	var s string
	if json.Unmarshal(q, &s) != nil {
		return ""
	}
	return s
}
