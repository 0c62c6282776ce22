package api

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/stewardhq/steward/internal/asl"
	"github.com/stewardhq/steward/internal/engine"
	"github.com/stewardhq/steward/internal/store"
)

// Step Functions' API limits on request fields.
const (
	maxARNLength       = 256
	maxNameLength      = 80
	maxTokenLength     = 2048
	maxErrorLength     = 256
	maxCauseLength     = 32768
	maxNextTokenLength = 1024
	maxListResults     = 1000
)

// validation returns Step Functions' ValidationException for a field that
// breaks a constraint.
func validation(field, constraint string) *Error {
	return clientError("ValidationException", "1 validation error detected: Value at '%s' failed to satisfy constraint: %s", field, constraint)
}

func required(field, v string) error {
	if v == "" {
		return clientError("ValidationException", "1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", field)
	}
	return nil
}

// maxLen checks a field's length in characters.
func maxLen(field, v string, n int) error {
	if len(v) > n && utf8.RuneCountInString(v) > n {
		return validation(field, fmt.Sprintf("Member must have length less than or equal to %d", n))
	}
	return nil
}

// checkARN checks that arn names a resource of kind ("stateMachine",
// "execution") of Step Functions: InvalidArn otherwise.
func checkARN(field, arn, kind string) error {
	if err := required(field, arn); err != nil {
		return err
	}
	if err := maxLen(field, arn, maxARNLength); err != nil {
		return err
	}
	parts := strings.Split(arn, ":")
	want := 7
	if kind == "execution" {
		want = 8
	}
	if len(parts) < 6 || parts[0] != "arn" || !strings.HasPrefix(parts[1], "aws") || parts[2] != "states" {
		return clientError("InvalidArn", "Invalid Arn: 'Unable to parse ARN: %s'", arn)
	}
	if parts[5] != kind || len(parts) != want || parts[len(parts)-1] == "" {
		return clientError("InvalidArn", "Invalid Arn: 'Resource type not valid in this context: %s'", parts[5])
	}
	return nil
}

func checkMaxResults(n int) error {
	if n < 0 || n > maxListResults {
		return validation("maxResults", fmt.Sprintf("Member must have value less than or equal to %d", maxListResults))
	}
	return nil
}

// --- state machines ---

type createStateMachineRequest struct {
	Name       string `json:"name"`
	Definition string `json:"definition"`
	RoleARN    string `json:"roleArn"`
	Type       string `json:"type"`
}

type createStateMachineResponse struct {
	StateMachineARN string  `json:"stateMachineArn"`
	CreationDate    float64 `json:"creationDate"`
}

func (h *Handler) createStateMachine(ctx context.Context, body []byte) (any, error) {
	var in createStateMachineRequest
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := required("name", in.Name); err != nil {
		return nil, err
	}
	if err := required("definition", in.Definition); err != nil {
		return nil, err
	}
	if err := maxLen("definition", in.Definition, 1<<20); err != nil {
		return nil, err
	}
	sm, err := h.cfg.Engine.CreateStateMachine(ctx, engine.CreateStateMachineInput{Name: in.Name, Definition: in.Definition, RoleARN: in.RoleARN, Type: in.Type})
	if err != nil {
		return nil, err
	}
	return createStateMachineResponse{StateMachineARN: sm.ARN, CreationDate: epoch(sm.CreatedAt)}, nil
}

type updateStateMachineRequest struct {
	StateMachineARN string `json:"stateMachineArn"`
	Definition      string `json:"definition"`
	RoleARN         string `json:"roleArn"`
}

type updateStateMachineResponse struct {
	UpdateDate float64 `json:"updateDate"`
	RevisionID string  `json:"revisionId,omitempty"`
}

func (h *Handler) updateStateMachine(ctx context.Context, body []byte) (any, error) {
	var in updateStateMachineRequest
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := checkARN("stateMachineArn", in.StateMachineARN, "stateMachine"); err != nil {
		return nil, err
	}
	if in.Definition == "" && in.RoleARN == "" {
		return nil, clientError("MissingRequiredParameter", "Either the definition or the roleArn must be specified")
	}
	sm, err := h.cfg.Engine.UpdateStateMachine(ctx, engine.UpdateStateMachineInput{ARN: in.StateMachineARN, Definition: in.Definition, RoleARN: in.RoleARN})
	if err != nil {
		return nil, err
	}
	return updateStateMachineResponse{UpdateDate: epoch(sm.UpdatedAt), RevisionID: sm.RevisionID}, nil
}

