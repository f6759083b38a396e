package agi

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
)

// The load test plays Asterisk against a real Server on loopback TCP whose
// handler runs a full gate.Flow (static-PIN gate, in-memory store). It is
// a measurement, not a unit test, and runs only with VIPGATE_BENCH_AGI=1:
//
//	VIPGATE_BENCH_AGI=1 go test -run '^TestAGILoad$' -v -timeout 10m ./agi/
//
// VIPGATE_BENCH_AGI_SESSIONS sets the concurrency (default 1000) and
// VIPGATE_BENCH_AGI_CALLS the calls of the throughput phase (default
// 20000). The fake Asterisk runs in a child process (this test binary run
// again as TestAGILoadClient) so that the memory figures are the server's
// alone.
//
// Phase 1 parks all sessions in the middle of the PIN dialogue (each one
// waits in GET DATA) and measures the server's heap in use and
// goroutines against the idle server. Phase 2 runs the calls back to back
// on that many connections at once and reports calls/s and the decision
// latency: from the header sent to the first command received.

const (
	loadEnv        = "VIPGATE_BENCH_AGI"
	loadClientEnv  = "VIPGATE_AGI_LOAD_CLIENT"
	loadLinePrefix = "agiload: "
)

type loadResult struct {
	Calls     int           `json:"calls"`
	Failed    int           `json:"failed"`
	Elapsed   time.Duration `json:"elapsed_ns"`
	LatP50    time.Duration `json:"lat_p50_ns"`
	LatP99    time.Duration `json:"lat_p99_ns"`
	LatMax    time.Duration `json:"lat_max_ns"`
	FirstFail string        `json:"first_fail,omitempty"`
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

func TestAGILoad(t *testing.T) {
	if os.Getenv(loadEnv) != "1" {
		t.Skip("load test: set VIPGATE_BENCH_AGI=1 to run it")
	}
	sessions := envInt("VIPGATE_BENCH_AGI_SESSIONS", 1000)
	calls := envInt("VIPGATE_BENCH_AGI_CALLS", 20000)

	flowLog := &levelCounter{}
	flow, st := newFlow(t, func(h *gate.Hasher) []*gate.Gate { return []*gate.Gate{staticPINGate(t, h, false)} }, slog.New(flowLog))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(Config{
		// Room above the concurrency: a session keeps its slot until the
		// Flow has written the call log, after the client has seen the
		// close and dialled again.
		MaxSessions: 2 * sessions,
		Handler:     func(ctx context.Context, c gate.Call) { flow.Run(ctx, c) },
	})
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()

	var base runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&base)
	baseG := runtime.NumGoroutine()

	cmd := exec.Command(os.Args[0], "-test.run=^TestAGILoadClient$", "-test.timeout=10m")
	cmd.Env = append(os.Environ(), loadClientEnv+"="+ln.Addr().String(),
		"VIPGATE_BENCH_AGI_SESSIONS="+strconv.Itoa(sessions), "VIPGATE_BENCH_AGI_CALLS="+strconv.Itoa(calls))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stdout)
	next := func() string {
		for lines.Scan() {
			if msg, ok := strings.CutPrefix(lines.Text(), loadLinePrefix); ok {
				return msg
			}
		}
		return ""
	}

	// Phase 1: every session parked in the dialogue.
	if msg := next(); msg != "parked" {
		t.Fatalf("client: %q, want parked", msg)
	}
	if n := srv.Sessions(); n != sessions {
		t.Fatalf("%d sessions at the peak, want %d", n, sessions)
	}
	var peak runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&peak)
	peakG := runtime.NumGoroutine()
	heapPer := float64(int64(peak.HeapInuse)-int64(base.HeapInuse)) / float64(sessions)
	goPer := float64(peakG-baseG) / float64(sessions)
	cpu0 := cpuTime(t)
	if _, err := io.WriteString(stdin, "go\n"); err != nil {
		t.Fatal(err)
	}

	// Phase 2: throughput.
	msg := next()
	var res loadResult
	if err := json.Unmarshal([]byte(msg), &res); err != nil {
		t.Fatalf("client result %q: %v", msg, err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("client: %v", err)
	}
	cancel()
	if err := <-served; err != nil {
		t.Fatal(err)
	}
	// Server CPU (the whole process: server, Flow, store, GC) for the
	// release of phase 1 and the calls of phase 2.
	cpuPer := (cpuTime(t) - cpu0) / time.Duration(sessions+res.Calls)
	rows, total, err := st.ListCalls(context.Background(), gate.CallFilter{Outcome: gate.OutcomePINOK, Limit: 1})
	if err != nil || len(rows) == 0 {
		t.Fatalf("call log: %v", err)
	}
	t.Logf("sessions=%d calls=%d failed=%d refused=%d call_log_pin_ok=%d", sessions, res.Calls, res.Failed, srv.Refused(), total)
	t.Logf("throughput: %.0f calls/s (%d calls in %s, %d at a time, client and server on %d CPUs)",
		float64(res.Calls)/res.Elapsed.Seconds(), res.Calls, res.Elapsed.Round(time.Millisecond), sessions, runtime.NumCPU())
	t.Logf("decision latency (header sent -> first command): p50 %s, p99 %s, max %s",
		res.LatP50.Round(time.Microsecond), res.LatP99.Round(time.Microsecond), res.LatMax.Round(time.Microsecond))
	t.Logf("server CPU: %s per call (user+sys of the server process)", cpuPer.Round(time.Microsecond))
	if n := flowLog.errors.Load(); n > 0 {
		t.Logf("the Flow logged %d errors (e.g. a call-log write that hit its 2 s timeout under overload)", n)
	}
	t.Logf("peak: %d sessions parked in GET DATA: heap in use +%.1f KiB/session, %.2f goroutines/session",
		sessions, heapPer/1024, goPer)
	if res.Failed > 0 {
		t.Errorf("%d calls failed, first: %s", res.Failed, res.FirstFail)
	}
	if want := sessions + res.Calls; total+int(flowLog.errors.Load()) < want {
		t.Errorf("call log has %d pin_ok rows and the Flow logged %d errors, want %d rows", total, flowLog.errors.Load(), want)
	}
}

