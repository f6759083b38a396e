package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"net/url"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/storage/calllog"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is a gate.Store on one SQLite file. It is safe for concurrent use.
type Store struct {
	w   *sql.DB // one connection: every write
	r   *sql.DB // read-only connections
	now func() time.Time

	// lookup holds the prepared reads by key (see readStmt).
	lookupMu sync.Mutex
	lookup   map[int]*sql.Stmt

	cache   gateCache
	granted grantGates
	recheck time.Duration

	file dbFile
	// secrets seals the secrets of gates on write and opens them on read;
	// nil keeps them as they are.
	secrets gate.SecretBox

	calls *calllog.Writer
	// pruneBatch is the most call-log rows one PruneCalls transaction
	// deletes (tests lower it).
	pruneBatch int
}

var _ gate.Store = (*Store)(nil)

// Defaults for Options.
const (
	DefaultBusyTimeout = 5 * time.Second
	DefaultGateRecheck = time.Second
	// DefaultLogInterval is how long call-log rows are gathered.
	DefaultLogInterval = 200 * time.Millisecond
)

// Options tune a Store. The zero value uses the defaults.
type Options struct {
	// Logger receives the call-log writer's outage and recovery lines;
	// nil discards them.
	Logger *slog.Logger
	// Now is the clock that stamps created_at, updated_at and other
	// store-set times; default time.Now.
	Now func() time.Time
	// ReadConns is the size of the read pool (default GOMAXPROCS, at
	// least 4).
	ReadConns int
	// BusyTimeout is how long a connection waits for a lock held by
	// another process before failing (default 5s).
	BusyTimeout time.Duration
	// GateRecheck is how often the gate cache asks the database whether
	// another process changed a gate (default 1s; negative asks on every
	// read). Changes made through this Store are seen at once.
	GateRecheck time.Duration
	// LogInterval is how long the call log gathers rows after the first
	// one before it writes them in one transaction (default 200ms, as the
	// PostgreSQL store; negative writes each row as soon as it comes).
	// Readers through this Store see every row (they flush first);
	// another process, such as `vipgate calls export`, sees a row up to
	// LogInterval later.
	LogInterval time.Duration
	// Synchronous is PRAGMA synchronous: "NORMAL" (the default; safe with
	// WAL, a power loss may lose the last commits) or "FULL".
	Synchronous string
	// Secrets, if set, keeps the secrets of gates (webhook header values
	// and URLs) sealed in the database: sealed when a gate is written,
	// opened when it is read. Open seals the secrets of gates written in
	// clear before (an older vipgate, or no Secrets). Without it secrets
	// are stored as they are.
	Secrets gate.SecretBox
}

func (o *Options) setDefaults() {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.ReadConns <= 0 {
		o.ReadConns = max(4, runtime.GOMAXPROCS(0))
	}
	if o.BusyTimeout <= 0 {
		o.BusyTimeout = DefaultBusyTimeout
	}
	switch {
	case o.GateRecheck == 0:
		o.GateRecheck = DefaultGateRecheck
	case o.GateRecheck < 0:
		o.GateRecheck = 0
	}
	switch {
	case o.LogInterval == 0:
		o.LogInterval = DefaultLogInterval
	case o.LogInterval < 0:
		o.LogInterval = 0
	}
	if o.Synchronous == "" {
		o.Synchronous = "NORMAL"
	}
}

const (
	// mmapSize is PRAGMA mmap_size of the read connections: reads
	// through a memory map instead of read calls.
	mmapSize = 256 << 20
	// writeCacheKiB is the page cache of the write connection. An import
	// bigger than it spills dirty pages to the WAL before it commits;
	// the former 64 MiB made a 1,000,000-row import hold about 100 MB
	// more (BENCHMARKS.md).
	writeCacheKiB = 16 << 10
)

