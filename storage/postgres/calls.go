package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/storage/calllog"
)

// idBlock is the increment of the call_ids sequence: one nextval reserves
// this many call-log IDs for one instance.
const idBlock = 1000

// idAllocator hands out call-log IDs from reserved blocks without asking
// the database; the call-log writer refills it in the background.
type idAllocator struct {
	mu        sync.Mutex
	next, end int64   // the current block, [next, end)
	spare     []int64 // starts of reserved blocks
	refill    chan struct{}
}

// take returns the next ID, or 0 if none is reserved (the writer then
// assigns one when it writes the row).
func (a *idAllocator) take() int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.next == a.end && len(a.spare) > 0 {
		a.next, a.end, a.spare = a.spare[0], a.spare[0]+idBlock, a.spare[1:]
	}
	if len(a.spare) == 0 && a.end-a.next <= idBlock/2 {
		select {
		case a.refill <- struct{}{}:
		default:
		}
	}
	if a.next == a.end {
		return 0
	}
	id := a.next
	a.next++
	return id
}

// reserve adds one block from the sequence.
func (a *idAllocator) reserve(ctx context.Context, q querier) error {
	rows, err := q.Query(ctx, `SELECT nextval('call_ids')`)
	if err != nil {
		return err
	}
	start, err := pgx.CollectExactlyOneRow(rows, pgx.RowTo[int64])
	if err != nil {
		return err
	}
	a.mu.Lock()
	a.spare = append(a.spare, start)
	a.mu.Unlock()
	return nil
}

// newCallWriter returns the store's call-log writer (see package calllog):
// rows are gathered for LogInterval (or until LogBatch of them wait) and
// written in one INSERT; while the database is unreachable the writer
// holds up to LogBuffer rows beside the queue and tries again every
// LogInterval.
func (s *Store) newCallWriter() *calllog.Writer {
	return calllog.New(calllog.Config{
		Name:         "postgres",
		Write:        s.insertCalls,
		Queue:        s.opts.LogBuffer,
		Keep:         s.opts.LogBuffer,
		Batch:        s.opts.LogBatch,
		Interval:     s.opts.LogInterval,
		Retry:        s.opts.LogInterval,
		WriteTimeout: s.opts.StoreTimeout,
		AddTimeout:   s.opts.StoreTimeout,
		CloseTimeout: s.opts.FlushTimeout,
		Logger:       s.log,
	})
}

// LogCall copies r into the call-log queue and returns at once; the
// writer stores queued rows every LogInterval (or LogBatch rows) in one
// INSERT. r.ID is set from a block of IDs this instance has reserved; if
// none is left (the database was unreachable for long), it stays 0 and
// the row gets its ID when it is written. If the queue is full, LogCall
// waits at most StoreTimeout for room and then fails with ErrUnavailable:
// the row is lost, the call is not held up. Close writes every queued row.
func (s *Store) LogCall(ctx context.Context, r *gate.CallRecord) error {
	if r.At.IsZero() {
		r.At = s.now()
	}
	if r.ID == 0 {
		r.ID = s.ids.take()
	}
	return s.calls.Add(ctx, r)
}

// refillIDs reserves the first block of call-log IDs, and another each
// time the allocator runs low, until ctx is done.
func (s *Store) refillIDs(ctx context.Context) {
	failing := false
	for {
		rctx, cancel := s.bound(ctx)
		err := s.ids.reserve(rctx, s.pool)
		cancel()
		if err != nil && !failing {
			s.log.Warn("postgres: reserve call-log IDs", "err", classify(err))
		}
		failing = err != nil
		select {
		case <-ctx.Done():
			return
		case <-s.ids.refill:
		}
	}
}

var callColumns = []string{"id", "at", "source", "channel_id", "gate_id", "caller_raw", "caller", "called",
	"active", "mode", "verdict", "attempts", "outcome", "target", "entry_id",
	"decision_latency_ns", "duration_ns", "webhook_latency_ns", "error_class", "closure"}

