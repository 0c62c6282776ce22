package engine

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/stewardhq/steward/internal/asl"
	"github.com/stewardhq/steward/internal/store"
)

// Run phases: where a run (the execution's top level, a Parallel branch or
// a Map iteration) stands between transitions.
const (
	phaseReady    = "ready"    // enter State next
	phaseWait     = "wait"     // a Wait state until Until
	phaseRetry    = "retry"    // re-enter State at Until
	phaseTask     = "task"     // a task is running (or waits for its token)
	phaseChildren = "children" // a Parallel or Map state's children run
	phaseDone     = "done"     // finished: Status, Output / Error, Cause
)

// runtime is the durable state of one execution, stored as JSON in
// store.Execution.Runtime. Everything the engine needs to carry on after a
// crash is here.
type runtime struct {
	// Runs[0] is the top level; children follow, by id.
	Runs        []*xrun `json:"runs"`
	Transitions int     `json:"transitions"`
	// Timers mirrors the execution's timer rows: key -> due.
	Timers map[string]time.Time `json:"timers,omitempty"`
	// Tokens are the execution's outstanding task tokens.
	Tokens map[string]int `json:"tokens,omitempty"`
}

// xrun is one machine being interpreted: the execution, a branch or an
// iteration.
type xrun struct {
	ID     int `json:"id"`
	Parent int `json:"parent"` // -1 for the top level
	// Index is the branch or iteration index within the parent's state.
	Index    int            `json:"index"`
	Phase    string         `json:"phase"`
	State    string         `json:"state"`
	Input    any            `json:"input"`
	Vars     map[string]any `json:"vars,omitempty"`
	Attempts []int          `json:"attempts,omitempty"`
	// Entered is the history id of the current state's entered event, 0
	// before the state is entered.
	Entered     int64        `json:"entered,omitempty"`
	EnteredTime time.Time    `json:"enteredTime"`
	MapItem     *asl.MapItem `json:"mapItem,omitempty"`

	// Wait and retry.
	Until      time.Time `json:"until,omitempty"`
	WaitNext   string    `json:"waitNext,omitempty"`
	WaitOutput any       `json:"waitOutput,omitempty"`

	Task *runTask `json:"task,omitempty"`
	Kids *runKids `json:"kids,omitempty"`

	// Done.
	Status string `json:"status,omitempty"`
	Output any    `json:"output,omitempty"`
	Error  string `json:"error,omitempty"`
	Cause  string `json:"cause,omitempty"`
}

// runTask is a Task state's call in progress.
type runTask struct {
	Call  asl.TaskCall `json:"call"`
	Token string       `json:"token,omitempty"`
	// Key is the call's idempotency key: execution, state, entry and
	// attempt.
	Key string `json:"key"`
	// Started is the TaskStarted event id.
	Started int64 `json:"started"`
	// Invoked: the handler of a .waitForTaskToken task returned; the run
	// waits for the token.
	Invoked bool `json:"invoked,omitempty"`
}

// runKids tracks a Parallel or Map state's children.
type runKids struct {
	Map      bool    `json:"map"`
	IDs      []int   `json:"ids"`
	Started  int     `json:"started"`
	Max      int     `json:"max"`
	TolCount int     `json:"tolCount"`
	TolPct   float64 `json:"tolPct"`
	Failed   int     `json:"failed"`
	// Done counts finished children.
	Done int `json:"done"`
}

func decodeRuntime(b []byte) (*runtime, error) {
	rt := &runtime{}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(rt); err != nil {
		return nil, fmt.Errorf("decode execution runtime: %w", err)
	}
	if err := rt.check(); err != nil {
		return nil, fmt.Errorf("decode execution runtime: %w", err)
	}
	return rt, nil
}

// check rejects a runtime whose runs do not form a tree the engine can
// walk safely.
func (rt *runtime) check() error {
	if len(rt.Runs) == 0 {
		return errors.New("no runs")
	}
	for i, r := range rt.Runs {
		switch {
		case r == nil:
			return fmt.Errorf("run %d is null", i)
		case r.ID != i:
			return fmt.Errorf("run %d has id %d", i, r.ID)
		case i == 0 && r.Parent != -1, i > 0 && (r.Parent < 0 || r.Parent >= i):
			return fmt.Errorf("run %d has parent %d", i, r.Parent)
		case r.Index < 0:
			return fmt.Errorf("run %d has index %d", i, r.Index)
		}
		if r.Phase == phaseTask && r.Task == nil {
			return fmt.Errorf("run %d runs a task without one", i)
		}
		if r.Kids != nil {
			if r.Kids.Started < 0 || r.Kids.Started > len(r.Kids.IDs) || r.Kids.Done < 0 || r.Kids.Done > r.Kids.Started {
				return fmt.Errorf("run %d started %d of %d children", i, r.Kids.Started, len(r.Kids.IDs))
			}
			for _, id := range r.Kids.IDs {
				if id <= i || id >= len(rt.Runs) {
					return fmt.Errorf("run %d has child %d", i, id)
				}
			}
		}
	}
	for tok, id := range rt.Tokens {
		if id < 0 || id >= len(rt.Runs) {
			return fmt.Errorf("token %q names run %d", tok, id)
		}
	}
	return nil
}