// Open opens (creating if needed) the database at path and brings its
// schema up to date. path is a file name; in-memory databases are not
// supported because the read and write pools must share one database.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	opts.setDefaults()
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") || strings.ContainsRune(path, '?') {
		return nil, fmt.Errorf("sqlite: open: want a file name without '?', got %q", path)
	}
	switch strings.ToUpper(opts.Synchronous) {
	case "NORMAL", "FULL":
	default:
		return nil, fmt.Errorf("sqlite: open: synchronous must be NORMAL or FULL, not %q", opts.Synchronous)
	}
	dsn := func(readOnly bool) string {
		q := url.Values{}
		q.Add("_pragma", "busy_timeout("+strconv.FormatInt(opts.BusyTimeout.Milliseconds(), 10)+")")
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "foreign_keys(1)")
		q.Add("_pragma", "synchronous("+strings.ToUpper(opts.Synchronous)+")")
		if readOnly {
			q.Add("_pragma", "temp_store(MEMORY)")
			q.Add("_pragma", "mmap_size("+strconv.FormatInt(mmapSize, 10)+")")
			q.Add("_pragma", "query_only(1)")
		} else {
			// The writer reads through its page cache only, and its
			// temporary tables (an import's list of kept patterns) live
			// in a file: a re-import of a million rows that touches every
			// page would otherwise map the whole database and hold the
			// pattern list in memory, and the process would grow with
			// the size of the import.
			q.Add("_pragma", "temp_store(FILE)")
			q.Add("_pragma", "mmap_size(0)")
			// The page cache grows only as used (see writeCacheKiB).
			q.Add("_pragma", "cache_size(-"+strconv.Itoa(writeCacheKiB)+")")
			q.Set("_txlock", "immediate")
		}
		// Without a "file:" prefix the driver cuts the parameters off at
		// the '?' and SQLite takes the rest as a plain file name, so '%'
		// and '#' in the path need no escaping.
		return path + "?" + q.Encode()
	}
	if err := createPrivate(path); err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	w, err := sql.Open("sqlite", dsn(false))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := migrate(ctx, w, opts.Now); err != nil {
		w.Close()
		return nil, err
	}
	r, err := sql.Open("sqlite", dsn(true))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	r.SetMaxOpenConns(opts.ReadConns)
	r.SetMaxIdleConns(opts.ReadConns)
	r.SetConnMaxIdleTime(0)
	r.SetConnMaxLifetime(0)
	if err := r.PingContext(ctx); err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("sqlite: open: %w", dbErr(err))
	}
	file, err := statDB(path)
	if err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	s := &Store{w: w, r: r, file: file, secrets: opts.Secrets, now: opts.Now, lookup: map[int]*sql.Stmt{}, recheck: opts.GateRecheck, pruneBatch: pruneBatch}
	if _, err := s.sealClearSecrets(ctx); err != nil {
		w.Close()
		r.Close()
		return nil, err
	}
	s.calls = calllog.New(calllog.Config{Name: "sqlite", Write: s.insertCalls, Batch: callBatch, Interval: opts.LogInterval, Logger: opts.Logger})
	return s, nil
}

// migrate applies the embedded migrations that the database lacks, each in
// its own transaction.
func migrate(ctx context.Context, db *sql.DB, now func() time.Time) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT`); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", dbErr(err))
	}
	files, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	type mig struct {
		version int
		name    string
	}
	var ms []mig
	for _, f := range files {
		name := strings.TrimPrefix(f, "migrations/")
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return fmt.Errorf("sqlite: migrate: bad migration name %q (want NNNN_name.sql)", name)
		}
		ms = append(ms, mig{v, name})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	// Every embedded migration the table does not list is applied, in
	// order, also one numbered below a migration applied before (a change
	// merged after a later-numbered one); none is skipped for its number.
	applied := map[int]bool{}
	rows, err := db.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return fmt.Errorf("sqlite: migrate: %w", dbErr(err))
	}
	current := 0
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return fmt.Errorf("sqlite: migrate: %w", dbErr(err))
		}
		applied[v] = true
		current = max(current, v)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", dbErr(err))
	}
	rows.Close()
	if len(ms) > 0 && current > ms[len(ms)-1].version {
		return fmt.Errorf("sqlite: migrate: database schema version %d is newer than this vipgate knows (%d)", current, ms[len(ms)-1].version)
	}
	for _, m := range ms {
		if applied[m.version] {
			continue
		}
		body, err := migrations.ReadFile("migrations/" + m.name)
		if err != nil {
			return fmt.Errorf("sqlite: migrate %s: %w", m.name, err)
		}
		err = inTx(ctx, db, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, string(body)); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`, m.version, m.name, now().UnixNano())
			return err
		})
		if err != nil {
			return fmt.Errorf("sqlite: migrate %s: %w", m.name, dbErr(err))
		}
	}
	return nil
}

