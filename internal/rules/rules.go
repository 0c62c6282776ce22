// Package rules decides which playbooks an event starts: a rule is an
// EventBridge event pattern, the playbooks to start, an optional EventBridge
// input transformer, and an optional threshold (count matching events by a
// key within a window, then skip or start another playbook).
package rules

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"sync"
	"time"

	"github.com/stewardhq/steward/internal/pattern"
)

// Rule is a rule as users write it (YAML, the API, the CLI).
type Rule struct {
	Name        string `json:"name" yaml:"name"`
	Description string `json:"description,omitempty" yaml:"description,omitempty"`
	// Pattern is an EventBridge event pattern, as JSON.
	Pattern json.RawMessage `json:"pattern" yaml:"-"`
	// Playbooks are started, each with the (transformed) event as input.
	Playbooks        []string          `json:"playbooks" yaml:"playbooks"`
	InputTransformer *InputTransformer `json:"inputTransformer,omitempty" yaml:"inputTransformer,omitempty"`
	Threshold        *Threshold        `json:"threshold,omitempty" yaml:"threshold,omitempty"`
	// Disabled rules are kept but match nothing.
	Disabled bool `json:"disabled,omitempty" yaml:"disabled,omitempty"`
}

// InputTransformer is EventBridge's: variables from JSON paths into the
// event, substituted into a template.
type InputTransformer struct {
	InputPathsMap map[string]string `json:"inputPathsMap,omitempty" yaml:"inputPathsMap,omitempty"`
	InputTemplate string            `json:"inputTemplate" yaml:"inputTemplate"`
}

// Threshold counts the rule's matching events by Key within Window. When
// more than Above have matched, the rule does Then instead of starting its
// playbooks: "skip", or "start" Playbook.
type Threshold struct {
	Key      string   `json:"key" yaml:"key"`
	Window   Duration `json:"window" yaml:"window"`
	Above    int      `json:"above" yaml:"above"`
	Then     string   `json:"then" yaml:"then"`
	Playbook string   `json:"playbook,omitempty" yaml:"playbook,omitempty"`
}

// Threshold actions.
const (
	ThenSkip  = "skip"
	ThenStart = "start"
)

// Duration is a time.Duration written as "15m" in YAML and JSON.
type Duration time.Duration