func (rt *runtime) encode() ([]byte, error) {
	b, err := marshal(rt)
	if err != nil {
		return nil, fmt.Errorf("encode execution runtime: %w", err)
	}
	return b, nil
}

// nextTimer returns the earliest timer.
func (rt *runtime) nextTimer() (time.Time, bool) {
	var next time.Time
	for _, due := range rt.Timers {
		if next.IsZero() || due.Before(next) {
			next = due
		}
	}
	return next, !next.IsZero()
}

// dueTimers returns the keys of timers due at now, earliest first.
func (rt *runtime) dueTimers(now time.Time) []string {
	var keys []string
	for k, due := range rt.Timers {
		if !due.After(now) {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := rt.Timers[keys[i]], rt.Timers[keys[j]]
		if !a.Equal(b) {
			return a.Before(b)
		}
		return keys[i] < keys[j]
	})
	return keys
}

// Timer keys: "run/<id>" for a run's Wait or retry, "task/<id>" for its
// task timeout, "hb/<id>" for its heartbeat, "execution" for the
// execution's TimeoutSeconds.
func timerKey(kind string, id int) string { return kind + "/" + strconv.Itoa(id) }

func parseTimerKey(key string) (string, int) {
	for i := 0; i < len(key); i++ {
		if key[i] == '/' {
			id, err := strconv.Atoi(key[i+1:])
			if err != nil {
				return key, -1
			}
			return key[:i], id
		}
	}
	return key, -1
}

// txn builds one transition of one execution.
type txn struct {
	x   *execState
	now time.Time
	t   store.Transition
	// launch lists runs whose task must be invoked once this commits.
	launch []int
	// finished is set when the execution ended in this transition.
	finished bool
	// dirty: commit even without events or timer changes.
	dirty bool
}

func (tx *txn) event(typ, key string, details map[string]any) int64 {
	return tx.eventAfter(tx.lastID(), typ, key, details)
}

func (tx *txn) lastID() int64 {
	if n := len(tx.t.Events); n > 0 {
		return tx.t.Events[n-1].ID
	}
	return tx.x.row.LastEventID
}

func (tx *txn) eventAfter(prev int64, typ, key string, details map[string]any) int64 {
	id := tx.lastID() + 1
	var raw []byte
	if key != "" {
		raw = []byte(jsonString(details))
	}
	tx.t.Events = append(tx.t.Events, store.HistoryEvent{ID: id, PreviousEventID: prev, Type: typ, Timestamp: tx.now, DetailsKey: key, Details: raw})
	return id
}

func (tx *txn) putTimer(key string, due time.Time) {
	rt := tx.x.rt
	if rt.Timers == nil {
		rt.Timers = map[string]time.Time{}
	}
	rt.Timers[key] = due
	for i, t := range tx.t.PutTimers {
		if t.Key == key {
			tx.t.PutTimers[i].Due = due
			return
		}
	}
	tx.t.PutTimers = append(tx.t.PutTimers, store.Timer{ExecutionARN: tx.x.row.ARN, Key: key, Due: due})
}

func (tx *txn) deleteTimer(key string) {
	rt := tx.x.rt
	if _, ok := rt.Timers[key]; !ok {
		return
	}
	delete(rt.Timers, key)
	for i, t := range tx.t.PutTimers {
		if t.Key == key {
			tx.t.PutTimers = append(tx.t.PutTimers[:i], tx.t.PutTimers[i+1:]...)
			return // created in this transition: no row yet
		}
	}
	tx.t.DeleteTimers = append(tx.t.DeleteTimers, key)
}

func (tx *txn) putToken(token string, runID int) {
	rt := tx.x.rt
	if rt.Tokens == nil {
		rt.Tokens = map[string]int{}
	}
	rt.Tokens[token] = runID
	tx.t.PutTokens = append(tx.t.PutTokens, store.TaskToken{Token: token, ExecutionARN: tx.x.row.ARN, RunKey: strconv.Itoa(runID), CreatedAt: tx.now})
}

func (tx *txn) deleteToken(token string) {
	rt := tx.x.rt
	if _, ok := rt.Tokens[token]; !ok {
		return
	}
	delete(rt.Tokens, token)
	for i, t := range tx.t.PutTokens {
		if t.Token == token {
			tx.t.PutTokens = append(tx.t.PutTokens[:i], tx.t.PutTokens[i+1:]...)
			return
		}
	}
	tx.t.DeleteTokens = append(tx.t.DeleteTokens, token)
}

// clearRunWork removes a run's timers and token.
func (tx *txn) clearRunWork(r *xrun) {
	tx.deleteTimer(timerKey("run", r.ID))
	tx.deleteTimer(timerKey("task", r.ID))
	tx.deleteTimer(timerKey("hb", r.ID))
	if r.Task != nil && r.Task.Token != "" {
		tx.deleteToken(r.Task.Token)
	}
}