type arnRequest struct {
	StateMachineARN string `json:"stateMachineArn"`
	ExecutionARN    string `json:"executionArn"`
}

type loggingConfiguration struct {
	Level                string `json:"level"`
	IncludeExecutionData bool   `json:"includeExecutionData"`
}

type tracingConfiguration struct {
	Enabled bool `json:"enabled"`
}

type describeStateMachineResponse struct {
	StateMachineARN      string               `json:"stateMachineArn"`
	Name                 string               `json:"name"`
	Status               string               `json:"status"`
	Definition           string               `json:"definition"`
	RoleARN              string               `json:"roleArn"`
	Type                 string               `json:"type"`
	CreationDate         float64              `json:"creationDate"`
	RevisionID           string               `json:"revisionId,omitempty"`
	Description          string               `json:"description,omitempty"`
	LoggingConfiguration loggingConfiguration `json:"loggingConfiguration"`
	TracingConfiguration tracingConfiguration `json:"tracingConfiguration"`
}

func (h *Handler) describeStateMachine(ctx context.Context, body []byte) (any, error) {
	var in arnRequest
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := checkARN("stateMachineArn", in.StateMachineARN, "stateMachine"); err != nil {
		return nil, err
	}
	sm, err := h.cfg.Engine.DescribeStateMachine(ctx, in.StateMachineARN)
	if err != nil {
		return nil, err
	}
	return describeStateMachineResponse{StateMachineARN: sm.ARN, Name: sm.Name, Status: "ACTIVE", Definition: sm.Definition, RoleARN: sm.RoleARN,
		Type: sm.Type, CreationDate: epoch(sm.CreatedAt), RevisionID: sm.RevisionID, Description: sm.Description,
		LoggingConfiguration: loggingConfiguration{Level: "OFF"}}, nil
}

type listRequest struct {
	MaxResults int    `json:"maxResults"`
	NextToken  string `json:"nextToken"`
}

type stateMachineListItem struct {
	StateMachineARN string  `json:"stateMachineArn"`
	Name            string  `json:"name"`
	Type            string  `json:"type"`
	CreationDate    float64 `json:"creationDate"`
}

type listStateMachinesResponse struct {
	StateMachines []stateMachineListItem `json:"stateMachines"`
	NextToken     string                 `json:"nextToken,omitempty"`
}

func (h *Handler) listStateMachines(ctx context.Context, body []byte) (any, error) {
	var in listRequest
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := checkMaxResults(in.MaxResults); err != nil {
		return nil, err
	}
	if err := maxLen("nextToken", in.NextToken, maxNextTokenLength); err != nil {
		return nil, err
	}
	sms, next, err := h.cfg.Engine.ListStateMachines(ctx, store.ListParams{Limit: in.MaxResults, NextToken: in.NextToken})
	if err != nil {
		return nil, listError(err, in.NextToken)
	}
	out := listStateMachinesResponse{StateMachines: make([]stateMachineListItem, len(sms)), NextToken: next}
	for i, sm := range sms {
		out.StateMachines[i] = stateMachineListItem{StateMachineARN: sm.ARN, Name: sm.Name, Type: sm.Type, CreationDate: epoch(sm.CreatedAt)}
	}
	return out, nil
}

// listError maps a list's error: the store's ErrNotFound for a page
// token it cannot read is the client's InvalidToken, as Step Functions
// answers a bad nextToken.
func listError(err error, nextToken string) error {
	if nextToken != "" && engine.ErrorCode(err) == "" && errors.Is(err, store.ErrNotFound) {
		return &Error{Status: 400, Code: "InvalidToken", Message: "Invalid Token: the nextToken is not one this API returned", Err: err}
	}
	return err
}

