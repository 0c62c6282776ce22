package cli

import (
	"context"
	"sync"

	"github.com/stewardhq/steward/internal/api/changesapi"
	"github.com/stewardhq/steward/internal/builtin"
	"github.com/stewardhq/steward/internal/change"
)

// The change gate's part of steward serve: at setup it wraps the aws-sdk
// tasks with the gate (stages from the catalogue, blast radii from the
// playbooks, records in the store) and registers steward:plan and
// steward:record; at start it serves the changes API (change records,
// rollback, paused playbooks).
func init() {
	addServePart(servePart{name: "changes", order: 20, setup: setupChanges, start: startChanges})
}

var (
	changeGatesMu sync.Mutex
	changeGates   = map[*serveEnv]*change.Gate{}
)

// changeGateFor returns the change gate of a serve environment, built once
// (and registered over env.Tasks by the changes part's setup).
func changeGateFor(env *serveEnv) (*change.Gate, error) {
	changeGatesMu.Lock()
	defer changeGatesMu.Unlock()
	if g, ok := changeGates[env]; ok {
		return g, nil
	}
	cat, err := catalogFor(env)
	if err != nil {
		return nil, err
	}
	cfg := change.Config{
		Store:   env.Store,
		Stages:  cat,
		Limits:  cat.LimitsFunc(change.DefaultPerRun, change.DefaultPerHour),
		ClassOf: env.classOf,
		// A pause is an alert to the people behind steward: through the
		// built-ins' notifiers to the fallback recipients (and the log).
		Alert: func(ctx context.Context, playbook, reason string) {
			env.Logf("changes: playbook %s paused: %s (resume it with: steward playbooks resume %s)", playbook, reason, playbook)
			if v, ok := builtinParts.Load(env); ok {
				title := "steward paused playbook " + playbook
				detail := reason + ". Check what it did (steward changes ls --playbook " + playbook + "), then resume it with: steward playbooks resume " + playbook
				if err := v.(*builtin.Tasks).Alert(ctx, playbook, title, detail); err != nil {
					env.Logf("changes: alert about %s: %v", playbook, err)
				}
			}
		},
		Clock: env.Clock,
		// AWS is eventually consistent: an after read that still shows the
		// resource as before is made again, 1s then 2s later (a call that
		// changes nothing costs those 3s).
		SettleReads: 2,
	}
	if env.Cloud != nil {
		cfg.Cloud = env.Cloud
	}
	g, err := change.New(cfg)
	if err != nil {
		return nil, err
	}
	changeGates[env] = g
	return g, nil
}

func setupChanges(_ context.Context, env *serveEnv) error {
	g, err := changeGateFor(env)
	if err != nil {
		return err
	}
	return g.Register(env.Tasks)
}

func startChanges(_ context.Context, env *serveEnv) error {
	g, err := changeGateFor(env)
	if err != nil {
		return err
	}
	(&changesapi.Handler{Store: env.Store, Rollback: g}).Routes(env.API)
	return nil
}
