package builtin

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/stewardhq/steward/internal/store"
)

// ExceptionPolicy bounds how long an exception may last: the talk's rule
// is one month, or in production one month or one year.
type ExceptionPolicy struct {
	// Max is the longest exception outside production; default one month.
	Max time.Duration
	// MaxProduction is the longest in production; default one year.
	MaxProduction time.Duration
	// ProductionClasses are the account classes that count as production;
	// default "production" and "prod".
	ProductionClasses []string
}

func (p ExceptionPolicy) limit(class string) time.Duration {
	prod := p.ProductionClasses
	if len(prod) == 0 {
		prod = []string{"production", "prod"}
	}
	for _, c := range prod {
		if strings.EqualFold(c, class) {
			if p.MaxProduction > 0 {
				return p.MaxProduction
			}
			return 366 * 24 * time.Hour
		}
	}
	if p.Max > 0 {
		return p.Max
	}
	return 31 * 24 * time.Hour
}

// Errors of granting and revoking.
var (
	// ErrExceptionTooLong: the end is past what the account's class allows.
	ErrExceptionTooLong = errors.New("exception too long")
	// ErrExceptionInvalid: the grant lacks something (a resource ARN, a
	// future end, who grants it).
	ErrExceptionInvalid = errors.New("invalid exception")
	// ErrNoExceptionStore: steward runs without an exception store.
	ErrNoExceptionStore = errors.New("no exception store configured")
)

// GrantException records an exception (Deps.Exceptions) and mirrors it as
// the <prefix>exception tag on the resource (value YYYY-MM-DD;reason). The
// end must be in the future and within the policy for the account's class
// (a date-only end counts to the end of its day, plus a day of grace for
// "a month from today"). When the tag cannot be written the exception is
// revoked again and the error returned: nothing is left half-done.
func (t *Tasks) GrantException(ctx context.Context, e store.Exception, policy ExceptionPolicy) (store.Exception, error) {
	if t.d.Exceptions == nil {
		return store.Exception{}, ErrNoExceptionStore
	}
	now := t.d.Clock.Now().UTC()
	e.Resource = strings.TrimSpace(e.Resource)
	w, err := Locate(e.Resource, map[string]any{"account": e.Account, "region": e.Region})
	if err != nil {
		return store.Exception{}, fmt.Errorf("%w: %v", ErrExceptionInvalid, err)
	}
	e.Account, e.Region = w.Account, w.Region
	if strings.TrimSpace(e.GrantedBy) == "" {
		return store.Exception{}, fmt.Errorf("%w: say who grants the exception on %s", ErrExceptionInvalid, e.Resource)
	}
	if !e.Until.After(now) {
		return store.Exception{}, fmt.Errorf("%w: the exception on %s would end %s, which is not in the future", ErrExceptionInvalid, e.Resource, rfc3339(e.Until))
	}
	class := t.d.ClassOf(w.Account)
	if max := policy.limit(class); e.Until.Sub(now) > max+24*time.Hour {
		return store.Exception{}, fmt.Errorf("%w: the exception on %s would end %s; in account %s (class %q) exceptions last at most %d days",
			ErrExceptionTooLong, e.Resource, rfc3339(e.Until), w.Account, class, int(max.Hours()/24))
	}
	if e.GrantedAt.IsZero() {
		e.GrantedAt = now
	}
	g, err := t.d.Exceptions.GrantException(ctx, e)
	if err != nil {
		return store.Exception{}, err
	}
	if err := t.mirrorException(ctx, w, now); err != nil {
		if _, rerr := t.d.Exceptions.RevokeException(ctx, g.ID, "steward (tag failed)", now); rerr != nil {
			err = errors.Join(err, fmt.Errorf("and revoking it again failed: %w", rerr))
		}
		return store.Exception{}, fmt.Errorf("exception on %s not granted: %w", e.Resource, err)
	}
	return g, nil
}

// RevokeException ends an exception now and brings the resource's
// <prefix>exception tag in line: the longest exception still in force, or
// no tag.
func (t *Tasks) RevokeException(ctx context.Context, id, by string) (store.Exception, error) {
	if t.d.Exceptions == nil {
		return store.Exception{}, ErrNoExceptionStore
	}
	if strings.TrimSpace(by) == "" {
		return store.Exception{}, fmt.Errorf("%w: say who revokes exception %s", ErrExceptionInvalid, id)
	}
	now := t.d.Clock.Now().UTC()
	e, err := t.d.Exceptions.RevokeException(ctx, id, by, now)
	if err != nil {
		return store.Exception{}, err
	}
	w, err := Locate(e.Resource, map[string]any{"account": e.Account, "region": e.Region})
	if err != nil {
		return e, fmt.Errorf("exception %s revoked; its tag on %s is left: %w", id, e.Resource, err)
	}
	if err := t.mirrorException(ctx, w, now); err != nil {
		return e, fmt.Errorf("exception %s revoked; updating the tag on %s failed: %w", id, e.Resource, err)
	}
	return e, nil
}

// mirrorException writes the longest exception in force on the resource
// as its <prefix>exception tag, or removes the tag when none is.
func (t *Tasks) mirrorException(ctx context.Context, w Where, now time.Time) error {
	key, _ := t.Key(TagException)
	e, err := t.d.Exceptions.ActiveException(ctx, w.ARN, "", now)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return t.UntagResource(ctx, w, []string{key})
	case err != nil:
		return err
	}
	return t.TagResource(ctx, w, map[string]string{key: FormatExceptionTag(e.Until, e.Reason)})
}

// RecheckFunc looks at an expired exception's resource again: it starts
// the exception's playbook for it.
type RecheckFunc func(ctx context.Context, e store.Exception) error

// RecheckExpired handles up to limit exceptions that ended and were not
// looked at since: for each one naming a playbook, recheck runs (when it
// fails the exception stays due and is tried on the next call); then it
// is marked rechecked. The resource's tag is brought in line first. It returns
// how many it marked.
func (t *Tasks) RecheckExpired(ctx context.Context, limit int, recheck RecheckFunc) (int, error) {
	if t.d.Exceptions == nil {
		return 0, nil
	}
	now := t.d.Clock.Now().UTC()
	due, err := t.d.Exceptions.ExpiredUnchecked(ctx, now, limit)
	if err != nil {
		return 0, err
	}
	n := 0
	var errs []error
	for _, e := range due {
		// The tag first, so the playbook started next reads it right.
		if w, err := Locate(e.Resource, map[string]any{"account": e.Account, "region": e.Region}); err == nil {
			if err := t.mirrorException(ctx, w, now); err != nil {
				t.d.Logf("exception %s expired; updating the tag on %s: %v", e.ID, e.Resource, err)
			}
		}
		if e.Playbook != "" && recheck != nil {
			if err := recheck(ctx, e); err != nil {
				errs = append(errs, fmt.Errorf("recheck %s after exception %s: %w", e.Resource, e.ID, err))
				continue
			}
		}
		if err := t.d.Exceptions.MarkRechecked(ctx, e.ID, now); err != nil {
			errs = append(errs, err)
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}
