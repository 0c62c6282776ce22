// Package scansapi is steward's JSON API for scans and schedules:
//
//	POST   /api/v1/scans               {"playbook", "accounts", "regions", "dryRun"} → {"scan": id}
//	GET    /api/v1/scans?playbook=&limit=
//	GET    /api/v1/scans/{id}          progress and summary by outcome
//	GET    /api/v1/schedules
//	PUT    /api/v1/schedules/{name}    {"cron", "playbook", "enabled"}
//	DELETE /api/v1/schedules/{name}
//
// Schedules named "playbook/..." come from the catalogue (and steward.yaml):
// the API lists them but does not change them.
//
// Authentication is the caller's job: steward serve wraps this handler with
// its SigV4 check.
package scansapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/stewardhq/steward/internal/api/jsonapi"
	"github.com/stewardhq/steward/internal/scan"
	"github.com/stewardhq/steward/internal/schedule"
	"github.com/stewardhq/steward/internal/store"
)

// ErrUnknownPlaybook is what SpecFunc returns for a playbook it does not
// know (or that has no scan).
var ErrUnknownPlaybook = errors.New("unknown playbook")

// Handler serves the API.
type Handler struct {
	// Runner runs the scans.
	Runner *scan.Runner
	// Store keeps schedules and scans.
	Store store.ScheduleStore
	// SpecFunc returns a playbook's scan spec; ErrUnknownPlaybook (wrapped)
	// when there is no such playbook or it has no scan.
	SpecFunc func(playbook string) (scan.Spec, error)
	// Now tells the time; default time.Now.
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
	mux.HandleFunc("POST /api/v1/scans", h.startScan)
	mux.HandleFunc("GET /api/v1/scans", h.listScans)
	mux.HandleFunc("GET /api/v1/scans/{id}", h.getScan)
	mux.HandleFunc("GET /api/v1/schedules", h.listSchedules)
	mux.HandleFunc("PUT /api/v1/schedules/{name}", h.putSchedule)
	mux.HandleFunc("DELETE /api/v1/schedules/{name}", h.deleteSchedule)
}

// ScanRequest is the body of POST /api/v1/scans.
type ScanRequest struct {
	Playbook string   `json:"playbook"`
	Accounts []string `json:"accounts,omitempty"`
	Regions  []string `json:"regions,omitempty"`
	DryRun   bool     `json:"dryRun,omitempty"`
}

// ScanStarted answers POST /api/v1/scans.
type ScanStarted struct {
	Scan string `json:"scan"`
}

// ScanView is a scan as the API shows it.
type ScanView struct {
	Scan        string        `json:"scan"`
	Playbook    string        `json:"playbook"`
	Status      string        `json:"status"`
	Accounts    []string      `json:"accounts,omitempty"`
	Regions     []string      `json:"regions,omitempty"`
	DryRun      bool          `json:"dryRun,omitempty"`
	Trigger     string        `json:"trigger"`
	Schedule    string        `json:"schedule,omitempty"`
	Targets     int           `json:"targets"`
	TargetsDone int           `json:"targetsDone"`
	Listed      int           `json:"listed"`
	Started     int           `json:"started"`
	Finished    *int          `json:"finished,omitempty"`
	Summary     *scan.Summary `json:"summary,omitempty"`
	Error       string        `json:"error,omitempty"`
	Created     time.Time     `json:"created"`
	Updated     time.Time     `json:"updated"`
	Ended       *time.Time    `json:"ended,omitempty"`
}

// ViewOf returns the view of a scan record.
func ViewOf(s store.Scan) ScanView {
	v := ScanView{Scan: s.ID, Playbook: s.Playbook, Status: s.Status, Accounts: s.Accounts, Regions: s.Regions, DryRun: s.DryRun,
		Trigger: s.Trigger, Schedule: s.Schedule, Targets: s.Targets, TargetsDone: s.TargetsDone, Listed: s.Listed,
		Started: s.Started, Error: s.Error, Created: s.Created, Updated: s.Updated}
	if !s.Ended.IsZero() {
		e := s.Ended
		v.Ended = &e
	}
	return v
}

