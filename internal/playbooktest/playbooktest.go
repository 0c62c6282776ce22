// Package playbooktest runs playbooks end to end in tests: a simulated AWS
// (internal/awssim, or the endpoint in STEWARD_TEST_AWS_ENDPOINT), a
// cloud.Cloud over it with an inventory of accounts and classes, a SQLite
// store in t.TempDir(), the durable engine on a fake clock, and the task
// registry steward serve has: the basics, the aws-sdk integration behind
// the change gate, the steward:* built-ins and steward:approval.
//
//	h := playbooktest.New(t, playbooktest.Options{Stages: cat})  // cat: a *catalog.Catalog, or nil for enforce
//	h.Sim.AddResources(playbooktest.Development, "us-east-1", awssim.Resources{...})
//	run := h.Start("ebs-unused", map[string]any{"account": playbooktest.Development, "region": "us-east-1", "resource": vol})
//	res := run.Wait()                            // the execution, finished: res.Status, res.Outcome(), res.Out
//	h.Changes(run)                               // its change records
//	h.Rollback(run)                              // undo them through the change gate
//	runs := h.Scan("ebs-unused", playbooktest.ScanOptions{})  // a scheduled playbook's scan
//
// Approvals: run.WaitToken("Ask the owner") returns the task token a
// steward:approval state waits on; answer it with h.SendTaskSuccess, decide
// through h.Approvals.Decide, or let h.Advance pass the deadline. Notices
// sent (to anyone but the log) are in h.Notices. Seed and assert with the
// SDK through h.AWSConfig(account, region), or with h.Sim.
//
// Time: the engine, the sim and the built-ins share one clock.Fake (h.Clock),
// starting at Options.Start. Advance moves it (timers fire, approvals reach
// their deadlines). Wait polls the store (a few milliseconds apart, in real
// time, for the engine's goroutines) until the execution stops running.
//
// Against another endpoint (STEWARD_TEST_AWS_ENDPOINT), h.Sim is nil: seed
// and assert through the SDK clients (h.AWSConfig), and use h.NeedSim to skip
// what only the sim can do (seed CloudTrail events, metrics, clock-driven
// ages).
package playbooktest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/stewardhq/steward/internal/approval"
	"github.com/stewardhq/steward/internal/awssim"
	"github.com/stewardhq/steward/internal/builtin"
	"github.com/stewardhq/steward/internal/change"
	"github.com/stewardhq/steward/internal/clock"
	"github.com/stewardhq/steward/internal/cloud"
	"github.com/stewardhq/steward/internal/engine"
	"github.com/stewardhq/steward/internal/notify"
	"github.com/stewardhq/steward/internal/stage"
	"github.com/stewardhq/steward/internal/store"
	"github.com/stewardhq/steward/internal/store/storesqlite"
	"github.com/stewardhq/steward/internal/task"
	"github.com/stewardhq/steward/playbooks"
)

// EnvEndpoint names the environment variable with another AWS-compatible
// endpoint to run against instead of the sim.
const EnvEndpoint = "STEWARD_TEST_AWS_ENDPOINT"

// Default accounts: one per class, each in two regions.
const (
	Production  = "111111111111"
	Development = "222222222222"
	Sandbox     = "333333333333"
	// Home is steward's own account (the organisation's management account).
	Home = "999999999999"
)

// DefaultRegions are the regions of the default accounts.
var DefaultRegions = []string{"us-east-1", "eu-west-1"}

// DefaultStart is when the fake clock starts by default.
var DefaultStart = time.Date(2026, 3, 2, 6, 0, 0, 0, time.UTC)

// Account is one account of the inventory.
type Account struct {
	ID      string
	Class   string
	Regions []string
}

// Options configure a Harness. The zero value works.
type Options struct {
	// Accounts is the inventory; default Production, Development and
	// Sandbox (classes production, development, sandbox) in DefaultRegions.
	Accounts []Account
	// Stages resolves playbook stages; default stage.Fixed(stage.Enforce).
	// Pass a *catalog.Catalog to use steward.yaml's stages.
	Stages stage.Resolver
	// Limits gives a playbook's blast radius (perRun, perHour); default
	// the playbook's metadata, else the gate's defaults.
	Limits func(playbook string) (perRun, perHour int)
	// Playbooks are created as state machines; default every embedded
	// playbook.
	Playbooks []*playbooks.Playbook
	// Definitions adds or replaces state machines by name (test playbooks).
	Definitions map[string]string
	// Start is the fake clock's start; default DefaultStart (the real now,
	// truncated to the second, against an external endpoint).
	Start time.Time
	// TagPrefix is steward's tag prefix; default "steward:".
	TagPrefix string
	// Owners maps owners to e-mail addresses for notices.
	Owners map[string]string
	// SettleDelay is the sim's (see awssim.Options).
	SettleDelay time.Duration
	// AsDeployed runs with steward serve's settings instead of the fast
	// test ones: the cloud package's default rate limits (AWS's quotas,
	// e.g. CloudTrail LookupEvents at 2 per second per account and
	// region) and a store that syncs every commit (synchronous=FULL).
	// For benchmarks.
	AsDeployed bool
}

