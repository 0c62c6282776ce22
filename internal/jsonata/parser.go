package jsonata

import (
	"strconv"
)

// infixBP is the left binding power of symbols that can appear in infix
// position; symbols absent here (including ')', ']', '|', '..') bind 0.
var infixBP = map[string]int{
	".": 75, "[": 80, "{": 70, "(": 80, "@": 80, "#": 80, "?": 20,
	"+": 50, "-": 50, "*": 60, "/": 60, "%": 60, "=": 40, "<": 40, ">": 40,
	"^": 40, ":=": 10, "!=": 40, "<=": 40, ">=": 40, "~>": 40, "?:": 40,
	"??": 40, "and": 30, "or": 25, "in": 40, "&": 50,
}

// pnode is the parser's view of the current token.
type pnode struct {
	tok token
	id  string // symbol id: operator text or (name) (literal) (regex) (end)
}

func (n pnode) text() string {
	switch n.tok.kind {
	case tokNumber:
		return formatNumber(n.tok.num)
	case tokValue:
		if n.tok.val == nil {
			return "null"
		}
		return strconv.FormatBool(n.tok.val.(bool))
	case tokEnd:
		return "(end)"
	}
	return n.tok.str
}

type parser struct {
	lex      lexer
	cur      pnode
	src      string
	ancLabel int
	ancIndex int
	depth    int
}

const maxParseDepth = 1000

func parse(src string) (n *node, err error) {
	p := &parser{lex: lexer{src: src}, src: src}
	if err := p.advance("", false); err != nil {
		return nil, err
	}
	expr, err := p.expression(0)
	if err != nil {
		return nil, err
	}
	if p.cur.id != "(end)" {
		return nil, newErr("S0201", p.cur.tok.pos, p.cur.text(), nil)
	}
	res, err := p.process(expr)
	if err != nil {
		return nil, err
	}
	if res.typ == ntParent || res.seekingParent != nil {
		return nil, newErr("S0217", res.pos, res.typ, nil)
	}
	return res, nil
}

func (p *parser) advance(id string, infix bool) error {
	if id != "" && p.cur.id != id {
		code := "S0202"
		if p.cur.id == "(end)" {
			code = "S0203"
		}
		return newErr(code, p.cur.tok.pos, p.cur.text(), id)
	}
	t, err := p.lex.next(infix)
	if err != nil {
		return err
	}
	var sym string
	switch t.kind {
	case tokEnd:
		sym = "(end)"
	case tokName, tokVariable:
		sym = "(name)"
	case tokOperator:
		sym = t.str
		if sym == "!" || sym == "~" {
			return newErr("S0204", t.pos, sym, nil)
		}
	case tokString, tokNumber, tokValue:
		sym = "(literal)"
	case tokRegex:
		sym = "(regex)"
	}
	p.cur = pnode{tok: t, id: sym}
	return nil
}

func (p *parser) lbp() int {
	if p.cur.tok.kind != tokOperator {
		return 0
	}
	return infixBP[p.cur.id]
}

func (p *parser) expression(rbp int) (*node, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxParseDepth {
		return nil, newErr("S0201", p.cur.tok.pos, p.cur.text(), nil)
	}
	t := p.cur
	if err := p.advance("", true); err != nil {
		return nil, err
	}
	left, err := p.nud(t)
	if err != nil {
		return nil, err
	}
	for rbp < p.lbp() {
		t = p.cur
		if err := p.advance("", false); err != nil {
			return nil, err
		}
		left, err = p.led(t, left)
		if err != nil {
			return nil, err
		}
	}
	return left, nil
}

