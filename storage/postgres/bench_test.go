package postgres

import (
	"context"
	crand "crypto/rand"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/storage/storagetest"
)

// benchRows is the size of the caller table in the benchmarks.
const benchRows = 1_000_000

// clearRow is one caller-table row before hashing, as an import reads it.
type clearRow struct {
	pattern, pin string
}

// benchTable returns benchRows distinct rows: 99% numbers, 1% prefixes.
func benchTable() []clearRow {
	rows := make([]clearRow, benchRows)
	for i := range rows {
		pin := fmt.Sprintf("%06d", (i*7717)%1_000_000)
		if i%100 == 99 {
			rows[i] = clearRow{fmt.Sprintf("+4930%05d*", i/100), pin}
			continue
		}
		// 7919 is prime to 10^9, so the numbers are distinct.
		rows[i] = clearRow{fmt.Sprintf("+4915%09d", (i*7919)%1_000_000_000), pin}
	}
	return rows
}

// hashRows hashes the PINs on every CPU, as a bulk import does: salts are
// drawn from crypto/rand in one read, then hashed with HashWithSalt.
func hashRows(h *gate.Hasher, gateID string, rows []clearRow) []*gate.Entry {
	out := make([]*gate.Entry, len(rows))
	salts := make([]byte, 16*len(rows))
	crand.Read(salts)
	workers := runtime.GOMAXPROCS(0)
	chunk := (len(rows) + workers - 1) / workers
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := w*chunk, min((w+1)*chunk, len(rows))
		wg.Go(func() {
			for i := lo; i < hi; i++ {
				out[i] = &gate.Entry{GateID: gateID, Pattern: rows[i].pattern, PIN: h.HashWithSalt(salts[16*i:16*i+16:16*i+16], rows[i].pin)}
			}
		})
	}
	wg.Wait()
	return out
}

// BenchmarkImport hashes and imports benchRows caller-table rows into an
// empty gate per iteration; it reports rows/s. Run it with -benchtime=1x.
func BenchmarkImport(b *testing.B) {
	dsn := freshSchema(b)
	s := openStore(b, dsn, Options{Logger: benchLogger(b)})
	h := testHasher(b)
	rows := benchTable()
	ctx := context.Background()
	n := 0
	goCPU0, pgCPU0 := processCPU(), postgresCPU()
	for b.Loop() {
		id := fmt.Sprintf("import-%d", n)
		n++
		if err := s.CreateGate(ctx, tableGate(id)); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		entries := hashRows(h, id, rows)
		b.Logf("hashed %d PINs in %v", len(entries), time.Since(start))
		res, err := s.ImportEntries(ctx, id, entries, gate.ImportOptions{Replace: true})
		if err != nil {
			b.Fatal(err)
		}
		if res.Inserted != benchRows {
			b.Fatalf("import inserted %d rows, want %d", res.Inserted, benchRows)
		}
	}
	b.ReportMetric(float64(benchRows*n)/b.Elapsed().Seconds(), "rows/s")
	// CPU time tells how much of the wall time was work when the machine
	// is shared: vipgate (hashing, encoding) and the PostgreSQL server
	// processes (this benchmark is the only client of the test server).
	goCPU, pgCPU := processCPU()-goCPU0, postgresCPU()-pgCPU0
	b.ReportMetric(goCPU.Seconds()/float64(n), "go-cpu-s/op")
	b.ReportMetric(pgCPU.Seconds()/float64(n), "pg-cpu-s/op")
}

// BenchmarkImportReplace re-imports benchRows rows, with new PIN hashes,
// into a gate that holds them already (Replace: the daily full upload of a
// caller table): the upsert path through a temporary table. It reports
// rows/s including hashing. Run it with -benchtime=1x.
func BenchmarkImportReplace(b *testing.B) {
	dsn := freshSchema(b)
	s := openStore(b, dsn, Options{Logger: benchLogger(b)})
	h := testHasher(b)
	rows := benchTable()
	ctx := context.Background()
	if err := s.CreateGate(ctx, tableGate("replace")); err != nil {
		b.Fatal(err)
	}
	if _, err := s.ImportEntries(ctx, "replace", hashRows(h, "replace", rows), gate.ImportOptions{}); err != nil {
		b.Fatal(err)
	}
	// One row in ten goes, one new row in ten comes.
	next := make([]clearRow, 0, len(rows))
	for i, r := range rows {
		if i%10 == 3 {
			r.pattern = fmt.Sprintf("+4916%09d", i)
		}
		next = append(next, r)
	}
	n := 0
	for b.Loop() {
		res, err := s.ImportEntries(ctx, "replace", hashRows(h, "replace", next), gate.ImportOptions{Replace: true})
		if err != nil {
			b.Fatal(err)
		}
		if n == 0 && (res.Inserted != benchRows/10 || res.Updated != benchRows-benchRows/10 || res.Deleted != benchRows/10) {
			b.Fatalf("replace import = %+v, want %d inserted, %d updated, %d deleted", res, benchRows/10, benchRows-benchRows/10, benchRows/10)
		}
		n++
	}
	b.ReportMetric(float64(benchRows*n)/b.Elapsed().Seconds(), "rows/s")
}

