package rules

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/stewardhq/steward/internal/asl/jsonpath"
)

// MaxInputPaths is EventBridge's limit on InputPathsMap entries.
const MaxInputPaths = 100

// Variables EventBridge defines for every input template.
const (
	varRuleARN       = "aws.events.rule-arn"
	varRuleName      = "aws.events.rule-name"
	varIngestionTime = "aws.events.event.ingestion-time"
	varEvent         = "aws.events.event"
	varEventJSON     = "aws.events.event.json"
)

var reserved = map[string]bool{varRuleARN: true, varRuleName: true, varIngestionTime: true, varEvent: true, varEventJSON: true}

var (
	placeholder = regexp.MustCompile(`<([A-Za-z0-9_.\-]+)>`)
	varName     = regexp.MustCompile(`^[A-Za-z0-9_\-]+$`)
)

type transformer struct {
	paths    map[string]*jsonpath.Path
	template string
	isJSON   bool
}

func compileTransformer(t *InputTransformer) (*transformer, error) {
	if t.InputTemplate == "" {
		return nil, errors.New("inputTemplate is empty")
	}
	if len(t.InputPathsMap) > MaxInputPaths {
		return nil, fmt.Errorf("inputPathsMap has %d entries; EventBridge allows %d", len(t.InputPathsMap), MaxInputPaths)
	}
	tr := &transformer{paths: map[string]*jsonpath.Path{}, template: t.InputTemplate}
	for name, p := range t.InputPathsMap {
		if reserved[name] {
			return nil, fmt.Errorf("%q is a reserved variable name", name)
		}
		if !varName.MatchString(name) {
			return nil, fmt.Errorf("variable name %q: use letters, digits, '_' and '-'", name)
		}
		path, err := jsonpath.Compile(p)
		if err != nil {
			return nil, fmt.Errorf("path of %q: %w", name, err)
		}
		tr.paths[name] = path
	}
	for _, m := range placeholder.FindAllStringSubmatch(t.InputTemplate, -1) {
		if _, ok := tr.paths[m[1]]; !ok && !reserved[m[1]] {
			return nil, fmt.Errorf("the template uses <%s>, which inputPathsMap does not define", m[1])
		}
	}
	trimmed := strings.TrimSpace(t.InputTemplate)
	tr.isJSON = strings.HasPrefix(trimmed, "{") || strings.HasPrefix(trimmed, "[")
	if tr.isJSON {
		// With every placeholder replaced by null, the template must be JSON.
		probe := substitute(trimmed, func(string, bool) string { return "null" })
		if !json.Valid([]byte(probe)) {
			return nil, errors.New("the template starts like JSON but is not valid JSON once its placeholders are filled")
		}
	}
	return tr, nil
}

// apply fills the template from the event.
func (t *transformer) apply(raw []byte, doc any, ruleName, ruleARN string, at time.Time) (any, error) {
	values := map[string]any{
		varRuleName:      ruleName,
		varRuleARN:       ruleARN,
		varIngestionTime: at.UTC().Format(time.RFC3339),
	}
	for name, p := range t.paths {
		v, err := p.Get(doc)
		if err != nil {
			if errors.Is(err, jsonpath.ErrNotFound) {
				continue
			}
			return nil, fmt.Errorf("<%s>: %w", name, err)
		}
		if !p.IsReference() {
			if list, ok := v.([]any); ok && len(list) == 0 {
				continue
			}
		}
		values[name] = v
	}
	rawEvent := json.RawMessage(raw)
	withoutDetail := doc
	if obj, ok := doc.(map[string]any); ok {
		cp := make(map[string]any, len(obj))
		for k, v := range obj {
			if k != "detail" {
				cp[k] = v
			}
		}
		withoutDetail = cp
	}
	render := func(name string, inString bool) string {
		var v any
		switch name {
		case varEventJSON:
			v = rawEvent
		case varEvent:
			v = withoutDetail
		default:
			var ok bool
			if v, ok = values[name]; !ok {
				if inString || !t.isJSON {
					return ""
				}
				return "null"
			}
		}
		if s, isStr := v.(string); isStr && (inString || !t.isJSON) {
			if inString {
				b, _ := json.Marshal(s)
				return string(b[1 : len(b)-1])
			}
			return s
		}
		b, err := marshalCompact(v)
		if err != nil {
			return "null"
		}
		if inString {
			q, _ := json.Marshal(string(b))
			return string(q[1 : len(q)-1])
		}
		return string(b)
	}
	out := substitute(t.template, render)
	if !t.isJSON {
		return out, nil
	}
	v, err := decode([]byte(out))
	if err != nil {
		return nil, fmt.Errorf("the filled template is not valid JSON: %w", err)
	}
	return v, nil
}

// substitute replaces each <name> in template with fill(name, inString),
// where inString tells whether the placeholder sits inside a JSON string.
func substitute(template string, fill func(name string, inString bool) string) string {
	var b strings.Builder
	inString := false
	for i := 0; i < len(template); i++ {
		ch := template[i]
		switch {
		case ch == '\\' && inString && i+1 < len(template):
			b.WriteByte(ch)
			i++
			b.WriteByte(template[i])
			continue
		case ch == '"':
			inString = !inString
		case ch == '<':
			if loc := placeholder.FindStringSubmatchIndex(template[i:]); loc != nil && loc[0] == 0 {
				b.WriteString(fill(template[i+loc[2]:i+loc[3]], inString))
				i += loc[1] - 1
				continue
			}
		}
		b.WriteByte(ch)
	}
	return b.String()
}

func marshalCompact(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// keyPath is a threshold's key: a JSON path into the event.
type keyPath struct{ path *jsonpath.Path }

func compileKeyPath(s string) (*keyPath, error) {
	if s == "" {
		return nil, errors.New("the key is empty; give a path such as $.detail.userIdentity.arn")
	}
	p, err := jsonpath.Compile(s)
	if err != nil {
		return nil, err
	}
	return &keyPath{path: p}, nil
}

// value renders the key's value in an event: a string as is, anything
// else as JSON, nothing as "".
func (k *keyPath) value(doc any) string {
	v, err := k.path.Get(doc)
	if err != nil {
		return ""
	}
	if s, ok := v.(string); ok {
		return s
	}
	if list, ok := v.([]any); ok && !k.path.IsReference() {
		parts := make([]string, 0, len(list))
		for _, x := range list {
			b, _ := marshalCompact(x)
			parts = append(parts, string(b))
		}
		sort.Strings(parts)
		return strings.Join(parts, ",")
	}
	b, _ := marshalCompact(v)
	return string(b)
}
