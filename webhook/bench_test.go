package webhook_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/webhook"
)

// timedServer answers after delay and records, per X-Vipgate-Call-ID, how
// long the handler held each request and when it ended. It counts new
// connections.
type timedServer struct {
	*httptest.Server
	delay    time.Duration
	times    sync.Map // call ID -> held
	newConns atomic.Int64
}

// held is how long the webhook's handler held one request, and the wall
// clock (Unix nanoseconds) when it had written the answer.
type held struct {
	d   time.Duration
	end int64
}

func newTimedServer(tb testing.TB, delay time.Duration, answer string) *timedServer {
	ts := &timedServer{delay: delay}
	ts.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		io.Copy(io.Discard, r.Body)
		if ts.delay > 0 {
			time.Sleep(ts.delay)
		}
		io.WriteString(w, answer)
		ts.times.Store(r.Header.Get("X-Vipgate-Call-ID"), held{time.Since(start), time.Now().UnixNano()})
	}))
	ts.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			ts.newConns.Add(1)
		}
	}
	ts.Start()
	tb.Cleanup(ts.Close)
	return ts
}

// TestLoadPaced paces Authorize at a fixed rate against a local webhook that
// answers after a fixed delay, and reports what vipgate adds to the
// webhook's latency. The target is p99 <= 0.5ms at 1,000/s.
//
// Per request it measures, with the net/http/httptrace hooks the transport
// fires, the wire time: from the request handed to the kernel (the write
// has returned) to the first byte of the answer read. Its own overhead is
// the rest of Authorize's latency: template, signing, taking a connection,
// writing the request (the write system call included), reading and
// parsing the answer, scheduling. This is what the target bounds, and the
// test fails above it.
//
// The wire time ends when vipgate's read returns, so the answer's way back
// (the webhook's flush, loopback, waking vipgate's thread) counts as the
// webhook's. A second figure charges it to vipgate: latency minus the time
// from the request written to the webhook's handler having written the
// answer (wall clocks of the two processes on the same machine).
//
// It also reports the stricter figure, latency minus the time the
// webhook's handler held the request, which adds the loopback round trip
// and the webhook's own HTTP stack, next to the same figure for a bare
// net/http GET paced the same way against the same webhook: that shows the
// floor the machine sets, whatever the client.
//
// The webhook runs in a child process (this test binary, see
// TestLoadWebhookServer), as a real webhook service would, so its CPU and
// garbage are not the client's. VIPGATE_BENCH_SAME_PROCESS=1 runs it inside
// the test process instead.
//
//	VIPGATE_BENCH_WEBHOOK=1 go test -run TestLoadPaced -v ./webhook/
//
// VIPGATE_BENCH_RATE (requests/s, default 1000), VIPGATE_BENCH_SECONDS
// (default 5) and VIPGATE_BENCH_DELAY (default 5ms) adjust the run.
// VIPGATE_BENCH_WEBHOOK_CPUS (a taskset CPU list) runs the webhook on those
// CPUs only; start the test itself on the others to keep the two apart:
//
//	go test -c -o /tmp/webhook.test ./webhook/
//	VIPGATE_BENCH_WEBHOOK=1 VIPGATE_BENCH_WEBHOOK_CPUS=1 taskset -c 0 /tmp/webhook.test -test.run TestLoadPaced -test.v
func TestLoadPaced(t *testing.T) {
	if os.Getenv("VIPGATE_BENCH_WEBHOOK") == "" {
		t.Skip("load test; set VIPGATE_BENCH_WEBHOOK=1 to run it")
	}
	rate := envInt(t, "VIPGATE_BENCH_RATE", 1000)
	seconds := envInt(t, "VIPGATE_BENCH_SECONDS", 5)
	delay := benchDelay(t)
	var srv loadServer
	if os.Getenv("VIPGATE_BENCH_SAME_PROCESS") != "" {
		srv = sameProcessServer{newTimedServer(t, delay, benchAnswer)}
	} else {
		srv = startChildServer(t, delay)
	}
	a := webhook.New(webhook.Config{Secret: func(*gate.Gate) ([]byte, error) { return []byte("bench-secret-0123456789abcdef"), nil }})
	g := webhookGate(srv.url()+"/check?caller=###CALLER_NUMBER###&called=###CALLED_NUMBER###", nil)
	n := rate * seconds
	t.Logf("webhook: %s, answering after %v; %d requests at %d/s per phase", srv, delay, n, rate)

	// Phase 1: vipgate.
	wire := make([]time.Duration, n)
	wroteAt, endAt := make([]int64, n), make([]int64, n) // wall clock, Unix ns
	vip := pace(t, n, rate, "v", func(i int, id string) error {
		var wrote, first time.Time
		ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
			WroteRequest:         func(httptrace.WroteRequestInfo) { wrote = time.Now() },
			GotFirstResponseByte: func() { first = time.Now() },
		})
		_, err := a.Authorize(ctx, g, gate.AuthRequest{Caller: "+4917612345678", Called: "+4930123456", CallID: id})
		endAt[i] = time.Now().UnixNano()
		wire[i], wroteAt[i] = first.Sub(wrote), wrote.UnixNano()
		return err
	})
	times, conns := srv.results(t)
	own := make([]time.Duration, n)
	delivered := make([]time.Duration, n)
	for i := range n {
		if wire[i] <= 0 || wire[i] > vip.e2e[i] {
			t.Fatalf("request %d: wire time %v of a latency of %v: the trace hooks did not fire", i, wire[i], vip.e2e[i])
		}
		own[i] = vip.e2e[i] - wire[i]
		h := times["v"+strconv.Itoa(i)]
		// The same, but the webhook's time ends when its handler has
		// written the answer: the answer's way back (the webhook's
		// flush, loopback, waking vipgate's thread) is vipgate's too.
		delivered[i] = vip.e2e[i] - time.Duration(h.end-wroteAt[i])
	}
	vipStrict := vip.minusHeld(t, times)
	t.Logf("vipgate: %s; connections opened: %d", vip, conns)
	t.Logf("vipgate own overhead (latency - wire time):       %s", quantiles(own))
	t.Logf("own overhead with the answer's way back:          %s", quantiles(delivered))
	t.Logf("vipgate latency - webhook handler time:            %s", quantiles(vipStrict))

	// Phase 2: a bare net/http GET, for the floor.
	bare := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	base := srv.url() + "/check?caller=%2B4917612345678&called=%2B4930123456"
	raw := pace(t, n, rate, "b", func(_ int, id string) error {
		req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, base, nil)
		if err != nil {
			return err
		}
		req.Header.Set("X-Vipgate-Call-ID", id)
		resp, err := bare.Do(req)
		if err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return err
	})
	times, _ = srv.results(t)
	t.Logf("bare net/http: %s", raw)
	t.Logf("bare net/http latency - webhook handler time:      %s", quantiles(raw.minusHeld(t, times)))

	if p99 := quantile(own, .99); p99 > 500*time.Microsecond {
		t.Errorf("own overhead p99 %v above the 0.5ms target", p99)
	}
	if conns > int64(2*webhook.DefaultMaxConcurrent) {
		t.Errorf("%d connections for %d requests: keep-alive connections are not reused", conns, n)
	}
}

