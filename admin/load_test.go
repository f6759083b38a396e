package admin_test

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/vipgate/vipgate/admin"
	"github.com/vipgate/vipgate/admin/admintest"
	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/storage/sqlite"
)

// TestLoadPinLookup measures how many caller lookups per second the API
// answers over loopback: GET /api/v1/gates/{id}/pins?caller=... with a
// viewer token against the SQLite store holding VIPGATE_BENCH_ENTRIES
// entries (default 100000), from VIPGATE_BENCH_CONNS keep-alive
// connections (default 32) for VIPGATE_BENCH_SECONDS (default 10). The
// load client runs in the same process, so it shares the CPUs with the
// server. Run with VIPGATE_BENCH_ADMIN=1; it is a measurement, not a unit
// test, and fails only if requests fail or the rate is below
// VIPGATE_BENCH_MIN_RPS (default 5000).
// cpuTime is the CPU time (user and system) the process has used.
func cpuTime(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestLoadPinLookup(t *testing.T) {
	if os.Getenv("VIPGATE_BENCH_ADMIN") != "1" {
		t.Skip("load test; set VIPGATE_BENCH_ADMIN=1 to run it")
	}
	envInt := func(name string, def int) int {
		if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
			return v
		}
		return def
	}
	entries := envInt("VIPGATE_BENCH_ENTRIES", 100_000)
	conns := envInt("VIPGATE_BENCH_CONNS", 32)
	seconds := envInt("VIPGATE_BENCH_SECONDS", 10)
	minRPS := envInt("VIPGATE_BENCH_MIN_RPS", 5000)

	st, h, clear, callers := seedLoad(t, entries)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: admin.NewServer(admin.Deps{Store: st, Hasher: h, Region: "DE"}), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	base := "http://" + ln.Addr().String() + "/api/v1/gates/vip/pins?caller="

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}}
	var ok, failed atomic.Int64
	lat := make([][]time.Duration, conns)
	deadline := time.Now().Add(time.Duration(seconds) * time.Second)
	var wg sync.WaitGroup
	cpu0 := cpuTime(t)
	begin := time.Now()
	for w := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			for time.Now().Before(deadline) {
				// Callers are looked up in the national format; the API
				// normalises them.
				c := callers[rng.IntN(len(callers))]
				req, _ := http.NewRequest("GET", base+"0"+c[3:], nil)
				req.Header.Set("Authorization", "Bearer "+clear)
				t0 := time.Now()
				res, err := client.Do(req)
				if err != nil {
					failed.Add(1)
					continue
				}
				b, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode != 200 || len(b) < 50 {
					if failed.Add(1) == 1 {
						t.Logf("first failure: %d %s", res.StatusCode, b)
					}
					continue
				}
				lat[w] = append(lat[w], time.Since(t0))
				ok.Add(1)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(begin)
	cpu := cpuTime(t) - cpu0
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	slices.Sort(all)
	pct := func(p float64) time.Duration {
		if len(all) == 0 {
			return 0
		}
		return all[int(p*float64(len(all)-1))]
	}
	rps := float64(ok.Load()) / elapsed.Seconds()
	t.Logf("GOMAXPROCS=%d NumCPU=%d entries=%d conns=%d: %d ok, %d failed in %s = %.0f req/s; latency p50 %s p90 %s p99 %s max %s",
		runtime.GOMAXPROCS(0), runtime.NumCPU(), entries, conns, ok.Load(), failed.Load(), elapsed.Round(time.Millisecond), rps,
		pct(0.5), pct(0.9), pct(0.99), pct(1))
	perReq := cpu / time.Duration(max(ok.Load(), 1))
	t.Logf("process CPU %s (server and load client) = %s per request, %.2f cores busy; at that cost %d cores serve %.0f req/s",
		cpu.Round(time.Millisecond), perReq.Round(time.Microsecond), cpu.Seconds()/elapsed.Seconds(), runtime.NumCPU(),
		float64(runtime.NumCPU())/perReq.Seconds())
	if failed.Load() > 0 {
		t.Errorf("%d requests failed", failed.Load())
	}
	if rps < float64(minRPS) {
		t.Errorf("%.0f req/s, want at least %d", rps, minRPS)
	}
}

