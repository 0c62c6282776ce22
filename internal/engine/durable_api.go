package engine

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/google/uuid"

	"github.com/stewardhq/steward/internal/asl"
	"github.com/stewardhq/steward/internal/store"
)

// Errors of the engine's operations. ErrorCode names each as Step
// Functions' API does.
var (
	ErrStateMachineDoesNotExist  = errors.New("state machine does not exist")
	ErrStateMachineAlreadyExists = errors.New("state machine already exists")
	ErrInvalidDefinition         = errors.New("invalid state machine definition")
	ErrInvalidName               = errors.New("invalid name")
	ErrInvalidARN                = errors.New("invalid ARN")
	ErrExecutionDoesNotExist     = errors.New("execution does not exist")
	ErrExecutionAlreadyExists    = errors.New("execution already exists")
	ErrInvalidExecutionInput     = errors.New("invalid execution input")
	ErrInvalidOutput             = errors.New("invalid task output")
	ErrInvalidToken              = errors.New("invalid task token")
	ErrTaskTimedOut              = errors.New("task timed out: provided task does not exist anymore")
	ErrExecutionNotRedrivable    = errors.New("execution not redrivable")
	ErrValidation                = errors.New("validation error")
)

// ErrorCode returns Step Functions' error code for an operation's error
// ("ExecutionDoesNotExist", "InvalidToken", ...), or "" for an internal
// error.
func ErrorCode(err error) string {
	codes := []struct {
		err  error
		code string
	}{
		{ErrStateMachineDoesNotExist, "StateMachineDoesNotExist"},
		{ErrStateMachineAlreadyExists, "StateMachineAlreadyExists"},
		{ErrInvalidDefinition, "InvalidDefinition"},
		{ErrInvalidName, "InvalidName"},
		{ErrInvalidARN, "InvalidArn"},
		{ErrExecutionDoesNotExist, "ExecutionDoesNotExist"},
		{ErrExecutionAlreadyExists, "ExecutionAlreadyExists"},
		{ErrInvalidExecutionInput, "InvalidExecutionInput"},
		{ErrInvalidOutput, "InvalidOutput"},
		{ErrInvalidToken, "InvalidToken"},
		{ErrTaskTimedOut, "TaskTimedOut"},
		{ErrExecutionNotRedrivable, "ExecutionNotRedrivable"},
		{ErrValidation, "ValidationException"},
	}
	for _, c := range codes {
		if errors.Is(err, c.err) {
			return c.code
		}
	}
	return ""
}

// DefinitionError carries the problems of an invalid definition; it
// matches ErrInvalidDefinition.
type DefinitionError struct {
	Err error
}

func (e *DefinitionError) Error() string { return "invalid state machine definition: " + e.Err.Error() }

// Unwrap returns both the sentinel and the cause (an *asl.ValidationError
// lists the problems).
func (e *DefinitionError) Unwrap() []error { return []error{ErrInvalidDefinition, e.Err} }

// StateMachineARN returns the ARN of a state machine name.
func (e *Engine) StateMachineARN(name string) string {
	return fmt.Sprintf("arn:aws:states:%s:%s:stateMachine:%s", e.cfg.Region, e.cfg.AccountID, name)
}

// ExecutionARN returns the ARN of an execution of a state machine.
func (e *Engine) ExecutionARN(stateMachineName, name string) string {
	return fmt.Sprintf("arn:aws:states:%s:%s:execution:%s:%s", e.cfg.Region, e.cfg.AccountID, stateMachineName, name)
}

// validName checks a state machine or execution name as Step Functions
// does: 1 to 80 characters, no whitespace, brackets, wildcards, special
// or control characters.
func validName(name string) error {
	if name == "" || len([]rune(name)) > 80 {
		return fmt.Errorf("%w: %q must be 1 to 80 characters", ErrInvalidName, name)
	}
	for _, r := range name {
		if unicode.IsSpace(r) || unicode.IsControl(r) || strings.ContainsRune("<>{}[]?*\"#%\\^|~`$&,;:/", r) {
			return fmt.Errorf("%w: %q contains %q", ErrInvalidName, name, r)
		}
	}
	return nil
}

