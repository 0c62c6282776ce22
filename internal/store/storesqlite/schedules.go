package storesqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/stewardhq/steward/internal/store"
)

var _ store.ScheduleStore = (*DB)(nil)

// schedMS stores the zero time as 0.
func schedMS(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return ms(t)
}

// schedFromMS reads 0 as the zero time.
func schedFromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return fromMS(v)
}

func schedBool(b bool) int {
	if b {
		return 1
	}
	return 0
}

const scheduleColumns = `name, cron, playbook, enabled, next_run, last_run, updated`

func readSchedule(row interface{ Scan(...any) error }) (*store.Schedule, error) {
	var s store.Schedule
	var enabled int
	var next, last, updated int64
	if err := row.Scan(&s.Name, &s.Cron, &s.Playbook, &enabled, &next, &last, &updated); err != nil {
		return nil, err
	}
	s.Enabled = enabled == 1
	s.NextRun, s.LastRun, s.Updated = fromMS(next), schedFromMS(last), fromMS(updated)
	return &s, nil
}

// PutSchedule implements store.ScheduleStore.
func (db *DB) PutSchedule(ctx context.Context, s store.Schedule) (*store.Schedule, error) {
	if s.Name == "" {
		return nil, fmt.Errorf("put schedule: empty name")
	}
	now := time.Now()
	err := db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO schedules (`+scheduleColumns+`) VALUES (?, ?, ?, ?, ?, 0, ?)
			ON CONFLICT (name) DO UPDATE SET
				next_run = CASE WHEN schedules.cron = excluded.cron THEN schedules.next_run ELSE excluded.next_run END,
				cron = excluded.cron, playbook = excluded.playbook, enabled = excluded.enabled, updated = excluded.updated`,
			s.Name, s.Cron, s.Playbook, schedBool(s.Enabled), ms(s.NextRun), ms(now))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("put schedule %q: %w", s.Name, err)
	}
	return db.GetSchedule(ctx, s.Name)
}

// GetSchedule implements store.ScheduleStore.
func (db *DB) GetSchedule(ctx context.Context, name string) (*store.Schedule, error) {
	s, err := readSchedule(db.reader.QueryRowContext(ctx, `SELECT `+scheduleColumns+` FROM schedules WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("schedule %q: %w", name, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get schedule %q: %w", name, err)
	}
	return s, nil
}

// ListSchedules implements store.ScheduleStore.
func (db *DB) ListSchedules(ctx context.Context) ([]*store.Schedule, error) {
	rows, err := db.reader.QueryContext(ctx, `SELECT `+scheduleColumns+` FROM schedules ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list schedules: %w", err)
	}
	defer rows.Close()
	var out []*store.Schedule
	for rows.Next() {
		s, err := readSchedule(rows)
		if err != nil {
			return nil, fmt.Errorf("list schedules: %w", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list schedules: %w", err)
	}
	return out, nil
}

// DeleteSchedule implements store.ScheduleStore.
func (db *DB) DeleteSchedule(ctx context.Context, name string) error {
	var n int64
	err := db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM schedules WHERE name = ?`, name)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return fmt.Errorf("delete schedule %q: %w", name, err)
	}
	if n == 0 {
		return fmt.Errorf("schedule %q: %w", name, store.ErrNotFound)
	}
	return nil
}

// AdvanceSchedule implements store.ScheduleStore. The single writer runs
// the conditional UPDATE; the row count says who won.
func (db *DB) AdvanceSchedule(ctx context.Context, name string, from, to time.Time) (bool, error) {
	var n int64
	var exists bool
	err := db.write(ctx, func(tx *sql.Tx) error {
		n, exists = 0, false
		res, err := tx.ExecContext(ctx, `UPDATE schedules SET next_run = ?, last_run = ?, updated = ? WHERE name = ? AND next_run = ?`,
			ms(to), ms(from), ms(time.Now()), name, ms(from))
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil || n == 1 {
			exists = true
			return err
		}
		var one int
		err = tx.QueryRowContext(ctx, `SELECT 1 FROM schedules WHERE name = ?`, name).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		exists = err == nil
		return err
	})
	if err != nil {
		return false, fmt.Errorf("advance schedule %q: %w", name, err)
	}
	if !exists {
		return false, fmt.Errorf("schedule %q: %w", name, store.ErrNotFound)
	}
	return n == 1, nil
}

