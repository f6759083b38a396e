package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/storage/calllog"
)

// Channel is the LISTEN/NOTIFY channel on which instances announce gate
// changes to each other.
const Channel = "vipgate_changes"

// Defaults for Options.
const (
	DefaultStoreTimeout = 2 * time.Second
	DefaultLogBuffer    = 4096
	DefaultLogBatch     = 500
	DefaultLogInterval  = 200 * time.Millisecond
	DefaultFlushTimeout = 10 * time.Second
)

// Options tune a Store. The zero value uses the defaults.
type Options struct {
	// Logger receives connection and cache events; nil discards them. The
	// DSN's password, PINs and PIN hashes are never logged.
	Logger *slog.Logger
	// StoreTimeout bounds every query on the call path (gate reads, caller
	// lookups, lockout counters, prompts, call-log enqueueing); default 2s.
	StoreTimeout time.Duration
	// LogBuffer bounds the call-log rows waiting in memory; default 4096.
	// The queue holds this many and the writer as many again while the
	// database does not take them. When both are full, LogCall waits at
	// most StoreTimeout and then fails with gate.ErrUnavailable.
	LogBuffer int
	// LogBatch is the most rows written in one COPY; default 500.
	LogBatch int
	// LogInterval is how often buffered rows are written; default 200ms.
	LogInterval time.Duration
	// FlushTimeout bounds how long Close keeps trying to write buffered
	// call-log rows while the database is unreachable; default 10s.
	FlushTimeout time.Duration
	// Now returns the current time (tests inject a clock); default
	// time.Now.
	Now func() time.Time
	// Secrets, if set, keeps the secrets of gates (webhook header values
	// and URLs) sealed in the database: sealed when a gate is written,
	// opened when it is read. Open seals the secrets of gates written in
	// clear before (an older vipgate, or no Secrets). Every instance
	// sharing the database needs the same key.
	Secrets gate.SecretBox
}

func (o *Options) setDefaults() {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.StoreTimeout <= 0 {
		o.StoreTimeout = DefaultStoreTimeout
	}
	if o.LogBuffer <= 0 {
		o.LogBuffer = DefaultLogBuffer
	}
	if o.LogBatch <= 0 {
		o.LogBatch = DefaultLogBatch
	}
	if o.LogInterval <= 0 {
		o.LogInterval = DefaultLogInterval
	}
	if o.FlushTimeout <= 0 {
		o.FlushTimeout = DefaultFlushTimeout
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Store is the PostgreSQL implementation of gate.Store. It is safe for
// concurrent use, and several Stores (in several processes) may share one
// database.
type Store struct {
	opts   Options
	log    *slog.Logger
	pool   *pgxpool.Pool
	schema string // current_schema() of the pool's connections

	gates *gateCache
	// listenerPID is the server process of the listener's connection (0
	// while it is away); tests terminate it.
	listenerPID atomic.Uint32

	calls *calllog.Writer
	ids   idAllocator // call-log IDs reserved by this instance
	// pruneBatch is the most call-log rows one PruneCalls statement
	// deletes (tests lower it).
	pruneBatch int

	cancel context.CancelFunc // stops the background goroutines
	wg     sync.WaitGroup
	once   sync.Once
}

var _ gate.Store = (*Store)(nil)

// Open connects to the database named by dsn (a postgres:// URL or a
// key=value string as libpq reads it; pgxpool settings such as
// pool_max_conns are honoured), brings its schema up to date (see
// Migrate), loads the gates and starts the change listener and the
// call-log writer. The tables live in the first schema of the
// connection's search_path (usually public); a search_path parameter in
// the DSN selects another one.
//
// Open fails if the database cannot be reached: an instance starts only
// with a working database, and then survives outages (see the package
// documentation).
func Open(ctx context.Context, dsn string, opts Options) (*Store, error) {
	cfg, err := poolConfig(dsn)
	if err != nil {
		return nil, err
	}
	return openConfig(ctx, cfg, opts)
}

// poolConfig parses dsn into the pool's configuration, with the pool's
// liveness check of idle connections (ShouldPing) as vipgate wants it:
// see pingBeforeUse.
func poolConfig(dsn string) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx redacts the password in parse errors.
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	cfg.ShouldPing = pingBeforeUse
	return cfg, nil
}

// Liveness of pooled connections. pgxpool by default pings a connection
// idle for more than a second before handing it out: a second round trip
// on the call path of every call on a quiet PBX. The reads of the call
// path (ReadCall, LookupEntry, GetLockout) are idempotent, so they skip
// the ping and, if the connection turns out to be broken (the server
// closed or reset it), run once more on a connection that is pinged
// first (see Store.read). Writes cannot be repeated blindly, so they keep
// pgxpool's ping of a connection idle for more than writePingIdle.
const writePingIdle = time.Second

type pingKey struct{}

// Ping modes carried in the context of an Acquire.
const (
	pingNever  = 1 // a read that retries instead
	pingAlways = 2 // the retry of such a read: every idle connection is checked
)

func pingBeforeUse(ctx context.Context, p pgxpool.ShouldPingParams) bool {
	switch ctx.Value(pingKey{}) {
	case pingNever:
		return false
	case pingAlways:
		return true
	}
	return p.IdleDuration > writePingIdle
}

// read runs the idempotent read op within StoreTimeout on a pooled
// connection that is not pinged first. If op fails because its connection
// was broken, op runs once more (within the same StoreTimeout) on a
// connection pgxpool pings before handing it out, so dead idle
// connections are dropped and a call is not failed by one.
func (s *Store) read(ctx context.Context, op func(ctx context.Context) error) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	err := op(context.WithValue(ctx, pingKey{}, pingNever))
	if err == nil || ctx.Err() != nil || !brokenConn(err) {
		return err
	}
	s.log.Debug("postgres: read failed on a broken connection; retrying on another", "err", err)
	return op(context.WithValue(ctx, pingKey{}, pingAlways))
}

