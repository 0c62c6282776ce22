package store

import (
	"context"
	"time"
)

// LinkStore remembers which approval links were used, so each acts once
// (internal/approve's UsedStore and UsedReleaser).
type LinkStore interface {
	// MarkUsed records nonce as used until expires and reports whether this
	// was the first use; of two concurrent calls exactly one sees true.
	// Records past their expiry may be dropped.
	MarkUsed(ctx context.Context, nonce string, expires time.Time) (firstTime bool, err error)
	// ReleaseUsed forgets a use (the decision could not be handed over and
	// the person may try the same link again).
	ReleaseUsed(ctx context.Context, nonce string) error
}
