package pattern

import (
	"sort"
)

// fieldRef names one indexable field of one branch held by a Matcher.
type fieldRef struct {
	branch int32
	field  int32
}

// trieNode is a byte trie used for prefixes (and, over reversed strings,
// suffixes). refs are fields whose operand ends at this node; wcs are
// wildcards whose literal prefix ends here.
type trieNode struct {
	keys     []byte
	children []*trieNode
	refs     []fieldRef
	wcs      []wildRef
}

type wildRef struct {
	wc  *wildcard
	ref fieldRef
}

func (n *trieNode) child(c byte) *trieNode {
	for i, k := range n.keys {
		if k == c {
			return n.children[i]
		}
	}
	return nil
}

func (n *trieNode) insert(key string, reverse bool) *trieNode {
	cur := n
	for i := 0; i < len(key); i++ {
		c := key[i]
		if reverse {
			c = key[len(key)-1-i]
		}
		next := cur.child(c)
		if next == nil {
			next = &trieNode{}
			cur.keys = append(cur.keys, c)
			cur.children = append(cur.children, next)
		}
		cur = next
	}
	return cur
}

// walk calls fn for every node on the path spelled by s (or s reversed),
// root included.
func (n *trieNode) walk(s string, reverse bool, fn func(*trieNode)) {
	cur := n
	fn(cur)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if reverse {
			c = s[len(s)-1-i]
		}
		cur = cur.child(c)
		if cur == nil {
			return
		}
		fn(cur)
	}
}

// intervalSet answers "which intervals contain x" in O(log n + k) with an
// implicit interval tree over intervals sorted by their low end.
type intervalSet[K any] struct {
	less  func(a, b K) bool
	items []interval[K]
	maxHi []K
	dirty bool
}

type interval[K any] struct {
	lo, hi K
	ref    fieldRef
}

func (s *intervalSet[K]) add(lo, hi K, ref fieldRef) {
	s.items = append(s.items, interval[K]{lo: lo, hi: hi, ref: ref})
	s.dirty = true
}

func (s *intervalSet[K]) build() {
	sort.SliceStable(s.items, func(i, j int) bool { return s.less(s.items[i].lo, s.items[j].lo) })
	if cap(s.maxHi) < len(s.items) {
		s.maxHi = make([]K, len(s.items))
	}
	s.maxHi = s.maxHi[:len(s.items)]
	s.fill(0, len(s.items))
	s.dirty = false
}

func (s *intervalSet[K]) fill(l, r int) (K, bool) {
	var zero K
	if l >= r {
		return zero, false
	}
	mid := (l + r) / 2
	m := s.items[mid].hi
	if x, ok := s.fill(l, mid); ok && s.less(m, x) {
		m = x
	}
	if x, ok := s.fill(mid+1, r); ok && s.less(m, x) {
		m = x
	}
	s.maxHi[mid] = m
	return m, true
}

func (s *intervalSet[K]) query(x K, fn func(fieldRef)) {
	s.queryRange(0, len(s.items), x, fn)
}

func (s *intervalSet[K]) queryRange(l, r int, x K, fn func(fieldRef)) {
	for l < r {
		mid := (l + r) / 2
		if s.less(s.maxHi[mid], x) {
			return
		}
		s.queryRange(l, mid, x, fn)
		it := &s.items[mid]
		if s.less(x, it.lo) {
			return
		}
		if !s.less(it.hi, x) {
			fn(it.ref)
		}
		l = mid + 1
	}
}

func lessInt64(a, b int64) bool { return a < b }

func lessIP(a, b ipKey) bool { return a.less(b) }

// pathIndex holds every indexable operand the Matcher's rules give for
// one path.
type pathIndex struct {
	exists     []fieldRef
	exactStr   map[string][]fieldRef
	exactNum   map[int64][]fieldRef
	exactText  map[string][]fieldRef // numbers EventBridge cannot compare numerically
	exactLit   [3][]fieldRef         // true, false, null
	exactIP    map[ipKey][]fieldRef
	fold       map[string][]fieldRef
	prefix     *trieNode
	prefixFold *trieNode
	suffix     *trieNode
	suffixFold *trieNode
	wild       *trieNode
	numeric    *intervalSet[int64]
	cidr       *intervalSet[ipKey]
	needFold   bool
	needIP     bool
}

func addRef[K comparable](m *map[K][]fieldRef, k K, ref fieldRef) {
	if *m == nil {
		*m = map[K][]fieldRef{}
	}
	(*m)[k] = append((*m)[k], ref)
}

func trieFor(t **trieNode) *trieNode {
	if *t == nil {
		*t = &trieNode{}
	}
	return *t
}

