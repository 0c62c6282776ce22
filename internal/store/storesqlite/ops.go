package storesqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/stewardhq/steward/internal/store"
)

// writeStatements are prepared once on the writer connection.
var writeStatements = map[string]string{
	"putTimer":    `INSERT INTO timers (execution_arn, key, due, payload) VALUES (?, ?, ?, ?) ON CONFLICT (execution_arn, key) DO UPDATE SET due = excluded.due, payload = excluded.payload`,
	"deleteTimer": `DELETE FROM timers WHERE execution_arn = ? AND key = ?`,
	"putToken":    `INSERT INTO task_tokens (token, execution_arn, run_key, created_at) VALUES (?, ?, ?, ?)`,
	"deleteToken": `DELETE FROM task_tokens WHERE token = ? AND execution_arn = ?`,
	"updateExec": `UPDATE executions SET status = ?1, output = ?2, error = ?3, cause = ?4, stop_date = ?5, redrive_count = ?6, redrive_date = ?7,
		runtime = ?8, runnable = ?9, version = version + 1, last_event_id = CASE WHEN ?13 < 0 THEN last_event_id ELSE ?10 END
		WHERE arn = ?11 AND version = ?12 AND (?13 < 0 OR last_event_id = ?13)`,
	"updateExecLease": `UPDATE executions SET status = ?1, output = ?2, error = ?3, cause = ?4, stop_date = ?5, redrive_count = ?6, redrive_date = ?7,
		runtime = ?8, runnable = ?9, version = version + 1, last_event_id = CASE WHEN ?13 < 0 THEN last_event_id ELSE ?10 END, lease_owner = ?14, lease_expires = ?15
		WHERE arn = ?11 AND version = ?12 AND (?13 < 0 OR last_event_id = ?13)`,
	"insertExec": `INSERT INTO executions (arn, state_machine_arn, sm_revision, name, status, input, output, error, cause, start_date, stop_date,
		redrive_count, redrive_date, runtime, runnable, version, last_event_id, lease_owner, lease_expires)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?) ON CONFLICT (arn) DO NOTHING`,
	"execVersion": `SELECT version, last_event_id FROM executions WHERE arn = ?`,
}

const smColumns = `m.arn, m.name, m.type, r.revision, r.definition, r.role_arn, r.revision_id, r.description, m.created_at, r.created_at`

func scanStateMachine(row interface{ Scan(...any) error }) (*store.StateMachine, error) {
	var sm store.StateMachine
	var created, updated int64
	if err := row.Scan(&sm.ARN, &sm.Name, &sm.Type, &sm.Revision, &sm.Definition, &sm.RoleARN, &sm.RevisionID, &sm.Description, &created, &updated); err != nil {
		return nil, err
	}
	sm.CreatedAt, sm.UpdatedAt = fromTS(created), fromTS(updated)
	return &sm, nil
}

func notFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// CreateStateMachine implements store.Store.
func (db *DB) CreateStateMachine(ctx context.Context, p store.CreateStateMachineParams) (*store.StateMachine, error) {
	if p.Type == "" {
		p.Type = "STANDARD"
	}
	err := db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.Exec(`INSERT INTO state_machines (arn, name, type, revision, created_at, updated_at) VALUES (?, ?, ?, 1, ?, ?) ON CONFLICT (arn) DO NOTHING`,
			p.ARN, p.Name, p.Type, ts(p.Now), ts(p.Now))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return clean(store.ErrAlreadyExists)
		}
		_, err = tx.Exec(`INSERT INTO state_machine_revisions (arn, revision, definition, role_arn, revision_id, created_at) VALUES (?, 1, ?, ?, ?, ?)`,
			p.ARN, p.Definition, p.RoleARN, p.RevisionID, ts(p.Now))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("create state machine %s: %w", p.ARN, err)
	}
	return db.GetStateMachine(ctx, p.ARN)
}