func (p *parser) nud(t pnode) (*node, error) {
	pos := t.tok.pos
	switch t.tok.kind {
	case tokEnd:
		return &node{typ: ntEnd, pos: pos}, nil
	case tokName:
		return &node{typ: ntName, value: t.tok.str, pos: pos}, nil
	case tokVariable:
		return &node{typ: ntVariable, value: t.tok.str, pos: pos}, nil
	case tokString:
		return &node{typ: ntString, value: t.tok.str, pos: pos}, nil
	case tokNumber:
		return &node{typ: ntNumber, num: t.tok.num, pos: pos}, nil
	case tokValue:
		return &node{typ: ntValue, lit: t.tok.val, pos: pos}, nil
	case tokRegex:
		re, err := compileRegex(t.tok.str, t.tok.flags)
		if err != nil {
			// RE2 lacks some JavaScript features (look-around, back-references)
			e := newErr("S0302", pos, t.tok.str, nil)
			e.Message = "Unsupported or invalid regular expression /" + t.tok.str + "/: " + err.Error()
			return nil, e
		}
		return &node{typ: ntRegex, regex: re, regexSrc: t.tok.str, pos: pos}, nil
	}
	switch t.id {
	case "and", "or", "in":
		return &node{typ: ntOperator, value: t.id, pos: pos}, nil
	case "-":
		e, err := p.expression(70)
		if err != nil {
			return nil, err
		}
		return &node{typ: ntUnary, value: "-", lhs: e, pos: pos}, nil
	case "*":
		return &node{typ: ntWildcard, value: "*", pos: pos}, nil
	case "**":
		return &node{typ: ntDescendant, value: "**", pos: pos}, nil
	case "%":
		return &node{typ: ntParent, value: "%", pos: pos}, nil
	case "(":
		var exprs []*node
		for p.cur.id != ")" {
			e, err := p.expression(0)
			if err != nil {
				return nil, err
			}
			exprs = append(exprs, e)
			if p.cur.id != ";" {
				break
			}
			if err := p.advance(";", false); err != nil {
				return nil, err
			}
		}
		if err := p.advance(")", true); err != nil {
			return nil, err
		}
		return &node{typ: ntBlock, expressions: exprs, pos: pos}, nil
	case "[":
		var items []*node
		if p.cur.id != "]" {
			for {
				item, err := p.expression(0)
				if err != nil {
					return nil, err
				}
				if p.cur.id == ".." {
					r := &node{typ: ntBinary, value: "..", pos: p.cur.tok.pos, lhs: item}
					if err := p.advance("..", false); err != nil {
						return nil, err
					}
					r.rhs, err = p.expression(0)
					if err != nil {
						return nil, err
					}
					item = r
				}
				items = append(items, item)
				if p.cur.id != "," {
					break
				}
				if err := p.advance(",", false); err != nil {
					return nil, err
				}
			}
		}
		if err := p.advance("]", true); err != nil {
			return nil, err
		}
		return &node{typ: ntUnary, value: "[", expressions: items, pos: pos}, nil
	case "{":
		pairs, err := p.objectPairs()
		if err != nil {
			return nil, err
		}
		return &node{typ: ntUnary, value: "{", pairs: pairs, pos: pos}, nil
	case "|":
		n := &node{typ: ntTransform, pos: pos}
		var err error
		if n.pattern, err = p.expression(0); err != nil {
			return nil, err
		}
		if err := p.advance("|", false); err != nil {
			return nil, err
		}
		if n.update, err = p.expression(0); err != nil {
			return nil, err
		}
		if p.cur.id == "," {
			if err := p.advance(",", false); err != nil {
				return nil, err
			}
			if n.del, err = p.expression(0); err != nil {
				return nil, err
			}
		}
		if err := p.advance("|", false); err != nil {
			return nil, err
		}
		return n, nil
	}
	return nil, newErr("S0211", pos, t.id, nil)
}

