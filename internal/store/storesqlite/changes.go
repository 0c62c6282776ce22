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

var _ store.ChangeStore = (*DB)(nil)

const changeColumns = `seq, id, execution_arn, run, playbook, state_name, account, region, resource, service, action,
	parameters, kind, status, stage, before_json, after_json, undo_json, irreversible, result, error,
	created_at, updated_at, rolled_back_at, rolled_back_by, idempotency_key`

func scanChange(row interface{ Scan(...any) error }) (*store.Change, error) {
	var c store.Change
	var kind, status string
	var created, updated, rolled int64
	var params, before, after, undo, result []byte
	err := row.Scan(&c.Seq, &c.ID, &c.ExecutionARN, &c.Run, &c.Playbook, &c.StateName, &c.Account, &c.Region,
		&c.Resource, &c.Service, &c.Action, &params, &kind, &status, &c.Stage, &before, &after,
		&undo, &c.Irreversible, &result, &c.Error, &created, &updated, &rolled, &c.RolledBackBy, &c.IdempotencyKey)
	if err != nil {
		return nil, err
	}
	c.Parameters, c.Before, c.After, c.Undo, c.Result = params, before, after, undo, result
	c.Kind, c.Status = store.ChangeKind(kind), store.ChangeStatus(status)
	c.CreatedAt, c.UpdatedAt = fromMS(created), fromMS(updated)
	if rolled != 0 {
		c.RolledBackAt = fromMS(rolled)
	}
	return &c, nil
}

// blob stores an empty JSON value as NULL.
func blob(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return []byte(b)
}

func newChangeID() string {
	var b [8]byte
	rand.Read(b[:])
	return "ch-" + hex.EncodeToString(b[:])
}

// CreateChange implements store.ChangeStore.
func (db *DB) CreateChange(ctx context.Context, c store.Change) (*store.Change, error) {
	if c.ID == "" {
		c.ID = newChangeID()
	}
	now := time.Now().UTC()
	if c.CreatedAt.IsZero() {
		c.CreatedAt = now
	}
	c.CreatedAt = fromMS(ms(c.CreatedAt))
	c.UpdatedAt = c.CreatedAt
	var existing *store.Change
	err := db.write(ctx, func(tx *sql.Tx) error {
		existing = nil
		// Two lookups, each on its own index (an OR of both would scan).
		queries := []struct{ where, arg string }{{"id = ?", c.ID}}
		if c.IdempotencyKey != "" {
			queries = append(queries, struct{ where, arg string }{"idempotency_key = ?", c.IdempotencyKey})
		}
		for _, q := range queries {
			old, err := scanChange(tx.QueryRowContext(ctx, `SELECT `+changeColumns+` FROM changes WHERE `+q.where, q.arg))
			switch {
			case err == nil:
				existing = old
				return clean(fmt.Errorf("change %s (key %q): %w", old.ID, c.IdempotencyKey, store.ErrAlreadyExists))
			case !errors.Is(err, sql.ErrNoRows):
				return err
			}
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO changes (id, execution_arn, run, playbook, state_name, account, region, resource,
			service, action, parameters, kind, status, stage, before_json, after_json, undo_json, irreversible, result, error,
			created_at, updated_at, rolled_back_at, rolled_back_by, idempotency_key)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			c.ID, c.ExecutionARN, c.Run, c.Playbook, c.StateName, c.Account, c.Region, c.Resource,
			c.Service, c.Action, blob(c.Parameters), string(c.Kind), string(c.Status), c.Stage,
			blob(c.Before), blob(c.After), blob(c.Undo), c.Irreversible, blob(c.Result), c.Error,
			ms(c.CreatedAt), ms(c.UpdatedAt), rolledMS(c.RolledBackAt), c.RolledBackBy, c.IdempotencyKey)
		if err != nil {
			return err
		}
		c.Seq, err = res.LastInsertId()
		return err
	})
	if existing != nil && errors.Is(err, store.ErrAlreadyExists) {
		return existing, err
	}
	if err != nil {
		return nil, fmt.Errorf("create change: %w", err)
	}
	return &c, nil
}

func rolledMS(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return ms(t)
}

// FinishChange implements store.ChangeStore.
func (db *DB) FinishChange(ctx context.Context, id string, o store.ChangeOutcome) (*store.Change, error) {
	at := o.At
	if at.IsZero() {
		at = time.Now()
	}
	err := db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE changes SET status = ?,
			after_json = COALESCE(?, after_json), undo_json = COALESCE(?, undo_json),
			irreversible = CASE WHEN ? = '' THEN irreversible ELSE ? END,
			result = COALESCE(?, result), error = CASE WHEN ? = '' THEN error ELSE ? END,
			updated_at = ? WHERE id = ?`,
			string(o.Status), blob(o.After), blob(o.Undo), o.Irreversible, o.Irreversible,
			blob(o.Result), o.Error, o.Error, ms(at), id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return clean(store.ErrNotFound)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("finish change %s: %w", id, err)
	}
	return db.GetChange(ctx, id)
}

// GetChange implements store.ChangeStore.
func (db *DB) GetChange(ctx context.Context, id string) (*store.Change, error) {
	c, err := scanChange(db.reader.QueryRowContext(ctx, `SELECT `+changeColumns+` FROM changes WHERE id = ?`, id))
	if err != nil {
		return nil, notFound(err, "change "+id)
	}
	return c, nil
}

// GetChangeByKey implements store.ChangeStore.
func (db *DB) GetChangeByKey(ctx context.Context, key string) (*store.Change, error) {
	if key == "" {
		return nil, fmt.Errorf("change with an empty idempotency key: %w", store.ErrNotFound)
	}
	c, err := scanChange(db.reader.QueryRowContext(ctx, `SELECT `+changeColumns+` FROM changes WHERE idempotency_key = ?`, key))
	if err != nil {
		return nil, notFound(err, "change with idempotency key "+key)
	}
	return c, nil
}

// ListChanges implements store.ChangeStore.
func (db *DB) ListChanges(ctx context.Context, f store.ChangeFilter) ([]*store.Change, error) {
	var where []string
	var args []any
	add := func(cond string, v any) {
		where = append(where, cond)
		args = append(args, v)
	}
	if f.ExecutionARN != "" {
		add("execution_arn = ?", f.ExecutionARN)
	}
	if f.Run != "" {
		add("run = ?", f.Run)
	}
	if f.Playbook != "" {
		add("playbook = ?", f.Playbook)
	}
	if f.Status != "" {
		add("status = ?", string(f.Status))
	}
	if f.Kind != "" {
		add("kind = ?", string(f.Kind))
	}
	add("seq > ?", f.AfterSeq)
	limit := f.Limit
	if limit <= 0 {
		limit = 1000
	}
	args = append(args, limit)
	rows, err := db.reader.QueryContext(ctx, `SELECT `+changeColumns+` FROM changes WHERE `+strings.Join(where, " AND ")+` ORDER BY seq LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("list changes: %w", err)
	}
	defer rows.Close()
	var out []*store.Change
	for rows.Next() {
		c, err := scanChange(rows)
		if err != nil {
			return nil, fmt.Errorf("list changes: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list changes: %w", err)
	}
	return out, nil
}

