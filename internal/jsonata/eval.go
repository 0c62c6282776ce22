package jsonata

import (
	"math"
	"time"
)

// frame is a variable scope. Scopes hold few variables, so a slice is
// faster than a map.
type frame struct {
	names  []string
	vals   []any
	parent *frame
	inline [3]any
}

func newFrame(parent *frame) *frame {
	return &frame{parent: parent}
}

func (f *frame) bind(name string, v any) {
	for i, n := range f.names {
		if n == name {
			f.vals[i] = v
			return
		}
	}
	f.names = append(f.names, name)
	if f.vals == nil {
		f.vals = f.inline[:0]
	}
	f.vals = append(f.vals, v)
}

func (f *frame) lookup(name string) (any, bool) {
	for fr := f; fr != nil; fr = fr.parent {
		for i := len(fr.names) - 1; i >= 0; i-- {
			if fr.names[i] == name {
				return fr.vals[i], true
			}
		}
	}
	if fn, ok := builtins[name]; ok {
		return fn, true
	}
	return Undefined, false
}

func frameFromTuple(parent *frame, t tuple) *frame {
	f := &frame{parent: parent, names: make([]string, 0, len(t)), vals: make([]any, 0, len(t))}
	for k, v := range t {
		f.names = append(f.names, k)
		f.vals = append(f.vals, v)
	}
	return f
}

// evaluator holds the state of one Eval call.
type evaluator struct {
	depth    int
	maxDepth int
	deadline time.Time
	timed    bool
	ticks    int
	now      time.Time
	hasNow   bool
	nowFunc  func() time.Time
}

const defaultMaxDepth = 10000

func (ev *evaluator) enter(n *node) *Error {
	ev.depth++
	if ev.depth > ev.maxDepth {
		return newErr("U1001", n.pos, "", nil)
	}
	if ev.timed {
		ev.ticks++
		if ev.ticks&255 == 0 && time.Now().After(ev.deadline) {
			return timeoutErr(n.pos)
		}
	}
	return nil
}

func (ev *evaluator) checkTime() error {
	if ev.timed && time.Now().After(ev.deadline) {
		return timeoutErr(0)
	}
	return nil
}

func (ev *evaluator) eval(n *node, input any, env *frame) (any, error) {
	if err := ev.enter(n); err != nil {
		return nil, err
	}
	defer func() { ev.depth-- }()
	var result any
	var err error
	switch n.typ {
	case ntPath:
		result, err = ev.evalPath(n, input, env)
	case ntBinary:
		result, err = ev.evalBinary(n, input, env)
	case ntUnary:
		result, err = ev.evalUnary(n, input, env)
	case ntName:
		result = lookupField(input, n.value)
	case ntString:
		result = n.value
	case ntNumber:
		result = n.num
	case ntValue:
		result = n.lit
	case ntWildcard:
		result = evalWildcard(input)
	case ntDescendant:
		result = evalDescendants(input)
	case ntParent:
		result, _ = env.lookup(n.slot.label)
	case ntCondition:
		var c any
		c, err = ev.eval(n.condition, input, env)
		if err == nil {
			if toBoolean(c) {
				result, err = ev.eval(n.then, input, env)
			} else if n.els != nil {
				result, err = ev.eval(n.els, input, env)
			} else {
				result = Undefined
			}
		}
	case ntCoalesce:
		var l any
		l, err = ev.eval(n.lhs, input, env)
		if err == nil {
			if isUndef(l) {
				result, err = ev.eval(n.rhs, input, env)
			} else {
				result = l
			}
		}
	case ntElvis:
		var l any
		l, err = ev.eval(n.lhs, input, env)
		if err == nil {
			if toBoolean(l) {
				result = l
			} else {
				result, err = ev.eval(n.rhs, input, env)
			}
		}
	case ntBlock:
		fr := newFrame(env)
		result = Undefined
		for _, e := range n.expressions {
			result, err = ev.eval(e, input, fr)
			if err != nil {
				break
			}
		}
	case ntBind:
		result, err = ev.eval(n.rhs, input, env)
		if err == nil {
			env.bind(n.lhs.value, result)
		}
	case ntRegex:
		result = &regexFn{re: n.regex, src: n.regexSrc}
	case ntFunction:
		result, err = ev.evalFunction(n, input, env, nil, false)
	case ntVariable:
		if n.value == "" {
			if s, ok := input.(*seq); ok && s.outerWrapper && len(s.items) > 0 {
				result = s.items[0]
			} else {
				result = input
			}
		} else {
			result, _ = env.lookup(n.value)
		}
	case ntLambda:
		result = &lambdaFn{node: n, input: input, env: env, params: n.params, sig: n.sig, body: n.body, thunk: n.thunk}
	case ntPartial:
		result, err = ev.evalPartial(n, input, env)
	case ntApply:
		result, err = ev.evalApply(n, input, env)
	case ntTransform:
		result = &transformFn{node: n, env: env}
	case ntSort:
		result, err = ev.evalSort(n, input, env)
	default:
		result = Undefined
	}
	if err != nil {
		return nil, err
	}
	for _, p := range n.predicate {
		result, err = ev.evalFilter(p.expr, result, env)
		if err != nil {
			return nil, err
		}
	}
	if n.typ != ntPath && n.group != nil {
		result, err = ev.evalGroup(n.group.pairs, n.group.pos, result, env)
		if err != nil {
			return nil, err
		}
	}
	if s, ok := result.(*seq); ok && s.sequence && !s.tupleStream {
		if n.keepArray {
			s.keepSingleton = true
		}
		if len(s.items) == 0 {
			return Undefined, nil
		}
		if len(s.items) == 1 && !s.keepSingleton {
			return s.items[0], nil
		}
	}
	return result, nil
}