func (p *parser) objectPairs() ([][2]*node, error) {
	var pairs [][2]*node
	if p.cur.id != "}" {
		for {
			k, err := p.expression(0)
			if err != nil {
				return nil, err
			}
			if err := p.advance(":", false); err != nil {
				return nil, err
			}
			v, err := p.expression(0)
			if err != nil {
				return nil, err
			}
			pairs = append(pairs, [2]*node{k, v})
			if p.cur.id != "," {
				break
			}
			if err := p.advance(",", false); err != nil {
				return nil, err
			}
		}
	}
	if err := p.advance("}", true); err != nil {
		return nil, err
	}
	return pairs, nil
}

func (p *parser) led(t pnode, left *node) (*node, error) {
	pos := t.tok.pos
	op := t.id
	switch op {
	case "(":
		n := &node{typ: ntFunction, value: "(", procedure: left, pos: pos}
		if p.cur.id != ")" {
			for {
				if p.cur.tok.kind == tokOperator && p.cur.id == "?" {
					n.typ = ntPartial
					n.arguments = append(n.arguments, &node{typ: ntOperator, value: "?", pos: p.cur.tok.pos})
					if err := p.advance("?", false); err != nil {
						return nil, err
					}
				} else {
					a, err := p.expression(0)
					if err != nil {
						return nil, err
					}
					n.arguments = append(n.arguments, a)
				}
				if p.cur.id != "," {
					break
				}
				if err := p.advance(",", false); err != nil {
					return nil, err
				}
			}
		}
		if err := p.advance(")", true); err != nil {
			return nil, err
		}
		if left.typ == ntName && (left.value == "function" || left.value == "λ") {
			for i, a := range n.arguments {
				if a.typ != ntVariable {
					tokText := a.value
					return nil, newErr("S0208", a.pos, tokText, i+1)
				}
				n.params = append(n.params, a.value)
			}
			n.typ = ntLambda
			if p.cur.id == "<" {
				sigPos := p.cur.tok.pos
				depth := 1
				sig := "<"
				for depth > 0 && p.cur.id != "{" && p.cur.id != "(end)" {
					if err := p.advance("", false); err != nil {
						return nil, err
					}
					if p.cur.id == ">" {
						depth--
					} else if p.cur.id == "<" {
						depth++
					}
					sig += p.cur.text()
				}
				if err := p.advance(">", false); err != nil {
					return nil, err
				}
				s, err := parseSignature(sig)
				if err != nil {
					if e, ok := err.(*Error); ok {
						e.Position += sigPos
					}
					return nil, err
				}
				n.sig = s
			}
			if err := p.advance("{", false); err != nil {
				return nil, err
			}
			body, err := p.expression(0)
			if err != nil {
				return nil, err
			}
			n.body = body
			if err := p.advance("}", false); err != nil {
				return nil, err
			}
		}
		return n, nil
	case "[":
		if p.cur.id == "]" {
			step := left
			for step != nil && step.typ == ntBinary && step.value == "[" {
				step = step.lhs
			}
			step.keepArray = true
			if err := p.advance("]", false); err != nil {
				return nil, err
			}
			return left, nil
		}
		rhs, err := p.expression(0)
		if err != nil {
			return nil, err
		}
		if err := p.advance("]", true); err != nil {
			return nil, err
		}
		return &node{typ: ntBinary, value: "[", lhs: left, rhs: rhs, pos: pos}, nil
	case "^":
		if err := p.advance("(", false); err != nil {
			return nil, err
		}
		var terms []sortTerm
		for {
			term := sortTerm{}
			if p.cur.id == "<" {
				if err := p.advance("<", false); err != nil {
					return nil, err
				}
			} else if p.cur.id == ">" {
				term.descending = true
				if err := p.advance(">", false); err != nil {
					return nil, err
				}
			}
			e, err := p.expression(0)
			if err != nil {
				return nil, err
			}
			term.expr = e
			terms = append(terms, term)
			if p.cur.id != "," {
				break
			}
			if err := p.advance(",", false); err != nil {
				return nil, err
			}
		}
		if err := p.advance(")", false); err != nil {
			return nil, err
		}
		return &node{typ: ntBinary, value: "^", lhs: left, sortTerms: terms, pos: pos}, nil
	case "{":
		pairs, err := p.objectPairs()
		if err != nil {
			return nil, err
		}
		return &node{typ: ntBinary, value: "{", lhs: left, pairs: pairs, pos: pos}, nil
	case ":=":
		if left.typ != ntVariable {
			return nil, newErr("S0212", left.pos, left.value, nil)
		}
		rhs, err := p.expression(infixBP[":="] - 1)
		if err != nil {
			return nil, err
		}
		return &node{typ: ntBinary, value: ":=", lhs: left, rhs: rhs, pos: pos}, nil
	case "@", "#":
		rhs, err := p.expression(infixBP[op])
		if err != nil {
			return nil, err
		}
		if rhs.typ != ntVariable {
			return nil, newErr("S0214", rhs.pos, op, nil)
		}
		return &node{typ: ntBinary, value: op, lhs: left, rhs: rhs, pos: pos}, nil
	case "?":
		n := &node{typ: ntCondition, condition: left, pos: pos}
		var err error
		if n.then, err = p.expression(0); err != nil {
			return nil, err
		}
		if p.cur.id == ":" {
			if err := p.advance(":", false); err != nil {
				return nil, err
			}
			if n.els, err = p.expression(0); err != nil {
				return nil, err
			}
		}
		return n, nil
	case "??", "?:":
		rhs, err := p.expression(infixBP[op])
		if err != nil {
			return nil, err
		}
		typ := ntCoalesce
		if op == "?:" {
			typ = ntElvis
		}
		return &node{typ: typ, value: op, lhs: left, rhs: rhs, pos: pos}, nil
	}
	bp, ok := infixBP[op]
	if !ok {
		return nil, newErr("S0201", pos, op, nil)
	}
	rhs, err := p.expression(bp)
	if err != nil {
		return nil, err
	}
	return &node{typ: ntBinary, value: op, lhs: left, rhs: rhs, pos: pos}, nil
}

