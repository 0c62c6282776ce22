package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/stewardhq/steward/internal/api/scansapi"
	"github.com/stewardhq/steward/internal/scan"
	"github.com/stewardhq/steward/internal/schedule"
	"github.com/stewardhq/steward/internal/store"
	"github.com/stewardhq/steward/playbooks"
)

// The schedules part of steward serve (issue #6): the scheduled
// playbooks' schedules kept in the store and fired once each, the scans
// they (and /api/v1/scans) run, and scans an earlier process left
// running, resumed.
func init() {
	addServePart(servePart{name: "schedules", order: 50, start: startSchedules})
}

// resumeScansWithin bounds how old a scan left running may be to resume.
const resumeScansWithin = 24 * time.Hour

// specOfPlaybook maps a playbook's scan (its metadata) to the scan
// package's spec.
func specOfPlaybook(p *playbooks.Playbook) (scan.Spec, error) {
	if p.Scan == nil {
		return scan.Spec{}, fmt.Errorf("%w: playbook %q has no scan (it is started by events)", scansapi.ErrUnknownPlaybook, p.Name)
	}
	s := p.Scan
	return scan.Spec{Service: s.Service, Action: s.Action, Parameters: s.Parameters, Items: s.Items,
		NextToken: s.NextToken, OutputToken: s.OutputToken, ID: s.ID, Global: s.Global}, nil
}

func startSchedules(ctx context.Context, env *serveEnv) error {
	cat, err := catalogFor(env)
	if err != nil {
		return err
	}
	specOf := func(name string) (scan.Spec, error) {
		p, err := cat.Playbook(name)
		if err != nil {
			if errors.Is(err, playbooks.ErrUnknownPlaybook) {
				return scan.Spec{}, fmt.Errorf("%w %q (steward has %v)", scansapi.ErrUnknownPlaybook, name, playbooks.Names())
			}
			return scan.Spec{}, err
		}
		if !cat.Enabled(name) {
			return scan.Spec{}, fmt.Errorf("%w: playbook %q is disabled in steward.yaml", scansapi.ErrUnknownPlaybook, name)
		}
		return specOfPlaybook(p)
	}
	inv := env.Cloud.Inventory()
	r := &scan.Runner{
		Lister:   env.Cloud,
		Targets:  inv.Targets,
		Engine:   env.Engine,
		Store:    env.Store,
		Clock:    env.Clock,
		Resolver: cat,
		ClassOf: func(account string) string {
			a, err := inv.Account(account)
			if err != nil {
				return ""
			}
			return a.Class
		},
		Waiting: func(ctx context.Context, x *store.Execution) bool {
			l, err := env.Store.ListApprovals(ctx, store.ApprovalFilter{ExecutionARN: x.ARN, Status: store.ApprovalPending, Limit: 1})
			return err == nil && len(l) > 0
		},
		Changes: env.Store,
		Logf:    env.Logf,
		// Scans stop with serve and stay RUNNING; the next start resumes them.
		Base: ctx,
	}
	(&scansapi.Handler{Runner: r, Store: env.Store, SpecFunc: specOf, Now: env.Clock.Now}).Register(env.API)

	var defs []schedule.Def
	for _, s := range cat.Schedules() {
		defs = append(defs, schedule.Def{Name: schedule.PlaybookPrefix + s.Playbook, Cron: s.Cron, Playbook: s.Playbook, Enabled: true})
	}
	if err := schedule.Sync(ctx, env.Store, defs, env.Clock.Now()); err != nil {
		return withHint(err, "fix the playbook's schedule in steward.yaml (playbooks: NAME: schedule: \"0 6 * * *\", or \"off\")")
	}

	// Scans a previous process left running start again under their id:
	// what they started already is not started twice.
	if running, err := env.Store.ListScans(ctx, "", 1000); err == nil {
		for _, sc := range running {
			if sc.Status != store.ScanRunning || env.Clock.Now().Sub(sc.Created) > resumeScansWithin {
				continue
			}
			spec, err := specOf(sc.Playbook)
			if err != nil {
				env.Logf("scan %s: not resumed: %v", sc.ID, err)
				continue
			}
			if _, err := r.Start(ctx, scan.Request{ID: sc.ID, Playbook: sc.Playbook, Spec: spec, Accounts: sc.Accounts,
				Regions: sc.Regions, DryRun: sc.DryRun, Trigger: sc.Trigger, Schedule: sc.Schedule}); err != nil {
				env.Logf("scan %s: not resumed: %v", sc.ID, err)
			}
		}
	}

	loop := &schedule.Loop{Store: env.Store, Clock: env.Clock, Logf: env.Logf,
		Fire: func(ctx context.Context, s store.Schedule) error {
			spec, err := specOf(s.Playbook)
			if err != nil {
				return err
			}
			sc, err := r.Run(ctx, scan.Request{ID: scan.ScheduledID(s.Name, s.LastRun), Playbook: s.Playbook, Spec: spec,
				Trigger: "schedule", Schedule: s.Name})
			if err != nil {
				return err
			}
			env.Logf("schedule %s: scan %s of %s: %d found, %d started", s.Name, sc.ID, s.Playbook, sc.Listed, sc.Started)
			return nil
		}}
	go func() {
		_ = loop.Run(ctx)
		r.Wait()
	}()
	return nil
}