// Harness is one steward over one (simulated) AWS. Fields are for seeding
// and asserting; do not replace them.
type Harness struct {
	T testing.TB
	// Sim is the simulated AWS; nil against an external endpoint.
	Sim *awssim.Sim
	// URL is the AWS endpoint.
	URL      string
	Clock    *clock.Fake
	Cloud    *cloud.Cloud
	Store    *storesqlite.DB
	Engine   *engine.Engine
	Tasks    *task.Registry
	Gate     *change.Gate
	Builtins *builtin.Tasks
	// Approvals is the steward:approval service.
	Approvals *approval.Service
	// Notices records every notice sent.
	Notices *Recorder
	// Accounts is the inventory.
	Accounts []Account

	mu     sync.Mutex
	tokens map[string][]Token // by execution ARN
	ctx    context.Context
}

// Token is a task token a run waits on.
type Token struct {
	State    string
	Resource string
	Token    string
	Input    any
}

// New builds and starts a harness; everything stops when the test ends.
func New(t testing.TB, opts Options) *Harness {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	ext := os.Getenv(EnvEndpoint)
	if opts.Start.IsZero() {
		opts.Start = DefaultStart
		if ext != "" {
			opts.Start = time.Now().UTC().Truncate(time.Second)
		}
	}
	if opts.Accounts == nil {
		opts.Accounts = []Account{
			{ID: Production, Class: "production", Regions: DefaultRegions},
			{ID: Development, Class: "development", Regions: DefaultRegions},
			{ID: Sandbox, Class: "sandbox", Regions: DefaultRegions},
		}
	}
	if opts.Stages == nil {
		opts.Stages = stage.Fixed(stage.Enforce)
	}
	if opts.TagPrefix == "" {
		opts.TagPrefix = builtin.DefaultTagPrefix
	}
	if opts.Playbooks == nil {
		opts.Playbooks = playbooks.All()
	}
	h := &Harness{T: t, Clock: clock.NewFake(opts.Start), Accounts: opts.Accounts, tokens: map[string][]Token{}, ctx: ctx,
		Notices: &Recorder{}}

	// AWS.
	if ext != "" {
		h.URL = ext
	} else {
		h.Sim = awssim.New(awssim.Options{Now: h.Clock.Now, SettleDelay: opts.SettleDelay})
		must(t, h.Sim.AddAccount(awssim.AccountInfo{ID: Home, Name: "home", Class: "management"}))
		must(t, h.Sim.AddCredential(awssim.Credential{AccessKeyID: Home, SecretAccessKey: "secret", Account: Home}))
		for _, a := range opts.Accounts {
			must(t, h.Sim.AddAccount(awssim.AccountInfo{ID: a.ID, Name: a.Class + "-" + a.ID, Class: a.Class}))
			must(t, h.Sim.AddCredential(awssim.Credential{AccessKeyID: a.ID, SecretAccessKey: "secret", Account: a.ID}))
		}
		url, stop := h.Sim.Start()
		t.Cleanup(stop)
		h.URL = url
	}
	var inv []cloud.Account
	for _, a := range opts.Accounts {
		inv = append(inv, cloud.Account{ID: a.ID, Class: a.Class, Regions: a.Regions,
			Role: "arn:aws:iam::" + a.ID + ":role/steward-remediator"})
	}
	cc := cloud.Config{
		Inventory:   cloud.NewInventory(inv),
		Credentials: credentials.NewStaticCredentialsProvider(Home, "secret", ""),
		Endpoint:    h.URL,
		Clock:       h.Clock,
		BaseDelay:   time.Millisecond,
		MaxBackoff:  10 * time.Millisecond,
		// Tests need no pacing: the sim has no quotas.
		Rate: cloud.Rate{Limit: 10000, Burst: 10000},
	}
	sync := "NORMAL"
	if opts.AsDeployed {
		cc.Rate = cloud.Rate{} // the default, and DefaultRates; the limiter paces in real time
		sync = "FULL"
	}
	c, err := cloud.New(ctx, cc)
	must(t, err)
	h.Cloud = c

	// Store.
	db, err := storesqlite.Open(filepath.Join(t.TempDir(), "steward.db"), storesqlite.Options{Synchronous: sync})
	must(t, err)
	h.Store = db

	// Tasks, as steward serve registers them.
	classOf := func(account string) string {
		for _, a := range opts.Accounts {
			if a.ID == account {
				return a.Class
			}
		}
		return ""
	}
	limits := opts.Limits
	if limits == nil {
		byName := map[string]playbooks.BlastRadius{}
		for _, p := range opts.Playbooks {
			byName[p.Name] = p.BlastRadius
		}
		limits = func(name string) (int, int) {
			if b, ok := byName[name]; ok && (b.PerRun > 0 || b.PerHour > 0) {
				return b.PerRun, b.PerHour
			}
			return change.DefaultPerRun, change.DefaultPerHour
		}
	}
	reg := task.NewRegistry()
	task.RegisterBasics(reg)
	c.Register(reg)
	gate, err := change.New(change.Config{Store: db, Stages: opts.Stages, ClassOf: classOf, Limits: limits, Clock: h.Clock})
	must(t, err)
	must(t, gate.Register(reg))
	h.Gate = gate
	router := notify.NewRouter(notify.RouterConfig{Owners: opts.Owners})
	h.Builtins = builtin.Register(reg, builtin.Deps{
		Cloud: c, TagPrefix: opts.TagPrefix, Exceptions: db, Notifier: h.Notices, Router: router, Plans: gate.BuiltinPlans(),
		Stages: opts.Stages, ClassOf: classOf, Clock: h.Clock, Logf: t.Logf,
	})
	appr, err := approval.New(approval.Config{
		Store: db, Notifier: h.Notices, Router: router, Clock: h.Clock, Stages: opts.Stages,
		AccountClassFunc: classOf, Exceptions: db, BatchWindow: -1, Logf: t.Logf,
	})
	must(t, err)
	approval.Register(reg, appr)
	h.Approvals = appr
	h.Tasks = reg
	h.recordTokens()

	// Engine.
	h.Engine = engine.New(engine.Config{Store: db, Tasks: reg, Clock: h.Clock, Owner: "playbooktest", PollInterval: 5 * time.Millisecond})
	must(t, h.Engine.Start(ctx))
	appr.SetEngine(h.Engine)
	t.Cleanup(func() {
		_ = h.Engine.Close()
		_ = db.Close()
	})
	defs := map[string]string{}
	for _, p := range opts.Playbooks {
		defs[p.Name] = string(p.Definition)
	}
	for name, d := range opts.Definitions {
		defs[name] = d
	}
	names := make([]string, 0, len(defs))
	for n := range defs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if _, err := h.Engine.CreateStateMachine(ctx, engine.CreateStateMachineInput{Name: n, Definition: defs[n]}); err != nil {
			t.Fatalf("playbooktest: create state machine %s: %v", n, err)
		}
	}
	return h
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("playbooktest: %v", err)
	}
}

