// Package api serves steward's Step Functions-compatible API: the AWS JSON
// 1.0 protocol (POST with X-Amz-Target: AWSStepFunctions.<Action>), request
// and response shapes as Step Functions' own, its error codes, and AWS
// Signature Version 4 authentication against steward's access keys, so that
// the AWS CLI and SDKs work unchanged with --endpoint-url.
package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/stewardhq/steward/internal/api/sigv4"
	"github.com/stewardhq/steward/internal/asl"
	"github.com/stewardhq/steward/internal/engine"
	"github.com/stewardhq/steward/internal/store"
)

// Engine is what the API drives: the durable engine's operations.
type Engine interface {
	// CreateStateMachine validates and stores a state machine.
	CreateStateMachine(ctx context.Context, in engine.CreateStateMachineInput) (*store.StateMachine, error)
	// UpdateStateMachine stores a new revision.
	UpdateStateMachine(ctx context.Context, in engine.UpdateStateMachineInput) (*store.StateMachine, error)
	// DescribeStateMachine returns a state machine's current revision.
	DescribeStateMachine(ctx context.Context, arn string) (*store.StateMachine, error)
	// ListStateMachines pages through state machines.
	ListStateMachines(ctx context.Context, p store.ListParams) ([]*store.StateMachine, string, error)
	// DeleteStateMachine deletes a state machine.
	DeleteStateMachine(ctx context.Context, arn string) error
	// ValidateDefinition parses and checks a definition.
	ValidateDefinition(definition string) (*asl.Machine, error)
	// StartExecution starts an execution.
	StartExecution(ctx context.Context, in engine.StartExecutionInput) (*store.Execution, error)
	// DescribeExecution returns an execution.
	DescribeExecution(ctx context.Context, arn string) (*store.Execution, error)
	// ListExecutions pages through executions, newest first.
	ListExecutions(ctx context.Context, p store.ListExecutionsParams) ([]*store.Execution, string, error)
	// GetExecutionHistory pages through an execution's history.
	GetExecutionHistory(ctx context.Context, in engine.GetExecutionHistoryInput) ([]engine.HistoryEvent, string, error)
	// StopExecution aborts a running execution and returns the stop date.
	StopExecution(ctx context.Context, arn, errName, cause string) (time.Time, error)
	// RedriveExecution restarts a stopped execution and returns the
	// redrive date.
	RedriveExecution(ctx context.Context, arn string) (time.Time, error)
	// SendTaskSuccess completes a task waiting for a token.
	SendTaskSuccess(ctx context.Context, token, output string) error
	// SendTaskFailure fails a task waiting for a token.
	SendTaskFailure(ctx context.Context, token, errName, cause string) error
	// SendTaskHeartbeat restarts a task's heartbeat timeout.
	SendTaskHeartbeat(ctx context.Context, token string) error
}

var _ Engine = (*engine.Engine)(nil)

// Defaults of Config.
const (
	DefaultMaxBodyBytes    = 1 << 20
	DefaultMaxPayloadBytes = 256 * 1024
	// TargetPrefix prefixes every X-Amz-Target of the API.
	TargetPrefix = "AWSStepFunctions."
	// ContentType is the AWS JSON 1.0 media type.
	ContentType = "application/x-amz-json-1.0"
)

// Config configures a Handler.
type Config struct {
	// Engine runs the operations.
	Engine Engine
	// Keys are the access keys requests must be signed with (SigV4,
	// service "states"). With no keys every request is refused.
	Keys sigv4.Keys
	// Now is the clock the signature dates are checked against; default
	// time.Now. (The engine keeps its own clock.)
	Now func() time.Time
	// ExecutionClock is the engine's clock, which decides whether a stopped
	// execution can still be redriven; default time.Now.
	ExecutionClock func() time.Time
	// MaxBodyBytes bounds a request body; default DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// MaxPayloadBytes bounds execution input, task output and definitions
	// as Step Functions' API does (262144); default
	// DefaultMaxPayloadBytes.
	MaxPayloadBytes int
	// Logf reports internal errors; default: discard.
	Logf func(format string, args ...any)
}

// Handler serves the API. It is safe for concurrent use.
type Handler struct {
	cfg      Config
	verifier *sigv4.Verifier
	actions  map[string]action
}

var _ http.Handler = (*Handler)(nil)

// action decodes its request from body and returns the response value.
type action func(ctx context.Context, body []byte) (any, error)