// brokenConn reports whether err means that the connection an operation
// ran on is broken (closed or reset by the server, a FATAL error from it),
// as opposed to a timeout, a cancellation or an error of the statement.
func brokenConn(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) || pgconn.Timeout(err) {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Severity == "FATAL" || pgErr.Severity == "PANIC" ||
			strings.HasPrefix(pgErr.Code, "08") || pgErr.Code == "57P01" || pgErr.Code == "57P02"
	}
	return pgconn.SafeToRetry(err) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		strings.Contains(err.Error(), "conn closed")
}

// openConfig is Open with the pool's configuration parsed.
func openConfig(ctx context.Context, cfg *pgxpool.Config, opts Options) (*Store, error) {
	opts.setDefaults()
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", classify(err))
	}
	s := &Store{opts: opts, log: opts.Logger, pool: pool, pruneBatch: pruneBatch}
	if err := s.init(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	bg, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.gates = newGateCache()
	if n, err := s.sealClearSecrets(ctx); err != nil {
		cancel()
		pool.Close()
		return nil, fmt.Errorf("postgres: open: %w", err)
	} else if n > 0 {
		s.log.Info("postgres: sealed the webhook secrets of gates stored in clear", "gates", n)
	}
	if err := s.reloadGates(ctx, s.pool); err != nil {
		cancel()
		pool.Close()
		return nil, fmt.Errorf("postgres: open: load gates: %w", err)
	}
	s.ids.refill = make(chan struct{}, 1)
	s.calls = s.newCallWriter()
	s.wg.Add(2)
	go func() { defer s.wg.Done(); s.listen(bg) }()
	go func() { defer s.wg.Done(); s.refillIDs(bg) }()
	s.log.Info("postgres: store open", "host", cfg.ConnConfig.Host, "port", cfg.ConnConfig.Port,
		"database", cfg.ConnConfig.Database, "user", cfg.ConnConfig.User, "schema", s.schema)
	return s, nil
}

