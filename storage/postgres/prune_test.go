package postgres

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vipgate/vipgate/gate"
)

// TestPruneCallsInBatches checks that PruneCalls deletes a backlog larger
// than one statement's batch and counts every row.
func TestPruneCallsInBatches(t *testing.T) {
	testDSN(t)
	t.Parallel()
	s := openStore(t, freshSchema(t), Options{})
	s.pruneBatch = 3
	ctx := t.Context()
	cut := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for i := range 12 {
		at := cut.Add(time.Duration(i-10) * time.Hour) // 10 before the cut, 2 at or after it
		if err := s.LogCall(ctx, &gate.CallRecord{At: at, Source: "agi", Outcome: gate.OutcomePassed}); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.PruneCalls(ctx, cut)
	if err != nil || n != 10 {
		t.Fatalf("prune = %d, %v; want 10 (in batches of 3), nil", n, err)
	}
	got, total, err := s.ListCalls(ctx, gate.CallFilter{})
	if err != nil || total != 2 {
		t.Fatalf("after prune: %d rows, %v; want 2", total, err)
	}
	if !got[1].At.Equal(cut) {
		t.Errorf("oldest kept row at %v, want %v", got[1].At, cut)
	}
	// Exactly a multiple of the batch: the last, empty batch ends it.
	s.pruneBatch = 1
	if n, err := s.PruneCalls(ctx, cut.Add(2*time.Hour)); err != nil || n != 2 {
		t.Fatalf("prune the rest = %d, %v; want 2, nil", n, err)
	}
}

// TestPruneUsesIndexes checks that the call-log prune can find its rows
// through an index (calls_at) rather than by reading the whole table. The
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
		{"calls", pruneCallsSQL, "calls_at", []any{time.Now(), 10}},
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
