// Package exceptionsapi is steward's JSON API for exceptions:
//
//	GET    /api/v1/exceptions?resource=&account=&playbook=&active=true&limit=
//	POST   /api/v1/exceptions        {"resource", "until", "by", "reason", "playbook", "channel"} → the exception
//	DELETE /api/v1/exceptions/{id}?by=NAME                                                   → the exception
//
// "until" is YYYY-MM-DD (in force through that day, UTC) or an RFC 3339
// time. Granting and revoking mirror the exception as the resource's
// <prefix>exception tag. Authentication is the caller's job: steward serve
// mounts this handler behind its SigV4 check.
package exceptionsapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/stewardhq/steward/internal/api/jsonapi"
	"github.com/stewardhq/steward/internal/builtin"
	"github.com/stewardhq/steward/internal/store"
)

// Granter grants and revokes exceptions, mirroring their tags
// (*builtin.Tasks does).
type Granter interface {
	GrantException(ctx context.Context, e store.Exception, policy builtin.ExceptionPolicy) (store.Exception, error)
	RevokeException(ctx context.Context, id, by string) (store.Exception, error)
}

var _ Granter = (*builtin.Tasks)(nil)

// Handler serves the API.
type Handler struct {
	// Granter grants and revokes.
	Granter Granter
	// Store lists exceptions.
	Store store.ExceptionStore
	// Policy bounds grants.
	Policy builtin.ExceptionPolicy
	// Now tells the time (for ?active=true); default time.Now.
	Now func() time.Time
}

// Routes returns the API's routes on a new mux.
func (h *Handler) Routes() *http.ServeMux {
	mux := http.NewServeMux()
	h.Register(mux)
	return mux
}

// Register adds the API's routes to mux.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/exceptions", h.list)
	mux.HandleFunc("POST /api/v1/exceptions", h.grant)
	mux.HandleFunc("GET /api/v1/exceptions/{id}", h.get)
	mux.HandleFunc("DELETE /api/v1/exceptions/{id}", h.revoke)
}

// GrantRequest is the body of POST /api/v1/exceptions.
type GrantRequest struct {
	Resource string `json:"resource"`
	// Until is YYYY-MM-DD (through that day, UTC) or an RFC 3339 time.
	Until    string `json:"until"`
	By       string `json:"by"`
	Reason   string `json:"reason,omitempty"`
	Playbook string `json:"playbook,omitempty"`
	// Account and Region place resources whose ARN lacks them (S3
	// buckets, EC2 snapshots).
	Account string `json:"account,omitempty"`
	Region  string `json:"region,omitempty"`
	// Channel says where the grant came from; default "api".
	Channel string `json:"channel,omitempty"`
}

// List answers GET /api/v1/exceptions.
type List struct {
	Exceptions []store.Exception `json:"exceptions"`
}

const maxBody = 1 << 16

// ParseUntil reads an end: YYYY-MM-DD (in force through that day, UTC) or
// an RFC 3339 time.
func ParseUntil(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t.AddDate(0, 0, 1), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC().Truncate(time.Second), nil
	}
	return time.Time{}, fmt.Errorf("until %q: write YYYY-MM-DD or an RFC 3339 time", s)
}

// DecodeGrantRequest reads and checks a POST body.
func DecodeGrantRequest(body []byte) (GrantRequest, time.Time, error) {
	var req GrantRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return req, time.Time{}, fmt.Errorf("the request is not an exception grant: %w", err)
	}
	if dec.More() {
		return req, time.Time{}, errors.New("the request has data after its JSON object")
	}
	if strings.TrimSpace(req.Resource) == "" {
		return req, time.Time{}, errors.New(`"resource" is required (the resource's ARN)`)
	}
	if strings.TrimSpace(req.By) == "" {
		return req, time.Time{}, errors.New(`"by" is required (who grants the exception)`)
	}
	until, err := ParseUntil(req.Until)
	if err != nil {
		return req, time.Time{}, err
	}
	return req, until, nil
}

