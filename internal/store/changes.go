package store

import (
	"context"
	"encoding/json"
	"time"
)

// ChangeKind says what a change record records.
type ChangeKind string

// The kinds of change record.
const (
	// KindCall is an aws-sdk call a playbook made (or planned) through the
	// change gate.
	KindCall ChangeKind = "call"
	// KindNotice is a notice steward:notify would have sent (observe stage).
	KindNotice ChangeKind = "notice"
	// KindRecord is a change made outside the aws-sdk tasks and recorded
	// with steward:record (or planned with steward:plan).
	KindRecord ChangeKind = "record"
)

// ChangeStatus is where a change record stands.
type ChangeStatus string

// The statuses of a change record.
const (
	// StatusPlanned: the change was not made (observe or notify stage); it
	// says what enforce would do.
	StatusPlanned ChangeStatus = "planned"
	// StatusPending: the call is being made (or steward stopped while it
	// was); a re-delivery of the same call makes it again.
	StatusPending ChangeStatus = "pending"
	// StatusApplied: the change was made.
	StatusApplied ChangeStatus = "applied"
	// StatusFailed: the call failed; nothing is known to have changed.
	StatusFailed ChangeStatus = "failed"
	// StatusRolledBack: the change was undone (RolledBackAt, RolledBackBy).
	StatusRolledBack ChangeStatus = "rolled-back"
)

// Change is one change record: what a playbook changed (or would change)
// in AWS, with what it looked like before and after and how to undo it.
type Change struct {
	// ID names the record (e.g. "ch-3f2a..."); unique.
	ID string `json:"id"`
	// Seq orders records by creation; set by the store.
	Seq int64 `json:"seq"`
	// ExecutionARN is the execution that made the change.
	ExecutionARN string `json:"executionArn"`
	// Run is the scan id the execution belongs to, else its ARN.
	Run string `json:"run"`
	// Playbook is the playbook (state machine) name.
	Playbook string `json:"playbook"`
	// StateName is the Task state that made the call.
	StateName string `json:"stateName,omitempty"`
	// Account and Region are where the change acts.
	Account string `json:"account,omitempty"`
	Region  string `json:"region,omitempty"`
	// Resource is the changed resource (an ARN or an id).
	Resource string `json:"resource,omitempty"`
	// Service and Action name the call, e.g. "ec2", "DeleteVolume".
	Service string `json:"service,omitempty"`
	Action  string `json:"action,omitempty"`
	// Parameters are the call's parameters (JSON).
	Parameters json.RawMessage `json:"parameters,omitempty"`
	// Kind is call, notice or record.
	Kind ChangeKind `json:"kind"`
	// Status is planned, pending, applied, failed or rolled-back.
	Status ChangeStatus `json:"status"`
	// Stage is the stage the call ran in: observe, notify or enforce.
	Stage string `json:"stage,omitempty"`
	// Before and After are what the resource looked like (JSON, opaque to
	// the store).
	Before json.RawMessage `json:"before,omitempty"`
	After  json.RawMessage `json:"after,omitempty"`
	// Undo says how to undo the change (JSON, opaque to the store); empty
	// when it cannot be undone.
	Undo json.RawMessage `json:"undo,omitempty"`
	// Irreversible, when set, says why the change cannot be undone and
	// where what is left of the resource is (a snapshot id, an address).
	Irreversible string `json:"irreversible,omitempty"`
	// Result is what the task returned (JSON).
	Result json.RawMessage `json:"result,omitempty"`
	// Error is why the call failed (status failed).
	Error string `json:"error,omitempty"`
	// CreatedAt and UpdatedAt are UTC, millisecond precision.
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
	// RolledBackAt and RolledBackBy say when and by whom the change was
	// undone (status rolled-back).
	RolledBackAt time.Time `json:"rolledBackAt,omitzero"`
	RolledBackBy string    `json:"rolledBackBy,omitempty"`
	// IdempotencyKey is the key of the task delivery that made the record;
	// unique when not empty, so a re-delivered call finds its record.
	IdempotencyKey string `json:"idempotencyKey,omitempty"`
}

// ChangeOutcome is what FinishChange writes over a record.
type ChangeOutcome struct {
	Status       ChangeStatus
	After        json.RawMessage
	Undo         json.RawMessage
	Irreversible string
	Result       json.RawMessage
	Error        string
	At           time.Time
}

// ChangeFilter selects change records. Empty fields match everything.
type ChangeFilter struct {
	ExecutionARN string
	Run          string
	Playbook     string
	Status       ChangeStatus
	Kind         ChangeKind
	// AfterSeq lists records with Seq > AfterSeq (paging).
	AfterSeq int64
	// Limit bounds the result; 0 means 1000.
	Limit int
}

// PlaybookPause says a playbook is paused: its mutating calls fail with
// Steward.PlaybookPaused until someone resumes it.
type PlaybookPause struct {
	Playbook string    `json:"playbook"`
	Reason   string    `json:"reason"`
	By       string    `json:"by,omitempty"`
	At       time.Time `json:"at"`
}

// ChangeStore keeps change records and playbook pauses. All methods are
// safe for concurrent use; times are returned in UTC.
type ChangeStore interface {
	// CreateChange stores a new record (Seq, CreatedAt and UpdatedAt are
	// set; CreatedAt from c when not zero). When c.IdempotencyKey is taken
	// it stores nothing and returns the existing record with an error
	// wrapping ErrAlreadyExists; likewise when c.ID is taken.
	CreateChange(ctx context.Context, c Change) (*Change, error)
	// FinishChange sets a record's status and outcome fields (After, Undo,
	// Irreversible, Result, Error: empty ones are left as they are).
	// ErrNotFound when absent.
	FinishChange(ctx context.Context, id string, o ChangeOutcome) (*Change, error)
	// GetChange returns one record. ErrNotFound when absent.
	GetChange(ctx context.Context, id string) (*Change, error)
	// GetChangeByKey returns the record of an idempotency key. ErrNotFound
	// when absent.
	GetChangeByKey(ctx context.Context, key string) (*Change, error)
	// ListChanges lists records in Seq order.
	ListChanges(ctx context.Context, f ChangeFilter) ([]*Change, error)
	// MarkRolledBack marks applied records rolled back, all or none: an
	// error wrapping ErrConflict (nothing written) when one is not
	// applied, ErrNotFound when one is absent.
	MarkRolledBack(ctx context.Context, ids []string, by string, at time.Time) error
	// CountApplied counts the records of kind call or record of a playbook
	// that were applied (including those since rolled back): in run when
	// run is not empty, created at or after since when since is not zero.
	CountApplied(ctx context.Context, playbook, run string, since time.Time) (int, error)

	// PausePlaybook pauses a playbook (replacing an earlier pause's reason).
	PausePlaybook(ctx context.Context, p PlaybookPause) error
	// ResumePlaybook lifts a pause. ErrNotFound when it was not paused.
	ResumePlaybook(ctx context.Context, playbook string) error
	// PlaybookPaused returns the pause of a playbook, or nil when it is
	// not paused.
	PlaybookPaused(ctx context.Context, playbook string) (*PlaybookPause, error)
	// ListPausedPlaybooks lists the pauses by playbook name.
	ListPausedPlaybooks(ctx context.Context) ([]PlaybookPause, error)
}
