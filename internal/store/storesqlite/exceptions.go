package storesqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/stewardhq/steward/internal/store"
)

var _ store.ExceptionStore = (*DB)(nil)

// exMS stores a time as Unix milliseconds, the zero time as 0.
func exMS(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func exFromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

const exceptionColumns = `id, resource, account, region, playbook, until, reason, granted_by, channel, granted_at, revoked_at, revoked_by, rechecked_at`

func scanException(row interface{ Scan(...any) error }) (store.Exception, error) {
	var e store.Exception
	var until, granted, revoked, rechecked int64
	err := row.Scan(&e.ID, &e.Resource, &e.Account, &e.Region, &e.Playbook, &until, &e.Reason, &e.GrantedBy, &e.Channel, &granted, &revoked, &e.RevokedBy, &rechecked)
	e.Until, e.GrantedAt, e.RevokedAt, e.RecheckedAt = exFromMS(until), exFromMS(granted), exFromMS(revoked), exFromMS(rechecked)
	return e, err
}

// newExceptionID returns "exc-" and 16 random hex digits.
func newExceptionID() string {
	var b [8]byte
	rand.Read(b[:])
	return "exc-" + hex.EncodeToString(b[:])
}

// GrantException implements store.ExceptionStore.
func (db *DB) GrantException(ctx context.Context, e store.Exception) (store.Exception, error) {
	if e.Resource == "" {
		return store.Exception{}, fmt.Errorf("grant exception: no resource")
	}
	if e.Until.IsZero() {
		return store.Exception{}, fmt.Errorf("grant exception on %s: no end date", e.Resource)
	}
	if e.ID == "" {
		e.ID = newExceptionID()
	}
	if e.GrantedAt.IsZero() {
		e.GrantedAt = time.Now()
	}
	// Round-trip through the stored precision so the caller sees what a read returns.
	e.Until, e.GrantedAt = exFromMS(exMS(e.Until)), exFromMS(exMS(e.GrantedAt))
	e.RevokedAt, e.RecheckedAt = exFromMS(exMS(e.RevokedAt)), exFromMS(exMS(e.RecheckedAt))
	err := db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO exceptions (`+exceptionColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
			e.ID, e.Resource, e.Account, e.Region, e.Playbook, exMS(e.Until), e.Reason, e.GrantedBy, e.Channel, exMS(e.GrantedAt), exMS(e.RevokedAt), e.RevokedBy, exMS(e.RecheckedAt))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return clean(fmt.Errorf("exception %s exists: %w", e.ID, store.ErrConflict))
		}
		return nil
	})
	if err != nil {
		return store.Exception{}, fmt.Errorf("grant exception on %s: %w", e.Resource, err)
	}
	return e, nil
}

// RevokeException implements store.ExceptionStore.
func (db *DB) RevokeException(ctx context.Context, id, by string, at time.Time) (store.Exception, error) {
	if at.IsZero() {
		at = time.Now()
	}
	var out store.Exception
	err := db.write(ctx, func(tx *sql.Tx) error {
		e, err := scanException(tx.QueryRowContext(ctx, `SELECT `+exceptionColumns+` FROM exceptions WHERE id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return clean(fmt.Errorf("exception %s: %w", id, store.ErrNotFound))
		}
		if err != nil {
			return err
		}
		if !e.RevokedAt.IsZero() {
			return clean(fmt.Errorf("exception %s was revoked at %s by %s: %w", id, e.RevokedAt.Format(time.RFC3339), e.RevokedBy, store.ErrConflict))
		}
		e.RevokedAt, e.RevokedBy = exFromMS(exMS(at)), by
		if _, err := tx.ExecContext(ctx, `UPDATE exceptions SET revoked_at = ?, revoked_by = ? WHERE id = ?`, exMS(at), by, id); err != nil {
			return err
		}
		out = e
		return nil
	})
	if err != nil {
		return store.Exception{}, fmt.Errorf("revoke exception: %w", err)
	}
	return out, nil
}

// GetException implements store.ExceptionStore.
func (db *DB) GetException(ctx context.Context, id string) (store.Exception, error) {
	e, err := scanException(db.reader.QueryRowContext(ctx, `SELECT `+exceptionColumns+` FROM exceptions WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Exception{}, fmt.Errorf("exception %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.Exception{}, fmt.Errorf("get exception %s: %w", id, err)
	}
	return e, nil
}

// ActiveException implements store.ExceptionStore.
func (db *DB) ActiveException(ctx context.Context, resource, playbook string, now time.Time) (store.Exception, error) {
	e, err := scanException(db.reader.QueryRowContext(ctx, `SELECT `+exceptionColumns+` FROM exceptions
		WHERE resource = ? AND until > ? AND revoked_at = 0 AND (? = '' OR playbook = '' OR playbook = ?)
		ORDER BY until DESC, granted_at DESC LIMIT 1`, resource, exMS(now), playbook, playbook))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Exception{}, fmt.Errorf("no exception in force for %s: %w", resource, store.ErrNotFound)
	}
	if err != nil {
		return store.Exception{}, fmt.Errorf("active exception of %s: %w", resource, err)
	}
	return e, nil
}

// ListExceptions implements store.ExceptionStore.
func (db *DB) ListExceptions(ctx context.Context, f store.ExceptionFilter) ([]store.Exception, error) {
	var where []string
	var args []any
	if f.Resource != "" {
		where, args = append(where, "resource = ?"), append(args, f.Resource)
	}
	if f.Account != "" {
		where, args = append(where, "account = ?"), append(args, f.Account)
	}
	if f.Playbook != "" {
		where, args = append(where, "(playbook = '' OR playbook = ?)"), append(args, f.Playbook)
	}
	if !f.ActiveAt.IsZero() {
		where, args = append(where, "until > ? AND revoked_at = 0"), append(args, exMS(f.ActiveAt))
	}
	q := `SELECT ` + exceptionColumns + ` FROM exceptions`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY granted_at DESC, id"
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	return db.queryExceptions(ctx, "list exceptions", q, args...)
}

func (db *DB) queryExceptions(ctx context.Context, what, q string, args ...any) ([]store.Exception, error) {
	rows, err := db.reader.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	out := []store.Exception{}
	for rows.Next() {
		e, err := scanException(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// ExpiredUnchecked implements store.ExceptionStore.
func (db *DB) ExpiredUnchecked(ctx context.Context, now time.Time, limit int) ([]store.Exception, error) {
	if limit <= 0 {
		limit = 100
	}
	return db.queryExceptions(ctx, "expired exceptions", `SELECT `+exceptionColumns+` FROM exceptions
		WHERE until <= ? AND revoked_at = 0 AND rechecked_at = 0 ORDER BY until, id LIMIT ?`, exMS(now), limit)
}

// MarkRechecked implements store.ExceptionStore.
func (db *DB) MarkRechecked(ctx context.Context, id string, at time.Time) error {
	err := db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE exceptions SET rechecked_at = ? WHERE id = ?`, exMS(at), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return clean(fmt.Errorf("exception %s: %w", id, store.ErrNotFound))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("mark exception rechecked: %w", err)
	}
	return nil
}
