package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/store"
)

// RunChanges is the conformance suite of store.ChangeStore.
func RunChanges(t *testing.T, open func(t *testing.T) store.ChangeStore) {
	ctx := context.Background()
	exec1 := "arn:aws:states:us-east-1:000000000000:execution:ebs-unused:e1"
	exec2 := "arn:aws:states:us-east-1:000000000000:execution:ebs-unused:e2"
	call := func(id, exec, key string, status store.ChangeStatus, at time.Time) store.Change {
		return store.Change{ID: id, ExecutionARN: exec, Run: exec, Playbook: "ebs-unused", StateName: "Delete",
			Account: "111111111111", Region: "us-east-1", Resource: "vol-1", Service: "ec2", Action: "DeleteVolume",
			Parameters: json.RawMessage(`{"VolumeId":"vol-1"}`), Kind: store.KindCall, Status: status, Stage: "enforce",
			Before: json.RawMessage(`{"State":"available"}`), CreatedAt: at, IdempotencyKey: key}
	}

	t.Run("create, get, finish, list in order", func(t *testing.T) {
		s := open(t)
		at := t0.Add(123456 * time.Microsecond)
		c, err := s.CreateChange(ctx, call("ch-1", exec1, "k1", store.StatusPending, at))
		if err != nil {
			t.Fatal(err)
		}
		if c.Seq == 0 || !c.CreatedAt.Equal(at.Truncate(time.Millisecond)) || c.CreatedAt.Location() != time.UTC {
			t.Fatalf("created %+v", c)
		}
		got, err := s.GetChange(ctx, "ch-1")
		if err != nil {
			t.Fatal(err)
		}
		if got.Resource != "vol-1" || string(got.Parameters) != `{"VolumeId":"vol-1"}` || string(got.Before) != `{"State":"available"}` ||
			got.After != nil || got.Kind != store.KindCall || got.Status != store.StatusPending || got.Stage != "enforce" {
			t.Fatalf("got %+v", got)
		}
		done, err := s.FinishChange(ctx, "ch-1", store.ChangeOutcome{Status: store.StatusApplied, After: json.RawMessage(`{"State":"deleting"}`),
			Irreversible: "volume deleted; snapshot snap-1", Result: json.RawMessage(`{}`), At: at.Add(time.Second)})
		if err != nil {
			t.Fatal(err)
		}
		if done.Status != store.StatusApplied || string(done.After) != `{"State":"deleting"}` || done.Irreversible == "" ||
			string(done.Before) != `{"State":"available"}` || !done.UpdatedAt.Equal(at.Add(time.Second).Truncate(time.Millisecond)) {
			t.Fatalf("finished %+v", done)
		}
		byKey, err := s.GetChangeByKey(ctx, "k1")
		if err != nil || byKey.ID != "ch-1" {
			t.Fatalf("by key: %v %v", byKey, err)
		}
		if _, err := s.CreateChange(ctx, call("ch-2", exec1, "k2", store.StatusPlanned, at)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateChange(ctx, call("ch-3", exec2, "", store.StatusApplied, at)); err != nil {
			t.Fatal(err)
		}
		list, err := s.ListChanges(ctx, store.ChangeFilter{ExecutionARN: exec1})
		if err != nil || len(list) != 2 || list[0].ID != "ch-1" || list[1].ID != "ch-2" {
			t.Fatalf("list by execution: %v %v", changeIDs(list), err)
		}
		list, _ = s.ListChanges(ctx, store.ChangeFilter{Status: store.StatusApplied})
		if len(list) != 2 {
			t.Fatalf("list applied: %v", changeIDs(list))
		}
		list, _ = s.ListChanges(ctx, store.ChangeFilter{Playbook: "ebs-unused", Limit: 2})
		if len(list) != 2 {
			t.Fatalf("list limit 2: %v", changeIDs(list))
		}
		list, _ = s.ListChanges(ctx, store.ChangeFilter{Playbook: "ebs-unused", AfterSeq: list[1].Seq})
		if len(list) != 1 || list[0].ID != "ch-3" {
			t.Fatalf("list after: %v", changeIDs(list))
		}
		list, _ = s.ListChanges(ctx, store.ChangeFilter{Playbook: "other"})
		if len(list) != 0 {
			t.Fatalf("list other playbook: %v", changeIDs(list))
		}
	})

	t.Run("absent records", func(t *testing.T) {
		s := open(t)
		if _, err := s.GetChange(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("get: %v", err)
		}
		if _, err := s.GetChangeByKey(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("get by key: %v", err)
		}
		if _, err := s.GetChangeByKey(ctx, ""); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("get by empty key: %v", err)
		}
		if _, err := s.FinishChange(ctx, "nope", store.ChangeOutcome{Status: store.StatusApplied}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("finish: %v", err)
		}
		if err := s.MarkRolledBack(ctx, []string{"nope"}, "me", t0); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("mark: %v", err)
		}
	})

	t.Run("an idempotency key is taken once, even concurrently", func(t *testing.T) {
		s := open(t)
		var created atomic.Int32
		var wg sync.WaitGroup
		for i := 0; i < 12; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, err := s.CreateChange(ctx, call("", exec1, "same-key", store.StatusPending, t0))
				switch {
				case err == nil:
					created.Add(1)
				case errors.Is(err, store.ErrAlreadyExists):
					if c == nil || c.IdempotencyKey != "same-key" {
						t.Errorf("existing record not returned: %+v", c)
					}
				default:
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if created.Load() != 1 {
			t.Fatalf("%d records created for one key", created.Load())
		}
		// Records without a key never collide.
		for i := 0; i < 3; i++ {
			if _, err := s.CreateChange(ctx, call("", exec1, "", store.StatusPlanned, t0)); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.CreateChange(ctx, call("dup", exec1, "", store.StatusPlanned, t0)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateChange(ctx, call("dup", exec1, "", store.StatusPlanned, t0)); !errors.Is(err, store.ErrAlreadyExists) {
			t.Fatalf("a taken id: %v", err)
		}
	})

	t.Run("roll back all or nothing", func(t *testing.T) {
		s := open(t)
		for i, st := range []store.ChangeStatus{store.StatusApplied, store.StatusApplied, store.StatusPlanned} {
			if _, err := s.CreateChange(ctx, call(fmt.Sprint("r", i), exec1, "", st, t0)); err != nil {
				t.Fatal(err)
			}
		}
		err := s.MarkRolledBack(ctx, []string{"r0", "r1", "r2"}, "alice", t0.Add(time.Hour))
		if !errors.Is(err, store.ErrConflict) {
			t.Fatalf("rolling back a planned change: %v", err)
		}
		if c, _ := s.GetChange(ctx, "r0"); c.Status != store.StatusApplied {
			t.Fatalf("r0 changed by a refused roll back: %s", c.Status)
		}
		if err := s.MarkRolledBack(ctx, []string{"r0", "r1"}, "alice", t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		c, _ := s.GetChange(ctx, "r1")
		if c.Status != store.StatusRolledBack || c.RolledBackBy != "alice" || !c.RolledBackAt.Equal(t0.Add(time.Hour)) {
			t.Fatalf("rolled back: %+v", c)
		}
		if err := s.MarkRolledBack(ctx, []string{"r0"}, "bob", t0); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("rolling back twice: %v", err)
		}
	})

	t.Run("count applied per run and per hour", func(t *testing.T) {
		s := open(t)
		mk := func(id, run string, st store.ChangeStatus, kind store.ChangeKind, at time.Time) {
			c := call(id, exec1, "", st, at)
			c.Run, c.Kind = run, kind
			if _, err := s.CreateChange(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
		mk("a", "scan-1", store.StatusApplied, store.KindCall, t0)
		mk("b", "scan-1", store.StatusApplied, store.KindRecord, t0.Add(30*time.Minute))
		mk("c", "scan-1", store.StatusPlanned, store.KindCall, t0.Add(30*time.Minute))
		mk("d", "scan-1", store.StatusFailed, store.KindCall, t0.Add(30*time.Minute))
		mk("e", "scan-2", store.StatusApplied, store.KindCall, t0.Add(50*time.Minute))
		mk("f", "scan-2", store.StatusApplied, store.KindNotice, t0.Add(50*time.Minute))
		if err := s.MarkRolledBack(ctx, []string{"a"}, "x", t0); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			run   string
			since time.Time
			want  int
		}{
			{"scan-1", time.Time{}, 2},
			{"scan-2", time.Time{}, 1},
			{"", time.Time{}, 3},
			{"", t0.Add(10 * time.Minute), 2},
			{"scan-1", t0.Add(40 * time.Minute), 0},
		} {
			n, err := s.CountApplied(ctx, "ebs-unused", tc.run, tc.since)
			if err != nil || n != tc.want {
				t.Errorf("CountApplied(run %q, since %v) = %d, %v; want %d", tc.run, tc.since, n, err, tc.want)
			}
		}
		if n, _ := s.CountApplied(ctx, "other", "", time.Time{}); n != 0 {
			t.Errorf("other playbook: %d", n)
		}
	})

	t.Run("pause and resume", func(t *testing.T) {
		s := open(t)
		if p, err := s.PlaybookPaused(ctx, "ebs-unused"); err != nil || p != nil {
			t.Fatalf("not paused yet: %v %v", p, err)
		}
		if err := s.PausePlaybook(ctx, store.PlaybookPause{Playbook: "ebs-unused", Reason: "blast radius: 26 changes in run", By: "steward", At: t0}); err != nil {
			t.Fatal(err)
		}
		if err := s.PausePlaybook(ctx, store.PlaybookPause{Playbook: "ebs-unused", Reason: "again", By: "steward", At: t0.Add(time.Minute)}); err != nil {
			t.Fatal(err)
		}
		if err := s.PausePlaybook(ctx, store.PlaybookPause{Playbook: "a-first", Reason: "by hand", By: "alice", At: t0}); err != nil {
			t.Fatal(err)
		}
		p, err := s.PlaybookPaused(ctx, "ebs-unused")
		if err != nil || p == nil || p.Reason != "again" || !p.At.Equal(t0.Add(time.Minute)) {
			t.Fatalf("paused: %+v %v", p, err)
		}
		list, err := s.ListPausedPlaybooks(ctx)
		if err != nil || len(list) != 2 || list[0].Playbook != "a-first" {
			t.Fatalf("list: %+v %v", list, err)
		}
		if err := s.ResumePlaybook(ctx, "ebs-unused"); err != nil {
			t.Fatal(err)
		}
		if p, _ := s.PlaybookPaused(ctx, "ebs-unused"); p != nil {
			t.Fatalf("still paused: %+v", p)
		}
		if err := s.ResumePlaybook(ctx, "ebs-unused"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("resume twice: %v", err)
		}
	})
}

func changeIDs(list []*store.Change) []string {
	var out []string
	for _, c := range list {
		out = append(out, c.ID)
	}
	return out
}
