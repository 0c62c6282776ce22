package pattern

import (
	"strings"
	"unsafe"
)

// pathSet is the set of field paths some pattern names, kept as a tree
// of path segments so the scanner looks up one key at a time and skips
// every subtree no pattern reaches into.
type pathSet struct {
	ids   map[string]int32
	names []string
	root  *pathNode
}

// pathNode is one segment of the paths in a pathSet.
type pathNode struct {
	children map[string]*pathNode
	id       int32 // the path ending here, or -1
}

func newPathSet() *pathSet {
	return &pathSet{ids: map[string]int32{}, root: &pathNode{id: -1}}
}

// add interns path and returns its id. Paths join names with ".", as
// EventBridge does, so "a.b" and {"a":{"b":..}} are one path.
func (ps *pathSet) add(path string) int32 {
	if id, ok := ps.ids[path]; ok {
		return id
	}
	id := int32(len(ps.names))
	ps.ids[path] = id
	ps.names = append(ps.names, path)
	n := ps.root
	for _, seg := range strings.Split(path, ".") {
		next := n.children[seg]
		if next == nil {
			next = &pathNode{id: -1}
			if n.children == nil {
				n.children = map[string]*pathNode{}
			}
			n.children[seg] = next
		}
		n = next
	}
	n.id = id
	return id
}

// child follows an event key (which may itself hold dots) from n.
func (n *pathNode) child(key string) *pathNode {
	if strings.IndexByte(key, '.') < 0 {
		return n.children[key]
	}
	for {
		k := strings.IndexByte(key, '.')
		if k < 0 {
			return n.children[key]
		}
		n = n.children[key[:k]]
		if n == nil {
			return nil
		}
		key = key[k+1:]
	}
}

type valueKind uint8

const (
	vString valueKind = iota + 1
	vNumber
	vTrue
	vFalse
	vNull
)

// leaf is one scalar of the event at a path some pattern names.
type leaf struct {
	pid        int32
	kind       valueKind
	inObjArray bool  // some enclosing array holds this leaf inside an object
	trailLen   int32 // number of enclosing arrays
	trail      int32 // start of this leaf's array positions in flatEvent.trails
	s          string
	num        int64
	numOK      bool
	// lazily computed, once per event: case-folded s and s as an IP
	folded  string
	ip      ipKey
	foldSet bool
	ipState uint8 // 0 unknown, 1 an IP address, 2 not one
}

// foldedS returns fold(l.s), computing it once.
func (l *leaf) foldedS() string {
	if !l.foldSet {
		l.folded, l.foldSet = fold(l.s), true
	}
	return l.folded
}

// asIP returns l.s parsed as an IP address, parsing it once.
func (l *leaf) asIP() (ipKey, bool) {
	if l.ipState == 0 {
		l.ipState = 2
		if k, ok := parseIP(l.s); ok {
			l.ip, l.ipState = k, 1
		}
	}
	return l.ip, l.ipState == 1
}

// arrayPos is the position of a value inside one array of the event.
type arrayPos struct {
	array int32
	index int32
}

// flatEvent is an event reduced to the leaves at interesting paths.
type flatEvent struct {
	leaves      []leaf
	trails      []arrayPos
	anyObjArray bool
	// scanner scratch space, kept between events
	stack []arrayPos
}

func (ev *flatEvent) reset() {
	ev.leaves = ev.leaves[:0]
	ev.trails = ev.trails[:0]
	ev.anyObjArray = false
}

// consistent reports whether two leaves may be used together: they must
// not come from different elements of one array.
func (ev *flatEvent) consistent(a, b *leaf) bool {
	n := a.trailLen
	if b.trailLen < n {
		n = b.trailLen
	}
	for k := int32(0); k < n; k++ {
		x, y := ev.trails[a.trail+k], ev.trails[b.trail+k]
		if x.array != y.array {
			return true
		}
		if x.index != y.index {
			return false
		}
	}
	return true
}

// maxEventNesting bounds recursion on hostile events.
const maxEventNesting = 1000

// scanner flattens an event in one pass without building a tree. It keeps
// only leaves at paths of ps and skips (while still validating) the rest.
type scanner struct {
	src       []byte
	pos       int
	all       bool      // record every path (used by tests and the fuzzer)
	cur       *pathNode // where the current value sits in the path tree
	ev        *flatEvent
	stack     []arrayPos
	arrays    int32
	objArrays int
	err       *EventError
}

// flatten scans src into ev. With ps nil every leaf is kept with pid -1.
func flatten(src []byte, ps *pathSet, ev *flatEvent) error {
	ev.reset()
	s := scanner{src: src, all: ps == nil, ev: ev, stack: ev.stack[:0]}
	if ps != nil {
		s.cur = ps.root
	} else {
		s.cur = &pathNode{id: -1}
	}
	defer func() { ev.stack = s.stack[:0] }()
	s.space()
	if s.pos >= len(src) || src[s.pos] != '{' {
		if s.pos < len(src) && s.skip(0) && s.spaceEnd() {
			return &EventError{Offset: 0, Msg: "event is not a JSON object"}
		}
		if s.err != nil {
			return s.err
		}
		return &EventError{Offset: s.pos, Msg: "expected '{'"}
	}
	if !s.object(0) {
		return s.err
	}
	if !s.spaceEnd() {
		return &EventError{Offset: s.pos, Msg: "unexpected data after the event"}
	}
	return nil
}

