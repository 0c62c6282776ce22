// Package approvalsapi is steward's JSON API for approvals:
//
//	GET  /api/v1/approvals?status=pending&owner=&execution=&limit=
//	GET  /api/v1/approvals/{id}
//	POST /api/v1/approvals/{id}/decide   {"choice", "by", "reason", "until", "channel"}
//
// choice is approve, deny, exception-month, exception-year, or exception
// with until (a date or RFC 3339 time). Answers: 200 with the approval;
// 400 for a bad request (naming the field), 404 for an unknown approval,
// 409 when it is no longer pending (decided, or its execution ended; the
// refusal is recorded). Authentication is the caller's job: steward serve
// mounts this behind its SigV4 check.
package approvalsapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/stewardhq/steward/internal/api/jsonapi"
	"github.com/stewardhq/steward/internal/approval"
	"github.com/stewardhq/steward/internal/approve"
	"github.com/stewardhq/steward/internal/store"
)

// Handler serves the API.
type Handler struct {
	Service *approval.Service
	Store   store.ApprovalStore
	// Now is the clock (for exception ends given as dates); default
	// time.Now.
	Now func() time.Time
}

// Routes registers the API's routes on mux.
func (h *Handler) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/approvals", h.list)
	mux.HandleFunc("GET /api/v1/approvals/{id}", h.get)
	mux.HandleFunc("POST /api/v1/approvals/{id}/decide", h.decide)
}

// View is an approval as the API shows it.
type View struct {
	ID            string     `json:"id"`
	ExecutionARN  string     `json:"executionArn"`
	StateName     string     `json:"stateName"`
	Playbook      string     `json:"playbook"`
	Account       string     `json:"account,omitempty"`
	Region        string     `json:"region,omitempty"`
	Resource      string     `json:"resource,omitempty"`
	Owner         string     `json:"owner,omitempty"`
	Subject       string     `json:"subject,omitempty"`
	Choices       []string   `json:"choices"`
	Default       string     `json:"default"`
	Deadline      time.Time  `json:"deadline"`
	NextReminder  *time.Time `json:"nextReminder,omitempty"`
	RemindersSent int        `json:"remindersSent"`
	Status        string     `json:"status"`
	Decision      string     `json:"decision,omitempty"`
	DecidedBy     string     `json:"decidedBy,omitempty"`
	Channel       string     `json:"channel,omitempty"`
	Reason        string     `json:"reason,omitempty"`
	Until         *time.Time `json:"until,omitempty"`
	CreatedAt     time.Time  `json:"createdAt"`
	DecidedAt     *time.Time `json:"decidedAt,omitempty"`
	NotifiedAt    *time.Time `json:"notifiedAt,omitempty"`
	SendAttempts  int        `json:"sendAttempts,omitempty"`
	DeliveredAt   *time.Time `json:"deliveredAt,omitempty"`
	LastError     string     `json:"lastError,omitempty"`
}

func opt(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// ViewOf renders an approval.
func ViewOf(a *store.Approval) View {
	v := View{
		ID: a.ID, ExecutionARN: a.ExecutionARN, StateName: a.StateName, Playbook: a.Playbook, Account: a.Account,
		Region: a.Region, Resource: a.Resource, Owner: a.Owner, Choices: a.Choices, Default: a.Default,
		Deadline: a.Deadline, NextReminder: opt(a.NextReminder), RemindersSent: a.RemindersSent, Status: string(a.Status),
		Decision: a.Decision, DecidedBy: a.DecidedBy, Channel: a.Channel, Reason: a.Reason, Until: opt(a.Until),
		CreatedAt: a.CreatedAt, DecidedAt: opt(a.DecidedAt), NotifiedAt: opt(a.NotifiedAt), SendAttempts: a.SendAttempts,
		DeliveredAt: opt(a.DeliveredAt), LastError: a.LastError,
	}
	var n struct {
		Subject string `json:"subject"`
	}
	if json.Unmarshal(a.Notice, &n) == nil {
		v.Subject = n.Subject
	}
	if v.Choices == nil {
		v.Choices = []string{}
	}
	return v
}

// ListOutput is the answer of GET /api/v1/approvals.
type ListOutput struct {
	Approvals []View `json:"approvals"`
}

// DecideInput is the body of POST /api/v1/approvals/{id}/decide.
type DecideInput struct {
	Choice string `json:"choice"`
	By     string `json:"by"`
	Reason string `json:"reason,omitempty"`
	Until  string `json:"until,omitempty"`
	// Channel says where the person decided: api (default), cli or web.
	Channel string `json:"channel,omitempty"`
}

// Error is the body of an error answer.
type Error struct {
	Error string `json:"error"`
	Hint  string `json:"hint,omitempty"`
}

func fail(w http.ResponseWriter, status int, msg, hint string) {
	jsonapi.WriteJSON(w, status, Error{Error: msg, Hint: hint})
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func (h *Handler) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := store.ApprovalFilter{Status: store.ApprovalStatus(q.Get("status")), Owner: q.Get("owner"), ExecutionARN: q.Get("execution")}
	switch f.Status {
	case "", store.ApprovalPending, store.ApprovalDecided, store.ApprovalExpired, store.ApprovalCancelled:
	default:
		fail(w, http.StatusBadRequest, fmt.Sprintf("status %q: want pending, decided, expired or cancelled", f.Status), "")
		return
	}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 1000 {
			fail(w, http.StatusBadRequest, fmt.Sprintf("limit %q: want 1 to 1000", l), "")
			return
		}
		f.Limit = n
	}
	list, err := h.Store.ListApprovals(r.Context(), f)
	if err != nil {
		fail(w, http.StatusInternalServerError, err.Error(), "")
		return
	}
	out := ListOutput{Approvals: []View{}}
	for _, a := range list {
		out.Approvals = append(out.Approvals, ViewOf(a))
	}
	jsonapi.WriteJSON(w, http.StatusOK, out)
}