// paced is the outcome of one pace run.
type paced struct {
	prefix    string
	e2e       []time.Duration
	wall, cpu time.Duration
	gcs       uint32
	alloc     uint64
}

// pace calls fn n times at rate per second, each call in its own goroutine
// started on a fixed schedule (not a closed loop), with ids prefix+i, and
// records each call's latency. Any error fails the test.
func pace(t *testing.T, n, rate int, prefix string, fn func(i int, id string) error) paced {
	p := paced{prefix: prefix, e2e: make([]time.Duration, n)}
	interval := time.Second / time.Duration(rate)
	var failed atomic.Int64
	var wg sync.WaitGroup
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	cpu0 := cpuTime()
	start := time.Now()
	for i := range n {
		if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
			time.Sleep(d)
		}
		wg.Go(func() {
			t0 := time.Now()
			err := fn(i, prefix+strconv.Itoa(i))
			p.e2e[i] = time.Since(t0)
			if err != nil && failed.Add(1) == 1 {
				t.Errorf("request %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	p.wall, p.cpu = time.Since(start), cpuTime()-cpu0
	runtime.ReadMemStats(&m1)
	p.gcs, p.alloc = m1.NumGC-m0.NumGC, (m1.TotalAlloc-m0.TotalAlloc)/uint64(n)
	if f := failed.Load(); f > 0 {
		t.Fatalf("%d of %d requests failed", f, n)
	}
	return p
}

// minusHeld returns each latency minus the time the webhook held the
// request.
func (p paced) minusHeld(t *testing.T, times map[string]held) []time.Duration {
	out := make([]time.Duration, len(p.e2e))
	for i, d := range p.e2e {
		h, ok := times[p.prefix+strconv.Itoa(i)]
		if !ok {
			t.Fatalf("the webhook has no time for request %s%d", p.prefix, i)
		}
		out[i] = d - h.d
	}
	return out
}

func (p paced) String() string {
	n := len(p.e2e)
	return fmt.Sprintf("rate %.0f/s, latency %s; process CPU %v per request, %d GC cycles, %d B allocated per request",
		float64(n)/p.wall.Seconds(), quantiles(p.e2e), p.cpu/time.Duration(n), p.gcs, p.alloc)
}

func quantile(d []time.Duration, q float64) time.Duration {
	s := slices.Sorted(slices.Values(d))
	return s[min(len(s)-1, int(float64(len(s))*q))]
}

func quantiles(d []time.Duration) string {
	r := func(q float64) time.Duration { return quantile(d, q).Round(time.Microsecond) }
	return fmt.Sprintf("p50 %v p90 %v p99 %v p99.9 %v max %v", r(.5), r(.9), r(.99), r(.999), r(1))
}

const benchAnswer = `{askForPin:{expectedPIN:"1234",maxRetries:3}}`

func benchDelay(t *testing.T) time.Duration {
	s := os.Getenv("VIPGATE_BENCH_DELAY")
	if s == "" {
		return 5 * time.Millisecond
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// loadServer is the webhook of TestLoadPaced.
type loadServer interface {
	url() string
	// results returns, per X-Vipgate-Call-ID, how long the handler held
	// the request, and the number of connections the webhook accepted.
	results(t *testing.T) (map[string]held, int64)
	String() string
}

type sameProcessServer struct{ *timedServer }

func (s sameProcessServer) url() string { return s.URL }

func (s sameProcessServer) results(*testing.T) (map[string]held, int64) {
	m := make(map[string]held)
	s.times.Range(func(k, v any) bool {
		m[k.(string)] = v.(held)
		return true
	})
	return m, s.newConns.Load()
}

func (sameProcessServer) String() string { return "httptest server in the test process" }

// childServer is a timedServer in a child process; its /times answers
// "<call ID> <held ns> <end Unix ns>" lines and a last "conns <n>" line.
type childServer struct {
	base string
}

func (c childServer) url() string { return c.base }

func (c childServer) String() string { return "net/http server in a child process" }

func (c childServer) results(t *testing.T) (map[string]held, int64) {
	resp, err := http.Get(c.base + "/times")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	m := make(map[string]held)
	var conns int64 = -1
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		var v [2]int64
		for i := range min(len(f)-1, 2) {
			n, err := strconv.ParseInt(f[i+1], 10, 64)
			if err != nil {
				t.Fatalf("webhook child: bad line %q", sc.Text())
			}
			v[i] = n
		}
		switch {
		case len(f) == 2 && f[0] == "conns":
			conns = v[0]
		case len(f) == 3:
			m[f[0]] = held{time.Duration(v[0]), v[1]}
		default:
			t.Fatalf("webhook child: bad line %q", sc.Text())
		}
	}
	if err := sc.Err(); err != nil || conns < 0 {
		t.Fatalf("webhook child: incomplete /times (%v)", err)
	}
	return m, conns - 1 // the /times request's own connection
}

const childServerEnv = "VIPGATE_BENCH_WEBHOOK_CHILD"

// startChildServer runs TestLoadWebhookServer in a child process and
// returns its address. The child exits when the test ends (its stdin
// closes).
func startChildServer(t *testing.T, delay time.Duration) childServer {
	cmd := exec.Command(os.Args[0], "-test.run=^TestLoadWebhookServer$")
	if cpus := os.Getenv("VIPGATE_BENCH_WEBHOOK_CPUS"); cpus != "" {
		// The webhook on CPUs of its own, as on another machine.
		taskset, err := exec.LookPath("taskset")
		if err != nil {
			t.Fatalf("VIPGATE_BENCH_WEBHOOK_CPUS needs taskset: %v", err)
		}
		cmd = exec.Command(taskset, "-c", cpus, os.Args[0], "-test.run=^TestLoadWebhookServer$")
	}
	cmd.Env = append(os.Environ(), childServerEnv+"=1", "VIPGATE_BENCH_DELAY="+delay.String())
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
	t.Cleanup(func() {
		stdin.Close()
		if err := cmd.Wait(); err != nil {
			t.Errorf("webhook child: %v", err)
		}
	})
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if addr, ok := strings.CutPrefix(sc.Text(), "webhook-child-listening "); ok {
			go io.Copy(io.Discard, stdout)
			return childServer{base: "http://" + addr}
		}
	}
	t.Fatalf("webhook child did not start: %v", sc.Err())
	return childServer{}
}

// TestLoadWebhookServer is the child process of TestLoadPaced: a
// timedServer whose times are served at /times. It stops when stdin
// closes.
func TestLoadWebhookServer(t *testing.T) {
	if os.Getenv(childServerEnv) == "" {
		t.Skip("child process of TestLoadPaced")
	}
	ts := newTimedServer(t, benchDelay(t), benchAnswer)
	inner := ts.Config.Handler
	ts.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/times" {
			inner.ServeHTTP(w, r)
			return
		}
		bw := bufio.NewWriter(w)
		ts.times.Range(func(k, v any) bool {
			h := v.(held)
			fmt.Fprintf(bw, "%s %d %d\n", k, int64(h.d), h.end)
			return true
		})
		fmt.Fprintf(bw, "conns %d\n", ts.newConns.Load())
		bw.Flush()
	})
	fmt.Printf("webhook-child-listening %s\n", ts.Listener.Addr())
	io.Copy(io.Discard, os.Stdin)
}

func envInt(t *testing.T, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	v, err := strconv.Atoi(s)
	if err != nil || v <= 0 {
		t.Fatalf("%s=%q: want a positive integer", name, s)
	}
	return v
}

// BenchmarkAuthorize measures one authorization against a loopback webhook
// that answers at once: signing, request, keep-alive round trip, parsing.
func BenchmarkAuthorize(b *testing.B) {
	srv := newTimedServer(b, 0, `{askForPin:{expectedPIN:"1234",forwardCorrectPIN:"100",maxRetries:3}}`)
	a := webhook.New(webhook.Config{Secret: func(*gate.Gate) ([]byte, error) { return []byte("bench-secret-0123456789abcdef"), nil }})
	g := webhookGate(srv.URL+"/check?caller=###CALLER_NUMBER###", nil)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := a.Authorize(context.Background(), g, callReq); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(srv.newConns.Load()), "conns")
}

