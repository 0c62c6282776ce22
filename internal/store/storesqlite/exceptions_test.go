package storesqlite

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/store"
	"github.com/stewardhq/steward/internal/store/storetest"
)

func TestExceptionStoreConformance(t *testing.T) {
	storetest.RunExceptions(t, func(t *testing.T) store.ExceptionStore {
		db, err := Open(filepath.Join(t.TempDir(), "steward.db"), Options{Synchronous: "NORMAL"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	})
}

// An exception outlives the process that granted it.
func TestExceptionSurvivesReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "steward.db")
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	until := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	g, err := db.GrantException(context.Background(), store.Exception{Resource: "arn:aws:ec2:us-east-1:111111111111:volume/vol-1", Until: until, GrantedBy: "alice", Reason: "audit"})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got, err := db.ActiveException(context.Background(), g.Resource, "ebs-unused", until.Add(-time.Hour))
	if err != nil || got != g {
		t.Errorf("after reopen: %+v %v, want %+v", got, err, g)
	}
}
