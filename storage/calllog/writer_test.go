package calllog_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/storage/calllog"
)

// db is a fake database: it stores rows, or refuses them while down.
type db struct {
	mu      sync.Mutex
	rows    []gate.CallRecord
	batches []int
	down    error // returned by write while set
	nextID  int64
	written chan struct{}
}

func newDB() *db { return &db{written: make(chan struct{}, 1000)} }

func (d *db) write(_ context.Context, rows []gate.CallRecord) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	// Like the PostgreSQL store: give each row an ID in place, once.
	for i := range rows {
		if rows[i].ID == 0 {
			d.nextID++
			rows[i].ID = d.nextID
		}
	}
	if d.down != nil {
		return d.down
	}
	d.rows = append(d.rows, rows...)
	d.batches = append(d.batches, len(rows))
	select {
	case d.written <- struct{}{}:
	default:
	}
	return nil
}

// waitWritten waits up to 5 s for the next write and fails with what
// if none comes.
func (d *db) waitWritten(t *testing.T, what string) {
	t.Helper()
	select {
	case <-d.written:
	case <-time.After(5 * time.Second):
		t.Fatal(what)
	}
}

// add queues the rows rec(first) to rec(first+n-1).
func add(t *testing.T, w *calllog.Writer, first, n int) {
	t.Helper()
	for i := range n {
		if err := w.Add(t.Context(), rec(first+i)); err != nil {
			t.Fatal(err)
		}
	}
}

func (d *db) set(err error) {
	d.mu.Lock()
	d.down = err
	d.mu.Unlock()
}

func (d *db) snapshot() ([]gate.CallRecord, []int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]gate.CallRecord(nil), d.rows...), append([]int(nil), d.batches...)
}

func rec(i int) *gate.CallRecord {
	return &gate.CallRecord{Source: "agi", ChannelID: fmt.Sprint(i), Outcome: gate.OutcomePassed}
}

func TestWritesInBatchesInOrder(t *testing.T) {
	for _, interval := range []time.Duration{0, 20 * time.Millisecond} {
		t.Run(fmt.Sprintf("interval %v", interval), func(t *testing.T) {
			d := newDB()
			w := calllog.New(calllog.Config{Name: "test", Write: d.write, Batch: 7, Interval: interval})
			const n = 100
			add(t, w, 0, n)
			if err := w.Flush(t.Context()); err != nil {
				t.Fatal(err)
			}
			rows, batches := d.snapshot()
			if len(rows) != n {
				t.Fatalf("%d rows written, want %d", len(rows), n)
			}
			for i, r := range rows {
				if r.ChannelID != fmt.Sprint(i) {
					t.Fatalf("row %d is %s: the order was not kept", i, r.ChannelID)
				}
			}
			for _, b := range batches {
				if b > 7 {
					t.Errorf("a batch of %d rows, want at most 7", b)
				}
			}
			if err := w.Close(); err != nil {
				t.Errorf("close: %v", err)
			}
		})
	}
}

func TestIntervalGathersRows(t *testing.T) {
	d := newDB()
	w := calllog.New(calllog.Config{Name: "test", Write: d.write, Batch: 50, Interval: 100 * time.Millisecond})
	defer w.Close()
	start := time.Now()
	add(t, w, 0, 10)
	d.waitWritten(t, "rows were not written within 5 s of a 100 ms interval")
	if took := time.Since(start); took < 50*time.Millisecond {
		t.Errorf("rows written after %v, want them gathered for the interval", took)
	}
	if _, batches := d.snapshot(); len(batches) != 1 || batches[0] != 10 {
		t.Errorf("batches %v, want one of 10 rows", batches)
	}
}

// Each gathering starts with its first row: rows that come after an idle
// spell wait for an Interval of their own (a timer cannot fire early, so
// the bound below cannot flake), and a full Batch is written at once.
func TestIntervalStartsWithTheFirstRow(t *testing.T) {
	const interval = 200 * time.Millisecond
	d := newDB()
	w := calllog.New(calllog.Config{Name: "test", Write: d.write, Batch: 50, Interval: interval})
	defer w.Close()
	for round := range 3 {
		time.Sleep(interval + 70*time.Millisecond) // idle for more than an interval
		start := time.Now()
		add(t, w, 10*round, 2)
		d.waitWritten(t, fmt.Sprintf("round %d: not written within 5 s", round))
		if took := time.Since(start); took < interval {
			t.Errorf("round %d: rows written %v after the first came, want them gathered for %v", round, took, interval)
		}
	}
	if _, batches := d.snapshot(); !slices.Equal(batches, []int{2, 2, 2}) {
		t.Errorf("batches %v, want [2 2 2]", batches)
	}

	full := newDB()
	w2 := calllog.New(calllog.Config{Name: "test", Write: full.write, Batch: 5, Interval: time.Hour})
	defer w2.Close()
	add(t, w2, 0, 5)
	full.waitWritten(t, "a full batch was not written within 5 s of a 1 h interval")
}

