package engine

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/stewardhq/steward/internal/asl"
	"github.com/stewardhq/steward/internal/clock"
	"github.com/stewardhq/steward/internal/store"
	"github.com/stewardhq/steward/internal/task"
)

// Config configures a durable Engine.
type Config struct {
	// Store keeps everything; the engine keeps nothing that matters in
	// memory.
	Store store.Store
	// Tasks resolves Task states' resources.
	Tasks *task.Registry
	// Clock tells the time; default the real clock.
	Clock clock.Clock
	// Owner identifies this engine in leases. A restarted engine should
	// use the same id: Start frees the leases it held, so its executions
	// resume at once instead of after the lease expires. Default:
	// hostname and pid.
	Owner string
	// Region and AccountID go into ARNs; default us-east-1 and
	// 000000000000.
	Region, AccountID string
	// MaxPayloadBytes limits inputs, outputs and task results
	// (States.DataLimitExceeded); 0 means DefaultMaxPayloadBytes.
	MaxPayloadBytes int
	// MaxTransitions bounds the state entries of one execution; 0 means
	// DefaultMaxTransitions, negative means no bound.
	MaxTransitions int
	// LeaseDuration is how long a claim lasts without renewal; default 1m.
	LeaseDuration time.Duration
	// PollInterval is how often the engine looks for work it was not told
	// about (another replica's, or expired leases); default 1s.
	PollInterval time.Duration
	// ClaimBatch is how many executions one claim takes; default 256.
	ClaimBatch int
	// Random returns numbers in [0, 1) for retry jitter; default math/rand.
	Random func() float64
	// Logf reports problems the engine works around (store errors it
	// retries); default: discard.
	Logf func(format string, args ...any)
}

// Engine runs executions durably over a store. Every state transition is
// one store transaction with the history events it produces, so after a
// crash each execution resumes from its last committed transition.
//
// Delivery guarantee: a task that was running when the process died runs
// again when the execution resumes (at least once), with the same
// task.Call.IdempotencyKey (execution, state, entry and attempt), so a
// handler that keys its side effect on it makes it once. A
// .waitForTaskToken handler is likewise called again with the same token
// until its return is committed.
type Engine struct {
	cfg Config
	st  store.Store

	mu       sync.Mutex
	actors   map[string]*actor
	machines sync.Map // "arn#revision" -> *asl.Machine

	kick chan struct{}
	// sleepUntil is when the claim loop wakes next (Unix ns): a parked
	// execution with an earlier timer wakes it.
	sleepUntil atomic.Int64
	ctx        context.Context
	cancel     context.CancelFunc
	wg         sync.WaitGroup
	started    bool
}