// ValidateDefinition parses a definition and checks that every Task
// resource has a handler.
func (e *Engine) ValidateDefinition(definition string) (*asl.Machine, error) {
	m, err := asl.Parse([]byte(definition))
	if err != nil {
		return nil, &DefinitionError{Err: err}
	}
	if err := CheckResources(m, e.cfg.Tasks); err != nil {
		return nil, &DefinitionError{Err: err}
	}
	return m, nil
}

// CreateStateMachineInput creates a state machine.
type CreateStateMachineInput struct {
	Name       string
	Definition string
	RoleARN    string
	// Type is STANDARD (the default); EXPRESS is accepted and run the same
	// way.
	Type string
}

// CreateStateMachine validates and stores a state machine.
func (e *Engine) CreateStateMachine(ctx context.Context, in CreateStateMachineInput) (*store.StateMachine, error) {
	if err := validName(in.Name); err != nil {
		return nil, err
	}
	if _, err := e.ValidateDefinition(in.Definition); err != nil {
		return nil, err
	}
	if in.Type == "" {
		in.Type = "STANDARD"
	}
	if in.Type != "STANDARD" && in.Type != "EXPRESS" {
		return nil, fmt.Errorf("%w: type %q is not STANDARD or EXPRESS", ErrValidation, in.Type)
	}
	sm, err := e.st.CreateStateMachine(ctx, store.CreateStateMachineParams{ARN: e.StateMachineARN(in.Name), Name: in.Name, Type: in.Type,
		Definition: in.Definition, RoleARN: in.RoleARN, RevisionID: uuid.NewString(), Now: e.now()})
	if errors.Is(err, store.ErrAlreadyExists) {
		cur, gerr := e.st.GetStateMachine(ctx, e.StateMachineARN(in.Name))
		if gerr == nil && cur.Definition == in.Definition && cur.RoleARN == in.RoleARN {
			return cur, nil // Step Functions: creating the same machine again is idempotent
		}
		return nil, fmt.Errorf("%w: %s", ErrStateMachineAlreadyExists, in.Name)
	}
	if err != nil {
		return nil, fmt.Errorf("create state machine: %w", err)
	}
	return sm, nil
}

// UpdateStateMachineInput changes a state machine; empty fields stay.
type UpdateStateMachineInput struct {
	ARN        string
	Definition string
	RoleARN    string
}

// UpdateStateMachine stores a new revision. Running executions keep
// theirs.
func (e *Engine) UpdateStateMachine(ctx context.Context, in UpdateStateMachineInput) (*store.StateMachine, error) {
	if in.Definition != "" {
		if _, err := e.ValidateDefinition(in.Definition); err != nil {
			return nil, err
		}
	}
	sm, err := e.st.UpdateStateMachine(ctx, store.UpdateStateMachineParams{ARN: in.ARN, Definition: in.Definition, RoleARN: in.RoleARN, RevisionID: uuid.NewString(), Now: e.now()})
	if err != nil {
		return nil, mapNotFound(err, ErrStateMachineDoesNotExist)
	}
	return sm, nil
}

// DescribeStateMachine returns a state machine's current revision.
func (e *Engine) DescribeStateMachine(ctx context.Context, arn string) (*store.StateMachine, error) {
	sm, err := e.st.GetStateMachine(ctx, arn)
	if err != nil {
		return nil, mapNotFound(err, ErrStateMachineDoesNotExist)
	}
	return sm, nil
}

// ListStateMachines lists state machines.
func (e *Engine) ListStateMachines(ctx context.Context, p store.ListParams) ([]*store.StateMachine, string, error) {
	return e.st.ListStateMachines(ctx, p)
}

