package pattern

import (
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
	"unsafe"
)

// fold maps s to a canonical case-insensitive form. ASCII-only strings
// that are already lower case are returned without copying.
func fold(s string) string {
	ascii, lower := true, true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			ascii = false
			break
		}
		if c >= 'A' && c <= 'Z' {
			lower = false
		}
	}
	if ascii {
		if lower {
			return s
		}
		b := make([]byte, len(s))
		for i := 0; i < len(s); i++ {
			c := s[i]
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			b[i] = c
		}
		return unsafe.String(&b[0], len(b))
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		b.WriteRune(unicode.ToLower(unicode.ToUpper(r)))
	}
	return b.String()
}

// matchLeaf reports whether one event value satisfies m.
func (m *matcher) matchLeaf(l *leaf) bool {
	switch m.kind {
	case mExactString:
		return l.kind == vString && l.s == m.s
	case mExactIP, mCIDR:
		if l.kind != vString {
			return false
		}
		k, ok := l.asIP()
		return ok && m.ip.contains(k)
	case mExactNumber:
		return l.kind == vNumber && ((m.numOK && l.numOK && l.num == m.num) || l.s == m.s)
	case mExactTrue:
		return l.kind == vTrue
	case mExactFalse:
		return l.kind == vFalse
	case mExactNull:
		return l.kind == vNull
	case mPrefix:
		return l.kind == vString && strings.HasPrefix(l.s, m.s)
	case mPrefixFold:
		return l.kind == vString && strings.HasPrefix(l.foldedS(), m.s)
	case mSuffix:
		return l.kind == vString && strings.HasSuffix(l.s, m.s)
	case mSuffixFold:
		return l.kind == vString && strings.HasSuffix(l.foldedS(), m.s)
	case mEqualsFold:
		return l.kind == vString && l.foldedS() == m.s
	case mWildcard:
		return l.kind == vString && m.wc.match(l.s)
	case mNumeric:
		return l.kind == vNumber && l.numOK && l.num >= m.lo && l.num <= m.hi
	case mExists:
		return true
	case mAbsent:
		return false
	case mButStrings:
		return !(l.kind == vString && m.set[l.s])
	case mButNumbers:
		return !(l.kind == vNumber && l.numOK && m.nums[l.num])
	case mButPrefix:
		if l.kind != vString {
			return true
		}
		for _, p := range m.strs {
			if strings.HasPrefix(l.s, p) {
				return false
			}
		}
		return true
	case mButSuffix:
		if l.kind != vString {
			return true
		}
		for _, p := range m.strs {
			if strings.HasSuffix(l.s, p) {
				return false
			}
		}
		return true
	case mButFold:
		return !(l.kind == vString && m.set[l.foldedS()])
	case mButWildcard:
		if l.kind != vString {
			return true
		}
		for _, w := range m.wcs {
			if w.match(l.s) {
				return false
			}
		}
		return true
	}
	return false
}

func (f *field) matchLeaf(l *leaf) bool {
	for _, m := range f.matchers {
		if m.matchLeaf(l) {
			return true
		}
	}
	return false
}

// leafSource gives the event's leaves at a path id.
type leafSource interface {
	leavesAt(pid int32) []leaf
}

// maxConsistencySteps bounds the search for array-consistent leaves; an
// event that needs more is reported as not matching.
const maxConsistencySteps = 100000

// branchMatcher holds scratch space for matching branches.
type branchMatcher struct {
	cands  [][]*leaf
	all    [][]leaf // every leaf at each field's path
	absent []bool   // the field may be satisfied by absence
	chosen []*leaf
	steps  int
}

