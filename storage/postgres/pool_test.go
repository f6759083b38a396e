package postgres

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/storage/storagetest"
)

// syncBuffer is a bytes.Buffer that a logger and the test may share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *syncBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// decideStore creates the Decide benchmark's gate with one listed caller
// and returns an engine over s and that caller.
func decideStore(t *testing.T, s *Store) (*gate.Engine, string) {
	t.Helper()
	ctx := context.Background()
	h := testHasher(t)
	if err := s.CreateGate(ctx, storagetest.DecideGate("g")); err != nil {
		t.Fatal(err)
	}
	const caller = "+4930123456"
	if _, err := s.ImportEntries(ctx, "g", hashRows(h, "g", []clearRow{{caller, "4711"}}), gate.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	return gate.NewEngine(gate.EngineConfig{Store: s, Hasher: h, Region: "DE"}), caller
}

func decideOK(t *testing.T, e *gate.Engine, caller string) {
	t.Helper()
	d := e.Decide(context.Background(), gate.CallInfo{Caller: caller, Called: "1000", GateName: "g"}, time.Now())
	if d.Verdict != gate.VerdictAskPIN || d.Entry == nil || d.Err != nil {
		t.Fatalf("decide %s: verdict %s, entry %v, err %v", caller, d.Verdict, d.Entry, d.Err)
	}
}

// TestDeadConnectionRetried terminates the server processes of every idle
// pooled connection (as a database restart, pg_terminate_backend or an
// idle_session_timeout does) and checks that the next Decide still reads
// the caller table: the read, which does not ping its connection first,
// is repeated once on a live one.
func TestDeadConnectionRetried(t *testing.T) {
	dsn := freshSchema(t)
	logs := &syncBuffer{}
	s := openStore(t, dsn, Options{Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	e, caller := decideStore(t, s)
	waitLive(t, s) // gates come from memory, not from a pooled connection
	ctx := context.Background()
	for range 3 {
		decideOK(t, e, caller)
	}
	// The server processes of the idle pooled connections.
	var pids []uint32
	for _, c := range s.pool.AcquireAllIdle(ctx) {
		pids = append(pids, c.Conn().PgConn().PID())
		c.Release()
	}
	if len(pids) == 0 {
		t.Fatal("no idle pooled connection")
	}
	admin, err := pgx.Connect(ctx, testDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	for _, pid := range pids {
		var ok bool
		if err := admin.QueryRow(ctx, `SELECT pg_terminate_backend($1)`, int32(pid)).Scan(&ok); err != nil || !ok {
			t.Fatalf("terminate backend %d: %v, %v", pid, ok, err)
		}
	}
	eventually(t, 10*time.Second, "terminated backends gone", func() (bool, string) {
		var n int
		if err := admin.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE pid = ANY($1)`, pids).Scan(&n); err != nil {
			return false, err.Error()
		}
		return n == 0, ""
	})
	// Well within a second of idleness: pgxpool's default would not ping.
	decideOK(t, e, caller)
	if !strings.Contains(logs.String(), "retrying on another") {
		t.Errorf("the Decide did not meet a dead connection (log: %s)", logs.String())
	}
	// The pool has dropped the dead connections: later calls need no retry.
	n := strings.Count(logs.String(), "retrying on another")
	for range 3 {
		decideOK(t, e, caller)
	}
	if m := strings.Count(logs.String(), "retrying on another"); m != n {
		t.Errorf("%d more retries after the first", m-n)
	}
}

// wireLog records the writes to the connections it dialled: pgx writes
// each round trip's messages (a query, a batch, a ping) with one Write.
type wireLog struct {
	mu     sync.Mutex
	writes []wireWrite
}

type wireWrite struct {
	conn net.Conn
	data string
}

type loggedConn struct {
	net.Conn
	log *wireLog
}

func (c loggedConn) Write(p []byte) (int, error) {
	c.log.mu.Lock()
	c.log.writes = append(c.log.writes, wireWrite{c.Conn, string(p)})
	c.log.mu.Unlock()
	return c.Conn.Write(p)
}

// since returns the writes from the nth on.
func (l *wireLog) since(n int) []wireWrite {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.writes[n:])
}

func (l *wireLog) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.writes)
}

// TestDecideOneRoundTripAfterIdle checks that a Decide on a connection
// idle for more than a second is one round trip: pgxpool's default would
// ping such a connection first.
func TestDecideOneRoundTripAfterIdle(t *testing.T) {
	dsn := freshSchema(t)
	cfg, err := poolConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	// One connection, so that the statements the first Decide prepares
	// are there for the measured ones.
	cfg.MaxConns = 1
	wire := &wireLog{}
	dial := cfg.ConnConfig.DialFunc
	cfg.ConnConfig.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return loggedConn{Conn: c, log: wire}, nil
	}
	s, err := openConfig(context.Background(), cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	e, caller := decideStore(t, s)
	waitLive(t, s)
	decideOK(t, e, caller) // prepares the statements
	// The Decide's batch binds the lockout query's prepared statement,
	// which pgx names after the query's SHA-256 (internal/stmtcache).
	digest := sha256.Sum256([]byte(callLockoutsSQL))
	lockouts := "stmtcache_" + hex.EncodeToString(digest[:24])
	for _, idle := range []time.Duration{0, 1100 * time.Millisecond} {
		time.Sleep(idle)
		n := wire.len()
		decideOK(t, e, caller)
		ws := wire.since(n)
		var conn net.Conn
		for _, w := range ws {
			if strings.Contains(w.data, lockouts) {
				conn = w.conn
			}
		}
		if conn == nil {
			t.Fatalf("after %v idle: no write bound the lockout query (%d writes)", idle, len(ws))
		}
		var got []string
		for _, w := range ws {
			if w.conn == conn {
				got = append(got, fmt.Sprintf("%q", w.data[:min(len(w.data), 16)]))
			}
		}
		if len(got) != 1 {
			t.Errorf("after %v idle: the Decide wrote %d times to its connection, want 1 (one round trip): %v", idle, len(got), got)
		}
	}
}