const scanColumns = `id, playbook, accounts, regions, dry_run, trigger_kind, schedule, status, listed, started, targets, targets_done, error, created, updated, ended`

func schedJoin(l []string) string { return strings.Join(l, ",") }

func schedSplit(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

func readScan(row interface{ Scan(...any) error }) (*store.Scan, error) {
	var s store.Scan
	var accounts, regions string
	var dry int
	var created, updated, ended int64
	if err := row.Scan(&s.ID, &s.Playbook, &accounts, &regions, &dry, &s.Trigger, &s.Schedule, &s.Status,
		&s.Listed, &s.Started, &s.Targets, &s.TargetsDone, &s.Error, &created, &updated, &ended); err != nil {
		return nil, err
	}
	s.Accounts, s.Regions, s.DryRun = schedSplit(accounts), schedSplit(regions), dry == 1
	s.Created, s.Updated, s.Ended = fromMS(created), fromMS(updated), schedFromMS(ended)
	return &s, nil
}

// CreateScan implements store.ScheduleStore.
func (db *DB) CreateScan(ctx context.Context, s store.Scan) error {
	if s.ID == "" {
		return fmt.Errorf("create scan: empty id")
	}
	if s.Created.IsZero() {
		s.Created = time.Now()
	}
	if s.Updated.IsZero() {
		s.Updated = s.Created
	}
	var n int64
	err := db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO scans (`+scanColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
			s.ID, s.Playbook, schedJoin(s.Accounts), schedJoin(s.Regions), schedBool(s.DryRun), s.Trigger, s.Schedule, s.Status,
			s.Listed, s.Started, s.Targets, s.TargetsDone, s.Error, ms(s.Created), ms(s.Updated), schedMS(s.Ended))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return fmt.Errorf("create scan %q: %w", s.ID, err)
	}
	if n == 0 {
		return fmt.Errorf("scan %q: %w", s.ID, store.ErrAlreadyExists)
	}
	return nil
}

// UpdateScan implements store.ScheduleStore.
func (db *DB) UpdateScan(ctx context.Context, s store.Scan) error {
	if s.Updated.IsZero() {
		s.Updated = time.Now()
	}
	var n int64
	err := db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE scans SET status = ?, listed = ?, started = ?, targets = ?, targets_done = ?, error = ?, updated = ?, ended = ? WHERE id = ?`,
			s.Status, s.Listed, s.Started, s.Targets, s.TargetsDone, s.Error, ms(s.Updated), schedMS(s.Ended), s.ID)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return fmt.Errorf("update scan %q: %w", s.ID, err)
	}
	if n == 0 {
		return fmt.Errorf("scan %q: %w", s.ID, store.ErrNotFound)
	}
	return nil
}

// GetScan implements store.ScheduleStore.
func (db *DB) GetScan(ctx context.Context, id string) (*store.Scan, error) {
	s, err := readScan(db.reader.QueryRowContext(ctx, `SELECT `+scanColumns+` FROM scans WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("scan %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get scan %q: %w", id, err)
	}
	return s, nil
}

// ListScans implements store.ScheduleStore.
func (db *DB) ListScans(ctx context.Context, playbook string, limit int) ([]*store.Scan, error) {
	if limit <= 0 {
		limit = 100
	}
	q := `SELECT ` + scanColumns + ` FROM scans`
	args := []any{}
	if playbook != "" {
		q += ` WHERE playbook = ?`
		args = append(args, playbook)
	}
	q += ` ORDER BY created DESC, id DESC LIMIT ?`
	args = append(args, limit)
	rows, err := db.reader.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list scans: %w", err)
	}
	defer rows.Close()
	var out []*store.Scan
	for rows.Next() {
		s, err := readScan(rows)
		if err != nil {
			return nil, fmt.Errorf("list scans: %w", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list scans: %w", err)
	}
	return out, nil
}