// tailCallOptimize wraps a function call in tail position in a thunk lambda.
func tailCallOptimize(e *node) *node {
	switch {
	case e.typ == ntFunction && len(e.predicate) == 0:
		return &node{typ: ntLambda, thunk: true, body: e, pos: e.pos}
	case e.typ == ntCondition:
		e.then = tailCallOptimize(e.then)
		if e.els != nil {
			e.els = tailCallOptimize(e.els)
		}
	case e.typ == ntBlock:
		if n := len(e.expressions); n > 0 {
			e.expressions[n-1] = tailCallOptimize(e.expressions[n-1])
		}
	}
	return e
}

func (p *parser) seekParent(n *node, s *slot) (*slot, error) {
	switch n.typ {
	case ntName, ntWildcard:
		s.level--
		if s.level == 0 {
			if n.ancestor == nil {
				n.ancestor = s
			} else {
				s.label = n.ancestor.label
				n.ancestor = s
			}
			n.tuple = true
		}
	case ntParent:
		s.level++
	case ntBlock:
		if len(n.expressions) > 0 {
			n.tuple = true
			return p.seekParent(n.expressions[len(n.expressions)-1], s)
		}
	case ntPath:
		n.tuple = true
		idx := len(n.steps) - 1
		var err error
		s, err = p.seekParent(n.steps[idx], s)
		if err != nil {
			return nil, err
		}
		idx--
		for s.level > 0 && idx >= 0 {
			s, err = p.seekParent(n.steps[idx], s)
			if err != nil {
				return nil, err
			}
			idx--
		}
	default:
		return nil, newErr("S0217", n.pos, n.typ, nil)
	}
	return s, nil
}