// seedLoad opens a SQLite store in a temporary directory with one table
// gate "vip" of n entries and a viewer token; it returns the store, the
// hasher, the clear token and the callers (E.164).
func seedLoad(t *testing.T, entries int) (gate.Store, *gate.Hasher, string, []string) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "bench.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	h := admintest.Hasher(t)
	g := &gate.Gate{ID: "vip", Name: "VIP", Enabled: true, Activation: gate.Activation{Mode: gate.ActiveAlways},
		Identification: gate.Identification{Mode: gate.IdentTable, Region: "DE"}}
	if err := st.CreateGate(ctx, g); err != nil {
		t.Fatal(err)
	}
	callers := make([]string, entries)
	es := make([]*gate.Entry, entries)
	for i := range entries {
		callers[i] = fmt.Sprintf("+49176%08d", i*7+1)
		es[i] = &gate.Entry{GateID: "vip", Pattern: callers[i], PIN: h.Hash(fmt.Sprintf("%06d", i)), Label: "bench"}
	}
	start := time.Now()
	if _, err := st.ImportEntries(ctx, "vip", es, gate.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Logf("imported %d entries in %s", entries, time.Since(start).Round(time.Millisecond))
	clear, tok, err := admin.NewToken(gate.RoleViewer, "bench")
	if err != nil {
		t.Fatal(err)
	}
	tok.CreatedAt = time.Now()
	if err := st.CreateToken(ctx, tok); err != nil {
		t.Fatal(err)
	}

	return st, h, clear, callers
}

// TestServeLoad serves the admin API over the seeded store on
// VIPGATE_BENCH_ADDR (default 127.0.0.1:18080) for VIPGATE_BENCH_SECONDS
// (default 30), for an external load client such as wrk. It writes the
// token to $VIPGATE_BENCH_DIR/token and the callers (national format, one
// per line) to $VIPGATE_BENCH_DIR/callers, and logs how much CPU this
// process (the server alone) spent per answered request. Run it with
// VIPGATE_BENCH_ADMIN_SERVE=1; see BENCHMARKS.md.
func TestServeLoad(t *testing.T) {
	if os.Getenv("VIPGATE_BENCH_ADMIN_SERVE") != "1" {
		t.Skip("load server; set VIPGATE_BENCH_ADMIN_SERVE=1 to run it")
	}
	entries, seconds := 100_000, 30
	if v, err := strconv.Atoi(os.Getenv("VIPGATE_BENCH_ENTRIES")); err == nil && v > 0 {
		entries = v
	}
	if v, err := strconv.Atoi(os.Getenv("VIPGATE_BENCH_SECONDS")); err == nil && v > 0 {
		seconds = v
	}
	addr := cmp.Or(os.Getenv("VIPGATE_BENCH_ADDR"), "127.0.0.1:18080")
	dir := cmp.Or(os.Getenv("VIPGATE_BENCH_DIR"), t.TempDir())
	st, h, clear, callers := seedLoad(t, entries)
	var b strings.Builder
	for _, c := range callers {
		b.WriteString("0" + c[3:] + "\n")
	}
	if err := os.WriteFile(filepath.Join(dir, "callers"), []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "token"), []byte(clear), 0o600); err != nil {
		t.Fatal(err)
	}
	var answered, failed atomic.Int64
	api := admin.NewServer(admin.Deps{Store: st, Hasher: h, Region: "DE"})
	count := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, status: 200}
		api.ServeHTTP(rec, r)
		if rec.status == 200 {
			answered.Add(1)
		} else {
			failed.Add(1)
		}
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: count, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	t.Logf("serving %d entries on http://%s for %ds; token and callers in %s", entries, addr, seconds, dir)
	cpu0, n0, begin := cpuTime(t), answered.Load(), time.Now()
	time.Sleep(time.Duration(seconds) * time.Second)
	cpu, n, elapsed := cpuTime(t)-cpu0, answered.Load()-n0, time.Since(begin)
	t.Logf("server: %d answered (%d failed) in %s = %.0f req/s; server CPU %s = %s per request (%.2f cores busy); at that cost %d cores serve %.0f req/s",
		n, failed.Load(), elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds(), cpu.Round(time.Millisecond),
		(cpu / time.Duration(max(n, 1))).Round(time.Microsecond), cpu.Seconds()/elapsed.Seconds(), runtime.NumCPU(),
		float64(runtime.NumCPU())*float64(n)/max(cpu.Seconds(), 1e-9))
	if failed.Load() > 0 {
		t.Errorf("%d requests were not answered with 200", failed.Load())
	}
	if n == 0 {
		t.Error("no request arrived; start the load client while the server runs")
	}
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}
