// Package storesqlite is steward's embedded store: one SQLite file (pure
// Go, modernc.org/sqlite) in WAL mode, with migrations embedded and applied
// on open. One process owns the file at a time (a lock file held with
// flock); inside it, a single writer goroutine batches the writes of many
// executions into one SQLite transaction (group commit) and acknowledges
// each only after that transaction committed. Reads go through a separate
// pool of connections and see only committed data.
package storesqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	_ "modernc.org/sqlite" // the database/sql driver "sqlite"

	"github.com/stewardhq/steward/internal/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Options tune a store. The zero value is the production default.
type Options struct {
	// Synchronous is SQLite's synchronous pragma: "FULL" (default: a
	// commit survives power loss) or "NORMAL" (survives a process crash).
	Synchronous string
	// BusyTimeout is how long a connection waits for a lock; default 5s.
	BusyTimeout time.Duration
	// MaxBatch bounds how many writes one transaction groups; default 512.
	MaxBatch int
	// MaxPageCount, when set, caps the database size in pages (SQLite's
	// max_page_count): writes beyond it fail as on a full disk. For tests.
	MaxPageCount int
}

// DB is a store.Store on one SQLite file.
type DB struct {
	path   string
	lock   *os.File
	reader *sql.DB
	writer *sql.DB
	stmts  map[string]*sql.Stmt
	opts   Options

	queue  chan *op
	done   chan struct{}
	mu     sync.RWMutex // guards closed against sends on queue
	closed bool
	wg     sync.WaitGroup
}

var _ store.Store = (*DB)(nil)

// op is one write waiting for the writer goroutine.
type op struct {
	ctx  context.Context
	fn   func(tx *sql.Tx) error
	done chan error
}

// LockedError says another process holds the store.
type LockedError struct {
	Path string
	PID  string // as written in the lock file, may be empty
}

func (e *LockedError) Error() string {
	s := fmt.Sprintf("store %s is in use by another steward process", e.Path)
	if e.PID != "" {
		s += " (pid " + e.PID + ")"
	}
	return s
}

// Unwrap makes errors.Is(err, store.ErrLocked) true.
func (e *LockedError) Unwrap() error { return store.ErrLocked }

// Open opens (creating if needed) the store at path, takes its lock file
// (path + ".lock") and applies pending migrations.
func Open(path string, opts Options) (*DB, error) {
	if opts.Synchronous == "" {
		opts.Synchronous = "FULL"
	}
	if opts.BusyTimeout == 0 {
		opts.BusyTimeout = 5 * time.Second
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 512
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	lock, err := takeLock(path + ".lock")
	if err != nil {
		return nil, err
	}
	db := &DB{path: path, lock: lock, opts: opts, queue: make(chan *op, 4096), done: make(chan struct{}), stmts: map[string]*sql.Stmt{}}
	if err := db.open(); err != nil {
		db.closeDBs()
		lock.Close()
		return nil, err
	}
	db.wg.Add(1)
	go db.writeLoop()
	return db, nil
}

func takeLock(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open store lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		pid, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, &LockedError{Path: strings.TrimSuffix(path, ".lock"), PID: strings.TrimSpace(string(pid))}
		}
		return nil, fmt.Errorf("lock store %s: %w", path, err)
	}
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return f, nil
}

func (db *DB) dsn(readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", db.opts.BusyTimeout.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous("+db.opts.Synchronous+")")
	q.Add("_pragma", "foreign_keys(OFF)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Set("_txlock", "immediate")
		if db.opts.MaxPageCount > 0 {
			q.Add("_pragma", fmt.Sprintf("max_page_count(%d)", db.opts.MaxPageCount))
		}
	}
	return "file:" + db.path + "?" + q.Encode()
}

func (db *DB) open() error {
	var err error
	if db.writer, err = sql.Open("sqlite", db.dsn(false)); err != nil {
		return fmt.Errorf("open store %s: %w", db.path, err)
	}
	db.writer.SetMaxOpenConns(1)
	db.writer.SetMaxIdleConns(1)
	db.writer.SetConnMaxLifetime(0)
	if err := db.migrate(); err != nil {
		return fmt.Errorf("open store %s: %w", db.path, err)
	}
	if db.reader, err = sql.Open("sqlite", db.dsn(true)); err != nil {
		return fmt.Errorf("open store %s: %w", db.path, err)
	}
	db.reader.SetMaxOpenConns(8)
	db.reader.SetMaxIdleConns(8)
	for name, q := range writeStatements {
		st, err := db.writer.Prepare(q)
		if err != nil {
			return fmt.Errorf("prepare %s: %w", name, err)
		}
		db.stmts[name] = st
	}
	return nil
}

// migrate applies the embedded migrations not yet recorded in
// schema_migrations, each in its own transaction.
func (db *DB) migrate() error {
	ctx := context.Background()
	if _, err := db.writer.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("schema table: %w", err)
	}
	applied := map[int]bool{}
	rows, err := db.writer.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return err
		}
		applied[v] = true
	}
	rows.Close()
	files, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(files)
	for _, f := range files {
		base := filepath.Base(f)
		num, name, ok := strings.Cut(strings.TrimSuffix(base, ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return fmt.Errorf("migration %s: name must be NNN_name.sql", base)
		}
		if applied[v] {
			continue
		}
		body, err := migrations.ReadFile(f)
		if err != nil {
			return err
		}
		tx, err := db.writer.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("migration %s: %w", base, err)
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %s: %w", base, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`, v, name, time.Now().UnixMicro()); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %s: %w", base, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migration %s: %w", base, err)
		}
	}
	return nil
}

