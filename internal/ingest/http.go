package ingest

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// Appender commits events durably. AppendEvents returns once every event
// is committed, with, for each, whether it was new (false: a duplicate id,
// stored before).
type Appender interface {
	AppendEvents(ctx context.Context, events []Event) ([]bool, error)
}

// Handler serves the ingest endpoints. Every accepted event is committed
// through Appender before the response.
type Handler struct {
	Appender Appender
	// Token authorizes POST /events and POST /sns: sent as
	// "Authorization: Bearer TOKEN" or "X-Api-Key: TOKEN" (what EventBridge
	// API-destination connections send). Empty refuses every request.
	Token string
	// VerifySigV4 authenticates PutEvents requests (AWS Signature V4 for
	// service "events"); it returns the caller's access key id.
	VerifySigV4 func(r *http.Request, body []byte) (string, error)
	// VerifyStewardSigV4, when set, also accepts POST /events signed with
	// steward's access key (what `steward events send` does).
	VerifyStewardSigV4 func(r *http.Request, body []byte) error
	// SNS verifies SNS deliveries; ConfirmSubscription visits a verified
	// SubscriptionConfirmation's SubscribeURL.
	SNS                 *SNSVerifier
	ConfirmSubscription func(ctx context.Context, subscribeURL string) error
	// Account and Region go into events PutEvents builds.
	Account, Region string
	// Accepted is told about newly stored events (to run the rules); it
	// must not block.
	Accepted func(events []Event)
	Now      func() time.Time
	Log      *slog.Logger
}

// MaxBodyBytes bounds one request: a batch of events.
const MaxBodyBytes = 10 * MaxEventBytes

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func (h *Handler) log() *slog.Logger {
	if h.Log != nil {
		return h.Log
	}
	return slog.Default()
}

// ServeEvents handles POST /events: one event or a JSON array.
func (h *Handler) ServeEvents(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeJSONError(w, http.StatusMethodNotAllowed, "use POST")
		return
	}
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	if strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256") && h.VerifyStewardSigV4 != nil {
		if err := h.VerifyStewardSigV4(r, body); err != nil {
			writeJSONError(w, http.StatusForbidden, err.Error())
			return
		}
	} else if status, msg := h.checkToken(r); status != 0 {
		writeJSONError(w, status, msg)
		return
	}
	events, err := DecodeBody(body, "http", h.now())
	if err != nil {
		writeJSONError(w, statusFor(err), err.Error())
		return
	}
	h.store(w, r, events)
}

func (h *Handler) store(w http.ResponseWriter, r *http.Request, events []Event) {
	fresh, err := h.Appender.AppendEvents(r.Context(), events)
	if err != nil {
		h.log().Error("store events", "err", err, "count", len(events))
		writeJSONError(w, http.StatusServiceUnavailable, "the events could not be stored; nothing was accepted, send them again")
		return
	}
	resp := struct {
		Accepted   []string `json:"accepted"`
		Duplicates []string `json:"duplicates"`
	}{Accepted: []string{}, Duplicates: []string{}}
	var added []Event
	for i, ev := range events {
		if fresh[i] {
			resp.Accepted = append(resp.Accepted, ev.ID)
			added = append(added, ev)
		} else {
			resp.Duplicates = append(resp.Duplicates, ev.ID)
		}
	}
	if len(added) > 0 && h.Accepted != nil {
		h.Accepted(added)
	}
	writeJSON(w, http.StatusOK, resp)
}