// recordTokens wraps steward:approval so the harness knows which token
// each run waits on.
func (h *Harness) recordTokens() {
	inner, err := h.Tasks.Resolve(approval.Resource)
	if err != nil {
		return
	}
	h.Tasks.Register(approval.Resource, task.HandlerFunc(func(ctx context.Context, call *task.Call) (any, error) {
		out, err := inner.Invoke(ctx, call)
		// Noted once the handler is done (the approval, with its deadline,
		// is stored), so a test that advances the clock after WaitToken
		// moves it past that deadline.
		if call.Token != "" && err == nil {
			h.noteToken(call)
		}
		return out, err
	}))
}

func (h *Harness) noteToken(call *task.Call) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, t := range h.tokens[call.ExecutionID] {
		if t.Token == call.Token {
			return
		}
	}
	h.tokens[call.ExecutionID] = append(h.tokens[call.ExecutionID], Token{State: call.StateName, Resource: call.Resource, Token: call.Token, Input: call.Input})
}

// Context is the harness's context (ends with the test).
func (h *Harness) Context() context.Context { return h.ctx }

// NeedSim skips the test when it runs against an external endpoint.
func (h *Harness) NeedSim(why string) {
	h.T.Helper()
	if h.Sim == nil {
		h.T.Skipf("needs internal/awssim (%s); %s is set", why, EnvEndpoint)
	}
}

