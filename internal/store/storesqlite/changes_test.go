package storesqlite

import (
	"path/filepath"
	"testing"

	"github.com/stewardhq/steward/internal/store"
	"github.com/stewardhq/steward/internal/store/storetest"
)

func TestChangeStoreConformance(t *testing.T) {
	storetest.RunChanges(t, func(t *testing.T) store.ChangeStore {
		db, err := Open(filepath.Join(t.TempDir(), "steward.db"), Options{Synchronous: "NORMAL"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	})
}
