// Package engine runs executions of playbooks: in memory (Run) and, with a
// store, durably. Both drive the same interpreter, asl.Machine's step
// functions.
package engine

import (
	"strings"
	"time"

	"github.com/stewardhq/steward/internal/asl"
)

// HistoryEvent is one event of an execution's history, with Step Functions'
// event type names and detail fields.
type HistoryEvent struct {
	ID              int64     `json:"id"`
	PreviousEventID int64     `json:"previousEventId"`
	Type            string    `json:"type"`
	Timestamp       time.Time `json:"timestamp"`
	// DetailsKey names the details field, e.g. "stateEnteredEventDetails".
	DetailsKey string         `json:"-"`
	Details    map[string]any `json:"-"`
}

// MarshalMap renders the event as GetExecutionHistory does.
func (e HistoryEvent) MarshalMap() map[string]any {
	m := map[string]any{
		"id":              e.ID,
		"previousEventId": e.PreviousEventID,
		"type":            e.Type,
		"timestamp":       float64(e.Timestamp.UnixMilli()) / 1000,
	}
	if e.DetailsKey != "" {
		m[e.DetailsKey] = e.Details
	}
	return m
}

// history numbers events and, when record is set, keeps them. Event ids
// are counted either way, since error causes quote them.
type history struct {
	record bool
	n      int64
	events []HistoryEvent
}

// add numbers an event and records it when recording; details is called
// only then, so runs without history do not render payloads.
func (h *history) add(now time.Time, prev int64, typ, key string, details func() map[string]any) int64 {
	h.n++
	if h.record {
		var d map[string]any
		if details != nil {
			d = details()
		}
		h.events = append(h.events, HistoryEvent{ID: h.n, PreviousEventID: prev, Type: typ, Timestamp: now, DetailsKey: key, Details: d})
	}
	return h.n
}

func (h *history) last() int64 { return h.n }

// payloadDetails renders a payload as history shows it: a JSON string.
func payloadDetails(field string, v any) map[string]any {
	return map[string]any{field: jsonString(v), field + "Details": map[string]any{"truncated": false}}
}

// resourceParts splits a resource into Step Functions' resourceType and
// resource for task events: arn:aws:states:::lambda:invoke gives "lambda"
// and "invoke"; steward:echo gives "steward" and "echo". An
// integration-pattern suffix stays, as in Step Functions' histories
// ("invoke.waitForTaskToken").
func resourceParts(resource string) (string, string) {
	base := strings.TrimPrefix(resource, "arn:aws:states:::")
	if base != resource {
		if i := strings.Index(base, ":"); i >= 0 {
			return base[:i], base[i+1:]
		}
		return base, ""
	}
	if i := strings.Index(resource, ":"); i >= 0 {
		return resource[:i], resource[i+1:]
	}
	return resource, ""
}

// stateEventType names the entered/exited events of a state type:
// "TaskStateEntered", "MapStateExited", ...
func stateEventType(s *asl.State, suffix string) string {
	return s.Type + "State" + suffix
}