// insertCalls stores one batch in a multi-row INSERT … ON CONFLICT DO
// NOTHING rather than COPY, so that a batch whose commit was not confirmed
// (a timeout) can be written again without duplicating or blocking on its
// rows: each row gets its ID here, in place, before the first try.
func (s *Store) insertCalls(ctx context.Context, batch []gate.CallRecord) error {
	// QueryExecModeExec: batches differ in size; do not cache a prepared
	// statement per size.
	args := make([]any, 1, 1+len(batch)*len(callColumns))
	args[0] = pgx.QueryExecModeExec
	var sql strings.Builder
	sql.WriteString("INSERT INTO calls (" + strings.Join(callColumns, ", ") + ") VALUES ")
	for i := range batch {
		r := &batch[i]
		if r.ID == 0 {
			id := s.ids.take()
			if id == 0 {
				if err := s.ids.reserve(ctx, s.pool); err != nil {
					return classify(err)
				}
				id = s.ids.take()
			}
			r.ID = id
		}
		if i > 0 {
			sql.WriteString(", ")
		}
		sql.WriteByte('(')
		for j := range callColumns {
			if j > 0 {
				sql.WriteString(", ")
			}
			fmt.Fprintf(&sql, "$%d", len(args)+j) // args[0] is the mode
		}
		sql.WriteByte(')')
		args = append(args, r.ID, r.At, r.Source, r.ChannelID, r.GateID, r.CallerRaw, r.Caller, r.Called,
			r.Active, string(r.Mode), string(r.Verdict), r.Attempts, string(r.Outcome), r.Target, r.EntryID,
			int64(r.DecisionLatency), int64(r.Duration), int64(r.WebhookLatency), r.ErrorClass, r.Closure)
	}
	sql.WriteString(" ON CONFLICT (id) DO NOTHING")
	_, err := s.pool.Exec(ctx, sql.String(), args...)
	return classify(err)
}