// add indexes one matcher of an indexable field.
func (x *pathIndex) add(m *matcher, ref fieldRef) {
	switch m.kind {
	case mExactString:
		addRef(&x.exactStr, m.s, ref)
	case mExactIP:
		addRef(&x.exactIP, m.ip.lo, ref)
		x.needIP = true
	case mExactNumber:
		if m.numOK {
			addRef(&x.exactNum, m.num, ref)
		} else {
			addRef(&x.exactText, m.s, ref)
		}
	case mExactTrue:
		x.exactLit[0] = append(x.exactLit[0], ref)
	case mExactFalse:
		x.exactLit[1] = append(x.exactLit[1], ref)
	case mExactNull:
		x.exactLit[2] = append(x.exactLit[2], ref)
	case mPrefix:
		n := trieFor(&x.prefix).insert(m.s, false)
		n.refs = append(n.refs, ref)
	case mPrefixFold:
		n := trieFor(&x.prefixFold).insert(m.s, false)
		n.refs = append(n.refs, ref)
		x.needFold = true
	case mSuffix:
		n := trieFor(&x.suffix).insert(m.s, true)
		n.refs = append(n.refs, ref)
	case mSuffixFold:
		n := trieFor(&x.suffixFold).insert(m.s, true)
		n.refs = append(n.refs, ref)
		x.needFold = true
	case mEqualsFold:
		addRef(&x.fold, m.s, ref)
		x.needFold = true
	case mWildcard:
		n := trieFor(&x.wild).insert(m.wc.literalPrefix(), false)
		n.wcs = append(n.wcs, wildRef{wc: m.wc, ref: ref})
	case mNumeric:
		if x.numeric == nil {
			x.numeric = &intervalSet[int64]{less: lessInt64}
		}
		x.numeric.add(m.lo, m.hi, ref)
	case mCIDR:
		if x.cidr == nil {
			x.cidr = &intervalSet[ipKey]{less: lessIP}
		}
		x.cidr.add(m.ip.lo, m.ip.hi, ref)
		x.needIP = true
	case mExists:
		x.exists = append(x.exists, ref)
	}
}

func (x *pathIndex) dirty() bool {
	return (x.numeric != nil && x.numeric.dirty) || (x.cidr != nil && x.cidr.dirty)
}

func (x *pathIndex) build() {
	if x.numeric != nil && x.numeric.dirty {
		x.numeric.build()
	}
	if x.cidr != nil && x.cidr.dirty {
		x.cidr.build()
	}
}

// lookup calls mark for every indexed field that the leaf satisfies.
func (x *pathIndex) lookup(l *leaf, mark func(fieldRef)) {
	for _, r := range x.exists {
		mark(r)
	}
	switch l.kind {
	case vString:
		s := l.s
		for _, r := range x.exactStr[s] {
			mark(r)
		}
		if x.prefix != nil {
			x.prefix.walk(s, false, func(n *trieNode) {
				for _, r := range n.refs {
					mark(r)
				}
			})
		}
		if x.suffix != nil {
			x.suffix.walk(s, true, func(n *trieNode) {
				for _, r := range n.refs {
					mark(r)
				}
			})
		}
		if x.wild != nil {
			x.wild.walk(s, false, func(n *trieNode) {
				for _, w := range n.wcs {
					if w.wc.match(s) {
						mark(w.ref)
					}
				}
			})
		}
		if x.needFold {
			f := l.foldedS()
			for _, r := range x.fold[f] {
				mark(r)
			}
			if x.prefixFold != nil {
				x.prefixFold.walk(f, false, func(n *trieNode) {
					for _, r := range n.refs {
						mark(r)
					}
				})
			}
			if x.suffixFold != nil {
				x.suffixFold.walk(f, true, func(n *trieNode) {
					for _, r := range n.refs {
						mark(r)
					}
				})
			}
		}
		if x.needIP {
			if k, ok := l.asIP(); ok {
				for _, r := range x.exactIP[k] {
					mark(r)
				}
				if x.cidr != nil {
					x.cidr.query(k, mark)
				}
			}
		}
	case vNumber:
		if l.numOK {
			for _, r := range x.exactNum[l.num] {
				mark(r)
			}
			if x.numeric != nil {
				x.numeric.query(l.num, mark)
			}
		} else {
			for _, r := range x.exactText[l.s] {
				mark(r)
			}
		}
	case vTrue:
		for _, r := range x.exactLit[0] {
			mark(r)
		}
	case vFalse:
		for _, r := range x.exactLit[1] {
			mark(r)
		}
	case vNull:
		for _, r := range x.exactLit[2] {
			mark(r)
		}
	}
}
