package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/store"
)

// RunSchedules is the conformance suite of store.ScheduleStore. open must
// return a fresh, empty store each call.
func RunSchedules(t *testing.T, open func(t *testing.T) store.ScheduleStore) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 22, 6, 0, 0, 0, time.UTC)

	t.Run("put, get, list, delete", func(t *testing.T) {
		s := open(t)
		if _, err := s.GetSchedule(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("get absent: %v, want ErrNotFound", err)
		}
		got, err := s.PutSchedule(ctx, store.Schedule{Name: "b", Cron: "0 6 * * *", Playbook: "ebs-unused", Enabled: true, NextRun: t0})
		if err != nil {
			t.Fatal(err)
		}
		if got.Cron != "0 6 * * *" || got.Playbook != "ebs-unused" || !got.Enabled || !got.NextRun.Equal(t0) || !got.LastRun.IsZero() {
			t.Fatalf("put returned %+v", got)
		}
		if got.NextRun.Location() != time.UTC {
			t.Errorf("next run in %v, want UTC", got.NextRun.Location())
		}
		if _, err := s.PutSchedule(ctx, store.Schedule{Name: "a", Cron: "@daily", Playbook: "p", NextRun: t0}); err != nil {
			t.Fatal(err)
		}
		l, err := s.ListSchedules(ctx)
		if err != nil || len(l) != 2 || l[0].Name != "a" || l[1].Name != "b" || l[0].Enabled {
			t.Fatalf("list: %v %v", l, err)
		}
		if err := s.DeleteSchedule(ctx, "a"); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteSchedule(ctx, "a"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("delete twice: %v, want ErrNotFound", err)
		}
	})

	t.Run("put keeps next run unless the cron changed", func(t *testing.T) {
		s := open(t)
		if _, err := s.PutSchedule(ctx, store.Schedule{Name: "x", Cron: "0 6 * * *", Playbook: "p", Enabled: true, NextRun: t0}); err != nil {
			t.Fatal(err)
		}
		if won, err := s.AdvanceSchedule(ctx, "x", t0, t0.Add(24*time.Hour)); err != nil || !won {
			t.Fatalf("advance: %v %v", won, err)
		}
		// A restart loads the same schedule with a next run computed anew.
		got, err := s.PutSchedule(ctx, store.Schedule{Name: "x", Cron: "0 6 * * *", Playbook: "p2", Enabled: false, NextRun: t0.Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if !got.NextRun.Equal(t0.Add(24*time.Hour)) || got.Playbook != "p2" || got.Enabled || !got.LastRun.Equal(t0) {
			t.Fatalf("same cron: %+v", got)
		}
		got, err = s.PutSchedule(ctx, store.Schedule{Name: "x", Cron: "0 7 * * *", Playbook: "p2", Enabled: true, NextRun: t0.Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if !got.NextRun.Equal(t0.Add(time.Hour)) {
			t.Fatalf("new cron: next run %v, want %v", got.NextRun, t0.Add(time.Hour))
		}
	})

	t.Run("advance is a compare-and-set", func(t *testing.T) {
		s := open(t)
		if _, err := s.AdvanceSchedule(ctx, "absent", t0, t0); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("advance absent: %v, want ErrNotFound", err)
		}
		if _, err := s.PutSchedule(ctx, store.Schedule{Name: "x", Cron: "* * * * *", Playbook: "p", Enabled: true, NextRun: t0}); err != nil {
			t.Fatal(err)
		}
		if won, err := s.AdvanceSchedule(ctx, "x", t0.Add(time.Minute), t0.Add(2*time.Minute)); err != nil || won {
			t.Fatalf("advance from a stale next run: won=%v err=%v", won, err)
		}
		var wins atomic.Int32
		var wg sync.WaitGroup
		for i := 0; i < 16; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				won, err := s.AdvanceSchedule(ctx, "x", t0, t0.Add(time.Minute))
				if err != nil {
					t.Error(err)
				}
				if won {
					wins.Add(1)
				}
			}()
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Fatalf("%d of 16 racing advances won, want 1", wins.Load())
		}
		got, err := s.GetSchedule(ctx, "x")
		if err != nil || !got.NextRun.Equal(t0.Add(time.Minute)) || !got.LastRun.Equal(t0) {
			t.Fatalf("after the race: %+v %v", got, err)
		}
	})

	t.Run("millisecond precision", func(t *testing.T) {
		s := open(t)
		at := t0.Add(1234567 * time.Microsecond)
		got, err := s.PutSchedule(ctx, store.Schedule{Name: "ms", Cron: "* * * * *", Playbook: "p", NextRun: at})
		if err != nil {
			t.Fatal(err)
		}
		if !got.NextRun.Equal(at.Truncate(time.Millisecond)) {
			t.Fatalf("next run %v, want %v", got.NextRun, at.Truncate(time.Millisecond))
		}
		if won, err := s.AdvanceSchedule(ctx, "ms", got.NextRun, got.NextRun.Add(time.Minute)); err != nil || !won {
			t.Fatalf("advance from the stored time: %v %v", won, err)
		}
	})

	t.Run("scans", func(t *testing.T) {
		s := open(t)
		sc := store.Scan{ID: "scan-1", Playbook: "ebs-unused", Accounts: []string{"111111111111", "222222222222"},
			Regions: []string{"us-east-1"}, DryRun: true, Trigger: "manual", Status: store.ScanRunning, Targets: 2, Created: t0}
		if err := s.CreateScan(ctx, sc); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateScan(ctx, sc); !errors.Is(err, store.ErrAlreadyExists) {
			t.Fatalf("create twice: %v, want ErrAlreadyExists", err)
		}
		sc.Listed, sc.Started, sc.TargetsDone, sc.Status, sc.Ended = 7, 6, 2, store.ScanSucceeded, t0.Add(time.Minute)
		if err := s.UpdateScan(ctx, sc); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetScan(ctx, "scan-1")
		if err != nil {
			t.Fatal(err)
		}
		if got.Playbook != "ebs-unused" || len(got.Accounts) != 2 || got.Regions[0] != "us-east-1" || !got.DryRun ||
			got.Listed != 7 || got.Started != 6 || got.TargetsDone != 2 || got.Status != store.ScanSucceeded ||
			!got.Ended.Equal(t0.Add(time.Minute)) || !got.Created.Equal(t0) {
			t.Fatalf("got %+v", got)
		}
		if err := s.UpdateScan(ctx, store.Scan{ID: "absent"}); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("update absent: %v", err)
		}
		if _, err := s.GetScan(ctx, "absent"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("get absent: %v", err)
		}
		for i := 2; i <= 4; i++ {
			pb := "other"
			if i%2 == 0 {
				pb = "ebs-unused"
			}
			if err := s.CreateScan(ctx, store.Scan{ID: fmt.Sprintf("scan-%d", i), Playbook: pb, Status: store.ScanRunning, Created: t0.Add(time.Duration(i) * time.Hour)}); err != nil {
				t.Fatal(err)
			}
		}
		all, err := s.ListScans(ctx, "", 0)
		if err != nil || len(all) != 4 || all[0].ID != "scan-4" || all[3].ID != "scan-1" {
			t.Fatalf("list all: %v", err)
		}
		some, err := s.ListScans(ctx, "ebs-unused", 1)
		if err != nil || len(some) != 1 || some[0].ID != "scan-4" {
			t.Fatalf("list one playbook: %v %v", some, err)
		}
	})
}
