package store

import (
	"context"
	"time"
)

// Event is one received event as stored: the JSON document and the fields
// that listing and rules need.
type Event struct {
	// Seq orders events by arrival; set by the store.
	Seq        int64
	ID         string
	Source     string
	DetailType string
	Account    string
	Region     string
	Time       time.Time
	Received   time.Time
	Via        string
	Body       []byte
	// Processed is set once the rules have run on the event and the
	// playbooks it starts were started.
	Processed bool
}

// EventMatch records what a rule did with an event: the execution it
// started, or why it skipped.
type EventMatch struct {
	EventSeq     int64
	Rule         string
	Playbook     string
	ExecutionARN string
	Skipped      bool
	Reason       string
	At           time.Time
}

// ListEventsParams filters ListEvents. Zero fields do not filter.
type ListEventsParams struct {
	ListParams
	Since, Until time.Time // by Received
	Source       string
	Rule         string // only events this rule matched
	Unprocessed  bool   // only events the rules have not run on yet
	// AfterSeq lists events with a larger Seq, in Seq order (for a
	// dispatcher catching up); otherwise the newest come first.
	AfterSeq  int64
	Ascending bool
}

// StoredRule is a rule as the store keeps it: its JSON document.
type StoredRule struct {
	Name    string
	Doc     []byte
	Updated time.Time
}

// EventStore keeps events, what rules did with them, threshold counts and
// rules. Every method is safe for concurrent use.
type EventStore interface {
	// AppendEvents commits events, returning for each whether it was new;
	// an event whose ID is stored already is not stored again. It returns
	// only after the commit.
	AppendEvents(ctx context.Context, events []Event) ([]bool, error)
	// GetEvent returns one event by ID.
	GetEvent(ctx context.Context, id string) (*Event, error)
	// ListEvents lists events, newest first unless p.Ascending or p.AfterSeq.
	ListEvents(ctx context.Context, p ListEventsParams) ([]Event, string, error)
	// CompleteEvent records the matches of an event and marks it processed,
	// in one transaction. Recording a match that exists already (same
	// event, rule, playbook) keeps the first.
	CompleteEvent(ctx context.Context, seq int64, matches []EventMatch) error
	// ListMatches lists what the rules did with an event.
	ListMatches(ctx context.Context, seq int64) ([]EventMatch, error)
	// ObserveThreshold records event eventID for (rule, key) at time at and
	// returns how many were recorded within window up to at, this one
	// included. Observing the same event for the same rule again counts it
	// once, so reprocessing after a crash does not inflate counts. Older
	// records may be dropped.
	ObserveThreshold(ctx context.Context, rule, key, eventID string, at time.Time, window time.Duration) (int, error)
	// PutRule stores a rule (replacing one of the same name); DeleteRule
	// removes it (ErrNotFound if absent); ListRules lists them by name.
	PutRule(ctx context.Context, r StoredRule) error
	DeleteRule(ctx context.Context, name string) error
	ListRules(ctx context.Context) ([]StoredRule, error)
}