func (s *Store) init(ctx context.Context) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("postgres: open: %w", classify(err))
	}
	defer conn.Release()
	if err := migrate(ctx, conn.Conn(), s.log); err != nil {
		return err
	}
	if err := conn.QueryRow(ctx, `SELECT current_schema()`).Scan(&s.schema); err != nil {
		return fmt.Errorf("postgres: open: %w", classify(err))
	}
	return nil
}

// Ping checks that the database answers, within StoreTimeout.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgres: ping: %w", classify(err))
	}
	return nil
}

// Close writes the buffered call-log rows (trying for at most
// FlushTimeout if the database is unreachable), stops the listener and
// closes the pool. Its error says how many rows could not be written.
// Calls after Close fail.
func (s *Store) Close() error {
	var err error
	s.once.Do(func() {
		err = s.calls.Close()
		s.cancel()
		s.wg.Wait()
		s.pool.Close()
	})
	return err
}

// bound returns ctx limited to StoreTimeout: every call-path query runs
// under it, so no call waits longer on the store.
func (s *Store) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.opts.StoreTimeout)
}

// now returns the store's clock, truncated to what PostgreSQL keeps.
func (s *Store) now() time.Time { return s.opts.Now().UTC().Truncate(time.Microsecond) }

// notifyPayload is what a write sends on Channel: the schema (several
// vipgate installations, or test runs, may share a database) and the gate.
func (s *Store) notifyPayload(gateID string) string { return s.schema + ":" + gateID }

// wrap turns err into a vipgate error for operation op.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("postgres: %s: %w", op, classify(err))
}

// classify translates pgx and network errors into gate's sentinels; the
// original error stays in the chain.
func classify(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, gate.ErrNotFound) || errors.Is(err, gate.ErrConflict) ||
		errors.Is(err, gate.ErrInvalid) || errors.Is(err, gate.ErrUnavailable) {
		return err
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%w: %w", gate.ErrNotFound, err)
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		// Constraint violations become the domain's error alone: the
		// driver's text must not reach an API answer.
		case pgErr.Code == "23505":
			return gate.Translated(gate.Duplicate(pgErr.TableName), err)
		case pgErr.Code == "21000":
			// a row upserted twice in one statement
			return gate.Translated(gate.Duplicate(pgErr.TableName), err)
		case pgErr.Code == "40001", pgErr.Code == "40P01":
			// serialization failure, deadlock.
			return gate.Translated(fmt.Errorf("changed concurrently: %w", gate.ErrConflict), err)
		case pgErr.Code == "23503":
			// The only foreign keys point at gates.
			return gate.Translated(fmt.Errorf("gate: %w", gate.ErrNotFound), err)
		case strings.HasPrefix(pgErr.Code, "22"), strings.HasPrefix(pgErr.Code, "23"):
			return gate.Translated(fmt.Errorf("value refused by the database: %w", gate.ErrInvalid), err)
		case strings.HasPrefix(pgErr.Code, "08"), strings.HasPrefix(pgErr.Code, "53"),
			strings.HasPrefix(pgErr.Code, "57"), strings.HasPrefix(pgErr.Code, "58"):
			// connection exceptions, insufficient resources, operator
			// intervention (shutdown, statement cancelled), system errors.
			return fmt.Errorf("%w: %w", gate.ErrUnavailable, err)
		}
		return err
	}
	if unavailable(err) {
		return fmt.Errorf("%w: %w", gate.ErrUnavailable, err)
	}
	return err
}

// unavailable reports whether err means the database could not be reached
// or did not answer in time.
func unavailable(err error) bool {
	var netErr net.Error
	var connErr *pgconn.ConnectError
	switch {
	case errors.Is(err, context.DeadlineExceeded), pgconn.Timeout(err),
		errors.As(err, &netErr), errors.As(err, &connErr), pgconn.SafeToRetry(err),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "conn closed") || strings.Contains(msg, "closed pool") ||
		strings.Contains(msg, "conn busy")
}