// BenchmarkAuthorizeCached measures an answer served from the cache.
func BenchmarkAuthorizeCached(b *testing.B) {
	srv := newTimedServer(b, 0, `{reject:false}`)
	a := webhook.New(webhook.Config{})
	g := webhookGate(srv.URL, func(wc *gate.WebhookConfig) { wc.CacheTTL = gate.Duration(time.Hour) })
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.Authorize(context.Background(), g, callReq); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseAnswer(b *testing.B) {
	body := []byte(`{askForPin:{expectedPIN:"1234", forwardCorrectPIN:"100", forwardIncorrectPIN:"120", maxRetries:3}}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := webhook.ParseAnswer(body); err != nil {
			b.Fatal(err)
		}
	}
}

// cannedTransport answers every request at once with the same body, without
// a network: what is left is vipgate's own work per request.
type cannedTransport struct{ body string }

func (c cannedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{
		StatusCode:    http.StatusOK,
		Header:        http.Header{"Content-Type": {"application/json"}},
		Body:          io.NopCloser(strings.NewReader(c.body)),
		ContentLength: int64(len(c.body)),
		Request:       r,
	}, nil
}

// BenchmarkAuthorizeOwnWork measures one signed authorization with the
// transport replaced by an immediate canned answer: template, signing,
// breaker, concurrency slot, request building, reading and parsing.
func BenchmarkAuthorizeOwnWork(b *testing.B) {
	a := webhook.New(webhook.Config{
		Client: &http.Client{Transport: cannedTransport{`{askForPin:{expectedPIN:"1234",forwardCorrectPIN:"100",maxRetries:3}}`}},
		Secret: func(*gate.Gate) ([]byte, error) { return []byte("bench-secret-0123456789abcdef"), nil },
	})
	g := webhookGate("https://hooks.example.com/check?caller=###CALLER_NUMBER###&called=###CALLED_NUMBER###", nil)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.Authorize(context.Background(), g, callReq); err != nil {
			b.Fatal(err)
		}
	}
}
