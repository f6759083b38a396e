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
)

// errClosed is returned by LogCall after Close.
var errClosed = fmt.Errorf("%w: store closed", gate.ErrUnavailable)

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

// callWriter owns the call-log buffer and the goroutine that writes it.
type callWriter struct {
	s        *Store
	q        chan gate.CallRecord
	flushReq chan chan error
	closing  chan struct{}
	done     chan struct{}
	result   error // of the final flush, read after done
	ids      idAllocator

	closeOnce sync.Once
	mu        sync.RWMutex // held for reading while enqueueing; Close takes it to stop enqueueing
	closed    bool
}

func newCallWriter(s *Store) *callWriter {
	return &callWriter{
		s:        s,
		q:        make(chan gate.CallRecord, s.opts.LogBuffer),
		flushReq: make(chan chan error),
		closing:  make(chan struct{}),
		done:     make(chan struct{}),
		ids:      idAllocator{refill: make(chan struct{}, 1)},
	}
}

// LogCall copies r into the call-log buffer and returns at once; a
// background writer stores buffered rows every LogInterval (or LogBatch
// rows) in one INSERT. r.ID is set from a block of IDs this instance has
// reserved; if none is left (the database was unreachable for long), it
// stays 0 and the row gets its ID when it is written. If the buffer is
// full, LogCall waits at most StoreTimeout for room and then fails with
// ErrUnavailable: the row is lost, the call is not held up. Close writes
// every buffered row.
func (s *Store) LogCall(ctx context.Context, r *gate.CallRecord) error {
	w := s.calls
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.closed {
		return fmt.Errorf("postgres: log call: %w", errClosed)
	}
	if r.At.IsZero() {
		r.At = s.now()
	}
	if r.ID == 0 {
		r.ID = w.ids.take()
	}
	rec := *r
	select {
	case w.q <- rec:
		return nil
	default:
	}
	t := time.NewTimer(s.opts.StoreTimeout)
	defer t.Stop()
	select {
	case w.q <- rec:
		return nil
	case <-t.C:
		return fmt.Errorf("postgres: log call: buffer full: %w", gate.ErrUnavailable)
	case <-ctx.Done():
		return fmt.Errorf("postgres: log call: buffer full: %w: %w", gate.ErrUnavailable, ctx.Err())
	}
}