func (h *Handler) deleteStateMachine(ctx context.Context, body []byte) (any, error) {
	var in arnRequest
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := checkARN("stateMachineArn", in.StateMachineARN, "stateMachine"); err != nil {
		return nil, err
	}
	err := h.cfg.Engine.DeleteStateMachine(ctx, in.StateMachineARN)
	if errors.Is(err, engine.ErrStateMachineDoesNotExist) {
		err = nil // Step Functions: deleting an absent state machine succeeds
	}
	if err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

type validateRequest struct {
	Definition string `json:"definition"`
	Type       string `json:"type"`
	Severity   string `json:"severity"`
	MaxResults int    `json:"maxResults"`
}

// Diagnostic is one problem ValidateStateMachineDefinition reports.
type Diagnostic struct {
	Severity string `json:"severity"`
	Code     string `json:"code"`
	Message  string `json:"message"`
	Location string `json:"location,omitempty"`
}

type validateResponse struct {
	Result      string       `json:"result"`
	Diagnostics []Diagnostic `json:"diagnostics"`
	Truncated   bool         `json:"truncated"`
}

func (h *Handler) validateStateMachineDefinition(_ context.Context, body []byte) (any, error) {
	var in validateRequest
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := required("definition", in.Definition); err != nil {
		return nil, err
	}
	if err := maxLen("definition", in.Definition, 1<<20); err != nil {
		return nil, err
	}
	if in.Type != "" && in.Type != "STANDARD" && in.Type != "EXPRESS" {
		return nil, validation("type", "Member must satisfy enum value set: [STANDARD, EXPRESS]")
	}
	if err := checkMaxResults(in.MaxResults); err != nil {
		return nil, err
	}
	out := validateResponse{Result: "OK", Diagnostics: []Diagnostic{}}
	if _, err := h.cfg.Engine.ValidateDefinition(in.Definition); err != nil {
		out.Result = "FAIL"
		out.Diagnostics = diagnostics(err)
	}
	if in.MaxResults > 0 && len(out.Diagnostics) > in.MaxResults {
		out.Diagnostics, out.Truncated = out.Diagnostics[:in.MaxResults], true
	}
	return out, nil
}

// diagnostics lists a definition's problems: asl's, with their codes and
// JSON-pointer locations, and the engine's (unknown Task resources).
func diagnostics(err error) []Diagnostic {
	var ve *asl.ValidationError
	if errors.As(err, &ve) {
		out := make([]Diagnostic, len(ve.Problems))
		for i, p := range ve.Problems {
			out[i] = Diagnostic{Severity: "ERROR", Code: p.Code, Message: p.Message, Location: p.Location}
		}
		return out
	}
	var errs []error
	var de *engine.DefinitionError
	if errors.As(err, &de) {
		err = de.Err
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else {
		errs = []error{err}
	}
	out := make([]Diagnostic, len(errs))
	for i, e := range errs {
		out[i] = Diagnostic{Severity: "ERROR", Code: "SCHEMA_VALIDATION_FAILED", Message: e.Error()}
	}
	return out
}

// --- executions ---

type startExecutionRequest struct {
	StateMachineARN string `json:"stateMachineArn"`
	Name            string `json:"name"`
	Input           string `json:"input"`
}

type startExecutionResponse struct {
	ExecutionARN string  `json:"executionArn"`
	StartDate    float64 `json:"startDate"`
}

func (h *Handler) startExecution(ctx context.Context, body []byte) (any, error) {
	var in startExecutionRequest
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := checkARN("stateMachineArn", in.StateMachineARN, "stateMachine"); err != nil {
		return nil, err
	}
	if err := maxLen("name", in.Name, maxNameLength); err != nil {
		return nil, clientError("InvalidName", "Invalid Name: '%s' is longer than %d characters", in.Name, maxNameLength)
	}
	if err := maxLen("input", in.Input, h.cfg.MaxPayloadBytes); err != nil {
		return nil, err
	}
	x, err := h.cfg.Engine.StartExecution(ctx, engine.StartExecutionInput{StateMachineARN: in.StateMachineARN, Name: in.Name, Input: in.Input})
	if err != nil {
		if errors.Is(err, engine.ErrInvalidExecutionInput) {
			return nil, &Error{Status: 400, Code: "InvalidExecutionInput", Message: "Invalid State Machine Execution Input: " + err.Error(), Err: err}
		}
		return nil, err
	}
	return startExecutionResponse{ExecutionARN: x.ARN, StartDate: epoch(x.StartDate)}, nil
}

type describeExecutionRequest struct {
	ExecutionARN string `json:"executionArn"`
	IncludedData string `json:"includedData"`
}

type included struct {
	Included bool `json:"included"`
}

type describeExecutionResponse struct {
	ExecutionARN        string    `json:"executionArn"`
	StateMachineARN     string    `json:"stateMachineArn"`
	Name                string    `json:"name"`
	Status              string    `json:"status"`
	StartDate           float64   `json:"startDate"`
	StopDate            *float64  `json:"stopDate,omitempty"`
	Input               *string   `json:"input,omitempty"`
	InputDetails        included  `json:"inputDetails"`
	Output              *string   `json:"output,omitempty"`
	OutputDetails       *included `json:"outputDetails,omitempty"`
	Error               string    `json:"error,omitempty"`
	Cause               string    `json:"cause,omitempty"`
	RedriveCount        int       `json:"redriveCount"`
	RedriveDate         *float64  `json:"redriveDate,omitempty"`
	RedriveStatus       string    `json:"redriveStatus"`
	RedriveStatusReason string    `json:"redriveStatusReason,omitempty"`
}

// redriveWindow is how long after it stopped an execution can be redriven.
const redriveWindow = 14 * 24 * time.Hour

func redriveStatus(x *store.Execution, now time.Time) (string, string) {
	switch x.Status {
	case engine.StatusFailed, engine.StatusTimedOut, engine.StatusAborted:
		if now.Sub(x.StopDate) >= redriveWindow {
			return "NOT_REDRIVABLE", "Execution can no longer be redriven: it stopped more than 14 days ago"
		}
		return "REDRIVABLE", ""
	default:
		return "NOT_REDRIVABLE", fmt.Sprintf("Execution is %s and cannot be redriven", x.Status)
	}
}

func (h *Handler) describeExecution(ctx context.Context, body []byte) (any, error) {
	var in describeExecutionRequest
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := checkARN("executionArn", in.ExecutionARN, "execution"); err != nil {
		return nil, err
	}
	if in.IncludedData != "" && in.IncludedData != "ALL_DATA" && in.IncludedData != "METADATA_ONLY" {
		return nil, validation("includedData", "Member must satisfy enum value set: [ALL_DATA, METADATA_ONLY]")
	}
	x, err := h.cfg.Engine.DescribeExecution(ctx, in.ExecutionARN)
	if err != nil {
		return nil, err
	}
	out := describeExecutionResponse{ExecutionARN: x.ARN, StateMachineARN: x.StateMachineARN, Name: x.Name, Status: x.Status,
		StartDate: epoch(x.StartDate), StopDate: epochPtr(x.StopDate), Error: x.Error, Cause: x.Cause,
		RedriveCount: x.RedriveCount, RedriveDate: epochPtr(x.RedriveDate)}
	out.RedriveStatus, out.RedriveStatusReason = redriveStatus(x, h.cfg.ExecutionClock())
	withData := in.IncludedData != "METADATA_ONLY"
	out.InputDetails.Included = withData
	if withData {
		out.Input = &x.Input
	}
	if x.Status == engine.StatusSucceeded {
		out.OutputDetails = &included{Included: withData}
		if withData {
			out.Output = &x.Output
		}
	}
	return out, nil
}

type listExecutionsRequest struct {
	StateMachineARN string `json:"stateMachineArn"`
	StatusFilter    string `json:"statusFilter"`
	MaxResults      int    `json:"maxResults"`
	NextToken       string `json:"nextToken"`
}

type executionListItem struct {
	ExecutionARN    string   `json:"executionArn"`
	StateMachineARN string   `json:"stateMachineArn"`
	Name            string   `json:"name"`
	Status          string   `json:"status"`
	StartDate       float64  `json:"startDate"`
	StopDate        *float64 `json:"stopDate,omitempty"`
	RedriveCount    int      `json:"redriveCount"`
	RedriveDate     *float64 `json:"redriveDate,omitempty"`
}

type listExecutionsResponse struct {
	Executions []executionListItem `json:"executions"`
	NextToken  string              `json:"nextToken,omitempty"`
}

// ListExecutions without stateMachineArn lists every execution (a steward
// extension; Step Functions requires the ARN).
func (h *Handler) listExecutions(ctx context.Context, body []byte) (any, error) {
	var in listExecutionsRequest
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.StateMachineARN != "" {
		if err := checkARN("stateMachineArn", in.StateMachineARN, "stateMachine"); err != nil {
			return nil, err
		}
	}
	switch in.StatusFilter {
	case "", engine.StatusRunning, engine.StatusSucceeded, engine.StatusFailed, engine.StatusTimedOut, engine.StatusAborted:
	case "PENDING_REDRIVE":
		return listExecutionsResponse{Executions: []executionListItem{}}, nil
	default:
		return nil, validation("statusFilter", "Member must satisfy enum value set: [RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED, PENDING_REDRIVE]")
	}
	if err := checkMaxResults(in.MaxResults); err != nil {
		return nil, err
	}
	if err := maxLen("nextToken", in.NextToken, maxNextTokenLength); err != nil {
		return nil, err
	}
	xs, next, err := h.cfg.Engine.ListExecutions(ctx, store.ListExecutionsParams{StateMachineARN: in.StateMachineARN, Status: in.StatusFilter,
		ListParams: store.ListParams{Limit: in.MaxResults, NextToken: in.NextToken}})
	if err != nil {
		return nil, listError(err, in.NextToken)
	}
	out := listExecutionsResponse{Executions: make([]executionListItem, len(xs)), NextToken: next}
	for i, x := range xs {
		out.Executions[i] = executionListItem{ExecutionARN: x.ARN, StateMachineARN: x.StateMachineARN, Name: x.Name, Status: x.Status,
			StartDate: epoch(x.StartDate), StopDate: epochPtr(x.StopDate), RedriveCount: x.RedriveCount, RedriveDate: epochPtr(x.RedriveDate)}
	}
	return out, nil
}

type getExecutionHistoryRequest struct {
	ExecutionARN         string `json:"executionArn"`
	MaxResults           int    `json:"maxResults"`
	NextToken            string `json:"nextToken"`
	ReverseOrder         bool   `json:"reverseOrder"`
	IncludeExecutionData *bool  `json:"includeExecutionData"`
}

type getExecutionHistoryResponse struct {
	Events    []map[string]any `json:"events"`
	NextToken string           `json:"nextToken,omitempty"`
}

func (h *Handler) getExecutionHistory(ctx context.Context, body []byte) (any, error) {
	var in getExecutionHistoryRequest
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := checkARN("executionArn", in.ExecutionARN, "execution"); err != nil {
		return nil, err
	}
	if err := checkMaxResults(in.MaxResults); err != nil {
		return nil, err
	}
	if err := maxLen("nextToken", in.NextToken, maxNextTokenLength); err != nil {
		return nil, err
	}
	evs, next, err := h.cfg.Engine.GetExecutionHistory(ctx, engine.GetExecutionHistoryInput{ExecutionARN: in.ExecutionARN, MaxResults: in.MaxResults,
		NextToken: in.NextToken, ReverseOrder: in.ReverseOrder})
	if err != nil {
		if errors.Is(err, engine.ErrValidation) && in.NextToken != "" {
			return nil, &Error{Status: 400, Code: "InvalidToken", Message: "Invalid Token: " + err.Error(), Err: err}
		}
		return nil, err
	}
	withData := in.IncludeExecutionData == nil || *in.IncludeExecutionData
	out := getExecutionHistoryResponse{Events: make([]map[string]any, len(evs)), NextToken: next}
	for i, ev := range evs {
		m := ev.MarshalMap()
		if !withData && ev.DetailsKey != "" && ev.Details != nil {
			d := make(map[string]any, len(ev.Details))
			for k, v := range ev.Details {
				if k != "input" && k != "output" {
					d[k] = v
				}
			}
			m[ev.DetailsKey] = d
		}
		out.Events[i] = m
	}
	return out, nil
}

type stopExecutionRequest struct {
	ExecutionARN string `json:"executionArn"`
	Error        string `json:"error"`
	Cause        string `json:"cause"`
}

type stopExecutionResponse struct {
	StopDate float64 `json:"stopDate"`
}

func (h *Handler) stopExecution(ctx context.Context, body []byte) (any, error) {
	var in stopExecutionRequest
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := checkARN("executionArn", in.ExecutionARN, "execution"); err != nil {
		return nil, err
	}
	if err := maxLen("error", in.Error, maxErrorLength); err != nil {
		return nil, err
	}
	if err := maxLen("cause", in.Cause, maxCauseLength); err != nil {
		return nil, err
	}
	when, err := h.cfg.Engine.StopExecution(ctx, in.ExecutionARN, in.Error, in.Cause)
	if err != nil {
		return nil, err
	}
	return stopExecutionResponse{StopDate: epoch(when)}, nil
}

type redriveExecutionResponse struct {
	RedriveDate float64 `json:"redriveDate"`
}

func (h *Handler) redriveExecution(ctx context.Context, body []byte) (any, error) {
	var in arnRequest
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := checkARN("executionArn", in.ExecutionARN, "execution"); err != nil {
		return nil, err
	}
	when, err := h.cfg.Engine.RedriveExecution(ctx, in.ExecutionARN)
	if err != nil {
		return nil, err
	}
	return redriveExecutionResponse{RedriveDate: epoch(when)}, nil
}

// --- task tokens ---

type sendTaskRequest struct {
	TaskToken string `json:"taskToken"`
	Output    string `json:"output"`
	Error     string `json:"error"`
	Cause     string `json:"cause"`
}

func checkToken(token string) error {
	if err := required("taskToken", token); err != nil {
		return err
	}
	return maxLen("taskToken", token, maxTokenLength)
}

func (h *Handler) sendTaskSuccess(ctx context.Context, body []byte) (any, error) {
	var in sendTaskRequest
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := checkToken(in.TaskToken); err != nil {
		return nil, err
	}
	if err := required("output", in.Output); err != nil {
		return nil, err
	}
	if err := maxLen("output", in.Output, h.cfg.MaxPayloadBytes); err != nil {
		return nil, err
	}
	if err := h.cfg.Engine.SendTaskSuccess(ctx, in.TaskToken, in.Output); err != nil {
		return nil, tokenError(err)
	}
	return struct{}{}, nil
}

func (h *Handler) sendTaskFailure(ctx context.Context, body []byte) (any, error) {
	var in sendTaskRequest
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := checkToken(in.TaskToken); err != nil {
		return nil, err
	}
	if err := maxLen("error", in.Error, maxErrorLength); err != nil {
		return nil, err
	}
	if err := maxLen("cause", in.Cause, maxCauseLength); err != nil {
		return nil, err
	}
	if err := h.cfg.Engine.SendTaskFailure(ctx, in.TaskToken, in.Error, in.Cause); err != nil {
		return nil, tokenError(err)
	}
	return struct{}{}, nil
}

func (h *Handler) sendTaskHeartbeat(ctx context.Context, body []byte) (any, error) {
	var in sendTaskRequest
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := checkToken(in.TaskToken); err != nil {
		return nil, err
	}
	if err := h.cfg.Engine.SendTaskHeartbeat(ctx, in.TaskToken); err != nil {
		return nil, tokenError(err)
	}
	return struct{}{}, nil
}

// tokenError words token errors as Step Functions does.
func tokenError(err error) error {
	switch {
	case errors.Is(err, engine.ErrInvalidToken):
		return &Error{Status: 400, Code: "InvalidToken", Message: "Invalid Token: 'Invalid token'", Err: err}
	case errors.Is(err, engine.ErrTaskTimedOut):
		return &Error{Status: 400, Code: "TaskTimedOut", Message: "Task Timed Out: 'Provided task does not exist anymore'", Err: err}
	case errors.Is(err, engine.ErrInvalidOutput):
		return &Error{Status: 400, Code: "InvalidOutput", Message: "Invalid Output: " + err.Error(), Err: err}
	}
	return err
}
