package jsonata

import "regexp"

// node types after post-processing (processAST).
const (
	ntPath       = "path"
	ntBinary     = "binary"
	ntUnary      = "unary"
	ntName       = "name"
	ntString     = "string"
	ntNumber     = "number"
	ntValue      = "value"
	ntWildcard   = "wildcard"
	ntDescendant = "descendant"
	ntParent     = "parent"
	ntVariable   = "variable"
	ntRegex      = "regex"
	ntFunction   = "function"
	ntPartial    = "partial"
	ntLambda     = "lambda"
	ntCondition  = "condition"
	ntTransform  = "transform"
	ntBlock      = "block"
	ntBind       = "bind"
	ntApply      = "apply"
	ntSort       = "sort"
	ntOperator   = "operator"
	ntCoalesce   = "coalesce"
	ntElvis      = "elvis"
	ntEnd        = "end"
)

// slot records an ancestor ('%') binding resolved at parse time.
type slot struct {
	label string
	level int
	index int
}

// stage is a predicate filter or an index binding applied to a step.
type stage struct {
	isIndex bool
	expr    *node
	value   string // index variable name
	pos     int
}

type sortTerm struct {
	descending bool
	expr       *node
}

type groupBy struct {
	pairs [][2]*node
	pos   int
}

// node is one node of the abstract syntax tree. It is immutable after
// Compile so that an Expr can be evaluated concurrently.
type node struct {
	typ   string
	value string  // operator symbol, name, variable name, string literal
	num   float64 // number literal
	lit   any     // literal value for 'value' nodes (true/false/nil)
	pos   int

	lhs, rhs    *node
	expressions []*node
	steps       []*node
	predicate   []*stage // raw predicates before becoming stages
	stages      []*stage
	group       *groupBy
	terms       []sortTerm
	pairs       [][2]*node // object constructor (unary '{')
	sortTerms   []sortTerm // raw '^' terms

	procedure *node
	arguments []*node

	params    []string
	sig       *signature
	body      *node
	thunk     bool
	condition *node
	then, els *node
	pattern   *node
	update    *node
	del       *node

	regex      *regexp.Regexp
	regexSrc   string
	keepArray  bool
	keepSingle bool // keepSingletonArray on paths
	consarray  bool
	tuple      bool
	focus      string
	index      string
	hasFocus   bool
	hasIndex   bool

	slot          *slot
	ancestor      *slot
	seekingParent []*slot
	nextFunction  string
}
