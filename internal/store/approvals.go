package store

import (
	"context"
	"time"
)

// LinkStore remembers which approval links were used, so each acts once
// (internal/approve's UsedStore and UsedReleaser).
type LinkStore interface {
	// MarkUsed records nonce as used until expires and reports whether this
	// was the first use; of two concurrent calls exactly one sees true.
	// Records past their expiry may be dropped.
	MarkUsed(ctx context.Context, nonce string, expires time.Time) (firstTime bool, err error)
	// ReleaseUsed forgets a use (the decision could not be handed over and
	// the person may try the same link again).
	ReleaseUsed(ctx context.Context, nonce string) error
}

// ApprovalStatus is where an approval stands.
type ApprovalStatus string

// The statuses of an approval.
const (
	ApprovalPending   ApprovalStatus = "pending"   // waiting for a person or the deadline
	ApprovalDecided   ApprovalStatus = "decided"   // a person, the CLI or the deadline decided
	ApprovalExpired   ApprovalStatus = "expired"   // the deadline passed and the default could not be delivered
	ApprovalCancelled ApprovalStatus = "cancelled" // the execution ended before anyone decided
)

// Approval is one pause for a person: a steward:approval task waiting on
// its task token until someone (or the deadline) decides.
type Approval struct {
	ID            string // stable per task call (its idempotency key)
	ExecutionARN  string
	StateName     string
	TaskToken     string
	Playbook      string
	Account       string
	Region        string
	Resource      string
	Owner         string
	Choices       []string
	Default       string
	Deadline      time.Time
	NextReminder  time.Time // zero: no reminder left
	RemindersSent int
	Notice        []byte // the notice as JSON (what was asked)
	Status        ApprovalStatus
	Decision      string // approve, deny, exception, ...
	DecidedBy     string
	Channel       string // slack, email, cli, api, deadline
	Reason        string
	Until         time.Time // end of an exception
	CreatedAt     time.Time
	DecidedAt     time.Time
	Receipts      []byte // JSON: where the notice went (Slack channel and ts, ...)
	LastError     string // the last failure to send or deliver, for people to see
	// Batch groups the approvals sent as one message per owner: the
	// playbook and its run (the scan of a scheduled playbook, else the
	// execution).
	Batch string
	// NotifiedAt is when the notice reached every recipient (zero: not
	// yet); SendAfter is when to try again, SendAttempts how often it was
	// tried.
	NotifiedAt   time.Time
	SendAfter    time.Time
	SendAttempts int
	// DeliveredAt is when the decision was handed to the execution (zero:
	// not yet, or there is no decision).
	DeliveredAt time.Time
}

// ApprovalFilter narrows List. Zero fields match everything.
type ApprovalFilter struct {
	Status       ApprovalStatus
	ExecutionARN string
	Owner        string
	// Undelivered keeps decided approvals whose decision was not yet
	// handed to the execution.
	Undelivered bool
	Limit       int // default 100
}

// ApprovalDelivery is the state of sending an approval's notice.
type ApprovalDelivery struct {
	Receipts     []byte
	NotifiedAt   time.Time
	SendAfter    time.Time
	SendAttempts int
	LastError    string
}

// ApprovalDecision is what Decide records.
type ApprovalDecision struct {
	Status    ApprovalStatus // default ApprovalDecided
	Decision  string
	DecidedBy string
	Channel   string
	Reason    string
	Until     time.Time
	DecidedAt time.Time
}

// ApprovalStore keeps approvals so that they survive restarts and each is
// decided exactly once.
type ApprovalStore interface {
	// CreateApproval stores a new pending approval. It is idempotent on ID:
	// when the ID exists, it returns the stored approval and created=false.
	CreateApproval(ctx context.Context, a *Approval) (stored *Approval, created bool, err error)
	// GetApproval returns an approval; ErrNotFound if absent.
	GetApproval(ctx context.Context, id string) (*Approval, error)
	// ListApprovals lists approvals, newest first.
	ListApprovals(ctx context.Context, f ApprovalFilter) ([]*Approval, error)
	// DecideApproval moves a pending approval to d.Status; exactly one call
	// wins: ErrConflict when it is no longer pending, ErrNotFound if absent.
	DecideApproval(ctx context.Context, id string, d ApprovalDecision) (*Approval, error)
	// DueApprovals lists pending approvals whose deadline or next reminder
	// is at or before now, earliest first, at most limit.
	DueApprovals(ctx context.Context, now time.Time, limit int) ([]*Approval, error)
	// SetReminder records that a reminder went out: the count and the next
	// reminder time (zero: none left). ErrNotFound if absent.
	SetReminder(ctx context.Context, id string, sent int, next time.Time) error
	// UnsentApprovals lists pending approvals whose notice was not yet
	// sent to everyone and whose SendAfter is at or before now, oldest first.
	UnsentApprovals(ctx context.Context, now time.Time, limit int) ([]*Approval, error)
	// SetDelivery records the state of sending the notice. ErrNotFound if
	// absent.
	SetDelivery(ctx context.Context, id string, d ApprovalDelivery) error
	// MarkDelivered records that the decision reached the execution (or
	// could not: msg says why). ErrNotFound if absent.
	MarkDelivered(ctx context.Context, id string, at time.Time, msg string) error
	// SetApprovalError records the last failure (empty clears it).
	SetApprovalError(ctx context.Context, id string, msg string) error
}