// lookupField implements field selection, mapping over arrays.
func lookupField(input any, key string) any {
	switch x := input.(type) {
	case *Object:
		if v, ok := x.vals[key]; ok {
			return v
		}
		return Undefined
	case map[string]any:
		if v, ok := x[key]; ok {
			return v
		}
		return Undefined
	case []any, *seq:
		items, _ := arrayItems(input)
		res := &seq{sequence: true}
		for _, it := range items {
			v := lookupField(it, key)
			if isUndef(v) {
				continue
			}
			if arr, ok := arrayItems(v); ok {
				res.items = append(res.items, arr...)
			} else {
				res.items = append(res.items, v)
			}
		}
		return res
	}
	return Undefined
}

func flattenInto(v any, out []any) []any { return flattenIntoD(v, out, 0) }

func flattenIntoD(v any, out []any, d int) []any {
	checkValueDepth(d)
	if items, ok := arrayItems(v); ok {
		for _, it := range items {
			out = flattenIntoD(it, out, d+1)
		}
		return out
	}
	return append(out, v)
}

func evalWildcard(input any) any {
	res := &seq{sequence: true}
	if s, ok := input.(*seq); ok && s.outerWrapper && len(s.items) > 0 {
		input = s.items[0]
	}
	add := func(v any) {
		if _, ok := arrayItems(v); ok {
			res.items = flattenInto(v, res.items)
		} else {
			res.items = append(res.items, v)
		}
	}
	if isObject(input) {
		for _, k := range objKeys(input) {
			v, _ := objGet(input, k)
			add(v)
		}
	} else if items, ok := arrayItems(input); ok {
		for _, v := range items {
			add(v)
		}
	}
	return res
}

func evalDescendants(input any) any {
	if isUndef(input) {
		return Undefined
	}
	res := &seq{sequence: true}
	recurseDescendants(input, res, 0)
	if len(res.items) == 1 {
		return res.items[0]
	}
	return res
}

func recurseDescendants(input any, res *seq, d int) {
	checkValueDepth(d)
	if items, ok := arrayItems(input); ok {
		for _, it := range items {
			recurseDescendants(it, res, d+1)
		}
		return
	}
	res.items = append(res.items, input)
	if isObject(input) {
		for _, k := range objKeys(input) {
			v, _ := objGet(input, k)
			recurseDescendants(v, res, d+1)
		}
	}
}