// processCPU returns the CPU time this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// postgresCPU returns the CPU time used by the running processes named
// postgres (Linux /proc; 0 elsewhere), in clock ticks of 10 ms.
func postgresCPU() time.Duration {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var ticks int64
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		s := string(b)
		open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || end < open || s[open+1:end] != "postgres" {
			continue
		}
		fields := strings.Fields(s[end+1:])
		// After the name: state is field 3 of stat, utime 14, stime 15.
		if len(fields) < 13 {
			continue
		}
		u, _ := strconv.ParseInt(fields[11], 10, 64)
		st, _ := strconv.ParseInt(fields[12], 10, 64)
		ticks += u + st
	}
	return time.Duration(ticks) * 10 * time.Millisecond
}

// BenchmarkLookup measures the call-path read of a table gate with
// benchRows entries over loopback: LookupEntry alone, and a full
// Engine.Decide with the same gate (lockouts of caller and gate) and the
// same mix of callers as the SQLite store's BenchmarkDecide1M
// (storagetest.BenchDecide). Both report p50 and p99 latency in µs, the
// CPU time of this process per call and that of the server processes
// serving this benchmark's connections (server-cpu-µs/op).
func BenchmarkLookup(b *testing.B) {
	dsn := freshSchema(b)
	s := openStore(b, dsn, Options{})
	h := testHasher(b)
	ctx := context.Background()
	if err := s.CreateGate(ctx, storagetest.DecideGate("bench")); err != nil {
		b.Fatal(err)
	}
	rows := benchTable()
	if _, err := s.ImportEntries(ctx, "bench", hashRows(h, "bench", rows), gate.ImportOptions{}); err != nil {
		b.Fatal(err)
	}
	// Vacuum now, so that autovacuum does not start on the fresh rows
	// while latencies are measured.
	if _, err := s.pool.Exec(ctx, `VACUUM ANALYZE entries`); err != nil {
		b.Fatal(err)
	}
	waitLive(b, s)
	// Callers: numbers from the table, and callers that match a prefix.
	callers := make([]string, 0, 4096)
	rng := rand.New(rand.NewPCG(1, 2))
	for len(callers) < cap(callers) {
		r := rows[rng.IntN(len(rows))]
		if r.pattern[len(r.pattern)-1] == '*' {
			callers = append(callers, r.pattern[:len(r.pattern)-1]+"77")
		} else {
			callers = append(callers, r.pattern)
		}
	}
	// The table's numbers start with +4915 and +4930.
	unlisted := make([]string, 0, 4096)
	for len(unlisted) < cap(unlisted) {
		unlisted = append(unlisted, fmt.Sprintf("+4917%09d", rng.IntN(1_000_000_000)))
	}
	now := time.Now()
	// Drop the million rows and collect them, so that garbage collection
	// of the setup does not run during the measurements.
	rows = nil
	runtime.GC()

	b.Run("LookupEntry", func(b *testing.B) {
		var lat []time.Duration
		i := 0
		srv := serverCPU(s)
		c0 := processCPU()
		for b.Loop() {
			start := time.Now()
			e, err := s.LookupEntry(ctx, "bench", callers[i%len(callers)], now)
			lat = append(lat, time.Since(start))
			if err != nil || e == nil {
				b.Fatalf("lookup %s: %v", callers[i%len(callers)], err)
			}
			i++
		}
		b.ReportMetric(float64((processCPU()-c0).Nanoseconds())/1e3/float64(len(lat)), "cpu-µs/op")
		b.ReportMetric(float64(srv().Nanoseconds())/1e3/float64(len(lat)), "server-cpu-µs/op")
		storagetest.ReportLatency(b, lat)
		// The server's own execution time of the lookup, without the
		// round trip and scheduling of client and server.
		var exec []time.Duration
		for _, c := range callers[:200] {
			var plan []struct {
				ExecutionTime float64 `json:"Execution Time"`
			}
			if err := s.pool.QueryRow(ctx, `EXPLAIN (ANALYZE, FORMAT JSON) `+lookupSQL, "bench", gate.Prefixes(c), now).Scan(&plan); err != nil || len(plan) == 0 {
				b.Fatalf("explain lookup: %v", err)
			}
			exec = append(exec, time.Duration(plan[0].ExecutionTime*float64(time.Millisecond)))
		}
		slices.Sort(exec)
		b.ReportMetric(float64(exec[len(exec)/2].Nanoseconds())/1e3, "server-p50-µs")
	})
	b.Run("Decide", func(b *testing.B) {
		srv := serverCPU(s)
		storagetest.BenchDecide(b, s, h, "bench", callers, unlisted)
		b.ReportMetric(float64(srv().Nanoseconds())/1e3/float64(b.N), "server-cpu-µs/op")
	})
	// A quiet PBX: calls find the pooled connection idle, and pgxpool
	// pings one idle for more than a second before handing it out. The
	// iterations alternate between 0.9 s and 1.1 s of idleness, so that
	// both halves are equally cold and differ by the ping alone. Slow;
	// run it with a small -benchtime such as 40x.
	b.Run("DecideAfterIdle", func(b *testing.B) {
		e := gate.NewEngine(gate.EngineConfig{Store: s, Hasher: h, Region: "DE"})
		var short, long []time.Duration
		i := 0
		for b.Loop() {
			idle := 900 * time.Millisecond
			if i%2 == 1 {
				idle = 1100 * time.Millisecond
			}
			b.StopTimer()
			time.Sleep(idle)
			b.StartTimer()
			start := time.Now()
			d := e.Decide(ctx, gate.CallInfo{Caller: callers[i%len(callers)], Called: "1000", GateName: "bench"}, now)
			if i%2 == 1 {
				long = append(long, time.Since(start))
			} else {
				short = append(short, time.Since(start))
			}
			if d.Verdict != gate.VerdictAskPIN {
				b.Fatalf("decide: %s, err %v", d.Verdict, d.Err)
			}
			i++
		}
		median := func(d []time.Duration) float64 {
			if len(d) == 0 {
				return 0
			}
			slices.Sort(d)
			return float64(d[len(d)/2].Nanoseconds()) / 1e3
		}
		b.ReportMetric(median(short), "p50-idle0.9s-µs")
		b.ReportMetric(median(long), "p50-idle1.1s-µs")
	})
}