// SchemaVersion returns the highest migration applied.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v sql.NullInt64
	err := db.reader.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&v)
	return int(v.Int64), err
}

// Close stops the writer (failing queued writes with store.ErrClosed),
// closes the database and releases the lock.
func (db *DB) Close() error {
	db.mu.Lock()
	if db.closed {
		db.mu.Unlock()
		return nil
	}
	db.closed = true
	close(db.done)
	db.mu.Unlock()
	db.wg.Wait()
	// Fail whatever is still queued.
	for {
		select {
		case o := <-db.queue:
			o.done <- store.ErrClosed
			continue
		default:
		}
		break
	}
	err := db.closeDBs()
	if db.lock != nil {
		db.lock.Close()
	}
	return err
}

func (db *DB) closeDBs() error {
	var errs []error
	for _, st := range db.stmts {
		st.Close()
	}
	if db.reader != nil {
		errs = append(errs, db.reader.Close())
	}
	if db.writer != nil {
		errs = append(errs, db.writer.Close())
	}
	return errors.Join(errs...)
}

// write queues fn for the writer goroutine and waits until the batch that
// ran it committed (or failed).
//
// The contract for fn: it may run more than once (when a batch fails as a
// whole, each write is run again alone), so it must reset whatever Go
// state it fills. An error it returns rolls back the whole batch, unless
// it is wrapped with clean(), which says fn changed nothing and the batch
// may go on (a version conflict found before any write).
func (db *DB) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	o := &op{ctx: ctx, fn: fn, done: make(chan error, 1)}
	db.mu.RLock()
	if db.closed {
		db.mu.RUnlock()
		return store.ErrClosed
	}
	select {
	case db.queue <- o:
	case <-ctx.Done():
		db.mu.RUnlock()
		return ctx.Err()
	}
	db.mu.RUnlock()
	// Once queued the write is run or failed by the writer; we must wait
	// for its answer, since it may commit.
	return <-o.done
}

// writeLoop is the single writer: it takes what is queued, up to MaxBatch
// writes, runs each in a savepoint of one transaction, commits, and only
// then answers them.
func (db *DB) writeLoop() {
	defer db.wg.Done()
	batch := make([]*op, 0, db.opts.MaxBatch)
	for {
		batch = batch[:0]
		select {
		case o := <-db.queue:
			batch = append(batch, o)
		case <-db.done:
			return
		}
	drain:
		for len(batch) < db.opts.MaxBatch {
			select {
			case o := <-db.queue:
				batch = append(batch, o)
			default:
				break drain
			}
		}
		db.runBatch(batch)
	}
}

// runBatch runs a batch in one transaction. When the transaction as a
// whole fails (SQLite rolls back the whole transaction on a full disk or an
// I/O error), each write is run again alone, so that one write's failure
// does not fail the others.
func (db *DB) runBatch(batch []*op) {
	errs, err := db.tryBatch(batch)
	if err != nil && len(batch) > 1 {
		for _, o := range batch {
			db.runBatch([]*op{o})
		}
		return
	}
	for i, o := range batch {
		if err != nil {
			o.done <- err
		} else {
			o.done <- errs[i]
		}
	}
}

// tryBatch runs the writes of a batch in one transaction and commits; it
// returns each write's own result, or an error for the whole batch. A
// write that fails with an SQL error fails the whole batch (its partial
// changes cannot be undone alone without a savepoint, which would cost
// every write two statements); runBatch then runs each write alone.
func (db *DB) tryBatch(batch []*op) ([]error, error) {
	ctx := context.Background()
	errs := make([]error, len(batch))
	tx, err := db.writer.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	for i, o := range batch {
		if err := o.ctx.Err(); err != nil {
			errs[i] = err
			continue
		}
		errs[i] = o.fn(tx)
		if errs[i] != nil && !isClean(errs[i]) {
			tx.Rollback()
			return nil, errs[i]
		}
	}
	if err := tx.Commit(); err != nil {
		tx.Rollback()
		return nil, fmt.Errorf("commit: %w", err)
	}
	return errs, nil
}

// cleanError marks an error returned by a write before it changed
// anything, so the batch can go on.
type cleanError struct{ err error }

func (e *cleanError) Error() string { return e.err.Error() }
func (e *cleanError) Unwrap() error { return e.err }

func clean(err error) error { return &cleanError{err} }

func isClean(err error) bool {
	var c *cleanError
	return errors.As(err, &c)
}

func (db *DB) stmt(tx *sql.Tx, name string) *sql.Stmt {
	return tx.Stmt(db.stmts[name])
}

// Times are stored as Unix microseconds; 0 is the zero time.
func ts(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func fromTS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMicro(v).UTC()
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
