package store

import (
	"context"
	"time"
)

// Exception is a person's decision to leave a resource alone until a date:
// while it is in force the playbooks it covers skip the resource (outcome
// "exception"). Exceptions are granted from an approval (#7), the CLI or
// the API, mirrored as the <prefix>exception tag on the resource, and never
// deleted: a revoked or expired exception stays for the record.
type Exception struct {
	// ID is assigned by GrantException when empty.
	ID string `json:"id"`
	// Resource is the ARN of the excepted resource.
	Resource string `json:"resource"`
	Account  string `json:"account,omitempty"`
	Region   string `json:"region,omitempty"`
	// Playbook is the playbook the exception covers; "" covers all.
	Playbook string `json:"playbook,omitempty"`
	// Until is when the exception ends (exclusive).
	Until     time.Time `json:"until"`
	Reason    string    `json:"reason,omitempty"`
	GrantedBy string    `json:"grantedBy"`
	// Channel says where it was granted: slack, email, cli, api, tag.
	Channel   string    `json:"channel,omitempty"`
	GrantedAt time.Time `json:"grantedAt"`
	// RevokedAt is zero while the exception was not revoked.
	RevokedAt time.Time `json:"revokedAt,omitzero"`
	RevokedBy string    `json:"revokedBy,omitempty"`
	// RecheckedAt is when steward looked at the resource again after the
	// exception expired; zero until then.
	RecheckedAt time.Time `json:"recheckedAt,omitzero"`
}

// ActiveAt reports whether the exception is in force at now: not revoked
// and not yet at its end.
func (e *Exception) ActiveAt(now time.Time) bool {
	return e.RevokedAt.IsZero() && now.Before(e.Until)
}

// Covers reports whether the exception applies to playbook ("" asks about
// any playbook).
func (e *Exception) Covers(playbook string) bool {
	return e.Playbook == "" || playbook == "" || e.Playbook == playbook
}

// ExceptionFilter selects exceptions for ListExceptions; zero fields do
// not filter.
type ExceptionFilter struct {
	Resource string
	Account  string
	// Playbook keeps the exceptions that cover it (including those for all
	// playbooks).
	Playbook string
	// ActiveAt, when set, keeps only the exceptions in force at that time.
	ActiveAt time.Time
	// Limit caps the rows (0: no cap). Rows come newest grant first.
	Limit int
}

// ExceptionStore keeps exceptions.
type ExceptionStore interface {
	// GrantException records e (assigning an ID when e.ID is empty) and
	// returns it as stored. Granting again with an existing ID is
	// ErrConflict.
	GrantException(ctx context.Context, e Exception) (Exception, error)
	// RevokeException ends exception id at at, by by, and returns it.
	// ErrNotFound when there is no such exception; ErrConflict when it was
	// already revoked (nothing changes).
	RevokeException(ctx context.Context, id, by string, at time.Time) (Exception, error)
	// GetException returns one exception. ErrNotFound if absent.
	GetException(ctx context.Context, id string) (Exception, error)
	// ActiveException returns the exception in force at now for resource
	// that covers playbook (one for that playbook or for all; playbook ""
	// matches any), the one lasting longest when several are. ErrNotFound
	// when none is.
	ActiveException(ctx context.Context, resource, playbook string, now time.Time) (Exception, error)
	// ListExceptions returns the exceptions f selects, newest grant first.
	ListExceptions(ctx context.Context, f ExceptionFilter) ([]Exception, error)
	// ExpiredUnchecked returns up to limit exceptions that ended by now
	// (Until <= now), were not revoked and not yet rechecked, oldest end
	// first.
	ExpiredUnchecked(ctx context.Context, now time.Time, limit int) ([]Exception, error)
	// MarkRechecked records that the resource of exception id was looked at
	// again after its end. ErrNotFound if absent.
	MarkRechecked(ctx context.Context, id string, at time.Time) error
}