// levelCounter is a slog.Handler that counts Error records.
type levelCounter struct{ errors atomic.Int64 }

func (c *levelCounter) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelError }
func (c *levelCounter) Handle(context.Context, slog.Record) error {
	c.errors.Add(1)
	return nil
}
func (c *levelCounter) WithAttrs([]slog.Attr) slog.Handler { return c }
func (c *levelCounter) WithGroup(string) slog.Handler      { return c }

// cpuTime returns the user and system CPU time of this process.
func cpuTime(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loadHeader is the header of load call i.
func loadHeader(i int) string {
	return "agi_network: yes\nagi_network_script: hotline\nagi_request: agi://127.0.0.1:4573/hotline\n" +
		"agi_channel: PJSIP/load-" + strconv.Itoa(i) + "\nagi_language: en\nagi_type: PJSIP\n" +
		"agi_uniqueid: 1700000000." + strconv.Itoa(i) + "\nagi_version: 22.10.1\n" +
		"agi_callerid: +4917612345678\nagi_calleridname: Load\nagi_callingpres: 0\nagi_dnid: 0301234567\n" +
		"agi_context: from-external\nagi_extension: 0301234567\nagi_priority: 1\nagi_enhanced: 0.0\n" +
		"agi_arg_1: 0301234567\n\n"
}

// loadCall plays one call that types the right PIN. park, if set, is
// called at the first GET DATA and holds the call there until it
// returns. It returns the decision latency.
func loadCall(addr string, i int, park func()) (time.Duration, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	r := bufio.NewReaderSize(c, 512)
	start := time.Now()
	if _, err := io.WriteString(c, loadHeader(i)); err != nil {
		return 0, err
	}
	var lat time.Duration
	var result string
	p := &peer{r: r, w: c, digits: flowPIN + "#", bargeIn: true, onCommand: func(cmd string) {
		if lat == 0 {
			lat = time.Since(start)
		}
		if park != nil && strings.HasPrefix(cmd, "GET DATA") {
			park()
			park = nil
		}
		if v, ok := strings.CutPrefix(cmd, "SET VARIABLE VIPGATE_RESULT "); ok {
			result = v
		}
	}}
	if err := p.serve(); err != nil {
		return lat, err
	}
	if result != `"pin_ok"` {
		return lat, fmt.Errorf("call %d: VIPGATE_RESULT %s, want pin_ok", i, result)
	}
	return lat, nil
}

// TestAGILoadClient is the fake Asterisk side of TestAGILoad, run in a
// child process.
func TestAGILoadClient(t *testing.T) {
	addr := os.Getenv(loadClientEnv)
	if addr == "" {
		t.Skip("the client side of TestAGILoad; it runs only as its child process")
	}
	sessions := envInt("VIPGATE_BENCH_AGI_SESSIONS", 1000)
	calls := envInt("VIPGATE_BENCH_AGI_CALLS", 20000)
	say := func(msg string) { fmt.Printf("%s%s\n", loadLinePrefix, msg) }

	// Phase 1: park every session, wait for the parent to measure.
	var parked, wg sync.WaitGroup
	release := make(chan struct{})
	parked.Add(sessions)
	errs := make(chan error, sessions)
	for i := range sessions {
		wg.Go(func() {
			if _, err := loadCall(addr, i, func() { parked.Done(); <-release }); err != nil {
				errs <- err
			}
		})
	}
	parked.Wait()
	say("parked")
	if line, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil || line != "go\n" {
		t.Fatalf("parent said %q, %v", line, err)
	}
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("phase 1: %v", err)
	}

	// Phase 2: calls back to back on `sessions` connections at once.
	var (
		next   atomic.Int64
		failed atomic.Int64
		mu     sync.Mutex
		lats   = make([]time.Duration, 0, calls)
		first  string
	)
	start := time.Now()
	for range sessions {
		wg.Go(func() {
			for {
				i := int(next.Add(1))
				if i > calls {
					return
				}
				lat, err := loadCall(addr, sessions+i, nil)
				mu.Lock()
				if err != nil {
					failed.Add(1)
					if first == "" {
						first = err.Error()
					}
				} else {
					lats = append(lats, lat)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	res := loadResult{Calls: calls, Failed: int(failed.Load()), Elapsed: time.Since(start), FirstFail: first}
	slices.Sort(lats)
	if n := len(lats); n > 0 {
		res.LatP50, res.LatP99, res.LatMax = lats[n/2], lats[(n*99)/100], lats[n-1]
	}
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	say(string(b))
}