// ServePutEvents handles EventBridge's PutEvents (AWS JSON 1.1,
// X-Amz-Target: AWSEvents.PutEvents), SigV4-signed.
func (h *Handler) ServePutEvents(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	if h.VerifySigV4 == nil {
		writeAWSError(w, http.StatusForbidden, "AccessDeniedException", "PutEvents is not enabled: no access keys are configured")
		return
	}
	if _, err := h.VerifySigV4(r, body); err != nil {
		writeAWSError(w, http.StatusForbidden, "UnrecognizedClientException", err.Error())
		return
	}
	var req struct {
		Entries []PutEventsEntry `json:"Entries"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		writeAWSError(w, http.StatusBadRequest, "SerializationException", "the request is not valid JSON: "+err.Error())
		return
	}
	if len(req.Entries) == 0 || len(req.Entries) > MaxPutEventsEntries {
		writeAWSError(w, http.StatusBadRequest, "ValidationException", fmt.Sprintf("1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length between 1 and %d", MaxPutEventsEntries))
		return
	}
	now := h.now()
	results := make([]PutEventsResultEntry, len(req.Entries))
	var events []Event
	var index []int
	failed := 0
	for i, e := range req.Entries {
		ev, fail := EntryToEvent(e, h.Account, h.Region, now, nil)
		if fail != nil {
			results[i] = *fail
			failed++
			continue
		}
		events = append(events, ev)
		index = append(index, i)
	}
	if len(events) > 0 {
		fresh, err := h.Appender.AppendEvents(r.Context(), events)
		if err != nil {
			h.log().Error("store events", "err", err, "count", len(events))
			writeAWSError(w, http.StatusInternalServerError, "InternalException", "the events could not be stored; nothing was accepted")
			return
		}
		var added []Event
		for j, ev := range events {
			results[index[j]] = PutEventsResultEntry{EventID: ev.ID}
			if fresh[j] {
				added = append(added, ev)
			}
		}
		if len(added) > 0 && h.Accepted != nil {
			h.Accepted(added)
		}
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	writeJSON(w, http.StatusOK, map[string]any{"FailedEntryCount": failed, "Entries": results})
}

// ServeSNS handles SNS HTTP(S) deliveries: it confirms subscriptions and
// stores the events notifications carry, after verifying SNS's signature.
func (h *Handler) ServeSNS(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeJSONError(w, http.StatusMethodNotAllowed, "use POST")
		return
	}
	if status, msg := h.checkToken(r); status != 0 {
		writeJSONError(w, status, msg)
		return
	}
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	m, err := DecodeSNS(body)
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, err.Error())
		return
	}
	if h.SNS == nil {
		writeJSONError(w, http.StatusForbidden, "SNS deliveries are not enabled")
		return
	}
	if err := h.SNS.Verify(r.Context(), m); err != nil {
		writeJSONError(w, http.StatusForbidden, err.Error())
		return
	}
	switch m.Type {
	case SNSSubscriptionConfirmation:
		if h.ConfirmSubscription == nil {
			writeJSONError(w, http.StatusForbidden, "SNS subscriptions are not confirmed by this steward")
			return
		}
		if err := h.ConfirmSubscription(r.Context(), m.SubscribeURL); err != nil {
			writeJSONError(w, http.StatusBadGateway, "confirm subscription: "+err.Error())
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"confirmed": m.TopicArn})
	case SNSUnsubscribeConfirmation:
		writeJSON(w, http.StatusOK, map[string]any{"unsubscribed": m.TopicArn})
	default:
		ev, err := SNSEvent(m, h.now())
		if err != nil {
			writeJSONError(w, statusFor(err), err.Error())
			return
		}
		h.store(w, r, []Event{ev})
	}
}

func (h *Handler) checkToken(r *http.Request) (int, string) {
	got := r.Header.Get("X-Api-Key")
	if a := r.Header.Get("Authorization"); got == "" && strings.HasPrefix(a, "Bearer ") {
		got = strings.TrimPrefix(a, "Bearer ")
	}
	if got == "" {
		return http.StatusUnauthorized, "missing credentials: send Authorization: Bearer TOKEN or X-Api-Key: TOKEN"
	}
	if h.Token == "" || subtle.ConstantTimeCompare([]byte(got), []byte(h.Token)) != 1 {
		return http.StatusForbidden, "invalid credentials"
	}
	return 0, ""
}

func readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeJSONError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the request is over %d bytes", MaxBodyBytes))
			return nil, false
		}
		writeJSONError(w, http.StatusBadRequest, "read body: "+err.Error())
		return nil, false
	}
	return body, true
}

func statusFor(err error) int {
	switch {
	case errors.Is(err, ErrTooLarge):
		return http.StatusRequestEntityTooLarge
	default:
		return http.StatusBadRequest
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeJSONError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

func writeAWSError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-ErrorType", code)
	writeJSON(w, status, map[string]string{"__type": code, "message": msg})
}
