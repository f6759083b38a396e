package calllog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/vipgate/vipgate/gate"
)

// Defaults of Config.
const (
	DefaultQueue        = 4096
	DefaultBatch        = 256
	DefaultRetry        = time.Second
	DefaultCloseTimeout = 10 * time.Second
)

// Config configures a Writer. Zero fields take the defaults.
type Config struct {
	// Name prefixes errors and log lines ("sqlite", "postgres").
	Name string
	// Write stores rows, at most Batch of them, in the order given, all or
	// none. It may change the rows in place (the PostgreSQL store gives
	// each its ID there); a batch that is refused and written again later
	// is the same slice of rows. An error wrapping gate.ErrUnavailable
	// keeps the rows for another try; any other error drops them.
	Write func(ctx context.Context, rows []gate.CallRecord) error
	// Queue is how many rows Add queues for the goroutine (default 4096).
	Queue int
	// Batch is the most rows one Write gets (default 256).
	Batch int
	// Keep bounds the rows held while the database refuses them (default
	// 4 × Queue). Held rows and the queue together are what is not lost.
	Keep int
	// Interval, when positive, gathers rows for up to Interval after the
	// first of them arrives (or until a Batch is full) before writing them;
	// zero writes as soon as rows arrive, gathering only those already
	// queued. No timer runs while nothing waits.
	Interval time.Duration
	// Retry is how long refused rows wait before the next try (default
	// 1s).
	Retry time.Duration
	// WriteTimeout bounds each Write (zero: no bound beyond the store's
	// own, such as SQLite's busy timeout).
	WriteTimeout time.Duration
	// AddTimeout bounds how long Add waits for room in a full queue (zero:
	// only Add's context bounds it).
	AddTimeout time.Duration
	// CloseTimeout bounds how long Close keeps trying to write what is
	// left while the database refuses it (default 10s).
	CloseTimeout time.Duration
	// Logger gets one Warn line when writes start failing and one Info
	// line when they succeed again; nil discards.
	Logger *slog.Logger
}

// Writer writes call-log rows in batches on its own goroutine. It is safe
// for concurrent use.
type Writer struct {
	cfg     Config
	log     *slog.Logger
	in      chan gate.CallRecord
	flushes chan chan error
	stop    chan struct{}
	done    chan struct{}

	mu     sync.RWMutex // held for writing by Close, for reading by Add
	closed bool

	errMu sync.Mutex
	err   error // background failures, until reported
}

