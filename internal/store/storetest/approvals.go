package storetest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/store"
)

// RunLinks is the conformance suite of store.LinkStore.
func RunLinks(t *testing.T, open func(t *testing.T) store.LinkStore) {
	ctx := context.Background()
	later := time.Now().Add(time.Hour)

	t.Run("a link is used once, and again after a release", func(t *testing.T) {
		s := open(t)
		for i, want := range []bool{true, false} {
			first, err := s.MarkUsed(ctx, "n1", later)
			if err != nil || first != want {
				t.Fatalf("use %d: first=%v err=%v, want %v", i+1, first, err, want)
			}
		}
		if err := s.ReleaseUsed(ctx, "n1"); err != nil {
			t.Fatal(err)
		}
		if first, err := s.MarkUsed(ctx, "n1", later); err != nil || !first {
			t.Errorf("after release: first=%v err=%v", first, err)
		}
		if err := s.ReleaseUsed(ctx, "never-used"); err != nil {
			t.Errorf("releasing an unknown nonce: %v", err)
		}
	})

	t.Run("exactly one of concurrent uses is first", func(t *testing.T) {
		s := open(t)
		var firsts atomic.Int32
		var wg sync.WaitGroup
		for i := 0; i < 16; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				first, err := s.MarkUsed(ctx, "shared", later)
				if err != nil {
					t.Error(err)
				}
				if first {
					firsts.Add(1)
				}
			}()
		}
		wg.Wait()
		if firsts.Load() != 1 {
			t.Errorf("%d calls saw the first use, want 1", firsts.Load())
		}
	})

	t.Run("expired records are dropped", func(t *testing.T) {
		s := open(t)
		if _, err := s.MarkUsed(ctx, "old", time.Now().Add(-time.Minute)); err != nil {
			t.Fatal(err)
		}
		// Any later use sweeps expired records; the old link is refused as
		// expired by its signature before it gets here, so forgetting it is safe.
		for i := 0; i < 2; i++ {
			if _, err := s.MarkUsed(ctx, fmt.Sprint("new", i), later); err != nil {
				t.Fatal(err)
			}
		}
		if first, err := s.MarkUsed(ctx, "old", later); err != nil || !first {
			t.Errorf("an expired record was kept: first=%v err=%v", first, err)
		}
	})
}
