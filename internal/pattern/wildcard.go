package pattern

import (
	"sort"
	"strconv"
	"strings"
)

// wildcard is a compiled wildcard pattern: literal segments with a '*'
// between each pair, so "a*b*" is {"a", "b", ""}.
type wildcard struct {
	src  string
	segs []string
}

// parseWildcard applies EventBridge's wildcard syntax: '*' matches any run
// of characters, "\*" and "\\" are literal, any other backslash and two
// consecutive '*' are errors. Positions in messages count the opening quote
// EventBridge puts before the value.
func parseWildcard(s string) (*wildcard, string) {
	w := &wildcard{src: s}
	var cur strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '*':
			if i+1 < len(s) && s[i+1] == '*' {
				return nil, "Consecutive wildcard characters at pos " + strconv.Itoa(i+1)
			}
			w.segs = append(w.segs, cur.String())
			cur.Reset()
		case '\\':
			if i+1 < len(s) && (s[i+1] == '*' || s[i+1] == '\\') {
				cur.WriteByte(s[i+1])
				i++
				continue
			}
			return nil, "Invalid escape character at pos " + strconv.Itoa(i+1)
		default:
			cur.WriteByte(c)
		}
	}
	w.segs = append(w.segs, cur.String())
	return w, ""
}

// literalPrefix is the text before the first '*'.
func (w *wildcard) literalPrefix() string { return w.segs[0] }

func (w *wildcard) match(s string) bool {
	n := len(w.segs)
	if n == 1 {
		return s == w.segs[0]
	}
	first, last := w.segs[0], w.segs[n-1]
	if len(s) < len(first)+len(last) || !strings.HasPrefix(s, first) || !strings.HasSuffix(s, last) {
		return false
	}
	mid := s[len(first) : len(s)-len(last)]
	for _, seg := range w.segs[1 : n-1] {
		k := strings.Index(mid, seg)
		if k < 0 {
			return false
		}
		mid = mid[k+len(seg):]
	}
	return true
}

// wildcardComplexityLimit is the largest number of partial matches that
// may be in progress at once over all wildcard patterns of one field. It is
// calibrated on EventBridge's answers: "*:*:*:*:*:event-bus/*" (10) and four
// suffix patterns "*.bif", "*.tiff", "*.tif", "*.svs" on one field (8) are
// rejected; "/Users/*/dir/dir/dir/dir/dir/doc.txt" (7) is accepted.
const wildcardComplexityLimit = 7

// maxComplexityStates bounds the search over reachable state sets.
const maxComplexityStates = 20000

const msgTooComplex = "Rule is too complex - try using fewer wildcard characters or fewer repeating character sequences after a wildcard character"

// wildcardComplexity returns the largest number of simultaneously active
// NFA states over every input, summed over the patterns, stopping early
// once limit is exceeded.
func wildcardComplexity(ws []*wildcard, limit int) int {
	type tok struct {
		star bool
		b    byte
	}
	toks := make([][]tok, len(ws))
	var used [256]bool
	for i, w := range ws {
		for j, seg := range w.segs {
			if j > 0 {
				toks[i] = append(toks[i], tok{star: true})
			}
			for k := 0; k < len(seg); k++ {
				toks[i] = append(toks[i], tok{b: seg[k]})
				used[seg[k]] = true
			}
		}
	}
	alphabet := make([]byte, 0, 16)
	other := -1
	for c := 0; c < 256; c++ {
		if used[c] {
			alphabet = append(alphabet, byte(c))
		} else if other < 0 {
			other = c
		}
	}
	if other >= 0 {
		alphabet = append(alphabet, byte(other))
	}
	// a state is pattern index << 16 | position (tokens consumed)
	closure := func(set map[int]bool, p, i int) {
		for {
			set[p<<16|i] = true
			if i < len(toks[p]) && toks[p][i].star {
				i++
				continue
			}
			return
		}
	}
	keyOf := func(set map[int]bool) (string, []int) {
		states := make([]int, 0, len(set))
		for s := range set {
			states = append(states, s)
		}
		sort.Ints(states)
		var b strings.Builder
		for _, s := range states {
			b.WriteString(strconv.Itoa(s))
			b.WriteByte(',')
		}
		return b.String(), states
	}
	start := map[int]bool{}
	for p := range ws {
		closure(start, p, 0)
	}
	_, startStates := keyOf(start)
	seen := map[string]bool{}
	queue := [][]int{startStates}
	best := 0
	for len(queue) > 0 && len(seen) < maxComplexityStates {
		cur := queue[0]
		queue = queue[1:]
		for _, c := range alphabet {
			next := map[int]bool{}
			for _, s := range cur {
				p, i := s>>16, s&0xffff
				t := toks[p]
				if i < len(t) && !t[i].star && t[i].b == c {
					closure(next, p, i+1)
				}
				if i > 0 && t[i-1].star {
					closure(next, p, i)
				}
			}
			if len(next) == 0 {
				continue
			}
			if len(next) > best {
				best = len(next)
				if best > limit {
					return best
				}
			}
			k, states := keyOf(next)
			if !seen[k] {
				seen[k] = true
				queue = append(queue, states)
			}
		}
	}
	return best
}
