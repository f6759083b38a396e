package sqlite

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/pinsfile"
	"pgregory.net/rapid"
)

var _ pinsfile.CallerSet = (*CallerSet)(nil)

// TestCallerSetFindsRepeats checks that a CallerSet reports a pattern
// seen before with its first row, across calls and within one call
// (also beyond one statement's chunk), and records new patterns.
func TestCallerSetFindsRepeats(t *testing.T) {
	c, err := NewCallerSet(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	firsts, err := c.Seen([]string{"+4971112345", "201", "+4971112345", "201*", "201"}, []int{2, 3, 4, 5, 7})
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{0, 0, 2, 0, 3}; !slices.Equal(firsts, want) {
		t.Fatalf("first call: %v, want %v", firsts, want)
	}
	firsts, err = c.Seen([]string{"0201", "201*", "+4971112345", "0201"}, []int{8, 9, 10, 11})
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{0, 5, 2, 8}; !slices.Equal(firsts, want) {
		t.Fatalf("second call: %v, want %v", firsts, want)
	}
	// More than one chunk: the last pattern repeats one of the first chunk.
	n := callerSetChunk + 10
	ps, rows := make([]string, n), make([]int, n)
	for i := range n {
		ps[i], rows[i] = fmt.Sprintf("+49176%08d", i), 100+i
	}
	ps[n-1] = ps[3]
	firsts, err = c.Seen(ps, rows)
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range firsts {
		want := 0
		if i == n-1 {
			want = 103
		}
		if f != want {
			t.Fatalf("pattern %d: first row %d, want %d", i, f, want)
		}
	}
}

// TestCallerSetMemoryIsBounded checks the pragmas that keep a CallerSet's
// memory flat: a small page cache, beyond which its pages go to a
// temporary file, and temporary tables in files too.
func TestCallerSetMemoryIsBounded(t *testing.T) {
	c, err := NewCallerSet(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	pragma := func(name string) int64 {
		t.Helper()
		var v int64
		if err := c.conn.QueryRowContext(t.Context(), "PRAGMA "+name).Scan(&v); err != nil {
			t.Fatalf("PRAGMA %s: %v", name, err)
		}
		return v
	}
	if v := pragma("cache_size"); v != -callerSetCacheKiB || callerSetCacheKiB > 8<<10 {
		t.Errorf("cache_size = %d (callerSetCacheKiB %d), want at most 8 MiB", v, callerSetCacheKiB)
	}
	if v := pragma("temp_store"); v != 1 {
		t.Errorf("temp_store = %d, want 1 (FILE)", v)
	}
}

// BenchmarkCallerSet1M records 1,000,000 distinct callers, in scattered
// order and batches of 512 as a stream asks, in a CallerSet: the cost of
// the duplicate check of an import into SQLite.
func BenchmarkCallerSet1M(b *testing.B) {
	const n, batch = 1_000_000, 512
	for b.Loop() {
		c, err := NewCallerSet(b.Context())
		if err != nil {
			b.Fatal(err)
		}
		ps, rows := make([]string, batch), make([]int, batch)
		for start := 0; start < n; start += batch {
			ps, rows = ps[:0], rows[:0]
			for i := start; i < min(start+batch, n); i++ {
				ps = append(ps, fmt.Sprintf("+4915%09d", i*7919%1_000_000_000))
				rows = append(rows, i+2)
			}
			if _, err := c.Seen(ps, rows); err != nil {
				b.Fatal(err)
			}
		}
		c.Close()
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// TestCallerSetMatchesAMap checks a CallerSet against a map of first rows
// over random calls: few distinct patterns (so that most repeat, within a
// call and across calls), calls of any size up to beyond one statement's
// chunk.
func TestCallerSetMatchesAMap(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		c, err := NewCallerSet(context.Background())
		if err != nil {
			rt.Fatal(err)
		}
		defer c.Close()
		first := map[string]int{}
		row := 1
		for range rapid.IntRange(1, 4).Draw(rt, "calls") {
			n := rapid.SampledFrom([]int{1, 7, callerSetChunk - 1, callerSetChunk, callerSetChunk + 3}).Draw(rt, "n")
			distinct := rapid.IntRange(1, 2*n).Draw(rt, "distinct")
			ps, rows, want := make([]string, n), make([]int, n), make([]int, n)
			for i := range n {
				row += rapid.IntRange(1, 3).Draw(rt, "gap") // rows with errors are not asked about
				ps[i] = fmt.Sprintf("+4930%d", rapid.IntRange(0, distinct).Draw(rt, "caller"))
				rows[i] = row
				if f, ok := first[ps[i]]; ok {
					want[i] = f
				} else {
					first[ps[i]] = row
				}
			}
			got, err := c.Seen(ps, rows)
			if err != nil {
				rt.Fatal(err)
			}
			if !slices.Equal(got, want) {
				rt.Fatalf("Seen(%d patterns) differs from the map", n)
			}
		}
	})
}

// tempFiles counts the open files of this process that SQLite created as
// temporary files and are still linked in their directory (etilqs_*),
// and the open files that have no name any more.
func tempFiles(t *testing.T) (linked, deleted int) {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	for _, fd := range fds {
		target, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name()))
		switch {
		case err != nil:
		case strings.HasSuffix(target, " (deleted)"):
			deleted++
		case strings.HasPrefix(filepath.Base(target), "etilqs_"):
			linked++
		}
	}
	return linked, deleted
}

