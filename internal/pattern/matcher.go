package pattern

import (
	"fmt"
	"sort"
	"strconv"
	"sync"
)

// Matcher holds many patterns, each under a rule id, and finds the rules
// an event matches. It is safe for concurrent use.
//
// Matching does not loop over rules. The event is scanned once, keeping
// only values at paths some rule names. Each branch of each rule (one $or
// alternative) is indexed under one key field: the field whose operands
// the fewest other rules share, preferring exact values over prefixes,
// suffixes and wildcards, and those over numeric ranges, CIDR blocks and
// exists. Each kept value is looked up in its path's index (hash maps for
// exact and case-folded values, tries for prefixes, suffixes and wildcard
// heads, interval trees for numeric ranges and CIDR blocks); a branch
// whose key field is satisfied becomes a candidate and only candidates
// are checked in full (their other fields, anything-but and exists:false,
// and array consistency). The cost of a match is therefore the scan plus
// the candidates, not the number of rules. Branches with no indexable
// field (only anything-but or exists:false) are candidates for every
// event. Keys are re-chosen when a tenth of the rules are new.
type Matcher struct {
	mu       sync.RWMutex
	dirty    bool // some interval tree needs building
	paths    *pathSet
	index    []*pathIndex // by path id
	rules    map[string]*ruleEntry
	ruleList []*ruleEntry // by rule number
	branches []branchEntry
	always   []int32 // branches with no indexable field
	nFields  int32
	pop      map[popKey]int // indexable operands by use, for key choice
	// sinceRekey counts rules added since keys were last chosen with
	// full knowledge; build re-chooses once it is a tenth of the rules.
	sinceRekey int
	live       int
	dead       int
	states     sync.Pool
}

type ruleEntry struct {
	id       string
	p        *Pattern
	branches []int32
	dead     bool
}

type branchEntry struct {
	rule       int32
	b          *branch
	pids       []int32 // global path id of each field
	nIndexed   int32
	needVerify bool
	dead       bool
}

// NewMatcher returns an empty Matcher.
func NewMatcher() *Matcher {
	m := &Matcher{}
	m.reset()
	return m
}

func (m *Matcher) reset() {
	m.paths = newPathSet()
	m.index = nil
	m.rules = map[string]*ruleEntry{}
	m.ruleList = nil
	m.branches = nil
	m.always = nil
	m.nFields = 0
	m.pop = map[popKey]int{}
	m.sinceRekey = 0
	m.live, m.dead = 0, 0
	m.dirty = false
}

// Add stores p under id, replacing any pattern stored under id before.
// A nil p removes id.
func (m *Matcher) Add(id string, p *Pattern) {
	if p == nil {
		m.Remove(id)
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if old, ok := m.rules[id]; ok {
		m.kill(old)
	}
	m.count(p)
	m.insert(id, p)
	m.compactIfNeeded()
	if m.sinceRekey > 16 && m.sinceRekey*10 > m.live {
		m.dirty = true
	}
}

// Remove deletes the pattern stored under id, if any.
func (m *Matcher) Remove(id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if old, ok := m.rules[id]; ok {
		m.kill(old)
		delete(m.rules, id)
		m.compactIfNeeded()
	}
}

// Len returns the number of rules held.
func (m *Matcher) Len() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.live
}

func (m *Matcher) kill(r *ruleEntry) {
	r.dead = true
	for _, b := range r.branches {
		m.branches[b].dead = true
	}
	m.live--
	m.dead++
}

// compactIfNeeded rebuilds the index from live rules once dead entries
// outnumber live ones, so removed rules do not cost forever.
func (m *Matcher) compactIfNeeded() {
	if m.dead < 64 || m.dead < m.live {
		return
	}
	m.rebuild()
}

// rebuild re-creates the index from live rules, choosing every key with
// the popularity of all operands known.
func (m *Matcher) rebuild() {
	var live []*ruleEntry
	for _, r := range m.ruleList {
		if !r.dead {
			live = append(live, r)
		}
	}
	m.reset()
	for _, r := range live {
		m.count(r.p)
	}
	for _, r := range live {
		m.insert(r.id, r.p)
	}
	m.sinceRekey = 0
}

