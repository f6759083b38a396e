package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/storage/storagetest"
)

func openInternal(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "vipgate.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestLookupKeysArePrefixes checks that the keys the lookup query computes
// are exactly gate.Prefixes of the number.
func TestLookupKeysArePrefixes(t *testing.T) {
	s := openInternal(t)
	for _, number := range []string{"1", "201", "0201", "+1", "+12", "+491", "+4971112345", "+4917612345678", "+12125550100", strings.Repeat("9", maxLookupLen)} {
		t.Run(number, func(t *testing.T) {
			q := lookupSQL(len(number))
			list := q[strings.Index(q, "IN (")+4 : strings.Index(q, ")\n")]
			list = strings.ReplaceAll(list, "?2", "?1")
			var got []string
			rows, err := s.r.QueryContext(t.Context(), "SELECT value FROM json_each(json_array("+list+"))", number)
			if err != nil {
				t.Fatalf("query keys: %v", err)
			}
			defer rows.Close()
			for rows.Next() {
				var k string
				if err := rows.Scan(&k); err != nil {
					t.Fatal(err)
				}
				got = append(got, k)
			}
			if want := gate.Prefixes(number); !slices.Equal(got, want) {
				t.Errorf("keys = %q, want gate.Prefixes = %q", got, want)
			}
		})
	}
}

// TestLookupUsesIndex checks the plan of the lookup query: a search of
// the (gate_id, pattern) index, no table scan.
func TestLookupUsesIndex(t *testing.T) {
	s := openInternal(t)
	rows, err := s.r.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+lookupSQL(14), "g", "+4971112345678", int64(0))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	joined := strings.Join(plan, "; ")
	t.Logf("plan: %s", joined)
	if !strings.Contains(joined, "USING INDEX entries_gate_pattern (gate_id=? AND pattern=?)") || strings.Contains(joined, "SCAN entries") {
		t.Errorf("lookup plan = %s, want a search of entries_gate_pattern", joined)
	}
}

// TestLogCallDoesNotWaitForTheWriter holds the only write connection, as
// a long import does, and checks that LogCall still returns at once and
// that the rows are written when the connection is free again.
func TestLogCallDoesNotWaitForTheWriter(t *testing.T) {
	s := openInternal(t)
	ctx := context.Background()
	held, err := s.w.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close() // also on failure, so that Close can finish
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for i := range 10 {
		c, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		err := s.LogCall(c, &gate.CallRecord{At: at.Add(time.Duration(i) * time.Second), Source: "ari", Outcome: gate.OutcomePassed})
		cancel()
		if err != nil {
			t.Fatalf("log call %d while the writer is busy: %v", i, err)
		}
	}
	listed := make(chan int, 1)
	go func() {
		_, n, err := s.ListCalls(ctx, gate.CallFilter{})
		if err != nil {
			t.Errorf("list calls: %v", err)
		}
		listed <- n
	}()
	select {
	case n := <-listed:
		t.Fatalf("list calls returned %d rows while the writer was held; want it to wait for the queued rows", n)
	case <-time.After(100 * time.Millisecond):
	}
	held.Close()
	if n := <-listed; n != 10 {
		t.Errorf("list calls = %d rows, want 10", n)
	}
}

