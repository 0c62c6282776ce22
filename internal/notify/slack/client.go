// Package slack sends notices to Slack with the Web API (chat.postMessage
// with Block Kit buttons, chat.update, users.lookupByEmail) and receives the
// button presses on an interaction endpoint that checks Slack's request
// signature (see InteractionHandler). It speaks the Web API with net/http.
package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/stewardhq/steward/internal/approve"
	"github.com/stewardhq/steward/internal/notify"
)

// DefaultBaseURL is Slack's Web API.
const DefaultBaseURL = "https://slack.com/api/"

// Config configures a Client.
type Config struct {
	// Token is the bot token (xoxb-...). It is sent only in the
	// Authorization header and never logged or put in errors.
	Token string
	// BaseURL is the Web API root; empty means DefaultBaseURL. Tests point
	// it at an httptest server.
	BaseURL string
	// HTTPClient is optional; nil means a client with a 15s timeout.
	HTTPClient *http.Client
	// Retry bounds retries of one call (429 with Retry-After, 5xx,
	// connection failures).
	Retry notify.RetryPolicy
}

// Client is a Slack Web API client; it is a notify.Notifier, a
// notify.Updater and a notify.SlackDirectory.
type Client struct {
	token string
	base  string
	hc    *http.Client
	retry notify.RetryPolicy
}

var (
	_ notify.Notifier       = (*Client)(nil)
	_ notify.Updater        = (*Client)(nil)
	_ notify.SlackDirectory = (*Client)(nil)
)

// ErrNoToken means Config.Token is empty.
var ErrNoToken = errors.New("slack: no bot token configured")

// New returns a Client for cfg.
func New(cfg Config) (*Client, error) {
	if cfg.Token == "" {
		return nil, ErrNoToken
	}
	base := cfg.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	if u, err := url.Parse(base); err != nil || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("slack: base URL %q is not an http(s) URL", cfg.BaseURL)
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 15 * time.Second}
	}
	return &Client{token: cfg.Token, base: base, hc: hc, retry: cfg.Retry}, nil
}

// APIError is Slack's answer {"ok": false, "error": Code}.
type APIError struct {
	Method string
	Code   string // e.g. channel_not_found, invalid_auth, users_not_found
}

func (e *APIError) Error() string { return "slack " + e.Method + ": " + e.Code }

// call POSTs params to method (JSON, or a form when form is set) with
// retries, and decodes the answer into out.
func (c *Client) call(ctx context.Context, method string, params any, form url.Values, out any) error {
	return notify.Retry(ctx, c.retry, func(ctx context.Context) error {
		var body io.Reader
		ctype := "application/json; charset=utf-8"
		if form != nil {
			body = strings.NewReader(form.Encode())
			ctype = "application/x-www-form-urlencoded"
		} else {
			b, err := json.Marshal(params)
			if err != nil {
				return fmt.Errorf("slack %s: encode: %w", method, err)
			}
			body = bytes.NewReader(b)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+method, body)
		if err != nil {
			return fmt.Errorf("slack %s: %w", method, err)
		}
		req.Header.Set("Content-Type", ctype)
		req.Header.Set("Authorization", "Bearer "+c.token)
		resp, err := c.hc.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("slack %s: %w", method, ctx.Err())
			}
			return notify.Transient(fmt.Errorf("slack %s: %w", method, scrub(err)), 0)
		}
		defer resp.Body.Close()
		raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if err != nil {
			return notify.Transient(fmt.Errorf("slack %s: read answer: %w", method, err), 0)
		}
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
			return notify.Transient(fmt.Errorf("slack %s: HTTP %d", method, resp.StatusCode), retryAfter(resp.Header))
		}
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("slack %s: HTTP %d", method, resp.StatusCode)
		}
		var env struct {
			OK    bool   `json:"ok"`
			Error string `json:"error"`
		}
		if err := json.Unmarshal(raw, &env); err != nil {
			return fmt.Errorf("slack %s: decode answer: %w", method, err)
		}
		if !env.OK {
			e := &APIError{Method: method, Code: env.Error}
			switch env.Error {
			case "ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout":
				return notify.Transient(e, retryAfter(resp.Header))
			}
			return e
		}
		if out != nil {
			if err := json.Unmarshal(raw, out); err != nil {
				return fmt.Errorf("slack %s: decode answer: %w", method, err)
			}
		}
		return nil
	})
}

// scrub drops the URL from a transport error (it never holds the token,
// which travels in a header, but keep errors short and free of queries).
func scrub(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}

func retryAfter(h http.Header) time.Duration {
	s := h.Get("Retry-After")
	if s == "" {
		return 0
	}
	if n, err := strconv.Atoi(s); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(s); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
	}
	return 0
}

// LookupByEmail implements notify.SlackDirectory with users.lookupByEmail.
func (c *Client) LookupByEmail(ctx context.Context, email string) (string, error) {
	var out struct {
		User struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	err := c.call(ctx, "users.lookupByEmail", nil, url.Values{"email": {email}}, &out)
	var ae *APIError
	if errors.As(err, &ae) && ae.Code == "users_not_found" {
		return "", fmt.Errorf("slack: %s: %w", email, notify.ErrNoSuchUser)
	}
	if err != nil {
		return "", err
	}
	return out.User.ID, nil
}

// Notify posts one message (chat.postMessage) to to.Address, a channel or
// user id, with the notices rendered as Block Kit.
func (c *Client) Notify(ctx context.Context, to notify.Recipient, notices ...notify.Notice) (notify.Receipt, error) {
	if to.Kind != notify.KindSlack || to.Address == "" {
		return notify.Receipt{}, fmt.Errorf("slack: cannot send to %s", to)
	}
	if len(notices) == 0 {
		return notify.Receipt{}, notify.ErrNoNotices
	}
	msg := Message(notices)
	var out struct {
		Channel string `json:"channel"`
		TS      string `json:"ts"`
	}
	params := map[string]any{"channel": to.Address, "text": msg.Text, "blocks": msg.Blocks, "unfurl_links": false, "unfurl_media": false}
	if err := c.call(ctx, "chat.postMessage", params, nil, &out); err != nil {
		return notify.Receipt{}, err
	}
	return notify.Receipt{To: to, ID: out.Channel + "/" + out.TS, At: time.Now().UTC(), Notices: notices}, nil
}

// Update rewrites the message of r (chat.update) to show d, who made it and
// through which channel, in place of the buttons of d's approval.
func (c *Client) Update(ctx context.Context, r notify.Receipt, d approve.Decision) error {
	channel, ts, ok := strings.Cut(r.ID, "/")
	if !ok || channel == "" || ts == "" {
		return fmt.Errorf("slack: receipt id %q is not CHANNEL/TS", r.ID)
	}
	notices := make([]notify.Notice, len(r.Notices))
	copy(notices, r.Notices)
	found := false
	for i := range notices {
		if notices[i].ApprovalID == d.ApprovalID {
			dd := d
			notices[i].Decision = &dd
			found = true
		}
	}
	if !found {
		return fmt.Errorf("slack: approval %q is not in message %s", d.ApprovalID, r.ID)
	}
	msg := Message(notices)
	return c.call(ctx, "chat.update", map[string]any{"channel": channel, "ts": ts, "text": msg.Text, "blocks": msg.Blocks}, nil, nil)
}
