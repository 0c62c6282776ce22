package jsonata

import (
	"regexp"
)

// Func is a Go function that can be bound as a JSONata function through
// EvalOptions.Bindings. Signature is an optional JSONata signature such as
// "<s-n?:s>" used to validate and coerce the arguments (a "-" parameter
// takes the context value when the argument is omitted). Fn receives the
// arguments as plain Go JSON values (as Eval returns them), with Undefined
// for missing ones; it returns a value of the shared JSON model, nil for
// JSON null or Undefined for no value. A non-nil error aborts the
// evaluation and is returned by Eval as is.
type Func struct {
	Signature string
	Fn        func(args []any) (any, error)
}

// lambdaFn is a user-defined function (closure).
type lambdaFn struct {
	node   *node
	input  any
	env    *frame
	params []string
	sig    *signature
	body   *node
	thunk  bool
}

// builtinFn is a function of the standard library.
type builtinFn struct {
	name  string
	sig   *signature
	arity int
	fn    func(ev *evaluator, args []any, ctx callCtx) (any, error)
}

// callCtx carries the context of a native function invocation.
type callCtx struct {
	input any
	env   *frame
}

// partialFn is a partially applied function.
type partialFn struct {
	fn    any
	args  []any // nil entries at holes
	holes []int
}

// nativeClosure wraps a Go closure created by the evaluator (e.g. chains).
type nativeClosure struct {
	arity int
	fn    func(ev *evaluator, args []any) (any, error)
}

// regexFn is a compiled regular expression literal.
type regexFn struct {
	re  *regexp.Regexp
	src string
}

// transformFn implements the |pattern|update,delete| operator.
type transformFn struct {
	node *node
	env  *frame
}

func fnArity(f any) int {
	switch x := f.(type) {
	case *lambdaFn:
		if x.sig != nil {
			return len(x.sig.params)
		}
		return len(x.params)
	case *builtinFn:
		if x.arity > 0 {
			return x.arity
		}
		if x.sig != nil {
			return len(x.sig.params)
		}
	case *partialFn:
		return len(x.holes)
	case *nativeClosure:
		return x.arity
	case Func:
		if s, err := parseSignature(x.Signature); err == nil && s != nil {
			return len(s.params)
		}
		return 1
	case *Func:
		return fnArity(*x)
	case *regexFn:
		return 1
	case *transformFn:
		return 1
	}
	return 0
}

func (ev *evaluator) evalFunction(n *node, input any, env *frame, applyTo any, hasApply bool) (any, error) {
	proc, err := ev.eval(n.procedure, input, env)
	if err != nil {
		return nil, err
	}
	if isUndef(proc) && n.procedure.typ == ntPath && len(n.procedure.steps) > 0 {
		if _, ok := env.lookup(n.procedure.steps[0].value); ok {
			return nil, newErr("T1005", n.pos, n.procedure.steps[0].value, nil)
		}
	}
	args := make([]any, 0, len(n.arguments)+1)
	if hasApply {
		args = append(args, applyTo)
	}
	for _, a := range n.arguments {
		v, err := ev.eval(a, input, env)
		if err != nil {
			return nil, err
		}
		args = append(args, v)
	}
	procName := n.procedure.value
	if n.procedure.typ == ntPath && len(n.procedure.steps) > 0 {
		procName = n.procedure.steps[0].value
	}
	res, err := ev.apply(proc, args, input, env)
	if err != nil {
		if e, ok := err.(*Error); ok {
			if e.Position == 0 {
				e.Position = n.pos
			}
			if e.Token == "" {
				e.Token = procName
				e.Message = e.expand()
			}
		}
		return nil, err
	}
	return res, nil
}

// apply invokes a function value, running the tail-call trampoline.
func (ev *evaluator) apply(proc any, args []any, input any, env *frame) (any, error) {
	res, err := ev.applyInner(proc, args, input, env)
	if err != nil {
		return nil, err
	}
	for {
		l, ok := res.(*lambdaFn)
		if !ok || !l.thunk {
			return res, nil
		}
		call := l.body
		next, err := ev.eval(call.procedure, l.input, l.env)
		if err != nil {
			return nil, err
		}
		if isUndef(next) && call.procedure.typ == ntPath && len(call.procedure.steps) > 0 {
			if _, ok := l.env.lookup(call.procedure.steps[0].value); ok {
				return nil, newErr("T1005", call.pos, call.procedure.steps[0].value, nil)
			}
		}
		nargs := make([]any, 0, len(call.arguments))
		for _, a := range call.arguments {
			v, err := ev.eval(a, l.input, l.env)
			if err != nil {
				return nil, err
			}
			nargs = append(nargs, v)
		}
		if err := ev.checkTime(); err != nil {
			return nil, err
		}
		res, err = ev.applyInner(next, nargs, input, env)
		if err != nil {
			if e, ok := err.(*Error); ok && e.Token == "" {
				e.Token = call.procedure.value
				if call.procedure.typ == ntPath && len(call.procedure.steps) > 0 {
					e.Token = call.procedure.steps[0].value
				}
				e.Message = e.expand()
			}
			return nil, err
		}
	}
}

