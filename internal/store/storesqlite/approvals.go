package storesqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/stewardhq/steward/internal/store"
)

var _ store.LinkStore = (*DB)(nil)

// MarkUsed implements store.LinkStore. The writer goroutine serialises
// writes, so the insert decides which call is first.
func (db *DB) MarkUsed(ctx context.Context, nonce string, expires time.Time) (bool, error) {
	first := false
	err := db.write(ctx, func(tx *sql.Tx) error {
		first = false // the write may run twice
		if _, err := tx.ExecContext(ctx, `DELETE FROM used_links WHERE expires < ?`, ms(time.Now())); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO used_links (nonce, expires) VALUES (?, ?) ON CONFLICT (nonce) DO NOTHING`, nonce, ms(expires))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		first = n == 1
		return err
	})
	if err != nil {
		return false, fmt.Errorf("mark link used: %w", err)
	}
	return first, nil
}

// ReleaseUsed implements store.LinkStore.
func (db *DB) ReleaseUsed(ctx context.Context, nonce string) error {
	err := db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM used_links WHERE nonce = ?`, nonce)
		return err
	})
	if err != nil {
		return fmt.Errorf("release link: %w", err)
	}
	return nil
}