// TestCloseWritesQueuedCalls checks that Close writes every queued row and
// that LogCall after Close fails.
func TestCloseWritesQueuedCalls(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "vipgate.db")
	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	const n = 1000 // more than one batch
	for i := range n {
		if err := s.LogCall(ctx, &gate.CallRecord{Source: "agi", GateID: "g", Outcome: gate.OutcomeRejected, Attempts: i}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if err := s.LogCall(ctx, &gate.CallRecord{Source: "agi"}); !errors.Is(err, gate.ErrUnavailable) {
		t.Errorf("log call after close = %v, want unavailable", err)
	}
	s, err = Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, total, err := s.ListCalls(ctx, gate.CallFilter{GateID: "g"}); err != nil || total != n {
		t.Errorf("after reopen: %d rows, %v; want %d", total, err, n)
	}
}

// TestCallLogSurvivesAnotherProcessWriting holds the database's write lock
// from a second connection, as "vipgate pins import" in another process
// does for a large file, for longer than the busy timeout. The queued rows
// must not be lost: they are written once the lock is released, and Close
// writes them too.
func TestCallLogSurvivesAnotherProcessWriting(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "vipgate.db")
	s, err := Open(ctx, path, Options{BusyTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	other, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	lock, err := other.w.BeginTx(ctx, nil) // _txlock=immediate: takes the write lock
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Rollback()

	const n = 300 // more than one INSERT
	for i := range n {
		if err := s.LogCall(ctx, &gate.CallRecord{Source: "ari", GateID: "g", Outcome: gate.OutcomePassed, Attempts: i}); err != nil {
			t.Fatalf("log call %d: %v", i, err)
		}
	}
	if _, _, err := s.ListCalls(ctx, gate.CallFilter{}); !errors.Is(err, gate.ErrUnavailable) {
		t.Fatalf("list calls while another process holds the write lock = %v, want unavailable", err)
	}
	if err := lock.Rollback(); err != nil {
		t.Fatal(err)
	}
	if _, total, err := s.ListCalls(ctx, gate.CallFilter{GateID: "g"}); err != nil || total != n {
		t.Fatalf("after the lock was released: %d rows, %v; want %d", total, err, n)
	}

	// Rows queued while the lock is held are written by Close once it is
	// released.
	lock, err = other.w.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.LogCall(ctx, &gate.CallRecord{Source: "ari", GateID: "h", Outcome: gate.OutcomePassed}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.ListCalls(ctx, gate.CallFilter{}); !errors.Is(err, gate.ErrUnavailable) {
		t.Fatalf("list calls while the lock is held again = %v, want unavailable", err)
	}
	lock.Rollback()
	if err := s.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if _, total, err := other.ListCalls(ctx, gate.CallFilter{GateID: "h"}); err != nil || total != 1 {
		t.Errorf("row queued while locked: %d rows, %v; want 1", total, err)
	}
}

// TestOldFailuresArePrunedForEveryCaller checks that a failure of one
// number prunes the stale failures of other numbers at the same gate.
func TestOldFailuresArePrunedForEveryCaller(t *testing.T) {
	s := openInternal(t)
	ctx := context.Background()
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for i, caller := range []string{"+4971100001", "+4971100002", "+4971100003"} {
		if _, err := s.AddFailure(ctx, "g", caller, t0.Add(time.Duration(i)*time.Minute), time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.AddFailure(ctx, "other", "+4971100001", t0, time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddFailure(ctx, "g", "+4971100009", t0.Add(failureRetention+time.Hour), time.Hour); err != nil {
		t.Fatal(err)
	}
	count := func(gateID string) int {
		var n int
		if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM failures WHERE gate_id = ?`, gateID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count("g"); n != 1 {
		t.Errorf("gate g keeps %d failures, want 1 (the stale ones of other numbers pruned)", n)
	}
	if n := count("other"); n != 1 {
		t.Errorf("gate other keeps %d failures, want 1 (another gate is left alone)", n)
	}
}

// TestPruneCallsInBatches checks that PruneCalls deletes a backlog larger
// than one batch in several transactions and counts every row.
func TestPruneCallsInBatches(t *testing.T) {
	s := openInternal(t)
	storagetest.PruneInBatches(t, s, func(n int) { s.pruneBatch = n })
}

// TestPruneCallsUsesIndex checks that the prune finds old rows through
// the calls_at index rather than by reading the whole call log.
func TestPruneCallsUsesIndex(t *testing.T) {
	s := openInternal(t)
	rows, err := s.r.QueryContext(context.Background(), `EXPLAIN QUERY PLAN `+fmt.Sprintf(pruneCallsSQL, ""), 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	joined := strings.Join(plan, "; ")
	if !strings.Contains(joined, "INDEX calls_at") || strings.Contains(joined, "SCAN calls") {
		t.Errorf("prune plan does not search calls by the calls_at index: %s", joined)
	}
}

// TestCallWriterErrorNamesStoreOnce checks that a call-log write failure,
// reported by ListCalls, names the store and the operation once
// ("sqlite: write 1 call-log rows: ...", never "sqlite: list calls: sqlite: ...").
func TestCallWriterErrorNamesStoreOnce(t *testing.T) {
	s := openInternal(t)
	ctx := context.Background()
	// A table the insert cannot write into makes every write fail.
	if _, err := s.w.ExecContext(ctx, `DROP TABLE calls`); err != nil {
		t.Fatal(err)
	}
	if err := s.LogCall(ctx, &gate.CallRecord{At: time.Now(), Source: "agi", ChannelID: "c1"}); err != nil {
		t.Fatal(err)
	}
	_, _, err := s.ListCalls(ctx, gate.CallFilter{Limit: 10})
	if err == nil {
		t.Fatal("ListCalls succeeded without a calls table")
	}
	if n := strings.Count(err.Error(), "sqlite:"); n != 1 || !strings.Contains(err.Error(), "write 1 call-log rows") {
		t.Errorf("ListCalls error %q: want \"sqlite:\" once and the failed write named", err)
	}
}

// TestWriterMemoryIsBounded checks the pragmas that keep an import's
// memory independent of its size: the writer maps no part of the file,
// keeps temporary tables in a file and has a bounded page cache; readers
// keep their memory map.
func TestWriterMemoryIsBounded(t *testing.T) {
	s := openInternal(t)
	pragma := func(db interface {
		QueryRowContext(context.Context, string, ...any) *sql.Row
	}, name string) int64 {
		var v int64
		if err := db.QueryRowContext(t.Context(), "PRAGMA "+name).Scan(&v); err != nil {
			t.Fatalf("PRAGMA %s: %v", name, err)
		}
		return v
	}
	if v := pragma(s.w, "mmap_size"); v != 0 {
		t.Errorf("writer mmap_size = %d, want 0", v)
	}
	if v := pragma(s.w, "temp_store"); v != 1 {
		t.Errorf("writer temp_store = %d, want 1 (FILE)", v)
	}
	if v := pragma(s.w, "cache_size"); v != -writeCacheKiB || writeCacheKiB > 16<<10 {
		t.Errorf("writer cache_size = %d (writeCacheKiB %d), want at most 16 MiB", v, writeCacheKiB)
	}
	if v := pragma(s.r, "mmap_size"); v != mmapSize {
		t.Errorf("reader mmap_size = %d, want %d", v, mmapSize)
	}
}