func (m *Matcher) insert(id string, p *Pattern) {
	r := &ruleEntry{id: id, p: p}
	num := int32(len(m.ruleList))
	m.ruleList = append(m.ruleList, r)
	m.rules[id] = r
	m.live++
	m.sinceRekey++
	for _, b := range p.branches {
		bid := int32(len(m.branches))
		be := branchEntry{rule: num, b: b, pids: make([]int32, len(b.fields))}
		key, keyCost := -1, 0
		for i, f := range b.fields {
			pid := m.paths.add(f.path)
			be.pids[i] = pid
			for int(pid) >= len(m.index) {
				m.index = append(m.index, nil)
			}
			if !f.indexable {
				continue
			}
			c := 0
			for _, mt := range f.matchers {
				c += m.cost(pid, mt)
			}
			if key < 0 || c < keyCost {
				key, keyCost = i, c
			}
		}
		// Only the key field goes into the index: the branch becomes a
		// candidate when it is satisfied, and candidates are then checked
		// in full. Choosing the rarest field keeps candidates few.
		be.needVerify = len(b.fields) > 1
		if key < 0 {
			be.needVerify = true
			m.always = append(m.always, bid)
		} else {
			pid := be.pids[key]
			if m.index[pid] == nil {
				m.index[pid] = &pathIndex{}
			}
			ref := fieldRef{branch: bid, field: m.nFields}
			m.nFields++
			be.nIndexed = 1
			for _, mt := range b.fields[key].matchers {
				m.index[pid].add(mt, ref)
			}
			if m.index[pid].dirty() {
				m.dirty = true
			}
		}
		m.branches = append(m.branches, be)
		r.branches = append(r.branches, bid)
	}
}

// popularity key: how many indexed operands equal this one.
type popKey struct {
	pid  int32
	kind matchKind
	op   string
}

func popKeyOf(pid int32, mt *matcher) popKey {
	k := popKey{pid: pid, kind: mt.kind}
	switch mt.kind {
	case mExactNumber:
		if mt.numOK {
			k.op = strconv.FormatInt(mt.num, 10)
		} else {
			k.op = mt.s
		}
	case mExactIP:
		k.op = fmt.Sprint(mt.ip.lo)
	case mNumeric, mCIDR, mExists, mExactTrue, mExactFalse, mExactNull:
	default:
		k.op = mt.s
	}
	return k
}

// cost estimates how often a matcher is satisfied: how many rules share
// the operand, plus a penalty for operators that are broad by nature.
func (m *Matcher) cost(pid int32, mt *matcher) int {
	c := m.pop[popKeyOf(pid, mt)]
	switch mt.kind {
	case mExactString, mExactNumber, mExactIP:
	case mEqualsFold:
		c++
	case mExactTrue, mExactFalse, mExactNull:
		c += 50
	case mPrefix, mSuffix, mPrefixFold, mSuffixFold:
		c += 2 + 64/(len(mt.s)+1)
	case mWildcard:
		// every wildcard hanging off the same literal head is tried in
		// turn, so a short head makes a poor key
		c += 20 + 256/(len(mt.wc.literalPrefix())+1)
	case mNumeric, mCIDR:
		c += 30
	case mExists:
		c += 1000
	}
	return c
}

func (m *Matcher) count(p *Pattern) {
	for _, b := range p.branches {
		for _, f := range b.fields {
			if !f.indexable {
				continue
			}
			pid := m.paths.add(f.path)
			for _, mt := range f.matchers {
				m.pop[popKeyOf(pid, mt)]++
			}
		}
	}
}

// build prepares interval trees added to since the last match.
func (m *Matcher) build() {
	if m.sinceRekey > 16 && m.sinceRekey*10 > m.live {
		m.rebuild()
	}
	for _, x := range m.index {
		if x != nil && x.dirty() {
			x.build()
		}
	}
	m.dirty = false
}

// matchState is per-call scratch space for Matcher.Match.
type matchState struct {
	gen         uint32
	ev          flatEvent
	fieldGen    []uint32
	branchGen   []uint32
	branchCount []int32
	ruleGen     []uint32
	pathGen     []uint32
	pathLo      []int32
	pathHi      []int32
	cands       []int32
	touched     []int32
	sorted      []leaf
	bm          branchMatcher
	m           *Matcher
	markFn      func(fieldRef)
}

func (st *matchState) leavesAt(pid int32) []leaf {
	if int(pid) < len(st.pathGen) && st.pathGen[pid] == st.gen {
		return st.sorted[st.pathLo[pid]:st.pathHi[pid]]
	}
	return nil
}

