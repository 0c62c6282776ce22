package ingest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// MaxEventBytes is the largest event steward accepts, as EventBridge: 256 KiB.
const MaxEventBytes = 256 * 1024

// Event is one event as steward stores it: the JSON document and what the
// rules and the event list need from it.
type Event struct {
	// ID is the EventBridge event id, or for JSON without one a hash of its
	// content, so a duplicate is stored once.
	ID string
	// Source, DetailType, Account, Region and Time come from an EventBridge
	// envelope when there is one.
	Source     string
	DetailType string
	Account    string
	Region     string
	Time       time.Time
	// Body is the event's JSON, compact.
	Body json.RawMessage
	// Received is when steward received it.
	Received time.Time
	// Via says how it arrived: "http", "putevents", "sns", "import".
	Via string
}

// Errors for events steward refuses.
var (
	ErrMalformed = errors.New("malformed JSON")
	ErrTooLarge  = errors.New("event too large")
	ErrEmpty     = errors.New("no event")
)

// EventError says which event of a batch was refused and why.
type EventError struct {
	Index int
	Err   error
}

func (e *EventError) Error() string { return fmt.Sprintf("event %d: %v", e.Index, e.Err) }
func (e *EventError) Unwrap() error { return e.Err }

// NewEvent makes an Event from one JSON document, recognising EventBridge
// envelopes (version, id, detail-type, source, account, time, region).
func NewEvent(body []byte, via string, received time.Time) (Event, error) {
	var compact bytes.Buffer
	if err := json.Compact(&compact, body); err != nil {
		return Event{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return eventFromCompact(compact.Bytes(), via, received)
}

// eventFromCompact makes an Event from one compact, valid JSON document.
func eventFromCompact(c []byte, via string, received time.Time) (Event, error) {
	if len(c) > MaxEventBytes {
		return Event{}, fmt.Errorf("%w: %d bytes, over the limit of %d", ErrTooLarge, len(c), MaxEventBytes)
	}
	ev := Event{Body: c, Received: received.UTC(), Via: via}
	var env envelope
	if len(c) > 0 && c[0] == '{' {
		env = readEnvelope(c)
	}
	if env.id != "" && env.source != "" {
		ev.ID = env.id
	} else {
		sum := sha256.Sum256(c)
		ev.ID = "sha256-" + hex.EncodeToString(sum[:16])
	}
	ev.Source, ev.DetailType, ev.Account, ev.Region = env.source, env.detailType, env.account, env.region
	if t, err := time.Parse(time.RFC3339, env.time); err == nil {
		ev.Time = t.UTC()
	} else {
		ev.Time = ev.Received
	}
	return ev, nil
}

// DecodeBody decodes a POST /events body: one event, or a JSON array of
// events (EventBridge API destinations send one; batches are welcome). A
// malformed body is refused whole; so is a batch with any event over the
// size limit, with an *EventError naming it. The body is validated and
// compacted in one pass, then split and read without decoding it again.
func DecodeBody(body []byte, via string, received time.Time) ([]Event, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, ErrEmpty
	}
	var compact bytes.Buffer
	compact.Grow(len(trimmed))
	if err := json.Compact(&compact, trimmed); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	c := compact.Bytes()
	if c[0] != '[' {
		ev, err := eventFromCompact(c, via, received)
		if err != nil {
			return nil, err
		}
		return []Event{ev}, nil
	}
	items := splitArray(c)
	if len(items) == 0 {
		return nil, ErrEmpty
	}
	out := make([]Event, 0, len(items))
	for i, raw := range items {
		ev, err := eventFromCompact(raw, via, received)
		if err != nil {
			return nil, &EventError{Index: i, Err: err}
		}
		out = append(out, ev)
	}
	return out, nil
}

// PutEventsEntry is one entry of an EventBridge PutEvents request.
type PutEventsEntry struct {
	Source       string   `json:"Source"`
	DetailType   string   `json:"DetailType"`
	Detail       string   `json:"Detail"`
	Resources    []string `json:"Resources"`
	Time         *float64 `json:"Time"`
	EventBusName string   `json:"EventBusName"`
	TraceHeader  string   `json:"TraceHeader"`
}

// PutEventsResultEntry is one entry of PutEvents' response: an EventId, or
// an ErrorCode and ErrorMessage.
type PutEventsResultEntry struct {
	EventID      string `json:"EventId,omitempty"`
	ErrorCode    string `json:"ErrorCode,omitempty"`
	ErrorMessage string `json:"ErrorMessage,omitempty"`
}

// MaxPutEventsEntries is PutEvents' batch limit.
const MaxPutEventsEntries = 10

// EntryToEvent builds the EventBridge event PutEvents would deliver for an
// entry, or the per-entry error PutEvents answers with.
func EntryToEvent(e PutEventsEntry, account, region string, received time.Time, newID func() string) (Event, *PutEventsResultEntry) {
	fail := func(code, msg string) (Event, *PutEventsResultEntry) {
		return Event{}, &PutEventsResultEntry{ErrorCode: code, ErrorMessage: msg}
	}
	if e.Source == "" {
		return fail("InvalidArgument", "Parameter Source is not valid. Reason: Source is a required argument.")
	}
	if e.DetailType == "" {
		return fail("InvalidArgument", "Parameter DetailType is not valid. Reason: DetailType is a required argument.")
	}
	if e.Detail == "" {
		return fail("InvalidArgument", "Parameter Detail is not valid. Reason: Detail is a required argument.")
	}
	var detail map[string]any
	if err := json.Unmarshal([]byte(e.Detail), &detail); err != nil || detail == nil {
		return fail("MalformedDetail", "Detail is malformed.")
	}
	at := received
	if e.Time != nil {
		sec := *e.Time
		at = time.Unix(int64(sec), int64((sec-float64(int64(sec)))*1e9)).UTC()
	}
	resources := e.Resources
	if resources == nil {
		resources = []string{}
	}
	if newID == nil {
		newID = uuid.NewString
	}
	env := map[string]any{
		"version":     "0",
		"id":          newID(),
		"detail-type": e.DetailType,
		"source":      e.Source,
		"account":     account,
		"time":        at.UTC().Format(time.RFC3339),
		"region":      region,
		"resources":   resources,
		"detail":      json.RawMessage(e.Detail),
	}
	body, err := json.Marshal(env)
	if err != nil {
		return fail("InternalFailure", err.Error())
	}
	ev, err := NewEvent(body, "putevents", received)
	if err != nil {
		if errors.Is(err, ErrTooLarge) {
			return fail("InvalidArgument", "Total size of the entries in the request is over the limit.")
		}
		return fail("MalformedDetail", "Detail is malformed.")
	}
	return ev, nil
}
