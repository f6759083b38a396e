package postgres

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vipgate/vipgate/storage/storagetest"
)

// TestPruneCallsInBatches checks that PruneCalls deletes a backlog larger
// than one statement's batch and counts every row.
func TestPruneCallsInBatches(t *testing.T) {
	testDSN(t)
	t.Parallel()
	s := openStore(t, freshSchema(t), Options{})
	storagetest.PruneInBatches(t, s, func(n int) { s.pruneBatch = n })
}

// TestPruneUsesIndexes checks that the call-log prune and the failure
// prune can find their rows through an index (calls_at and
// failures_gate_newest) rather than by reading the whole table. The
// tables are nearly empty, so sequential scans are switched off to ask
// the planner whether an index is usable at all.
func TestPruneUsesIndexes(t *testing.T) {
	testDSN(t)
	t.Parallel()
	dsn := freshSchema(t)
	openStore(t, dsn, Options{}) // migrates
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	tests := []struct {
		name, sql, index string
		args             []any
	}{
		{"calls", pruneCallsSQL, "calls_at", []any{time.Now(), 10, []string{}, true}},
		{"failures", pruneFailuresSQL, "failures_gate_newest", []any{"g", time.Now(), 10}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var plan []string
			err := pgx.BeginFunc(t.Context(), conn, func(tx pgx.Tx) error {
				if _, err := tx.Exec(t.Context(), `SET LOCAL enable_seqscan = off`); err != nil {
					return err
				}
				rows, err := tx.Query(t.Context(), `EXPLAIN `+tc.sql, tc.args...)
				if err != nil {
					return err
				}
				plan, err = pgx.CollectRows(rows, pgx.RowTo[string])
				if err != nil {
					return err
				}
				return fmt.Errorf("roll back") // EXPLAIN changes nothing; leave no trace either way
			})
			if err != nil && err.Error() != "roll back" {
				t.Fatal(err)
			}
			joined := strings.Join(plan, "\n")
			if !strings.Contains(joined, tc.index) {
				t.Errorf("plan does not use %s:\n%s", tc.index, joined)
			}
		})
	}
}

// failureRows returns how many (gate, caller) rows gate has in failures.
func failureRows(t *testing.T, s *Store, gateID string) int {
	t.Helper()
	var n int
	if err := s.pool.QueryRow(t.Context(), `SELECT count(*) FROM failures WHERE gate_id = $1`, gateID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestOldFailuresArePrunedForEveryCaller checks that a failure of one
// number deletes the stale rows of other numbers at the same gate, keeps
// rows that are still within the window, and leaves other gates alone.
func TestOldFailuresArePrunedForEveryCaller(t *testing.T) {
	testDSN(t)
	t.Parallel()
	s := openStore(t, freshSchema(t), Options{})
	ctx := t.Context()
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	add := func(gateID, caller string, at time.Time, window time.Duration) int {
		t.Helper()
		n, err := s.AddFailure(ctx, gateID, caller, at, window)
		if err != nil {
			t.Fatalf("add failure %s/%s at %v: %v", gateID, caller, at, err)
		}
		return n
	}
	for i, caller := range []string{"+4971100001", "+4971100002", "+4971100003"} {
		add("g", caller, t0.Add(time.Duration(i)*time.Minute), time.Hour)
	}
	add("other", "+4971100001", t0, time.Hour)
	// A second short of a day after the first failure: nothing goes.
	add("g", "+4971100008", t0.Add(failureRetention-time.Second), time.Hour)
	if n := failureRows(t, s, "g"); n != 4 {
		t.Fatalf("gate g has %d rows a second short of a day after the first failure, want 4 (nothing pruned)", n)
	}
	add("g", "+4971100009", t0.Add(failureRetention+time.Hour), time.Hour)
	if n := failureRows(t, s, "g"); n != 2 {
		t.Errorf("gate g has %d rows, want 2 (the stale ones of other numbers pruned)", n)
	}
	if n := failureRows(t, s, "other"); n != 1 {
		t.Errorf("gate other has %d rows, want 1 (another gate is left alone)", n)
	}

	// A window longer than the retention keeps rows for the window.
	long := 48 * time.Hour
	add("w", "+4971100001", t0, long)
	add("w", "+4971100002", t0.Add(30*time.Hour), long)
	if n := add("w", "+4971100001", t0.Add(40*time.Hour), long); n != 2 {
		t.Errorf("failures of a caller 40h apart with a 48h window = %d, want 2 (not pruned after a day)", n)
	}
	add("w", "+4971100003", t0.Add(40*time.Hour+long), long)
	if n := failureRows(t, s, "w"); n != 1 {
		t.Errorf("gate w has %d rows after the window passed, want 1", n)
	}
}

// TestFailurePruneBatch checks that one AddFailure deletes at most
// failurePruneBatch stale rows, so a backlog is worked off in steps.
func TestFailurePruneBatch(t *testing.T) {
	testDSN(t)
	t.Parallel()
	s := openStore(t, freshSchema(t), Options{})
	ctx := t.Context()
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	stale := failurePruneBatch + 5
	if _, err := s.pool.Exec(ctx, `INSERT INTO failures (gate_id, caller, times)
		SELECT 'g', '+49711' || i, ARRAY[$1::timestamptz] FROM generate_series(1, $2) AS i`, t0, stale); err != nil {
		t.Fatal(err)
	}
	later := t0.Add(failureRetention + time.Hour)
	if _, err := s.AddFailure(ctx, "g", "+4930000001", later, time.Hour); err != nil {
		t.Fatal(err)
	}
	if n := failureRows(t, s, "g"); n != 5+1 {
		t.Errorf("after one failure: %d rows, want %d (%d stale pruned)", n, 6, failurePruneBatch)
	}
	if _, err := s.AddFailure(ctx, "g", "+4930000002", later, time.Hour); err != nil {
		t.Fatal(err)
	}
	if n := failureRows(t, s, "g"); n != 2 {
		t.Errorf("after two failures: %d rows, want 2 (the backlog gone)", n)
	}
}

// TestConcurrentFailuresPruneEachOther runs failures of many stale
// numbers at one gate at once: each one's prune wants the others' rows.
// None may fail (a deadlock would) and each counts only its new failure.
func TestConcurrentFailuresPruneEachOther(t *testing.T) {
	testDSN(t)
	t.Parallel()
	dsn := freshSchema(t)
	a := openStore(t, dsn, Options{})
	b := openStore(t, dsn, Options{})
	ctx := t.Context()
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	const callers, rounds = 16, 5
	caller := func(i int) string { return fmt.Sprintf("+497110000%02d", i) }
	for r := range rounds {
		at := t0.Add(time.Duration(r) * (failureRetention + time.Hour))
		if r == 0 {
			for i := range callers {
				if _, err := a.AddFailure(ctx, "g", caller(i), at, time.Hour); err != nil {
					t.Fatal(err)
				}
			}
			continue
		}
		// Every row is stale now: each failure below prunes the others.
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range callers {
			s := a
			if i%2 == 1 {
				s = b
			}
			wg.Go(func() {
				<-start
				n, err := s.AddFailure(ctx, "g", caller(i), at, time.Hour)
				if err != nil {
					t.Errorf("round %d: add failure of %s: %v", r, caller(i), err)
				} else if n != 1 {
					t.Errorf("round %d: count of %s = %d, want 1 (its failure a day ago is outside the window)", r, caller(i), n)
				}
			})
		}
		close(start)
		wg.Wait()
		if n := failureRows(t, a, "g"); n != callers {
			t.Fatalf("round %d: %d rows, want %d (every fresh failure kept)", r, n, callers)
		}
	}
}
