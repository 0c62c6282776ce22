package storesqlite

import (
	"path/filepath"
	"testing"

	"github.com/stewardhq/steward/internal/approve"
	"github.com/stewardhq/steward/internal/store"
	"github.com/stewardhq/steward/internal/store/storetest"
)

// The store is what internal/approve's links use to act once.
var (
	_ approve.UsedStore    = (*DB)(nil)
	_ approve.UsedReleaser = (*DB)(nil)
)

func TestLinkStoreConformance(t *testing.T) {
	storetest.RunLinks(t, func(t *testing.T) store.LinkStore {
		db, err := Open(filepath.Join(t.TempDir(), "steward.db"), Options{Synchronous: "NORMAL"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	})
}
