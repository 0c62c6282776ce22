package change

import (
	"context"
	"encoding/json"

	"github.com/stewardhq/steward/internal/builtin"
	"github.com/stewardhq/steward/internal/task"
)

// BuiltinPlans returns the gate as the built-ins' builtin.Plans, so a
// notice steward:notify only plans (observe stage) is a change record like
// a planned AWS call.
func (g *Gate) BuiltinPlans() builtin.Plans { return builtinPlans{g} }

type builtinPlans struct{ g *Gate }

func (p builtinPlans) RecordPlan(ctx context.Context, call *task.Call, pl builtin.Plan) (string, error) {
	var params any
	if len(pl.Parameters) > 0 {
		if err := json.Unmarshal(pl.Parameters, &params); err != nil {
			return "", err
		}
	}
	return p.g.RecordPlan(ctx, call, Plan{Kind: pl.Kind, Service: pl.Service, Action: pl.Action,
		Resource: pl.Resource, Parameters: params, Reason: pl.Reason})
}