// simplePath reports whether a path is a chain of plain field names
// (optionally starting with a variable) with no predicates, bindings,
// grouping or array flags, which allows a fast evaluation.
func simplePath(n *node) bool {
	if n.keepSingle || n.group != nil || n.tuple {
		return false
	}
	for i, st := range n.steps {
		if st.typ != ntName && !(i == 0 && st.typ == ntVariable) {
			return false
		}
		if st.stages != nil || st.predicate != nil || st.group != nil || st.keepArray || st.tuple ||
			st.hasFocus || st.hasIndex || st.ancestor != nil || st.consarray {
			return false
		}
	}
	return true
}

// evalSimplePath walks a simple path over objects; ok is false when an
// array is met and the general algorithm must run.
func (ev *evaluator) evalSimplePath(n *node, input any, env *frame) (any, bool) {
	cur := input
	start := 0
	if n.steps[0].typ == ntVariable {
		v := n.steps[0].value
		if v == "" {
			if s, ok := input.(*seq); ok && s.outerWrapper && len(s.items) > 0 {
				cur = s.items[0]
			}
		} else {
			cur, _ = env.lookup(v)
		}
		start = 1
	}
	for i := start; i < len(n.steps); i++ {
		switch cur.(type) {
		case []any, *seq:
			return nil, false
		}
		cur = lookupField(cur, n.steps[i].value)
		if isUndef(cur) {
			return Undefined, true
		}
	}
	if s, ok := cur.(*seq); ok && s.sequence {
		return nil, false
	}
	if _, ok := cur.([]any); ok && len(n.steps) == start {
		return nil, false
	}
	return cur, true
}

func (ev *evaluator) evalPath(n *node, input any, env *frame) (any, error) {
	if simplePath(n) {
		if _, isArr := arrayItems(input); !isArr || n.steps[0].typ == ntVariable {
			if r, ok := ev.evalSimplePath(n, input, env); ok {
				return r, nil
			}
		}
	}
	var inputSeq []any
	var inputIsTuple bool
	_ = inputIsTuple
	if items, ok := arrayItems(input); ok && n.steps[0].typ != ntVariable {
		inputSeq = items
	} else {
		inputSeq = []any{input}
	}
	var resultSeq any // *seq or []any or other
	isTupleStream := false
	var tupleBindings []tuple
	for i, step := range n.steps {
		if step.tuple {
			isTupleStream = true
		}
		if i == 0 && step.consarray {
			r, err := ev.eval(step, wrapSeq(inputSeq, input), env)
			if err != nil {
				return nil, err
			}
			resultSeq = r
		} else if isTupleStream {
			tb, err := ev.evalTupleStep(step, inputSeq, tupleBindings, env)
			if err != nil {
				return nil, err
			}
			tupleBindings = tb
		} else {
			r, err := ev.evalStep(step, inputSeq, env, i == len(n.steps)-1)
			if err != nil {
				return nil, err
			}
			resultSeq = r
		}
		if !isTupleStream {
			items, isArr := arrayItems(resultSeq)
			if isUndef(resultSeq) || (isArr && len(items) == 0) {
				break
			}
		}
		if !step.hasFocus {
			if items, ok := arrayItems(resultSeq); ok {
				inputSeq = items
			} else {
				inputSeq = []any{resultSeq}
			}
		}
	}
	if isTupleStream {
		if n.tuple {
			items := make([]any, len(tupleBindings))
			for i, t := range tupleBindings {
				items[i] = t
			}
			resultSeq = &seq{items: items, sequence: true, tupleStream: true}
		} else {
			s := &seq{sequence: true, items: make([]any, 0, len(tupleBindings))}
			for _, t := range tupleBindings {
				s.items = append(s.items, t["@"])
			}
			resultSeq = s
		}
	}
	if resultSeq == nil {
		resultSeq = Undefined
	}
	if n.keepSingle {
		switch r := resultSeq.(type) {
		case *seq:
			if r.cons && !r.sequence {
				resultSeq = &seq{items: []any{r}, sequence: true, keepSingleton: true}
			} else {
				r.keepSingleton = true
			}
		case []any:
			// a plain array: wrap so the flag can be carried
			resultSeq = &seq{items: r, keepSingleton: true}
		default:
			if !isUndef(r) {
				resultSeq = &seq{items: []any{r}, sequence: true, keepSingleton: true}
			}
		}
	}
	if n.group != nil {
		var gin any = resultSeq
		if isTupleStream {
			items := make([]any, len(tupleBindings))
			for i, t := range tupleBindings {
				items[i] = t
			}
			gin = &seq{items: items, sequence: true, tupleStream: true}
		}
		return ev.evalGroup(n.group.pairs, n.group.pos, gin, env)
	}
	return resultSeq, nil
}