// ScheduleView is a schedule as the API shows it (and PUT takes: cron,
// playbook, enabled).
type ScheduleView struct {
	Name     string     `json:"name"`
	Cron     string     `json:"cron"`
	Playbook string     `json:"playbook"`
	Enabled  bool       `json:"enabled"`
	NextRun  time.Time  `json:"nextRun"`
	LastRun  *time.Time `json:"lastRun,omitempty"`
}

// maxBody bounds request bodies.
const maxBody = 1 << 16

func (h *Handler) now() time.Time {
	if h.Now == nil {
		return time.Now().UTC()
	}
	return h.Now().UTC()
}

// DecodeScanRequest reads and checks a POST /api/v1/scans body.
func DecodeScanRequest(body []byte) (ScanRequest, error) {
	var req ScanRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return req, fmt.Errorf("the request is not a scan request: %w", err)
	}
	if dec.More() {
		return req, errors.New("the request has data after its JSON object")
	}
	req.Playbook = strings.TrimSpace(req.Playbook)
	if req.Playbook == "" {
		return req, errors.New(`"playbook" is required`)
	}
	return req, nil
}

func (h *Handler) startScan(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil || len(body) > maxBody {
		jsonapi.WriteError(w, http.StatusBadRequest, fmt.Errorf("the request body is unreadable or larger than %d bytes", maxBody))
		return
	}
	req, err := DecodeScanRequest(body)
	if err != nil {
		jsonapi.WriteError(w, http.StatusBadRequest, err)
		return
	}
	if h.SpecFunc == nil {
		jsonapi.WriteError(w, http.StatusNotFound, fmt.Errorf("%w %q: this steward has no catalogue", ErrUnknownPlaybook, req.Playbook))
		return
	}
	spec, err := h.SpecFunc(req.Playbook)
	if errors.Is(err, ErrUnknownPlaybook) {
		jsonapi.WriteError(w, http.StatusNotFound, err)
		return
	}
	if err != nil {
		jsonapi.WriteError(w, http.StatusInternalServerError, err)
		return
	}
	id, err := h.Runner.Start(r.Context(), scan.Request{Playbook: req.Playbook, Spec: spec, Accounts: req.Accounts,
		Regions: req.Regions, DryRun: req.DryRun, Trigger: "manual"})
	switch {
	case errors.Is(err, scan.ErrBadRequest) || errors.Is(err, scan.ErrBadSpec):
		jsonapi.WriteError(w, http.StatusBadRequest, err)
		return
	case err != nil:
		jsonapi.WriteError(w, http.StatusInternalServerError, err)
		return
	}
	jsonapi.WriteJSON(w, http.StatusAccepted, ScanStarted{Scan: id})
}

func (h *Handler) getScan(w http.ResponseWriter, r *http.Request) {
	rep, err := h.Runner.Report(r.Context(), r.PathValue("id"))
	if errors.Is(err, scan.ErrUnknownScan) {
		jsonapi.WriteError(w, http.StatusNotFound, err)
		return
	}
	if err != nil {
		jsonapi.WriteError(w, http.StatusInternalServerError, err)
		return
	}
	v := ViewOf(rep.Scan)
	v.Finished, v.Summary = &rep.Finished, &rep.Summary
	jsonapi.WriteJSON(w, http.StatusOK, v)
}

func (h *Handler) listScans(w http.ResponseWriter, r *http.Request) {
	limit := 0
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			jsonapi.WriteError(w, http.StatusBadRequest, fmt.Errorf("limit %q: want 1 to 1000", s))
			return
		}
		limit = n
	}
	list, err := h.Store.ListScans(r.Context(), r.URL.Query().Get("playbook"), limit)
	if err != nil {
		jsonapi.WriteError(w, http.StatusInternalServerError, err)
		return
	}
	out := []ScanView{}
	for _, s := range list {
		out = append(out, ViewOf(*s))
	}
	jsonapi.WriteJSON(w, http.StatusOK, map[string]any{"scans": out})
}