// New returns a Handler.
func New(cfg Config) *Handler {
	if cfg.Keys == nil {
		cfg.Keys = sigv4.StaticKeys{}
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.MaxPayloadBytes <= 0 {
		cfg.MaxPayloadBytes = DefaultMaxPayloadBytes
	}
	if cfg.ExecutionClock == nil {
		cfg.ExecutionClock = time.Now
	}
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	h := &Handler{cfg: cfg, verifier: &sigv4.Verifier{Keys: cfg.Keys, Service: "states", Now: cfg.Now}}
	h.actions = map[string]action{
		"CreateStateMachine":             h.createStateMachine,
		"UpdateStateMachine":             h.updateStateMachine,
		"DescribeStateMachine":           h.describeStateMachine,
		"ListStateMachines":              h.listStateMachines,
		"DeleteStateMachine":             h.deleteStateMachine,
		"ValidateStateMachineDefinition": h.validateStateMachineDefinition,
		"StartExecution":                 h.startExecution,
		"DescribeExecution":              h.describeExecution,
		"ListExecutions":                 h.listExecutions,
		"GetExecutionHistory":            h.getExecutionHistory,
		"StopExecution":                  h.stopExecution,
		"RedriveExecution":               h.redriveExecution,
		"SendTaskSuccess":                h.sendTaskSuccess,
		"SendTaskFailure":                h.sendTaskFailure,
		"SendTaskHeartbeat":              h.sendTaskHeartbeat,
	}
	return h
}

// Error is an API error as AWS JSON 1.0 returns it: an HTTP status and a
// body {"__type": Code, "message": Message}.
type Error struct {
	Status  int
	Code    string
	Message string
	// Err is the cause, if any.
	Err error
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

func clientError(code, format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Code: code, Message: fmt.Sprintf(format, args...)}
}

// ServeHTTP authenticates the request, then runs its action.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Amzn-RequestId", uuid.NewString())
	if r.Header.Get("Authorization") == "" {
		// Refuse before reading the body.
		_, err := h.verifier.Verify(r, nil)
		h.writeError(w, err)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, h.cfg.MaxBodyBytes+1))
	if err != nil {
		h.writeError(w, clientError("SerializationException", "cannot read the request body: %v", err))
		return
	}
	if int64(len(body)) > h.cfg.MaxBodyBytes {
		h.writeError(w, &Error{Status: http.StatusRequestEntityTooLarge, Code: "ValidationException",
			Message: fmt.Sprintf("Request body exceeds the limit of %d bytes", h.cfg.MaxBodyBytes)})
		return
	}
	if _, err := h.verifier.Verify(r, body); err != nil {
		h.writeError(w, err)
		return
	}
	if r.Method != http.MethodPost {
		h.writeError(w, &Error{Status: http.StatusMethodNotAllowed, Code: "UnknownOperationException", Message: "The AWS JSON 1.0 protocol takes POST requests"})
		return
	}
	target := r.Header.Get("X-Amz-Target")
	name, ok := strings.CutPrefix(target, TargetPrefix)
	act := h.actions[name]
	if !ok || act == nil {
		h.writeError(w, clientError("UnknownOperationException", "Unknown operation %q", target))
		return
	}
	out, err := act(r.Context(), body)
	if err != nil {
		h.writeError(w, err)
		return
	}
	buf, err := json.Marshal(out)
	if err != nil {
		h.writeError(w, fmt.Errorf("encode %s response: %w", name, err))
		return
	}
	w.Header().Set("Content-Type", ContentType)
	w.Write(buf)
}

// writeError renders err as an AWS JSON 1.0 error.
func (h *Handler) writeError(w http.ResponseWriter, err error) {
	e := h.toError(err)
	body, _ := json.Marshal(map[string]string{"__type": e.Code, "message": e.Message})
	w.Header().Set("Content-Type", ContentType)
	w.Header().Set("X-Amzn-ErrorType", e.Code)
	w.WriteHeader(e.Status)
	w.Write(body)
}

// toError maps an error to the API's: SigV4 failures are 403, the engine's
// errors take Step Functions' codes, anything else is an internal failure.
func (h *Handler) toError(err error) *Error {
	var ae *Error
	if errors.As(err, &ae) {
		return ae
	}
	var se *sigv4.Error
	if errors.As(err, &se) {
		return &Error{Status: http.StatusForbidden, Code: se.Code, Message: se.Message, Err: err}
	}
	var de *engine.DefinitionError
	if errors.As(err, &de) {
		return &Error{Status: http.StatusBadRequest, Code: "InvalidDefinition", Message: definitionMessage(de), Err: err}
	}
	if code := engine.ErrorCode(err); code != "" {
		return &Error{Status: http.StatusBadRequest, Code: code, Message: err.Error(), Err: err}
	}
	if errors.Is(err, store.ErrClosed) || errors.Is(err, context.Canceled) {
		return &Error{Status: http.StatusServiceUnavailable, Code: "ServiceUnavailable", Message: "steward is shutting down", Err: err}
	}
	h.cfg.Logf("api: internal error: %v", err)
	return &Error{Status: http.StatusInternalServerError, Code: "InternalFailure", Message: "internal error: " + err.Error(), Err: err}
}

// definitionMessage renders a definition's problems as Step Functions
// does: "Invalid State Machine Definition: 'CODE: message at /path, ...'".
func definitionMessage(de *engine.DefinitionError) string {
	var ve *asl.ValidationError
	if errors.As(de.Err, &ve) {
		return ve.Error()
	}
	return "Invalid State Machine Definition: '" + de.Err.Error() + "'"
}

// decode reads a JSON request into v: SerializationException when the body
// is not a JSON object of the right shape.
func decode(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return clientError("SerializationException", "field %q: expected %s, got JSON %s", te.Field, te.Type, te.Value)
		}
		return clientError("SerializationException", "the request body is not a valid JSON object: %v", err)
	}
	if d.More() {
		return clientError("SerializationException", "the request body holds more than one JSON value")
	}
	return nil
}

// epoch renders a time as the SDKs read timestamps: seconds since the
// epoch, with milliseconds as a fraction.
func epoch(t time.Time) float64 {
	return float64(t.UnixMilli()) / 1000
}

// epochPtr is epoch for optional fields: nil for the zero time.
func epochPtr(t time.Time) *float64 {
	if t.IsZero() {
		return nil
	}
	v := epoch(t)
	return &v
}
