package awssim

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrBadAuthorization reports a missing or malformed SigV4 Authorization header.
var ErrBadAuthorization = errors.New("awssim: bad SigV4 authorization")

// credentialScope is what the sim reads from a SigV4 Authorization header.
// The signature itself is not verified.
type credentialScope struct {
	AccessKeyID string
	Date        string
	Region      string
	Service     string
}

// parseAuthorization reads the credential scope of a header like
// "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/ec2/aws4_request,
// SignedHeaders=..., Signature=...". It returns whatever scope it could
// read along with ErrBadAuthorization when the header is not well formed.
func parseAuthorization(h string) (credentialScope, error) {
	var sc credentialScope
	i := strings.Index(h, "Credential=")
	if i < 0 {
		return sc, ErrBadAuthorization
	}
	rest := h[i+len("Credential="):]
	if j := strings.IndexAny(rest, ", "); j >= 0 {
		rest = rest[:j]
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 5 || parts[4] != "aws4_request" {
		if len(parts) >= 4 {
			sc.Service = parts[len(parts)-2]
		}
		return sc, ErrBadAuthorization
	}
	sc = credentialScope{AccessKeyID: parts[0], Date: parts[1], Region: parts[2], Service: parts[3]}
	if sc.AccessKeyID == "" {
		return sc, ErrBadAuthorization
	}
	return sc, nil
}

// Credential is an access key the sim accepts.
type Credential struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	// Account is the account id the key acts in.
	Account string
	// Principal is the caller's ARN as GetCallerIdentity reports it.
	Principal string
	// UserID is the caller's unique id as GetCallerIdentity reports it.
	UserID string
	// Expires is when a temporary credential stops working; zero for base keys.
	Expires time.Time
}

// AddCredential makes the sim accept an access key for an account. An
// empty Principal becomes arn:PARTITION:iam::ACCOUNT:root.
func (s *Sim) AddCredential(c Credential) error {
	if c.AccessKeyID == "" || c.Account == "" {
		return fmt.Errorf("add credential: %w", ErrInvalidScenario)
	}
	if c.Principal == "" {
		c.Principal = fmt.Sprintf("arn:%s:iam::%s:root", s.opts.Partition, c.Account)
	}
	if c.UserID == "" {
		c.UserID = c.Account
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys[c.AccessKeyID] = c
	return nil
}

// credential looks up an access key; expired temporary keys are unknown.
func (s *Sim) credential(akid string) (Credential, bool) {
	c, ok, expired := s.lookupCredential(akid)
	return c, ok && !expired
}

// lookupCredential finds an access key and says whether it has expired.
func (s *Sim) lookupCredential(akid string) (c Credential, ok, expired bool) {
	s.mu.RLock()
	c, ok = s.keys[akid]
	s.mu.RUnlock()
	return c, ok, ok && !c.Expires.IsZero() && !s.Now().Before(c.Expires)
}