// MarkRolledBack implements store.ChangeStore: it checks every record
// before it writes any.
func (db *DB) MarkRolledBack(ctx context.Context, ids []string, by string, at time.Time) error {
	if at.IsZero() {
		at = time.Now()
	}
	err := db.write(ctx, func(tx *sql.Tx) error {
		for _, id := range ids {
			var status string
			err := tx.QueryRowContext(ctx, `SELECT status FROM changes WHERE id = ?`, id).Scan(&status)
			if errors.Is(err, sql.ErrNoRows) {
				return clean(fmt.Errorf("change %s: %w", id, store.ErrNotFound))
			}
			if err != nil {
				return err
			}
			if status != string(store.StatusApplied) {
				return clean(fmt.Errorf("change %s is %s, not applied: %w", id, status, store.ErrConflict))
			}
		}
		for _, id := range ids {
			if _, err := tx.ExecContext(ctx, `UPDATE changes SET status = ?, rolled_back_at = ?, rolled_back_by = ?, updated_at = ? WHERE id = ?`,
				string(store.StatusRolledBack), ms(at), by, ms(at), id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("mark changes rolled back: %w", err)
	}
	return nil
}

// CountApplied implements store.ChangeStore.
func (db *DB) CountApplied(ctx context.Context, playbook, run string, since time.Time) (int, error) {
	q := `SELECT COUNT(*) FROM changes WHERE playbook = ? AND kind IN ('call', 'record') AND status IN ('applied', 'rolled-back')`
	args := []any{playbook}
	if run != "" {
		q += ` AND run = ?`
		args = append(args, run)
	}
	if !since.IsZero() {
		q += ` AND created_at >= ?`
		args = append(args, ms(since))
	}
	var n int
	if err := db.reader.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count applied changes of %s: %w", playbook, err)
	}
	return n, nil
}

// PausePlaybook implements store.ChangeStore.
func (db *DB) PausePlaybook(ctx context.Context, p store.PlaybookPause) error {
	if p.At.IsZero() {
		p.At = time.Now()
	}
	err := db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO playbook_pauses (playbook, reason, paused_by, paused_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (playbook) DO UPDATE SET reason = excluded.reason, paused_by = excluded.paused_by, paused_at = excluded.paused_at`,
			p.Playbook, p.Reason, p.By, ms(p.At))
		return err
	})
	if err != nil {
		return fmt.Errorf("pause playbook %s: %w", p.Playbook, err)
	}
	return nil
}

// ResumePlaybook implements store.ChangeStore.
func (db *DB) ResumePlaybook(ctx context.Context, playbook string) error {
	err := db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM playbook_pauses WHERE playbook = ?`, playbook)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return clean(fmt.Errorf("playbook %s is not paused: %w", playbook, store.ErrNotFound))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("resume playbook: %w", err)
	}
	return nil
}

// PlaybookPaused implements store.ChangeStore.
func (db *DB) PlaybookPaused(ctx context.Context, playbook string) (*store.PlaybookPause, error) {
	var p store.PlaybookPause
	var at int64
	err := db.reader.QueryRowContext(ctx, `SELECT playbook, reason, paused_by, paused_at FROM playbook_pauses WHERE playbook = ?`, playbook).
		Scan(&p.Playbook, &p.Reason, &p.By, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("playbook %s paused: %w", playbook, err)
	}
	p.At = fromMS(at)
	return &p, nil
}

// ListPausedPlaybooks implements store.ChangeStore.
func (db *DB) ListPausedPlaybooks(ctx context.Context) ([]store.PlaybookPause, error) {
	rows, err := db.reader.QueryContext(ctx, `SELECT playbook, reason, paused_by, paused_at FROM playbook_pauses ORDER BY playbook`)
	if err != nil {
		return nil, fmt.Errorf("list paused playbooks: %w", err)
	}
	defer rows.Close()
	var out []store.PlaybookPause
	for rows.Next() {
		var p store.PlaybookPause
		var at int64
		if err := rows.Scan(&p.Playbook, &p.Reason, &p.By, &at); err != nil {
			return nil, fmt.Errorf("list paused playbooks: %w", err)
		}
		p.At = fromMS(at)
		out = append(out, p)
	}
	return out, rows.Err()
}
