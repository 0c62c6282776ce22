package slack

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/stewardhq/steward/internal/approve"
)

// Errors of VerifyRequest.
var (
	ErrBadSignature = errors.New("slack: request signature does not match")
	ErrStale        = errors.New("slack: request timestamp outside 5 minutes")
	ErrReplay       = errors.New("slack: request already seen")
)

// MaxSkew is how far a request's timestamp may be from now.
const MaxSkew = 5 * time.Minute

// VerifyRequest checks Slack's signature of body: X-Slack-Signature is
// "v0=" + hex HMAC-SHA256 of "v0:" + X-Slack-Request-Timestamp + ":" + body
// under the app's signing secret, and the timestamp is within MaxSkew of
// now. The comparison takes constant time.
func VerifyRequest(secret string, h http.Header, body []byte, now time.Time) error {
	ts := h.Get("X-Slack-Request-Timestamp")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: bad timestamp", ErrStale)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > MaxSkew || d < -MaxSkew {
		return ErrStale
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("v0:" + ts + ":"))
	m.Write(body)
	want := "v0=" + hex.EncodeToString(m.Sum(nil))
	if !hmac.Equal([]byte(h.Get("X-Slack-Signature")), []byte(want)) {
		return ErrBadSignature
	}
	return nil
}

// Sign returns the X-Slack-Signature Slack would send for body at ts
// (tests and tools use it to play Slack).
func Sign(secret string, ts int64, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(m, "v0:%d:", ts)
	m.Write(body)
	return "v0=" + hex.EncodeToString(m.Sum(nil))
}

