package storesqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/stewardhq/steward/internal/store"
)

var _ store.EventStore = (*DB)(nil)

func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

// AppendEvents implements store.EventStore: one write op, grouped with
// other writers' into one transaction by the writer goroutine; the events
// go in with multi-row INSERTs whose RETURNING clause says which were new.
func (db *DB) AppendEvents(ctx context.Context, events []store.Event) ([]bool, error) {
	fresh := make([]bool, len(events))
	err := db.write(ctx, func(tx *sql.Tx) error {
		for i := range fresh {
			fresh[i] = false // the write may run twice (see write)
		}
		for start := 0; start < len(events); start += maxIngestRows {
			chunk := events[start:min(start+maxIngestRows, len(events))]
			args := make([]any, 0, len(chunk)*9)
			for _, e := range chunk {
				args = append(args, e.ID, e.Source, e.DetailType, e.Account, e.Region, ms(e.Time), ms(e.Received), e.Via, e.Body)
			}
			rows, err := db.stmt(tx, fmt.Sprintf("appendEvents%d", len(chunk))).QueryContext(ctx, args...)
			if err != nil {
				return fmt.Errorf("append events: %w", err)
			}
			inserted := map[string]bool{}
			for rows.Next() {
				var id string
				if err := rows.Scan(&id); err != nil {
					rows.Close()
					return fmt.Errorf("append events: %w", err)
				}
				inserted[id] = true
			}
			if err := rows.Close(); err != nil {
				return fmt.Errorf("append events: %w", err)
			}
			for i, e := range chunk {
				if inserted[e.ID] {
					fresh[start+i] = true
					delete(inserted, e.ID) // a repeated id in one batch is new once
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return fresh, nil
}

// maxIngestRows is how many events one INSERT carries.
const maxIngestRows = 32

const eventColumns = `seq, id, source, detail_type, account, region, time, received, via, body, processed`

func scanEvent(row interface{ Scan(...any) error }) (store.Event, error) {
	var e store.Event
	var t, r int64
	var processed int
	err := row.Scan(&e.Seq, &e.ID, &e.Source, &e.DetailType, &e.Account, &e.Region, &t, &r, &e.Via, &e.Body, &processed)
	e.Time, e.Received, e.Processed = fromMS(t), fromMS(r), processed == 1
	return e, err
}

// GetEvent implements store.EventStore.
func (db *DB) GetEvent(ctx context.Context, id string) (*store.Event, error) {
	e, err := scanEvent(db.reader.QueryRowContext(ctx, `SELECT `+eventColumns+` FROM events WHERE id = ?`, id))
	if err != nil {
		return nil, notFound(err, "event "+id)
	}
	return &e, nil
}

// ListEvents implements store.EventStore.
func (db *DB) ListEvents(ctx context.Context, p store.ListEventsParams) ([]store.Event, string, error) {
	limit, offset, err := page(p.ListParams)
	if err != nil {
		return nil, "", err
	}
	var where []string
	var args []any
	add := func(cond string, arg any) { where, args = append(where, cond), append(args, arg) }
	if !p.Since.IsZero() {
		add("received >= ?", ms(p.Since))
	}
	if !p.Until.IsZero() {
		add("received < ?", ms(p.Until))
	}
	if p.Source != "" {
		add("source = ?", p.Source)
	}
	if p.Rule != "" {
		add("seq IN (SELECT event_seq FROM event_matches WHERE rule = ?)", p.Rule)
	}
	if p.Unprocessed {
		where = append(where, "processed = 0")
	}
	if p.AfterSeq > 0 {
		add("seq > ?", p.AfterSeq)
	}
	q := `SELECT ` + eventColumns + ` FROM events`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	if p.Ascending || p.AfterSeq > 0 {
		q += " ORDER BY seq ASC"
	} else {
		q += " ORDER BY seq DESC"
	}
	q += " LIMIT ? OFFSET ?"
	rows, err := db.reader.QueryContext(ctx, q, append(args, limit, offset)...)
	if err != nil {
		return nil, "", fmt.Errorf("list events: %w", err)
	}
	defer rows.Close()
	var out []store.Event
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, "", fmt.Errorf("list events: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("list events: %w", err)
	}
	return out, nextToken(len(out), limit, offset), nil
}

// CompleteEvent implements store.EventStore.
func (db *DB) CompleteEvent(ctx context.Context, seq int64, matches []store.EventMatch) error {
	return db.write(ctx, func(tx *sql.Tx) error {
		for _, m := range matches {
			skipped := 0
			if m.Skipped {
				skipped = 1
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO event_matches (event_seq, rule, playbook, execution_arn, skipped, reason, at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
				seq, m.Rule, m.Playbook, m.ExecutionARN, skipped, m.Reason, ms(m.At)); err != nil {
				return fmt.Errorf("record match of event %d: %w", seq, err)
			}
		}
		res, err := tx.ExecContext(ctx, `UPDATE events SET processed = 1 WHERE seq = ?`, seq)
		if err != nil {
			return fmt.Errorf("complete event %d: %w", seq, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("complete event %d: %w", seq, store.ErrNotFound)
		}
		return nil
	})
}

// ListMatches implements store.EventStore.
func (db *DB) ListMatches(ctx context.Context, seq int64) ([]store.EventMatch, error) {
	rows, err := db.reader.QueryContext(ctx, `SELECT event_seq, rule, playbook, execution_arn, skipped, reason, at FROM event_matches WHERE event_seq = ? ORDER BY rule, playbook`, seq)
	if err != nil {
		return nil, fmt.Errorf("list matches: %w", err)
	}
	defer rows.Close()
	var out []store.EventMatch
	for rows.Next() {
		var m store.EventMatch
		var skipped int
		var at int64
		if err := rows.Scan(&m.EventSeq, &m.Rule, &m.Playbook, &m.ExecutionARN, &skipped, &m.Reason, &at); err != nil {
			return nil, fmt.Errorf("list matches: %w", err)
		}
		m.Skipped, m.At = skipped == 1, fromMS(at)
		out = append(out, m)
	}
	return out, rows.Err()
}

// ObserveThreshold implements store.EventStore.
func (db *DB) ObserveThreshold(ctx context.Context, rule, key, eventID string, at time.Time, window time.Duration) (int, error) {
	var n int
	err := db.write(ctx, func(tx *sql.Tx) error {
		from := ms(at.Add(-window))
		if _, err := tx.ExecContext(ctx, `DELETE FROM threshold_events WHERE rule = ? AND key = ? AND at <= ?`, rule, key, from); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO threshold_events (rule, key, event_id, at) VALUES (?, ?, ?, ?) ON CONFLICT (rule, event_id) DO NOTHING`, rule, key, eventID, ms(at)); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM threshold_events WHERE rule = ? AND key = ? AND at > ? AND at <= ?`, rule, key, from, ms(at)).Scan(&n)
	})
	if err != nil {
		return 0, fmt.Errorf("threshold %s/%s: %w", rule, key, err)
	}
	return n, nil
}

// PutRule implements store.EventStore.
func (db *DB) PutRule(ctx context.Context, r store.StoredRule) error {
	return db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO rules (name, doc, updated) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET doc = excluded.doc, updated = excluded.updated`, r.Name, r.Doc, ms(r.Updated))
		if err != nil {
			return fmt.Errorf("put rule %s: %w", r.Name, err)
		}
		return nil
	})
}

// DeleteRule implements store.EventStore.
func (db *DB) DeleteRule(ctx context.Context, name string) error {
	return db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM rules WHERE name = ?`, name)
		if err != nil {
			return fmt.Errorf("delete rule %s: %w", name, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("rule %s: %w", name, store.ErrNotFound)
		}
		return nil
	})
}

// ListRules implements store.EventStore.
func (db *DB) ListRules(ctx context.Context) ([]store.StoredRule, error) {
	rows, err := db.reader.QueryContext(ctx, `SELECT name, doc, updated FROM rules ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list rules: %w", err)
	}
	defer rows.Close()
	var out []store.StoredRule
	for rows.Next() {
		var r store.StoredRule
		var u int64
		if err := rows.Scan(&r.Name, &r.Doc, &u); err != nil {
			return nil, fmt.Errorf("list rules: %w", err)
		}
		r.Updated = fromMS(u)
		out = append(out, r)
	}
	return out, rows.Err()
}

func init() {
	for n := 1; n <= maxIngestRows; n++ {
		writeStatements[fmt.Sprintf("appendEvents%d", n)] = `INSERT INTO events (id, source, detail_type, account, region, time, received, via, body) VALUES ` +
			strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?, ?, ?, ?), ", n), ", ") + ` ON CONFLICT (id) DO NOTHING RETURNING id`
	}
}