// wrapSeq returns the original input when it was already an array, or a
// sequence of the items.
func wrapSeq(items []any, orig any) any {
	if isArray(orig) {
		return orig
	}
	return &seq{items: items, sequence: true}
}

func (ev *evaluator) evalStep(step *node, input []any, env *frame, last bool) (any, error) {
	if step.typ == ntSort {
		r, err := ev.evalSort(step, &seq{items: input, sequence: true}, env)
		if err != nil {
			return nil, err
		}
		if len(step.stages) > 0 {
			return ev.evalStages(step.stages, r, env)
		}
		return r, nil
	}
	results := make([]any, 0, len(input))
	for _, item := range input {
		res, err := ev.eval(step, item, env)
		if err != nil {
			return nil, err
		}
		for _, st := range step.stages {
			res, err = ev.evalFilter(st.expr, res, env)
			if err != nil {
				return nil, err
			}
		}
		if !isUndef(res) {
			results = append(results, res)
		}
	}
	if last && len(results) == 1 {
		if _, ok := arrayItems(results[0]); ok && !isSequence(results[0]) {
			return results[0], nil
		}
	}
	out := &seq{sequence: true, items: make([]any, 0, len(results))}
	for _, res := range results {
		if s, ok := res.(*seq); ok && s.cons {
			out.items = append(out.items, res)
		} else if items, ok := arrayItems(res); ok {
			out.items = append(out.items, items...)
		} else {
			out.items = append(out.items, res)
		}
	}
	return out, nil
}

func (ev *evaluator) evalStages(stages []*stage, input any, env *frame) (any, error) {
	result := input
	var err error
	for _, st := range stages {
		if st.isIndex {
			items, _ := arrayItems(result)
			for i, it := range items {
				if t, ok := it.(tuple); ok {
					t[st.value] = float64(i)
				}
			}
			continue
		}
		result, err = ev.evalFilter(st.expr, result, env)
		if err != nil {
			return nil, err
		}
	}
	return result, nil
}

func tuplesToSeq(ts []tuple) *seq {
	items := make([]any, len(ts))
	for i, t := range ts {
		items[i] = t
	}
	return &seq{items: items, sequence: true, tupleStream: true}
}

func seqToTuples(v any) []tuple {
	items, ok := arrayItems(v)
	if !ok {
		if t, ok := v.(tuple); ok {
			return []tuple{t}
		}
		return nil
	}
	out := make([]tuple, 0, len(items))
	for _, it := range items {
		if t, ok := it.(tuple); ok {
			out = append(out, t)
		}
	}
	return out
}

func (ev *evaluator) evalTupleStep(step *node, input []any, bindings []tuple, env *frame) ([]tuple, error) {
	if step.typ == ntSort {
		var result any
		if bindings != nil {
			r, err := ev.evalSort(step, tuplesToSeq(bindings), env)
			if err != nil {
				return nil, err
			}
			result = r
		} else {
			sorted, err := ev.evalSort(step, &seq{items: input, sequence: true}, env)
			if err != nil {
				return nil, err
			}
			items, _ := arrayItems(sorted)
			ts := make([]tuple, len(items))
			for i, it := range items {
				t := tuple{"@": it}
				if step.hasIndex {
					t[step.index] = float64(i)
				}
				ts[i] = t
			}
			result = tuplesToSeq(ts)
		}
		if len(step.stages) > 0 {
			r, err := ev.evalStages(step.stages, markTuple(result), env)
			if err != nil {
				return nil, err
			}
			result = r
		}
		return seqToTuples(result), nil
	}
	if bindings == nil {
		bindings = make([]tuple, len(input))
		for i, it := range input {
			bindings[i] = tuple{"@": it}
		}
	}
	var out []tuple
	for _, tb := range bindings {
		stepEnv := frameFromTuple(env, tb)
		res, err := ev.eval(step, tb["@"], stepEnv)
		if err != nil {
			return nil, err
		}
		if isUndef(res) {
			continue
		}
		resItems, isArr := arrayItems(res)
		if !isArr {
			resItems = []any{res}
		}
		resIsTuple := false
		if s, ok := res.(*seq); ok && s.tupleStream {
			resIsTuple = true
		}
		for bb, r := range resItems {
			t := make(tuple, len(tb)+2)
			for k, v := range tb {
				t[k] = v
			}
			if resIsTuple {
				if rt, ok := r.(tuple); ok {
					for k, v := range rt {
						t[k] = v
					}
				}
			} else {
				if step.hasFocus {
					t[step.focus] = r
					t["@"] = tb["@"]
				} else {
					t["@"] = r
				}
				if step.hasIndex {
					t[step.index] = float64(bb)
				}
				if step.ancestor != nil {
					t[step.ancestor.label] = tb["@"]
				}
			}
			out = append(out, t)
		}
	}
	if out == nil {
		out = []tuple{}
	}
	if len(step.stages) > 0 {
		r, err := ev.evalStages(step.stages, tuplesToSeq(out), env)
		if err != nil {
			return nil, err
		}
		return seqToTuples(r), nil
	}
	return out, nil
}

