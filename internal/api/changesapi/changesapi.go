// Package changesapi is steward's JSON API for change records, rollback
// and paused playbooks:
//
//	GET  /api/v1/changes?execution=&playbook=&status=&run=&kind=&limit=&after=
//	GET  /api/v1/changes/{id}
//	POST /api/v1/rollback                  {"target": CHANGE-ID|EXECUTION-ARN, "by": NAME, "dryRun": false}
//	GET  /api/v1/pauses
//	POST /api/v1/playbooks/{name}/resume
//
// Authentication is the caller's job: steward serve wraps this handler with
// its SigV4 check.
package changesapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/stewardhq/steward/internal/api/jsonapi"
	"github.com/stewardhq/steward/internal/change"
	"github.com/stewardhq/steward/internal/store"
)

// Rollbacker undoes changes; *change.Gate is one.
type Rollbacker interface {
	// Rollback undoes the changes of a change id or execution ARN.
	Rollback(ctx context.Context, target, by string) (*change.RollbackResult, error)
	// CheckRollback says what Rollback would undo, undoing nothing.
	CheckRollback(ctx context.Context, target string) (*change.RollbackResult, error)
}

// Handler serves the API.
type Handler struct {
	Store    store.ChangeStore
	Rollback Rollbacker
}

// Routes adds the API's routes to mux.
func (h *Handler) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/changes", h.list)
	mux.HandleFunc("GET /api/v1/changes/{id}", h.get)
	mux.HandleFunc("POST /api/v1/rollback", h.rollback)
	mux.HandleFunc("GET /api/v1/pauses", h.pauses)
	mux.HandleFunc("POST /api/v1/playbooks/{name}/resume", h.resume)
}

// ListResponse is the answer of GET /api/v1/changes.
type ListResponse struct {
	Changes []*store.Change `json:"changes"`
	// NextAfter, when set, is the "after" of the next page.
	NextAfter int64 `json:"nextAfter,omitempty"`
}

// ErrBadRequest reports a request the API cannot read.
var ErrBadRequest = errors.New("bad request")

// ParseFilter reads the query of GET /api/v1/changes.
func ParseFilter(q map[string][]string) (store.ChangeFilter, error) {
	first := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	f := store.ChangeFilter{ExecutionARN: first("execution"), Playbook: first("playbook"), Run: first("run"),
		Status: store.ChangeStatus(first("status")), Kind: store.ChangeKind(first("kind"))}
	switch f.Status {
	case "", store.StatusPlanned, store.StatusPending, store.StatusApplied, store.StatusFailed, store.StatusRolledBack:
	default:
		return f, fmt.Errorf("%w: status %q: want planned, pending, applied, failed or rolled-back", ErrBadRequest, f.Status)
	}
	switch f.Kind {
	case "", store.KindCall, store.KindNotice, store.KindRecord:
	default:
		return f, fmt.Errorf("%w: kind %q: want call, notice or record", ErrBadRequest, f.Kind)
	}
	if s := first("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			return f, fmt.Errorf("%w: limit %q: want 1 to 1000", ErrBadRequest, s)
		}
		f.Limit = n
	}
	if s := first("after"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return f, fmt.Errorf("%w: after %q: want a change seq", ErrBadRequest, s)
		}
		f.AfterSeq = n
	}
	return f, nil
}

func (h *Handler) list(w http.ResponseWriter, r *http.Request) {
	f, err := ParseFilter(r.URL.Query())
	if err != nil {
		jsonapi.WriteError(w, http.StatusBadRequest, err)
		return
	}
	limit := f.Limit
	if limit == 0 {
		limit = 200
	}
	f.Limit = limit + 1
	list, err := h.Store.ListChanges(r.Context(), f)
	if err != nil {
		jsonapi.WriteStoreError(w, err)
		return
	}
	resp := ListResponse{Changes: list}
	if len(list) > limit {
		resp.Changes = list[:limit]
		resp.NextAfter = list[limit-1].Seq
	}
	if resp.Changes == nil {
		resp.Changes = []*store.Change{}
	}
	jsonapi.WriteJSON(w, http.StatusOK, resp)
}

func (h *Handler) get(w http.ResponseWriter, r *http.Request) {
	c, err := h.Store.GetChange(r.Context(), r.PathValue("id"))
	if err != nil {
		jsonapi.WriteStoreError(w, err)
		return
	}
	jsonapi.WriteJSON(w, http.StatusOK, c)
}

