package pinsfile_test

import (
	"errors"
	"io"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/pinsfile"
)

// drain takes every batch of s and returns the entries and how Next ended.
func drain(t *testing.T, s *pinsfile.Stream) ([]*gate.Entry, error) {
	t.Helper()
	var all []*gate.Entry
	for {
		batch, err := s.Next()
		if err != nil {
			return all, err
		}
		if len(batch) == 0 || len(batch) > pinsfile.StreamBatch {
			t.Fatalf("batch of %d entries, want 1 to %d", len(batch), pinsfile.StreamBatch)
		}
		all = append(all, batch...)
	}
}

// TestCSVStreamMatchesReadCSV checks that a stream of a file bigger than
// several batches gives ReadCSV's entries and row errors, in order, with
// duplicates found across batches, and ends by Options.Partial: io.EOF
// with it, ErrRowErrors without.
func TestCSVStreamMatchesReadCSV(t *testing.T) {
	const n = 3*pinsfile.StreamBatch + 777
	input := bigCSV(n)
	// A caller of the first batch again in the last one.
	input += "+497110000000,4711,again\n"
	opts := csvOpts(t)
	want, wantErrs, err := pinsfile.ReadCSV(strings.NewReader(input), opts)
	if err != nil {
		t.Fatal(err)
	}
	if last := wantErrs[len(wantErrs)-1]; last.Row != n+2 || last.Field != "caller" || !strings.Contains(last.Problem, "first in row 2") {
		t.Fatalf("last row error %+v, want the repeated caller of row 2 in row %d", last, n+2)
	}
	for _, partial := range []bool{true, false} {
		opts.Partial = partial
		s := pinsfile.NewCSVStream(strings.NewReader(input), opts)
		got, end := drain(t, s)
		s.Close()
		wantEnd := io.EOF
		if !partial {
			wantEnd = pinsfile.ErrRowErrors
		}
		if end != wantEnd {
			t.Fatalf("partial %v: stream ended with %v, want %v", partial, end, wantEnd)
		}
		if !errors.Is(s.Err(), wantEnd) && !(partial && s.Err() == nil) {
			t.Errorf("partial %v: Err() = %v", partial, s.Err())
		}
		if len(got) != len(want) || s.Entries() != len(want) {
			t.Fatalf("partial %v: %d entries (Entries %d), want %d", partial, len(got), s.Entries(), len(want))
		}
		for i := range got {
			if got[i].Pattern != want[i].Pattern || got[i].Label != want[i].Label {
				t.Fatalf("partial %v: entry %d = %s, want %s", partial, i, got[i].Pattern, want[i].Pattern)
			}
		}
		if !slices.Equal(s.RowErrors(), wantErrs) {
			t.Errorf("partial %v: %d row errors differ from ReadCSV's %d", partial, len(s.RowErrors()), len(wantErrs))
		}
	}
}

// TestCSVStreamFileError checks that a problem with the file as a whole
// ends the stream with that error, not io.EOF.
func TestCSVStreamFileError(t *testing.T) {
	s := pinsfile.NewCSVStream(strings.NewReader("pin,label\n4711,x\n"), csvOpts(t))
	defer s.Close()
	if _, err := drain(t, s); err == nil || err == io.EOF || !strings.Contains(err.Error(), "no caller column") || s.Err() != err {
		t.Fatalf("stream ended with %v (Err %v), want the header error", err, s.Err())
	}
}

// TestCSVStreamCloseEarly checks that closing a stream before its end
// stops the reading and hashing goroutines.
func TestCSVStreamCloseEarly(t *testing.T) {
	before := runtime.NumGoroutine()
	input := bigCSV(20 * pinsfile.StreamBatch)
	for range 5 {
		s := pinsfile.NewCSVStream(strings.NewReader(input), csvOpts(t))
		if batch, err := s.Next(); err != nil || len(batch) == 0 {
			t.Fatalf("first batch: %d entries, %v", len(batch), err)
		}
		s.Close()
		s.Close()
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Fatalf("%d goroutines after closing, %d before", n, before)
	}
}

// recordingSet is a CallerSet that counts the rows it is asked about.
type recordingSet struct {
	first map[string]int
	asked int
	fail  error
}

func (r *recordingSet) Seen(patterns []string, rows []int) ([]int, error) {
	if r.fail != nil {
		return nil, r.fail
	}
	out := make([]int, len(patterns))
	for i, p := range patterns {
		r.asked++
		if f, ok := r.first[p]; ok {
			out[i] = f
			continue
		}
		r.first[p] = rows[i]
	}
	return out, nil
}

// TestCSVStreamUsesCallerSet checks that with Options.Callers the
// duplicate check is the set's, not an index of the stream's own: every
// good row is asked about once, the duplicates it names become the same
// row errors as ReadCSV's, and an error of the set ends the stream.
func TestCSVStreamUsesCallerSet(t *testing.T) {
	const n = 3*pinsfile.StreamBatch + 777
	input := bigCSV(n) + "+497110000000,4711,again\n"
	opts := csvOpts(t)
	want, wantErrs, err := pinsfile.ReadCSV(strings.NewReader(input), opts)
	if err != nil {
		t.Fatal(err)
	}
	set := &recordingSet{first: map[string]int{}}
	opts.Partial, opts.Callers = true, set
	s := pinsfile.NewCSVStream(strings.NewReader(input), opts)
	got, end := drain(t, s)
	s.Close()
	if end != io.EOF || len(got) != len(want) {
		t.Fatalf("stream ended with %v after %d entries, want io.EOF after %d", end, len(got), len(want))
	}
	if !slices.Equal(s.RowErrors(), wantErrs) {
		t.Errorf("%d row errors differ from ReadCSV's %d", len(s.RowErrors()), len(wantErrs))
	}
	dups := 0
	for _, e := range wantErrs {
		if e.Field == "caller" && strings.HasPrefix(e.Problem, "occurs again") {
			dups++
		}
	}
	if dups == 0 || set.asked != len(want)+dups || len(set.first) != len(want) {
		t.Errorf("set asked about %d rows and kept %d callers, want %d rows (%d repeats) and %d callers", set.asked, len(set.first), len(want)+dups, dups, len(want))
	}

	boom := errors.New("disk full")
	opts.Callers = &recordingSet{first: map[string]int{}, fail: boom}
	s = pinsfile.NewCSVStream(strings.NewReader(input), opts)
	defer s.Close()
	if _, err := drain(t, s); !errors.Is(err, boom) || s.Err() != err {
		t.Fatalf("stream ended with %v (Err %v), want the set's error", err, s.Err())
	}
}
