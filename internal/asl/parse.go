package asl

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Diagnostic codes, as Step Functions reports them.
const (
	codeSchema        = "SCHEMA_VALIDATION_FAILED"
	codeMissingTarget = "MISSING_TRANSITION_TARGET"
	codeMissingEnd    = "MISSING_END_STATE"
	codeInvalidJSON   = "INVALID_JSON_DESCRIPTION"
)

// Problem is one thing wrong with a definition.
type Problem struct {
	Code     string // SCHEMA_VALIDATION_FAILED, MISSING_TRANSITION_TARGET, ...
	Message  string
	Location string // a JSON pointer such as /States/Check/Next; empty for the whole definition
}

func (p Problem) String() string {
	if p.Location == "" {
		return p.Code + ": " + p.Message
	}
	return p.Code + ": " + p.Message + " at " + p.Location
}

// ValidationError lists every problem found in a definition.
type ValidationError struct {
	Problems []Problem
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.String()
	}
	return "Invalid State Machine Definition: '" + strings.Join(parts, ", ") + "'"
}

// MaxStateNameLength is Step Functions' limit on state names.
const MaxStateNameLength = 80

// Parse decodes a definition in JSON or YAML, validates it, and compiles
// it. Every problem is reported in one *ValidationError.
func Parse(data []byte) (*Machine, error) {
	doc, err := DecodeDefinition(data)
	if err != nil {
		return nil, &ValidationError{Problems: []Problem{{Code: codeInvalidJSON, Message: err.Error()}}}
	}
	return Compile(doc)
}

// DecodeDefinition decodes a definition document: JSON when it starts with
// '{', YAML otherwise. Numbers become json.Number either way.
func DecodeDefinition(data []byte) (any, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, fmt.Errorf("the definition is empty")
	}
	if trimmed[0] == '{' || trimmed[0] == '[' {
		v, err := DecodeJSON(trimmed)
		if err != nil {
			return nil, fmt.Errorf("malformed JSON: %w", err)
		}
		return v, nil
	}
	var y any
	if err := yaml.Unmarshal(trimmed, &y); err != nil {
		return nil, fmt.Errorf("malformed YAML: %w", err)
	}
	return FromYAML(y)
}

// FromYAML converts a value decoded from YAML into the JSON value model
// (string keys, json.Number numbers), so it marshals as the same JSON.
func FromYAML(v any) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			c, err := FromYAML(e)
			if err != nil {
				return nil, err
			}
			out[k] = c
		}
		return out, nil
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			ks, ok := k.(string)
			if !ok {
				return nil, fmt.Errorf("YAML key %v is not a string", k)
			}
			c, err := FromYAML(e)
			if err != nil {
				return nil, err
			}
			out[ks] = c
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			c, err := FromYAML(e)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	case int:
		return json.Number(strconv.Itoa(x)), nil
	case int64:
		return json.Number(strconv.FormatInt(x, 10)), nil
	case uint64:
		return json.Number(strconv.FormatUint(x, 10)), nil
	case float64:
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return nil, fmt.Errorf("YAML number %v is not valid JSON", x)
		}
		return json.Number(strconv.FormatFloat(x, 'g', -1, 64)), nil
	case time.Time:
		return x.Format(time.RFC3339Nano), nil
	case string, bool, nil:
		return x, nil
	}
	return nil, fmt.Errorf("YAML value %v of type %T has no JSON form", v, v)
}

// Compile validates and compiles a decoded definition.
func Compile(doc any) (*Machine, error) {
	c := &compiler{}
	root, ok := doc.(map[string]any)
	if !ok {
		return nil, &ValidationError{Problems: []Problem{{Code: codeSchema, Message: fmt.Sprintf("The definition must be a JSON object, not %s", typeName(doc))}}}
	}
	m := c.machine(root, "", JSONPath, true)
	if len(c.problems) > 0 {
		return nil, &ValidationError{Problems: c.problems}
	}
	return m, nil
}

type compiler struct {
	problems []Problem
}

