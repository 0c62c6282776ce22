// Package stage says how far a playbook may go in an account: observe
// (record what it would do), notify (tell the owner too), or enforce (fix).
// Trust is earned playbook by playbook and account class by account class;
// a dry run is the observe stage for one run.
package stage

import (
	"fmt"
	"strings"
)

// Stage is one of Observe, Notify, Enforce.
type Stage string

// The stages, from the most careful to the one that changes things.
const (
	Observe Stage = "observe"
	Notify  Stage = "notify"
	Enforce Stage = "enforce"
)

// All lists the stages in order.
var All = []Stage{Observe, Notify, Enforce}

func (s Stage) rank() int {
	switch s {
	case Observe:
		return 0
	case Notify:
		return 1
	case Enforce:
		return 2
	}
	return -1
}

// Parse reads a stage name.
func Parse(s string) (Stage, error) {
	st := Stage(strings.ToLower(strings.TrimSpace(s)))
	if st.rank() < 0 {
		return "", fmt.Errorf("unknown stage %q: want observe, notify or enforce", s)
	}
	return st, nil
}

// Valid reports whether s is a known stage.
func (s Stage) Valid() bool { return s.rank() >= 0 }

// AtLeast reports whether s goes as far as other: Enforce.AtLeast(Notify)
// is true.
func (s Stage) AtLeast(other Stage) bool { return s.rank() >= other.rank() }

// Lower returns the more careful of a and b; an unknown stage counts as
// Observe, so a mistake never lets a playbook do more.
func Lower(a, b Stage) Stage {
	if !a.Valid() || !b.Valid() {
		return Observe
	}
	if a.rank() <= b.rank() {
		return a
	}
	return b
}

// Resolver gives a playbook's configured stage in an account class.
type Resolver interface {
	Stage(playbook, accountClass string) Stage
}

// Fixed is a Resolver that answers one stage for everything.
type Fixed Stage

// Stage implements Resolver.
func (f Fixed) Stage(string, string) Stage { return Stage(f) }

// PlaybookOf returns the state machine (playbook) name in an execution
// ARN, arn:aws:states:REGION:ACCOUNT:execution:PLAYBOOK:NAME, or "" when
// arn is not one.
func PlaybookOf(executionARN string) string {
	parts := strings.Split(executionARN, ":")
	if len(parts) < 8 || parts[5] != "execution" {
		return ""
	}
	return parts[6]
}

// Requested returns the stage an execution's input asks for in
// {"steward": {"stage": "observe"}}, if any. A starter puts it there for a
// dry run; it can only lower the configured stage (see Lower).
func Requested(executionInput any) (Stage, bool) {
	in, ok := executionInput.(map[string]any)
	if !ok {
		return "", false
	}
	st, ok := in["steward"].(map[string]any)
	if !ok {
		return "", false
	}
	s, ok := st["stage"].(string)
	if !ok {
		return "", false
	}
	p, err := Parse(s)
	if err != nil {
		return Observe, true
	}
	return p, true
}

// Effective is the stage a call runs in: the configured stage of the
// playbook in the account's class, lowered by what the execution input
// requests.
func Effective(r Resolver, playbook, accountClass string, executionInput any) Stage {
	s := r.Stage(playbook, accountClass)
	if req, ok := Requested(executionInput); ok {
		s = Lower(s, req)
	}
	if !s.Valid() {
		return Observe
	}
	return s
}