// TestCallerSetSpillsToAnUnlinkedFile checks that the callers beyond the
// cache go to a temporary file that has no name from the moment it exists
// (so that even a killed import leaves nothing behind) and that Close
// releases it.
func TestCallerSetSpillsToAnUnlinkedFile(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc/self/fd")
	}
	linked0, deleted0 := tempFiles(t)
	c, err := NewCallerSet(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// A small cache, so that a few thousand callers spill.
	if _, err := c.conn.ExecContext(t.Context(), `PRAGMA cache_size = -64`); err != nil {
		t.Fatal(err)
	}
	ps, rows := make([]string, 0, callerSetChunk), make([]int, 0, callerSetChunk)
	for start := 0; start < 30_000; start += callerSetChunk {
		ps, rows = ps[:0], rows[:0]
		for i := start; i < start+callerSetChunk; i++ {
			ps, rows = append(ps, fmt.Sprintf("+4915%09d", i*7919%1_000_000_000)), append(rows, i+2)
		}
		if _, err := c.Seen(ps, rows); err != nil {
			t.Fatal(err)
		}
	}
	linked, deleted := tempFiles(t)
	if linked != linked0 || deleted != deleted0+1 {
		t.Fatalf("while open: %d linked, %d unlinked temporary files (before: %d, %d), want one more unlinked", linked, deleted, linked0, deleted0)
	}
	// Still right after spilling.
	firsts, err := c.Seen([]string{fmt.Sprintf("+4915%09d", 5*7919), "+4930999"}, []int{40_000, 40_001})
	if err != nil || !slices.Equal(firsts, []int{7, 0}) {
		t.Fatalf("after spilling: %v, %v; want [7 0]", firsts, err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if linked, deleted := tempFiles(t); linked != linked0 || deleted != deleted0 {
		t.Fatalf("after Close: %d linked, %d unlinked temporary files, want %d, %d", linked, deleted, linked0, deleted0)
	}
}

// TestCallerSetHoldsNoPIN imports a CSV file through a stream whose
// duplicate check is a CallerSet and reads the set's table back: it has
// the callers and their rows, nothing else, and no PIN.
func TestCallerSetHoldsNoPIN(t *testing.T) {
	h, err := gate.NewHasher([]byte("vipgate-callers-test-key-0123456789"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewCallerSet(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var b strings.Builder
	b.WriteString("caller,pin,label\n")
	pins := map[string]bool{}
	for i := range 2000 {
		pin := fmt.Sprintf("%08d", 80417300+i*37)
		pins[pin] = true
		fmt.Fprintf(&b, "+49176%08d,%s,Caller %d\n", i, pin, i)
	}
	b.WriteString("+4917600000005,55501234,again\n") // row 2002: row 7 again
	st := pinsfile.NewCSVStream(strings.NewReader(b.String()), pinsfile.Options{
		GateID: "g", Region: "DE", Hasher: h, MinDigits: 4, MaxDigits: 8, Partial: true, Callers: c,
	})
	n := 0
	for {
		batch, err := st.Next()
		if err != nil {
			if err != io.EOF {
				t.Fatal(err)
			}
			break
		}
		n += len(batch)
	}
	st.Close()
	if want := []pinsfile.RowError{{Row: 2002, Field: "caller", Problem: "occurs again (first in row 7)"}}; n != 2000 || !slices.Equal(st.RowErrors(), want) {
		t.Fatalf("%d entries, row errors %v; want 2000 and %v", n, st.RowErrors(), want)
	}
	var cols []string
	rs, err := c.conn.QueryContext(t.Context(), `SELECT name FROM pragma_table_info('callers') ORDER BY cid`)
	if err != nil {
		t.Fatal(err)
	}
	for rs.Next() {
		var name string
		if err := rs.Scan(&name); err != nil {
			t.Fatal(err)
		}
		cols = append(cols, name)
	}
	rs.Close()
	if !slices.Equal(cols, []string{"pattern", "row"}) {
		t.Fatalf("columns %v, want [pattern row]", cols)
	}
	rs, err = c.conn.QueryContext(t.Context(), `SELECT pattern, row FROM callers ORDER BY row`)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	i := 0
	for ; rs.Next(); i++ {
		var p string
		var row int
		if err := rs.Scan(&p, &row); err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("+49176%08d", i); p != want || row != i+2 || pins[strings.TrimPrefix(p, "+")] {
			t.Fatalf("stored %q, row %d; want %q, row %d", p, row, want, i+2)
		}
		for pin := range pins {
			if strings.Contains(p, pin) {
				t.Fatalf("stored pattern %q holds a PIN", p)
			}
		}
	}
	if i != 2000 {
		t.Fatalf("%d callers stored, want 2000", i)
	}
}

// TestCallerSetErrorsSurface checks that a failure of the temporary
// database is an error of Seen that names it, and that a stream ends
// with it, as a problem of the duplicate check.
func TestCallerSetErrorsSurface(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	c, err := NewCallerSet(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cancel()
	_, err = c.Seen([]string{"+4930111"}, []int{2})
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "temporary database of callers") {
		t.Fatalf("Seen after cancel: %v", err)
	}
	h, err := gate.NewHasher([]byte("vipgate-callers-test-key-0123456789"))
	if err != nil {
		t.Fatal(err)
	}
	st := pinsfile.NewCSVStream(strings.NewReader("caller,pin\n+4930111,804173\n"), pinsfile.Options{
		GateID: "g", Region: "DE", Hasher: h, MinDigits: 4, MaxDigits: 8, Callers: c,
	})
	defer st.Close()
	if _, err := st.Next(); !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "duplicate check") || st.Err() != err {
		t.Fatalf("stream: %v (Err %v), want the duplicate check's error", err, st.Err())
	}
}
