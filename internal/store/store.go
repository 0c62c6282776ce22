// Package store is steward's durable state: state machines with their
// revisions, executions, their histories, timers and task tokens. The
// engine uses only this interface; storesqlite is the embedded driver and a
// PostgreSQL driver can follow (see storetest for the contract both pass).
//
// Work is shared through leases: an execution that has work to do (it is
// runnable, or one of its timers is due) is claimed by one engine (an owner
// id) until a lease expiry, and every change to an execution is one atomic
// Transition checked against the execution's version, so two owners can
// never both apply a change computed from the same state.
//
// How a driver maps the contract:
//
//   - Apply: one transaction; UPDATE executions ... WHERE arn = $1 AND
//     version = $2 (zero rows: ErrConflict, nothing written), then the
//     events, timers and tokens. SQLite groups many executions' Applies in
//     one transaction (a single writer); PostgreSQL can commit each, or
//     group them the same way.
//   - ClaimExecutions: SQLite has one writer, so a plain SELECT then
//     UPDATE inside the writer is atomic; PostgreSQL selects the same rows
//     with FOR UPDATE SKIP LOCKED so that replicas claim disjoint sets.
//   - Leases never change Version: a claim only says who should work on
//     an execution; Version alone decides whose change wins.
package store

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors. Drivers wrap them; callers test with errors.Is.
var (
	// ErrNotFound: no such row.
	ErrNotFound = errors.New("not found")
	// ErrConflict: the row changed since it was read (version mismatch), or
	// a lease is held by another owner.
	ErrConflict = errors.New("conflict")
	// ErrAlreadyExists: a row with that key exists.
	ErrAlreadyExists = errors.New("already exists")
	// ErrLocked: the store is in use by another process.
	ErrLocked = errors.New("store locked by another process")
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("store closed")
)

// Store is the durable state behind the engine. All methods are safe for
// concurrent use. Times are stored with millisecond precision or better
// and returned in UTC.
type Store interface {
	// CreateStateMachine stores a new state machine as revision 1.
	// ErrAlreadyExists if the ARN is taken.
	CreateStateMachine(ctx context.Context, p CreateStateMachineParams) (*StateMachine, error)
	// UpdateStateMachine stores a new revision of a state machine's
	// definition (and/or role) and makes it current. ErrNotFound if absent.
	UpdateStateMachine(ctx context.Context, p UpdateStateMachineParams) (*StateMachine, error)
	// GetStateMachine returns the current revision of a state machine.
	GetStateMachine(ctx context.Context, arn string) (*StateMachine, error)
	// GetStateMachineRevision returns one revision of a state machine,
	// even after later updates (executions keep running on theirs).
	GetStateMachineRevision(ctx context.Context, arn string, revision int) (*StateMachine, error)
	// ListStateMachines lists state machines by ARN, in ARN order.
	ListStateMachines(ctx context.Context, p ListParams) ([]*StateMachine, string, error)
	// DeleteStateMachine deletes a state machine and its revisions; its
	// executions stay. ErrNotFound if absent.
	DeleteStateMachine(ctx context.Context, arn string) error

	// CreateExecution stores a new execution with its first history events
	// and timers, atomically. ErrAlreadyExists (and the existing execution)
	// if the ARN is taken.
	CreateExecution(ctx context.Context, p CreateExecutionParams) (*Execution, error)
	// GetExecution returns an execution. ErrNotFound if absent.
	GetExecution(ctx context.Context, arn string) (*Execution, error)
	// ListExecutions lists executions, newest first.
	ListExecutions(ctx context.Context, p ListExecutionsParams) ([]*Execution, string, error)
	// GetHistory returns an execution's events in id order, from
	// AfterEventID+1, at most Limit (0: all).
	GetHistory(ctx context.Context, p GetHistoryParams) ([]HistoryEvent, error)

	// Apply commits one transition atomically: the execution's new state,
	// its new history events, and the timers and task tokens it creates and
	// deletes. ErrConflict, with nothing applied, when the execution's
	// version is not t.Version. On success the execution's version is
	// t.Version+1. An error from the driver (disk full, I/O) applies
	// nothing. Apply returns only after the transition is durable.
	Apply(ctx context.Context, t *Transition) error

	// ClaimExecutions leases to p.Owner until p.LeaseUntil up to p.Limit
	// running executions that have work (Runnable, or a timer due at
	// p.Now) and whose lease is free or expired; it returns them with their
	// due timers.
	ClaimExecutions(ctx context.Context, p ClaimParams) ([]*Claim, error)
	// RenewLeases extends every lease p.Owner holds to p.LeaseUntil.
	RenewLeases(ctx context.Context, owner string, until time.Time) error
	// ReleaseLeases frees every lease owner holds (a restarted engine calls
	// it with its own owner id to recover its work at once).
	ReleaseLeases(ctx context.Context, owner string) error
	// NextTimer returns the due time of the earliest timer of an execution
	// whose lease is free or expired at now; ok is false when there is none.
	NextTimer(ctx context.Context, now time.Time) (due time.Time, ok bool, err error)
	// ListTimers returns an execution's timers in due order.
	ListTimers(ctx context.Context, executionARN string) ([]Timer, error)

	// GetTaskToken returns a task token. ErrNotFound if it is unknown or
	// was used.
	GetTaskToken(ctx context.Context, token string) (*TaskToken, error)

	// Close releases the store; pending Applies fail with ErrClosed.
	Close() error
}