// New returns an engine; Start runs it.
func New(cfg Config) *Engine {
	if cfg.Tasks == nil {
		cfg.Tasks = task.NewRegistry()
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Owner == "" {
		host, _ := os.Hostname()
		cfg.Owner = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.AccountID == "" {
		cfg.AccountID = "000000000000"
	}
	if cfg.MaxPayloadBytes == 0 {
		cfg.MaxPayloadBytes = DefaultMaxPayloadBytes
	}
	if cfg.MaxTransitions == 0 {
		cfg.MaxTransitions = DefaultMaxTransitions
	}
	if cfg.LeaseDuration == 0 {
		cfg.LeaseDuration = time.Minute
	}
	if cfg.PollInterval == 0 {
		cfg.PollInterval = time.Second
	}
	if cfg.ClaimBatch == 0 {
		cfg.ClaimBatch = 256
	}
	if cfg.Random == nil {
		cfg.Random = rand.Float64
	}
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Engine{cfg: cfg, st: cfg.Store, actors: map[string]*actor{}, kick: make(chan struct{}, 1), ctx: ctx, cancel: cancel}
}

// Start frees the leases this owner held before (it is a restart) and
// starts the loops that claim work, fire timers and renew leases. The
// engine runs until Close (ctx only bounds Start itself).
func (e *Engine) Start(ctx context.Context) error {
	if e.cfg.Store == nil {
		return errors.New("engine: no store")
	}
	if err := e.st.ReleaseLeases(ctx, e.cfg.Owner); err != nil {
		return fmt.Errorf("start engine: %w", err)
	}
	e.mu.Lock()
	e.started = true
	e.mu.Unlock()
	e.wg.Add(2)
	go e.claimLoop()
	go e.renewLoop()
	return nil
}

// Close stops the engine and waits for its goroutines. Tasks in flight
// are cancelled; their executions resume when an engine claims them again.
// The store stays open.
func (e *Engine) Close() error {
	e.cancel()
	e.wg.Wait()
	return nil
}

func (e *Engine) now() time.Time {
	return e.cfg.Clock.Now().UTC().Truncate(time.Millisecond)
}

// parked wakes the claim loop if a parked execution has work sooner than
// the loop would look.
func (e *Engine) parked(rt *runtime) {
	if rt.hasWork() {
		e.wake()
		return
	}
	if next, ok := rt.nextTimer(); ok && next.UnixNano() < e.sleepUntil.Load() {
		e.wake()
	}
}

func (e *Engine) wake() {
	select {
	case e.kick <- struct{}{}:
	default:
	}
}

// claimLoop claims executions that have work and sleeps until the next
// timer is due (or PollInterval, or a wake).
func (e *Engine) claimLoop() {
	defer e.wg.Done()
	for e.ctx.Err() == nil {
		if e.claimOnce() == e.cfg.ClaimBatch {
			continue
		}
		now := e.now()
		wait := e.cfg.PollInterval
		if next, ok, err := e.st.NextTimer(e.ctx, now); err == nil && ok {
			if d := next.Sub(now); d < wait {
				wait = max(d, time.Millisecond)
			}
		}
		e.sleepUntil.Store(now.Add(wait).UnixNano())
		t := e.cfg.Clock.NewTimer(wait)
		select {
		case <-t.C():
		case <-e.kick:
			t.Stop()
		case <-e.ctx.Done():
			t.Stop()
		}
	}
}

// claimOnce claims executions that have work now and starts their actors;
// it returns how many it claimed.
func (e *Engine) claimOnce() int {
	now := e.now()
	claims, err := e.st.ClaimExecutions(e.ctx, store.ClaimParams{Owner: e.cfg.Owner, Now: now, LeaseUntil: now.Add(e.cfg.LeaseDuration), Limit: e.cfg.ClaimBatch})
	if err != nil && e.ctx.Err() == nil {
		e.cfg.Logf("claim executions: %v", err)
	}
	for _, c := range claims {
		e.spawn(c.Execution)
	}
	return len(claims)
}

func (e *Engine) renewLoop() {
	defer e.wg.Done()
	for {
		t := e.cfg.Clock.NewTimer(e.cfg.LeaseDuration / 3)
		select {
		case <-t.C():
			if err := e.st.RenewLeases(e.ctx, e.cfg.Owner, e.now().Add(e.cfg.LeaseDuration)); err != nil && e.ctx.Err() == nil {
				e.cfg.Logf("renew leases: %v", err)
			}
		case <-e.ctx.Done():
			t.Stop()
			return
		}
	}
}

// execState is an execution as an actor holds it: the row, its decoded
// runtime and its machine.
type execState struct {
	row    *store.Execution
	rt     *runtime
	m      *asl.Machine
	smName string
	info   asl.ExecutionInfo
}

// machine returns the parsed revision a running execution uses.
func (e *Engine) machine(ctx context.Context, arn string, rev int) (*asl.Machine, string, error) {
	key := fmt.Sprintf("%s#%d", arn, rev)
	if v, ok := e.machines.Load(key); ok {
		c := v.(*cachedMachine)
		return c.m, c.name, nil
	}
	sm, err := e.st.GetStateMachineRevision(ctx, arn, rev)
	if err != nil {
		return nil, "", err
	}
	m, err := asl.Parse([]byte(sm.Definition))
	if err != nil {
		return nil, "", fmt.Errorf("state machine %s revision %d: %w", arn, rev, err)
	}
	role := sm.RoleARN
	if role == "" {
		role = e.defaultRole()
	}
	e.machines.Store(key, &cachedMachine{m: m, name: sm.Name, role: role})
	return m, sm.Name, nil
}

func (e *Engine) defaultRole() string {
	return fmt.Sprintf("arn:aws:iam::%s:role/steward", e.cfg.AccountID)
}

type cachedMachine struct {
	m          *asl.Machine
	name, role string
}

// loadState decodes an execution row.
func (e *Engine) loadState(ctx context.Context, row *store.Execution) (*execState, error) {
	rt, err := decodeRuntime(row.Runtime)
	if err != nil {
		return nil, err
	}
	if len(rt.Runs) == 0 {
		return nil, fmt.Errorf("execution %s has no runs", row.ARN)
	}
	m, name, err := e.machine(ctx, row.StateMachineARN, row.StateMachineRevision)
	if err != nil {
		return nil, err
	}
	input, err := asl.DecodeJSON([]byte(row.Input))
	if err != nil {
		input = nil
	}
	return &execState{row: row, rt: rt, m: m, smName: name, info: asl.ExecutionInfo{
		ID: row.ARN, Name: row.Name, Input: input, StartTime: row.StartDate, RoleArn: e.roleOf(ctx, row), RedriveCount: row.RedriveCount,
	}}, nil
}

func (e *Engine) roleOf(_ context.Context, row *store.Execution) string {
	if v, ok := e.machines.Load(fmt.Sprintf("%s#%d", row.StateMachineARN, row.StateMachineRevision)); ok {
		return v.(*cachedMachine).role
	}
	return e.defaultRole()
}

// hasWork reports whether the execution has something to do now: a run
// to enter or a task to invoke.
func (rt *runtime) hasWork() bool {
	for _, r := range rt.Runs {
		if r.Phase == phaseReady || r.Phase == phaseTask && r.Task != nil && (r.Task.Token == "" || !r.Task.Invoked) {
			return true
		}
	}
	return false
}

// commit applies tx to the store. On success x reflects the new state;
// on failure x must be reloaded.
func (e *Engine) commit(ctx context.Context, tx *txn, lease *store.Lease) error {
	x := tx.x
	t := &tx.t
	t.ExecutionARN, t.Version = x.row.ARN, x.row.Version
	if !tx.finished && t.Status == "" {
		t.Status, t.Output, t.Error, t.Cause, t.StopDate = x.row.Status, x.row.Output, x.row.Error, x.row.Cause, x.row.StopDate
	}
	if t.RedriveCount == 0 {
		t.RedriveCount, t.RedriveDate = x.row.RedriveCount, x.row.RedriveDate
	}
	running := t.Status == StatusRunning
	t.Runnable = running && x.rt.hasWork()
	if !running {
		lease = &store.Lease{}
	}
	t.Lease = lease
	raw, err := x.rt.encode()
	if err != nil {
		return err
	}
	t.Runtime = raw
	if err := e.st.Apply(ctx, t); err != nil {
		return err
	}
	r := x.row
	r.Version++
	r.LastEventID = tx.lastID()
	r.Status, r.Output, r.Error, r.Cause, r.StopDate = t.Status, t.Output, t.Error, t.Cause, t.StopDate
	r.RedriveCount, r.RedriveDate = t.RedriveCount, t.RedriveDate
	r.Runtime, r.Runnable = raw, t.Runnable
	if lease != nil {
		r.LeaseOwner, r.LeaseExpires = lease.Owner, lease.Expires
	}
	x.info.RedriveCount = r.RedriveCount
	return nil
}

// mutate applies fn to an execution as one transition: through the
// execution's actor when this engine runs it, else directly on the store
// (retrying on conflicts), after which the engine is woken to pick up any
// work it made.
func (e *Engine) mutate(ctx context.Context, arn string, fn func(tx *txn) error) error {
	e.mu.Lock()
	a := e.actors[arn]
	if a != nil {
		reply := make(chan error, 1)
		msg := actorMsg{kind: msgOp, op: fn, reply: reply}
		select {
		case a.inbox <- msg:
		default:
			e.mu.Unlock()
			select {
			case a.inbox <- msg:
			case <-a.done:
				return e.mutate(ctx, arn, fn)
			case <-ctx.Done():
				return ctx.Err()
			}
			goto wait
		}
		e.mu.Unlock()
	wait:
		select {
		case err := <-reply:
			if errors.Is(err, errActorGone) {
				return e.mutate(ctx, arn, fn)
			}
			return err
		case <-a.done:
			// The actor ended before it took the op: apply it directly.
			select {
			case err := <-reply:
				if !errors.Is(err, errActorGone) {
					return err
				}
			default:
			}
			return e.mutate(ctx, arn, fn)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	e.mu.Unlock()
	for attempt := 0; ; attempt++ {
		row, err := e.st.GetExecution(ctx, arn)
		if err != nil {
			return mapNotFound(err, ErrExecutionDoesNotExist)
		}
		x, err := e.loadState(ctx, row)
		if err != nil {
			return err
		}
		tx := &txn{x: x, now: e.now()}
		if err := fn(tx); err != nil {
			return err
		}
		if len(tx.t.Events) == 0 && len(tx.t.PutTimers) == 0 && len(tx.t.DeleteTimers) == 0 && !tx.dirty {
			return nil
		}
		err = e.commit(ctx, tx, nil)
		if errors.Is(err, store.ErrConflict) && attempt < 20 {
			continue
		}
		if err != nil {
			return err
		}
		if x.row.Runnable {
			e.wake()
		}
		return nil
	}
}

func mapNotFound(err, sentinel error) error {
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: %v", sentinel, err)
	}
	return err
}

// spawn starts an actor for an execution this engine leased, or tells the
// running one to reload.
func (e *Engine) spawn(row *store.Execution) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.started || e.ctx.Err() != nil {
		return
	}
	if a := e.actors[row.ARN]; a != nil {
		select {
		case a.inbox <- actorMsg{kind: msgReload}:
		default:
			// The inbox is full: deliver later, or start a new actor if
			// this one ends first, so that no lease of ours is left
			// without an actor.
			go func() {
				select {
				case a.inbox <- actorMsg{kind: msgReload}:
				case <-a.done:
					e.spawn(row)
				}
			}()
		}
		return
	}
	a := &actor{e: e, arn: row.ARN, inbox: make(chan actorMsg, 64), done: make(chan struct{}), inflight: map[int]*flight{}}
	e.actors[row.ARN] = a
	e.wg.Add(1)
	go a.run(row)
}

// actor runs one execution while this engine holds its lease: it commits
// transitions one by one, invokes tasks, and parks (frees the lease) when
// only timers and task tokens are left.
type actor struct {
	e        *Engine
	arn      string
	inbox    chan actorMsg
	done     chan struct{}
	x        *execState
	inflight map[int]*flight
	// backoff after a store error.
	failures int
}

type flight struct {
	key    string
	cancel context.CancelFunc
}

const (
	msgTaskDone = iota + 1
	msgOp
	msgReload
)

type actorMsg struct {
	kind   int
	run    int
	key    string
	result any
	err    error
	op     func(tx *txn) error
	reply  chan error
}

func (a *actor) run(row *store.Execution) {
	e := a.e
	defer e.wg.Done()
	defer func() {
		for _, f := range a.inflight {
			f.cancel()
		}
	}()
	if x, err := e.loadState(e.ctx, row); err != nil {
		a.broken(row, err)
	} else {
		a.x = x
	}
	for {
		if e.ctx.Err() != nil {
			a.exit(true)
			return
		}
		select {
		case msg := <-a.inbox:
			a.handle(msg)
			continue
		default:
		}
		if a.x == nil || a.x.row.Status != StatusRunning || a.x.row.LeaseOwner != e.cfg.Owner {
			if a.x != nil && a.x.row.Status == StatusRunning {
				e.parked(a.x.rt)
			}
			if a.exit(false) {
				return
			}
			continue
		}
		if a.step() {
			continue
		}
		a.launchPending()
		if len(a.inflight) > 0 {
			a.waitEvent()
			continue
		}
		// Nothing to do but wait for timers or tokens: park.
		tx := &txn{x: a.x, now: e.now()}
		tx.dirty = true
		if !a.commit(tx, &store.Lease{}) {
			continue
		}
		e.parked(a.x.rt)
		if a.exit(false) {
			return
		}
	}
}

// step commits one transition if there is one to make now.
func (a *actor) step() bool {
	e, x := a.e, a.x
	now := e.now()
	if keys := x.rt.dueTimers(now); len(keys) > 0 {
		tx := &txn{x: x, now: now}
		e.fireTimer(tx, keys[0])
		a.commit(tx, a.leaseAfter(tx))
		return true
	}
	for _, r := range x.rt.Runs {
		if r.Phase == phaseReady {
			tx := &txn{x: x, now: now}
			e.enter(tx, r)
			a.commit(tx, a.leaseAfter(tx))
			return true
		}
	}
	return false
}

func (a *actor) lease() *store.Lease {
	if a.x != nil && a.x.row.LeaseOwner != a.e.cfg.Owner {
		return nil // not ours (any more): keep whoever holds it
	}
	return &store.Lease{Owner: a.e.cfg.Owner, Expires: a.e.now().Add(a.e.cfg.LeaseDuration)}
}

// leaseAfter frees the lease in the same commit when tx leaves the
// execution with nothing to do but wait for timers or tokens: parking
// costs no extra transaction.
func (a *actor) leaseAfter(tx *txn) *store.Lease {
	if len(tx.launch) > 0 || a.x.rt.hasWork() {
		return a.lease()
	}
	for id, f := range a.inflight {
		if id < len(a.x.rt.Runs) {
			if r := a.x.rt.Runs[id]; r.Phase == phaseTask && r.Task != nil && r.Task.Key == f.key {
				return a.lease()
			}
		}
	}
	if a.lease() == nil {
		return nil
	}
	return &store.Lease{}
}

// commit commits tx and then launches the tasks it scheduled; it reloads
// after a failure.
func (a *actor) commit(tx *txn, lease *store.Lease) bool {
	e := a.e
	err := e.commit(e.ctx, tx, lease)
	if err != nil {
		if e.ctx.Err() != nil {
			return false
		}
		if !errors.Is(err, store.ErrConflict) {
			e.cfg.Logf("execution %s: %v", a.arn, err)
			a.backoff()
		}
		a.reload()
		return false
	}
	a.failures = 0
	a.pruneFlights()
	for _, id := range tx.launch {
		a.launch(a.x.rt.Runs[id])
	}
	return true
}

// backoff waits before retrying after a store error (a full disk).
func (a *actor) backoff() {
	a.failures++
	d := time.Duration(min(a.failures, 30)) * 100 * time.Millisecond
	t := a.e.cfg.Clock.NewTimer(d)
	select {
	case <-t.C():
	case <-a.e.ctx.Done():
		t.Stop()
	}
}

func (a *actor) reload() {
	e := a.e
	row, err := e.st.GetExecution(e.ctx, a.arn)
	if err != nil {
		a.x = nil
		return
	}
	x, err := e.loadState(e.ctx, row)
	if err != nil {
		a.broken(row, err)
		return
	}
	a.x = x
	a.pruneFlights()
}

// broken fails an execution whose runtime or machine cannot be loaded.
func (a *actor) broken(row *store.Execution, err error) {
	e := a.e
	a.x = nil
	if row.Status != StatusRunning {
		return
	}
	e.cfg.Logf("execution %s cannot run: %v", row.ARN, err)
	t := &store.Transition{ExecutionARN: row.ARN, Version: row.Version, Status: StatusFailed, Error: asl.ErrRuntime,
		Cause: err.Error(), StopDate: e.now(), Runtime: row.Runtime, Lease: &store.Lease{},
		Events: []store.HistoryEvent{{ID: row.LastEventID + 1, PreviousEventID: row.LastEventID, Type: "ExecutionFailed", Timestamp: e.now(),
			DetailsKey: "executionFailedEventDetails", Details: []byte(jsonString(errorDetails(&asl.Error{Name: asl.ErrRuntime, Cause: err.Error()})))}}}
	if aerr := e.st.Apply(e.ctx, t); aerr != nil {
		e.cfg.Logf("execution %s: %v", row.ARN, aerr)
	}
}

// exit removes the actor unless a message arrived; it reports whether the
// actor is gone.
func (a *actor) exit(force bool) bool {
	e := a.e
	e.mu.Lock()
	defer e.mu.Unlock()
	if !force && len(a.inbox) > 0 {
		return false
	}
	delete(e.actors, a.arn)
	close(a.done)
	// Answer ops that raced with the exit: they retry directly.
	for {
		select {
		case msg := <-a.inbox:
			if msg.kind == msgOp {
				msg.reply <- errActorGone
			}
			continue
		default:
		}
		break
	}
	return true
}

var errActorGone = errors.New("execution actor ended")

// waitEvent waits for a message or the next timer.
func (a *actor) waitEvent() {
	e := a.e
	var tc <-chan time.Time
	if next, ok := a.x.rt.nextTimer(); ok {
		t := e.cfg.Clock.NewTimer(next.Sub(e.cfg.Clock.Now()))
		defer t.Stop()
		tc = t.C()
	}
	// Look at the store now and then: another replica may have changed
	// the execution (a task token sent to it, a stop).
	poll := e.cfg.Clock.NewTimer(e.cfg.PollInterval)
	defer poll.Stop()
	select {
	case msg := <-a.inbox:
		a.handle(msg)
	case <-tc:
	case <-poll.C():
		if row, err := e.st.GetExecution(e.ctx, a.arn); err == nil && row.Version != a.x.row.Version {
			a.reload()
		}
	case <-e.ctx.Done():
	}
}

func (a *actor) handle(msg actorMsg) {
	e := a.e
	switch msg.kind {
	case msgReload:
		a.reload()
	case msgOp:
		for attempt := 0; ; attempt++ {
			if a.x == nil {
				msg.reply <- errActorGone
				return
			}
			tx := &txn{x: a.x, now: e.now()}
			if err := msg.op(tx); err != nil {
				a.reload()
				msg.reply <- err
				return
			}
			if len(tx.t.Events) == 0 && len(tx.t.PutTimers) == 0 && len(tx.t.DeleteTimers) == 0 && !tx.dirty {
				msg.reply <- nil
				return
			}
			err := e.commit(e.ctx, tx, a.lease())
			if err == nil {
				a.pruneFlights()
				msg.reply <- nil
				return
			}
			a.reload()
			if !errors.Is(err, store.ErrConflict) || attempt > 20 {
				msg.reply <- err
				return
			}
		}
	case msgTaskDone:
		f := a.inflight[msg.run]
		if f == nil || f.key != msg.key {
			return
		}
		delete(a.inflight, msg.run)
		if a.x == nil || msg.run >= len(a.x.rt.Runs) {
			return
		}
		r := a.x.rt.Runs[msg.run]
		if r.Phase != phaseTask || r.Task == nil || r.Task.Key != msg.key {
			return
		}
		tx := &txn{x: a.x, now: e.now()}
		switch {
		case msg.err != nil:
			e.taskFailed(tx, r, msg.err)
		case r.Task.Token != "":
			if r.Task.Invoked {
				return
			}
			r.Task.Invoked = true
			tx.dirty = true
		default:
			e.taskSucceeded(tx, r, msg.result)
		}
		a.commit(tx, a.leaseAfter(tx))
	}
}

// pruneFlights cancels invocations whose run moved on.
func (a *actor) pruneFlights() {
	for id, f := range a.inflight {
		if a.x == nil || id >= len(a.x.rt.Runs) {
			f.cancel()
			delete(a.inflight, id)
			continue
		}
		r := a.x.rt.Runs[id]
		if r.Phase != phaseTask || r.Task == nil || r.Task.Key != f.key {
			f.cancel()
			delete(a.inflight, id)
		}
	}
}

// launchPending invokes the tasks of runs that wait for an invocation
// (after a claim, a reload, or a crash: at least once).
func (a *actor) launchPending() {
	if a.x == nil {
		return
	}
	for _, r := range a.x.rt.Runs {
		if r.Phase == phaseTask && r.Task != nil && (r.Task.Token == "" || !r.Task.Invoked) && a.inflight[r.ID] == nil {
			a.launch(r)
		}
	}
}

// launch invokes a run's task in a goroutine; the result comes back
// through the inbox.
func (a *actor) launch(r *xrun) {
	e := a.e
	if a.inflight[r.ID] != nil {
		return
	}
	tc := r.Task
	call := &task.Call{Resource: tc.Call.Resource, Input: tc.Call.Input, Token: tc.Token, IdempotencyKey: tc.Key,
		ExecutionID: a.arn, StateName: r.State, Credentials: tc.Call.Credentials, ExecutionInput: a.x.info.Input}
	ctx, cancel := context.WithCancel(e.ctx)
	a.inflight[r.ID] = &flight{key: tc.Key, cancel: cancel}
	id, key, done, inbox := r.ID, tc.Key, a.done, a.inbox
	h, err := e.cfg.Tasks.Resolve(tc.Call.Resource)
	go func() {
		var result any
		if err == nil {
			result, err = invoke(ctx, h, call)
		} else {
			err = asl.NewError(asl.ErrRuntime, "%v", err)
		}
		select {
		case inbox <- actorMsg{kind: msgTaskDone, run: id, key: key, result: result, err: err}:
		case <-done:
		}
	}()
}

// invoke calls a handler, turning a panic into a task failure.
func invoke(ctx context.Context, h task.Handler, call *task.Call) (result any, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("task handler panicked: %v", p)
		}
	}()
	return h.Invoke(ctx, call)
}

// newToken makes a task token: it names the execution, so that a token
// for a task that ended is told apart from one never issued.
func newToken(execARN string) string {
	return encodeTokenPrefix(execARN) + "." + uuid.NewString()
}