func markTuple(v any) any {
	if s, ok := v.(*seq); ok {
		s.tupleStream = true
		return s
	}
	items, _ := arrayItems(v)
	return &seq{items: items, sequence: true, tupleStream: true}
}

func (ev *evaluator) evalFilter(pred *node, input any, env *frame) (any, error) {
	results := &seq{sequence: true}
	isTuple := false
	if s, ok := input.(*seq); ok && s.tupleStream {
		results.tupleStream = true
		isTuple = true
	}
	items, ok := arrayItems(input)
	if !ok {
		items = []any{input}
	}
	if pred.typ == ntNumber {
		idx := int(math.Floor(pred.num))
		if math.Abs(pred.num) > 1e15 {
			return results, nil
		}
		if idx < 0 {
			idx += len(items)
		}
		if idx >= 0 && idx < len(items) {
			item := items[idx]
			if isUndef(item) {
				return results, nil
			}
			if arr, ok := arrayItems(item); ok {
				if s, ok := item.(*seq); ok {
					return s, nil
				}
				return arr, nil
			}
			results.items = append(results.items, item)
		}
		return results, nil
	}
	for index, item := range items {
		context := item
		fenv := env
		if isTuple {
			if t, ok := item.(tuple); ok {
				context = t["@"]
				fenv = frameFromTuple(env, t)
			}
		}
		res, err := ev.eval(pred, context, fenv)
		if err != nil {
			return nil, err
		}
		if f, ok := asNumber(res); ok {
			if matchIndex(f, index, len(items)) {
				results.items = append(results.items, item)
			}
			continue
		}
		if arr, ok := arrayItems(res); ok && len(arr) > 0 && allNumbers(arr) {
			for _, x := range arr {
				f, _ := asNumber(x)
				if matchIndex(f, index, len(items)) {
					results.items = append(results.items, item)
				}
			}
			continue
		}
		if toBoolean(res) {
			results.items = append(results.items, item)
		}
	}
	return results, nil
}

func matchIndex(f float64, index, n int) bool {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return false
	}
	ii := math.Floor(f)
	if ii < 0 {
		ii += float64(n)
	}
	return ii == float64(index)
}

func allNumbers(items []any) bool {
	for _, it := range items {
		if !isNumber(it) {
			return false
		}
	}
	return true
}

func (ev *evaluator) evalUnary(n *node, input any, env *frame) (any, error) {
	switch n.value {
	case "-":
		r, err := ev.eval(n.lhs, input, env)
		if err != nil {
			return nil, err
		}
		if isUndef(r) {
			return Undefined, nil
		}
		if f, ok := asNumber(r); ok {
			return -f, nil
		}
		return nil, newErr("D1002", n.pos, "-", r)
	case "[":
		var result []any = []any{}
		for _, item := range n.expressions {
			v, err := ev.eval(item, input, env)
			if err != nil {
				return nil, err
			}
			if isUndef(v) {
				continue
			}
			if item.typ == ntUnary && item.value == "[" {
				result = append(result, v)
			} else if arr, ok := arrayItems(v); ok {
				result = append(result, arr...)
			} else {
				result = append(result, v)
			}
		}
		if n.consarray {
			return &seq{items: result, cons: true}, nil
		}
		return result, nil
	case "{":
		return ev.evalGroup(n.pairs, n.pos, input, env)
	}
	return Undefined, nil
}