func (c *compiler) problem(code, loc, format string, args ...any) {
	c.problems = append(c.problems, Problem{Code: code, Message: fmt.Sprintf(format, args...), Location: loc})
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// fields reads typed fields of one JSON object, reporting problems at loc.
type fields struct {
	c   *compiler
	m   map[string]any
	loc string
}

func (f fields) has(key string) bool { _, ok := f.m[key]; return ok }

func (f fields) str(key string) (string, bool) {
	v, ok := f.m[key]
	if !ok {
		return "", false
	}
	s, ok := v.(string)
	if !ok {
		f.c.problem(codeSchema, f.loc+"/"+key, "The value for the field '%s' must be a STRING", key)
		return "", false
	}
	return s, true
}

func (f fields) boolean(key string) (bool, bool) {
	v, ok := f.m[key]
	if !ok {
		return false, false
	}
	b, ok := v.(bool)
	if !ok {
		f.c.problem(codeSchema, f.loc+"/"+key, "The value for the field '%s' must be a BOOLEAN", key)
		return false, false
	}
	return b, true
}

func (f fields) integer(key string, min int) (int, bool) {
	v, ok := f.m[key]
	if !ok {
		return 0, false
	}
	n, ok := toInt(v)
	if !ok {
		f.c.problem(codeSchema, f.loc+"/"+key, "The value for the field '%s' must be an INTEGER", key)
		return 0, false
	}
	if n < min {
		f.c.problem(codeSchema, f.loc+"/"+key, "The value for the field '%s' must be at least %d", key, min)
		return 0, false
	}
	return n, true
}

func (f fields) number(key string) (float64, bool) {
	v, ok := f.m[key]
	if !ok {
		return 0, false
	}
	n, ok := toFloat(v)
	if !ok {
		f.c.problem(codeSchema, f.loc+"/"+key, "The value for the field '%s' must be a NUMBER", key)
		return 0, false
	}
	return n, true
}

func (f fields) object(key string) (map[string]any, bool) {
	v, ok := f.m[key]
	if !ok {
		return nil, false
	}
	o, ok := v.(map[string]any)
	if !ok {
		f.c.problem(codeSchema, f.loc+"/"+key, "The value for the field '%s' must be an OBJECT", key)
		return nil, false
	}
	return o, true
}

func (f fields) array(key string) ([]any, bool) {
	v, ok := f.m[key]
	if !ok {
		return nil, false
	}
	a, ok := v.([]any)
	if !ok {
		f.c.problem(codeSchema, f.loc+"/"+key, "The value for the field '%s' must be an ARRAY", key)
		return nil, false
	}
	return a, true
}

// ref reads a JSONPath field such as TimeoutSecondsPath.
func (f fields) ref(key string, reference bool) *ref {
	s, ok := f.str(key)
	if !ok {
		return nil
	}
	r, err := compileRef(s)
	if err != nil {
		f.c.problem(codeSchema, f.loc+"/"+key, "The value for the field '%s' must be a valid JSONPath: %v", key, err)
		return nil
	}
	if reference && !r.isReference() {
		f.c.problem(codeSchema, f.loc+"/"+key, "The value for the field '%s' must be a valid ReferencePath", key)
		return nil
	}
	return r
}

// pathField reads InputPath, OutputPath, ResultPath or ItemsPath, where null
// is meaningful.
func (f fields) pathField(key string, reference bool) pathField {
	v, ok := f.m[key]
	if !ok {
		return pathField{}
	}
	if v == nil {
		return pathField{set: true, null: true}
	}
	r := f.ref(key, reference)
	if r == nil {
		return pathField{}
	}
	return pathField{set: true, ref: r}
}

// allowed lists the fields each state type accepts, beyond Type, Comment and
// QueryLanguage.
var allowed = map[string][]string{
	TypePass:     {"Next", "End", "InputPath", "OutputPath", "ResultPath", "Parameters", "Result", "Assign", "Output"},
	TypeTask:     {"Next", "End", "Resource", "InputPath", "OutputPath", "ResultPath", "Parameters", "ResultSelector", "Retry", "Catch", "TimeoutSeconds", "TimeoutSecondsPath", "HeartbeatSeconds", "HeartbeatSecondsPath", "Credentials", "Assign", "Arguments", "Output"},
	TypeChoice:   {"Choices", "Default", "InputPath", "OutputPath", "Assign", "Output"},
	TypeWait:     {"Next", "End", "Seconds", "Timestamp", "SecondsPath", "TimestampPath", "InputPath", "OutputPath", "Assign", "Output"},
	TypeSucceed:  {"InputPath", "OutputPath", "Output"},
	TypeFail:     {"Error", "Cause", "ErrorPath", "CausePath"},
	TypeParallel: {"Branches", "Next", "End", "InputPath", "OutputPath", "ResultPath", "Parameters", "ResultSelector", "Retry", "Catch", "Assign", "Arguments", "Output"},
	TypeMap:      {"Iterator", "ItemProcessor", "ItemsPath", "Items", "ItemSelector", "Parameters", "MaxConcurrency", "MaxConcurrencyPath", "ToleratedFailureCount", "ToleratedFailureCountPath", "ToleratedFailurePercentage", "ToleratedFailurePercentagePath", "ItemReader", "ResultWriter", "ItemBatcher", "Label", "Next", "End", "InputPath", "OutputPath", "ResultPath", "ResultSelector", "Retry", "Catch", "Assign", "Arguments", "Output"},
}

// jsonPathOnly and jsonataOnly are the fields that belong to one query
// language.
var (
	jsonPathOnly = []string{"InputPath", "OutputPath", "ResultPath", "Parameters", "ResultSelector", "ItemsPath", "TimeoutSecondsPath", "HeartbeatSecondsPath", "SecondsPath", "TimestampPath", "ErrorPath", "CausePath", "MaxConcurrencyPath", "ToleratedFailureCountPath", "ToleratedFailurePercentagePath", "Iterator"}
	jsonataOnly  = []string{"Arguments", "Output", "Items"}
)

func knownField(k string) bool {
	for _, fs := range allowed {
		if contains(fs, k) {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (c *compiler) queryLanguage(f fields, inherited string) string {
	ql, ok := f.str("QueryLanguage")
	if !ok {
		return inherited
	}
	switch ql {
	case JSONPath, JSONata:
		if inherited == JSONata && ql == JSONPath {
			c.problem(codeSchema, f.loc+"/QueryLanguage", "A state cannot use JSONPath when the state machine uses JSONata")
		}
		return ql
	}
	c.problem(codeSchema, f.loc+"/QueryLanguage", "The value for the field 'QueryLanguage' must be one of [JSONPath, JSONata]")
	return inherited
}

// machine compiles a state machine or a branch at loc.
func (c *compiler) machine(doc map[string]any, loc string, ql string, top bool) *Machine {
	f := fields{c: c, m: doc, loc: loc}
	m := &Machine{States: map[string]*State{}, Definition: doc}
	known := []string{"StartAt", "States", "Comment"}
	if top {
		known = append(known, "Version", "TimeoutSeconds", "QueryLanguage")
		m.QueryLanguage = c.queryLanguage(f, JSONPath)
	} else {
		known = append(known, "ProcessorConfig")
		m.QueryLanguage = ql
	}
	for _, k := range sortedKeys(doc) {
		if !contains(known, k) {
			c.problem(codeSchema, loc, "The field \"%s\" is not supported by Step Functions", k)
		}
	}
	m.Comment, _ = f.str("Comment")
	m.Version, _ = f.str("Version")
	if m.Version != "" && m.Version != "1.0" {
		c.problem(codeSchema, loc+"/Version", "The value for the field 'Version' must be \"1.0\"")
	}
	m.TimeoutSeconds, _ = f.integer("TimeoutSeconds", 1)
	var hasStart bool
	m.StartAt, hasStart = f.str("StartAt")
	if !hasStart && !f.has("StartAt") {
		c.problem(codeSchema, loc, "These fields are required: [StartAt]")
	}
	states, ok := f.object("States")
	if !ok {
		if !f.has("States") {
			c.problem(codeSchema, loc, "These fields are required: [States]")
		}
		return m
	}
	// Keep definition order where the decoder kept it; map order is lost, so
	// order by name for stable output.
	for _, name := range sortedKeys(states) {
		sloc := loc + "/States/" + name
		sdoc, ok := states[name].(map[string]any)
		if !ok {
			c.problem(codeSchema, sloc, "A state must be a JSON object")
			continue
		}
		if len(name) == 0 || len(name) > MaxStateNameLength {
			c.problem(codeSchema, sloc, "State names must be 1 to %d characters long", MaxStateNameLength)
		}
		st := c.state(name, sdoc, sloc, m.QueryLanguage)
		if st != nil {
			m.States[name] = st
			m.Order = append(m.Order, name)
		}
	}
	c.checkGraph(m, loc, hasStart)
	return m
}

// state compiles one state.
func (c *compiler) state(name string, doc map[string]any, loc string, ql string) *State {
	f := fields{c: c, m: doc, loc: loc}
	typ, ok := f.str("Type")
	if !ok {
		if !f.has("Type") {
			c.problem(codeSchema, loc, "These fields are required: [Type]")
		}
		return nil
	}
	fieldsFor, ok := allowed[typ]
	if !ok {
		c.problem(codeSchema, loc+"/Type", "The value for the field 'Type' must be one of [Pass, Task, Choice, Wait, Succeed, Fail, Parallel, Map], not %q", typ)
		return nil
	}
	s := &State{Name: name, Type: typ}
	s.QueryLanguage = c.queryLanguage(f, ql)
	s.Comment, _ = f.str("Comment")
	for _, k := range sortedKeys(doc) {
		switch {
		case k == "Type" || k == "Comment" || k == "QueryLanguage":
		case !contains(fieldsFor, k) && knownField(k):
			c.problem(codeSchema, loc, "The field \"%s\" is not supported for a state of type %s", k, typ)
		case !contains(fieldsFor, k):
			c.problem(codeSchema, loc, "The field \"%s\" is not supported by Step Functions", k)
		case s.IsJSONata() && contains(jsonPathOnly, k):
			c.problem(codeSchema, loc, "The field \"%s\" is not supported for a state of type %s when the query language is JSONata", k, typ)
		case !s.IsJSONata() && contains(jsonataOnly, k):
			c.problem(codeSchema, loc, "The field \"%s\" is supported only when the query language is JSONata", k)
		}
	}
	c.transition(s, f)
	if s.IsJSONata() {
		c.jsonataIO(s, f)
	} else {
		c.jsonPathIO(s, f)
	}
	switch typ {
	case TypePass:
		if v, ok := doc["Result"]; ok {
			s.result, s.hasResult = v, true
		}
	case TypeTask:
		c.task(s, f)
	case TypeChoice:
		c.choice(s, f)
	case TypeWait:
		c.wait(s, f)
	case TypeFail:
		c.fail(s, f)
	case TypeParallel:
		c.parallel(s, f)
	case TypeMap:
		c.mapState(s, f)
	}
	if typ == TypeTask || typ == TypeParallel || typ == TypeMap {
		c.retryCatch(s, f)
	}
	return s
}

// transition reads Next and End.
func (c *compiler) transition(s *State, f fields) {
	next, hasNext := f.str("Next")
	end, hasEnd := f.boolean("End")
	switch s.Type {
	case TypeChoice, TypeSucceed, TypeFail:
		return
	}
	switch {
	case hasNext && hasEnd && end:
		c.problem(codeSchema, f.loc, "A state cannot have both \"Next\" and \"End\": true")
	case hasNext:
		s.Next = next
	case hasEnd && end:
		s.End = true
	case !f.has("Next"):
		c.problem(codeSchema, f.loc, "These fields are required: [Next | End]")
	}
}

func (c *compiler) jsonPathIO(s *State, f fields) {
	s.inputPath = f.pathField("InputPath", false)
	s.outputPath = f.pathField("OutputPath", false)
	s.resultPath = f.pathField("ResultPath", true)
	if v, ok := f.m["Parameters"]; ok {
		s.parameters = c.compileTemplate(v, f.loc+"/Parameters")
	}
	if v, ok := f.m["ResultSelector"]; ok {
		s.resultSelector = c.compileTemplate(v, f.loc+"/ResultSelector")
	}
	if v, ok := f.m["Assign"]; ok {
		if _, isObj := v.(map[string]any); !isObj {
			c.problem(codeSchema, f.loc+"/Assign", "The value for the field 'Assign' must be an OBJECT")
		} else {
			s.assign = c.compileTemplate(v, f.loc+"/Assign")
			c.checkVariableNames(v.(map[string]any), f.loc+"/Assign")
		}
	}
}

func (c *compiler) jsonataIO(s *State, f fields) {
	if v, ok := f.m["Arguments"]; ok {
		s.arguments = c.compileJata(v, f.loc+"/Arguments")
	}
	if v, ok := f.m["Output"]; ok {
		s.output = c.compileJata(v, f.loc+"/Output")
	}
	if v, ok := f.m["Assign"]; ok {
		o, isObj := v.(map[string]any)
		if !isObj {
			c.problem(codeSchema, f.loc+"/Assign", "The value for the field 'Assign' must be an OBJECT")
		} else {
			s.assignJata = c.compileJata(v, f.loc+"/Assign")
			c.checkVariableNames(o, f.loc+"/Assign")
		}
	}
}

// checkVariableNames checks Assign's variable names as Step Functions does.
func (c *compiler) checkVariableNames(assign map[string]any, loc string) {
	for _, k := range sortedKeys(assign) {
		name := strings.TrimSuffix(k, ".$")
		if !validVariableName(name) {
			c.problem(codeSchema, loc+"/"+k, "The variable name '%s' is not valid: it must start with a letter or '_' and contain only letters, digits and '_'", name)
		}
	}
}

func validVariableName(name string) bool {
	if name == "" || len(name) > 80 {
		return false
	}
	for i, r := range name {
		switch {
		case r == '_', r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		case i > 0 && r >= '0' && r <= '9':
		default:
			return false
		}
	}
	return true
}

func (c *compiler) task(s *State, f fields) {
	res, ok := f.str("Resource")
	if !ok {
		if !f.has("Resource") {
			c.problem(codeSchema, f.loc, "These fields are required: [Resource]")
		}
	} else if res == "" {
		c.problem(codeSchema, f.loc+"/Resource", "The value for the field 'Resource' must not be empty")
	}
	s.Resource = res
	if s.IsJSONata() {
		s.timeoutJata = c.jataOrInt(f, "TimeoutSeconds", 1)
		s.heartbeatJata = c.jataOrInt(f, "HeartbeatSeconds", 1)
		if v, ok := f.m["Credentials"]; ok {
			s.credentialsJata = c.compileJata(v, f.loc+"/Credentials")
		}
	} else {
		s.timeoutSeconds, _ = f.integer("TimeoutSeconds", 1)
		s.heartbeatSeconds, _ = f.integer("HeartbeatSeconds", 1)
		s.timeoutPath = f.ref("TimeoutSecondsPath", true)
		s.heartbeatPath = f.ref("HeartbeatSecondsPath", true)
		if v, ok := f.m["Credentials"]; ok {
			s.credentials = c.compileTemplate(v, f.loc+"/Credentials")
		}
	}
	if f.has("TimeoutSeconds") && f.has("TimeoutSecondsPath") {
		c.problem(codeSchema, f.loc, "A Task state cannot have both TimeoutSeconds and TimeoutSecondsPath")
	}
	if f.has("HeartbeatSeconds") && f.has("HeartbeatSecondsPath") {
		c.problem(codeSchema, f.loc, "A Task state cannot have both HeartbeatSeconds and HeartbeatSecondsPath")
	}
	if s.heartbeatSeconds > 0 && s.timeoutSeconds > 0 && s.heartbeatSeconds >= s.timeoutSeconds {
		c.problem(codeSchema, f.loc+"/HeartbeatSeconds", "HeartbeatSeconds must be smaller than TimeoutSeconds")
	}
	if s.timeoutSeconds == 0 && !f.has("TimeoutSecondsPath") && s.timeoutJata == nil {
		s.timeoutSeconds = DefaultTaskTimeoutSeconds
	}
}

// DefaultTaskTimeoutSeconds is a Task's timeout when the definition sets
// none: Step Functions' 99999999 seconds.
const DefaultTaskTimeoutSeconds = 99999999

// jataOrInt reads a field that is an integer, or in JSONata mode an
// expression.
func (c *compiler) jataOrInt(f fields, key string, min int) jvalue {
	v, ok := f.m[key]
	if !ok {
		return nil
	}
	if s, isStr := v.(string); isStr {
		if isJataString(s) {
			return c.compileJata(s, f.loc+"/"+key)
		}
		c.problem(codeSchema, f.loc+"/"+key, "The value for the field '%s' must be an INTEGER or a JSONata expression", key)
		return nil
	}
	n, ok := f.integer(key, min)
	if !ok {
		return nil
	}
	return jliteral{v: json.Number(strconv.Itoa(n))}
}

func (c *compiler) wait(s *State, f fields) {
	count := 0
	for _, k := range []string{"Seconds", "Timestamp", "SecondsPath", "TimestampPath"} {
		if f.has(k) {
			count++
		}
	}
	if count != 1 {
		c.problem(codeSchema, f.loc, "A Wait state must have exactly one of [Seconds, Timestamp, SecondsPath, TimestampPath]")
	}
	if v, ok := f.m["Seconds"]; ok {
		if str, isStr := v.(string); isStr && s.IsJSONata() && isJataString(str) {
			s.secondsJata = c.compileJata(str, f.loc+"/Seconds")
		} else if n, ok := f.integer("Seconds", 0); ok {
			x := float64(n)
			s.waitSeconds = &x
		}
	}
	if v, ok := f.m["Timestamp"]; ok {
		if str, isStr := v.(string); isStr && s.IsJSONata() && isJataString(str) {
			s.timestampJata = c.compileJata(str, f.loc+"/Timestamp")
		} else if str, ok := f.str("Timestamp"); ok {
			t, err := parseTimestamp(str)
			if err != nil {
				c.problem(codeSchema, f.loc+"/Timestamp", "The value for the field 'Timestamp' must be a valid ISO-8601 timestamp: %q", str)
			} else {
				s.waitTimestamp = &t
			}
		}
	}
	s.secondsPath = f.ref("SecondsPath", true)
	s.timestampPath = f.ref("TimestampPath", true)
}

func (c *compiler) fail(s *State, f fields) {
	if s.IsJSONata() {
		if v, ok := f.m["Error"]; ok {
			s.errorJata = c.compileJata(v, f.loc+"/Error")
		}
		if v, ok := f.m["Cause"]; ok {
			s.causeJata = c.compileJata(v, f.loc+"/Cause")
		}
		return
	}
	s.errorName, _ = f.str("Error")
	s.cause, _ = f.str("Cause")
	if f.has("Error") && f.has("ErrorPath") {
		c.problem(codeSchema, f.loc, "A Fail state cannot have both Error and ErrorPath")
	}
	if f.has("Cause") && f.has("CausePath") {
		c.problem(codeSchema, f.loc, "A Fail state cannot have both Cause and CausePath")
	}
	if str, ok := f.str("ErrorPath"); ok {
		s.errorPath = &dynString{field: "ErrorPath", node: c.compileDynamic("ErrorPath", str, f.loc+"/ErrorPath")}
	}
	if str, ok := f.str("CausePath"); ok {
		s.causePath = &dynString{field: "CausePath", node: c.compileDynamic("CausePath", str, f.loc+"/CausePath")}
	}
}

func (c *compiler) parallel(s *State, f fields) {
	branches, ok := f.array("Branches")
	if !ok {
		if !f.has("Branches") {
			c.problem(codeSchema, f.loc, "These fields are required: [Branches]")
		}
		return
	}
	if len(branches) == 0 {
		c.problem(codeSchema, f.loc+"/Branches", "A Parallel state must have at least one branch")
	}
	for i, b := range branches {
		bloc := fmt.Sprintf("%s/Branches[%d]", f.loc, i)
		bdoc, ok := b.(map[string]any)
		if !ok {
			c.problem(codeSchema, bloc, "A branch must be a JSON object")
			continue
		}
		s.Branches = append(s.Branches, c.machine(bdoc, bloc, s.QueryLanguage, false))
	}
}

func (c *compiler) mapState(s *State, f fields) {
	key := "ItemProcessor"
	if f.has("Iterator") {
		key = "Iterator"
		if f.has("ItemProcessor") {
			c.problem(codeSchema, f.loc, "A Map state cannot have both Iterator and ItemProcessor")
		}
	}
	proc, ok := f.object(key)
	if !ok {
		if !f.has(key) {
			c.problem(codeSchema, f.loc, "These fields are required: [ItemProcessor]")
		}
	} else {
		if cfg, ok := proc["ProcessorConfig"].(map[string]any); ok {
			if mode, ok := cfg["Mode"].(string); ok && mode != "INLINE" && mode != "DISTRIBUTED" {
				c.problem(codeSchema, f.loc+"/"+key+"/ProcessorConfig/Mode", "The value for the field 'Mode' must be one of [INLINE, DISTRIBUTED]")
			}
		}
		s.Processor = c.machine(proc, f.loc+"/"+key, s.QueryLanguage, false)
	}
	for _, k := range []string{"ItemReader", "ItemBatcher", "ResultWriter"} {
		if f.has(k) {
			c.problem(codeSchema, f.loc+"/"+k, "%s (Distributed Map over S3) is not supported by steward: pass the items in the input", k)
		}
	}
	if f.has("ItemSelector") && f.has("Parameters") {
		c.problem(codeSchema, f.loc, "A Map state cannot have both ItemSelector and Parameters")
	}
	if s.IsJSONata() {
		if v, ok := f.m["Items"]; ok {
			s.itemsJata = c.compileJata(v, f.loc+"/Items")
		}
		if v, ok := f.m["ItemSelector"]; ok {
			s.itemSelectorJata = c.compileJata(v, f.loc+"/ItemSelector")
		}
		s.maxConcurrencyJata = c.jataOrInt(f, "MaxConcurrency", 0)
		s.toleratedCountJata = c.jataOrInt(f, "ToleratedFailureCount", 0)
		if v, ok := f.m["ToleratedFailurePercentage"]; ok {
			s.toleratedPctJata = c.compileJata(v, f.loc+"/ToleratedFailurePercentage")
		}
		return
	}
	s.itemsPath = f.pathField("ItemsPath", true)
	if v, ok := f.m["ItemSelector"]; ok {
		s.itemSelector = c.compileTemplate(v, f.loc+"/ItemSelector")
	} else if s.parameters != nil {
		// The older Parameters field of Map is the item selector.
		s.itemSelector = s.parameters
		s.parameters = nil
	}
	s.maxConcurrency, _ = f.integer("MaxConcurrency", 0)
	s.maxConcurrencyPath = f.ref("MaxConcurrencyPath", true)
	s.toleratedCount, s.hasToleratedCount = f.integer("ToleratedFailureCount", 0)
	s.toleratedCountPath = f.ref("ToleratedFailureCountPath", true)
	if p, ok := f.number("ToleratedFailurePercentage"); ok {
		if p < 0 || p > 100 {
			c.problem(codeSchema, f.loc+"/ToleratedFailurePercentage", "The value for the field 'ToleratedFailurePercentage' must be between 0 and 100")
		}
		s.toleratedPercent, s.hasToleratedPercent = p, true
	}
	s.toleratedPctPath = f.ref("ToleratedFailurePercentagePath", true)
}

func (c *compiler) retryCatch(s *State, f fields) {
	if list, ok := f.array("Retry"); ok {
		for i, item := range list {
			loc := fmt.Sprintf("%s/Retry[%d]", f.loc, i)
			doc, ok := item.(map[string]any)
			if !ok {
				c.problem(codeSchema, loc, "A retrier must be a JSON object")
				continue
			}
			rf := fields{c: c, m: doc, loc: loc}
			for _, k := range sortedKeys(doc) {
				if !contains([]string{"ErrorEquals", "IntervalSeconds", "MaxAttempts", "BackoffRate", "MaxDelaySeconds", "JitterStrategy", "Comment"}, k) {
					c.problem(codeSchema, loc, "The field \"%s\" is not supported by Step Functions", k)
				}
			}
			r := &retrier{intervalSeconds: 1, maxAttempts: 3, backoffRate: 2}
			r.errorEquals = c.errorEquals(rf, i == len(list)-1, "Retry")
			if n, ok := rf.integer("IntervalSeconds", 1); ok {
				r.intervalSeconds = float64(n)
			}
			if n, ok := rf.integer("MaxAttempts", 0); ok {
				r.maxAttempts = n
			}
			if n, ok := rf.number("BackoffRate"); ok {
				if n < 1 {
					c.problem(codeSchema, loc+"/BackoffRate", "The value for the field 'BackoffRate' must be at least 1.0")
				}
				r.backoffRate = n
			}
			if n, ok := rf.integer("MaxDelaySeconds", 1); ok {
				r.maxDelaySeconds = float64(n)
			}
			if js, ok := rf.str("JitterStrategy"); ok {
				switch js {
				case "FULL":
					r.jitterFull = true
				case "NONE":
				default:
					c.problem(codeSchema, loc+"/JitterStrategy", "The value for the field 'JitterStrategy' must be one of [FULL, NONE]")
				}
			}
			s.retry = append(s.retry, r)
		}
	}
	if list, ok := f.array("Catch"); ok {
		for i, item := range list {
			loc := fmt.Sprintf("%s/Catch[%d]", f.loc, i)
			doc, ok := item.(map[string]any)
			if !ok {
				c.problem(codeSchema, loc, "A catcher must be a JSON object")
				continue
			}
			cf := fields{c: c, m: doc, loc: loc}
			known := []string{"ErrorEquals", "Next", "Comment", "Assign"}
			if s.IsJSONata() {
				known = append(known, "Output")
			} else {
				known = append(known, "ResultPath")
			}
			for _, k := range sortedKeys(doc) {
				if !contains(known, k) {
					c.problem(codeSchema, loc, "The field \"%s\" is not supported by Step Functions", k)
				}
			}
			k := &catcher{}
			k.errorEquals = c.errorEquals(cf, i == len(list)-1, "Catch")
			next, ok := cf.str("Next")
			if !ok && !cf.has("Next") {
				c.problem(codeSchema, loc, "These fields are required: [Next]")
			}
			k.next = next
			k.resultPath = cf.pathField("ResultPath", true)
			if v, ok := doc["Assign"]; ok {
				if s.IsJSONata() {
					k.assignJata = c.compileJata(v, loc+"/Assign")
				} else {
					k.assign = c.compileTemplate(v, loc+"/Assign")
				}
			}
			if v, ok := doc["Output"]; ok && s.IsJSONata() {
				k.output = c.compileJata(v, loc+"/Output")
			}
			s.catch = append(s.catch, k)
		}
	}
}

// errorEquals reads a retrier's or catcher's ErrorEquals. States.ALL must
// appear alone and in the last retrier or catcher.
func (c *compiler) errorEquals(f fields, last bool, field string) []string {
	list, ok := f.array("ErrorEquals")
	if !ok {
		if !f.has("ErrorEquals") {
			c.problem(codeSchema, f.loc, "These fields are required: [ErrorEquals]")
		}
		return nil
	}
	if len(list) == 0 {
		c.problem(codeSchema, f.loc+"/ErrorEquals", "ErrorEquals must not be empty")
	}
	out := make([]string, 0, len(list))
	for _, e := range list {
		s, ok := e.(string)
		if !ok {
			c.problem(codeSchema, f.loc+"/ErrorEquals", "ErrorEquals must contain only strings")
			continue
		}
		if s == ErrAll {
			if len(list) != 1 {
				c.problem(codeSchema, f.loc+"/ErrorEquals", "States.ALL must appear alone in ErrorEquals")
			}
			if !last {
				c.problem(codeSchema, f.loc+"/ErrorEquals", "States.ALL must appear only in the last %s", map[string]string{"Retry": "retrier", "Catch": "catcher"}[field])
			}
		}
		out = append(out, s)
	}
	return out
}

// checkGraph checks transitions and reachability within one machine.
func (c *compiler) checkGraph(m *Machine, loc string, hasStart bool) {
	missing := func(target, at string) {
		c.problem(codeMissingTarget, at, "Missing 'Next' target: %s", target)
	}
	if hasStart {
		if _, ok := m.States[m.StartAt]; !ok {
			missing(m.StartAt, loc+"/StartAt")
		}
	}
	for _, name := range m.Order {
		s := m.States[name]
		sloc := loc + "/States/" + name
		if s.Next != "" {
			if _, ok := m.States[s.Next]; !ok {
				missing(s.Next, sloc+"/Next")
			}
		}
		for i, r := range s.choices {
			if _, ok := m.States[r.next]; !ok && r.next != "" {
				missing(r.next, fmt.Sprintf("%s/Choices[%d]/Next", sloc, i))
			}
		}
		if s.defaultNext != "" {
			if _, ok := m.States[s.defaultNext]; !ok {
				missing(s.defaultNext, sloc+"/Default")
			}
		}
		for i, k := range s.catch {
			if _, ok := m.States[k.next]; !ok && k.next != "" {
				missing(k.next, fmt.Sprintf("%s/Catch[%d]/Next", sloc, i))
			}
		}
	}
	// A machine needs a terminal state (Step Functions looks at every
	// state, reachable or not), and every state must be reachable.
	terminal := false
	for _, s := range m.States {
		if s.End || s.Type == TypeSucceed || s.Type == TypeFail {
			terminal = true
		}
	}
	seen := map[string]bool{}
	var visit func(string)
	visit = func(name string) {
		s, ok := m.States[name]
		if !ok || seen[name] {
			return
		}
		seen[name] = true
		for _, next := range s.successors() {
			visit(next)
		}
	}
	visit(m.StartAt)
	if len(m.States) > 0 && !terminal {
		c.problem(codeMissingEnd, "", "Workflow has no terminal state")
		return
	}
	for _, name := range m.Order {
		if !seen[name] {
			c.problem(codeMissingTarget, loc+"/States/"+name, "State \"%s\" is not reachable.", name)
		}
	}
}

// successors lists the states a state can transition to.
func (s *State) successors() []string {
	var out []string
	if s.Next != "" {
		out = append(out, s.Next)
	}
	for _, r := range s.choices {
		out = append(out, r.next)
	}
	if s.defaultNext != "" {
		out = append(out, s.defaultNext)
	}
	for _, k := range s.catch {
		out = append(out, k.next)
	}
	return out
}

// parseTimestamp parses a timestamp as Step Functions accepts it: RFC 3339
// with an upper-case T and a zone.
func parseTimestamp(s string) (time.Time, error) {
	return time.Parse(time.RFC3339Nano, s)
}
