package cloud

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// counter is an atomic count.
type counter struct{ n atomic.Int64 }

func (c *counter) add()        { c.n.Add(1) }
func (c *counter) load() int64 { return c.n.Load() }

// newRetryer is the SDK's standard retryer (not adaptive mode, whose
// client-side rate limiter can stop retrying for good) with a very high
// attempt limit, no retry quota, and exponential backoff with full jitter.
func (c *Cloud) newRetryer() aws.Retryer {
	b := jitterBackoff{base: c.cfg.BaseDelay, max: c.cfg.MaxBackoff}
	std := retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = c.cfg.MaxAttempts
		o.MaxBackoff = c.cfg.MaxBackoff
		o.Backoff = b
		o.RateLimiter = ratelimit.None
	})
	return unreachableRetryer{Retryer: std, max: c.cfg.MaxUnreachableAttempts}
}

// unreachableRetryer gives up on a call whose endpoint never answered
// (connection refused, no such host, TLS failure) after max attempts:
// throttling and 5xx answers are AWS saying "later" and are retried as
// long as the call may run, but an endpoint that is not there will not
// come back because the playbook waited, and the task should fail with
// the cause instead of hanging.
type unreachableRetryer struct {
	aws.Retryer
	max int
}

// RetryDelay implements aws.Retryer.
func (r unreachableRetryer) RetryDelay(attempt int, err error) (time.Duration, error) {
	var sendErr *smithyhttp.RequestSendError
	if attempt >= r.max && errors.As(err, &sendErr) {
		return 0, fmt.Errorf("gave up after %d attempts: no answer from the endpoint: %w", attempt, err)
	}
	return r.Retryer.RetryDelay(attempt, err)
}

// jitterBackoff waits a random time in [0, min(max, base*2^(attempt-1))).
type jitterBackoff struct{ base, max time.Duration }

// BackoffDelay implements retry.BackoffDelayer.
func (b jitterBackoff) BackoffDelay(attempt int, _ error) (time.Duration, error) {
	ceil := b.max
	if attempt < 1 {
		attempt = 1
	}
	if attempt <= 40 {
		if d := b.base << (attempt - 1); d > 0 && d < ceil {
			ceil = d
		}
	}
	if ceil <= 0 {
		return 0, nil
	}
	return time.Duration(rand.Int64N(int64(ceil))), nil
}

var throttles = retry.IsErrorThrottles(retry.DefaultThrottles)

// isThrottle reports whether err is a throttling error (Throttling,
// ThrottlingException, RequestLimitExceeded, TooManyRequestsException, ...).
func isThrottle(err error) bool {
	return err != nil && throttles.IsErrorThrottle(err) == aws.TrueTernary
}

// limitOptions adds two middlewares to every client of a Key: one counts
// operations; the other runs for each attempt, after the retryer: it waits
// for a token from the Key's bucket and counts attempts and throttles.
func limitOptions(st *keyState) []func(*middleware.Stack) error {
	return []func(*middleware.Stack) error{func(s *middleware.Stack) error {
		err := s.Initialize.Add(middleware.InitializeMiddlewareFunc("steward.CountCalls",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				st.calls.add()
				return next.HandleInitialize(ctx, in)
			}), middleware.Before)
		if err != nil {
			return err
		}
		return s.Finalize.Insert(middleware.FinalizeMiddlewareFunc("steward.RateLimit",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				if err := st.limiter.Wait(ctx); err != nil {
					return middleware.FinalizeOutput{}, middleware.Metadata{}, err
				}
				st.attempts.add()
				out, md, err := next.HandleFinalize(ctx, in)
				if isThrottle(err) {
					st.throttles.add()
				}
				return out, md, err
			}), "Retry", middleware.After)
	}}
}
