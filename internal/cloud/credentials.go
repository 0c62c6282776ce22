package cloud

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

// AssumeRoleError says which role could not be assumed, and why.
type AssumeRoleError struct {
	Role string
	// Code is AWS's error code (e.g. AccessDenied), when AWS answered.
	Code string
	Err  error
}

func (e *AssumeRoleError) Error() string {
	return fmt.Sprintf("assume role %s: %v", e.Role, e.Err)
}

// Unwrap returns the cause; errors.Is(err, ErrAssumeRole) is true too.
func (e *AssumeRoleError) Unwrap() []error { return []error{ErrAssumeRole, e.Err} }

// roleCache keeps assumed-role credentials per role ARN and renews them
// before they expire. Concurrent callers for one role share one flight.
type roleCache struct {
	c *Cloud

	mu      sync.Mutex
	creds   map[string]aws.Credentials
	flights map[string]*flight
	stsOnce sync.Once
	sts     *sts.Client
}

// flight is one AssumeRole in progress; waiters read its result once done
// is closed.
type flight struct {
	done  chan struct{}
	creds aws.Credentials
	err   error
}

func newRoleCache(c *Cloud) *roleCache {
	return &roleCache{c: c, creds: map[string]aws.Credentials{}, flights: map[string]*flight{}}
}

// fresh reports whether credentials are good for longer than the refresh
// window.
func (rc *roleCache) fresh(cr aws.Credentials) bool {
	if !cr.CanExpire {
		return cr.AccessKeyID != ""
	}
	return rc.c.cfg.Clock.Now().Add(rc.c.cfg.RefreshBefore).Before(cr.Expires)
}

func (rc *roleCache) get(ctx context.Context, role string) (aws.Credentials, error) {
	rc.mu.Lock()
	if cr, ok := rc.creds[role]; ok && rc.fresh(cr) {
		rc.mu.Unlock()
		return cr, nil
	}
	f := rc.flights[role]
	if f == nil {
		f = &flight{done: make(chan struct{})}
		rc.flights[role] = f
		// The flight runs detached from any one caller's context, so
		// that a caller giving up does not fail the others.
		go rc.fly(role, f)
	}
	rc.mu.Unlock()
	select {
	case <-f.done:
		return f.creds, f.err
	case <-ctx.Done():
		return aws.Credentials{}, fmt.Errorf("assume role %s: %w", role, ctx.Err())
	}
}

// flightTimeout bounds one AssumeRole, retries included.
const flightTimeout = 2 * time.Minute

func (rc *roleCache) fly(role string, f *flight) {
	ctx, cancel := context.WithTimeout(context.Background(), flightTimeout)
	defer cancel()
	f.creds, f.err = rc.assume(ctx, role)
	rc.mu.Lock()
	if f.err == nil {
		rc.creds[role] = f.creds
	}
	delete(rc.flights, role)
	rc.mu.Unlock()
	close(f.done)
}

// forget drops a role's cached credentials.
func (rc *roleCache) forget(role string) {
	rc.mu.Lock()
	delete(rc.creds, role)
	rc.mu.Unlock()
}

func (rc *roleCache) client() *sts.Client {
	rc.stsOnce.Do(func() { rc.sts = sts.NewFromConfig(rc.c.baseConfig("sts")) })
	return rc.sts
}

func (rc *roleCache) assume(ctx context.Context, role string) (aws.Credentials, error) {
	cfg := rc.c.cfg
	in := &sts.AssumeRoleInput{
		RoleArn:         aws.String(role),
		RoleSessionName: aws.String(cfg.RoleSessionName),
		DurationSeconds: aws.Int32(int32(cfg.SessionDuration / time.Second)),
	}
	if cfg.ExternalID != "" {
		in.ExternalId = aws.String(cfg.ExternalID)
	}
	out, err := rc.client().AssumeRole(ctx, in)
	if err != nil {
		e := &AssumeRoleError{Role: role, Err: err}
		var ae smithy.APIError
		if errors.As(err, &ae) {
			e.Code = ae.ErrorCode()
		}
		return aws.Credentials{}, e
	}
	if out.Credentials == nil || out.Credentials.AccessKeyId == nil {
		return aws.Credentials{}, &AssumeRoleError{Role: role, Err: errors.New("AssumeRole returned no credentials")}
	}
	cr := aws.Credentials{
		AccessKeyID:     aws.ToString(out.Credentials.AccessKeyId),
		SecretAccessKey: aws.ToString(out.Credentials.SecretAccessKey),
		SessionToken:    aws.ToString(out.Credentials.SessionToken),
		Source:          "steward AssumeRole " + role,
	}
	if out.Credentials.Expiration != nil {
		cr.CanExpire = true
		cr.Expires = *out.Credentials.Expiration
	}
	if a := accountOfARN(role); a != "" {
		cr.AccountID = a
	}
	return cr, nil
}

// accountOfARN returns the account field of an ARN, or "".
func accountOfARN(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" {
		return ""
	}
	return parts[4]
}

// roleProvider is the aws.CredentialsProvider of one role.
type roleProvider struct {
	c    *Cloud
	role string
}

var _ aws.CredentialsProvider = roleProvider{}

// Retrieve returns the role's cached or renewed credentials.
func (p roleProvider) Retrieve(ctx context.Context) (aws.Credentials, error) {
	return p.c.creds.get(ctx, p.role)
}
