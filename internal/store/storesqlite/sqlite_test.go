package storesqlite

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/store"
	"github.com/stewardhq/steward/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		db, err := Open(filepath.Join(t.TempDir(), "steward.db"), Options{Synchronous: "NORMAL"})
		if err != nil {
			t.Fatal(err)
		}
		return db
	})
}

func TestLockedByAnotherOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "steward.db")
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Open(path, Options{})
	var le *LockedError
	if !errors.Is(err, store.ErrLocked) || !errors.As(err, &le) || le.PID == "" {
		t.Fatalf("second open: %v", err)
	}
	t.Logf("second open: %v", err)
	db.Close()
	db, err = Open(path, Options{})
	if err != nil {
		t.Fatalf("open after close: %v", err)
	}
	v, err := db.SchemaVersion(context.Background())
	if err != nil || v < 1 {
		t.Fatalf("schema version %d %v", v, err)
	}
	db.Close()
}

// TestFullDisk caps the database size so that writes fail as on a full
// disk: the failing transition applies nothing, others stay intact, and
// the store works again once there is room.
func TestFullDisk(t *testing.T) {
	path := filepath.Join(t.TempDir(), "steward.db")
	// The cap leaves a few pages beyond what the schema takes, however
	// many tables the migrations make.
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	pages := int(fi.Size()/4096) + 8
	db, err = Open(path, Options{MaxPageCount: pages})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	e, err := db.CreateExecution(ctx, store.CreateExecutionParams{Execution: store.Execution{ARN: "x", Name: "x", Status: "RUNNING", Input: "{}", StartDate: t0, Runnable: true}})
	if err != nil {
		t.Fatal(err)
	}
	big := make([]byte, 64*1024)
	for i := range big {
		big[i] = 'a' + byte(i%26)
	}
	tr := &store.Transition{ExecutionARN: "x", Version: e.Version, Status: "RUNNING", Runtime: big, Runnable: true,
		Events: []store.HistoryEvent{{ID: 1, Type: "Big", Timestamp: t0, Details: big}}}
	err = db.Apply(ctx, tr)
	if err == nil {
		t.Fatalf("a 128 KiB transition fitted in a %d-page database", pages)
	}
	t.Logf("full: %v", err)
	got, err := db.GetExecution(ctx, "x")
	if err != nil || got.Version != 1 || len(got.Runtime) != 0 {
		t.Fatalf("after the failed write: %+v %v", got, err)
	}
	small := &store.Transition{ExecutionARN: "x", Version: 1, Status: "RUNNING", Runtime: []byte("{}"), Events: []store.HistoryEvent{{ID: 1, Type: "Small", Timestamp: t0}}}
	if err := db.Apply(ctx, small); err != nil {
		t.Fatalf("a small write after the failure: %v", err)
	}
	db.Close()
	db, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Apply(ctx, &store.Transition{ExecutionARN: "x", Version: 2, Status: "RUNNING", Runtime: big, Events: []store.HistoryEvent{{ID: 2, Type: "Big", Timestamp: t0, Details: big}}}); err != nil {
		t.Fatalf("with room again: %v", err)
	}
}
