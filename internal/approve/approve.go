// Package approve makes and checks approval links: signed, bound to one
// execution and one choice, expiring at the approval's deadline and usable
// once. Opening a link (GET) only shows a confirmation page; the POST from
// that page decides (see Handler).
//
// A token is "v1.<kid>.<payload>.<mac>": kid names the key (so keys can be
// rotated), payload is the base64url JSON of the Claims, and mac is the
// base64url HMAC-SHA256 of "v1.<kid>.<payload>" under that key.
package approve

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Choice is what a person decides for an approval.
type Choice string

// The choices steward offers. Exceptions for one year are offered only where
// the approval policy allows it (production accounts, by default).
const (
	ChoiceApprove     Choice = "approve"      // approve the fix / fix now
	ChoiceException1M Choice = "exception-1m" // keep as is for one month
	ChoiceException1Y Choice = "exception-1y" // keep as is for one year
	ChoiceDeny        Choice = "deny"         // refuse the fix
)

// Valid reports whether c is one of the choices above.
func (c Choice) Valid() bool {
	switch c {
	case ChoiceApprove, ChoiceException1M, ChoiceException1Y, ChoiceDeny:
		return true
	}
	return false
}

// Label is the short human text for c, as shown on buttons and links.
func (c Choice) Label() string {
	switch c {
	case ChoiceApprove:
		return "Approve / fix now"
	case ChoiceException1M:
		return "Exception for 1 month"
	case ChoiceException1Y:
		return "Exception for 1 year"
	case ChoiceDeny:
		return "Deny"
	}
	return string(c)
}

// Person is who made a decision: a Slack user (ID and name), or what the
// person typed on the confirmation page (name or e-mail).
type Person struct {
	ID    string `json:"id,omitempty"`
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
}

// String is the most specific name known for p.
func (p Person) String() string {
	switch {
	case p.Name != "" && p.ID != "":
		return p.Name + " (" + p.ID + ")"
	case p.Name != "":
		return p.Name
	case p.Email != "":
		return p.Email
	}
	return p.ID
}

// Decision is one person's answer to an approval, from any channel.
type Decision struct {
	ApprovalID   string    `json:"approvalId"`
	ExecutionARN string    `json:"executionArn,omitempty"`
	Choice       Choice    `json:"choice"`
	By           Person    `json:"by"`
	Channel      string    `json:"channel"` // "email", "slack", "web", "cli"
	At           time.Time `json:"at"`
}

// DecideFunc hands a decision to the engine. It returns an error wrapping
// ErrEnded (for example an *EndedError) when the execution no longer waits
// for this approval, and any other error when the decision could not be
// recorded now (the person may try again).
type DecideFunc func(ctx context.Context, d Decision) error

// ErrEnded means the execution already ended or the approval was already
// decided: the decision was not taken. Handlers answer 409.
var ErrEnded = errors.New("approve: execution already ended")

// EndedError is the typed form of ErrEnded a DecideFunc may return.
type EndedError struct {
	ExecutionARN string
	Status       string // e.g. SUCCEEDED, ABORTED, or "DECIDED"
}

func (e *EndedError) Error() string {
	return fmt.Sprintf("approve: execution %s already ended (%s)", e.ExecutionARN, e.Status)
}

// Is makes errors.Is(err, ErrEnded) true.
func (e *EndedError) Is(target error) bool { return target == ErrEnded }

// Errors from Verify and Redeem. Handler maps them to HTTP statuses.
var (
	ErrTampered = errors.New("approve: link signature does not match") // 403
	ErrExpired  = errors.New("approve: link expired")                  // 410
	ErrUsed     = errors.New("approve: link already used")             // 410
	ErrUnknown  = errors.New("approve: not an approval link we know")  // 404
	ErrWeakKey  = errors.New("approve: key shorter than 32 bytes")     // config
	ErrBadClaim = errors.New("approve: claims incomplete")             // Link input
)

// LinkError is returned by Verify and Redeem: Err is one of the sentinels
// above; Claims holds what the token said when its signature was good (for
// ErrExpired and ErrUsed), so a page can say which approval it was.
type LinkError struct {
	Err    error
	Claims Claims
}

func (e *LinkError) Error() string { return e.Err.Error() }

// Unwrap returns the sentinel.
func (e *LinkError) Unwrap() error { return e.Err }

// Claims is what an approval link carries, signed.
type Claims struct {
	ApprovalID   string    `json:"a"`
	ExecutionARN string    `json:"e"`
	Choice       Choice    `json:"c"`
	Expires      time.Time `json:"-"`
	Nonce        string    `json:"n"`
}

type wireClaims struct {
	Claims
	Exp int64 `json:"x"`
}

// MinKeyLen is the shortest HMAC key a Signer accepts.
const MinKeyLen = 32

// NewKey returns a fresh random 32-byte key.
func NewKey() []byte {
	k := make([]byte, MinKeyLen)
	_, _ = rand.Read(k) // crypto/rand.Read does not fail (Go >= 1.24)
	return k
}

