package schedule

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/clock"
	"github.com/stewardhq/steward/internal/store"
	"github.com/stewardhq/steward/internal/store/storesqlite"
)

var t0 = time.Date(2026, 11, 22, 5, 0, 0, 0, time.UTC) // a Sunday

func TestParseCron(t *testing.T) {
	tests := []struct {
		expr string
		from time.Time
		want time.Time // zero: a parse error
	}{
		{"0 6 * * *", t0, time.Date(2026, 11, 22, 6, 0, 0, 0, time.UTC)},
		{"0 6 * * *", t0.Add(time.Hour), time.Date(2026, 11, 23, 6, 0, 0, 0, time.UTC)},
		{"  0   6 * *  * ", t0, time.Date(2026, 11, 22, 6, 0, 0, 0, time.UTC)},
		{"*/15 * * * *", t0.Add(time.Minute), t0.Add(15 * time.Minute)},
		{"0 6 * * 1-5", t0, time.Date(2026, 11, 23, 6, 0, 0, 0, time.UTC)},
		{"0 6 * * MON", t0, time.Date(2026, 11, 23, 6, 0, 0, 0, time.UTC)},
		{"30 2 1 * *", t0, time.Date(2026, 12, 1, 2, 30, 0, 0, time.UTC)},
		{"0 0 29 2 *", t0, time.Date(2028, 2, 29, 0, 0, 0, 0, time.UTC)},
		{"@daily", t0, time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)},
		{"@hourly", t0.Add(30 * time.Second), t0.Add(time.Hour)},
		{"* * * * *", t0.Add(30 * time.Second), t0.Add(time.Minute)},
		{"", t0, time.Time{}},
		{"0 6 * *", t0, time.Time{}},
		{"0 0 6 * * *", t0, time.Time{}}, // 6 fields (seconds): not cron's 5
		{"61 * * * *", t0, time.Time{}},
		{"0 25 * * *", t0, time.Time{}},
		{"0 0 31 2 *", t0, time.Time{}}, // never fires
		{"a b c d e", t0, time.Time{}},
		{"@everysecond", t0, time.Time{}},
		{"0 6 * * * ; rm", t0, time.Time{}},
	}
	for _, tc := range tests {
		c, err := ParseCron("ebs-unused", tc.expr)
		if tc.want.IsZero() {
			var ce *CronError
			if !errors.As(err, &ce) || !errors.Is(err, ErrBadCron) {
				t.Errorf("%q: err %v, want a *CronError", tc.expr, err)
				continue
			}
			if ce.Schedule != "ebs-unused" || !strings.Contains(err.Error(), `"ebs-unused"`) || !strings.Contains(err.Error(), "5 fields") {
				t.Errorf("%q: error %q does not name the schedule and the form", tc.expr, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.expr, err)
			continue
		}
		got, err := c.Next(tc.from)
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("%q after %v: %v %v, want %v", tc.expr, tc.from, got, err, tc.want)
		}
	}
}

func openDB(t *testing.T, path string) *storesqlite.DB {
	t.Helper()
	db, err := storesqlite.Open(path, storesqlite.Options{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// fires counts Fire calls per schedule and due time.
type fires struct {
	mu sync.Mutex
	n  map[string]int
}

func (f *fires) fire(_ context.Context, s store.Schedule) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n == nil {
		f.n = map[string]int{}
	}
	f.n[s.Name+"@"+s.LastRun.Format(time.RFC3339)]++
	return nil
}

func (f *fires) count() (runs, total int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, n := range f.n {
		runs++
		total += n
	}
	return runs, total
}

func TestSyncRejectsBadCron(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "s.db"))
	defer db.Close()
	err := Sync(context.Background(), db, []Def{
		{Name: "good", Cron: "0 6 * * *", Playbook: "a", Enabled: true},
		{Name: "playbook/ebs-unused", Cron: "0 6 * *", Playbook: "ebs-unused", Enabled: true},
	}, t0)
	if !errors.Is(err, ErrBadCron) || !strings.Contains(err.Error(), `"playbook/ebs-unused"`) {
		t.Fatalf("err %v, want ErrBadCron naming the schedule", err)
	}
	if l, _ := db.ListSchedules(context.Background()); len(l) != 0 {
		t.Errorf("%d schedules written despite the error, want none", len(l))
	}
}

