// Package change is the change gate: it stands between playbooks and AWS,
// so that a playbook's stage is enforced under it rather than by it, and
// every change steward makes is recorded with what the resource looked
// like before and after and how to undo it.
//
// The gate wraps the aws-sdk task handler (arn:aws:states:::aws-sdk:*).
// Read-only calls (actions beginning Describe, List, Get, Lookup, Head,
// Search, BatchGet, Simulate) pass through. A mutating call runs in the stage of its playbook
// in its account's class (stage.Effective):
//
//   - observe and notify: the call is not made. A planned change is
//     recorded and the task returns {"Planned": true, "ChangeId": "..."}
//     merged with the placeholders the call's recipe gives (CreateSnapshot:
//     "SnapshotId": "snap-planned-<hash>"), so the rest of the playbook
//     runs and plans too.
//   - enforce: a paused playbook fails with Steward.PlaybookPaused; past
//     its blast radius (applied changes in this run, or in the last hour)
//     the playbook is paused, Alert is called and the call fails with
//     Steward.BlastRadiusExceeded. Otherwise the recipe reads the resource
//     (before), the call is made, the resource is read again (after) and
//     the change is recorded as applied with its undo, or with why it
//     cannot be undone (Irreversible).
//
// A re-delivered call (same task.Call.IdempotencyKey) whose change was
// applied or planned returns the recorded result without calling AWS.
//
// Recipes hold the undo knowledge per "service:Action" (recipes.go). A
// mutating call without a recipe is still gated and recorded, marked
// irreversible ("no undo known for service:Action").
//
// Rollback undoes the applied changes of an execution (or one change) in
// reverse order. It first checks every change: an irreversible change
// refuses the whole rollback (undoing the rest could remove the only copy,
// e.g. the snapshot taken before a deletion), and so does drift: a
// resource that no longer looks as the change left it (a *DriftError
// saying which fields, recorded and now). Only when every check passes
// does it act.
//
// Limits, on purpose or not yet lifted:
//
//   - A change is recorded pending before its call and applied after. If
//     steward stops between the two, the re-delivered call is made again
//     (most of AWS's calls here are idempotent; one that is not, such as
//     CreateSnapshot, may be made twice).
//   - The blast radius is exact within one steward process (calls in flight
//     are counted); across replicas sharing a store it can be passed by the
//     calls in flight on the other replicas.
//   - Change records keep no secrets (redact): a re-delivered call that
//     returned one gets it back redacted.
package change

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/stewardhq/steward/internal/clock"
	"github.com/stewardhq/steward/internal/stage"
	"github.com/stewardhq/steward/internal/store"
	"github.com/stewardhq/steward/internal/task"
)

// Error names the gate fails tasks with; playbooks may Catch them.
const (
	ErrNamePlaybookPaused      = "Steward.PlaybookPaused"
	ErrNameBlastRadiusExceeded = "Steward.BlastRadiusExceeded"
	ErrNameDrift               = "Steward.Drift"
	ErrNameIrreversible        = "Steward.Irreversible"
)

// Sentinel errors.
var (
	// ErrDrift: a resource changed since the change being rolled back.
	ErrDrift = errors.New("resource drifted since the change")
	// ErrIrreversible: a change cannot be undone.
	ErrIrreversible = errors.New("change cannot be undone")
	// ErrPaused: the playbook is paused.
	ErrPaused = errors.New("playbook paused")
	// ErrBlastRadius: the playbook went past its blast radius.
	ErrBlastRadius = errors.New("blast radius exceeded")
	// ErrBadTarget: a rollback target is neither a change id nor an
	// execution ARN.
	ErrBadTarget = errors.New("bad rollback target")
	// ErrNothingToRollBack: the target has no applied change.
	ErrNothingToRollBack = errors.New("nothing to roll back")
	// ErrLaterChange: a change cannot be rolled back alone because a later
	// change of its execution changed the same resource.
	ErrLaterChange = errors.New("a later change of the same execution changed the resource")
)

// Invoker makes aws-sdk calls; *cloud.Cloud is one.
type Invoker interface {
	Invoke(ctx context.Context, call *task.Call) (any, error)
}

// Config configures a Gate.
type Config struct {
	// Store keeps change records and pauses. Required.
	Store store.ChangeStore
	// Cloud makes the before/after reads and the undo calls (through the
	// same aws-sdk integration). Nil means the handler the gate wraps.
	Cloud Invoker
	// Stages gives a playbook's configured stage per account class; nil
	// means observe everywhere.
	Stages stage.Resolver
	// ClassOf gives an account's class ("" when unknown); nil means "".
	ClassOf func(account string) string
	// Limits gives a playbook's blast radius: applied changes per run and
	// per hour (0: no limit). Nil means 25 per run and 100 per hour.
	Limits func(playbook string) (perRun, perHour int)
	// Alert is told when a playbook is paused for its blast radius.
	Alert func(ctx context.Context, playbook, reason string)
	// Clock tells the time; nil means the real clock.
	Clock clock.Clock
	// SettleReads is how many times the after read is made again when it
	// still shows the resource as before the call (AWS APIs such as IAM's
	// are eventually consistent: a stale after would later look like
	// drift), waiting SettleDelay, then twice that, ... on Clock. 0 reads
	// once.
	SettleReads int
	// SettleDelay is the first wait between after reads; default 1s.
	SettleDelay time.Duration
}

// Default blast radius.
const (
	DefaultPerRun  = 25
	DefaultPerHour = 100
)

