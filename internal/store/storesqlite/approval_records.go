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

var _ store.ApprovalStore = (*DB)(nil)

// msOpt stores a time in Unix milliseconds, the zero time as 0.
func msOpt(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMSOpt(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

const approvalColumns = `id, execution_arn, state_name, task_token, playbook, account, region, resource, owner,
	choices, default_choice, deadline, next_reminder, reminders_sent, notice, status, decision, decided_by,
	channel, reason, until, created_at, decided_at, receipts, last_error, batch, notified_at, send_after,
	send_attempts, delivered_at`

func scanApproval(row interface{ Scan(...any) error }) (*store.Approval, error) {
	var a store.Approval
	var choices, status string
	var deadline, next, until, created, decided, notified, sendAfter, delivered int64
	err := row.Scan(&a.ID, &a.ExecutionARN, &a.StateName, &a.TaskToken, &a.Playbook, &a.Account, &a.Region,
		&a.Resource, &a.Owner, &choices, &a.Default, &deadline, &next, &a.RemindersSent, &a.Notice, &status,
		&a.Decision, &a.DecidedBy, &a.Channel, &a.Reason, &until, &created, &decided, &a.Receipts, &a.LastError,
		&a.Batch, &notified, &sendAfter, &a.SendAttempts, &delivered)
	if err != nil {
		return nil, err
	}
	if choices != "" {
		a.Choices = strings.Split(choices, ",")
	}
	a.Status = store.ApprovalStatus(status)
	a.Deadline, a.NextReminder, a.Until = fromMSOpt(deadline), fromMSOpt(next), fromMSOpt(until)
	a.CreatedAt, a.DecidedAt = fromMSOpt(created), fromMSOpt(decided)
	a.NotifiedAt, a.SendAfter, a.DeliveredAt = fromMSOpt(notified), fromMSOpt(sendAfter), fromMSOpt(delivered)
	return &a, nil
}

// CreateApproval implements store.ApprovalStore.
func (db *DB) CreateApproval(ctx context.Context, a *store.Approval) (*store.Approval, bool, error) {
	if a.ID == "" {
		return nil, false, fmt.Errorf("create approval: empty id")
	}
	for _, c := range a.Choices {
		if strings.Contains(c, ",") {
			return nil, false, fmt.Errorf("create approval %s: choice %q contains a comma", a.ID, c)
		}
	}
	status := a.Status
	if status == "" {
		status = store.ApprovalPending
	}
	created := a.CreatedAt
	if created.IsZero() {
		created = time.Now()
	}
	fresh := false
	err := db.write(ctx, func(tx *sql.Tx) error {
		fresh = false
		res, err := tx.ExecContext(ctx, `INSERT INTO approvals (`+approvalColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO NOTHING`,
			a.ID, a.ExecutionARN, a.StateName, a.TaskToken, a.Playbook, a.Account, a.Region, a.Resource, a.Owner,
			strings.Join(a.Choices, ","), a.Default, msOpt(a.Deadline), msOpt(a.NextReminder), a.RemindersSent,
			a.Notice, string(status), a.Decision, a.DecidedBy, a.Channel, a.Reason, msOpt(a.Until), msOpt(created),
			msOpt(a.DecidedAt), a.Receipts, a.LastError, a.Batch, msOpt(a.NotifiedAt), msOpt(a.SendAfter),
			a.SendAttempts, msOpt(a.DeliveredAt))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		fresh = n == 1
		return err
	})
	if err != nil {
		return nil, false, fmt.Errorf("create approval %s: %w", a.ID, err)
	}
	stored, err := db.GetApproval(ctx, a.ID)
	if err != nil {
		return nil, false, err
	}
	return stored, fresh, nil
}

// GetApproval implements store.ApprovalStore.
func (db *DB) GetApproval(ctx context.Context, id string) (*store.Approval, error) {
	a, err := scanApproval(db.reader.QueryRowContext(ctx, `SELECT `+approvalColumns+` FROM approvals WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("approval %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get approval %s: %w", id, err)
	}
	return a, nil
}

// ListApprovals implements store.ApprovalStore.
func (db *DB) ListApprovals(ctx context.Context, f store.ApprovalFilter) ([]*store.Approval, error) {
	q := `SELECT ` + approvalColumns + ` FROM approvals WHERE 1=1`
	var args []any
	if f.Status != "" {
		q += ` AND status = ?`
		args = append(args, string(f.Status))
	}
	if f.ExecutionARN != "" {
		q += ` AND execution_arn = ?`
		args = append(args, f.ExecutionARN)
	}
	if f.Owner != "" {
		q += ` AND owner = ?`
		args = append(args, f.Owner)
	}
	if f.Undelivered {
		q += ` AND status = 'decided' AND delivered_at = 0`
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	q += ` ORDER BY created_at DESC, id LIMIT ?`
	args = append(args, limit)
	return db.queryApprovals(ctx, "list approvals", q, args...)
}

func (db *DB) queryApprovals(ctx context.Context, what, q string, args ...any) ([]*store.Approval, error) {
	rows, err := db.reader.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	var out []*store.Approval
	for rows.Next() {
		a, err := scanApproval(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// DecideApproval implements store.ApprovalStore: the UPDATE only matches a
// pending row, so of two decisions the single writer lets exactly one win.
func (db *DB) DecideApproval(ctx context.Context, id string, d store.ApprovalDecision) (*store.Approval, error) {
	status := d.Status
	if status == "" {
		status = store.ApprovalDecided
	}
	at := d.DecidedAt
	if at.IsZero() {
		at = time.Now()
	}
	err := db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE approvals SET status = ?, decision = ?, decided_by = ?, channel = ?,
			reason = ?, until = ?, decided_at = ?, next_reminder = 0 WHERE id = ? AND status = 'pending'`,
			string(status), d.Decision, d.DecidedBy, d.Channel, d.Reason, msOpt(d.Until), msOpt(at), id)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 1 {
			return nil
		}
		var exists int
		err = tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM approvals WHERE id = ?`, id).Scan(&exists)
		if err != nil {
			return err
		}
		if exists == 0 {
			return clean(store.ErrNotFound)
		}
		return clean(store.ErrConflict)
	})
	if err != nil {
		return nil, fmt.Errorf("decide approval %s: %w", id, err)
	}
	return db.GetApproval(ctx, id)
}

// DueApprovals implements store.ApprovalStore.
func (db *DB) DueApprovals(ctx context.Context, now time.Time, limit int) ([]*store.Approval, error) {
	if limit <= 0 {
		limit = 100
	}
	n := ms(now)
	return db.queryApprovals(ctx, "due approvals", `SELECT `+approvalColumns+` FROM approvals
		WHERE status = 'pending' AND (deadline <= ? OR (next_reminder > 0 AND next_reminder <= ?))
		ORDER BY MIN(deadline, CASE WHEN next_reminder > 0 THEN next_reminder ELSE deadline END), id LIMIT ?`, n, n, limit)
}

// SetReminder implements store.ApprovalStore.
func (db *DB) SetReminder(ctx context.Context, id string, sent int, next time.Time) error {
	return db.updateApproval(ctx, "set reminder", id, `UPDATE approvals SET reminders_sent = ?, next_reminder = ? WHERE id = ?`, sent, msOpt(next), id)
}

// UnsentApprovals implements store.ApprovalStore.
func (db *DB) UnsentApprovals(ctx context.Context, now time.Time, limit int) ([]*store.Approval, error) {
	if limit <= 0 {
		limit = 100
	}
	return db.queryApprovals(ctx, "unsent approvals", `SELECT `+approvalColumns+` FROM approvals
		WHERE status = 'pending' AND notified_at = 0 AND send_after <= ? ORDER BY created_at, id LIMIT ?`, ms(now), limit)
}

// SetDelivery implements store.ApprovalStore.
func (db *DB) SetDelivery(ctx context.Context, id string, d store.ApprovalDelivery) error {
	return db.updateApproval(ctx, "set delivery", id, `UPDATE approvals SET receipts = ?, notified_at = ?, send_after = ?,
		send_attempts = ?, last_error = ? WHERE id = ?`, d.Receipts, msOpt(d.NotifiedAt), msOpt(d.SendAfter), d.SendAttempts, d.LastError, id)
}

// MarkDelivered implements store.ApprovalStore.
func (db *DB) MarkDelivered(ctx context.Context, id string, at time.Time, msg string) error {
	return db.updateApproval(ctx, "mark delivered", id, `UPDATE approvals SET delivered_at = ?, last_error = ? WHERE id = ?`, msOpt(at), msg, id)
}

// SetApprovalError implements store.ApprovalStore.
func (db *DB) SetApprovalError(ctx context.Context, id string, msg string) error {
	return db.updateApproval(ctx, "set approval error", id, `UPDATE approvals SET last_error = ? WHERE id = ?`, msg, id)
}

func (db *DB) updateApproval(ctx context.Context, what, id, q string, args ...any) error {
	err := db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, q, args...)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
			return clean(store.ErrNotFound)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("%s %s: %w", what, id, err)
	}
	return nil
}