// DeleteStateMachine deletes a state machine. Its running executions keep
// running: the engine keeps the revisions it already parsed, and a
// revision it cannot load fails the execution.
func (e *Engine) DeleteStateMachine(ctx context.Context, arn string) error {
	if err := e.st.DeleteStateMachine(ctx, arn); err != nil {
		return mapNotFound(err, ErrStateMachineDoesNotExist)
	}
	return nil
}

// StartExecutionInput starts an execution.
type StartExecutionInput struct {
	StateMachineARN string
	// Name defaults to a UUID.
	Name string
	// Input is JSON text; default "{}".
	Input string
}

// StartExecution starts an execution of a state machine's current
// revision. Name idempotency as in Step Functions: the same name and input
// as a running execution returns it; otherwise a taken name is
// ErrExecutionAlreadyExists.
func (e *Engine) StartExecution(ctx context.Context, in StartExecutionInput) (*store.Execution, error) {
	if in.Name == "" {
		in.Name = uuid.NewString()
	}
	if err := validName(in.Name); err != nil {
		return nil, err
	}
	if in.Input == "" {
		in.Input = "{}"
	}
	input, err := asl.DecodeJSON([]byte(in.Input))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidExecutionInput, err)
	}
	sm, err := e.st.GetStateMachine(ctx, in.StateMachineARN)
	if err != nil {
		return nil, mapNotFound(err, ErrStateMachineDoesNotExist)
	}
	m, _, err := e.machine(ctx, sm.ARN, sm.Revision)
	if err != nil {
		return nil, err
	}
	now := e.now()
	arn := e.ExecutionARN(sm.Name, in.Name)
	row := store.Execution{ARN: arn, StateMachineARN: sm.ARN, StateMachineRevision: sm.Revision, Name: in.Name, Status: StatusRunning,
		Input: in.Input, StartDate: now, LeaseOwner: e.cfg.Owner, LeaseExpires: now.Add(e.cfg.LeaseDuration)}
	x := &execState{row: &row, rt: &runtime{Runs: []*xrun{{ID: 0, Parent: -1, Phase: phaseReady, State: m.StartAt, Input: input}}}, m: m}
	tx := &txn{x: x, now: now}
	role := sm.RoleARN
	if role == "" {
		role = fmt.Sprintf("arn:aws:iam::%s:role/steward", e.cfg.AccountID)
	}
	d := payloadDetails("input", input)
	d["roleArn"] = role
	tx.event("ExecutionStarted", "executionStartedEventDetails", d)
	if err := e.checkSize("the execution input", input); err != nil {
		ae := err.(*asl.Error)
		e.finishExecution(tx, StatusFailed, nil, ae.Name, ae.Cause)
		row.Status, row.Error, row.Cause, row.StopDate = StatusFailed, ae.Name, ae.Cause, now
		row.LeaseOwner, row.LeaseExpires = "", time.Time{}
	} else if m.TimeoutSeconds > 0 {
		tx.putTimer("execution", now.Add(time.Duration(m.TimeoutSeconds)*time.Second))
	}
	raw, err := x.rt.encode()
	if err != nil {
		return nil, err
	}
	row.Runtime, row.Runnable = raw, row.Status == StatusRunning
	created, err := e.st.CreateExecution(ctx, store.CreateExecutionParams{Execution: row, Events: tx.t.Events, Timers: tx.t.PutTimers})
	if errors.Is(err, store.ErrAlreadyExists) {
		if created != nil && created.Status == StatusRunning && created.Input == in.Input && created.StateMachineARN == sm.ARN {
			return created, nil
		}
		return nil, fmt.Errorf("%w: %s", ErrExecutionAlreadyExists, arn)
	}
	if err != nil {
		return nil, fmt.Errorf("start execution: %w", err)
	}
	if created.Status == StatusRunning {
		e.spawn(created)
	}
	return created, nil
}

