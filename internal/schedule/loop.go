package schedule

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/stewardhq/steward/internal/clock"
	"github.com/stewardhq/steward/internal/store"
)

// Def is a schedule as configuration gives it (a playbook's metadata,
// steward.yaml's overrides).
type Def struct {
	Name     string
	Cron     string
	Playbook string
	Enabled  bool
}

// PlaybookPrefix begins the names of the schedules the catalogue defines
// ("playbook/ebs-unused"); Sync manages those, the API the others.
const PlaybookPrefix = "playbook/"

// Sync puts defs in the store: new schedules get their first run after
// now; known ones keep their next run unless their cron changed. Stored
// schedules named with PlaybookPrefix that are not in defs are disabled
// (kept, so their history stays); others (made through the API) are left.
// A def whose cron does not parse is an error naming it; nothing is
// written then.
func Sync(ctx context.Context, st store.ScheduleStore, defs []Def, now time.Time) error {
	type parsed struct {
		def  Def
		next time.Time
	}
	var ps []parsed
	var errs []error
	seen := map[string]bool{}
	for _, d := range defs {
		if d.Name == "" {
			errs = append(errs, fmt.Errorf("schedule of playbook %q: empty name", d.Playbook))
			continue
		}
		if seen[d.Name] {
			errs = append(errs, fmt.Errorf("schedule %q: defined twice", d.Name))
			continue
		}
		seen[d.Name] = true
		c, err := ParseCron(d.Name, d.Cron)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		next, err := c.Next(now)
		if err != nil {
			errs = append(errs, fmt.Errorf("schedule %q: %w", d.Name, err))
			continue
		}
		d.Cron = c.String()
		ps = append(ps, parsed{d, next})
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for _, p := range ps {
		if _, err := st.PutSchedule(ctx, store.Schedule{Name: p.def.Name, Cron: p.def.Cron, Playbook: p.def.Playbook,
			Enabled: p.def.Enabled, NextRun: p.next}); err != nil {
			return err
		}
	}
	all, err := st.ListSchedules(ctx)
	if err != nil {
		return err
	}
	for _, s := range all {
		if !seen[s.Name] && s.Enabled && strings.HasPrefix(s.Name, PlaybookPrefix) {
			s.Enabled = false
			if _, err := st.PutSchedule(ctx, *s); err != nil {
				return err
			}
		}
	}
	return nil
}

// Loop fires the store's schedules when they fall due. Several loops (in
// several replicas) may share one store: each run fires in exactly one,
// the one whose AdvanceSchedule won.
type Loop struct {
	// Store keeps the schedules.
	Store store.ScheduleStore
	// Clock tells the time and waits; default the real clock.
	Clock clock.Clock
	// Fire runs one due schedule (starts its scan). It runs in its own
	// goroutine under Run; its error is logged. The run is not retried:
	// scans are idempotent by name, and the next run comes.
	Fire func(ctx context.Context, s store.Schedule) error
	// MaxWait bounds how long the loop sleeps before it reads the store
	// again (to see schedules other replicas or the API changed); default
	// one minute.
	MaxWait time.Duration
	// Logf logs problems; default: discard.
	Logf func(format string, args ...any)

	wg sync.WaitGroup
}

func (l *Loop) clock() clock.Clock {
	if l.Clock == nil {
		return clock.Real{}
	}
	return l.Clock
}

func (l *Loop) logf(format string, args ...any) {
	if l.Logf != nil {
		l.Logf(format, args...)
	}
}

// Tick fires, once each, the enabled schedules due at the clock's now, and
// returns when the next one falls due (zero when none is enabled). A
// schedule whose run was missed (steward was down over one or more runs)
// fires once, and its next run is the first after now. Fire runs in the
// calling goroutine when wait is true, else in its own (see Wait).
func (l *Loop) Tick(ctx context.Context, wait bool) (time.Time, error) {
	all, err := l.Store.ListSchedules(ctx)
	if err != nil {
		return time.Time{}, fmt.Errorf("schedules: %w", err)
	}
	now := l.clock().Now().UTC()
	var earliest time.Time
	var errs []error
	for _, s := range all {
		if !s.Enabled {
			continue
		}
		next := s.NextRun
		if !next.After(now) {
			c, err := ParseCron(s.Name, s.Cron)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			to, err := c.Next(now)
			if err != nil {
				errs = append(errs, fmt.Errorf("schedule %q: %w", s.Name, err))
				continue
			}
			won, err := l.Store.AdvanceSchedule(ctx, s.Name, s.NextRun, to)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if won {
				run := *s
				run.LastRun, run.NextRun = s.NextRun, to
				l.fire(ctx, run, wait)
			}
			next = to
		}
		if earliest.IsZero() || next.Before(earliest) {
			earliest = next
		}
	}
	return earliest, errors.Join(errs...)
}

func (l *Loop) fire(ctx context.Context, s store.Schedule, wait bool) {
	if l.Fire == nil {
		return
	}
	do := func() {
		defer func() {
			if r := recover(); r != nil {
				l.logf("schedule %q: fire panicked: %v", s.Name, r)
			}
		}()
		if err := l.Fire(ctx, s); err != nil {
			l.logf("schedule %q (run due %s): %v", s.Name, s.LastRun.Format(time.RFC3339), err)
		}
	}
	if wait {
		do()
		return
	}
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		do()
	}()
}

// Wait waits for the Fire calls Tick started in their own goroutines.
func (l *Loop) Wait() { l.wg.Wait() }

// Run ticks until ctx ends, sleeping on the clock until the next schedule
// falls due (or MaxWait), then waits for the runs it fired to return.
func (l *Loop) Run(ctx context.Context) error {
	defer l.Wait()
	maxWait := l.MaxWait
	if maxWait <= 0 {
		maxWait = time.Minute
	}
	for {
		next, err := l.Tick(ctx, false)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			l.logf("%v", err)
		}
		d := maxWait
		if !next.IsZero() {
			if until := next.Sub(l.clock().Now()); until < d {
				d = until
			}
		}
		if d < 0 {
			d = 0
		}
		t := l.clock().NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C():
		}
	}
}