// flush asks the writer to store every row buffered so far.
func (w *callWriter) flush(ctx context.Context) error {
	reply := make(chan error, 1)
	select {
	case w.flushReq <- reply:
	case <-w.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// close stops enqueueing, and waits until the writer has stored the
// buffer (or given up after FlushTimeout).
func (w *callWriter) close() error {
	w.closeOnce.Do(func() {
		w.mu.Lock()
		w.closed = true
		w.mu.Unlock()
		close(w.closing)
	})
	<-w.done
	return w.result
}

// run is the writer goroutine.
func (w *callWriter) run(ctx context.Context) {
	defer close(w.done)
	s := w.s
	// Reserve the first block before the first call needs it.
	rctx, cancel := s.bound(ctx)
	if err := w.ids.reserve(rctx, s.pool); err != nil {
		s.log.Warn("postgres: reserve call-log IDs", "err", classify(err))
	}
	cancel()
	tick := time.NewTicker(s.opts.LogInterval)
	defer tick.Stop()
	var (
		pending []gate.CallRecord
		failing bool // the last write failed (logged once per outage)
	)
	write := func(ctx context.Context) error {
		err := w.write(ctx, &pending)
		switch {
		case err != nil && !failing:
			failing = true
			s.log.Warn("postgres: call log not written; rows kept in memory", "rows", len(pending), "err", err)
		case err == nil && failing:
			failing = false
			s.log.Info("postgres: call log written again")
		}
		return err
	}
	drain := func() {
		for {
			select {
			case r := <-w.q:
				pending = append(pending, r)
			default:
				return
			}
		}
	}
	for {
		q := w.q
		if len(pending) >= s.opts.LogBuffer {
			q = nil // full: LogCall blocks until the database takes rows again
		}
		select {
		case r := <-q:
			pending = append(pending, r)
			if len(pending) >= s.opts.LogBatch {
				wctx, cancel := s.bound(ctx)
				_ = write(wctx)
				cancel()
			}
		case <-tick.C:
			if len(pending) > 0 {
				wctx, cancel := s.bound(ctx)
				_ = write(wctx)
				cancel()
			}
		case <-w.ids.refill:
			rctx, cancel := s.bound(ctx)
			if err := w.ids.reserve(rctx, s.pool); err != nil && !failing {
				s.log.Warn("postgres: reserve call-log IDs", "err", classify(err))
			}
			cancel()
		case reply := <-w.flushReq:
			drain()
			wctx, cancel := s.bound(ctx)
			reply <- write(wctx)
			cancel()
		case <-w.closing:
			w.result = w.final(ctx, &pending, drain, write)
			return
		}
	}
}

// final writes everything left, retrying for at most FlushTimeout.
func (w *callWriter) final(ctx context.Context, pending *[]gate.CallRecord, drain func(), write func(context.Context) error) error {
	s := w.s
	deadline := time.Now().Add(s.opts.FlushTimeout)
	for {
		drain()
		if len(*pending) == 0 {
			return nil
		}
		wctx, cancel := context.WithDeadline(ctx, deadline)
		err := write(wctx)
		cancel()
		if err == nil {
			continue
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("postgres: close: %d call-log rows not written: %w", len(*pending), classify(err))
		}
		t := time.NewTimer(100 * time.Millisecond)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
	}
}

var callColumns = []string{"id", "at", "source", "channel_id", "gate_id", "caller_raw", "caller", "called",
	"active", "mode", "verdict", "attempts", "outcome", "target", "entry_id",
	"decision_latency_ns", "duration_ns", "webhook_latency_ns", "error_class"}

// write stores pending rows in batches of LogBatch and removes what it
// stored. It uses a multi-row INSERT … ON CONFLICT DO NOTHING rather than
// COPY so that a batch whose commit was not confirmed (a timeout) can be
// written again without duplicating or blocking on its rows.
func (w *callWriter) write(ctx context.Context, pending *[]gate.CallRecord) error {
	for len(*pending) > 0 {
		batch := (*pending)[:min(len(*pending), w.s.opts.LogBatch)]
		// QueryExecModeExec: batches differ in size; do not cache a
		// prepared statement per size.
		args := make([]any, 1, 1+len(batch)*len(callColumns))
		args[0] = pgx.QueryExecModeExec
		var sql strings.Builder
		sql.WriteString("INSERT INTO calls (" + strings.Join(callColumns, ", ") + ") VALUES ")
		for i := range batch {
			r := &batch[i]
			if r.ID == 0 {
				id := w.ids.take()
				if id == 0 {
					if err := w.ids.reserve(ctx, w.s.pool); err != nil {
						return err
					}
					id = w.ids.take()
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
				int64(r.DecisionLatency), int64(r.Duration), int64(r.WebhookLatency), r.ErrorClass)
		}
		sql.WriteString(" ON CONFLICT (id) DO NOTHING")
		if _, err := w.s.pool.Exec(ctx, sql.String(), args...); err != nil {
			return err
		}
		clear(batch) // drop the references before reslicing
		*pending = (*pending)[len(batch):]
	}
	*pending = nil
	return nil
}

// ListCalls first writes the rows buffered so far (so a caller sees its own
// LogCall), then returns a page of rows, newest first, and how many match.
func (s *Store) ListCalls(ctx context.Context, f gate.CallFilter) ([]*gate.CallRecord, int, error) {
	fctx, cancel := s.bound(ctx)
	err := s.calls.flush(fctx)
	cancel()
	if err != nil && !errors.Is(classify(err), gate.ErrUnavailable) {
		return nil, 0, wrap("list calls: flush", err)
	}
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
			&r.Active, &mode, &verdict, &r.Attempts, &outcome, &r.Target, &r.EntryID, &dl, &du, &wl, &r.ErrorClass)
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
	SELECT id FROM calls WHERE at < $1 ORDER BY at LIMIT $2 FOR UPDATE SKIP LOCKED)`

// PruneCalls deletes the call-log rows from before before and returns how
// many it deleted. It writes this instance's buffered rows first (and
// fails if that fails), then deletes the oldest rows in statements of at
// most pruneBatch rows, each its own transaction within StoreTimeout; it
// stops between statements when ctx is done. Rows another instance is
// deleting at the same moment are skipped, not waited for, so instances
// that prune at once share the work instead of queueing on row locks.
func (s *Store) PruneCalls(ctx context.Context, before time.Time) (int64, error) {
	fctx, cancel := s.bound(ctx)
	err := s.calls.flush(fctx)
	cancel()
	if err != nil {
		return 0, wrap("prune calls: flush", err)
	}
	var total int64
	for {
		bctx, cancel := s.bound(ctx)
		tag, err := s.pool.Exec(bctx, pruneCallsSQL, before, s.pruneBatch)
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
