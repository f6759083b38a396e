package webhook_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/webhook"
)

// timedServer answers after delay and records, per X-Vipgate-Call-ID, how
// long the handler held each request. It counts new connections.
type timedServer struct {
	*httptest.Server
	delay    time.Duration
	times    sync.Map // call ID -> time.Duration
	newConns atomic.Int64
}

func newTimedServer(tb testing.TB, delay time.Duration, answer string) *timedServer {
	ts := &timedServer{delay: delay}
	ts.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		io.Copy(io.Discard, r.Body)
		if ts.delay > 0 {
			time.Sleep(ts.delay)
		}
		ts.times.Store(r.Header.Get("X-Vipgate-Call-ID"), time.Since(start))
		io.WriteString(w, answer)
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
// answers after a fixed delay, and reports the overhead beyond the
// webhook's own time (end-to-end latency minus the handler's time) and the
// number of connections opened. The target is p99 <= 0.5ms at 1,000/s.
//
//	VIPGATE_BENCH_WEBHOOK=1 go test -run TestLoadPaced -v ./webhook/
//
// VIPGATE_BENCH_RATE (requests/s, default 1000), VIPGATE_BENCH_SECONDS
// (default 5) and VIPGATE_BENCH_DELAY (default 5ms) adjust the run.
func TestLoadPaced(t *testing.T) {
	if os.Getenv("VIPGATE_BENCH_WEBHOOK") == "" {
		t.Skip("load test; set VIPGATE_BENCH_WEBHOOK=1 to run it")
	}
	rate := envInt(t, "VIPGATE_BENCH_RATE", 1000)
	seconds := envInt(t, "VIPGATE_BENCH_SECONDS", 5)
	delay := 5 * time.Millisecond
	if s := os.Getenv("VIPGATE_BENCH_DELAY"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatal(err)
		}
		delay = d
	}
	srv := newTimedServer(t, delay, `{askForPin:{expectedPIN:"1234",maxRetries:3}}`)
	a := webhook.New(webhook.Config{Secret: func(*gate.Gate) ([]byte, error) { return []byte("bench-secret-0123456789abcdef"), nil }})
	g := webhookGate(srv.URL+"/check?caller=###CALLER_NUMBER###&called=###CALLED_NUMBER###", nil)

	n := rate * seconds
	interval := time.Second / time.Duration(rate)
	overhead := make([]time.Duration, n)
	e2e := make([]time.Duration, n)
	var failed atomic.Int64
	var wg sync.WaitGroup
	cpu0 := cpuTime()
	start := time.Now()
	for i := range n {
		if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
			time.Sleep(d)
		}
		wg.Go(func() {
			id := strconv.Itoa(i)
			req := gate.AuthRequest{Caller: "+4917612345678", Called: "+4930123456", CallID: id}
			t0 := time.Now()
			_, err := a.Authorize(context.Background(), g, req)
			el := time.Since(t0)
			if err != nil {
				failed.Add(1)
				return
			}
			st, _ := srv.times.Load(id)
			e2e[i] = el
			overhead[i] = el - st.(time.Duration)
		})
	}
	wg.Wait()
	wall := time.Since(start)
	cpu := cpuTime() - cpu0
	if f := failed.Load(); f > 0 {
		t.Fatalf("%d of %d requests failed", f, n)
	}
	slices.Sort(overhead)
	slices.Sort(e2e)
	q := func(s []time.Duration, p float64) time.Duration { return s[min(len(s)-1, int(float64(len(s))*p))] }
	t.Logf("requests=%d rate=%.0f/s server_delay=%v connections=%d", n, float64(n)/wall.Seconds(), delay, srv.newConns.Load())
	t.Logf("overhead p50=%v p90=%v p99=%v p99.9=%v max=%v", q(overhead, .5), q(overhead, .9), q(overhead, .99), q(overhead, .999), overhead[n-1])
	t.Logf("end-to-end p50=%v p99=%v", q(e2e, .5), q(e2e, .99))
	t.Logf("process CPU (client and test server) per request=%v", cpu/time.Duration(n))
	if p99 := q(overhead, .99); p99 > 500*time.Microsecond {
		t.Errorf("overhead p99 %v above the 0.5ms target", p99)
	}
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
