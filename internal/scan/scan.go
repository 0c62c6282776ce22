package scan

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stewardhq/steward/internal/clock"
	"github.com/stewardhq/steward/internal/cloud"
	"github.com/stewardhq/steward/internal/engine"
	"github.com/stewardhq/steward/internal/stage"
	"github.com/stewardhq/steward/internal/store"
	"github.com/stewardhq/steward/internal/task"
)

// Lister makes one list call in a target: *cloud.Cloud through its
// aws-sdk integration (Invoke with cloud.WithTarget).
type Lister interface {
	Invoke(ctx context.Context, call *task.Call) (any, error)
}

// Engine starts and lists executions: *engine.Engine.
type Engine interface {
	// StateMachineARN returns the ARN of the state machine named name.
	StateMachineARN(name string) string
	// StartExecution starts an execution; a name already taken by a
	// running execution with the same input returns it.
	StartExecution(ctx context.Context, in engine.StartExecutionInput) (*store.Execution, error)
	// ListExecutions lists executions, newest first.
	ListExecutions(ctx context.Context, p store.ListExecutionsParams) ([]*store.Execution, string, error)
}

// ChangeLister lists change records: store.ChangeStore.
type ChangeLister interface {
	ListChanges(ctx context.Context, f store.ChangeFilter) ([]*store.Change, error)
}

// Runner runs scans. Its zero value is not usable: set Cloud (or Lister
// and Targets), Engine and Store.
type Runner struct {
	// Lister makes the list calls (a *cloud.Cloud).
	Lister Lister
	// Targets returns the inventory's (account, region) pairs; default
	// none.
	Targets func() []cloud.Target
	// Engine starts the playbook's executions.
	Engine Engine
	// Store keeps the scans.
	Store store.ScheduleStore
	// Clock tells the time; default the real clock.
	Clock clock.Clock
	// Resolver and ClassOf give the stage an execution runs in, to tell a
	// fix made from a fix planned (observe, notify): see Summary. Nil
	// Resolver: every fix counts as made unless the scan was a dry run.
	Resolver stage.Resolver
	ClassOf  func(account string) string
	// Waiting reports whether a running execution waits for a person's
	// approval; nil: running executions count as running.
	Waiting func(ctx context.Context, x *store.Execution) bool
	// Changes, when set, lists the change records of a scan (their Run is
	// the scan id): an execution whose outcome is "fixed" counts as fixed
	// when it applied a change, planned when it only planned some. Without
	// records the stage decides (see Resolver).
	Changes ChangeLister
	// Starters bounds the executions being started at once across a scan
	// (so that the store's writer groups them into few transactions);
	// default 128.
	Starters int
	// Logf logs problems; default: discard.
	Logf func(format string, args ...any)
	// Base is the context scans started with Start run under (they outlive
	// the request that started them); default context.Background. When it
	// ends, a scan stops where it is and stays RUNNING, to be run again
	// under its id (see Request.ID).
	Base context.Context

	mu   sync.Mutex
	live map[string]*progress
	wg   sync.WaitGroup
}

// progress is a running scan's counters.
type progress struct {
	listed, started, targetsDone atomic.Int64
}

// Request asks for a scan.
type Request struct {
	// ID names the scan; empty: a new random one. A scan with this ID that
	// exists already is run again (it starts only what it did not).
	ID       string
	Playbook string
	Spec     Spec
	// Accounts and Regions narrow the inventory; empty: all of it.
	Accounts []string
	Regions  []string
	// DryRun asks every execution for the observe stage.
	DryRun bool
	// Trigger is "schedule" or "manual" (default); Schedule names the
	// schedule that fired it.
	Trigger  string
	Schedule string
}