// AWSConfig returns an SDK configuration acting directly in account and
// region, for the test's own seeding and assertions.
func (h *Harness) AWSConfig(account, region string) aws.Config {
	return aws.Config{
		Region:           region,
		BaseEndpoint:     aws.String(h.URL),
		Credentials:      credentials.NewStaticCredentialsProvider(account, "secret", ""),
		HTTPClient:       awsHTTPClient,
		RetryMaxAttempts: 3,
	}
}

// awsHTTPClient is a plain client: the environment's CA bundle and proxy
// settings do not apply to a loopback endpoint.
var awsHTTPClient = &http.Client{Timeout: time.Minute}

// ClassOf returns an account's class in the inventory.
func (h *Harness) ClassOf(account string) string {
	for _, a := range h.Accounts {
		if a.ID == account {
			return a.Class
		}
	}
	return ""
}

// Run is one execution started by the harness.
type Run struct {
	h *Harness
	// ARN is the execution's ARN.
	ARN string
	// Playbook is the state machine's name.
	Playbook string
}

// Start starts an execution of a playbook (a state machine the harness
// created) with input (any JSON-marshalable value, or a string of JSON).
func (h *Harness) Start(playbook string, input any) *Run {
	h.T.Helper()
	var in string
	switch v := input.(type) {
	case string:
		in = v
	case []byte:
		in = string(v)
	default:
		b, err := json.Marshal(v)
		if err != nil {
			h.T.Fatalf("playbooktest: input: %v", err)
		}
		in = string(b)
	}
	exec, err := h.Engine.StartExecution(h.ctx, engine.StartExecutionInput{StateMachineARN: h.Engine.StateMachineARN(playbook), Input: in})
	if err != nil {
		h.T.Fatalf("playbooktest: start %s: %v", playbook, err)
	}
	return &Run{h: h, ARN: exec.ARN, Playbook: playbook}
}

// WaitTimeout bounds Wait and WaitToken in real time.
var WaitTimeout = time.Minute