type groupEntry struct {
	data      any
	exprIndex int
}

func (ev *evaluator) evalGroup(pairs [][2]*node, pos int, input any, env *frame) (any, error) {
	result := newObject(len(pairs))
	reduce := false
	if s, ok := input.(*seq); ok && s.tupleStream {
		reduce = true
	}
	items, ok := arrayItems(input)
	if !ok {
		items = []any{input}
	}
	if len(items) == 0 {
		items = []any{Undefined}
	}
	groups := make(map[string]*groupEntry)
	var order []string
	for _, item := range items {
		ienv := env
		context := item
		if reduce {
			if t, ok := item.(tuple); ok {
				ienv = frameFromTuple(env, t)
				context = t["@"]
			}
		}
		for pi, pr := range pairs {
			key, err := ev.eval(pr[0], context, ienv)
			if err != nil {
				return nil, err
			}
			if isUndef(key) {
				continue
			}
			ks, ok := key.(string)
			if !ok {
				return nil, newErr("T1003", pos, "", key)
			}
			if g, exists := groups[ks]; exists {
				if g.exprIndex != pi {
					return nil, newErr("D1009", pos, "", ks)
				}
				g.data = appendValues(g.data, item)
			} else {
				groups[ks] = &groupEntry{data: item, exprIndex: pi}
				order = append(order, ks)
			}
		}
	}
	for _, k := range order {
		g := groups[k]
		context := g.data
		genv := env
		if reduce {
			t := reduceTupleStream(g.data)
			context = t["@"]
			delete(t, "@")
			genv = frameFromTuple(env, t)
		}
		v, err := ev.eval(pairs[g.exprIndex][1], context, genv)
		if err != nil {
			return nil, err
		}
		if !isUndef(v) {
			result.Set(k, v)
		}
	}
	return result, nil
}

func reduceTupleStream(v any) tuple {
	if t, ok := v.(tuple); ok {
		c := make(tuple, len(t))
		for k, x := range t {
			c[k] = x
		}
		return c
	}
	items, _ := arrayItems(v)
	result := tuple{}
	if len(items) == 0 {
		return result
	}
	if t0, ok := items[0].(tuple); ok {
		for k, x := range t0 {
			result[k] = x
		}
	}
	for _, it := range items[1:] {
		t, ok := it.(tuple)
		if !ok {
			continue
		}
		for k, x := range t {
			prev, had := result[k]
			if !had {
				prev = Undefined
			}
			result[k] = appendValues(prev, x)
		}
	}
	return result
}

// appendValues implements $append: the result is a plain array.
func appendValues(a, b any) any {
	if isUndef(a) {
		return b
	}
	if isUndef(b) {
		return a
	}
	var out []any
	if items, ok := arrayItems(a); ok {
		out = append(make([]any, 0, len(items)+1), items...)
	} else {
		out = []any{a}
	}
	if items, ok := arrayItems(b); ok {
		out = append(out, items...)
	} else {
		out = append(out, b)
	}
	return out
}