// DescribeExecution returns an execution.
func (e *Engine) DescribeExecution(ctx context.Context, arn string) (*store.Execution, error) {
	x, err := e.st.GetExecution(ctx, arn)
	if err != nil {
		return nil, mapNotFound(err, ErrExecutionDoesNotExist)
	}
	return x, nil
}

// ListExecutions lists executions, newest first.
func (e *Engine) ListExecutions(ctx context.Context, p store.ListExecutionsParams) ([]*store.Execution, string, error) {
	if p.StateMachineARN != "" {
		if _, err := e.st.GetStateMachine(ctx, p.StateMachineARN); err != nil {
			return nil, "", mapNotFound(err, ErrStateMachineDoesNotExist)
		}
	}
	return e.st.ListExecutions(ctx, p)
}

// GetExecutionHistoryInput pages through a history.
type GetExecutionHistoryInput struct {
	ExecutionARN string
	MaxResults   int
	NextToken    string
	ReverseOrder bool
}

// GetExecutionHistory returns an execution's events with Step Functions'
// names and details, and a token for the next page ("" at the end).
func (e *Engine) GetExecutionHistory(ctx context.Context, in GetExecutionHistoryInput) ([]HistoryEvent, string, error) {
	if _, err := e.st.GetExecution(ctx, in.ExecutionARN); err != nil {
		return nil, "", mapNotFound(err, ErrExecutionDoesNotExist)
	}
	var after int64
	if in.NextToken != "" {
		n, err := strconv.ParseInt(in.NextToken, 10, 64)
		if err != nil || n < 0 {
			return nil, "", fmt.Errorf("%w: invalid next token", ErrValidation)
		}
		after = n
	}
	limit := in.MaxResults
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	rows, err := e.st.GetHistory(ctx, store.GetHistoryParams{ExecutionARN: in.ExecutionARN, AfterEventID: after, Limit: limit + 1, Reverse: in.ReverseOrder})
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(rows) > limit {
		rows = rows[:limit]
		next = strconv.FormatInt(rows[limit-1].ID, 10)
	}
	out := make([]HistoryEvent, len(rows))
	for i, r := range rows {
		out[i] = HistoryEvent{ID: r.ID, PreviousEventID: r.PreviousEventID, Type: r.Type, Timestamp: r.Timestamp, DetailsKey: r.DetailsKey}
		if len(r.Details) > 0 {
			if v, err := asl.DecodeJSON(r.Details); err == nil {
				out[i].Details, _ = v.(map[string]any)
			}
		}
	}
	return out, next, nil
}

// StopExecution aborts a running execution; a stopped one is left as it
// is. It returns the stop date.
func (e *Engine) StopExecution(ctx context.Context, arn, errName, cause string) (time.Time, error) {
	err := e.mutate(ctx, arn, func(tx *txn) error {
		if tx.x.row.Status != StatusRunning {
			return nil
		}
		e.finishExecution(tx, StatusAborted, nil, errName, cause)
		return nil
	})
	if err != nil {
		return time.Time{}, err
	}
	x, err := e.DescribeExecution(ctx, arn)
	if err != nil {
		return time.Time{}, err
	}
	return x.StopDate, nil
}