func (ev *evaluator) applyInner(proc any, args []any, input any, env *frame) (any, error) {
	switch f := proc.(type) {
	case *lambdaFn:
		if f.sig != nil {
			var err error
			args, err = f.sig.validate(args, input)
			if err != nil {
				return nil, err
			}
		}
		fenv := &frame{parent: f.env, names: f.params[:len(f.params):len(f.params)]}
		if len(f.params) <= len(fenv.inline) {
			fenv.vals = fenv.inline[:len(f.params)]
		} else {
			fenv.vals = make([]any, len(f.params))
		}
		for i := range f.params {
			if i < len(args) {
				fenv.vals[i] = args[i]
			} else {
				fenv.vals[i] = Undefined
			}
		}
		return ev.eval(f.body, f.input, fenv)
	case *builtinFn:
		if f.sig != nil {
			var err error
			args, err = f.sig.validate(args, input)
			if err != nil {
				if e, ok := err.(*Error); ok && e.Token == "" {
					e.Token = f.name
					e.Message = e.expand()
				}
				return nil, err
			}
		}
		return f.fn(ev, args, callCtx{input: input, env: env})
	case *partialFn:
		full := make([]any, len(f.args))
		copy(full, f.args)
		for i, h := range f.holes {
			if i < len(args) {
				full[h] = args[i]
			} else {
				full[h] = Undefined
			}
		}
		return ev.apply(f.fn, full, input, env)
	case *nativeClosure:
		return f.fn(ev, args)
	case Func:
		return ev.applyGo(&f, args, input)
	case *Func:
		return ev.applyGo(f, args, input)
	case *regexFn:
		s := ""
		if len(args) > 0 {
			s, _ = args[0].(string)
		}
		return regexMatchObject(f, s, 0), nil
	case *transformFn:
		var obj any = Undefined
		if len(args) > 0 {
			obj = args[0]
		}
		return ev.runTransform(f, obj)
	}
	return nil, newErr("T1006", 0, "", nil)
}

func (ev *evaluator) applyGo(f *Func, args []any, input any) (any, error) {
	if f.Fn == nil {
		return Undefined, nil
	}
	if f.Signature != "" {
		sig, err := parseSignature(f.Signature)
		if err != nil {
			return nil, err
		}
		args, err = sig.validate(args, input)
		if err != nil {
			return nil, err
		}
	}
	out := make([]any, len(args))
	for i, a := range args {
		if isUndef(a) {
			out[i] = Undefined
		} else {
			out[i] = toOutput(a)
		}
	}
	r, err := f.Fn(out)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, nil
	}
	return r, nil
}

func (ev *evaluator) evalPartial(n *node, input any, env *frame) (any, error) {
	args := make([]any, len(n.arguments))
	var holes []int
	for i, a := range n.arguments {
		if a.typ == ntOperator && a.value == "?" {
			holes = append(holes, i)
			args[i] = Undefined
			continue
		}
		v, err := ev.eval(a, input, env)
		if err != nil {
			return nil, err
		}
		args[i] = v
	}
	proc, err := ev.eval(n.procedure, input, env)
	if err != nil {
		return nil, err
	}
	if isUndef(proc) && n.procedure.typ == ntPath && len(n.procedure.steps) > 0 {
		if _, ok := env.lookup(n.procedure.steps[0].value); ok {
			return nil, newErr("T1007", n.pos, n.procedure.steps[0].value, nil)
		}
	}
	if !isFunction(proc) {
		tok := n.procedure.value
		if n.procedure.typ == ntPath && len(n.procedure.steps) > 0 {
			tok = n.procedure.steps[0].value
		}
		return nil, newErr("T1008", n.pos, tok, nil)
	}
	if l, ok := proc.(*lambdaFn); ok {
		// bind supplied parameters in a new frame; the remaining ones stay open
		fenv := newFrame(l.env)
		var params []string
		for i, p := range l.params {
			if i < len(args) && !(n.arguments[i].typ == ntOperator && n.arguments[i].value == "?") {
				fenv.bind(p, args[i])
			} else if i < len(args) {
				params = append(params, p)
			} else {
				fenv.bind(p, Undefined)
			}
		}
		return &lambdaFn{node: l.node, input: l.input, env: fenv, params: params, body: l.body}, nil
	}
	return &partialFn{fn: proc, args: args, holes: holes}, nil
}