// RollbackRequest is the body of POST /api/v1/rollback.
type RollbackRequest struct {
	// Target is a change id or an execution ARN.
	Target string `json:"target"`
	// By names who rolls back.
	By string `json:"by"`
	// DryRun checks and says what would be undone, undoing nothing.
	DryRun bool `json:"dryRun,omitempty"`
}

// maxBody bounds request bodies.
const maxBody = 64 << 10

// DecodeRollbackRequest reads and checks a rollback request body.
func DecodeRollbackRequest(body io.Reader) (RollbackRequest, error) {
	var req RollbackRequest
	data, err := io.ReadAll(io.LimitReader(body, maxBody+1))
	if err != nil {
		return req, fmt.Errorf("%w: %v", ErrBadRequest, err)
	}
	if len(data) > maxBody {
		return req, fmt.Errorf("%w: body over %d bytes", ErrBadRequest, maxBody)
	}
	d := json.NewDecoder(strings.NewReader(string(data)))
	d.DisallowUnknownFields()
	if err := d.Decode(&req); err != nil {
		return req, fmt.Errorf("%w: %v (want {\"target\": CHANGE-ID or EXECUTION-ARN, \"by\": NAME})", ErrBadRequest, err)
	}
	if d.More() {
		return req, fmt.Errorf("%w: more than one JSON value", ErrBadRequest)
	}
	if strings.TrimSpace(req.By) == "" {
		return req, fmt.Errorf("%w: \"by\" is required: who rolls back", ErrBadRequest)
	}
	if _, err := change.ParseTarget(req.Target); err != nil {
		return req, fmt.Errorf("%w: %v", ErrBadRequest, err)
	}
	return req, nil
}

// RollbackError is the body of a refused rollback.
type RollbackError struct {
	Error string `json:"error"`
	// Code is Steward.Drift, Steward.Irreversible, or empty.
	Code string `json:"code,omitempty"`
	// Drift lists the fields that changed, for Steward.Drift.
	Drift []change.Diff `json:"drift,omitempty"`
	// Irreversible lists the changes that cannot be undone.
	Irreversible []change.IrreversibleChange `json:"irreversible,omitempty"`
	// RolledBack lists what was undone before a failure.
	RolledBack []string `json:"rolledBack,omitempty"`
}

func (h *Handler) rollback(w http.ResponseWriter, r *http.Request) {
	req, err := DecodeRollbackRequest(r.Body)
	if err != nil {
		jsonapi.WriteError(w, http.StatusBadRequest, err)
		return
	}
	var res *change.RollbackResult
	if req.DryRun {
		res, err = h.Rollback.CheckRollback(r.Context(), req.Target)
	} else {
		res, err = h.Rollback.Rollback(r.Context(), req.Target, req.By)
	}
	if err == nil {
		jsonapi.WriteJSON(w, http.StatusOK, res)
		return
	}
	body := RollbackError{Error: err.Error()}
	if res != nil {
		body.RolledBack = res.RolledBack
	}
	status := http.StatusInternalServerError
	var drift *change.DriftError
	var irr *change.IrreversibleError
	switch {
	case errors.As(err, &drift):
		status, body.Code, body.Drift = http.StatusConflict, change.ErrNameDrift, drift.Diffs
	case errors.As(err, &irr):
		status, body.Code, body.Irreversible = http.StatusConflict, change.ErrNameIrreversible, irr.Changes
	case errors.Is(err, change.ErrNothingToRollBack), errors.Is(err, change.ErrLaterChange):
		status = http.StatusConflict
	case errors.Is(err, change.ErrBadTarget):
		status = http.StatusBadRequest
	case errors.Is(err, store.ErrNotFound):
		status = http.StatusNotFound
	}
	jsonapi.WriteJSON(w, status, body)
}

// PausesResponse is the answer of GET /api/v1/pauses.
type PausesResponse struct {
	Pauses []store.PlaybookPause `json:"pauses"`
}

func (h *Handler) pauses(w http.ResponseWriter, r *http.Request) {
	list, err := h.Store.ListPausedPlaybooks(r.Context())
	if err != nil {
		jsonapi.WriteStoreError(w, err)
		return
	}
	if list == nil {
		list = []store.PlaybookPause{}
	}
	jsonapi.WriteJSON(w, http.StatusOK, PausesResponse{Pauses: list})
}

func (h *Handler) resume(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if err := h.Store.ResumePlaybook(r.Context(), name); err != nil {
		jsonapi.WriteStoreError(w, err)
		return
	}
	jsonapi.WriteJSON(w, http.StatusOK, map[string]any{"playbook": name, "resumed": true})
}