// RedriveExecution restarts a failed, timed-out or aborted execution from
// the state where it stopped, as Step Functions does; $$.Execution.
// RedriveCount counts redrives. It returns the redrive date.
func (e *Engine) RedriveExecution(ctx context.Context, arn string) (time.Time, error) {
	var when time.Time
	err := e.mutate(ctx, arn, func(tx *txn) error {
		x := tx.x
		switch x.row.Status {
		case StatusFailed, StatusTimedOut, StatusAborted:
		default:
			return fmt.Errorf("%w: execution %s is %s", ErrExecutionNotRedrivable, arn, x.row.Status)
		}
		if !tx.now.Before(x.row.StopDate.Add(14 * 24 * time.Hour)) {
			return fmt.Errorf("%w: execution %s stopped more than 14 days ago", ErrExecutionNotRedrivable, arn)
		}
		root := x.rt.Runs[0]
		if x.m.States[root.State] == nil {
			return fmt.Errorf("%w: execution %s has no state to redrive from", ErrExecutionNotRedrivable, arn)
		}
		x.rt.Runs = x.rt.Runs[:1]
		root.Phase, root.Entered, root.Attempts, root.Task, root.Kids = phaseReady, 0, nil, nil, nil
		root.Status, root.Output, root.Error, root.Cause, root.WaitOutput, root.WaitNext = "", nil, "", "", nil, ""
		count := x.row.RedriveCount + 1
		tx.event("ExecutionRedriven", "executionRedrivenEventDetails", map[string]any{"redriveCount": count})
		tx.t.Status, tx.t.RedriveCount, tx.t.RedriveDate = StatusRunning, count, tx.now
		if to := x.m.TimeoutSeconds; to > 0 {
			tx.putTimer("execution", tx.now.Add(time.Duration(to)*time.Second))
		}
		when = tx.now
		return nil
	})
	if err != nil {
		return time.Time{}, err
	}
	e.wake()
	return when, nil
}

// encodeTokenPrefix names the execution in a task token.
func encodeTokenPrefix(execARN string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(execARN))
}

// tokenRun finds the run that waits for a token: ErrInvalidToken for a
// token steward never issued, ErrTaskTimedOut for one whose task ended.
func (e *Engine) tokenRun(ctx context.Context, token string) (string, error) {
	prefix, rest, ok := strings.Cut(token, ".")
	raw, err := base64.RawURLEncoding.DecodeString(prefix)
	if !ok || err != nil || uuid.Validate(rest) != nil || len(token) > 2048 {
		return "", fmt.Errorf("%w", ErrInvalidToken)
	}
	arn := string(raw)
	if _, err := e.st.GetExecution(ctx, arn); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return "", fmt.Errorf("%w", ErrInvalidToken)
		}
		return "", err
	}
	return arn, nil
}

// withToken applies fn to the run that waits for token.
func (e *Engine) withToken(ctx context.Context, token string, fn func(tx *txn, r *xrun) error) error {
	arn, err := e.tokenRun(ctx, token)
	if err != nil {
		return err
	}
	return e.mutate(ctx, arn, func(tx *txn) error {
		id, ok := tx.x.rt.Tokens[token]
		if !ok || tx.x.row.Status != StatusRunning || id >= len(tx.x.rt.Runs) {
			return fmt.Errorf("%w", ErrTaskTimedOut)
		}
		r := tx.x.rt.Runs[id]
		if r.Phase != phaseTask || r.Task == nil || r.Task.Token != token {
			return fmt.Errorf("%w", ErrTaskTimedOut)
		}
		return fn(tx, r)
	})
}

// SendTaskSuccess completes the task waiting for token with output (JSON
// text).
func (e *Engine) SendTaskSuccess(ctx context.Context, token, output string) error {
	v, err := asl.DecodeJSON([]byte(output))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidOutput, err)
	}
	return e.withToken(ctx, token, func(tx *txn, r *xrun) error {
		e.taskSucceeded(tx, r, v)
		return nil
	})
}

// SendTaskFailure fails the task waiting for token.
func (e *Engine) SendTaskFailure(ctx context.Context, token, errName, cause string) error {
	return e.withToken(ctx, token, func(tx *txn, r *xrun) error {
		e.taskFailed(tx, r, &asl.Error{Name: errName, Cause: cause})
		return nil
	})
}

// SendTaskHeartbeat restarts the heartbeat timeout of the task waiting for
// token.
func (e *Engine) SendTaskHeartbeat(ctx context.Context, token string) error {
	return e.withToken(ctx, token, func(tx *txn, r *xrun) error {
		if hb := r.Task.Call.HeartbeatSeconds; hb > 0 {
			tx.putTimer(timerKey("hb", r.ID), tx.now.Add(time.Duration(hb)*time.Second))
		}
		return nil
	})
}