// UpdateStateMachine implements store.Store.
func (db *DB) UpdateStateMachine(ctx context.Context, p store.UpdateStateMachineParams) (*store.StateMachine, error) {
	err := db.write(ctx, func(tx *sql.Tx) error {
		row := tx.QueryRow(`SELECT `+smColumns+` FROM state_machines m JOIN state_machine_revisions r ON r.arn = m.arn AND r.revision = m.revision WHERE m.arn = ?`, p.ARN)
		cur, err := scanStateMachine(row)
		if errors.Is(err, sql.ErrNoRows) {
			return clean(notFound(err, "read"))
		}
		if err != nil {
			return err
		}
		if p.Definition == "" {
			p.Definition = cur.Definition
		}
		if p.RoleARN == "" {
			p.RoleARN = cur.RoleARN
		}
		rev := cur.Revision + 1
		if _, err := tx.Exec(`INSERT INTO state_machine_revisions (arn, revision, definition, role_arn, revision_id, description, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			p.ARN, rev, p.Definition, p.RoleARN, p.RevisionID, p.Description, ts(p.Now)); err != nil {
			return err
		}
		_, err = tx.Exec(`UPDATE state_machines SET revision = ?, updated_at = ? WHERE arn = ?`, rev, ts(p.Now), p.ARN)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("update state machine %s: %w", p.ARN, err)
	}
	return db.GetStateMachine(ctx, p.ARN)
}

// GetStateMachine implements store.Store.
func (db *DB) GetStateMachine(ctx context.Context, arn string) (*store.StateMachine, error) {
	row := db.reader.QueryRowContext(ctx, `SELECT `+smColumns+` FROM state_machines m JOIN state_machine_revisions r ON r.arn = m.arn AND r.revision = m.revision WHERE m.arn = ?`, arn)
	sm, err := scanStateMachine(row)
	if err != nil {
		return nil, notFound(err, "state machine "+arn)
	}
	return sm, nil
}

// GetStateMachineRevision implements store.Store.
func (db *DB) GetStateMachineRevision(ctx context.Context, arn string, revision int) (*store.StateMachine, error) {
	row := db.reader.QueryRowContext(ctx, `SELECT `+smColumns+` FROM state_machines m JOIN state_machine_revisions r ON r.arn = m.arn WHERE m.arn = ? AND r.revision = ?`, arn, revision)
	sm, err := scanStateMachine(row)
	if err != nil {
		return nil, notFound(err, fmt.Sprintf("state machine %s revision %d", arn, revision))
	}
	return sm, nil
}

func page(p store.ListParams) (limit, offset int, err error) {
	limit = p.Limit
	if limit <= 0 {
		limit = 100
	}
	if p.NextToken != "" {
		offset, err = strconv.Atoi(p.NextToken)
		if err != nil || offset < 0 {
			return 0, 0, fmt.Errorf("invalid next token %q: %w", p.NextToken, store.ErrNotFound)
		}
	}
	return limit, offset, nil
}

func nextToken(n, limit, offset int) string {
	if n < limit {
		return ""
	}
	return strconv.Itoa(offset + limit)
}

// ListStateMachines implements store.Store.
func (db *DB) ListStateMachines(ctx context.Context, p store.ListParams) ([]*store.StateMachine, string, error) {
	limit, offset, err := page(p)
	if err != nil {
		return nil, "", err
	}
	rows, err := db.reader.QueryContext(ctx, `SELECT `+smColumns+` FROM state_machines m JOIN state_machine_revisions r ON r.arn = m.arn AND r.revision = m.revision ORDER BY m.arn LIMIT ? OFFSET ?`, limit, offset)
	if err != nil {
		return nil, "", fmt.Errorf("list state machines: %w", err)
	}
	defer rows.Close()
	var out []*store.StateMachine
	for rows.Next() {
		sm, err := scanStateMachine(rows)
		if err != nil {
			return nil, "", fmt.Errorf("list state machines: %w", err)
		}
		out = append(out, sm)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("list state machines: %w", err)
	}
	return out, nextToken(len(out), limit, offset), nil
}

// DeleteStateMachine implements store.Store.
func (db *DB) DeleteStateMachine(ctx context.Context, arn string) error {
	err := db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.Exec(`DELETE FROM state_machines WHERE arn = ?`, arn)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return clean(store.ErrNotFound)
		}
		_, err = tx.Exec(`DELETE FROM state_machine_revisions WHERE arn = ?`, arn)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete state machine %s: %w", arn, err)
	}
	return nil
}

const execColumns = `arn, state_machine_arn, sm_revision, name, status, input, output, error, cause, start_date, stop_date, redrive_count, redrive_date,
	runtime, runnable, version, last_event_id, lease_owner, lease_expires`

func scanExecution(row interface{ Scan(...any) error }) (*store.Execution, error) {
	var e store.Execution
	var start, stop, redrive, lease int64
	var runnable int
	if err := row.Scan(&e.ARN, &e.StateMachineARN, &e.StateMachineRevision, &e.Name, &e.Status, &e.Input, &e.Output, &e.Error, &e.Cause,
		&start, &stop, &e.RedriveCount, &redrive, &e.Runtime, &runnable, &e.Version, &e.LastEventID, &e.LeaseOwner, &lease); err != nil {
		return nil, err
	}
	e.StartDate, e.StopDate, e.RedriveDate, e.LeaseExpires = fromTS(start), fromTS(stop), fromTS(redrive), fromTS(lease)
	e.Runnable = runnable != 0
	return &e, nil
}

// CreateExecution implements store.Store.
func (db *DB) CreateExecution(ctx context.Context, p store.CreateExecutionParams) (*store.Execution, error) {
	e := p.Execution
	err := db.write(ctx, func(tx *sql.Tx) error {
		last := int64(0)
		if n := len(p.Events); n > 0 {
			last = p.Events[n-1].ID
		}
		res, err := db.stmt(tx, "insertExec").Exec(e.ARN, e.StateMachineARN, e.StateMachineRevision, e.Name, e.Status, e.Input, e.Output, e.Error, e.Cause,
			ts(e.StartDate), ts(e.StopDate), e.RedriveCount, ts(e.RedriveDate), e.Runtime, boolInt(e.Runnable), last, e.LeaseOwner, ts(e.LeaseExpires))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return clean(store.ErrAlreadyExists)
		}
		for i, ev := range p.Events {
			if ev.ID != int64(i+1) {
				return clean(fmt.Errorf("history event id %d does not follow %d: %w", ev.ID, i, store.ErrConflict))
			}
		}
		if err := db.insertEvents(tx, e.ARN, p.Events); err != nil {
			return err
		}
		return db.putTimers(tx, e.ARN, p.Timers)
	})
	if errors.Is(err, store.ErrAlreadyExists) {
		existing, gerr := db.GetExecution(ctx, e.ARN)
		if gerr != nil {
			return nil, fmt.Errorf("create execution %s: %w", e.ARN, err)
		}
		return existing, fmt.Errorf("create execution %s: %w", e.ARN, err)
	}
	if err != nil {
		return nil, fmt.Errorf("create execution %s: %w", e.ARN, err)
	}
	e.Version = 1
	if n := len(p.Events); n > 0 {
		e.LastEventID = p.Events[n-1].ID
	}
	return &e, nil
}

// maxEventRows is how many events one INSERT statement writes.
const maxEventRows = 8

// insertEvents writes events, up to maxEventRows per statement.
func (db *DB) insertEvents(tx *sql.Tx, arn string, events []store.HistoryEvent) error {
	for len(events) > 0 {
		n := min(len(events), maxEventRows)
		args := make([]any, 0, 7*n)
		for _, ev := range events[:n] {
			args = append(args, arn, ev.ID, ev.PreviousEventID, ev.Type, ts(ev.Timestamp), ev.DetailsKey, ev.Details)
		}
		st, err := db.eventStmt(n)
		if err != nil {
			return err
		}
		if _, err := tx.Stmt(st).Exec(args...); err != nil {
			return fmt.Errorf("insert history events %d-%d: %w", events[0].ID, events[n-1].ID, err)
		}
		events = events[n:]
	}
	return nil
}

// eventStmt returns the prepared INSERT of n events.
func (db *DB) eventStmt(n int) (*sql.Stmt, error) {
	st := db.stmts[fmt.Sprintf("insertEvents%d", n)]
	if st == nil {
		return nil, fmt.Errorf("no statement for %d events", n)
	}
	return st, nil
}

func init() {
	for n := 1; n <= maxEventRows; n++ {
		writeStatements[fmt.Sprintf("insertEvents%d", n)] = `INSERT INTO history_events (execution_arn, id, previous_id, type, timestamp, details_key, details) VALUES ` +
			strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?, ?), ", n), ", ")
	}
}

func (db *DB) putTimers(tx *sql.Tx, arn string, timers []store.Timer) error {
	if len(timers) == 0 {
		return nil
	}
	st := db.stmt(tx, "putTimer")
	for _, t := range timers {
		if _, err := st.Exec(arn, t.Key, ts(t.Due), t.Payload); err != nil {
			return fmt.Errorf("put timer %s: %w", t.Key, err)
		}
	}
	return nil
}

// GetExecution implements store.Store.
func (db *DB) GetExecution(ctx context.Context, arn string) (*store.Execution, error) {
	e, err := scanExecution(db.reader.QueryRowContext(ctx, `SELECT `+execColumns+` FROM executions WHERE arn = ?`, arn))
	if err != nil {
		return nil, notFound(err, "execution "+arn)
	}
	return e, nil
}

// ListExecutions implements store.Store.
func (db *DB) ListExecutions(ctx context.Context, p store.ListExecutionsParams) ([]*store.Execution, string, error) {
	limit, offset, err := page(p.ListParams)
	if err != nil {
		return nil, "", err
	}
	var where []string
	var args []any
	if p.StateMachineARN != "" {
		where, args = append(where, "state_machine_arn = ?"), append(args, p.StateMachineARN)
	}
	if p.Status != "" {
		where, args = append(where, "status = ?"), append(args, p.Status)
	}
	q := `SELECT ` + execColumns + ` FROM executions`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY start_date DESC, arn LIMIT ? OFFSET ?"
	rows, err := db.reader.QueryContext(ctx, q, append(args, limit, offset)...)
	if err != nil {
		return nil, "", fmt.Errorf("list executions: %w", err)
	}
	defer rows.Close()
	var out []*store.Execution
	for rows.Next() {
		e, err := scanExecution(rows)
		if err != nil {
			return nil, "", fmt.Errorf("list executions: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("list executions: %w", err)
	}
	return out, nextToken(len(out), limit, offset), nil
}

// GetHistory implements store.Store.
func (db *DB) GetHistory(ctx context.Context, p store.GetHistoryParams) ([]store.HistoryEvent, error) {
	limit := p.Limit
	if limit <= 0 {
		limit = -1
	}
	q := `SELECT id, previous_id, type, timestamp, details_key, details FROM history_events WHERE execution_arn = ? AND id > ? ORDER BY id LIMIT ?`
	args := []any{p.ExecutionARN, p.AfterEventID, limit}
	if p.Reverse {
		q = `SELECT id, previous_id, type, timestamp, details_key, details FROM history_events WHERE execution_arn = ? AND (? = 0 OR id < ?) ORDER BY id DESC LIMIT ?`
		args = []any{p.ExecutionARN, p.AfterEventID, p.AfterEventID, limit}
	}
	rows, err := db.reader.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("history of %s: %w", p.ExecutionARN, err)
	}
	defer rows.Close()
	var out []store.HistoryEvent
	for rows.Next() {
		var ev store.HistoryEvent
		var t int64
		if err := rows.Scan(&ev.ID, &ev.PreviousEventID, &ev.Type, &t, &ev.DetailsKey, &ev.Details); err != nil {
			return nil, fmt.Errorf("history of %s: %w", p.ExecutionARN, err)
		}
		ev.Timestamp = fromTS(t)
		out = append(out, ev)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("history of %s: %w", p.ExecutionARN, err)
	}
	return out, nil
}

// Apply implements store.Store.
func (db *DB) Apply(ctx context.Context, t *store.Transition) error {
	for i := 1; i < len(t.Events); i++ {
		if t.Events[i].ID != t.Events[i-1].ID+1 {
			return fmt.Errorf("apply transition to %s: history event id %d does not follow %d: %w", t.ExecutionARN, t.Events[i].ID, t.Events[i-1].ID, store.ErrConflict)
		}
	}
	err := db.write(ctx, func(tx *sql.Tx) error { return db.apply(tx, t) })
	if err != nil {
		return fmt.Errorf("apply transition to %s: %w", t.ExecutionARN, err)
	}
	return nil
}

func (db *DB) apply(tx *sql.Tx, t *store.Transition) error {
	prevLast, newLast := int64(-1), int64(0)
	if n := len(t.Events); n > 0 {
		prevLast, newLast = t.Events[0].ID-1, t.Events[n-1].ID
	}
	args := []any{t.Status, t.Output, t.Error, t.Cause, ts(t.StopDate), t.RedriveCount, ts(t.RedriveDate),
		t.Runtime, boolInt(t.Runnable), newLast, t.ExecutionARN, t.Version, prevLast}
	name := "updateExec"
	if t.Lease != nil {
		name = "updateExecLease"
		args = append(args, t.Lease.Owner, ts(t.Lease.Expires))
	}
	res, err := db.stmt(tx, name).Exec(args...)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		var version, last int64
		if err := db.stmt(tx, "execVersion").QueryRow(t.ExecutionARN).Scan(&version, &last); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return clean(store.ErrNotFound)
			}
			return err
		}
		if version != t.Version {
			return clean(fmt.Errorf("execution changed since version %d (now %d): %w", t.Version, version, store.ErrConflict))
		}
		return clean(fmt.Errorf("history event id %d does not follow %d: %w", prevLast+1, last, store.ErrConflict))
	}
	if err := db.insertEvents(tx, t.ExecutionARN, t.Events); err != nil {
		return err
	}
	if len(t.DeleteTimers) > 0 {
		st := db.stmt(tx, "deleteTimer")
		for _, k := range t.DeleteTimers {
			if _, err := st.Exec(t.ExecutionARN, k); err != nil {
				return fmt.Errorf("delete timer %s: %w", k, err)
			}
		}
	}
	if err := db.putTimers(tx, t.ExecutionARN, t.PutTimers); err != nil {
		return err
	}
	if len(t.DeleteTokens) > 0 {
		st := db.stmt(tx, "deleteToken")
		for _, k := range t.DeleteTokens {
			if _, err := st.Exec(k, t.ExecutionARN); err != nil {
				return fmt.Errorf("delete task token: %w", err)
			}
		}
	}
	if len(t.PutTokens) > 0 {
		st := db.stmt(tx, "putToken")
		for _, k := range t.PutTokens {
			if _, err := st.Exec(k.Token, t.ExecutionARN, k.RunKey, ts(k.CreatedAt)); err != nil {
				return fmt.Errorf("put task token: %w", err)
			}
		}
	}
	return nil
}

// ClaimExecutions implements store.Store.
func (db *DB) ClaimExecutions(ctx context.Context, p store.ClaimParams) ([]*store.Claim, error) {
	if p.Limit <= 0 {
		p.Limit = 100
	}
	var arns []string
	err := db.write(ctx, func(tx *sql.Tx) error {
		arns = arns[:0]
		now := ts(p.Now)
		rows, err := tx.Query(`SELECT arn FROM executions WHERE runnable = 1 AND status = 'RUNNING' AND (lease_owner = '' OR lease_expires <= ?) LIMIT ?`, now, p.Limit)
		if err != nil {
			return err
		}
		seen := map[string]bool{}
		for rows.Next() {
			var a string
			if err := rows.Scan(&a); err != nil {
				rows.Close()
				return err
			}
			seen[a] = true
			arns = append(arns, a)
		}
		rows.Close()
		if len(arns) < p.Limit {
			// CROSS JOIN keeps timers as the outer loop, walked in due
			// order by timers_due: the cost follows the due timers, not the
			// number of executions.
			rows, err := tx.Query(`SELECT DISTINCT t.execution_arn FROM timers t CROSS JOIN executions e ON e.arn = t.execution_arn
				WHERE t.due <= ? AND e.status = 'RUNNING' AND (e.lease_owner = '' OR e.lease_expires <= ?) ORDER BY t.due LIMIT ?`, now, now, p.Limit)
			if err != nil {
				return err
			}
			for rows.Next() {
				var a string
				if err := rows.Scan(&a); err != nil {
					rows.Close()
					return err
				}
				if !seen[a] && len(arns) < p.Limit {
					seen[a] = true
					arns = append(arns, a)
				}
			}
			rows.Close()
		}
		for _, a := range arns {
			if _, err := tx.Exec(`UPDATE executions SET lease_owner = ?, lease_expires = ? WHERE arn = ?`, p.Owner, ts(p.LeaseUntil), a); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim executions: %w", err)
	}
	out := make([]*store.Claim, 0, len(arns))
	for _, a := range arns {
		e, err := db.GetExecution(ctx, a)
		if err != nil {
			return nil, fmt.Errorf("claim executions: %w", err)
		}
		timers, err := db.timers(ctx, a, p.Now)
		if err != nil {
			return nil, fmt.Errorf("claim executions: %w", err)
		}
		out = append(out, &store.Claim{Execution: e, DueTimers: timers})
	}
	return out, nil
}

func (db *DB) timers(ctx context.Context, arn string, dueBy time.Time) ([]store.Timer, error) {
	q := `SELECT key, due, payload FROM timers WHERE execution_arn = ?`
	args := []any{arn}
	if !dueBy.IsZero() {
		q += ` AND due <= ?`
		args = append(args, ts(dueBy))
	}
	rows, err := db.reader.QueryContext(ctx, q+` ORDER BY due, key`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Timer
	for rows.Next() {
		t := store.Timer{ExecutionARN: arn}
		var due int64
		if err := rows.Scan(&t.Key, &due, &t.Payload); err != nil {
			return nil, err
		}
		t.Due = fromTS(due)
		out = append(out, t)
	}
	return out, rows.Err()
}

// RenewLeases implements store.Store.
func (db *DB) RenewLeases(ctx context.Context, owner string, until time.Time) error {
	err := db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`UPDATE executions SET lease_expires = ? WHERE lease_owner = ?`, ts(until), owner)
		return err
	})
	if err != nil {
		return fmt.Errorf("renew leases of %s: %w", owner, err)
	}
	return nil
}

// ReleaseLeases implements store.Store.
func (db *DB) ReleaseLeases(ctx context.Context, owner string) error {
	err := db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`UPDATE executions SET lease_owner = '', lease_expires = 0 WHERE lease_owner = ?`, owner)
		return err
	})
	if err != nil {
		return fmt.Errorf("release leases of %s: %w", owner, err)
	}
	return nil
}

// NextTimer implements store.Store.
func (db *DB) NextTimer(ctx context.Context, now time.Time) (time.Time, bool, error) {
	var due int64
	err := db.reader.QueryRowContext(ctx, `SELECT t.due FROM timers t CROSS JOIN executions e ON e.arn = t.execution_arn
		WHERE e.status = 'RUNNING' AND (e.lease_owner = '' OR e.lease_expires <= ?) ORDER BY t.due LIMIT 1`, ts(now)).Scan(&due)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("next timer: %w", err)
	}
	return fromTS(due), true, nil
}

// ListTimers implements store.Store.
func (db *DB) ListTimers(ctx context.Context, arn string) ([]store.Timer, error) {
	t, err := db.timers(ctx, arn, time.Time{})
	if err != nil {
		return nil, fmt.Errorf("timers of %s: %w", arn, err)
	}
	return t, nil
}

// GetTaskToken implements store.Store.
func (db *DB) GetTaskToken(ctx context.Context, token string) (*store.TaskToken, error) {
	var t store.TaskToken
	var created int64
	err := db.reader.QueryRowContext(ctx, `SELECT token, execution_arn, run_key, created_at FROM task_tokens WHERE token = ?`, token).Scan(&t.Token, &t.ExecutionARN, &t.RunKey, &created)
	if err != nil {
		return nil, notFound(err, "task token")
	}
	t.CreatedAt = fromTS(created)
	return &t, nil
}
