package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/vipgate/vipgate/gate"
)

// LogCall queues a call-log row for the background writer (see package
// calllog) and returns at once; it waits only while the queue is full
// (bounded by ctx). The writer gathers the rows that come within
// Options.LogInterval (200 ms) of the first and writes them in one
// transaction: a commit per row cost more CPU than the call's rest of the
// store work (BENCHMARKS.md). A long write transaction (a big import)
// delays the row but never the caller. While the database refuses
// writes (another process holds the write lock past the busy timeout, the
// disk is full), the writer keeps the rows and tries again every second.
// The ID is not set. ListCalls writes queued rows before it reads, Close
// (trying for at most 10 s) before it closes. A zero At is set to now.
func (s *Store) LogCall(ctx context.Context, r *gate.CallRecord) error {
	if r.At.IsZero() {
		r.At = s.stamp()
	}
	return s.calls.Add(ctx, r)
}

// ListCalls returns a page of call-log rows, newest first, and how many
// match the filter.
func (s *Store) ListCalls(ctx context.Context, f gate.CallFilter) ([]*gate.CallRecord, int, error) {
	if err := s.calls.Flush(ctx); err != nil {
		// The writer's error names the store and the failed write.
		return nil, 0, err
	}
	where, args := callWhere(f)
	limit, offset := f.Limit, max(f.Offset, 0)
	if limit <= 0 {
		limit = 100
	}
	var total int
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM calls WHERE `+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("sqlite: list calls: %w", dbErr(err))
	}
	rows, err := s.r.QueryContext(ctx, `SELECT id, at, source, channel_id, gate_id, caller_raw, caller, called, active, mode, verdict,
		attempts, outcome, target, entry_id, decision_latency_ns, duration_ns, webhook_latency_ns, error_class, closure
		FROM calls WHERE `+where+` ORDER BY at DESC, id DESC LIMIT ? OFFSET ?`, append(args, limit, offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("sqlite: list calls: %w", dbErr(err))
	}
	defer rows.Close()
	var out []*gate.CallRecord
	for rows.Next() {
		var (
			r                   gate.CallRecord
			at, dl, dur, wl     int64
			mode, verdict, out2 string
		)
		if err := rows.Scan(&r.ID, &at, &r.Source, &r.ChannelID, &r.GateID, &r.CallerRaw, &r.Caller, &r.Called, &r.Active,
			&mode, &verdict, &r.Attempts, &out2, &r.Target, &r.EntryID, &dl, &dur, &wl, &r.ErrorClass, &r.Closure); err != nil {
			return nil, 0, fmt.Errorf("sqlite: list calls: %w", dbErr(err))
		}
		r.At = timeNS(at)
		r.Mode, r.Verdict, r.Outcome = gate.IdentMode(mode), gate.Verdict(verdict), gate.Outcome(out2)
		r.DecisionLatency, r.Duration, r.WebhookLatency = time.Duration(dl), time.Duration(dur), time.Duration(wl)
		out = append(out, &r)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("sqlite: list calls: %w", dbErr(err))
	}
	return out, total, nil
}

// pruneBatch is how many call-log rows one PruneCalls transaction
// deletes: a few milliseconds of the single writer, so that queued
// call-log rows, counters and imports get their turn between batches.
const pruneBatch = 1000

// pruneCallsSQL deletes the oldest call-log rows before a time, at most a
// number of them; the calls_at index finds them.
const pruneCallsSQL = `DELETE FROM calls WHERE id IN (SELECT id FROM calls WHERE at < ?%s ORDER BY at LIMIT ?)`

// PruneCalls deletes the call-log rows from before before and returns how
// many it deleted. It writes the queued rows first (and fails, like
// ListCalls, if that fails), then deletes the oldest rows in batches of
// pruneBatch, each its own write transaction, so that the single writer is
// never held for long; it stops between batches when ctx is done. The
// file does not shrink: SQLite reuses the freed pages.
func (s *Store) PruneCalls(ctx context.Context, before time.Time) (int64, error) {
	return s.PruneGateCalls(ctx, before, gate.PruneScope{Except: true})
}

// PruneGateCalls is PruneCalls for the rows of the gates scope selects.
func (s *Store) PruneGateCalls(ctx context.Context, before time.Time, scope gate.PruneScope) (int64, error) {
	if len(scope.GateIDs) == 0 && !scope.Except {
		return 0, nil
	}
	if err := s.calls.Flush(ctx); err != nil {
		return 0, err // named by the writer, as in ListCalls
	}
	cut := clampNS(before)
	args, cond := []any{cut}, ""
	if len(scope.GateIDs) > 0 {
		not := ""
		if scope.Except {
			not = "NOT "
		}
		cond = " AND gate_id " + not + "IN (?" + strings.Repeat(", ?", len(scope.GateIDs)-1) + ")"
		for _, id := range scope.GateIDs {
			args = append(args, id)
		}
	}
	q := fmt.Sprintf(pruneCallsSQL, cond)
	args = append(args, s.pruneBatch)
	var total int64
	for {
		res, err := s.w.ExecContext(ctx, q, args...)
		if err != nil {
			return total, fmt.Errorf("sqlite: prune calls: %d deleted, then: %w", total, dbErr(err))
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, fmt.Errorf("sqlite: prune calls: %d deleted, then: %w", total, dbErr(err))
		}
		total += n
		if n < int64(s.pruneBatch) {
			return total, nil
		}
		if err := context.Cause(ctx); err != nil {
			return total, fmt.Errorf("sqlite: prune calls: %d deleted, then: %w", total, err)
		}
	}
}

// callBatch is the most rows one INSERT writes (19 parameters each).
const callBatch = 256

// insertCalls writes rows in multi-row INSERTs in one transaction.
func (s *Store) insertCalls(ctx context.Context, rows []gate.CallRecord) error {
	if len(rows) == 0 {
		return nil
	}
	err := inTx(ctx, s.w, func(tx *sql.Tx) error {
		for start := 0; start < len(rows); start += callBatch {
			chunk := rows[start:min(start+callBatch, len(rows))]
			q := `INSERT INTO calls (at, source, channel_id, gate_id, caller_raw, caller, called, active, mode, verdict,
				attempts, outcome, target, entry_id, decision_latency_ns, duration_ns, webhook_latency_ns, error_class, closure) VALUES ` +
				strings.Repeat(`(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?),`, len(chunk)-1) +
				`(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
			args := make([]any, 0, 19*len(chunk))
			for i := range chunk {
				r := &chunk[i]
				args = append(args, clampNS(r.At), r.Source, r.ChannelID, r.GateID, r.CallerRaw, r.Caller, r.Called, r.Active,
					string(r.Mode), string(r.Verdict), r.Attempts, string(r.Outcome), r.Target, r.EntryID,
					int64(r.DecisionLatency), int64(r.Duration), int64(r.WebhookLatency), r.ErrorClass, r.Closure)
			}
			if _, err := tx.ExecContext(ctx, q, args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return dbErr(err)
	}
	return nil
}

// callWhere is the WHERE clause of a call filter and its arguments.
func callWhere(f gate.CallFilter) (string, []any) {
	where := `1`
	var args []any
	if f.GateID != "" {
		where += ` AND gate_id = ?`
		args = append(args, f.GateID)
	}
	if f.Caller != "" {
		where += ` AND caller = ?`
		args = append(args, f.Caller)
	}
	if f.Outcome != "" {
		where += ` AND outcome = ?`
		args = append(args, string(f.Outcome))
	}
	if !f.From.IsZero() {
		where += ` AND at >= ?`
		args = append(args, clampNS(f.From))
	}
	if !f.To.IsZero() {
		where += ` AND at < ?`
		args = append(args, clampNS(f.To))
	}
	return where, args
}

// CountCalls implements gate.Store: one GROUP BY over the filtered rows.
func (s *Store) CountCalls(ctx context.Context, f gate.CallFilter) (map[gate.Outcome]int, error) {
	if err := s.calls.Flush(ctx); err != nil {
		return nil, err
	}
	where, args := callWhere(f)
	rows, err := s.r.QueryContext(ctx, `SELECT outcome, count(*) FROM calls WHERE `+where+` GROUP BY outcome`, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: count calls: %w", dbErr(err))
	}
	defer rows.Close()
	out := map[gate.Outcome]int{}
	for rows.Next() {
		var o string
		var n int
		if err := rows.Scan(&o, &n); err != nil {
			return nil, fmt.Errorf("sqlite: count calls: %w", dbErr(err))
		}
		out[gate.Outcome(o)] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: count calls: %w", dbErr(err))
	}
	return out, nil
}