// serverCPU returns a function that tells the CPU time the server
// processes of the store's pooled connections have used since serverCPU
// was called (from /proc/<pid>/schedstat: the server must run on this
// machine; 0 elsewhere). Connections opened in between count from their
// start.
func serverCPU(s *Store) func() time.Duration {
	pids := func() []uint32 {
		conns := s.pool.AcquireAllIdle(context.Background())
		out := make([]uint32, 0, len(conns))
		for _, c := range conns {
			out = append(out, c.Conn().PgConn().PID())
			c.Release()
		}
		return out
	}
	cpu := func(pid uint32) time.Duration {
		f, err := os.ReadFile(fmt.Sprintf("/proc/%d/schedstat", pid))
		if err != nil {
			return 0
		}
		ns, _ := strconv.ParseInt(strings.Fields(string(f))[0], 10, 64)
		return time.Duration(ns)
	}
	start := map[uint32]time.Duration{}
	for _, p := range pids() {
		start[p] = cpu(p)
	}
	return func() time.Duration {
		var d time.Duration
		for _, p := range pids() {
			d += cpu(p) - start[p]
		}
		return d
	}
}

// benchLogger logs the store's debug lines (import phases) with -v.
func benchLogger(b *testing.B) *slog.Logger {
	if !testing.Verbose() {
		return nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// BenchmarkReserveGuess measures counting one PIN guess before it is
// judged (the caller's and the gate-wide key, one transaction over
// loopback), next to AddFailure, the single upsert it replaces on the call
// path. Callers differ per iteration, as in an attack over many numbers;
// the gate-wide key is shared, with 150 guesses allowed in a window that
// holds 100 of them (guess times 1 ms apart, window 100 ms), so that it is
// as full as a gate under attack and never refuses.
func BenchmarkReserveGuess(b *testing.B) {
	dsn := freshSchema(b)
	s := openStore(b, dsn, Options{})
	ctx := context.Background()
	b.Run("ReserveGuess", func(b *testing.B) {
		t0, i := time.Now().Add(time.Hour), 0
		for b.Loop() {
			i++
			keys := []gate.GuessKey{{Caller: fmt.Sprintf("+4917%09d", i), Limit: 15}, {Caller: gate.AnyCaller, Limit: 150}}
			if _, ok, err := s.ReserveGuess(ctx, "bench", keys, t0.Add(time.Duration(i)*time.Millisecond), 100*time.Millisecond); err != nil || !ok {
				b.Fatal(ok, err)
			}
		}
	})
	b.Run("AddFailure", func(b *testing.B) {
		t0, i := time.Now().Add(time.Hour), 0
		for b.Loop() {
			i++
			if _, err := s.AddFailure(ctx, "bench2", fmt.Sprintf("+4917%09d", i), t0.Add(time.Duration(i)*time.Millisecond), 100*time.Millisecond); err != nil {
				b.Fatal(err)
			}
		}
	})
}
