package change

import (
	"context"
	"errors"
	"fmt"

	"github.com/stewardhq/steward/internal/asl"
	"github.com/stewardhq/steward/internal/stage"
	"github.com/stewardhq/steward/internal/store"
	"github.com/stewardhq/steward/internal/task"
)

// Plan is something steward would do but, in this stage, does not: a
// notice steward:notify would send in observe, or a change a playbook
// describes with steward:plan.
type Plan struct {
	// Kind is store.KindNotice or store.KindRecord (default).
	Kind store.ChangeKind
	// Service, Action and Resource say what would be done, to what.
	Service, Action, Resource string
	// Parameters are the details (any JSON value).
	Parameters any
	// Reason says why.
	Reason string
}

// Plans records planned changes; the gate is one. internal/builtin's
// steward:notify records its planned notices through it.
type Plans interface {
	// RecordPlan records a plan made by a task call, once per
	// call.IdempotencyKey (a re-delivery returns the same id).
	RecordPlan(ctx context.Context, call *task.Call, p Plan) (id string, err error)
}

var _ Plans = (*Gate)(nil)

// RecordPlan implements Plans.
func (g *Gate) RecordPlan(ctx context.Context, call *task.Call, p Plan) (string, error) {
	if p.Kind == "" {
		p.Kind = store.KindRecord
	}
	t := targetOf(ctx, call)
	rec := store.Change{
		ID:             changeID(call),
		ExecutionARN:   call.ExecutionID,
		Run:            runOf(call),
		Playbook:       stage.PlaybookOf(call.ExecutionID),
		StateName:      call.StateName,
		Account:        t.Account,
		Region:         t.Region,
		Resource:       p.Resource,
		Service:        p.Service,
		Action:         p.Action,
		Parameters:     encode(redact(normalize(p.Parameters))),
		Kind:           p.Kind,
		Status:         store.StatusPlanned,
		Stage:          string(g.StageOf(ctx, call)),
		CreatedAt:      g.now(),
		IdempotencyKey: call.IdempotencyKey,
	}
	if rec.ID == "" {
		rec.ID = "ch-" + shortHash("plan", call.ExecutionID, call.StateName, string(rec.Parameters), g.now().String())
	}
	res := obj{"Planned": true, "ChangeId": rec.ID}
	if p.Reason != "" {
		res["Reason"] = p.Reason
	}
	rec.Result = encode(res)
	old, err := g.cfg.Store.CreateChange(ctx, rec)
	if errors.Is(err, store.ErrAlreadyExists) && old != nil {
		return old.ID, nil
	}
	if err != nil {
		return "", fmt.Errorf("record plan: %w", err)
	}
	return rec.ID, nil
}

// invokePlan serves steward:plan {"Service","Action","Parameters","Resource","Reason"}.
func (g *Gate) invokePlan(ctx context.Context, call *task.Call) (any, error) {
	in, ok := normalize(call.Input).(map[string]any)
	if !ok {
		return nil, asl.NewError(asl.ErrTaskFailed, "steward:plan wants an object {Service, Action, Parameters, Resource, Reason}")
	}
	if str(in, "Action") == "" {
		return nil, asl.NewError(asl.ErrTaskFailed, "steward:plan: Action is required")
	}
	id, err := g.RecordPlan(ctx, call, Plan{Kind: store.KindRecord, Service: str(in, "Service"), Action: str(in, "Action"),
		Resource: str(in, "Resource"), Parameters: in["Parameters"], Reason: str(in, "Reason")})
	if err != nil {
		return nil, err
	}
	return obj{"Planned": true, "ChangeId": id}, nil
}

// invokeRecord serves steward:record: a change made outside the aws-sdk
// tasks, {"Service","Action","Parameters","Resource","Before","After",
// "Undo": [{"Service","Action","Parameters"}], "Irreversible"}. Without
// an Undo the change is recorded as irreversible.
func (g *Gate) invokeRecord(ctx context.Context, call *task.Call) (any, error) {
	in, ok := normalize(call.Input).(map[string]any)
	if !ok || str(in, "Action") == "" {
		return nil, asl.NewError(asl.ErrTaskFailed, "steward:record wants an object with at least Action (and Service, Resource, Parameters, Before, After, Undo)")
	}
	t := targetOf(ctx, call)
	rec := store.Change{
		ID:             changeID(call),
		ExecutionARN:   call.ExecutionID,
		Run:            runOf(call),
		Playbook:       stage.PlaybookOf(call.ExecutionID),
		StateName:      call.StateName,
		Account:        t.Account,
		Region:         t.Region,
		Resource:       str(in, "Resource"),
		Service:        str(in, "Service"),
		Action:         str(in, "Action"),
		Parameters:     encode(redact(in["Parameters"])),
		Kind:           store.KindRecord,
		Status:         store.StatusApplied,
		Stage:          string(g.StageOf(ctx, call)),
		Before:         encode(redact(in["Before"])),
		After:          encode(redact(in["After"])),
		Irreversible:   str(in, "Irreversible"),
		CreatedAt:      g.now(),
		IdempotencyKey: call.IdempotencyKey,
	}
	if rec.ID == "" {
		rec.ID = "ch-" + shortHash("record", call.ExecutionID, call.StateName, string(rec.Parameters), g.now().String())
	}
	var u Undo
	for i, c := range asList(in["Undo"]) {
		if str(c, "Service") == "" || str(c, "Action") == "" {
			return nil, asl.NewError(asl.ErrTaskFailed, "steward:record: Undo[%d] needs Service and Action", i)
		}
		u.Calls = append(u.Calls, UndoCall{Service: str(c, "Service"), Action: pascal(str(c, "Action")), Parameters: asObj(get(c, "Parameters"))})
	}
	switch {
	case rec.Irreversible != "":
	case len(u.Calls) == 0:
		rec.Irreversible = fmt.Sprintf("recorded by steward:record without an undo (%s:%s)", rec.Service, rec.Action)
	default:
		u.Credentials = call.Credentials
		rec.Undo = encode(normalize(u))
	}
	res := obj{"ChangeId": rec.ID}
	rec.Result = encode(res)
	old, err := g.cfg.Store.CreateChange(ctx, rec)
	if errors.Is(err, store.ErrAlreadyExists) && old != nil {
		return obj{"ChangeId": old.ID}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("steward:record: %w", err)
	}
	return res, nil
}
