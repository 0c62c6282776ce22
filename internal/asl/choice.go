package asl

import (
	"errors"
	"fmt"
	"strings"
)

// choiceRule is one entry of a Choice state's Choices.
type choiceRule struct {
	next       string
	cond       condition
	assign     *template
	assignJata jvalue
	output     jvalue
}

// condition is a compiled Boolean expression of a choice rule.
type condition interface {
	eval(e *env) (bool, error)
}

type andCond []condition
type orCond []condition
type notCond struct{ c condition }

func (a andCond) eval(e *env) (bool, error) {
	for _, c := range a {
		ok, err := c.eval(e)
		if err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

func (o orCond) eval(e *env) (bool, error) {
	for _, c := range o {
		ok, err := c.eval(e)
		if err != nil {
			return false, err
		}
		if ok {
			return true, nil
		}
	}
	return false, nil
}

func (n notCond) eval(e *env) (bool, error) {
	ok, err := n.c.eval(e)
	return !ok, err
}

// jataCond is a JSONata Condition.
type jataCond struct{ v jvalue }

func (j jataCond) eval(e *env) (bool, error) {
	v, err := j.v.eval(e)
	if err != nil {
		return false, err
	}
	b, ok := v.(bool)
	if !ok {
		return false, NewError(ErrQueryEvaluationError, "The Condition field must evaluate to a boolean, but it evaluated to %s", marshalCompact(v))
	}
	return b, nil
}

// comparison is Variable + one comparison operator.
type comparison struct {
	variable *ref
	op       string
	kind     string // String, Numeric, Boolean, Timestamp, or "" for Is* and StringMatches
	value    any    // literal right-hand side
	valueRef *ref   // the xxxPath form
	pattern  string // StringMatches
}

var comparisonOps = map[string]string{
	"StringEquals": "String", "StringLessThan": "String", "StringGreaterThan": "String",
	"StringLessThanEquals": "String", "StringGreaterThanEquals": "String",
	"NumericEquals": "Numeric", "NumericLessThan": "Numeric", "NumericGreaterThan": "Numeric",
	"NumericLessThanEquals": "Numeric", "NumericGreaterThanEquals": "Numeric",
	"BooleanEquals":   "Boolean",
	"TimestampEquals": "Timestamp", "TimestampLessThan": "Timestamp", "TimestampGreaterThan": "Timestamp",
	"TimestampLessThanEquals": "Timestamp", "TimestampGreaterThanEquals": "Timestamp",
	"StringMatches": "Match",
	"IsNull":        "Is", "IsPresent": "Is", "IsNumeric": "Is", "IsString": "Is", "IsBoolean": "Is", "IsTimestamp": "Is",
}

func (cmp *comparison) eval(e *env) (bool, error) {
	left, err := cmp.variable.get(e)
	present := err == nil
	if err != nil && !errors.Is(err, errPathNotFound) {
		return false, NewError(ErrRuntime, "Invalid path '%s': %v", cmp.variable.text, err)
	}
	if cmp.op == "IsPresent" {
		return present == cmp.value.(bool), nil
	}
	if !present {
		return false, NewError(ErrRuntime, "Invalid path '%s': The choice state's condition path references an invalid value.", cmp.variable.text)
	}
	switch cmp.op {
	case "IsNull":
		return (left == nil) == cmp.value.(bool), nil
	case "IsNumeric":
		_, ok := toFloat(left)
		return ok == cmp.value.(bool), nil
	case "IsString":
		_, ok := left.(string)
		return ok == cmp.value.(bool), nil
	case "IsBoolean":
		_, ok := left.(bool)
		return ok == cmp.value.(bool), nil
	case "IsTimestamp":
		s, ok := left.(string)
		if ok {
			_, err := parseTimestamp(s)
			ok = err == nil
		}
		return ok == cmp.value.(bool), nil
	case "StringMatches":
		s, ok := left.(string)
		return ok && wildcardMatch(cmp.pattern, s), nil
	}
	right := cmp.value
	if cmp.valueRef != nil {
		right, err = cmp.valueRef.get(e)
		if err != nil {
			return false, NewError(ErrRuntime, "Invalid path '%s': The choice state's condition path references an invalid value.", cmp.valueRef.text)
		}
	}
	op := strings.TrimPrefix(cmp.op, cmp.kind)
	switch cmp.kind {
	case "String":
		l, ok1 := left.(string)
		r, ok2 := right.(string)
		if !ok1 || !ok2 {
			return false, nil
		}
		return compareOrdered(strings.Compare(l, r), op), nil
	case "Numeric":
		l, ok1 := toFloat(left)
		r, ok2 := toFloat(right)
		if !ok1 || !ok2 {
			return false, nil
		}
		c := 0
		if l < r {
			c = -1
		} else if l > r {
			c = 1
		}
		return compareOrdered(c, op), nil
	case "Boolean":
		l, ok1 := left.(bool)
		r, ok2 := right.(bool)
		return ok1 && ok2 && l == r, nil
	case "Timestamp":
		ls, ok1 := left.(string)
		rs, ok2 := right.(string)
		if !ok1 || !ok2 {
			return false, nil
		}
		lt, err1 := parseTimestamp(ls)
		rt, err2 := parseTimestamp(rs)
		if err1 != nil || err2 != nil {
			return false, nil
		}
		return compareOrdered(lt.Compare(rt), op), nil
	}
	return false, fmt.Errorf("unknown comparison %s", cmp.op)
}

func compareOrdered(c int, op string) bool {
	switch op {
	case "Equals":
		return c == 0
	case "LessThan":
		return c < 0
	case "GreaterThan":
		return c > 0
	case "LessThanEquals":
		return c <= 0
	case "GreaterThanEquals":
		return c >= 0
	}
	return false
}

// wildcardMatch implements StringMatches: '*' matches any run of
// characters; '\*' and '\\' are a literal star and backslash.
func wildcardMatch(pattern, s string) bool {
	// Split the pattern into literal segments separated by unescaped stars.
	var segs []string
	var cur strings.Builder
	for i := 0; i < len(pattern); i++ {
		ch := pattern[i]
		if ch == '\\' && i+1 < len(pattern) {
			i++
			cur.WriteByte(pattern[i])
			continue
		}
		if ch == '*' {
			segs = append(segs, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteByte(ch)
	}
	segs = append(segs, cur.String())
	if len(segs) == 1 {
		return s == segs[0]
	}
	if !strings.HasPrefix(s, segs[0]) {
		return false
	}
	s = s[len(segs[0]):]
	last := segs[len(segs)-1]
	for _, seg := range segs[1 : len(segs)-1] {
		i := strings.Index(s, seg)
		if i < 0 {
			return false
		}
		s = s[i+len(seg):]
	}
	return strings.HasSuffix(s, last)
}

// choice compiles a Choice state's Choices and Default.
func (c *compiler) choice(s *State, f fields) {
	list, ok := f.array("Choices")
	if !ok {
		if !f.has("Choices") {
			c.problem(codeSchema, f.loc, "These fields are required: [Choices]")
		}
	} else if len(list) == 0 {
		c.problem(codeSchema, f.loc+"/Choices", "A Choice state must have at least one choice rule")
	}
	for i, item := range list {
		loc := fmt.Sprintf("%s/Choices[%d]", f.loc, i)
		doc, ok := item.(map[string]any)
		if !ok {
			c.problem(codeSchema, loc, "A choice rule must be a JSON object")
			continue
		}
		rf := fields{c: c, m: doc, loc: loc}
		rule := &choiceRule{}
		next, ok := rf.str("Next")
		if !ok && !rf.has("Next") {
			c.problem(codeSchema, loc, "These fields are required: [Next]")
		}
		rule.next = next
		if s.IsJSONata() {
			for _, k := range sortedKeys(doc) {
				if !contains([]string{"Condition", "Next", "Assign", "Output", "Comment"}, k) {
					c.problem(codeSchema, loc, "The field \"%s\" is not supported in a JSONata choice rule", k)
				}
			}
			if v, ok := doc["Condition"]; ok {
				rule.cond = jataCond{v: c.compileJata(v, loc+"/Condition")}
			} else {
				c.problem(codeSchema, loc, "These fields are required: [Condition]")
			}
			if v, ok := doc["Assign"]; ok {
				rule.assignJata = c.compileJata(v, loc+"/Assign")
			}
			if v, ok := doc["Output"]; ok {
				rule.output = c.compileJata(v, loc+"/Output")
			}
		} else {
			rule.cond = c.condition(doc, loc, true)
			if v, ok := doc["Assign"]; ok {
				rule.assign = c.compileTemplate(v, loc+"/Assign")
			}
		}
		s.choices = append(s.choices, rule)
	}
	s.defaultNext, _ = f.str("Default")
}

// condition compiles a JSONPath choice rule (top-level or nested).
func (c *compiler) condition(doc map[string]any, loc string, top bool) condition {
	rf := fields{c: c, m: doc, loc: loc}
	if !top && rf.has("Next") {
		c.problem(codeSchema, loc, "Nested choice rules cannot have \"Next\"")
	}
	var ops []string
	for _, k := range sortedKeys(doc) {
		switch k {
		case "Next", "Comment", "Variable", "Assign":
		case "And", "Or", "Not":
			ops = append(ops, k)
		default:
			base := strings.TrimSuffix(k, "Path")
			if _, ok := comparisonOps[k]; ok {
				ops = append(ops, k)
			} else if kind, ok := comparisonOps[base]; ok && kind != "Is" && kind != "Match" {
				ops = append(ops, k)
			} else {
				c.problem(codeSchema, loc, "The field \"%s\" is not supported by Step Functions", k)
			}
		}
	}
	if len(ops) != 1 {
		if len(ops) == 0 {
			c.problem(codeSchema, loc, "A choice rule must have exactly one comparison operator or And, Or, Not")
		} else {
			c.problem(codeSchema, loc, "A choice rule must have exactly one comparison operator, found %s", strings.Join(ops, ", "))
		}
		return andCond{}
	}
	op := ops[0]
	switch op {
	case "And", "Or":
		list, ok := rf.array(op)
		if !ok {
			return andCond{}
		}
		if len(list) == 0 {
			c.problem(codeSchema, loc+"/"+op, "%s must have at least one choice rule", op)
		}
		var conds []condition
		for i, item := range list {
			sub, ok := item.(map[string]any)
			if !ok {
				c.problem(codeSchema, fmt.Sprintf("%s/%s[%d]", loc, op, i), "A choice rule must be a JSON object")
				continue
			}
			conds = append(conds, c.condition(sub, fmt.Sprintf("%s/%s[%d]", loc, op, i), false))
		}
		if rf.has("Variable") {
			c.problem(codeSchema, loc, "A choice rule with %s cannot have \"Variable\"", op)
		}
		if op == "And" {
			return andCond(conds)
		}
		return orCond(conds)
	case "Not":
		sub, ok := rf.object("Not")
		if !ok {
			return andCond{}
		}
		return notCond{c: c.condition(sub, loc+"/Not", false)}
	}
	cmp := &comparison{op: op}
	vs, ok := rf.str("Variable")
	if !ok {
		if !rf.has("Variable") {
			c.problem(codeSchema, loc, "These fields are required: [Variable]")
		}
		return andCond{}
	}
	r, err := compileRef(vs)
	if err != nil {
		c.problem(codeSchema, loc+"/Variable", "The value for the field 'Variable' must be a valid JSONPath: %v", err)
		return andCond{}
	}
	cmp.variable = r
	if strings.HasSuffix(op, "Path") && comparisonOps[op] == "" {
		cmp.op = strings.TrimSuffix(op, "Path")
		cmp.kind = comparisonOps[cmp.op]
		cmp.valueRef = rf.ref(op, false)
		if cmp.valueRef == nil {
			return andCond{}
		}
		return cmp
	}
	cmp.kind = comparisonOps[op]
	v := doc[op]
	bad := func(want string) {
		c.problem(codeSchema, loc+"/"+op, "The value for the field '%s' must be a %s", op, want)
	}
	switch cmp.kind {
	case "Is":
		if _, ok := v.(bool); !ok {
			bad("BOOLEAN")
			return andCond{}
		}
		cmp.value = v
	case "Match":
		s, ok := v.(string)
		if !ok {
			bad("STRING")
			return andCond{}
		}
		cmp.pattern = s
	case "String":
		if _, ok := v.(string); !ok {
			bad("STRING")
			return andCond{}
		}
		cmp.value = v
	case "Numeric":
		if _, ok := toFloat(v); !ok {
			bad("NUMBER")
			return andCond{}
		}
		cmp.value = v
	case "Boolean":
		if _, ok := v.(bool); !ok {
			bad("BOOLEAN")
			return andCond{}
		}
		cmp.value = v
	case "Timestamp":
		s, ok := v.(string)
		if !ok {
			bad("STRING")
			return andCond{}
		}
		if _, err := parseTimestamp(s); err != nil {
			bad("valid ISO-8601 timestamp")
			return andCond{}
		}
		cmp.value = v
	}
	return cmp
}