func (ev *evaluator) evalBinary(n *node, input any, env *frame) (any, error) {
	lhs, err := ev.eval(n.lhs, input, env)
	if err != nil {
		return nil, err
	}
	op := n.value
	if op == "and" || op == "or" {
		l := toBoolean(lhs)
		if op == "and" && !l {
			return false, nil
		}
		if op == "or" && l {
			return true, nil
		}
		rhs, err := ev.eval(n.rhs, input, env)
		if err != nil {
			return nil, err
		}
		return toBoolean(rhs), nil
	}
	rhs, err := ev.eval(n.rhs, input, env)
	if err != nil {
		return nil, err
	}
	switch op {
	case "+", "-", "*", "/", "%":
		lf, lok := asNumber(lhs)
		if !isUndef(lhs) && !lok {
			return nil, newErr("T2001", n.pos, op, lhs)
		}
		if lok && math.IsInf(lf, 0) {
			return nil, newErr("D1001", n.pos, op, lf)
		}
		rf, rok := asNumber(rhs)
		if !isUndef(rhs) && !rok {
			return nil, newErr("T2002", n.pos, op, rhs)
		}
		if rok && math.IsInf(rf, 0) {
			return nil, newErr("D1001", n.pos, op, rf)
		}
		if !lok || !rok {
			return Undefined, nil
		}
		var r float64
		switch op {
		case "+":
			r = lf + rf
		case "-":
			r = lf - rf
		case "*":
			r = lf * rf
		case "/":
			r = lf / rf
		case "%":
			r = math.Mod(lf, rf)
		}
		return r, nil
	case "=", "!=":
		if isUndef(lhs) || isUndef(rhs) {
			return false, nil
		}
		eq := deepEqual(lhs, rhs)
		if op == "!=" {
			return !eq, nil
		}
		return eq, nil
	case "<", "<=", ">", ">=":
		lcomp := isUndef(lhs) || isString(lhs) || isNumber(lhs)
		rcomp := isUndef(rhs) || isString(rhs) || isNumber(rhs)
		if !lcomp || !rcomp {
			bad := rhs
			if !(isString(lhs) || isNumber(lhs)) {
				bad = lhs
			}
			return nil, newErr("T2010", n.pos, op, bad)
		}
		if isUndef(lhs) || isUndef(rhs) {
			return Undefined, nil
		}
		if isString(lhs) != isString(rhs) {
			return nil, newErr("T2009", n.pos, op, lhs)
		}
		var c int
		if ls, ok := lhs.(string); ok {
			rs := rhs.(string)
			c = compareStrings(ls, rs)
		} else {
			lf, _ := asNumber(lhs)
			rf, _ := asNumber(rhs)
			switch {
			case lf < rf:
				c = -1
			case lf > rf:
				c = 1
			case lf == rf:
				c = 0
			default:
				return false, nil // NaN
			}
		}
		switch op {
		case "<":
			return c < 0, nil
		case "<=":
			return c <= 0, nil
		case ">":
			return c > 0, nil
		default:
			return c >= 0, nil
		}
	case "&":
		ls, rs := "", ""
		if !isUndef(lhs) {
			s, err := toJSString(lhs, false)
			if err != nil {
				return nil, withPos(err, n.pos)
			}
			ls = s
		}
		if !isUndef(rhs) {
			s, err := toJSString(rhs, false)
			if err != nil {
				return nil, withPos(err, n.pos)
			}
			rs = s
		}
		return ls + rs, nil
	case "..":
		lf, lok := asNumber(lhs)
		if !isUndef(lhs) && (!lok || !isInteger(lf)) {
			return nil, newErr("T2003", n.pos, op, lhs)
		}
		rf, rok := asNumber(rhs)
		if !isUndef(rhs) && (!rok || !isInteger(rf)) {
			return nil, newErr("T2004", n.pos, op, rhs)
		}
		if !lok || !rok {
			return Undefined, nil
		}
		if lf > rf {
			return Undefined, nil
		}
		size := rf - lf + 1
		if size > 1e7 {
			return nil, newErr("D2014", n.pos, op, size)
		}
		items := make([]any, int(size))
		for i := range items {
			items[i] = lf + float64(i)
		}
		return &seq{items: items, sequence: true}, nil
	case "in":
		if isUndef(lhs) || isUndef(rhs) {
			return false, nil
		}
		items, ok := arrayItems(rhs)
		if !ok {
			items = []any{rhs}
		}
		for _, it := range items {
			if strictEqual(it, lhs) {
				return true, nil
			}
		}
		return false, nil
	}
	return Undefined, nil
}

func isString(v any) bool {
	_, ok := v.(string)
	return ok
}

// compareStrings compares by UTF-16 code units, as JavaScript does.
func compareStrings(a, b string) int {
	ua := utf16Units(a)
	ub := utf16Units(b)
	for i := 0; i < len(ua) && i < len(ub); i++ {
		if ua[i] != ub[i] {
			if ua[i] < ub[i] {
				return -1
			}
			return 1
		}
	}
	switch {
	case len(ua) < len(ub):
		return -1
	case len(ua) > len(ub):
		return 1
	}
	return 0
}