// String writes the duration as "15m0s".
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads "15m".
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a duration is a string such as \"15m\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the duration as a string.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// UnmarshalYAML reads "15m".
func (d *Duration) UnmarshalYAML(unmarshal func(any) error) error {
	var s string
	if err := unmarshal(&s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// Errors.
var (
	ErrInvalidRule     = errors.New("invalid rule")
	ErrUnknownPlaybook = errors.New("unknown playbook")
	ErrNotFound        = errors.New("no such rule")
)

// PlaybookExists reports whether a playbook of that name is known, so a
// rule naming an unknown playbook is rejected when it is saved.
type PlaybookExists func(name string) bool

var namePattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// compiled is a validated rule.
type compiled struct {
	rule        Rule
	pattern     *pattern.Pattern
	transformer *transformer
	key         *keyPath
}

// compile validates a rule completely.
func compile(r Rule, exists PlaybookExists) (*compiled, error) {
	invalid := func(format string, args ...any) error {
		return fmt.Errorf("%w %q: %s", ErrInvalidRule, r.Name, fmt.Sprintf(format, args...))
	}
	if !namePattern.MatchString(r.Name) {
		return nil, invalid("a rule name is 1 to 64 letters, digits, '.', '_' or '-'")
	}
	if len(bytes.TrimSpace(r.Pattern)) == 0 {
		return nil, invalid("it has no pattern")
	}
	p, err := pattern.Compile(r.Pattern)
	if err != nil {
		return nil, fmt.Errorf("%w %q: pattern: %w", ErrInvalidRule, r.Name, err)
	}
	if len(r.Playbooks) == 0 {
		return nil, invalid("it starts no playbook")
	}
	for _, pb := range r.Playbooks {
		if exists != nil && !exists(pb) {
			return nil, fmt.Errorf("%w %q: %w %q", ErrInvalidRule, r.Name, ErrUnknownPlaybook, pb)
		}
	}
	c := &compiled{rule: r, pattern: p}
	if r.InputTransformer != nil {
		if c.transformer, err = compileTransformer(r.InputTransformer); err != nil {
			return nil, fmt.Errorf("%w %q: input transformer: %w", ErrInvalidRule, r.Name, err)
		}
	}
	if t := r.Threshold; t != nil {
		if c.key, err = compileKeyPath(t.Key); err != nil {
			return nil, fmt.Errorf("%w %q: threshold key: %w", ErrInvalidRule, r.Name, err)
		}
		if t.Window <= 0 {
			return nil, invalid("the threshold needs a window, such as \"15m\"")
		}
		if t.Above < 0 {
			return nil, invalid("the threshold's \"above\" must not be negative")
		}
		switch t.Then {
		case ThenSkip:
		case ThenStart:
			if t.Playbook == "" {
				return nil, invalid("a threshold that starts a playbook must name it")
			}
			if exists != nil && !exists(t.Playbook) {
				return nil, fmt.Errorf("%w %q: threshold: %w %q", ErrInvalidRule, r.Name, ErrUnknownPlaybook, t.Playbook)
			}
		default:
			return nil, invalid("the threshold's \"then\" must be %q or %q", ThenSkip, ThenStart)
		}
	}
	return c, nil
}

// Counter counts events for thresholds. Observe records event eventID for
// (rule, key) at time at, and returns how many were recorded for it within
// window up to at, this one included; the same event observed again counts
// once. A durable Counter (the store's) keeps the counts across restarts.
type Counter interface {
	Observe(ctx context.Context, rule, key, eventID string, at time.Time, window time.Duration) (int, error)
}

// Set is the rules in force, indexed so that matching an event costs about
// the same with 10 rules as with 10,000. It is safe for concurrent use.
type Set struct {
	mu      sync.RWMutex
	rules   map[string]*compiled
	matcher *pattern.Matcher
	exists  PlaybookExists
}

// NewSet returns an empty set that checks playbook names with exists (nil:
// every name is accepted).
func NewSet(exists PlaybookExists) *Set {
	return &Set{rules: map[string]*compiled{}, matcher: pattern.NewMatcher(), exists: exists}
}

// Put adds or replaces a rule after validating it completely.
func (s *Set) Put(r Rule) error {
	c, err := compile(r, s.exists)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rules[r.Name] = c
	if r.Disabled {
		s.matcher.Remove(r.Name)
	} else {
		s.matcher.Add(r.Name, c.pattern)
	}
	return nil
}

// Validate checks a rule completely without adding it.
func (s *Set) Validate(r Rule) error {
	_, err := compile(r, s.exists)
	return err
}

// Remove deletes a rule.
func (s *Set) Remove(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.rules[name]; !ok {
		return fmt.Errorf("%w %q", ErrNotFound, name)
	}
	delete(s.rules, name)
	s.matcher.Remove(name)
	return nil
}

// Get returns a rule by name.
func (s *Set) Get(name string) (Rule, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	c, ok := s.rules[name]
	if !ok {
		return Rule{}, false
	}
	return c.rule, true
}

// List returns the rules sorted by name.
func (s *Set) List() []Rule {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Rule, 0, len(s.rules))
	for _, c := range s.rules {
		out = append(out, c.rule)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Start is one playbook an event starts, or a rule that matched and was
// skipped by its threshold (Playbook empty, Skipped set).
type Start struct {
	Rule     string
	Playbook string
	Input    any
	// Skipped and Reason: the rule matched but its threshold said skip.
	Skipped bool
	Reason  string
	// ByThreshold: the threshold chose this playbook instead of the rule's.
	ByThreshold bool
}

// EvaluateParams says what Evaluate needs besides the event.
type EvaluateParams struct {
	// At is when the event arrived (the threshold clock, and
	// aws.events.event.ingestion-time).
	At time.Time
	// EventID identifies the event for thresholds, so evaluating it again
	// does not count it twice.
	EventID string
	// Counter counts events for thresholds; required if a rule has one.
	Counter Counter
	// RuleARN turns a rule name into the ARN the input transformer's
	// aws.events.rule-arn shows; nil gives "arn:steward:rule/NAME".
	RuleARN func(name string) string
}

// Evaluate matches an event (raw JSON) against every rule and returns the
// playbooks to start, rules sorted by name.
func (s *Set) Evaluate(ctx context.Context, event []byte, p EvaluateParams) ([]Start, error) {
	s.mu.RLock()
	ids, err := s.matcher.Match(event)
	matched := make([]*compiled, 0, len(ids))
	for _, id := range ids {
		if c, ok := s.rules[id]; ok {
			matched = append(matched, c)
		}
	}
	s.mu.RUnlock()
	if err != nil {
		return nil, err
	}
	if len(matched) == 0 {
		return nil, nil
	}
	doc, err := decode(event)
	if err != nil {
		return nil, err
	}
	var out []Start
	for _, c := range matched {
		starts, err := c.evaluate(ctx, event, doc, p)
		if err != nil {
			return nil, fmt.Errorf("rule %q: %w", c.rule.Name, err)
		}
		out = append(out, starts...)
	}
	return out, nil
}

func (c *compiled) evaluate(ctx context.Context, raw []byte, doc any, p EvaluateParams) ([]Start, error) {
	playbooks := c.rule.Playbooks
	byThreshold := false
	if t := c.rule.Threshold; t != nil {
		if p.Counter == nil {
			return nil, errors.New("the rule has a threshold but no counter was given")
		}
		key := c.key.value(doc)
		n, err := p.Counter.Observe(ctx, c.rule.Name, key, p.EventID, p.At, time.Duration(t.Window))
		if err != nil {
			return nil, fmt.Errorf("threshold: %w", err)
		}
		if n > t.Above {
			reason := fmt.Sprintf("%d events for %s=%q within %s, more than %d", n, t.Key, key, time.Duration(t.Window), t.Above)
			if t.Then == ThenSkip {
				return []Start{{Rule: c.rule.Name, Skipped: true, Reason: reason}}, nil
			}
			playbooks, byThreshold = []string{t.Playbook}, true
		}
	}
	input := doc
	if c.transformer != nil {
		arn := "arn:steward:rule/" + c.rule.Name
		if p.RuleARN != nil {
			arn = p.RuleARN(c.rule.Name)
		}
		var err error
		if input, err = c.transformer.apply(raw, doc, c.rule.Name, arn, p.At); err != nil {
			return nil, fmt.Errorf("input transformer: %w", err)
		}
	}
	out := make([]Start, 0, len(playbooks))
	for _, pb := range playbooks {
		out = append(out, Start{Rule: c.rule.Name, Playbook: pb, Input: input, ByThreshold: byThreshold})
	}
	return out, nil
}

func decode(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("the event is not valid JSON: %w", err)
	}
	return v, nil
}

// MemoryCounter is a Counter that keeps counts in memory (tests, and
// `steward rules test`); the server uses the store's durable one.
type MemoryCounter struct {
	mu     sync.Mutex
	events map[string][]observation
}

type observation struct {
	id string
	at time.Time
}

// Observe implements Counter.
func (m *MemoryCounter) Observe(_ context.Context, rule, key, eventID string, at time.Time, window time.Duration) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.events == nil {
		m.events = map[string][]observation{}
	}
	k := rule + "\x00" + key
	kept := m.events[k][:0]
	seen := false
	for _, o := range m.events[k] {
		if at.Sub(o.at) < window {
			kept = append(kept, o)
			seen = seen || (eventID != "" && o.id == eventID)
		}
	}
	if !seen {
		kept = append(kept, observation{id: eventID, at: at})
	}
	m.events[k] = kept
	return len(kept), nil
}