// A run fires once across a restart: the first process fires the 06:00
// run; the second, started on the same file at 06:00:30, does not.
func TestFireOnceAcrossRestart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.db")
	var f fires
	defs := []Def{{Name: "daily", Cron: "0 6 * * *", Playbook: "ebs-unused", Enabled: true}}

	fc := clock.NewFake(t0)
	db := openDB(t, path)
	if err := Sync(ctx, db, defs, fc.Now()); err != nil {
		t.Fatal(err)
	}
	l := &Loop{Store: db, Clock: fc, Fire: f.fire}
	fc.Set(time.Date(2026, 11, 22, 6, 0, 0, 0, time.UTC))
	next, err := l.Tick(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 11, 23, 6, 0, 0, 0, time.UTC); !next.Equal(want) {
		t.Fatalf("next %v, want %v", next, want)
	}
	db.Close()

	fc.Advance(30 * time.Second)
	db = openDB(t, path)
	defer db.Close()
	if err := Sync(ctx, db, defs, fc.Now()); err != nil {
		t.Fatal(err)
	}
	l = &Loop{Store: db, Clock: fc, Fire: f.fire}
	if _, err := l.Tick(ctx, true); err != nil {
		t.Fatal(err)
	}
	if runs, total := f.count(); runs != 1 || total != 1 {
		t.Fatalf("%d runs fired %d times, want 1 once", runs, total)
	}
	fc.Set(time.Date(2026, 11, 23, 6, 0, 0, 0, time.UTC))
	if _, err := l.Tick(ctx, true); err != nil {
		t.Fatal(err)
	}
	if runs, total := f.count(); runs != 2 || total != 2 {
		t.Fatalf("next day: %d runs fired %d times, want 2 once each", runs, total)
	}
}

// Steward was down for three days: the missed runs fire once on start,
// and the next run is the first after now.
func TestMissedRunsFireOnce(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, filepath.Join(t.TempDir(), "s.db"))
	defer db.Close()
	var f fires
	fc := clock.NewFake(t0)
	if err := Sync(ctx, db, []Def{{Name: "daily", Cron: "0 6 * * *", Playbook: "p", Enabled: true}}, fc.Now()); err != nil {
		t.Fatal(err)
	}
	fc.Set(time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC))
	l := &Loop{Store: db, Clock: fc, Fire: f.fire}
	for range 3 {
		if _, err := l.Tick(ctx, true); err != nil {
			t.Fatal(err)
		}
	}
	if runs, total := f.count(); runs != 1 || total != 1 {
		t.Fatalf("%d runs fired %d times, want 1 once", runs, total)
	}
	s, err := db.GetSchedule(ctx, "daily")
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 11, 26, 6, 0, 0, 0, time.UTC); !s.NextRun.Equal(want) {
		t.Errorf("next run %v, want %v", s.NextRun, want)
	}
	if want := time.Date(2026, 11, 22, 6, 0, 0, 0, time.UTC); !s.LastRun.Equal(want) {
		t.Errorf("last run %v, want %v (the missed run's due time)", s.LastRun, want)
	}
}