func (h *Handler) now() time.Time {
	if h.Now == nil {
		return time.Now().UTC()
	}
	return h.Now().UTC()
}

func (h *Handler) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := store.ExceptionFilter{Resource: q.Get("resource"), Account: q.Get("account"), Playbook: q.Get("playbook")}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 10000 {
			jsonapi.WriteError(w, http.StatusBadRequest, fmt.Errorf("limit %q: want a number from 1 to 10000", s))
			return
		}
		f.Limit = n
	}
	switch q.Get("active") {
	case "", "false":
	case "true":
		f.ActiveAt = h.now()
	default:
		jsonapi.WriteError(w, http.StatusBadRequest, fmt.Errorf("active %q: want true or false", q.Get("active")))
		return
	}
	l, err := h.Store.ListExceptions(r.Context(), f)
	if err != nil {
		jsonapi.WriteError(w, http.StatusInternalServerError, err)
		return
	}
	jsonapi.WriteJSON(w, http.StatusOK, List{Exceptions: l})
}

func (h *Handler) get(w http.ResponseWriter, r *http.Request) {
	e, err := h.Store.GetException(r.Context(), r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		jsonapi.WriteError(w, http.StatusNotFound, err)
		return
	}
	if err != nil {
		jsonapi.WriteError(w, http.StatusInternalServerError, err)
		return
	}
	jsonapi.WriteJSON(w, http.StatusOK, e)
}

func (h *Handler) grant(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil || len(body) > maxBody {
		jsonapi.WriteError(w, http.StatusBadRequest, fmt.Errorf("the request body is unreadable or larger than %d bytes", maxBody))
		return
	}
	req, until, err := DecodeGrantRequest(body)
	if err != nil {
		jsonapi.WriteError(w, http.StatusBadRequest, err)
		return
	}
	if req.Channel == "" {
		req.Channel = "api"
	}
	e, err := h.Granter.GrantException(r.Context(), store.Exception{Resource: req.Resource, Account: req.Account, Region: req.Region,
		Playbook: req.Playbook, Until: until, Reason: req.Reason, GrantedBy: req.By, Channel: req.Channel}, h.Policy)
	switch {
	case errors.Is(err, builtin.ErrExceptionTooLong) || errors.Is(err, builtin.ErrExceptionInvalid):
		jsonapi.WriteError(w, http.StatusBadRequest, err)
		return
	case err != nil:
		jsonapi.WriteError(w, http.StatusBadGateway, err)
		return
	}
	jsonapi.WriteJSON(w, http.StatusCreated, e)
}

func (h *Handler) revoke(w http.ResponseWriter, r *http.Request) {
	by := strings.TrimSpace(r.URL.Query().Get("by"))
	if by == "" {
		jsonapi.WriteError(w, http.StatusBadRequest, errors.New(`"by" is required: DELETE /api/v1/exceptions/{id}?by=NAME`))
		return
	}
	e, err := h.Granter.RevokeException(r.Context(), r.PathValue("id"), by)
	switch {
	case errors.Is(err, store.ErrNotFound):
		jsonapi.WriteError(w, http.StatusNotFound, err)
		return
	case errors.Is(err, store.ErrConflict):
		jsonapi.WriteError(w, http.StatusConflict, err)
		return
	case errors.Is(err, builtin.ErrExceptionInvalid):
		jsonapi.WriteError(w, http.StatusBadRequest, err)
		return
	case err != nil && e.ID != "":
		// Revoked, but the tag could not be brought in line: say so.
		jsonapi.WriteJSON(w, http.StatusOK, map[string]any{"exception": e, "warning": err.Error()})
		return
	case err != nil:
		jsonapi.WriteError(w, http.StatusInternalServerError, err)
		return
	}
	jsonapi.WriteJSON(w, http.StatusOK, map[string]any{"exception": e})
}