func (ev *evaluator) evalApply(n *node, input any, env *frame) (any, error) {
	lhs, err := ev.eval(n.lhs, input, env)
	if err != nil {
		return nil, err
	}
	if n.rhs.typ == ntFunction {
		return ev.evalFunction(n.rhs, input, env, lhs, true)
	}
	fn, err := ev.eval(n.rhs, input, env)
	if err != nil {
		return nil, err
	}
	if !isFunction(fn) {
		return nil, newErr("T2006", n.pos, "", fn)
	}
	if isFunction(lhs) {
		f1, f2 := lhs, fn
		return &nativeClosure{arity: 1, fn: func(ev *evaluator, args []any) (any, error) {
			r, err := ev.apply(f1, args, nil, env)
			if err != nil {
				return nil, err
			}
			return ev.apply(f2, []any{r}, nil, env)
		}}, nil
	}
	return ev.apply(fn, []any{lhs}, nil, env)
}

// callHOF invokes a function value from a higher-order builtin with as many
// of the candidate arguments as the function declares (at least one).
func (ev *evaluator) callHOF(f any, cand ...any) (any, error) {
	n := fnArity(f)
	if n < 1 {
		n = 1
	}
	if n > len(cand) {
		n = len(cand)
	}
	return ev.apply(f, cand[:n], nil, nil)
}

// hofCaller calls f with (value, index, array) trimmed to f's arity,
// reusing one argument buffer; the index is only boxed when needed.
type hofCaller struct {
	ev    *evaluator
	f     any
	arity int
	buf   [3]any
}

func newHOFCaller(ev *evaluator, f any) *hofCaller {
	n := fnArity(f)
	if n < 1 {
		n = 1
	}
	if n > 3 {
		n = 3
	}
	return &hofCaller{ev: ev, f: f, arity: n}
}

func (h *hofCaller) call(v any, index func() any, whole any) (any, error) {
	h.buf[0] = v
	if h.arity >= 2 {
		h.buf[1] = index()
	}
	if h.arity >= 3 {
		h.buf[2] = whole
	}
	return h.ev.apply(h.f, h.buf[:h.arity], nil, nil)
}

func (ev *evaluator) runTransform(t *transformFn, obj any) (any, error) {
	if isUndef(obj) {
		return Undefined, nil
	}
	n := t.node
	result := deepClone(obj)
	matches, err := ev.eval(n.pattern, result, t.env)
	if err != nil {
		return nil, err
	}
	if isUndef(matches) {
		return result, nil
	}
	items, ok := arrayItems(matches)
	if !ok {
		items = []any{matches}
	}
	for _, m := range items {
		upd, err := ev.eval(n.update, m, t.env)
		if err != nil {
			return nil, err
		}
		if !isUndef(upd) {
			if !isObject(upd) {
				return nil, newErr("T2011", n.update.pos, "", upd)
			}
			if mo, ok := m.(*Object); ok {
				for _, k := range objKeys(upd) {
					v, _ := objGet(upd, k)
					mo.Set(k, v)
				}
			}
		}
		if n.del != nil {
			dels, err := ev.eval(n.del, m, t.env)
			if err != nil {
				return nil, err
			}
			if isUndef(dels) {
				continue
			}
			ditems, ok := arrayItems(dels)
			if !ok {
				ditems = []any{dels}
			}
			for _, d := range ditems {
				if !isString(d) {
					return nil, newErr("T2012", n.del.pos, "", dels)
				}
			}
			if mo, ok := m.(*Object); ok {
				for _, d := range ditems {
					mo.Delete(d.(string))
				}
			}
		}
	}
	return result, nil
}

// deepClone copies a value into fresh ordered objects and arrays.
func deepClone(v any) any { return deepCloneD(v, 0) }

func deepCloneD(v any, d int) any {
	checkValueDepth(d)
	switch x := v.(type) {
	case *Object:
		o := newObject(len(x.keys))
		for _, k := range x.keys {
			o.Set(k, deepCloneD(x.vals[k], d+1))
		}
		return o
	case map[string]any:
		o := newObject(len(x))
		for _, k := range objKeys(x) {
			o.Set(k, deepCloneD(x[k], d+1))
		}
		return o
	case []any, *seq:
		items, _ := arrayItems(v)
		out := make([]any, len(items))
		for i, it := range items {
			out[i] = deepCloneD(it, d+1)
		}
		return out
	}
	if f, ok := asNumber(v); ok {
		return f
	}
	return v
}
