package sqlite

import (
	"fmt"
	"slices"
	"testing"

	"github.com/vipgate/vipgate/pinsfile"
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