func (s *scanner) spaceEnd() bool {
	s.space()
	return s.pos == len(s.src)
}

func (s *scanner) fail(msg string) bool {
	if s.err == nil {
		s.err = &EventError{Offset: s.pos, Msg: msg}
	}
	return false
}

func (s *scanner) space() {
	for s.pos < len(s.src) {
		c := s.src[s.pos]
		if c > ' ' || (c != ' ' && c != '\n' && c != '\t' && c != '\r') {
			return
		}
		s.pos++
	}
}

// stringStop marks the bytes that end the fast scan of a string: the
// closing quote, a backslash, and control characters.
var stringStop = func() (t [256]bool) {
	for c := 0; c < 0x20; c++ {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

// wanted reports whether the current path is a leaf path of interest.
func (s *scanner) wanted() (int32, bool) {
	if s.all {
		return -1, true
	}
	return s.cur.id, s.cur.id >= 0
}

// enter reports whether some path of interest lies under the current path.
func (s *scanner) enter() bool {
	if s.all {
		return true
	}
	return len(s.cur.children) > 0
}

// object scans an object whose '{' is at s.pos.
func (s *scanner) object(depth int) bool {
	if depth > maxEventNesting {
		return s.fail("nesting too deep")
	}
	s.pos++ // '{'
	s.space()
	if s.pos < len(s.src) && s.src[s.pos] == '}' {
		s.pos++
		return true
	}
	for {
		s.space()
		if s.pos >= len(s.src) || s.src[s.pos] != '"' {
			return s.fail("expected a field name")
		}
		key, ok := s.str()
		if !ok {
			return false
		}
		s.space()
		if s.pos >= len(s.src) || s.src[s.pos] != ':' {
			return s.fail("expected ':'")
		}
		s.pos++
		s.space()
		parent := s.cur
		if !s.all {
			s.cur = parent.child(key)
		}
		var ok2 bool
		if s.cur == nil {
			ok2 = s.skip(depth + 1)
		} else {
			ok2 = s.member(depth)
		}
		s.cur = parent
		if !ok2 {
			return false
		}
		s.space()
		if s.pos >= len(s.src) {
			return s.fail("unexpected end of input in object")
		}
		switch s.src[s.pos] {
		case ',':
			s.pos++
		case '}':
			s.pos++
			return true
		default:
			return s.fail("expected ',' or '}'")
		}
	}
}

// member scans the value of the field at the current path.
func (s *scanner) member(depth int) bool {
	if s.pos >= len(s.src) {
		return s.fail("unexpected end of input")
	}
	switch s.src[s.pos] {
	case '{':
		if s.enter() {
			return s.object(depth + 1)
		}
		return s.skip(depth + 1)
	case '[':
		id, want := s.wanted()
		if want || s.enter() {
			return s.array(depth+1, id, want)
		}
		return s.skip(depth + 1)
	}
	if id, ok := s.wanted(); ok {
		return s.scalar(id)
	}
	return s.skip(depth + 1)
}

// array scans an array at the current path; want says whether scalars in
// it are leaves of interest.
func (s *scanner) array(depth int, id int32, want bool) bool {
	if depth > maxEventNesting {
		return s.fail("nesting too deep")
	}
	s.pos++ // '['
	arr := s.arrays
	s.arrays++
	s.space()
	if s.pos < len(s.src) && s.src[s.pos] == ']' {
		s.pos++
		return true
	}
	for idx := int32(0); ; idx++ {
		s.space()
		if s.pos >= len(s.src) {
			return s.fail("unexpected end of input in array")
		}
		s.stack = append(s.stack, arrayPos{array: arr, index: idx})
		var ok bool
		switch s.src[s.pos] {
		case '{':
			if s.enter() {
				s.objArrays++
				ok = s.object(depth + 1)
				s.objArrays--
			} else {
				ok = s.skip(depth + 1)
			}
		case '[':
			ok = s.array(depth+1, id, want)
		default:
			if want {
				ok = s.scalar(id)
			} else {
				ok = s.skip(depth + 1)
			}
		}
		s.stack = s.stack[:len(s.stack)-1]
		if !ok {
			return false
		}
		s.space()
		if s.pos >= len(s.src) {
			return s.fail("unexpected end of input in array")
		}
		switch s.src[s.pos] {
		case ',':
			s.pos++
		case ']':
			s.pos++
			return true
		default:
			return s.fail("expected ',' or ']'")
		}
	}
}

// scalar records the scalar at s.pos as a leaf.
func (s *scanner) scalar(id int32) bool {
	l := leaf{pid: id, inObjArray: s.objArrays > 0}
	switch c := s.src[s.pos]; {
	case c == '"':
		str, ok := s.str()
		if !ok {
			return false
		}
		l.kind, l.s = vString, str
	case c == '-' || (c >= '0' && c <= '9'):
		end, ok := scanNumber(s.src, s.pos)
		if !ok {
			return s.fail("malformed number")
		}
		l.kind = vNumber
		l.s = bytesString(s.src[s.pos:end])
		if n, err := parseMicro(l.s); err == nil {
			l.num, l.numOK = n, true
		}
		s.pos = end
	case hasWord(s.src[s.pos:], "true"):
		l.kind = vTrue
		s.pos += 4
	case hasWord(s.src[s.pos:], "false"):
		l.kind = vFalse
		s.pos += 5
	case hasWord(s.src[s.pos:], "null"):
		l.kind = vNull
		s.pos += 4
	default:
		return s.fail("unexpected character")
	}
	if len(s.stack) > 0 {
		l.trail = int32(len(s.ev.trails))
		l.trailLen = int32(len(s.stack))
		s.ev.trails = append(s.ev.trails, s.stack...)
	}
	if l.inObjArray {
		s.ev.anyObjArray = true
	}
	s.ev.leaves = append(s.ev.leaves, l)
	return true
}

// str decodes the string at s.pos. Strings without escapes share the
// event's bytes instead of being copied; they live only during a match.
func (s *scanner) str() (string, bool) {
	i := s.pos + 1
	for i < len(s.src) && !stringStop[s.src[i]] {
		i++
	}
	if i < len(s.src) && s.src[i] == '"' {
		out := bytesString(s.src[s.pos+1 : i])
		s.pos = i + 1
		return out, true
	}
	out, end, err := scanString(s.src, s.pos)
	if err != nil {
		s.pos = end
		return "", s.fail(err.Error())
	}
	s.pos = end
	return out, true
}

// skip validates and steps over one value.
func (s *scanner) skip(depth int) bool {
	if depth > maxEventNesting {
		return s.fail("nesting too deep")
	}
	if s.pos >= len(s.src) {
		return s.fail("unexpected end of input")
	}
	switch c := s.src[s.pos]; {
	case c == '{':
		s.pos++
		s.space()
		if s.pos < len(s.src) && s.src[s.pos] == '}' {
			s.pos++
			return true
		}
		for {
			s.space()
			if s.pos >= len(s.src) || s.src[s.pos] != '"' {
				return s.fail("expected a field name")
			}
			if !s.skipString() {
				return false
			}
			s.space()
			if s.pos >= len(s.src) || s.src[s.pos] != ':' {
				return s.fail("expected ':'")
			}
			s.pos++
			s.space()
			if !s.skip(depth + 1) {
				return false
			}
			s.space()
			if s.pos >= len(s.src) {
				return s.fail("unexpected end of input in object")
			}
			switch s.src[s.pos] {
			case ',':
				s.pos++
			case '}':
				s.pos++
				return true
			default:
				return s.fail("expected ',' or '}'")
			}
		}
	case c == '[':
		s.pos++
		s.space()
		if s.pos < len(s.src) && s.src[s.pos] == ']' {
			s.pos++
			return true
		}
		for {
			s.space()
			if !s.skip(depth + 1) {
				return false
			}
			s.space()
			if s.pos >= len(s.src) {
				return s.fail("unexpected end of input in array")
			}
			switch s.src[s.pos] {
			case ',':
				s.pos++
			case ']':
				s.pos++
				return true
			default:
				return s.fail("expected ',' or ']'")
			}
		}
	case c == '"':
		return s.skipString()
	case c == '-' || (c >= '0' && c <= '9'):
		end, ok := scanNumber(s.src, s.pos)
		if !ok {
			return s.fail("malformed number")
		}
		s.pos = end
		return true
	case hasWord(s.src[s.pos:], "true"), hasWord(s.src[s.pos:], "null"):
		s.pos += 4
		return true
	case hasWord(s.src[s.pos:], "false"):
		s.pos += 5
		return true
	}
	return s.fail("unexpected character")
}

// skipString validates a string without decoding it.
func (s *scanner) skipString() bool {
	i := s.pos + 1
	for i < len(s.src) {
		for i < len(s.src) && !stringStop[s.src[i]] {
			i++
		}
		if i >= len(s.src) {
			break
		}
		c := s.src[i]
		switch {
		case c == '"':
			s.pos = i + 1
			return true
		case c < 0x20:
			s.pos = i
			return s.fail("control character in string")
		case c == '\\':
			if i+1 >= len(s.src) {
				s.pos = i
				return s.fail("unterminated string")
			}
			switch s.src[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if _, ok := hex4(s.src, i+2); !ok {
					s.pos = i
					return s.fail("bad \\u escape")
				}
				i += 6
			default:
				s.pos = i
				return s.fail("bad escape")
			}
		default:
			i++
		}
	}
	s.pos = i
	return s.fail("unterminated string")
}

// bytesString views b as a string without copying. The caller must not
// keep the string past the life of b.
func bytesString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
