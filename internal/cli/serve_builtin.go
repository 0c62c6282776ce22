package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"
	"time"

	"github.com/stewardhq/steward/internal/api/exceptionsapi"
	"github.com/stewardhq/steward/internal/builtin"
	"github.com/stewardhq/steward/internal/cloud"
	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/engine"
	"github.com/stewardhq/steward/internal/notify"
	"github.com/stewardhq/steward/internal/scan"
	"github.com/stewardhq/steward/internal/store"
	"github.com/stewardhq/steward/internal/task"
)

// The built-ins' part of steward serve: the steward:* tasks (tag, untag,
// last-seen, exception, owner, notify) over the store and the cloud,
// /api/v1/exceptions, and a loop that looks again at resources whose
// exception ended.
func init() {
	addServePart(servePart{name: "builtin", order: 10, setup: setupBuiltin, start: startBuiltin})
}

// builtinParts keeps what setup made for start, per serve.
var builtinParts sync.Map // *serveEnv -> *builtin.Tasks

// recheckEvery is how often the exception loop looks for ended exceptions.
const recheckEvery = time.Minute

func setupBuiltin(ctx context.Context, env *serveEnv) error {
	cfg := env.Config
	if cfg == nil {
		cfg = config.Default()
	}
	cat, err := catalogFor(env)
	if err != nil {
		return err
	}
	d := builtin.Deps{Cloud: env.Cloud, TagPrefix: cfg.TagPrefix, Exceptions: env.Store, Stages: cat, ClassOf: env.classOf,
		Clock: env.Clock, Logf: env.Logf}
	if err := builtinNotifier(ctx, env, &d); err != nil {
		return fmt.Errorf("steward:notify: %w", err)
	}
	// Notices planned in observe go to the change records, as the change
	// gate's planned calls do.
	gate, err := changeGateFor(env)
	if err != nil {
		return err
	}
	d.Plans = gate.BuiltinPlans()
	builtinParts.Store(env, builtin.Register(env.Tasks, d))
	return nil
}

// builtinNotifier sets the notifier and router of steward:notify from
// steward.yaml's notify section; without channels notices go to the log.
func builtinNotifier(ctx context.Context, env *serveEnv, d *builtin.Deps) error {
	n, err := notifiersFor(ctx, env)
	if err != nil {
		return err
	}
	d.Extra = n.Extra
	if len(n.Mux) == 0 {
		return nil // the log notifier
	}
	// Recipients of a kind no channel serves (a fallback written for a
	// channel not configured) still reach the log.
	mux := notify.Mux{"log": &builtin.LogNotifier{Logf: env.Logf}}
	for k, v := range n.Mux {
		mux[k] = v
	}
	d.Notifier = mux
	d.Router = n.Router
	return nil
}

func startBuiltin(ctx context.Context, env *serveEnv) error {
	v, ok := builtinParts.Load(env)
	if !ok {
		return errors.New("setup did not run")
	}
	tk := v.(*builtin.Tasks)
	cfg := env.Config
	if cfg == nil {
		cfg = config.Default()
	}
	policy := builtin.ExceptionPolicy{ProductionClasses: cfg.Approvals.YearExceptionClasses}
	(&exceptionsapi.Handler{Granter: tk, Store: env.Store, Policy: policy, Now: env.Clock.Now}).Register(env.API)
	go func() {
		defer builtinParts.Delete(env)
		for {
			if _, err := tk.RecheckExpired(ctx, 100, func(ctx context.Context, e store.Exception) error { return recheckResource(ctx, env, e) }); err != nil && ctx.Err() == nil {
				env.Logf("exceptions: %v", err)
			}
			t := env.Clock.NewTimer(recheckEvery)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C():
			}
		}
	}()
	return nil
}

// recheckResource starts an ended exception's playbook again for its
// resource, with the input a scheduled scan gives it: the resource as the
// playbook's list call returns it. A resource the list call no longer
// returns (deleted, or no longer matching the scan's filters) needs no
// recheck; a playbook started by events sees the resource at its next
// event.
func recheckResource(ctx context.Context, env *serveEnv, e store.Exception) error {
	cat, err := catalogFor(env)
	if err != nil {
		return err
	}
	p, err := cat.Playbook(e.Playbook)
	if err != nil || !cat.Enabled(e.Playbook) {
		env.Logf("exception %s on %s ended; playbook %q is unknown or disabled, nothing to recheck", e.ID, e.Resource, e.Playbook)
		return nil
	}
	if p.Scan == nil {
		env.Logf("exception %s on %s ended; playbook %s runs on events and will see the resource at its next event", e.ID, e.Resource, e.Playbook)
		return nil
	}
	spec, err := specOfPlaybook(p)
	if err != nil {
		return err
	}
	w, err := builtin.Locate(e.Resource, map[string]any{"account": e.Account, "region": e.Region})
	if err != nil {
		return err
	}
	if env.Cloud == nil || env.Engine == nil {
		return errors.New("no cloud or engine")
	}
	target := cloud.Target{Account: w.Account, Region: w.Region}
	item, err := findScanItem(cloud.WithTarget(ctx, target), env.Cloud, spec, w)
	if err != nil {
		return err
	}
	if item == nil {
		env.Logf("exception %s on %s ended; playbook %s's scan no longer lists it, nothing to recheck", e.ID, e.Resource, e.Playbook)
		return nil
	}
	scanID := "recheck-" + e.ID
	in, _ := json.Marshal(scan.Input(scanID, target, item, false))
	_, err = env.Engine.StartExecution(ctx, engine.StartExecutionInput{StateMachineARN: env.Engine.StateMachineARN(p.Name),
		Name: scan.ExecutionName(scanID, w.Account, w.Region, w.Name), Input: string(in)})
	if err != nil {
		return fmt.Errorf("start %s for %s: %w", p.Name, e.Resource, err)
	}
	env.Logf("exception %s on %s ended; started playbook %s for it again", e.ID, e.Resource, p.Name)
	return nil
}

// findScanItem pages through a scan's list call in one target for the
// item naming the resource (by its id, name or ARN).
func findScanItem(ctx context.Context, c *cloud.Cloud, spec scan.Spec, w builtin.Where) (any, error) {
	inTok, outTok := spec.NextToken, spec.OutputToken
	if inTok == "" {
		inTok = "NextToken"
	}
	if outTok == "" {
		outTok = inTok
	}
	token := ""
	for page := 0; page < 100; page++ {
		params := maps.Clone(spec.Parameters)
		if params == nil {
			params = map[string]any{}
		}
		if token != "" {
			params[inTok] = token
		}
		out, err := c.Invoke(ctx, &task.Call{Resource: spec.Resource(), Input: params})
		if err != nil {
			return nil, fmt.Errorf("%s:%s in account %s region %s: %w", spec.Service, spec.Action, w.Account, w.Region, err)
		}
		m, _ := out.(map[string]any)
		for _, item := range scanItems(m, spec.Items) {
			if id := spec.ResourceID(item); id == w.Name || id == w.ARN {
				return item, nil
			}
		}
		token, _ = m[outTok].(string)
		if token == "" {
			return nil, nil
		}
	}
	return nil, nil
}

// scanItems returns the items at a dotted path of a page, flattening
// nested lists ("Reservations.Instances"), as scans read them.
func scanItems(v any, path string) []any {
	head, rest, nested := strings.Cut(path, ".")
	m, _ := v.(map[string]any)
	l, _ := m[head].([]any)
	if !nested {
		return l
	}
	var out []any
	for _, x := range l {
		out = append(out, scanItems(x, rest)...)
	}
	return out
}
