// Package eventsapi is steward's JSON API for events and rules:
//
//	GET    /api/v1/events?since=RFC3339&until=&source=&rule=&limit=&nextToken=
//	GET    /api/v1/events/{id}                 the event and what the rules did with it
//	POST   /api/v1/events/replay               {"since", "until", "rule", "source", "dryRun"}
//	GET    /api/v1/rules
//	GET    /api/v1/rules/{name}
//	PUT    /api/v1/rules/{name}                a rule as JSON (see rules.Rule)
//	DELETE /api/v1/rules/{name}
//
// Authentication is the caller's job: steward serve wraps this handler with
// its SigV4 check.
package eventsapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/stewardhq/steward/internal/api/jsonapi"
	"github.com/stewardhq/steward/internal/rules"
	"github.com/stewardhq/steward/internal/store"
)

// Handler serves the API.
type Handler struct {
	Events     store.EventStore
	Rules      *rules.Set
	Dispatcher *rules.Dispatcher
	Now        func() time.Time
}

// Routes returns the API's routes on a new mux.
func (h *Handler) Routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/events", h.listEvents)
	mux.HandleFunc("GET /api/v1/events/{id}", h.getEvent)
	mux.HandleFunc("POST /api/v1/events/replay", h.replay)
	mux.HandleFunc("GET /api/v1/rules", h.listRules)
	mux.HandleFunc("GET /api/v1/rules/{name}", h.getRule)
	mux.HandleFunc("PUT /api/v1/rules/{name}", h.putRule)
	mux.HandleFunc("DELETE /api/v1/rules/{name}", h.deleteRule)
	return mux
}

// EventView is an event as the API shows it.
type EventView struct {
	Seq        int64           `json:"seq"`
	ID         string          `json:"id"`
	Source     string          `json:"source"`
	DetailType string          `json:"detailType"`
	Account    string          `json:"account"`
	Region     string          `json:"region"`
	Time       time.Time       `json:"time"`
	Received   time.Time       `json:"received"`
	Via        string          `json:"via"`
	Processed  bool            `json:"processed"`
	Event      json.RawMessage `json:"event,omitempty"`
	Matches    []MatchView     `json:"matches,omitempty"`
}

// MatchView is what one rule did with an event.
type MatchView struct {
	Rule         string    `json:"rule"`
	Playbook     string    `json:"playbook,omitempty"`
	ExecutionARN string    `json:"executionArn,omitempty"`
	Skipped      bool      `json:"skipped,omitempty"`
	Reason       string    `json:"reason,omitempty"`
	At           time.Time `json:"at"`
}

func view(e store.Event, withBody bool) EventView {
	v := EventView{Seq: e.Seq, ID: e.ID, Source: e.Source, DetailType: e.DetailType, Account: e.Account, Region: e.Region, Time: e.Time, Received: e.Received, Via: e.Via, Processed: e.Processed}
	if withBody {
		v.Event = e.Body
	}
	return v
}

func matchViews(ms []store.EventMatch) []MatchView {
	out := make([]MatchView, len(ms))
	for i, m := range ms {
		out[i] = MatchView{Rule: m.Rule, Playbook: m.Playbook, ExecutionARN: m.ExecutionARN, Skipped: m.Skipped, Reason: m.Reason, At: m.At}
	}
	return out
}

func (h *Handler) listEvents(w http.ResponseWriter, r *http.Request) {
	p, err := listParams(r)
	if err != nil {
		jsonapi.WriteError(w, http.StatusBadRequest, err)
		return
	}
	events, next, err := h.Events.ListEvents(r.Context(), p)
	if err != nil {
		jsonapi.WriteStoreError(w, err)
		return
	}
	out := struct {
		Events    []EventView `json:"events"`
		NextToken string      `json:"nextToken,omitempty"`
	}{Events: []EventView{}, NextToken: next}
	for _, e := range events {
		out.Events = append(out.Events, view(e, r.URL.Query().Get("body") == "true"))
	}
	jsonapi.WriteJSON(w, http.StatusOK, out)
}

func listParams(r *http.Request) (store.ListEventsParams, error) {
	q := r.URL.Query()
	p := store.ListEventsParams{Source: q.Get("source"), Rule: q.Get("rule")}
	p.NextToken = q.Get("nextToken")
	var err error
	if s := q.Get("since"); s != "" {
		if p.Since, err = parseTime(s); err != nil {
			return p, fmt.Errorf("since: %w", err)
		}
	}
	if s := q.Get("until"); s != "" {
		if p.Until, err = parseTime(s); err != nil {
			return p, fmt.Errorf("until: %w", err)
		}
	}
	if s := q.Get("limit"); s != "" {
		if p.Limit, err = strconv.Atoi(s); err != nil || p.Limit < 1 || p.Limit > 1000 {
			return p, errors.New("limit must be 1 to 1000")
		}
	}
	return p, nil
}

// parseTime reads RFC 3339 or a duration ago ("2h").
func parseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		return time.Now().Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("%q is neither an RFC 3339 time nor a duration such as 2h", s)
}

func (h *Handler) getEvent(w http.ResponseWriter, r *http.Request) {
	e, err := h.Events.GetEvent(r.Context(), r.PathValue("id"))
	if err != nil {
		jsonapi.WriteStoreError(w, err)
		return
	}
	ms, err := h.Events.ListMatches(r.Context(), e.Seq)
	if err != nil {
		jsonapi.WriteStoreError(w, err)
		return
	}
	v := view(*e, true)
	v.Matches = matchViews(ms)
	jsonapi.WriteJSON(w, http.StatusOK, v)
}