// Wait waits until the run is no longer RUNNING and returns it; the test
// fails when it does not finish within WaitTimeout (a run parked on a Wait
// state or a task token needs Advance or SendTaskSuccess first).
func (r *Run) Wait() *Result {
	r.h.T.Helper()
	deadline := time.Now().Add(WaitTimeout)
	for {
		e, err := r.h.Engine.DescribeExecution(r.h.ctx, r.ARN)
		if err != nil {
			r.h.T.Fatalf("playbooktest: describe %s: %v", r.ARN, err)
		}
		if e.Status != "RUNNING" {
			return newResult(r.h.T, e)
		}
		if time.Now().After(deadline) {
			r.h.T.Fatalf("playbooktest: %s still RUNNING after %v (waiting on a timer or token? tokens: %v)", r.ARN, WaitTimeout, r.Tokens())
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// Park waits until the run has ended or is parked: waiting on a timer of
// a Wait state or a retry, or on a task token. Call it before Advance, so
// the clock moves past a timer that exists.
func (r *Run) Park() {
	r.h.T.Helper()
	deadline := time.Now().Add(WaitTimeout)
	for {
		e, err := r.h.Engine.DescribeExecution(r.h.ctx, r.ARN)
		if err != nil {
			r.h.T.Fatalf("playbooktest: describe %s: %v", r.ARN, err)
		}
		if e.Status != "RUNNING" {
			return
		}
		timers, err := r.h.Store.ListTimers(r.h.ctx, r.ARN)
		if err == nil && !e.Runnable {
			for _, t := range timers {
				if strings.HasPrefix(t.Key, "run/") {
					return
				}
			}
		}
		for _, t := range r.Tokens() {
			if _, err := r.h.Store.GetTaskToken(r.h.ctx, t.Token); err == nil {
				return
			}
		}
		if time.Now().After(deadline) {
			r.h.T.Fatalf("playbooktest: %s neither ended nor parked after %v", r.ARN, WaitTimeout)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// Tokens lists the task tokens the run has been given (by tasks such as
// steward:approval), oldest first.
func (r *Run) Tokens() []Token {
	r.h.mu.Lock()
	defer r.h.mu.Unlock()
	return append([]Token(nil), r.h.tokens[r.ARN]...)
}

// WaitToken waits until the run waits on a task token in state (any state
// when empty) and returns it.
func (r *Run) WaitToken(state string) Token {
	r.h.T.Helper()
	deadline := time.Now().Add(WaitTimeout)
	for {
		for _, t := range r.Tokens() {
			if state == "" || t.State == state {
				// The token is usable once the engine committed it.
				if _, err := r.h.Store.GetTaskToken(r.h.ctx, t.Token); err == nil {
					return t
				}
			}
		}
		e, err := r.h.Engine.DescribeExecution(r.h.ctx, r.ARN)
		if err == nil && e.Status != "RUNNING" {
			r.h.T.Fatalf("playbooktest: %s ended %s without waiting on a token in %q (output %s, error %s: %s)", r.ARN, e.Status, state, e.Output, e.Error, e.Cause)
		}
		if time.Now().After(deadline) {
			r.h.T.Fatalf("playbooktest: %s waits on no token in %q after %v", r.ARN, state, WaitTimeout)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// Result is a finished execution.
type Result struct {
	*store.Execution
	// Out is the decoded output (nil unless SUCCEEDED).
	Out map[string]any
}

func newResult(t testing.TB, e *store.Execution) *Result {
	r := &Result{Execution: e}
	if e.Output != "" {
		_ = json.Unmarshal([]byte(e.Output), &r.Out)
	}
	return r
}

// Outcome is the output's "outcome" field.
func (r *Result) Outcome() string {
	s, _ := r.Out["outcome"].(string)
	return s
}

// SendTaskSuccess answers a task token with output (a JSON-marshalable
// value or a JSON string).
func (h *Harness) SendTaskSuccess(token string, output any) {
	h.T.Helper()
	var out string
	switch v := output.(type) {
	case string:
		out = v
	default:
		b, err := json.Marshal(v)
		if err != nil {
			h.T.Fatal(err)
		}
		out = string(b)
	}
	if err := h.Engine.SendTaskSuccess(h.ctx, token, out); err != nil {
		h.T.Fatalf("playbooktest: SendTaskSuccess: %v", err)
	}
}

// Advance moves the fake clock by d, then lets the approvals service act
// on what came due (deadlines, reminders).
func (h *Harness) Advance(d time.Duration) {
	h.T.Helper()
	h.Clock.Advance(d)
	if err := h.Approvals.Tick(h.ctx); err != nil {
		h.T.Logf("playbooktest: approvals tick: %v", err)
	}
}

// Changes returns the change records of a run, in order.
func (h *Harness) Changes(r *Run) []*store.Change {
	h.T.Helper()
	cs, err := h.Store.ListChanges(h.ctx, store.ChangeFilter{ExecutionARN: r.ARN})
	if err != nil {
		h.T.Fatalf("playbooktest: changes of %s: %v", r.ARN, err)
	}
	return cs
}

// Rollback undoes the applied changes of a run through the change gate
// (see change.Gate.Rollback: all or nothing, refusing irreversible changes
// and drift).
func (h *Harness) Rollback(r *Run) (*change.RollbackResult, error) {
	return h.Gate.Rollback(h.ctx, r.ARN, "playbooktest")
}

// History returns the run's history events, for debugging a failed test.
func (r *Run) History() string {
	evs, _, err := r.h.Engine.GetExecutionHistory(r.h.ctx, engine.GetExecutionHistoryInput{ExecutionARN: r.ARN})
	if err != nil {
		return err.Error()
	}
	var b strings.Builder
	for _, e := range evs {
		fmt.Fprintf(&b, "%v\n", e)
	}
	return b.String()
}

// Recorder is a notify.Notifier that keeps what it was given.
type Recorder struct {
	mu   sync.Mutex
	sent []Sent
}

// Sent is one message.
type Sent struct {
	To      notify.Recipient
	Notices []notify.Notice
}

var _ notify.Notifier = (*Recorder)(nil)

// Notify implements notify.Notifier.
func (r *Recorder) Notify(_ context.Context, to notify.Recipient, notices ...notify.Notice) (notify.Receipt, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = append(r.sent, Sent{To: to, Notices: notices})
	return notify.Receipt{To: to, ID: fmt.Sprintf("msg-%d", len(r.sent)), Notices: notices}, nil
}

// Sent returns the messages sent so far.
func (r *Recorder) Sent() []Sent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Sent(nil), r.sent...)
}

// For returns the notices about a resource (an ARN or id in Resources),
// or every notice when resource is empty.
func (r *Recorder) For(resource string) []notify.Notice {
	var out []notify.Notice
	for _, s := range r.Sent() {
		for _, n := range s.Notices {
			if resource == "" {
				out = append(out, n)
				continue
			}
			for _, res := range n.Resources {
				if strings.Contains(fmt.Sprint(res), resource) {
					out = append(out, n)
					break
				}
			}
		}
	}
	return out
}