// match reports whether every field of b matches the event. pids maps the
// branch's field index to the path id used by src.
//
// Without arrays of objects every leaf may be combined with every other,
// and a field is absent when the event has no value at its path. With
// them, EventBridge's array consistency applies: the values used must not
// come from different elements of one array, and {"exists": false} holds
// when no value at the path is consistent with the values used.
func (bm *branchMatcher) match(b *branch, ev *flatEvent, src leafSource, pids []int32) bool {
	n := len(b.fields)
	bm.cands = grow(bm.cands[:cap(bm.cands)], n)[:n]
	bm.all = grow(bm.all[:cap(bm.all)], n)[:n]
	bm.absent = grow(bm.absent[:cap(bm.absent)], n)[:n]
	for i, f := range b.fields {
		ls := src.leavesAt(pids[i])
		bm.all[i] = ls
		bm.absent[i] = f.hasAbsent
		c := bm.cands[i][:0]
		for j := range ls {
			l := &ls[j]
			if f.matchLeaf(l) {
				if ev.anyObjArray {
					dup := false
					for _, o := range c {
						if sameTrail(ev, o, l) {
							dup = true
							break
						}
					}
					if dup {
						continue
					}
				}
				c = append(c, l)
			}
		}
		bm.cands[i] = c
		if len(c) == 0 && !(f.hasAbsent && (len(ls) == 0 || ev.anyObjArray)) {
			return false
		}
	}
	if !ev.anyObjArray {
		return true
	}
	bm.chosen = bm.chosen[:0]
	bm.steps = 0
	return bm.search(ev, 0)
}

func sameTrail(ev *flatEvent, a, b *leaf) bool {
	if a.trailLen != b.trailLen {
		return false
	}
	for k := int32(0); k < a.trailLen; k++ {
		if ev.trails[a.trail+k] != ev.trails[b.trail+k] {
			return false
		}
	}
	return true
}

// fits reports whether l is consistent with every chosen leaf.
func (bm *branchMatcher) fits(ev *flatEvent, l *leaf) bool {
	if !l.inObjArray {
		return true
	}
	for _, o := range bm.chosen {
		if o != nil && o.inObjArray && !ev.consistent(o, l) {
			return false
		}
	}
	return true
}

func (bm *branchMatcher) search(ev *flatEvent, i int) bool {
	if i == len(bm.cands) {
		// fields taken as absent: no value there may fit the choice
		for k := range bm.cands {
			if bm.absent[k] && bm.chosen[k] == nil {
				for j := range bm.all[k] {
					if bm.fits(ev, &bm.all[k][j]) {
						return false
					}
				}
			}
		}
		return true
	}
	for _, l := range bm.cands[i] {
		bm.steps++
		if bm.steps > maxConsistencySteps {
			return false
		}
		if !bm.fits(ev, l) {
			continue
		}
		bm.chosen = append(bm.chosen, l)
		if bm.search(ev, i+1) {
			return true
		}
		bm.chosen = bm.chosen[:len(bm.chosen)-1]
	}
	if bm.absent[i] {
		// try the field as absent; checked once all values are chosen
		bm.chosen = append(bm.chosen, nil)
		ok := bm.search(ev, i+1)
		bm.chosen = bm.chosen[:len(bm.chosen)-1]
		return ok
	}
	return false
}

// release drops references into the last event, keeping capacity.
func (bm *branchMatcher) release() {
	for i := range bm.cands {
		clear(bm.cands[i][:cap(bm.cands[i])])
		bm.cands[i] = bm.cands[i][:0]
	}
	clear(bm.chosen[:cap(bm.chosen)])
	bm.chosen = bm.chosen[:0]
	clear(bm.all[:cap(bm.all)])
}

// patternState is per-call scratch space for Pattern.Match.
type patternState struct {
	ev     flatEvent
	byPath [][]leaf
	bm     branchMatcher
}

func (st *patternState) leavesAt(pid int32) []leaf { return st.byPath[pid] }

var patternStates = sync.Pool{New: func() any { return new(patternState) }}

// Match reports whether the event (raw JSON) matches the pattern.
// Malformed JSON, or JSON that is not an object, is an error.
func (p *Pattern) Match(event []byte) (bool, error) {
	st := patternStates.Get().(*patternState)
	defer patternStates.Put(st)
	if err := flatten(event, p.paths, &st.ev); err != nil {
		return false, err
	}
	n := len(p.paths.names)
	if cap(st.byPath) < n {
		st.byPath = make([][]leaf, n)
	}
	st.byPath = st.byPath[:n]
	for i := range st.byPath {
		st.byPath[i] = st.byPath[i][:0]
	}
	for _, l := range st.ev.leaves {
		st.byPath[l.pid] = append(st.byPath[l.pid], l)
	}
	ok := false
	for _, b := range p.branches {
		if st.bm.match(b, &st.ev, st, b.pids) {
			ok = true
			break
		}
	}
	// drop references into the caller's event before pooling
	for i := range st.byPath {
		clear(st.byPath[i])
	}
	clear(st.ev.leaves)
	st.bm.release()
	return ok, nil
}
