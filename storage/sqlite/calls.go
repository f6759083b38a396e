package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/vipgate/vipgate/gate"
)

// LogCall queues a call-log row for the background writer and returns at
// once; it waits only while the queue is full (bounded by ctx). The row is
// written within moments, in a batch with others, so a long write
// transaction (a big import) delays the row but never the caller. While
// the database refuses writes (another process holds the write lock past
// the busy timeout, the disk is full), the writer keeps up to callKeep
// rows and tries again every callRetry. The ID is not set. ListCalls
// writes queued rows before it reads, Close (trying for at most
// closeRetry) before it closes. A zero At is set to now.
func (s *Store) LogCall(ctx context.Context, r *gate.CallRecord) error {
	if r.At.IsZero() {
		r.At = s.stamp()
	}
	c := *r
	cw := s.calls
	cw.mu.RLock()
	defer cw.mu.RUnlock()
	if cw.closed {
		return fmt.Errorf("sqlite: log call: %w: store closed", gate.ErrUnavailable)
	}
	select {
	case cw.in <- &c:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("sqlite: log call: queue full: %w", context.Cause(ctx))
	}
}

// ListCalls returns a page of call-log rows, newest first, and how many
// match the filter.
func (s *Store) ListCalls(ctx context.Context, f gate.CallFilter) ([]*gate.CallRecord, int, error) {
	if err := s.calls.flush(ctx); err != nil {
		return nil, 0, fmt.Errorf("sqlite: list calls: %w", err)
	}
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
	limit, offset := f.Limit, max(f.Offset, 0)
	if limit <= 0 {
		limit = 100
	}
	var total int
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM calls WHERE `+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("sqlite: list calls: %w", dbErr(err))
	}
	rows, err := s.r.QueryContext(ctx, `SELECT id, at, source, channel_id, gate_id, caller_raw, caller, called, active, mode, verdict,
		attempts, outcome, target, entry_id, decision_latency_ns, duration_ns, webhook_latency_ns, error_class
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
			&mode, &verdict, &r.Attempts, &out2, &r.Target, &r.EntryID, &dl, &dur, &wl, &r.ErrorClass); err != nil {
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
const pruneCallsSQL = `DELETE FROM calls WHERE id IN (SELECT id FROM calls WHERE at < ? ORDER BY at LIMIT ?)`

// PruneCalls deletes the call-log rows from before before and returns how
// many it deleted. It writes the queued rows first (and fails, like
// ListCalls, if that fails), then deletes the oldest rows in batches of
// pruneBatch, each its own write transaction, so that the single writer is
// never held for long; it stops between batches when ctx is done. The
// file does not shrink: SQLite reuses the freed pages.
func (s *Store) PruneCalls(ctx context.Context, before time.Time) (int64, error) {
	if err := s.calls.flush(ctx); err != nil {
		return 0, fmt.Errorf("sqlite: prune calls: %w", err)
	}
	cut := clampNS(before)
	var total int64
	for {
		res, err := s.w.ExecContext(ctx, pruneCallsSQL, cut, s.pruneBatch)
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

// callWriter writes queued call-log rows in batches on its own goroutine,
// which Close stops and waits for.
type callWriter struct {
	in      chan *gate.CallRecord
	flushes chan chan error
	stop    chan struct{}
	done    chan struct{}

	mu     sync.RWMutex // held for writing by Close; for reading by LogCall
	closed bool

	errMu sync.Mutex
	err   error // a background write that failed, until reported
}

const (
	callQueue = 4096 // rows LogCall can queue before it waits
	callBatch = 256  // rows per INSERT (18 parameters each)
	// callKeep bounds the rows the writer holds while the database refuses
	// them; beyond it the oldest are dropped and the loss is reported.
	callKeep = 4 * callQueue
	// callRetry is how long the writer waits before it tries refused rows
	// again; closeRetry how long Close keeps trying.
	callRetry  = time.Second
	closeRetry = 10 * time.Second
)

func (s *Store) startCallWriter() {
	cw := &callWriter{
		in:      make(chan *gate.CallRecord, callQueue),
		flushes: make(chan chan error),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	s.calls = cw
	go s.runCallWriter(cw)
}

func (s *Store) runCallWriter(cw *callWriter) {
	defer close(cw.done)
	var (
		batch []*gate.CallRecord
		retry <-chan time.Time // set while refused rows wait for another try
	)
	// drain moves up to n queued rows into batch without waiting.
	drain := func(n int) {
		for ; n > 0; n-- {
			select {
			case r := <-cw.in:
				batch = append(batch, r)
			default:
				return
			}
		}
	}
	// write stores batch. Rows that the database refuses for now
	// (gate.ErrUnavailable) stay in batch for another try, at most
	// callKeep of them; rows that fail otherwise are dropped. The error is
	// returned either way.
	write := func() error {
		err := s.insertCalls(batch)
		if err != nil && errors.Is(err, gate.ErrUnavailable) {
			retry = time.After(callRetry)
			if over := len(batch) - callKeep; over > 0 {
				n := copy(batch, batch[over:])
				clear(batch[n:])
				batch = batch[:n]
				cw.keep(fmt.Errorf("sqlite: %d call-log rows dropped while the database refused writes: %w", over, err))
			}
			return err
		}
		clear(batch)
		batch = batch[:0]
		retry = nil
		return err
	}
	// background writes without anyone waiting for the result: refused
	// rows are tried again later, other failures are kept for Ping,
	// ListCalls or Close.
	background := func() {
		if err := write(); !errors.Is(err, gate.ErrUnavailable) {
			cw.keep(err)
		}
	}
	for {
		select {
		case r := <-cw.in:
			batch = append(batch, r)
			drain(callBatch - 1)
			if retry == nil {
				background()
			}
		case <-retry:
			drain(math.MaxInt)
			background()
		case ack := <-cw.flushes:
			drain(math.MaxInt)
			err := write()
			ack <- errors.Join(cw.take(), err)
		case <-cw.stop:
			drain(math.MaxInt)
			deadline := time.Now().Add(closeRetry)
			for {
				err := write()
				if err == nil {
					return
				}
				if !errors.Is(err, gate.ErrUnavailable) {
					cw.keep(err)
					return
				}
				if !time.Now().Before(deadline) {
					cw.keep(fmt.Errorf("sqlite: close: %d call-log rows not written: %w", len(batch), err))
					return
				}
				<-time.After(callRetry / 10)
			}
		}
	}
}

func (cw *callWriter) keep(err error) {
	if err != nil {
		cw.errMu.Lock()
		cw.err = errors.Join(cw.err, err)
		cw.errMu.Unlock()
	}
}

func (cw *callWriter) take() error {
	cw.errMu.Lock()
	defer cw.errMu.Unlock()
	err := cw.err
	cw.err = nil
	return err
}

// flush writes every queued row and reports write errors since the last
// report.
func (cw *callWriter) flush(ctx context.Context) error {
	ack := make(chan error, 1)
	select {
	case cw.flushes <- ack:
	case <-cw.done:
		return cw.take()
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-ack:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// close stops the writer after it has written every queued row.
func (cw *callWriter) close() error {
	cw.mu.Lock()
	if !cw.closed {
		cw.closed = true
		close(cw.stop)
	}
	cw.mu.Unlock()
	<-cw.done
	return cw.take()
}

// insertCalls writes rows in multi-row INSERTs in one transaction.
func (s *Store) insertCalls(rows []*gate.CallRecord) error {
	if len(rows) == 0 {
		return nil
	}
	ctx := context.Background()
	err := inTx(ctx, s.w, func(tx *sql.Tx) error {
		for start := 0; start < len(rows); start += callBatch {
			chunk := rows[start:min(start+callBatch, len(rows))]
			q := `INSERT INTO calls (at, source, channel_id, gate_id, caller_raw, caller, called, active, mode, verdict,
				attempts, outcome, target, entry_id, decision_latency_ns, duration_ns, webhook_latency_ns, error_class) VALUES ` +
				strings.Repeat(`(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?),`, len(chunk)-1) +
				`(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
			args := make([]any, 0, 18*len(chunk))
			for _, r := range chunk {
				args = append(args, clampNS(r.At), r.Source, r.ChannelID, r.GateID, r.CallerRaw, r.Caller, r.Called, r.Active,
					string(r.Mode), string(r.Verdict), r.Attempts, string(r.Outcome), r.Target, r.EntryID,
					int64(r.DecisionLatency), int64(r.Duration), int64(r.WebhookLatency), r.ErrorClass)
			}
			if _, err := tx.ExecContext(ctx, q, args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: write %d call-log rows: %w", len(rows), dbErr(err))
	}
	return nil
}