// ListCalls first writes the rows buffered so far (so a caller sees its own
// LogCall), then returns a page of rows, newest first, and how many match.
func (s *Store) ListCalls(ctx context.Context, f gate.CallFilter) ([]*gate.CallRecord, int, error) {
	fctx, cancel := s.bound(ctx)
	err := s.calls.Flush(fctx)
	cancel()
	if err != nil && !errors.Is(classify(err), gate.ErrUnavailable) {
		return nil, 0, classify(err) // the writer's error names the store and the failed write
	}
	where, args := callWhere(f)
	var total int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM calls`+where, args...).Scan(&total); err != nil {
		return nil, 0, wrap("list calls", err)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	n := len(args)
	args = append(args, limit, max(f.Offset, 0))
	rows, err := s.pool.Query(ctx, `SELECT `+strings.Join(callColumns, ", ")+` FROM calls`+where+
		fmt.Sprintf(` ORDER BY at DESC, id DESC LIMIT $%d OFFSET $%d`, n+1, n+2), args...)
	if err != nil {
		return nil, 0, wrap("list calls", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*gate.CallRecord, error) {
		var (
			r                      gate.CallRecord
			mode, verdict, outcome string
			dl, du, wl             int64
		)
		err := row.Scan(&r.ID, &r.At, &r.Source, &r.ChannelID, &r.GateID, &r.CallerRaw, &r.Caller, &r.Called,
			&r.Active, &mode, &verdict, &r.Attempts, &outcome, &r.Target, &r.EntryID, &dl, &du, &wl, &r.ErrorClass, &r.Closure)
		r.At = r.At.UTC()
		r.Mode, r.Verdict, r.Outcome = gate.IdentMode(mode), gate.Verdict(verdict), gate.Outcome(outcome)
		r.DecisionLatency, r.Duration, r.WebhookLatency = time.Duration(dl), time.Duration(du), time.Duration(wl)
		return &r, err
	})
	if err != nil {
		return nil, 0, wrap("list calls", err)
	}
	if out == nil {
		out = []*gate.CallRecord{}
	}
	return out, total, nil
}

// pruneBatch is how many call-log rows one PruneCalls statement deletes:
// a short transaction that stays well within StoreTimeout.
const pruneBatch = 5000

// pruneCallsSQL deletes at most $2 of the oldest call-log rows before $1,
// found through the calls_at index; rows another transaction holds (an
// instance pruning at the same time) are skipped, not waited for.
const pruneCallsSQL = `DELETE FROM calls WHERE id IN (
	SELECT id FROM calls WHERE at < $1 AND (cardinality($3::text[]) = 0 OR (gate_id = ANY($3)) <> $4)
	ORDER BY at LIMIT $2 FOR UPDATE SKIP LOCKED)`

// PruneCalls deletes the call-log rows from before before and returns how
// many it deleted. It writes this instance's buffered rows first (and
// fails if that fails), then deletes the oldest rows in statements of at
// most pruneBatch rows, each its own transaction within StoreTimeout; it
// stops between statements when ctx is done. Rows another instance is
// deleting at the same moment are skipped, not waited for, so instances
// that prune at once share the work instead of queueing on row locks.
func (s *Store) PruneCalls(ctx context.Context, before time.Time) (int64, error) {
	return s.PruneGateCalls(ctx, before, gate.PruneScope{Except: true})
}

// PruneGateCalls is PruneCalls for the rows of the gates scope selects.
func (s *Store) PruneGateCalls(ctx context.Context, before time.Time, scope gate.PruneScope) (int64, error) {
	if len(scope.GateIDs) == 0 && !scope.Except {
		return 0, nil
	}
	ids := scope.GateIDs
	if ids == nil {
		ids = []string{}
	}
	fctx, cancel := s.bound(ctx)
	err := s.calls.Flush(fctx)
	cancel()
	if err != nil {
		return 0, classify(err) // named by the writer, as in ListCalls
	}
	var total int64
	for {
		bctx, cancel := s.bound(ctx)
		tag, err := s.pool.Exec(bctx, pruneCallsSQL, before, s.pruneBatch, ids, scope.Except)
		cancel()
		if err != nil {
			return total, wrap(fmt.Sprintf("prune calls: %d deleted, then", total), err)
		}
		n := tag.RowsAffected()
		total += n
		if n < int64(s.pruneBatch) {
			return total, nil
		}
		if err := context.Cause(ctx); err != nil {
			return total, fmt.Errorf("postgres: prune calls: %d deleted, then: %w", total, err)
		}
	}
}

// callWhere is the WHERE clause (with its keyword, or "") of a call
// filter and its arguments.
func callWhere(f gate.CallFilter) (string, []any) {
	var (
		conds []string
		args  []any
	)
	add := func(cond string, v any) {
		args = append(args, v)
		conds = append(conds, fmt.Sprintf(cond, len(args)))
	}
	if f.GateID != "" {
		add("gate_id = $%d", f.GateID)
	}
	if f.Caller != "" {
		add("caller = $%d", f.Caller)
	}
	if f.Outcome != "" {
		add("outcome = $%d", string(f.Outcome))
	}
	if !f.From.IsZero() {
		add("at >= $%d", f.From)
	}
	if !f.To.IsZero() {
		add("at < $%d", f.To)
	}
	where := ""
	if len(conds) > 0 {
		where = " WHERE " + strings.Join(conds, " AND ")
	}
	return where, args
}

// CountCalls implements gate.Store: one GROUP BY over the filtered rows.
func (s *Store) CountCalls(ctx context.Context, f gate.CallFilter) (map[gate.Outcome]int, error) {
	fctx, cancel := s.bound(ctx)
	err := s.calls.Flush(fctx)
	cancel()
	if err != nil && !errors.Is(classify(err), gate.ErrUnavailable) {
		return nil, classify(err)
	}
	where, args := callWhere(f)
	rows, err := s.pool.Query(ctx, `SELECT outcome, count(*) FROM calls`+where+` GROUP BY outcome`, args...)
	if err != nil {
		return nil, wrap("count calls", err)
	}
	defer rows.Close()
	out := map[gate.Outcome]int{}
	for rows.Next() {
		var o string
		var n int
		if err := rows.Scan(&o, &n); err != nil {
			return nil, wrap("count calls", err)
		}
		out[gate.Outcome(o)] = n
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("count calls", err)
	}
	return out, nil
}