// Two loops (two replicas) on one store, running on the fake clock over
// a day of a schedule every 15 minutes: each of the 96 runs fires once.
func TestTwoLoopsOneStore(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db := openDB(t, filepath.Join(t.TempDir(), "s.db"))
	defer db.Close()
	fc := clock.NewFake(t0)
	if err := Sync(ctx, db, []Def{
		{Name: "quarter", Cron: "*/15 * * * *", Playbook: "p", Enabled: true},
		{Name: "off", Cron: "* * * * *", Playbook: "p", Enabled: false},
	}, fc.Now()); err != nil {
		t.Fatal(err)
	}
	var f fires
	var wg sync.WaitGroup
	for range 2 {
		l := &Loop{Store: db, Clock: fc, Fire: f.fire, MaxWait: time.Hour, Logf: t.Logf}
		wg.Add(1)
		go func() { defer wg.Done(); l.Run(ctx) }()
	}
	waitTimers := func(n int) {
		// Take the channel before looking, so a timer armed in between is
		// not missed; look again now and then all the same.
		deadline := time.Now().Add(10 * time.Second)
		for {
			changed := fc.Changed()
			if fc.Pending() >= n {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("loops did not arm their timers (%d pending)", fc.Pending())
			}
			select {
			case <-changed:
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
	for i := 1; i <= 96; i++ {
		waitTimers(2)
		fc.Set(t0.Add(time.Duration(i) * 15 * time.Minute))
	}
	waitTimers(2)
	cancel()
	wg.Wait()
	runs, total := f.count()
	if runs != 96 || total != 96 {
		t.Fatalf("%d runs fired %d times, want 96 once each", runs, total)
	}
	t.Logf("two loops on one store: %d runs, each fired once", runs)
}

// Tick reports a stored schedule whose cron does not parse, and goes on
// with the others.
func TestTickBadStoredCron(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, filepath.Join(t.TempDir(), "s.db"))
	defer db.Close()
	for _, s := range []store.Schedule{
		{Name: "bad", Cron: "99 * * * *", Playbook: "p", Enabled: true, NextRun: t0},
		{Name: "good", Cron: "0 * * * *", Playbook: "p", Enabled: true, NextRun: t0},
	} {
		if _, err := db.PutSchedule(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	var f fires
	l := &Loop{Store: db, Clock: clock.NewFake(t0), Fire: f.fire}
	_, err := l.Tick(ctx, true)
	if !errors.Is(err, ErrBadCron) || !strings.Contains(err.Error(), `"bad"`) {
		t.Fatalf("err %v, want ErrBadCron naming \"bad\"", err)
	}
	if runs, _ := f.count(); runs != 1 {
		t.Fatalf("%d runs, want the good one", runs)
	}
	var fired atomic.Bool
	l.Fire = func(context.Context, store.Schedule) error { fired.Store(true); return errors.New("boom") }
	if _, err := l.Tick(ctx, false); err == nil {
		t.Fatal("want the bad cron reported again")
	}
	l.Wait()
}

// Sync disables the catalogue's schedules that are gone from it, and
// leaves the API's alone.
func TestSyncDisablesStalePlaybookSchedules(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, filepath.Join(t.TempDir(), "s.db"))
	defer db.Close()
	if _, err := db.PutSchedule(ctx, store.Schedule{Name: "nightly", Cron: "0 1 * * *", Playbook: "p", Enabled: true, NextRun: t0}); err != nil {
		t.Fatal(err)
	}
	if err := Sync(ctx, db, []Def{
		{Name: PlaybookPrefix + "a", Cron: "0 6 * * *", Playbook: "a", Enabled: true},
		{Name: PlaybookPrefix + "b", Cron: "0 7 * * *", Playbook: "b", Enabled: true},
	}, t0); err != nil {
		t.Fatal(err)
	}
	if err := Sync(ctx, db, []Def{{Name: PlaybookPrefix + "a", Cron: "0 6 * * *", Playbook: "a", Enabled: true}}, t0); err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"nightly": true, PlaybookPrefix + "a": true, PlaybookPrefix + "b": false}
	l, err := db.ListSchedules(ctx)
	if err != nil || len(l) != 3 {
		t.Fatalf("%d schedules, %v", len(l), err)
	}
	for _, s := range l {
		if s.Enabled != want[s.Name] {
			t.Errorf("%s enabled %v, want %v", s.Name, s.Enabled, want[s.Name])
		}
	}
	if err := Sync(ctx, db, []Def{{Name: "x", Cron: "0 6 * * *", Playbook: "a"}, {Name: "x", Cron: "0 6 * * *", Playbook: "a"}}, t0); err == nil {
		t.Error("a schedule defined twice is not an error")
	}
}
