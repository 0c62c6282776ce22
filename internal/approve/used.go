package approve

import (
	"context"
	"sync"
	"time"
)

// UsedStore remembers which links were used. The durable implementation is
// the store's; MemoryUsed is for tests and single-process demos.
type UsedStore interface {
	// MarkUsed records nonce as used until expires (after which the link
	// is refused as expired anyway, so the record may be dropped). It
	// reports whether this was the first use. It must be atomic: of two
	// concurrent calls with the same nonce, exactly one sees firstTime.
	MarkUsed(ctx context.Context, nonce string, expires time.Time) (firstTime bool, err error)
}

// UsedReleaser is implemented by stores that can forget a use. Handler
// releases a nonce when the decision could not be handed to the engine for
// a transient reason, so that the person can try the same link again
// instead of losing the decision.
type UsedReleaser interface {
	// ReleaseUsed forgets that nonce was used.
	ReleaseUsed(ctx context.Context, nonce string) error
}

// MemoryUsed is an in-memory UsedStore. The zero value is ready to use.
type MemoryUsed struct {
	mu   sync.Mutex
	used map[string]time.Time
	// Now, when set, lets MarkUsed drop records past their expiry.
	Now func() time.Time
}

var (
	_ UsedStore    = (*MemoryUsed)(nil)
	_ UsedReleaser = (*MemoryUsed)(nil)
)

// MarkUsed implements UsedStore.
func (m *MemoryUsed) MarkUsed(_ context.Context, nonce string, expires time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.used == nil {
		m.used = map[string]time.Time{}
	}
	if m.Now != nil {
		now := m.Now()
		for n, exp := range m.used {
			if now.After(exp) {
				delete(m.used, n)
			}
		}
	}
	if _, ok := m.used[nonce]; ok {
		return false, nil
	}
	m.used[nonce] = expires
	return true, nil
}

// ReleaseUsed implements UsedReleaser.
func (m *MemoryUsed) ReleaseUsed(_ context.Context, nonce string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.used, nonce)
	return nil
}