// Interaction is the part of a Slack interaction payload steward reads.
type Interaction struct {
	Type string `json:"type"` // block_actions
	User struct {
		ID       string `json:"id"`
		Username string `json:"username"`
		Name     string `json:"name"`
		TeamID   string `json:"team_id"`
	} `json:"user"`
	Channel struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"channel"`
	Container struct {
		MessageTS string `json:"message_ts"`
		ChannelID string `json:"channel_id"`
	} `json:"container"`
	Actions []struct {
		ActionID string `json:"action_id"`
		BlockID  string `json:"block_id"`
		Value    string `json:"value"`
		Type     string `json:"type"`
	} `json:"actions"`
}

// ErrNotOurs means a payload carries no steward button press.
var ErrNotOurs = errors.New("slack: no steward action in payload")

// MaxPayload bounds the interaction request body.
const MaxPayload = 1 << 20

// DecodeInteraction reads a block_actions payload (the JSON of the form
// field "payload") into the decisions it carries: one per steward button
// pressed, with By set to the Slack user and Channel "slack". It fails with
// ErrNotOurs when there is none, and on malformed JSON.
func DecodeInteraction(payload []byte) (Interaction, []approve.Decision, error) {
	var in Interaction
	if len(payload) > MaxPayload {
		return in, nil, errors.New("slack: payload too large")
	}
	if err := json.Unmarshal(payload, &in); err != nil {
		return in, nil, fmt.Errorf("slack: decode payload: %w", err)
	}
	if in.Type != "block_actions" {
		return in, nil, fmt.Errorf("%w (type %q)", ErrNotOurs, in.Type)
	}
	if in.User.ID == "" {
		return in, nil, errors.New("slack: payload has no user")
	}
	name := in.User.Name
	if name == "" {
		name = in.User.Username
	}
	var ds []approve.Decision
	for _, a := range in.Actions {
		if !strings.HasPrefix(a.ActionID, ActionIDPrefix) {
			continue
		}
		id, arn, choice, err := DecodeAction(a.Value)
		if err != nil {
			return in, nil, err
		}
		ds = append(ds, approve.Decision{ApprovalID: id, ExecutionARN: arn, Choice: choice,
			By: approve.Person{ID: in.User.ID, Name: name}, Channel: "slack"})
	}
	if len(ds) == 0 {
		return in, nil, ErrNotOurs
	}
	return in, ds, nil
}

// DecodeAction reads a button value made by EncodeAction.
func DecodeAction(value string) (approvalID string, executionARN string, c approve.Choice, err error) {
	var v actionValue
	if err := json.Unmarshal([]byte(value), &v); err != nil {
		return "", "", "", fmt.Errorf("slack: bad action value: %w", err)
	}
	if v.V != 1 || v.ApprovalID == "" || !v.Choice.Valid() {
		return "", "", "", errors.New("slack: bad action value")
	}
	return v.ApprovalID, v.ExecutionARN, v.Choice, nil
}

// InteractionConfig configures InteractionHandler.
type InteractionConfig struct {
	// SigningSecret is the Slack app's signing secret (never logged).
	SigningSecret string
	// Decide hands each decision to the engine.
	Decide approve.DecideFunc
	// Now is the clock; nil means time.Now.
	Now    func() time.Time
	Logger *slog.Logger
	// Used, when set, remembers the requests served in a store, so a
	// replay is refused across restarts and replicas too (steward's store:
	// the same table as the approval links'); nil keeps them in memory.
	Used approve.UsedStore
}

// InteractionHandler serves Slack's interactivity requests (POST,
// form field "payload"). Requests whose signature does not match or whose
// timestamp is more than 5 minutes away, and exact replays of a request
// already served, get 401 and change nothing. A valid button press calls
// Decide; answers: 200 (also when the execution already ended: Slack shows
// nothing, and the message is updated by the engine), 400 for a payload
// that is not a steward button press, 500 when Decide failed otherwise
// (Slack shows the person an error; pressing again retries).
type InteractionHandler struct {
	cfg InteractionConfig
	log *slog.Logger

	mu   sync.Mutex
	seen map[string]time.Time // signature -> when it stops mattering
}

var _ http.Handler = (*InteractionHandler)(nil)

// NewInteractionHandler checks cfg and returns the handler.
func NewInteractionHandler(cfg InteractionConfig) (*InteractionHandler, error) {
	if cfg.SigningSecret == "" || cfg.Decide == nil {
		return nil, errors.New("slack: InteractionConfig needs SigningSecret and Decide")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	h := &InteractionHandler{cfg: cfg, log: cfg.Logger, seen: map[string]time.Time{}}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	return h, nil
}

func (h *InteractionHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxPayload+1))
	if err != nil || len(body) > MaxPayload {
		http.Error(w, "request too large or unreadable", http.StatusRequestEntityTooLarge)
		return
	}
	now := h.cfg.Now()
	if err := VerifyRequest(h.cfg.SigningSecret, r.Header, body, now); err != nil {
		h.log.WarnContext(r.Context(), "slack: refused interaction", "err", err, "remote", r.RemoteAddr)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	first, err := h.firstSeen(r.Context(), r.Header.Get("X-Slack-Signature"), now)
	if err != nil {
		h.log.ErrorContext(r.Context(), "slack: cannot check for a replay", "err", err)
		http.Error(w, "try again", http.StatusServiceUnavailable)
		return
	}
	if !first {
		h.log.WarnContext(r.Context(), "slack: refused replayed interaction", "remote", r.RemoteAddr)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	_, decisions, err := DecodeInteraction([]byte(form.Get("payload")))
	if err != nil {
		h.log.InfoContext(r.Context(), "slack: interaction ignored", "err", err)
		http.Error(w, "not a steward action", http.StatusBadRequest)
		return
	}
	for _, d := range decisions {
		d.At = now.UTC()
		if err := h.cfg.Decide(r.Context(), d); err != nil {
			if errors.Is(err, approve.ErrEnded) {
				h.log.InfoContext(r.Context(), "slack: decision for an ended execution", "approval", d.ApprovalID, "by", d.By.ID)
				continue
			}
			h.log.ErrorContext(r.Context(), "slack: decision not handed over", "approval", d.ApprovalID, "err", err)
			h.forget(r.Context(), r.Header.Get("X-Slack-Signature"))
			http.Error(w, "decision not recorded; try again", http.StatusInternalServerError)
			return
		}
		h.log.InfoContext(r.Context(), "slack: decided", "approval", d.ApprovalID, "choice", d.Choice, "by", d.By.ID)
	}
	w.WriteHeader(http.StatusOK)
}

// maxSeen bounds the replay cache; past it, the oldest half is dropped
// (requests that old are refused as stale soon anyway).
const maxSeen = 100000

// firstSeen records a request's signature and reports whether it is new.
func (h *InteractionHandler) firstSeen(ctx context.Context, sig string, now time.Time) (bool, error) {
	if h.cfg.Used != nil {
		return h.cfg.Used.MarkUsed(ctx, "slack:"+sig, now.Add(2*MaxSkew))
	}
	return h.firstSeenInMemory(sig, now), nil
}

func (h *InteractionHandler) firstSeenInMemory(sig string, now time.Time) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.seen[sig]; ok {
		return false
	}
	if len(h.seen) >= maxSeen {
		for k, until := range h.seen {
			if now.After(until) || len(h.seen) >= maxSeen/2 {
				delete(h.seen, k)
			}
		}
	}
	h.seen[sig] = now.Add(2 * MaxSkew)
	return true
}

// forget drops a request's signature, so Slack's retry of a request that
// failed is served.
func (h *InteractionHandler) forget(ctx context.Context, sig string) {
	if h.cfg.Used != nil {
		if r, ok := h.cfg.Used.(approve.UsedReleaser); ok {
			if err := r.ReleaseUsed(ctx, "slack:"+sig); err != nil {
				h.log.ErrorContext(ctx, "slack: cannot forget a failed request", "err", err)
			}
		}
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.seen, sig)
}