func TestRefusedRowsAreKeptAndTriedAgain(t *testing.T) {
	d := newDB()
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	w := calllog.New(calllog.Config{Name: "test", Write: d.write, Retry: 20 * time.Millisecond, Logger: log})
	defer w.Close()
	d.set(fmt.Errorf("connection refused: %w", gate.ErrUnavailable))
	add(t, w, 0, 20)
	if err := w.Flush(t.Context()); !errors.Is(err, gate.ErrUnavailable) {
		t.Fatalf("flush while the database is down = %v, want ErrUnavailable", err)
	}
	d.set(nil)
	d.waitWritten(t, "the kept rows were not tried again within 5 s")
	if err := w.Flush(t.Context()); err != nil {
		t.Fatalf("flush after the database is back: %v", err)
	}
	rows, _ := d.snapshot()
	if len(rows) != 20 {
		t.Fatalf("%d rows written, want all 20", len(rows))
	}
	// The rows were changed in place on the first (refused) try; the
	// retry wrote the same rows, so they keep the IDs they got then.
	for i, r := range rows {
		if r.ID != int64(i+1) {
			t.Errorf("row %d has ID %d, want %d: a retry must write the rows as the refused try left them", i, r.ID, i+1)
		}
	}
	text := logs.String()
	if strings.Count(text, "call log not written") != 1 || strings.Count(text, "call log written again") != 1 {
		t.Errorf("want one Warn for the outage and one Info for the recovery, got:\n%s", text)
	}
}

func TestRowsRefusedForGoodAreDroppedAndReported(t *testing.T) {
	d := newDB()
	w := calllog.New(calllog.Config{Name: "test", Write: d.write})
	d.set(errors.New("value too long"))
	if err := w.Add(t.Context(), rec(1)); err != nil {
		t.Fatal(err)
	}
	err := w.Flush(t.Context())
	if err == nil || !strings.Contains(err.Error(), "value too long") || !strings.HasPrefix(err.Error(), "test: ") {
		t.Fatalf("flush = %v, want the write error, named by the store", err)
	}
	d.set(nil)
	if err := w.Add(t.Context(), rec(2)); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(t.Context()); err != nil {
		t.Fatalf("flush: %v (the error was reported once already)", err)
	}
	if rows, _ := d.snapshot(); len(rows) != 1 || rows[0].ChannelID != "2" {
		t.Errorf("rows %v, want only the second: the refused one is dropped, not retried", rows)
	}
	if err := w.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
}

func TestKeepBoundsHeldRows(t *testing.T) {
	d := newDB()
	d.set(gate.ErrUnavailable)
	w := calllog.New(calllog.Config{Name: "test", Write: d.write, Queue: 4, Keep: 8, Retry: time.Hour, AddTimeout: 50 * time.Millisecond, CloseTimeout: 50 * time.Millisecond})
	accepted := 0
	var refused error
	for i := range 40 {
		err := w.Add(t.Context(), rec(i))
		if err != nil {
			refused = err
			break
		}
		accepted++
	}
	if !errors.Is(refused, gate.ErrUnavailable) {
		t.Fatalf("after %d rows Add = %v, want ErrUnavailable once Keep and the queue are full", accepted, refused)
	}
	if accepted < 8 || accepted > 8+4+1 {
		t.Errorf("accepted %d rows, want Keep (8) plus at most the queue (4) and one in hand", accepted)
	}
	err := w.Close()
	if !errors.Is(err, gate.ErrUnavailable) || !strings.Contains(err.Error(), "not written") {
		t.Errorf("close while down = %v, want the rows not written named", err)
	}
}

func TestCloseWritesWhatIsLeft(t *testing.T) {
	d := newDB()
	w := calllog.New(calllog.Config{Name: "test", Write: d.write, Interval: time.Hour, Batch: 1000})
	add(t, w, 0, 500)
	if err := w.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if rows, _ := d.snapshot(); len(rows) != 500 {
		t.Errorf("%d rows written by Close, want 500", len(rows))
	}
	if err := w.Add(t.Context(), rec(501)); !errors.Is(err, gate.ErrUnavailable) {
		t.Errorf("add after close = %v, want ErrUnavailable", err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}
}

func TestCloseRetriesUntilTheDatabaseIsBack(t *testing.T) {
	d := newDB()
	d.set(gate.ErrUnavailable)
	w := calllog.New(calllog.Config{Name: "test", Write: d.write, Retry: time.Hour, CloseTimeout: 10 * time.Second})
	if err := w.Add(t.Context(), rec(1)); err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(100*time.Millisecond, func() { d.set(nil) })
	if err := w.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if rows, _ := d.snapshot(); len(rows) != 1 {
		t.Errorf("%d rows, want the row written once the database came back", len(rows))
	}
}

func TestAddWaitsForItsContext(t *testing.T) {
	d := newDB()
	d.set(gate.ErrUnavailable)
	w := calllog.New(calllog.Config{Name: "test", Write: d.write, Queue: 1, Keep: 1, Retry: time.Hour, CloseTimeout: 10 * time.Millisecond})
	defer w.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	var err error
	for i := 0; i < 10 && err == nil; i++ {
		err = w.Add(ctx, rec(i))
	}
	if !errors.Is(err, gate.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("add into a full writer = %v, want ErrUnavailable with the context's cause", err)
	}
}
