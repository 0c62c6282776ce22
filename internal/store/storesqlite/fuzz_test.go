package storesqlite

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stewardhq/steward/internal/store"
)

// FuzzListTokens: page tokens come from API clients; a bad one is an
// error, never a panic or a query error.
func FuzzListTokens(f *testing.F) {
	f.Add("", 0)
	f.Add("100", 5)
	f.Add("-3", -1)
	f.Add("9999999999999999999999", 1<<30)
	db, err := Open(filepath.Join(f.TempDir(), "steward.db"), Options{Synchronous: "OFF"})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { db.Close() })
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, token string, limit int) {
		p := store.ListParams{NextToken: token, Limit: limit}
		if _, _, err := db.ListStateMachines(ctx, p); err != nil && token == "" {
			t.Fatalf("list state machines: %v", err)
		}
		if _, _, err := db.ListExecutions(ctx, store.ListExecutionsParams{Status: token, StateMachineARN: token, ListParams: p}); err != nil && token == "" {
			t.Fatalf("list executions: %v", err)
		}
		if _, err := db.GetHistory(ctx, store.GetHistoryParams{ExecutionARN: token, Limit: limit, AfterEventID: int64(limit)}); err != nil {
			t.Fatalf("history: %v", err)
		}
		if _, err := db.GetTaskToken(ctx, token); err == nil {
			t.Fatal("found a token in an empty store")
		}
	})
}