var idRe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,58}$`)

// NewID returns a new random scan id.
func NewID() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "scan-" + hex.EncodeToString(b[:])
}

// ScheduledID is the scan id of a schedule's run due at due: the same for
// every replica and restart, so a run is never scanned twice.
func ScheduledID(schedule string, due time.Time) string {
	h := sha256.Sum256([]byte(schedule + "\x00" + due.UTC().Format(time.RFC3339)))
	return "sched-" + due.UTC().Format("20060102T1504") + "-" + hex.EncodeToString(h[:4])
}

func (r *Runner) now() time.Time {
	if r.Clock == nil {
		return time.Now().UTC()
	}
	return r.Clock.Now().UTC()
}

func (r *Runner) logf(format string, args ...any) {
	if r.Logf != nil {
		r.Logf(format, args...)
	}
}

// targets resolves a request's accounts and regions against the
// inventory; names it does not have are errors.
func (r *Runner) targets(req Request) ([]cloud.Target, error) {
	var all []cloud.Target
	if r.Targets != nil {
		all = r.Targets()
	}
	accounts, regions := map[string]bool{}, map[string]bool{}
	for _, t := range all {
		accounts[t.Account], regions[t.Region] = true, true
	}
	wantA, wantR := map[string]bool{}, map[string]bool{}
	var unknown []string
	for _, a := range req.Accounts {
		if a = strings.TrimSpace(a); a == "" {
			continue
		}
		if !accounts[a] {
			unknown = append(unknown, "account "+a)
		}
		wantA[a] = true
	}
	for _, g := range req.Regions {
		if g = strings.TrimSpace(g); g == "" {
			continue
		}
		if !regions[g] {
			unknown = append(unknown, "region "+g)
		}
		wantR[g] = true
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("%w: the inventory has no %s (it has accounts %s; regions %s)", ErrBadRequest,
			strings.Join(unknown, ", "), strings.Join(sortedKeys(accounts), ", "), strings.Join(sortedKeys(regions), ", "))
	}
	var out []cloud.Target
	done := map[string]bool{}
	for _, t := range all {
		if (len(wantA) == 0 || wantA[t.Account]) && (len(wantR) == 0 || wantR[t.Region]) {
			if req.Spec.Global {
				if done[t.Account] {
					continue
				}
				done[t.Account] = true
			}
			out = append(out, t)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no account of the inventory has those regions", ErrBadRequest)
	}
	return out, nil
}

// prepare checks a request and records its scan (or finds it recorded).
func (r *Runner) prepare(ctx context.Context, req *Request) (*store.Scan, []cloud.Target, error) {
	if req.Playbook == "" {
		return nil, nil, fmt.Errorf("%w: no playbook", ErrBadRequest)
	}
	if err := req.Spec.Check(); err != nil {
		return nil, nil, fmt.Errorf("playbook %q: %w", req.Playbook, err)
	}
	if req.ID == "" {
		req.ID = NewID()
	}
	if !idRe.MatchString(req.ID) {
		return nil, nil, fmt.Errorf("%w: scan id %q: 1 to 58 letters, digits, - or _", ErrBadRequest, req.ID)
	}
	if req.Trigger == "" {
		req.Trigger = "manual"
	}
	targets, err := r.targets(*req)
	if err != nil {
		return nil, nil, err
	}
	now := r.now()
	sc := store.Scan{ID: req.ID, Playbook: req.Playbook, Accounts: req.Accounts, Regions: req.Regions, DryRun: req.DryRun,
		Trigger: req.Trigger, Schedule: req.Schedule, Status: store.ScanRunning, Targets: len(targets), Created: now, Updated: now}
	err = r.Store.CreateScan(ctx, sc)
	if errors.Is(err, store.ErrAlreadyExists) {
		old, gerr := r.Store.GetScan(ctx, req.ID)
		if gerr != nil {
			return nil, nil, gerr
		}
		if old.Playbook != req.Playbook {
			return nil, nil, fmt.Errorf("%w: scan %s is of playbook %q, not %q", ErrBadRequest, req.ID, old.Playbook, req.Playbook)
		}
		sc.Created = old.Created
		err = r.Store.UpdateScan(ctx, sc)
	}
	if err != nil {
		return nil, nil, err
	}
	return &sc, targets, nil
}

// Start records the scan and runs it in the background; Report follows
// it. Wait waits for the background scans.
func (r *Runner) Start(ctx context.Context, req Request) (string, error) {
	sc, targets, err := r.prepare(ctx, &req)
	if err != nil {
		return "", err
	}
	base := r.Base
	if base == nil {
		base = context.Background()
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		if _, err := r.run(base, req, sc, targets); err != nil {
			r.logf("scan %s of playbook %s: %v", sc.ID, sc.Playbook, err)
		}
	}()
	return sc.ID, nil
}

// Wait waits for the scans Start runs.
func (r *Runner) Wait() { r.wg.Wait() }

// Run runs a scan to its end: every resource listed has its execution
// started (not finished). The error joins the targets' errors; the scan
// record says FAILED then, with what was listed and started. When ctx
// ends first, the record stays RUNNING (steward was stopped): running the
// same request again under its id starts only what is missing.
func (r *Runner) Run(ctx context.Context, req Request) (*store.Scan, error) {
	sc, targets, err := r.prepare(ctx, &req)
	if err != nil {
		return nil, err
	}
	return r.run(ctx, req, sc, targets)
}

func (r *Runner) run(ctx context.Context, req Request, sc *store.Scan, targets []cloud.Target) (*store.Scan, error) {
	p := &progress{}
	r.mu.Lock()
	if r.live == nil {
		r.live = map[string]*progress{}
	}
	r.live[sc.ID] = p
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		delete(r.live, sc.ID)
		r.mu.Unlock()
	}()
	n := r.Starters
	if n <= 0 {
		n = 128
	}
	sem := make(chan struct{}, n)
	smARN := r.Engine.StateMachineARN(req.Playbook)
	var saveMu sync.Mutex
	save := func(final bool, runErr error) error {
		saveMu.Lock()
		defer saveMu.Unlock()
		sc.Listed, sc.Started, sc.TargetsDone = int(p.listed.Load()), int(p.started.Load()), int(p.targetsDone.Load())
		sc.Updated = r.now()
		if final && ctx.Err() == nil {
			sc.Status, sc.Ended = store.ScanSucceeded, sc.Updated
			if runErr != nil {
				sc.Status, sc.Error = store.ScanFailed, runErr.Error()
			}
		}
		// The record must say how the scan ended even if ctx ended.
		return r.Store.UpdateScan(context.WithoutCancel(ctx), *sc)
	}
	runErr := cloud.ForEachTarget(ctx, targets, func(ctx context.Context, t cloud.Target) error {
		err := r.scanTarget(ctx, req, sc.ID, smARN, t, p, sem, func() {
			if err := save(false, nil); err != nil {
				r.logf("scan %s: %v", sc.ID, err)
			}
		})
		p.targetsDone.Add(1)
		return err
	})
	if err := save(true, runErr); err != nil {
		return sc, errors.Join(runErr, err)
	}
	return sc, runErr
}

// scanTarget pages through the list call in one target and starts an
// execution per item. Listing runs one page ahead of starting, so the
// rate limiter's waits and the starts overlap.
func (r *Runner) scanTarget(ctx context.Context, req Request, scanID, smARN string, t cloud.Target, p *progress, sem chan struct{}, saved func()) error {
	ctx, cancel := context.WithCancel(cloud.WithTarget(ctx, t))
	defer cancel()
	pages := make(chan []any, 1)
	listErr := make(chan error, 1)
	go func() {
		defer close(pages)
		listErr <- r.listPages(ctx, req.Spec, func(items []any) bool {
			p.listed.Add(int64(len(items)))
			select {
			case pages <- items:
				return true
			case <-ctx.Done():
				return false
			}
		})
	}()
	for items := range pages {
		if err := r.startAll(ctx, req, scanID, smARN, t, items, p, sem); err != nil {
			cancel()
			for range pages {
			}
			<-listErr
			return err
		}
		saved()
	}
	return <-listErr
}

// listPages calls the spec's list call page after page, handing each
// page's items to page until it returns false or the pages end.
func (r *Runner) listPages(ctx context.Context, spec Spec, page func(items []any) bool) error {
	token := ""
	seenTokens := map[string]bool{}
	for n := 1; ; n++ {
		params := maps.Clone(spec.Parameters)
		if params == nil {
			params = map[string]any{}
		}
		if token != "" {
			params[spec.inputToken()] = token
		}
		out, err := r.Lister.Invoke(ctx, &task.Call{Resource: spec.Resource(), Input: params})
		if err != nil {
			return fmt.Errorf("%s:%s page %d: %w", spec.Service, spec.Action, n, err)
		}
		m, _ := out.(map[string]any)
		if !page(spec.items(m)) {
			return ctx.Err()
		}
		token, _ = m[spec.outputToken()].(string)
		if token == "" {
			return nil
		}
		if seenTokens[token] {
			return fmt.Errorf("%s:%s page %d: the API returned the token %q twice; stopping", spec.Service, spec.Action, n, token)
		}
		seenTokens[token] = true
	}
}

// Input is the execution input of a scheduled playbook for one resource.
func Input(scanID string, t cloud.Target, resource any, dryRun bool) map[string]any {
	in := map[string]any{"account": t.Account, "region": t.Region, "resource": resource, "trigger": "schedule", "scan": scanID}
	if dryRun {
		in["steward"] = map[string]any{"stage": string(stage.Observe)}
	}
	return in
}

// startAll starts the executions of one page's items, several at once.
func (r *Runner) startAll(ctx context.Context, req Request, scanID, smARN string, t cloud.Target, items []any, p *progress, sem chan struct{}) error {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for _, item := range items {
		id := req.Spec.ResourceID(item)
		name := ExecutionName(scanID, t.Account, t.Region, id)
		b, err := json.Marshal(Input(scanID, t, item, req.DryRun))
		if err != nil {
			return fmt.Errorf("resource %s: %w", id, err)
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return ctx.Err()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			_, err := r.Engine.StartExecution(ctx, engine.StartExecutionInput{StateMachineARN: smARN, Name: name, Input: string(b)})
			if errors.Is(err, engine.ErrExecutionAlreadyExists) {
				err = nil // started by an earlier run of this scan
			}
			if err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("start playbook %s for resource %s (execution %s): %w", req.Playbook, id, name, err))
				mu.Unlock()
				return
			}
			p.started.Add(1)
		}()
	}
	wg.Wait()
	if len(errs) > 5 {
		errs = append(errs[:5], fmt.Errorf("and %d more", len(errs)-5))
	}
	return errors.Join(errs...)
}

// Summary counts a scan's executions by how they ended.
type Summary struct {
	// Found is how many resources the scan listed.
	Found int `json:"found"`
	// Fixed: outcome fixed in the enforce stage; Planned: outcome fixed in
	// observe or notify (a plan), or in a dry run.
	Fixed   int `json:"fixed"`
	Planned int `json:"planned"`
	// Exception: skipped, an exception is in force.
	Exception int `json:"exception"`
	// Waiting: running, waiting for a person's approval.
	Waiting   int `json:"waitingApproval"`
	Compliant int `json:"compliant"`
	Kept      int `json:"kept"`
	Notified  int `json:"notified"`
	// Running: started, not finished (and not known to wait for approval).
	Running int `json:"running"`
	// Failed: failed, timed out or aborted.
	Failed int `json:"failed"`
	// Other: succeeded with no outcome steward knows.
	Other int `json:"other"`
}

// Report is a scan's progress and summary.
type Report struct {
	Scan store.Scan `json:"-"`
	// Finished counts the executions that ended.
	Finished int     `json:"finished"`
	Summary  Summary `json:"summary"`
}

// Report returns a scan's progress (live counters while this runner runs
// it) and the summary of its executions.
func (r *Runner) Report(ctx context.Context, id string) (*Report, error) {
	sc, err := r.Store.GetScan(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%w %q", ErrUnknownScan, id)
	}
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	p := r.live[id]
	r.mu.Unlock()
	if p != nil && sc.Status == store.ScanRunning {
		sc.Listed, sc.Started, sc.TargetsDone = int(p.listed.Load()), int(p.started.Load()), int(p.targetsDone.Load())
	}
	rep := &Report{Scan: *sc}
	rep.Summary.Found = sc.Listed
	ch, err := r.changes(ctx, id)
	if err != nil {
		return nil, err
	}
	prefix := sc.ID + "-"
	smARN := r.Engine.StateMachineARN(sc.Playbook)
	token := ""
	for {
		xs, next, err := r.Engine.ListExecutions(ctx, store.ListExecutionsParams{StateMachineARN: smARN, ListParams: store.ListParams{Limit: 1000, NextToken: token}})
		if err != nil {
			return nil, fmt.Errorf("scan %s: list executions of %s: %w", id, sc.Playbook, err)
		}
		for _, x := range xs {
			if strings.HasPrefix(x.Name, prefix) {
				r.count(ctx, &rep.Summary, x, ch)
			}
		}
		if next == "" {
			break
		}
		token = next
	}
	s := rep.Summary
	rep.Finished = s.Fixed + s.Planned + s.Exception + s.Compliant + s.Kept + s.Notified + s.Failed + s.Other
	return rep, nil
}

// count adds one execution to a summary.
func (r *Runner) count(ctx context.Context, s *Summary, x *store.Execution, ch changeSets) {
	switch x.Status {
	case engine.StatusRunning:
		if r.Waiting != nil && r.Waiting(ctx, x) {
			s.Waiting++
		} else {
			s.Running++
		}
		return
	case engine.StatusSucceeded:
	default:
		s.Failed++
		return
	}
	var out struct {
		Outcome string `json:"outcome"`
	}
	_ = json.Unmarshal([]byte(x.Output), &out)
	switch out.Outcome {
	case "fixed":
		if ch.applied[x.ARN] {
			s.Fixed++
		} else if ch.planned[x.ARN] || r.planned(x) {
			s.Planned++
		} else {
			s.Fixed++
		}
	case "exception":
		s.Exception++
	case "compliant":
		s.Compliant++
	case "kept":
		s.Kept++
	case "notified":
		s.Notified++
	default:
		s.Other++
	}
}

// changeSets are the executions of a scan that applied, or planned,
// changes.
type changeSets struct{ applied, planned map[string]bool }

// changes reads a scan's change records (calls and records, not notices).
func (r *Runner) changes(ctx context.Context, scanID string) (changeSets, error) {
	cs := changeSets{applied: map[string]bool{}, planned: map[string]bool{}}
	if r.Changes == nil {
		return cs, nil
	}
	var after int64
	for {
		list, err := r.Changes.ListChanges(ctx, store.ChangeFilter{Run: scanID, AfterSeq: after, Limit: 1000})
		if err != nil {
			return cs, fmt.Errorf("scan %s: change records: %w", scanID, err)
		}
		for _, c := range list {
			after = c.Seq
			if c.Kind == store.KindNotice {
				continue
			}
			switch c.Status {
			case store.StatusApplied, store.StatusRolledBack:
				cs.applied[c.ExecutionARN] = true
			case store.StatusPlanned:
				cs.planned[c.ExecutionARN] = true
			}
		}
		if len(list) < 1000 {
			return cs, nil
		}
	}
}

// planned reports whether an execution ran below the enforce stage, so
// that its "fixed" was a plan.
func (r *Runner) planned(x *store.Execution) bool {
	var in map[string]any
	if err := json.Unmarshal([]byte(x.Input), &in); err != nil {
		return false
	}
	if st, ok := stage.Requested(in); ok && st != stage.Enforce {
		if r.Resolver == nil {
			return true
		}
	}
	if r.Resolver == nil {
		return false
	}
	class := ""
	if r.ClassOf != nil {
		class = r.ClassOf(cloud.TargetFromInput(in).Account)
	}
	return stage.Effective(r.Resolver, stage.PlaybookOf(x.ARN), class, in) != stage.Enforce
}

// Counts returns the summary's counts by name, in a fixed order, for
// tables.
func (s Summary) Counts() [][2]any {
	return [][2]any{{"found", s.Found}, {"fixed", s.Fixed}, {"planned", s.Planned}, {"exception", s.Exception},
		{"waiting approval", s.Waiting}, {"compliant", s.Compliant}, {"kept", s.Kept}, {"notified", s.Notified},
		{"running", s.Running}, {"failed", s.Failed}, {"other", s.Other}}
}