// group orders the event's leaves by path id (keeping document order
// within a path) with a counting sort.
func (st *matchState) group() {
	st.touched = st.touched[:0]
	for i := range st.ev.leaves {
		pid := st.ev.leaves[i].pid
		if st.pathGen[pid] != st.gen {
			st.pathGen[pid] = st.gen
			st.pathHi[pid] = 0
			st.touched = append(st.touched, pid)
		}
		st.pathHi[pid]++
	}
	off := int32(0)
	for _, pid := range st.touched {
		n := st.pathHi[pid]
		st.pathLo[pid] = off
		st.pathHi[pid] = off // fill position
		off += n
	}
	st.sorted = grow(st.sorted[:0], len(st.ev.leaves))[:len(st.ev.leaves)]
	for i := range st.ev.leaves {
		l := &st.ev.leaves[i]
		st.sorted[st.pathHi[l.pid]] = *l
		st.pathHi[l.pid]++
	}
}

func grow[T any](s []T, n int) []T {
	if len(s) >= n {
		return s
	}
	return append(s, make([]T, n-len(s))...)
}

func (st *matchState) prepare(m *Matcher) {
	st.m = m
	st.fieldGen = grow(st.fieldGen, int(m.nFields))
	st.branchGen = grow(st.branchGen, len(m.branches))
	st.branchCount = grow(st.branchCount, len(m.branches))
	st.ruleGen = grow(st.ruleGen, len(m.ruleList))
	st.pathGen = grow(st.pathGen, len(m.paths.names))
	st.pathLo = grow(st.pathLo, len(m.paths.names))
	st.pathHi = grow(st.pathHi, len(m.paths.names))
	st.gen++
	if st.gen == 0 { // wrapped: forget every stamp
		clear(st.fieldGen)
		clear(st.branchGen)
		clear(st.ruleGen)
		clear(st.pathGen)
		st.gen = 1
	}
	st.cands = st.cands[:0]
	if st.markFn == nil {
		st.markFn = st.mark
	}
}

func (st *matchState) mark(r fieldRef) {
	if st.fieldGen[r.field] == st.gen {
		return
	}
	st.fieldGen[r.field] = st.gen
	b := r.branch
	if st.branchGen[b] != st.gen {
		st.branchGen[b] = st.gen
		st.branchCount[b] = 0
	}
	st.branchCount[b]++
	if st.branchCount[b] == st.m.branches[b].nIndexed {
		st.cands = append(st.cands, b)
	}
}

// Match returns the ids of the rules the event (raw JSON) matches, sorted.
// Malformed JSON, or JSON that is not an object, is an error.
func (m *Matcher) Match(event []byte) ([]string, error) {
	m.mu.RLock()
	for m.dirty {
		m.mu.RUnlock()
		m.mu.Lock()
		if m.dirty {
			m.build()
		}
		m.mu.Unlock()
		m.mu.RLock()
	}
	defer m.mu.RUnlock()

	st, _ := m.states.Get().(*matchState)
	if st == nil {
		st = &matchState{}
	}
	defer m.states.Put(st)
	st.prepare(m)
	if err := flatten(event, m.paths, &st.ev); err != nil {
		return nil, err
	}
	st.group()
	for _, pid := range st.touched {
		if x := m.index[pid]; x != nil {
			for k := st.pathLo[pid]; k < st.pathHi[pid]; k++ {
				x.lookup(&st.sorted[k], st.markFn)
			}
		}
	}
	var ids []string
	check := func(b int32) {
		be := &m.branches[b]
		if be.dead || st.ruleGen[be.rule] == st.gen {
			return
		}
		if (be.needVerify || st.ev.anyObjArray) && !st.bm.match(be.b, &st.ev, st, be.pids) {
			return
		}
		st.ruleGen[be.rule] = st.gen
		if ids == nil {
			ids = make([]string, 0, len(st.cands)+len(m.always))
		}
		ids = append(ids, m.ruleList[be.rule].id)
	}
	for _, b := range st.cands {
		check(b)
	}
	for _, b := range m.always {
		check(b)
	}
	sort.Strings(ids)
	clear(st.ev.leaves)
	clear(st.sorted)
	st.bm.release()
	return ids, nil
}
