package notify

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// TransientError marks a failure worth retrying: a connection refused, an
// SMTP 4xx, an HTTP 429 or 5xx. RetryAfter is the server's hint, if any.
type TransientError struct {
	Err        error
	RetryAfter time.Duration
}

func (e *TransientError) Error() string { return "transient: " + e.Err.Error() }

// Unwrap returns the cause.
func (e *TransientError) Unwrap() error { return e.Err }

// Transient wraps err as a TransientError (nil stays nil).
func Transient(err error, retryAfter time.Duration) error {
	if err == nil {
		return nil
	}
	return &TransientError{Err: err, RetryAfter: retryAfter}
}

// IsTransient reports whether err (or an error it wraps) is transient.
func IsTransient(err error) bool {
	var t *TransientError
	return errors.As(err, &t)
}

// DeliveryError is what a notifier returns when it gave up: after Attempts
// tries, or at once for a permanent failure. Transient says the caller (the
// durable engine) may try again later, after RetryAfter if set.
type DeliveryError struct {
	Attempts   int
	Transient  bool
	RetryAfter time.Duration
	Err        error // the last failure
}

func (e *DeliveryError) Error() string {
	kind := "permanent"
	if e.Transient {
		kind = "transient"
	}
	return fmt.Sprintf("delivery failed after %d attempt(s) (%s): %v", e.Attempts, kind, e.Err)
}

// Unwrap returns the last failure.
func (e *DeliveryError) Unwrap() error { return e.Err }

// RetryPolicy bounds retries of one delivery. The zero value retries 4
// times in all, waiting 1s, 2s, 4s (capped at Max), honouring a server's
// Retry-After up to MaxWait.
type RetryPolicy struct {
	Attempts int           // total tries; 0 means 4, 1 means no retry
	Base     time.Duration // first wait; 0 means 1s
	Max      time.Duration // longest wait between tries; 0 means 30s
	// MaxWait is the longest Retry-After honoured; a longer one ends the
	// retries at once (the error carries it for the caller). 0 means 60s.
	MaxWait time.Duration
	// SleepFunc waits d or until ctx ends; nil means a real timer. Tests
	// pass one that records the waits and returns at once.
	SleepFunc func(ctx context.Context, d time.Duration) error
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.Attempts <= 0 {
		p.Attempts = 4
	}
	if p.Base <= 0 {
		p.Base = time.Second
	}
	if p.Max <= 0 {
		p.Max = 30 * time.Second
	}
	if p.MaxWait <= 0 {
		p.MaxWait = 60 * time.Second
	}
	if p.SleepFunc == nil {
		p.SleepFunc = sleep
	}
	return p
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Retry calls op until it succeeds, fails permanently (an error that is not
// a TransientError), the attempts run out, or ctx ends. It never blocks
// longer than the policy allows. Failures come back as *DeliveryError.
func Retry(ctx context.Context, p RetryPolicy, op func(ctx context.Context) error) error {
	p = p.withDefaults()
	wait := p.Base
	for attempt := 1; ; attempt++ {
		err := op(ctx)
		if err == nil {
			return nil
		}
		var te *TransientError
		if !errors.As(err, &te) {
			return &DeliveryError{Attempts: attempt, Err: err}
		}
		d := wait
		if te.RetryAfter > 0 {
			d = te.RetryAfter
		}
		if attempt >= p.Attempts || d > p.MaxWait {
			return &DeliveryError{Attempts: attempt, Transient: true, RetryAfter: te.RetryAfter, Err: err}
		}
		if serr := p.SleepFunc(ctx, d); serr != nil {
			return &DeliveryError{Attempts: attempt, Transient: true, Err: fmt.Errorf("%w (then %v)", err, serr)}
		}
		wait *= 2
		if wait > p.Max {
			wait = p.Max
		}
	}
}