// StateMachine is one revision of a state machine.
type StateMachine struct {
	ARN        string
	Name       string
	Type       string // STANDARD
	Definition string
	RoleARN    string
	// Revision counts from 1; each UpdateStateMachine adds one.
	Revision    int
	RevisionID  string
	CreatedAt   time.Time
	UpdatedAt   time.Time
	Description string
}

// CreateStateMachineParams creates a state machine.
type CreateStateMachineParams struct {
	ARN, Name, Type, Definition, RoleARN string
	RevisionID                           string
	Now                                  time.Time
}

// UpdateStateMachineParams updates a state machine; empty fields keep
// their value.
type UpdateStateMachineParams struct {
	ARN                 string
	Definition, RoleARN string
	RevisionID          string
	Description         string
	Now                 time.Time
}

// ListParams pages through a list: NextToken from the previous page, at
// most Limit (0: a driver default of 100).
type ListParams struct {
	Limit     int
	NextToken string
}

// Execution is one run of a state machine.
type Execution struct {
	ARN                  string
	StateMachineARN      string
	StateMachineRevision int
	Name                 string
	Status               string
	Input                string
	Output               string
	Error                string
	Cause                string
	StartDate            time.Time
	StopDate             time.Time // zero while running
	RedriveCount         int
	RedriveDate          time.Time
	// Runtime is the engine's opaque state of the execution (which states
	// its runs are in, their inputs, variables and attempts).
	Runtime []byte
	// Runnable: the execution has work to do now (not only timers or
	// task tokens).
	Runnable bool
	// Version counts the transitions applied; Apply checks it.
	Version int64
	// LastEventID is the id of the execution's last history event.
	LastEventID  int64
	LeaseOwner   string
	LeaseExpires time.Time
}

// CreateExecutionParams creates an execution: the row (Version 0 becomes
// 1), its first events and timers. Lease, if LeaseOwner is set, is taken at
// once.
type CreateExecutionParams struct {
	Execution Execution
	Events    []HistoryEvent
	Timers    []Timer
}

// ListExecutionsParams filters ListExecutions.
type ListExecutionsParams struct {
	StateMachineARN string // empty: all
	Status          string // empty: all
	ListParams
}

// GetHistoryParams selects history events.
type GetHistoryParams struct {
	ExecutionARN string
	AfterEventID int64
	Limit        int
	Reverse      bool
}

// HistoryEvent is one stored history event. Details is the JSON object of
// the event's details field, named by DetailsKey.
type HistoryEvent struct {
	ID              int64
	PreviousEventID int64
	Type            string
	Timestamp       time.Time
	DetailsKey      string
	Details         []byte
}

// Timer is a durable deadline of an execution: a Wait, a retry delay, a
// task timeout or heartbeat. Key is unique within the execution; Payload
// is the engine's.
type Timer struct {
	ExecutionARN string
	Key          string
	Due          time.Time
	Payload      []byte
}

// TaskToken is an outstanding .waitForTaskToken callback.
type TaskToken struct {
	Token        string
	ExecutionARN string
	// RunKey says which part of the execution waits (engine-defined).
	RunKey    string
	CreatedAt time.Time
}

// Transition is one atomic change of an execution.
type Transition struct {
	ExecutionARN string
	// Version is the version the change was computed from.
	Version int64
	// Execution fields to set.
	Status       string
	Output       string
	Error        string
	Cause        string
	StopDate     time.Time
	RedriveCount int
	RedriveDate  time.Time
	Runtime      []byte
	Runnable     bool
	// Lease, when not nil, sets the lease (an empty Owner frees it); nil
	// keeps it as it is.
	Lease *Lease
	// Events are appended; their ids must follow the execution's
	// LastEventID without gaps.
	Events       []HistoryEvent
	PutTimers    []Timer
	DeleteTimers []string // keys
	PutTokens    []TaskToken
	DeleteTokens []string
}

// Lease is who holds an execution until when.
type Lease struct {
	Owner   string
	Expires time.Time
}

// ClaimParams claims work.
type ClaimParams struct {
	Owner      string
	Now        time.Time
	LeaseUntil time.Time
	Limit      int
}

// Claim is an execution leased to an owner, with its timers due.
type Claim struct {
	Execution *Execution
	DueTimers []Timer
}
