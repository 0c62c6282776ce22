package rules

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"time"

	"github.com/stewardhq/steward/internal/pattern"
	"github.com/stewardhq/steward/internal/store"
)

// Starter starts playbooks. Starting the same execution name again with the
// same input must return the execution started the first time (Step
// Functions' name idempotency), which makes dispatch exactly-once in effect.
type Starter interface {
	StartPlaybook(ctx context.Context, playbook, executionName string, input []byte) (executionARN string, err error)
}

// Dispatcher runs the rules on stored events, in arrival order, and starts
// the playbooks they name. An event is marked processed only after every
// start it causes succeeded, so a crash anywhere makes it run again, and
// the execution names derived from (event, rule) make that harmless.
type Dispatcher struct {
	Events  store.EventStore
	Rules   *Set
	Starter Starter
	// Poll is how often to look for unprocessed events without being
	// notified; 0 means one second.
	Poll time.Duration
	// Retry is how long to wait after a failure; 0 means five seconds.
	Retry time.Duration
	Now   func() time.Time
	Log   *slog.Logger

	wake chan struct{}
}

// Notify wakes the dispatcher: new events are stored. It never blocks.
func (d *Dispatcher) Notify() {
	select {
	case d.wakeChan() <- struct{}{}:
	default:
	}
}

func (d *Dispatcher) wakeChan() chan struct{} {
	if d.wake == nil {
		d.wake = make(chan struct{}, 1)
	}
	return d.wake
}

// Run processes events until ctx ends.
func (d *Dispatcher) Run(ctx context.Context) error {
	wake := d.wakeChan()
	poll := d.Poll
	if poll <= 0 {
		poll = time.Second
	}
	retry := d.Retry
	if retry <= 0 {
		retry = 5 * time.Second
	}
	for {
		wait := poll
		if _, err := d.ProcessPending(ctx); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			d.log().Error("dispatch events", "err", err)
			wait = retry
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		case <-wake:
			timer.Stop()
		case <-timer.C:
		}
	}
}

func (d *Dispatcher) log() *slog.Logger {
	if d.Log != nil {
		return d.Log
	}
	return slog.Default()
}

func (d *Dispatcher) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

// ProcessPending runs the rules on every unprocessed event, oldest first,
// and returns how many it processed. It stops at the first event it cannot
// finish (that event stays unprocessed).
func (d *Dispatcher) ProcessPending(ctx context.Context) (int, error) {
	done := 0
	var after int64
	for {
		page, _, err := d.Events.ListEvents(ctx, store.ListEventsParams{Unprocessed: true, AfterSeq: after, Ascending: true, ListParams: store.ListParams{Limit: 256}})
		if err != nil {
			return done, err
		}
		if len(page) == 0 {
			return done, nil
		}
		for _, ev := range page {
			matches, err := d.Process(ctx, ev, false)
			if err != nil {
				return done, fmt.Errorf("event %s: %w", ev.ID, err)
			}
			if err := d.Events.CompleteEvent(ctx, ev.Seq, matches); err != nil {
				return done, fmt.Errorf("event %s: %w", ev.ID, err)
			}
			done++
			after = ev.Seq
		}
	}
}

// Process runs the rules on one event and starts what they name; with
// dryRun it only says what would start. It does not mark the event.
func (d *Dispatcher) Process(ctx context.Context, ev store.Event, dryRun bool) ([]store.EventMatch, error) {
	var counter Counter = storeCounter{d.Events}
	if dryRun {
		counter = &MemoryCounter{}
	}
	starts, err := d.Rules.Evaluate(ctx, ev.Body, EvaluateParams{At: ev.Received, EventID: ev.ID, Counter: counter})
	if err != nil {
		if errors.Is(err, pattern.ErrMalformedEvent) {
			// An event rules cannot read (JSON that is not an object) matches
			// nothing; record why instead of retrying it forever.
			return []store.EventMatch{{EventSeq: ev.Seq, Rule: "-", Skipped: true, Reason: err.Error(), At: d.now()}}, nil
		}
		return nil, err
	}
	matches := make([]store.EventMatch, 0, len(starts))
	for _, s := range starts {
		m := store.EventMatch{EventSeq: ev.Seq, Rule: s.Rule, Playbook: s.Playbook, Skipped: s.Skipped, Reason: s.Reason, At: d.now()}
		if !s.Skipped && !dryRun {
			input, err := json.Marshal(s.Input)
			if err != nil {
				return nil, fmt.Errorf("rule %s: input: %w", s.Rule, err)
			}
			arn, err := d.Starter.StartPlaybook(ctx, s.Playbook, ExecutionName(ev.ID, s.Rule, s.Playbook), input)
			if err != nil {
				return nil, fmt.Errorf("rule %s: start %s: %w", s.Rule, s.Playbook, err)
			}
			m.ExecutionARN = arn
		}
		matches = append(matches, m)
	}
	return matches, nil
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

// ExecutionName is the execution name an event starts a playbook under for
// a rule: readable, at most 80 characters, and the same every time.
func ExecutionName(eventID, rule, playbook string) string {
	sum := sha256.Sum256([]byte(eventID + "\x00" + rule + "\x00" + playbook))
	prefix := unsafeName.ReplaceAllString(rule, "-")
	if len(prefix) > 50 {
		prefix = prefix[:50]
	}
	return prefix + "-" + hex.EncodeToString(sum[:12])
}

// storeCounter counts threshold events in the store.
type storeCounter struct{ es store.EventStore }

func (c storeCounter) Observe(ctx context.Context, rule, key, eventID string, at time.Time, window time.Duration) (int, error) {
	return c.es.ObserveThreshold(ctx, rule, key, eventID, at, window)
}