func utf16Units(s string) []uint16 {
	out := make([]uint16, 0, len(s))
	for _, r := range s {
		if r >= 0x10000 {
			r -= 0x10000
			out = append(out, uint16(0xD800+(r>>10)), uint16(0xDC00+(r&0x3FF)))
		} else {
			out = append(out, uint16(r))
		}
	}
	return out
}

func strictEqual(a, b any) bool {
	if af, ok := asNumber(a); ok {
		bf, ok := asNumber(b)
		return ok && af == bf
	}
	switch x := a.(type) {
	case string:
		y, ok := b.(string)
		return ok && x == y
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case nil:
		return b == nil
	}
	return false
}

func withPos(err error, pos int) error {
	if e, ok := err.(*Error); ok && e.Position == 0 {
		e.Position = pos
	}
	return err
}

// evalSort sorts the input sequence by the order-by terms of n.
func (ev *evaluator) evalSort(n *node, input any, env *frame) (any, error) {
	items, ok := arrayItems(input)
	if !ok {
		return input, nil
	}
	isTuple := false
	if s, ok := input.(*seq); ok && s.tupleStream {
		isTuple = true
	}
	if len(items) <= 1 {
		return input, nil
	}
	// pre-compute the sort keys
	keys := make([][]any, len(items))
	for i, it := range items {
		context := it
		senv := env
		if isTuple {
			if t, ok := it.(tuple); ok {
				context = t["@"]
				senv = frameFromTuple(env, t)
			}
		}
		ks := make([]any, len(n.terms))
		for j, term := range n.terms {
			v, err := ev.eval(term.expr, context, senv)
			if err != nil {
				return nil, err
			}
			ks[j] = v
		}
		keys[i] = ks
	}
	idx := make([]int, len(items))
	for i := range idx {
		idx[i] = i
	}
	var sortErr error
	swap := func(a, b int) bool {
		comp := 0
		for j, term := range n.terms {
			aa, bb := keys[a][j], keys[b][j]
			if isUndef(aa) {
				if isUndef(bb) {
					comp = 0
				} else {
					comp = 1
				}
				if comp != 0 {
					break
				}
				continue
			}
			if isUndef(bb) {
				comp = -1
				break
			}
			aok := isString(aa) || isNumber(aa)
			bok := isString(bb) || isNumber(bb)
			if !aok || !bok {
				bad := bb
				if !aok {
					bad = aa
				}
				if sortErr == nil {
					sortErr = newErr("T2008", n.pos, "", bad)
				}
				return false
			}
			if isString(aa) != isString(bb) {
				if sortErr == nil {
					sortErr = newErr("T2007", n.pos, "", aa)
				}
				return false
			}
			var c int
			if as, ok := aa.(string); ok {
				c = compareStrings(as, bb.(string))
			} else {
				af, _ := asNumber(aa)
				bf, _ := asNumber(bb)
				if af < bf {
					c = -1
				} else if af > bf {
					c = 1
				}
			}
			if c == 0 {
				continue
			}
			if term.descending {
				c = -c
			}
			comp = c
			break
		}
		return comp == 1
	}
	sorted := mergeSortIdx(idx, swap)
	if sortErr != nil {
		return nil, sortErr
	}
	out := make([]any, len(sorted))
	for i, k := range sorted {
		out[i] = items[k]
	}
	if isTuple {
		return &seq{items: out, sequence: true, tupleStream: true}, nil
	}
	return out, nil
}

// mergeSortIdx is a stable merge sort where swap(a, b) reports that a must
// come after b.
func mergeSortIdx(a []int, swap func(a, b int) bool) []int {
	if len(a) <= 1 {
		return a
	}
	mid := len(a) / 2
	left := mergeSortIdx(append([]int(nil), a[:mid]...), swap)
	right := mergeSortIdx(append([]int(nil), a[mid:]...), swap)
	out := make([]int, 0, len(a))
	i, j := 0, 0
	for i < len(left) && j < len(right) {
		if swap(left[i], right[j]) {
			out = append(out, right[j])
			j++
		} else {
			out = append(out, left[i])
			i++
		}
	}
	out = append(out, left[i:]...)
	out = append(out, right[j:]...)
	return out
}