// Gate is the change gate. Build it with New, then Register it.
type Gate struct {
	cfg   Config
	inner task.Handler

	// inflight counts mutating calls past the blast radius check and not
	// yet recorded as applied or failed, per "run\x00"+run and
	// "hour\x00"+playbook, so concurrent calls (a Map state's iterations)
	// cannot all pass the same count; mu guards the map.
	mu       sync.Mutex
	inflight map[string]int
	// limitLocks holds a *sync.Mutex per playbook: a playbook's count,
	// reservation and outcome records happen one at a time, while other
	// playbooks' go on (and their store writes group into one commit).
	limitLocks sync.Map
	// rollbackMu makes one rollback at a time, so two cannot undo the
	// same change.
	rollbackMu sync.Mutex
}

// New returns a gate. It wraps nothing until Register.
func New(cfg Config) (*Gate, error) {
	if cfg.Store == nil {
		return nil, errors.New("change gate: no store")
	}
	if cfg.Stages == nil {
		cfg.Stages = stage.Fixed(stage.Observe)
	}
	if cfg.ClassOf == nil {
		cfg.ClassOf = func(string) string { return "" }
	}
	if cfg.Limits == nil {
		cfg.Limits = func(string) (int, int) { return DefaultPerRun, DefaultPerHour }
	}
	if cfg.Alert == nil {
		cfg.Alert = func(context.Context, string, string) {}
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.SettleDelay <= 0 {
		cfg.SettleDelay = time.Second
	}
	return &Gate{cfg: cfg, inflight: map[string]int{}}, nil
}

// ResourcePrefix is the aws-sdk integration's resource prefix.
const ResourcePrefix = "arn:aws:states:::aws-sdk:"

// Register wraps the aws-sdk handler registered in reg (re-registering
// arn:aws:states:::aws-sdk:* over it) and registers steward:plan and
// steward:record. With no aws-sdk handler in reg, the gate's Cloud is the
// one it wraps; with neither, only steward:plan and steward:record are
// registered.
func (g *Gate) Register(reg *task.Registry) error {
	reg.Register("steward:plan", task.HandlerFunc(g.invokePlan))
	reg.Register("steward:record", task.HandlerFunc(g.invokeRecord))
	inner, err := reg.Resolve(ResourcePrefix + "sts:getCallerIdentity")
	if err != nil {
		if g.cfg.Cloud == nil {
			// No AWS here: nothing to gate, and plans still record.
			return nil
		}
		inner = g.cfg.Cloud
	}
	if _, isGate := inner.(*Gate); isGate {
		return errors.New("change gate: already registered")
	}
	g.inner = inner
	if g.cfg.Cloud == nil {
		g.cfg.Cloud = inner
	}
	reg.Register(ResourcePrefix+"*", g)
	return nil
}

// Store returns the gate's change store.
func (g *Gate) Store() store.ChangeStore { return g.cfg.Store }

func (g *Gate) now() time.Time { return g.cfg.Clock.Now().UTC() }

// readOnlyPrefixes begin the actions that change nothing: the contract's
// Describe, List, Get, Lookup, Head and Search, plus BatchGet (securityhub,
// config...) and Simulate (iam:SimulatePrincipalPolicy), which only read.
var readOnlyPrefixes = []string{"Describe", "List", "Get", "Lookup", "Head", "Search", "BatchGet", "Simulate"}

// ReadOnly reports whether an action (camelCase or PascalCase) only reads.
func ReadOnly(service, action string) bool {
	a := pascal(action)
	for _, p := range readOnlyPrefixes {
		if strings.HasPrefix(a, p) && (len(a) == len(p) || a[len(p)] >= 'A' && a[len(p)] <= 'Z') {
			return true
		}
	}
	return false
}

// pascal upper-cases an action's first letter: deleteVolume -> DeleteVolume.
func pascal(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}

// camel lower-cases an action's first letter: DeleteVolume -> deleteVolume.
func camel(s string) string {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return s
	}
	return string(s[0]-'A'+'a') + s[1:]
}

// DriftError says a resource no longer looks as a change left it, so
// rolling the change back would overwrite someone else's work.
type DriftError struct {
	ChangeID string
	Service  string
	Action   string
	Resource string
	// Diffs are the fields that differ, recorded (after the change) vs now.
	Diffs []Diff
}

// Diff is one field that differs.
type Diff struct {
	Path     string `json:"path"`
	Recorded any    `json:"recorded"`
	Now      any    `json:"now"`
}

func (e *DriftError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s (%s:%s on %s) drifted since it was made, nothing was rolled back:", ErrNameDrift, e.ChangeID, e.Service, e.Action, e.Resource)
	for i, d := range e.Diffs {
		if i == 8 {
			fmt.Fprintf(&b, " (and %d more)", len(e.Diffs)-i)
			break
		}
		fmt.Fprintf(&b, " %s: recorded %s, now %s;", d.Path, brief(d.Recorded), brief(d.Now))
	}
	return strings.TrimSuffix(b.String(), ";")
}

// Unwrap makes errors.Is(err, ErrDrift) true.
func (e *DriftError) Unwrap() error { return ErrDrift }

// IrreversibleError says changes cannot be undone, and where what is left
// of them is.
type IrreversibleError struct {
	Changes []IrreversibleChange
}

// IrreversibleChange is one change that cannot be undone.
type IrreversibleChange struct {
	ChangeID, Service, Action, Resource string
	// Why says why, and points at what is left (a snapshot, an address).
	Why string
}

func (e *IrreversibleError) Error() string {
	var parts []string
	for _, c := range e.Changes {
		parts = append(parts, fmt.Sprintf("%s (%s:%s on %s): %s", c.ChangeID, c.Service, c.Action, c.Resource, c.Why))
	}
	return ErrNameIrreversible + ": nothing was rolled back; cannot undo " + strings.Join(parts, "; ")
}

// Unwrap makes errors.Is(err, ErrIrreversible) true.
func (e *IrreversibleError) Unwrap() error { return ErrIrreversible }
