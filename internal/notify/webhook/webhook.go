// Package webhook posts notices as JSON to a URL, optionally signed with an
// HMAC-SHA256 of the timestamp and body (see Sign and Verify).
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/stewardhq/steward/internal/notify"
)

// Headers of a delivery.
const (
	HeaderDelivery  = "X-Steward-Delivery"  // unique id of this delivery
	HeaderTimestamp = "X-Steward-Timestamp" // Unix seconds
	HeaderSignature = "X-Steward-Signature" // "v1=" + hex HMAC-SHA256(secret, timestamp + "." + body)
)

// Payload is the JSON body of a delivery.
type Payload struct {
	Version   string           `json:"version"` // "1"
	Delivery  string           `json:"delivery"`
	SentAt    time.Time        `json:"sentAt"`
	Recipient notify.Recipient `json:"recipient"`
	Subject   string           `json:"subject"`
	Text      string           `json:"text"` // the plain-text rendering, for chat webhooks
	Notices   []notify.Notice  `json:"notices"`
}

// Config configures a Sender.
type Config struct {
	// Secret, if set, signs each body (HeaderSignature). Never logged.
	Secret []byte
	// HTTPClient is optional; nil means a client with a 15s timeout.
	HTTPClient *http.Client
	Retry      notify.RetryPolicy
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Sender is the webhook notify.Notifier.
type Sender struct{ cfg Config }

var _ notify.Notifier = (*Sender)(nil)

// New returns a Sender for cfg.
func New(cfg Config) *Sender {
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 15 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Sender{cfg: cfg}
}

// Sign is the HeaderSignature value for body sent at ts.
func Sign(secret []byte, ts int64, body []byte) string {
	m := hmac.New(sha256.New, secret)
	fmt.Fprintf(m, "%d.", ts)
	m.Write(body)
	return "v1=" + hex.EncodeToString(m.Sum(nil))
}

// ErrBadSignature is returned by Verify.
var ErrBadSignature = errors.New("webhook: bad or stale signature")

// Verify checks a delivery's signature and that its timestamp is within
// maxSkew of now, for receivers written in Go.
func Verify(secret []byte, h http.Header, body []byte, now time.Time, maxSkew time.Duration) error {
	ts, err := strconv.ParseInt(h.Get(HeaderTimestamp), 10, 64)
	if err != nil {
		return ErrBadSignature
	}
	if d := now.Sub(time.Unix(ts, 0)); d > maxSkew || d < -maxSkew {
		return ErrBadSignature
	}
	if !hmac.Equal([]byte(h.Get(HeaderSignature)), []byte(Sign(secret, ts, body))) {
		return ErrBadSignature
	}
	return nil
}

// Notify POSTs the notices to to.Address. 2xx is success; 429 and 5xx are
// retried (honouring Retry-After in seconds); other answers are permanent.
func (s *Sender) Notify(ctx context.Context, to notify.Recipient, notices ...notify.Notice) (notify.Receipt, error) {
	u, err := url.Parse(to.Address)
	if to.Kind != notify.KindWebhook || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return notify.Receipt{}, fmt.Errorf("webhook: cannot send to %s", to)
	}
	if len(notices) == 0 {
		return notify.Receipt{}, notify.ErrNoNotices
	}
	idb := make([]byte, 12)
	_, _ = rand.Read(idb)
	now := s.cfg.Now().UTC()
	p := Payload{Version: "1", Delivery: hex.EncodeToString(idb), SentAt: now, Recipient: to,
		Subject: notify.Subject(notices), Text: notify.RenderText(notices), Notices: notices}
	body, err := json.Marshal(p)
	if err != nil {
		return notify.Receipt{}, fmt.Errorf("webhook: encode: %w", err)
	}
	// Errors name the endpoint without userinfo or query, which may hold
	// tokens.
	redacted := u.Scheme + "://" + u.Host + u.Path
	err = notify.Retry(ctx, s.cfg.Retry, func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, to.Address, bytes.NewReader(body))
		if err != nil {
			return fmt.Errorf("webhook %s: %w", redacted, err)
		}
		ts := s.cfg.Now().Unix()
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", "steward-webhook/1")
		req.Header.Set(HeaderDelivery, p.Delivery)
		req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
		if len(s.cfg.Secret) > 0 {
			req.Header.Set(HeaderSignature, Sign(s.cfg.Secret, ts, body))
		}
		resp, err := s.cfg.HTTPClient.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err // the URL may hold a token; say it once, redacted
			}
			return notify.Transient(fmt.Errorf("webhook %s: %w", redacted, err), 0)
		}
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		switch {
		case resp.StatusCode >= 200 && resp.StatusCode < 300:
			return nil
		case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
			var after time.Duration
			if n, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && n > 0 {
				after = time.Duration(n) * time.Second
			}
			return notify.Transient(fmt.Errorf("webhook %s: HTTP %d", redacted, resp.StatusCode), after)
		}
		return fmt.Errorf("webhook %s: HTTP %d", redacted, resp.StatusCode)
	})
	if err != nil {
		return notify.Receipt{}, err
	}
	return notify.Receipt{To: to, ID: p.Delivery, At: now, Notices: notices}, nil
}
