package pattern

import (
	"slices"
	"sort"
	"sync"
)

// Matcher holds many patterns, each under a rule id, and finds the rules
// an event matches. It is safe for concurrent use.
//
// Matching does not loop over rules. The event is scanned once, keeping
// only values at paths some rule names; each value is looked up in a
// per-path index (hash maps for exact values, tries for prefixes, suffixes
// and wildcard heads, interval trees for numeric ranges and CIDR blocks)
// that yields the rule fields it satisfies. A branch (one $or alternative)
// becomes a candidate when all its indexable fields are satisfied; only
// candidates are then checked in full (anything-but and exists:false
// fields, and array consistency when the event has arrays of objects).
// Branches with no indexable field at all are candidates for every event.
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
	live     int
	dead     int
	states   sync.Pool
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
	m.live, m.dead = 0, 0
	m.dirty = false
}

// Add stores p under id, replacing any pattern stored under id before.
func (m *Matcher) Add(id string, p *Pattern) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if old, ok := m.rules[id]; ok {
		m.kill(old)
	}
	m.insert(id, p)
	m.compactIfNeeded()
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
	var live []*ruleEntry
	for _, r := range m.ruleList {
		if !r.dead {
			live = append(live, r)
		}
	}
	m.reset()
	for _, r := range live {
		m.insert(r.id, r.p)
	}
}

func (m *Matcher) insert(id string, p *Pattern) {
	r := &ruleEntry{id: id, p: p}
	num := int32(len(m.ruleList))
	m.ruleList = append(m.ruleList, r)
	m.rules[id] = r
	m.live++
	for _, b := range p.branches {
		bid := int32(len(m.branches))
		be := branchEntry{rule: num, b: b, pids: make([]int32, len(b.fields))}
		for i, f := range b.fields {
			pid := m.paths.add(f.path)
			be.pids[i] = pid
			for int(pid) >= len(m.index) {
				m.index = append(m.index, nil)
			}
			if !f.indexable {
				be.needVerify = true
				continue
			}
			if m.index[pid] == nil {
				m.index[pid] = &pathIndex{}
			}
			ref := fieldRef{branch: bid, field: m.nFields}
			m.nFields++
			be.nIndexed++
			for _, mt := range f.matchers {
				m.index[pid].add(mt, ref)
			}
			if m.index[pid].dirty() {
				m.dirty = true
			}
		}
		if be.nIndexed == 0 {
			m.always = append(m.always, bid)
		}
		m.branches = append(m.branches, be)
		r.branches = append(r.branches, bid)
	}
}

// build prepares interval trees added to since the last match.
func (m *Matcher) build() {
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
	bm          branchMatcher
	m           *Matcher
	markFn      func(fieldRef)
}

func (st *matchState) leavesAt(pid int32) []leaf {
	if int(pid) < len(st.pathGen) && st.pathGen[pid] == st.gen {
		return st.ev.leaves[st.pathLo[pid]:st.pathHi[pid]]
	}
	return nil
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
	leaves := st.ev.leaves
	slices.SortStableFunc(leaves, func(a, b leaf) int { return int(a.pid) - int(b.pid) })
	for i := 0; i < len(leaves); {
		pid := leaves[i].pid
		j := i + 1
		for j < len(leaves) && leaves[j].pid == pid {
			j++
		}
		st.pathGen[pid] = st.gen
		st.pathLo[pid], st.pathHi[pid] = int32(i), int32(j)
		if x := m.index[pid]; x != nil {
			for k := i; k < j; k++ {
				x.lookup(&leaves[k], st.markFn)
			}
		}
		i = j
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
	clear(st.bm.cands)
	clear(st.bm.chosen)
	return ids, nil
}