// New starts a Writer; Close stops it.
func New(cfg Config) *Writer {
	if cfg.Queue <= 0 {
		cfg.Queue = DefaultQueue
	}
	if cfg.Batch <= 0 {
		cfg.Batch = DefaultBatch
	}
	if cfg.Keep <= 0 {
		cfg.Keep = 4 * cfg.Queue
	}
	if cfg.Retry <= 0 {
		cfg.Retry = DefaultRetry
	}
	if cfg.CloseTimeout <= 0 {
		cfg.CloseTimeout = DefaultCloseTimeout
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	w := &Writer{
		cfg:     cfg,
		log:     log,
		in:      make(chan gate.CallRecord, cfg.Queue),
		flushes: make(chan chan error),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	go w.run()
	return w
}

// Add queues a copy of r. It waits only while the queue is full, for at
// most AddTimeout or until ctx is done, and then fails with
// gate.ErrUnavailable; after Close it fails at once.
func (w *Writer) Add(ctx context.Context, r *gate.CallRecord) error {
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.closed {
		return fmt.Errorf("%s: log call: %w: store closed", w.cfg.Name, gate.ErrUnavailable)
	}
	select {
	case w.in <- *r:
		return nil
	default:
	}
	var timeout <-chan time.Time
	if w.cfg.AddTimeout > 0 {
		t := time.NewTimer(w.cfg.AddTimeout)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case w.in <- *r:
		return nil
	case <-timeout:
		return fmt.Errorf("%s: log call: queue full: %w", w.cfg.Name, gate.ErrUnavailable)
	case <-ctx.Done():
		return fmt.Errorf("%s: log call: queue full: %w: %w", w.cfg.Name, gate.ErrUnavailable, context.Cause(ctx))
	}
}

// Flush writes every row queued so far and reports the background
// failures since the last report together with its own.
func (w *Writer) Flush(ctx context.Context) error {
	ack := make(chan error, 1)
	select {
	case w.flushes <- ack:
	case <-w.done:
		return w.Err()
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

// Err returns, and forgets, the background failures since the last report.
func (w *Writer) Err() error {
	w.errMu.Lock()
	defer w.errMu.Unlock()
	err := w.err
	w.err = nil
	return err
}

// Close stops taking rows, writes what is left (trying for at most
// CloseTimeout) and waits for the goroutine. It may be called more than
// once.
func (w *Writer) Close() error {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.stop)
	}
	w.mu.Unlock()
	<-w.done
	return w.Err()
}

func (w *Writer) keep(err error) {
	if err != nil {
		w.errMu.Lock()
		w.err = errors.Join(w.err, err)
		w.errMu.Unlock()
	}
}

func (w *Writer) run() {
	defer close(w.done)
	var (
		pending []gate.CallRecord
		retry   <-chan time.Time // set while refused rows wait
		failing bool             // the last write was refused (logged once per outage)
		tick    <-chan time.Time // set while rows are gathered for Interval
	)
	var gathering *time.Timer
	if w.cfg.Interval > 0 {
		gathering = time.NewTimer(w.cfg.Interval)
		gathering.Stop()
		defer gathering.Stop()
	}
	// gather moves queued rows into pending without waiting, at most up
	// to n rows in pending.
	gather := func(n int) {
		for len(pending) < n {
			select {
			case r := <-w.in:
				pending = append(pending, r)
			default:
				return
			}
		}
	}
	// write stores pending in batches. Refused rows stay for another try;
	// rows refused for good are dropped. It returns the first failure.
	write := func() error {
		for len(pending) > 0 {
			batch := pending[:min(len(pending), w.cfg.Batch)]
			ctx, cancel := context.Background(), context.CancelFunc(func() {})
			if w.cfg.WriteTimeout > 0 {
				ctx, cancel = context.WithTimeout(ctx, w.cfg.WriteTimeout)
			}
			err := w.cfg.Write(ctx, batch)
			cancel()
			if errors.Is(err, gate.ErrUnavailable) {
				if !failing {
					failing = true
					w.log.Warn(w.cfg.Name+": call log not written; rows kept in memory", "rows", len(pending), "err", err)
				}
				retry = time.After(w.cfg.Retry)
				return err
			}
			if failing {
				failing = false
				w.log.Info(w.cfg.Name + ": call log written again")
			}
			clear(batch) // drop the references before reslicing
			pending = pending[len(batch):]
			if err != nil {
				return fmt.Errorf("%s: write %d call-log rows: %w", w.cfg.Name, len(batch), err)
			}
		}
		pending, retry = nil, nil
		return nil
	}
	// background writes with nobody waiting for the result: refused rows
	// are tried again later, other failures kept for Flush, Err or Close.
	background := func() {
		if err := write(); !errors.Is(err, gate.ErrUnavailable) {
			w.keep(err)
		}
	}
	for {
		in := w.in
		if len(pending) >= w.cfg.Keep {
			in = nil // full: Add waits until the database takes rows again
		}
		select {
		case r := <-in:
			pending = append(pending, r)
			if retry != nil {
				continue
			}
			switch {
			case gathering == nil:
				gather(w.cfg.Batch)
				background()
			case len(pending) >= w.cfg.Batch:
				gathering.Stop()
				tick = nil
				background()
			case tick == nil:
				// The first row of a gathering: the others that come
				// within Interval go into the same write.
				gathering.Reset(w.cfg.Interval)
				tick = gathering.C
			}
		case <-tick:
			tick = nil
			if retry == nil && len(pending) > 0 {
				background()
			}
		case <-retry:
			retry = nil
			gather(w.cfg.Keep)
			background()
		case ack := <-w.flushes:
			gather(w.cfg.Keep)
			err := write()
			ack <- errors.Join(w.Err(), err)
		case <-w.stop:
			w.final(&pending, gather, write)
			return
		}
	}
}

// final writes what is left after Close, trying for at most CloseTimeout.
func (w *Writer) final(pending *[]gate.CallRecord, gather func(int), write func() error) {
	deadline := time.Now().Add(w.cfg.CloseTimeout)
	for {
		gather(math.MaxInt)
		err := write()
		if err == nil {
			if len(w.in) == 0 {
				return
			}
			continue
		}
		if !errors.Is(err, gate.ErrUnavailable) {
			w.keep(err)
			continue
		}
		if !time.Now().Before(deadline) {
			w.keep(fmt.Errorf("%s: close: %d call-log rows not written: %w", w.cfg.Name, len(*pending), err))
			return
		}
		time.Sleep(min(w.cfg.Retry/10, 100*time.Millisecond))
	}
}
