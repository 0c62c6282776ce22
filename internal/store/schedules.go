package store

import (
	"context"
	"time"
)

// Schedule is a cron schedule kept in the store with its next run, so that
// each run fires once across restarts and replicas (see ScheduleStore).
type Schedule struct {
	// Name identifies the schedule, e.g. "playbook/ebs-unused".
	Name string
	// Cron is the expression: 5 fields, UTC.
	Cron string
	// Playbook is what a run starts (a scan of it).
	Playbook string
	// Enabled schedules fire; disabled ones are kept but skipped.
	Enabled bool
	// NextRun is when the schedule fires next.
	NextRun time.Time
	// LastRun is when it last fired (its NextRun then); zero if never.
	LastRun time.Time
	// Updated is when the row last changed.
	Updated time.Time
}

// Scan is one run of a playbook's scan: its request, its progress and how
// it ended. The executions it started are named from its ID.
type Scan struct {
	ID       string
	Playbook string
	// Accounts and Regions narrow the inventory's targets; empty: all.
	Accounts []string
	Regions  []string
	DryRun   bool
	// Trigger is "schedule" (Schedule names which) or "manual".
	Trigger  string
	Schedule string
	// Status is "RUNNING", "SUCCEEDED" or "FAILED".
	Status string
	// Listed counts the resources the list calls returned; Started the
	// executions started (or found started by an earlier attempt);
	// Targets and TargetsDone the (account, region) pairs.
	Listed, Started      int
	Targets, TargetsDone int
	// Error says why a scan failed (per target, joined).
	Error   string
	Created time.Time
	Updated time.Time
	Ended   time.Time // zero while running
}

// Scan statuses.
const (
	ScanRunning   = "RUNNING"
	ScanSucceeded = "SUCCEEDED"
	ScanFailed    = "FAILED"
)

// ScheduleStore keeps schedules and scans.
type ScheduleStore interface {
	// PutSchedule creates a schedule or updates one's Cron, Playbook and
	// Enabled. NextRun is set from s when the schedule is new or its Cron
	// changed; otherwise the stored NextRun stays (so a restart that loads
	// the same schedules again neither skips nor repeats a run).
	PutSchedule(ctx context.Context, s Schedule) (*Schedule, error)
	// GetSchedule returns a schedule; ErrNotFound if absent.
	GetSchedule(ctx context.Context, name string) (*Schedule, error)
	// ListSchedules returns every schedule by name.
	ListSchedules(ctx context.Context) ([]*Schedule, error)
	// DeleteSchedule removes a schedule; ErrNotFound if absent.
	DeleteSchedule(ctx context.Context, name string) error
	// AdvanceSchedule moves a schedule's NextRun from from to to (and its
	// LastRun to from) only if NextRun is still from: a compare-and-set.
	// Of replicas racing for one run exactly one sees won true.
	// ErrNotFound if the schedule is absent.
	AdvanceSchedule(ctx context.Context, name string, from, to time.Time) (won bool, err error)

	// CreateScan records a new scan; ErrAlreadyExists if the ID is taken.
	CreateScan(ctx context.Context, s Scan) error
	// UpdateScan writes a scan's progress and status (by ID); ErrNotFound
	// if absent.
	UpdateScan(ctx context.Context, s Scan) error
	// GetScan returns a scan; ErrNotFound if absent.
	GetScan(ctx context.Context, id string) (*Scan, error)
	// ListScans returns scans newest first, at most limit (0: 100), of one
	// playbook when playbook is not empty.
	ListScans(ctx context.Context, playbook string, limit int) ([]*Scan, error)
}