func scheduleView(s store.Schedule) ScheduleView {
	v := ScheduleView{Name: s.Name, Cron: s.Cron, Playbook: s.Playbook, Enabled: s.Enabled, NextRun: s.NextRun}
	if !s.LastRun.IsZero() {
		l := s.LastRun
		v.LastRun = &l
	}
	return v
}

func (h *Handler) listSchedules(w http.ResponseWriter, r *http.Request) {
	list, err := h.Store.ListSchedules(r.Context())
	if err != nil {
		jsonapi.WriteError(w, http.StatusInternalServerError, err)
		return
	}
	out := []ScheduleView{}
	for _, s := range list {
		out = append(out, scheduleView(*s))
	}
	jsonapi.WriteJSON(w, http.StatusOK, map[string]any{"schedules": out})
}

// ScheduleInput is the body of PUT /api/v1/schedules/{name}.
type ScheduleInput struct {
	Cron     string `json:"cron"`
	Playbook string `json:"playbook"`
	// Enabled defaults to true.
	Enabled *bool `json:"enabled,omitempty"`
}

// DecodeSchedule reads and checks a schedule PUT under name: its cron
// must parse (the error names the schedule), its name must not be one of
// the catalogue's. The schedule's next run is the first after now.
func DecodeSchedule(name string, body []byte, now time.Time) (store.Schedule, error) {
	if name == "" || len(name) > 200 || strings.ContainsAny(name, "\x00\r\n") {
		return store.Schedule{}, fmt.Errorf("schedule name %q: 1 to 200 characters, no line breaks", name)
	}
	if strings.HasPrefix(name, schedule.PlaybookPrefix) {
		return store.Schedule{}, fmt.Errorf("schedule %q: schedules named %s... come from the playbooks and steward.yaml; change them there", name, schedule.PlaybookPrefix)
	}
	var in ScheduleInput
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return store.Schedule{}, fmt.Errorf("schedule %q: the request is not a schedule: %w", name, err)
	}
	if dec.More() {
		return store.Schedule{}, fmt.Errorf("schedule %q: the request has data after its JSON object", name)
	}
	if strings.TrimSpace(in.Playbook) == "" {
		return store.Schedule{}, fmt.Errorf("schedule %q: \"playbook\" is required", name)
	}
	c, err := schedule.ParseCron(name, in.Cron)
	if err != nil {
		return store.Schedule{}, err
	}
	next, err := c.Next(now)
	if err != nil {
		return store.Schedule{}, fmt.Errorf("schedule %q: %w", name, err)
	}
	enabled := in.Enabled == nil || *in.Enabled
	return store.Schedule{Name: name, Cron: c.String(), Playbook: strings.TrimSpace(in.Playbook), Enabled: enabled, NextRun: next}, nil
}

func (h *Handler) putSchedule(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil || len(body) > maxBody {
		jsonapi.WriteError(w, http.StatusBadRequest, fmt.Errorf("the request body is unreadable or larger than %d bytes", maxBody))
		return
	}
	s, err := DecodeSchedule(r.PathValue("name"), body, h.now())
	if err != nil {
		jsonapi.WriteError(w, http.StatusBadRequest, err)
		return
	}
	if h.SpecFunc != nil {
		if _, err := h.SpecFunc(s.Playbook); err != nil {
			jsonapi.WriteError(w, http.StatusBadRequest, fmt.Errorf("schedule %q: %w", s.Name, err))
			return
		}
	}
	got, err := h.Store.PutSchedule(r.Context(), s)
	if err != nil {
		jsonapi.WriteError(w, http.StatusInternalServerError, err)
		return
	}
	jsonapi.WriteJSON(w, http.StatusOK, scheduleView(*got))
}

func (h *Handler) deleteSchedule(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if strings.HasPrefix(name, schedule.PlaybookPrefix) {
		jsonapi.WriteError(w, http.StatusBadRequest, fmt.Errorf("schedule %q comes from a playbook; disable it in steward.yaml", name))
		return
	}
	if err := h.Store.DeleteSchedule(r.Context(), name); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			jsonapi.WriteError(w, http.StatusNotFound, err)
			return
		}
		jsonapi.WriteError(w, http.StatusInternalServerError, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