// SignerConfig configures a Signer.
type SignerConfig struct {
	// Key signs new links (>= 32 bytes). Keep it in steward's store or config.
	Key []byte
	// OldKeys still verify links made before a key rotation.
	OldKeys [][]byte
	// BaseURL is where Handler is served, e.g. "https://steward.example.com";
	// links are BaseURL + "/approve/" + token.
	BaseURL string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Signer makes and verifies approval links. It is safe for concurrent use.
type Signer struct {
	cur  string            // kid of Key
	keys map[string][]byte // kid -> key
	base string
	now  func() time.Time
}

// NewSigner checks cfg and returns a Signer.
func NewSigner(cfg SignerConfig) (*Signer, error) {
	s := &Signer{keys: map[string][]byte{}, base: strings.TrimRight(cfg.BaseURL, "/"), now: cfg.Now}
	if s.now == nil {
		s.now = time.Now
	}
	if s.base != "" {
		u, err := url.Parse(s.base)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, fmt.Errorf("approve: base URL %q must be an absolute http(s) URL", cfg.BaseURL)
		}
	}
	for i, k := range append([][]byte{cfg.Key}, cfg.OldKeys...) {
		if len(k) < MinKeyLen {
			return nil, fmt.Errorf("approve: key %d: %w", i, ErrWeakKey)
		}
		kid := keyID(k)
		if i == 0 {
			s.cur = kid
		}
		s.keys[kid] = append([]byte(nil), k...)
	}
	return s, nil
}

func keyID(k []byte) string {
	sum := sha256.Sum256(append([]byte("steward-approve-kid:"), k...))
	return hex.EncodeToString(sum[:4])
}

// Now is the signer's clock.
func (s *Signer) Now() time.Time { return s.now() }

// Token signs c. An empty Nonce is filled with a random one. It fails when
// ApprovalID, Choice or Expires are missing or Choice is not valid.
func (s *Signer) Token(c Claims) (string, error) {
	if c.ApprovalID == "" || !c.Choice.Valid() || c.Expires.IsZero() {
		return "", ErrBadClaim
	}
	if c.Nonce == "" {
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		c.Nonce = base64.RawURLEncoding.EncodeToString(b)
	}
	body, err := json.Marshal(wireClaims{Claims: c, Exp: c.Expires.Unix()})
	if err != nil {
		return "", fmt.Errorf("approve: encode claims: %w", err)
	}
	signed := "v1." + s.cur + "." + base64.RawURLEncoding.EncodeToString(body)
	return signed + "." + base64.RawURLEncoding.EncodeToString(mac(s.keys[s.cur], signed)), nil
}

// Link is the URL of the confirmation page for c: BaseURL/approve/TOKEN. It
// returns "" when c is incomplete (see Token); callers build claims from
// their own approval records, so that is a programming error.
func (s *Signer) Link(c Claims) string {
	tok, err := s.Token(c)
	if err != nil {
		return ""
	}
	return s.base + "/approve/" + tok
}

func mac(key []byte, msg string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(msg))
	return h.Sum(nil)
}

// MaxTokenLen bounds the tokens Verify reads.
const MaxTokenLen = 4096

// Verify checks token's signature and expiry and returns its claims. Errors
// are *LinkError wrapping ErrUnknown (not shaped like our tokens at all),
// ErrTampered (signature, key id or content wrong) or ErrExpired.
// Verify does not know whether the link was used; Redeem does.
func (s *Signer) Verify(token string) (Claims, error) {
	if len(token) > MaxTokenLen || !strings.HasPrefix(token, "v1.") {
		return Claims{}, &LinkError{Err: ErrUnknown}
	}
	parts := strings.Split(token, ".")
	if len(parts) != 4 {
		return Claims{}, &LinkError{Err: ErrTampered}
	}
	key, ok := s.keys[parts[1]]
	if !ok {
		// A changed key id, or a key rotated away: either way the
		// signature cannot be checked, and altered links are 403s.
		return Claims{}, &LinkError{Err: ErrTampered}
	}
	got, err := base64.RawURLEncoding.Strict().DecodeString(parts[3])
	if err != nil || !hmac.Equal(got, mac(key, parts[0]+"."+parts[1]+"."+parts[2])) {
		return Claims{}, &LinkError{Err: ErrTampered}
	}
	body, err := base64.RawURLEncoding.Strict().DecodeString(parts[2])
	if err != nil {
		return Claims{}, &LinkError{Err: ErrTampered}
	}
	var w wireClaims
	if err := json.Unmarshal(body, &w); err != nil || w.ApprovalID == "" || !w.Choice.Valid() || w.Nonce == "" {
		return Claims{}, &LinkError{Err: ErrTampered}
	}
	c := w.Claims
	c.Expires = time.Unix(w.Exp, 0).UTC()
	if !s.now().Before(c.Expires) {
		return c, &LinkError{Err: ErrExpired, Claims: c}
	}
	return c, nil
}

// Redeem verifies token and marks its nonce used in store. It succeeds once
// per token; later calls fail with ErrUsed.
func (s *Signer) Redeem(ctx context.Context, store UsedStore, token string) (Claims, error) {
	c, err := s.Verify(token)
	if err != nil {
		return c, err
	}
	first, err := store.MarkUsed(ctx, c.Nonce, c.Expires)
	if err != nil {
		return c, fmt.Errorf("approve: mark link used: %w", err)
	}
	if !first {
		return c, &LinkError{Err: ErrUsed, Claims: c}
	}
	return c, nil
}