func (h *Handler) get(w http.ResponseWriter, r *http.Request) {
	a, err := h.Store.GetApproval(r.Context(), r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		fail(w, http.StatusNotFound, "no approval "+r.PathValue("id"), "steward approvals ls lists them")
		return
	}
	if err != nil {
		fail(w, http.StatusInternalServerError, err.Error(), "")
		return
	}
	jsonapi.WriteJSON(w, http.StatusOK, ViewOf(a))
}

// ParseUntil reads an exception's end: a date (the exception lasts through
// that day, UTC) or an RFC 3339 time.
func ParseUntil(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t.AddDate(0, 0, 1), nil
	}
	return time.Time{}, fmt.Errorf("until %q: want a date (2026-12-31) or an RFC 3339 time", s)
}

// DecodeDecide reads and checks a decide body.
func DecodeDecide(body io.Reader, now time.Time) (DecideInput, approve.Choice, time.Time, error) {
	var in DecideInput
	dec := json.NewDecoder(io.LimitReader(body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return in, "", time.Time{}, fmt.Errorf("body: %v", err)
	}
	in.By = strings.TrimSpace(in.By)
	if in.By == "" || len(in.By) > 200 {
		return in, "", time.Time{}, errors.New("by: who decides is required (at most 200 characters)")
	}
	switch in.Channel {
	case "":
		in.Channel = "api"
	case "api", "cli", "web":
	default:
		return in, "", time.Time{}, fmt.Errorf("channel %q: want api, cli or web", in.Channel)
	}
	if len(in.Reason) > 1000 {
		return in, "", time.Time{}, errors.New("reason: at most 1000 characters")
	}
	var until time.Time
	if in.Until != "" {
		u, err := ParseUntil(in.Until)
		if err != nil {
			return in, "", time.Time{}, err
		}
		until = u
	}
	choice, ok := approval.ParseChoice(in.Choice)
	if !ok {
		return in, "", time.Time{}, fmt.Errorf("choice %q: want approve, deny, exception-month, exception-year or exception with until", in.Choice)
	}
	if !until.IsZero() {
		if choice != approve.ChoiceException1M && choice != approve.ChoiceException1Y {
			return in, "", time.Time{}, fmt.Errorf("until: only an exception has an end")
		}
		if strings.EqualFold(in.Choice, "exception") {
			choice = approval.ChoiceForUntil(now, until)
		}
	}
	return in, choice, until, nil
}

func (h *Handler) decide(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	in, choice, until, err := DecodeDecide(r.Body, h.now())
	if err != nil {
		fail(w, http.StatusBadRequest, err.Error(), "")
		return
	}
	channel := in.Channel
	a, err := h.Service.Decide(r.Context(), approval.DecideParams{ID: id, Choice: choice, By: in.By, Channel: channel, Until: until, Reason: in.Reason})
	switch {
	case errors.Is(err, store.ErrNotFound):
		fail(w, http.StatusNotFound, "no approval "+id, "steward approvals ls lists them")
	case errors.Is(err, approval.ErrNotPending):
		msg := "approval " + id + " is no longer pending"
		if a != nil {
			if fresh, gerr := h.Store.GetApproval(r.Context(), id); gerr == nil {
				a = fresh
			}
			msg += fmt.Sprintf(" (%s", a.Status)
			if a.DecidedBy != "" {
				msg += fmt.Sprintf(": %s by %s via %s", a.Decision, a.DecidedBy, a.Channel)
			}
			msg += ")"
			if a.LastError != "" {
				msg += ": " + a.LastError
			}
		}
		fail(w, http.StatusConflict, msg, err.Error())
	case errors.Is(err, approval.ErrChoiceNotOffered), errors.Is(err, approval.ErrBadUntil):
		fail(w, http.StatusBadRequest, err.Error(), "")
	case err != nil:
		fail(w, http.StatusInternalServerError, err.Error(), "")
	default:
		jsonapi.WriteJSON(w, http.StatusOK, ViewOf(a))
	}
}