// inTx runs fn in a transaction and commits it if fn returns nil.
func inTx(ctx context.Context, db *sql.DB, fn func(tx *sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// Ping checks that the database can be read and written, that the file at
// the store's path is still the one it opened (not deleted or replaced)
// and writable, and reports a failed background write of call-log rows.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.file.check(); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	if err := s.calls.Err(); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	if err := s.r.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping: %w", dbErr(err))
	}
	var one int
	if err := s.w.QueryRowContext(ctx, `SELECT 1`).Scan(&one); err != nil {
		return fmt.Errorf("sqlite: ping: %w", dbErr(err))
	}
	return nil
}

// The keys of the prepared reads below 1; a key of 1 or more is
// LookupEntry's statement for numbers of that many bytes (lookupSQL).
const (
	readLockoutsKey = -iota
	callGrantsKey
	gateVersionKey
	outboxDueKey
	outboxDepthKey
)

// readQuery returns the query of the prepared read key.
func readQuery(key int) string {
	switch key {
	case readLockoutsKey:
		return readLockoutsSQL
	case callGrantsKey:
		return callGrantsSQL
	case gateVersionKey:
		return `SELECT version FROM gate_version`
	case outboxDueKey:
		return outboxDueSQL
	case outboxDepthKey:
		return outboxDepthSQL
	}
	return lookupSQL(key)
}

// readStmt returns the prepared read statement key (see readQuery),
// preparing it on first use. The reads that run on every call or every
// second are prepared once rather than parsed each time.
func (s *Store) readStmt(ctx context.Context, key int) (*sql.Stmt, error) {
	s.lookupMu.Lock()
	defer s.lookupMu.Unlock()
	if st, ok := s.lookup[key]; ok {
		return st, nil
	}
	st, err := s.r.PrepareContext(ctx, readQuery(key))
	if err != nil {
		return nil, err
	}
	s.lookup[key] = st
	return st, nil
}

// Close writes the queued call-log rows and closes both pools.
func (s *Store) Close() error {
	callErr := s.calls.Close()
	s.lookupMu.Lock()
	for _, st := range s.lookup {
		st.Close()
	}
	s.lookup = map[int]*sql.Stmt{}
	s.lookupMu.Unlock()
	return errors.Join(callErr, s.r.Close(), s.w.Close())
}

// dbErr translates driver errors into gate sentinels, keeping the driver
// error in the chain. Driver messages name columns, never values.
func dbErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return gate.ErrNotFound
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		// Constraint violations become the domain's error alone: the
		// driver's text must not reach an API answer.
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return gate.Translated(gate.Duplicate(constraintTable(se.Error())), err)
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			// The only foreign keys point at gates.
			return gate.Translated(fmt.Errorf("gate: %w", gate.ErrNotFound), err)
		}
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_IOERR,
			sqlite3.SQLITE_FULL, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB:
			return fmt.Errorf("%w: %w", gate.ErrUnavailable, err)
		}
	}
	if errors.Is(err, sql.ErrConnDone) || errors.Is(err, sql.ErrTxDone) || strings.Contains(err.Error(), "database is closed") {
		return fmt.Errorf("%w: %w", gate.ErrUnavailable, err)
	}
	return err
}

// constraintTable returns the table a SQLite constraint message names
// ("UNIQUE constraint failed: entries.gate_id, entries.pattern" →
// "entries"), or "".
func constraintTable(msg string) string {
	i := strings.LastIndex(msg, "constraint failed: ")
	if i < 0 {
		return ""
	}
	rest := msg[i+len("constraint failed: "):]
	if j := strings.IndexByte(rest, '.'); j > 0 {
		return rest[:j]
	}
	return ""
}

// ns converts a time to stored nanoseconds; the zero time is NULL. Times
// outside the years 1678..2262 are clamped to that range.
func ns(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: clampNS(t), Valid: true}
}

func clampNS(t time.Time) int64 {
	switch sec := t.Unix(); {
	case sec >= math.MaxInt64/1_000_000_000:
		return math.MaxInt64
	case sec <= math.MinInt64/1_000_000_000:
		return math.MinInt64
	}
	return t.UnixNano()
}

// fromNS converts stored nanoseconds back; NULL is the zero time.
func fromNS(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.Unix(0, v.Int64).UTC()
}

func timeNS(v int64) time.Time { return time.Unix(0, v).UTC() }

// stamp returns the store clock's now; times are kept at nanosecond
// precision without a monotonic reading.
func (s *Store) stamp() time.Time { return s.now().UTC().Round(0) }