func pushAncestry(result, value *node) {
	if value == nil {
		return
	}
	if value.seekingParent != nil || value.typ == ntParent {
		slots := append([]*slot(nil), value.seekingParent...)
		if value.typ == ntParent {
			slots = append(slots, value.slot)
		}
		result.seekingParent = append(result.seekingParent, slots...)
		if result.seekingParent == nil {
			result.seekingParent = []*slot{}
		}
	}
}

func (p *parser) resolveAncestry(path *node) error {
	index := len(path.steps) - 1
	last := path.steps[index]
	slots := append([]*slot(nil), last.seekingParent...)
	if last.typ == ntParent {
		slots = append(slots, last.slot)
	}
	for _, s := range slots {
		index = len(path.steps) - 2
		for s.level > 0 {
			if index < 0 {
				path.seekingParent = append(path.seekingParent, s)
				break
			}
			step := path.steps[index]
			index--
			for index >= 0 && step.hasFocus && path.steps[index].hasFocus {
				step = path.steps[index]
				index--
			}
			var err error
			s, err = p.seekParent(step, s)
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// process is the post-parse stage: it flattens location paths into steps
// with predicate stages and resolves parent references.
func (p *parser) process(e *node) (*node, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxParseDepth*5 {
		return nil, newErr("S0201", e.pos, "", nil)
	}
	var result *node
	var err error
	switch e.typ {
	case ntBinary:
		switch e.value {
		case ".":
			lstep, err := p.process(e.lhs)
			if err != nil {
				return nil, err
			}
			if lstep.typ == ntPath {
				result = lstep
			} else {
				result = &node{typ: ntPath, steps: []*node{lstep}, pos: e.pos}
			}
			if lstep.typ == ntParent {
				result.seekingParent = []*slot{lstep.slot}
			}
			rest, err := p.process(e.rhs)
			if err != nil {
				return nil, err
			}
			if rest.typ == ntFunction && rest.procedure.typ == ntPath && len(rest.procedure.steps) == 1 &&
				rest.procedure.steps[0].typ == ntName && result.steps[len(result.steps)-1].typ == ntFunction {
				result.steps[len(result.steps)-1].nextFunction = rest.procedure.steps[0].value
			}
			if rest.typ == ntPath {
				result.steps = append(result.steps, rest.steps...)
			} else {
				if rest.predicate != nil {
					rest.stages = rest.predicate
					rest.predicate = nil
				}
				result.steps = append(result.steps, rest)
			}
			for _, step := range result.steps {
				if step.typ == ntNumber || step.typ == ntValue {
					var v any = step.lit
					if step.typ == ntNumber {
						v = step.num
					}
					return nil, newErr("S0213", step.pos, "", v)
				}
				if step.typ == ntString {
					step.typ = ntName
				}
			}
			for _, step := range result.steps {
				if step.keepArray {
					result.keepSingle = true
				}
			}
			first := result.steps[0]
			if first.typ == ntUnary && first.value == "[" {
				first.consarray = true
			}
			last := result.steps[len(result.steps)-1]
			if last.typ == ntUnary && last.value == "[" {
				last.consarray = true
			}
			if err := p.resolveAncestry(result); err != nil {
				return nil, err
			}
		case "[":
			result, err = p.process(e.lhs)
			if err != nil {
				return nil, err
			}
			step := result
			isStages := false
			if result.typ == ntPath {
				step = result.steps[len(result.steps)-1]
				isStages = true
			}
			if step.group != nil {
				return nil, newErr("S0209", e.pos, "", nil)
			}
			pred, err := p.process(e.rhs)
			if err != nil {
				return nil, err
			}
			if pred.seekingParent != nil {
				for _, s := range pred.seekingParent {
					if s.level == 1 {
						if _, err := p.seekParent(step, s); err != nil {
							return nil, err
						}
					} else {
						s.level--
					}
				}
				pushAncestry(step, pred)
			}
			st := &stage{expr: pred, pos: e.pos}
			if isStages {
				step.stages = append(step.stages, st)
			} else {
				step.predicate = append(step.predicate, st)
			}
		case "{":
			result, err = p.process(e.lhs)
			if err != nil {
				return nil, err
			}
			if result.group != nil {
				return nil, newErr("S0210", e.pos, "", nil)
			}
			g := &groupBy{pos: e.pos}
			for _, pr := range e.pairs {
				k, err := p.process(pr[0])
				if err != nil {
					return nil, err
				}
				v, err := p.process(pr[1])
				if err != nil {
					return nil, err
				}
				g.pairs = append(g.pairs, [2]*node{k, v})
			}
			result.group = g
		case "^":
			result, err = p.process(e.lhs)
			if err != nil {
				return nil, err
			}
			if result.typ != ntPath {
				result = &node{typ: ntPath, steps: []*node{result}, pos: e.pos}
			}
			sortStep := &node{typ: ntSort, pos: e.pos}
			for _, t := range e.sortTerms {
				x, err := p.process(t.expr)
				if err != nil {
					return nil, err
				}
				pushAncestry(sortStep, x)
				sortStep.terms = append(sortStep.terms, sortTerm{descending: t.descending, expr: x})
			}
			result.steps = append(result.steps, sortStep)
			if err := p.resolveAncestry(result); err != nil {
				return nil, err
			}
		case ":=":
			result = &node{typ: ntBind, value: e.value, pos: e.pos}
			if result.lhs, err = p.process(e.lhs); err != nil {
				return nil, err
			}
			if result.rhs, err = p.process(e.rhs); err != nil {
				return nil, err
			}
			pushAncestry(result, result.rhs)
		case "@":
			result, err = p.process(e.lhs)
			if err != nil {
				return nil, err
			}
			step := result
			if result.typ == ntPath {
				step = result.steps[len(result.steps)-1]
			}
			if step.stages != nil || step.predicate != nil {
				return nil, newErr("S0215", e.pos, "", nil)
			}
			if step.typ == ntSort {
				return nil, newErr("S0216", e.pos, "", nil)
			}
			if e.keepArray {
				step.keepArray = true
			}
			step.focus = e.rhs.value
			step.hasFocus = true
			step.tuple = true
		case "#":
			result, err = p.process(e.lhs)
			if err != nil {
				return nil, err
			}
			step := result
			if result.typ == ntPath {
				step = result.steps[len(result.steps)-1]
			} else {
				result = &node{typ: ntPath, steps: []*node{result}, pos: e.pos}
				if step.predicate != nil {
					step.stages = step.predicate
					step.predicate = nil
				}
			}
			if step.stages == nil {
				step.index = e.rhs.value
				step.hasIndex = true
			} else {
				step.stages = append(step.stages, &stage{isIndex: true, value: e.rhs.value, pos: e.pos})
			}
			step.tuple = true
		case "~>":
			result = &node{typ: ntApply, value: e.value, pos: e.pos}
			if result.lhs, err = p.process(e.lhs); err != nil {
				return nil, err
			}
			if result.rhs, err = p.process(e.rhs); err != nil {
				return nil, err
			}
			result.keepArray = result.lhs.keepArray || result.rhs.keepArray
		default:
			result = &node{typ: e.typ, value: e.value, pos: e.pos}
			if result.lhs, err = p.process(e.lhs); err != nil {
				return nil, err
			}
			if result.rhs, err = p.process(e.rhs); err != nil {
				return nil, err
			}
			pushAncestry(result, result.lhs)
			pushAncestry(result, result.rhs)
		}
	case ntCoalesce, ntElvis:
		result = &node{typ: e.typ, value: e.value, pos: e.pos}
		if result.lhs, err = p.process(e.lhs); err != nil {
			return nil, err
		}
		if result.rhs, err = p.process(e.rhs); err != nil {
			return nil, err
		}
		pushAncestry(result, result.lhs)
		pushAncestry(result, result.rhs)
	case ntUnary:
		result = &node{typ: e.typ, value: e.value, pos: e.pos}
		switch e.value {
		case "[":
			for _, item := range e.expressions {
				v, err := p.process(item)
				if err != nil {
					return nil, err
				}
				pushAncestry(result, v)
				result.expressions = append(result.expressions, v)
			}
			if result.expressions == nil {
				result.expressions = []*node{}
			}
		case "{":
			for _, pr := range e.pairs {
				k, err := p.process(pr[0])
				if err != nil {
					return nil, err
				}
				pushAncestry(result, k)
				v, err := p.process(pr[1])
				if err != nil {
					return nil, err
				}
				pushAncestry(result, v)
				result.pairs = append(result.pairs, [2]*node{k, v})
			}
		default:
			x, err := p.process(e.lhs)
			if err != nil {
				return nil, err
			}
			if e.value == "-" && x.typ == ntNumber {
				result = x
				result.num = -result.num
			} else {
				result.lhs = x
				pushAncestry(result, x)
			}
		}
	case ntFunction, ntPartial:
		result = &node{typ: e.typ, value: e.value, pos: e.pos}
		for _, a := range e.arguments {
			x, err := p.process(a)
			if err != nil {
				return nil, err
			}
			pushAncestry(result, x)
			result.arguments = append(result.arguments, x)
		}
		if result.procedure, err = p.process(e.procedure); err != nil {
			return nil, err
		}
	case ntLambda:
		result = &node{typ: e.typ, params: e.params, sig: e.sig, pos: e.pos}
		body, err := p.process(e.body)
		if err != nil {
			return nil, err
		}
		result.body = tailCallOptimize(body)
	case ntCondition:
		result = &node{typ: e.typ, pos: e.pos}
		if result.condition, err = p.process(e.condition); err != nil {
			return nil, err
		}
		pushAncestry(result, result.condition)
		if result.then, err = p.process(e.then); err != nil {
			return nil, err
		}
		pushAncestry(result, result.then)
		if e.els != nil {
			if result.els, err = p.process(e.els); err != nil {
				return nil, err
			}
			pushAncestry(result, result.els)
		}
	case ntTransform:
		result = &node{typ: e.typ, pos: e.pos}
		if result.pattern, err = p.process(e.pattern); err != nil {
			return nil, err
		}
		if result.update, err = p.process(e.update); err != nil {
			return nil, err
		}
		if e.del != nil {
			if result.del, err = p.process(e.del); err != nil {
				return nil, err
			}
		}
	case ntBlock:
		result = &node{typ: e.typ, pos: e.pos}
		for _, item := range e.expressions {
			part, err := p.process(item)
			if err != nil {
				return nil, err
			}
			pushAncestry(result, part)
			if part.consarray || (part.typ == ntPath && part.steps[0].consarray) {
				result.consarray = true
			}
			result.expressions = append(result.expressions, part)
		}
	case ntName:
		result = &node{typ: ntPath, steps: []*node{e}, pos: e.pos}
		if e.keepArray {
			result.keepSingle = true
		}
	case ntParent:
		result = &node{typ: ntParent, pos: e.pos, slot: &slot{label: "!" + strconv.Itoa(p.ancLabel), level: 1, index: p.ancIndex}}
		p.ancLabel++
		p.ancIndex++
	case ntString, ntNumber, ntValue, ntWildcard, ntDescendant, ntVariable, ntRegex:
		result = e
	case ntOperator:
		if e.value == "and" || e.value == "or" || e.value == "in" {
			e.typ = ntName
			return p.process(e)
		} else if e.value == "?" {
			result = e
		} else {
			return nil, newErr("S0201", e.pos, e.value, nil)
		}
	case ntEnd:
		return nil, newErr("S0207", e.pos, "(end)", nil)
	default:
		return nil, newErr("S0206", e.pos, e.value, nil)
	}
	if e.keepArray {
		result.keepArray = true
	}
	return result, nil
}