// ReplayRequest selects stored events to run the rules on again.
type ReplayRequest struct {
	Since  time.Time `json:"since"`
	Until  time.Time `json:"until"`
	Rule   string    `json:"rule,omitempty"`
	Source string    `json:"source,omitempty"`
	DryRun bool      `json:"dryRun,omitempty"`
}

// ReplayResult says what replaying did, event by event.
type ReplayResult struct {
	Events  int         `json:"events"`
	Started int         `json:"started"`
	Matches []MatchView `json:"matches"`
}

// maxReplay bounds one replay request.
const maxReplay = 100_000

func (h *Handler) replay(w http.ResponseWriter, r *http.Request) {
	var req ReplayRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil {
		jsonapi.WriteError(w, http.StatusBadRequest, fmt.Errorf("the request is not valid JSON: %w", err))
		return
	}
	if req.Since.IsZero() {
		jsonapi.WriteError(w, http.StatusBadRequest, errors.New("since is required"))
		return
	}
	if req.Rule != "" {
		if _, ok := h.Rules.Get(req.Rule); !ok {
			jsonapi.WriteError(w, http.StatusNotFound, fmt.Errorf("no rule %q", req.Rule))
			return
		}
	}
	res, err := h.Replay(r.Context(), req)
	if err != nil {
		jsonapi.WriteError(w, http.StatusInternalServerError, err)
		return
	}
	jsonapi.WriteJSON(w, http.StatusOK, res)
}

// Replay runs the rules again on the stored events req selects, oldest
// first. Executions already started for an (event, rule) are not started
// again (their names are derived from both), so replaying after adding a
// rule starts only the new rule's playbooks.
func (h *Handler) Replay(ctx context.Context, req ReplayRequest) (*ReplayResult, error) {
	res := &ReplayResult{Matches: []MatchView{}}
	p := store.ListEventsParams{Since: req.Since, Until: req.Until, Source: req.Source, Ascending: true, ListParams: store.ListParams{Limit: 500}}
	for {
		events, next, err := h.Events.ListEvents(ctx, p)
		if err != nil {
			return nil, err
		}
		for _, e := range events {
			res.Events++
			if res.Events > maxReplay {
				return nil, fmt.Errorf("more than %d events selected: narrow since/until", maxReplay)
			}
			ms, err := h.Dispatcher.Process(ctx, e, req.DryRun)
			if err != nil {
				return nil, fmt.Errorf("event %s: %w", e.ID, err)
			}
			for _, m := range ms {
				if req.Rule != "" && m.Rule != req.Rule {
					continue
				}
				if m.ExecutionARN != "" {
					res.Started++
				}
				res.Matches = append(res.Matches, matchViews([]store.EventMatch{m})...)
			}
			if !req.DryRun && len(ms) > 0 {
				if err := h.Events.CompleteEvent(ctx, e.Seq, ms); err != nil {
					return nil, err
				}
			}
		}
		if next == "" {
			return res, nil
		}
		p.NextToken = next
	}
}

func (h *Handler) listRules(w http.ResponseWriter, r *http.Request) {
	jsonapi.WriteJSON(w, http.StatusOK, map[string]any{"rules": h.Rules.List()})
}

func (h *Handler) getRule(w http.ResponseWriter, r *http.Request) {
	rule, ok := h.Rules.Get(r.PathValue("name"))
	if !ok {
		jsonapi.WriteError(w, http.StatusNotFound, fmt.Errorf("no rule %q", r.PathValue("name")))
		return
	}
	jsonapi.WriteJSON(w, http.StatusOK, rule)
}

func (h *Handler) putRule(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		jsonapi.WriteError(w, http.StatusBadRequest, err)
		return
	}
	var rule rules.Rule
	if err := json.Unmarshal(body, &rule); err != nil {
		jsonapi.WriteError(w, http.StatusBadRequest, fmt.Errorf("the rule is not valid JSON: %w", err))
		return
	}
	rule.Name = r.PathValue("name")
	if err := h.Rules.Validate(rule); err != nil {
		jsonapi.WriteError(w, http.StatusBadRequest, err)
		return
	}
	doc, _ := json.Marshal(rule)
	if err := h.Events.PutRule(r.Context(), store.StoredRule{Name: rule.Name, Doc: doc, Updated: h.now()}); err != nil {
		jsonapi.WriteStoreError(w, err)
		return
	}
	if err := h.Rules.Put(rule); err != nil {
		jsonapi.WriteError(w, http.StatusBadRequest, err)
		return
	}
	jsonapi.WriteJSON(w, http.StatusOK, rule)
}

func (h *Handler) deleteRule(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if _, ok := h.Rules.Get(name); !ok {
		jsonapi.WriteError(w, http.StatusNotFound, fmt.Errorf("no rule %q", name))
		return
	}
	if err := h.Events.DeleteRule(r.Context(), name); err != nil && !errors.Is(err, store.ErrNotFound) {
		jsonapi.WriteStoreError(w, err)
		return
	}
	_ = h.Rules.Remove(name)
	w.WriteHeader(http.StatusNoContent)
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

// LoadRules puts the stored rules into set (after any from a rules file,
// which stored rules of the same name replace). A stored rule that no
// longer validates (its playbook was removed) is reported, not loaded.
func LoadRules(ctx context.Context, es store.EventStore, set *rules.Set) error {
	stored, err := es.ListRules(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, sr := range stored {
		var rule rules.Rule
		if err := json.Unmarshal(sr.Doc, &rule); err != nil {
			errs = append(errs, fmt.Errorf("stored rule %q: %w", sr.Name, err))
			continue
		}
		if err := set.Put(rule); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
