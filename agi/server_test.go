package agi

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
)

const testHeader = "agi_network: yes\nagi_network_script: hotline\nagi_uniqueid: 1.1\nagi_callerid: 123\nagi_extension: 100\nagi_context: default\n\n"

// startServer serves on a loopback port until the test ends.
// The returned wait function stops nothing; it returns Serve's result once
// Serve has returned.
func startServer(t *testing.T, cfg Config) (*Server, string, context.CancelFunc, func() error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	var serveErr error
	done := make(chan struct{})
	go func() {
		serveErr = srv.Serve(ctx, ln)
		close(done)
	}()
	wait := func() error {
		<-done
		return serveErr
	}
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return srv, ln.Addr().String(), cancel, wait
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	// Guard against a hang; not a speed assertion.
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	return c
}

// waitClosed reads until the server closes the connection.
func waitClosed(t *testing.T, c net.Conn) {
	t.Helper()
	// A close with unread input in the server's buffer is a reset.
	if _, err := io.Copy(io.Discard, c); err != nil && !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("want the server to close the connection, got %v", err)
	}
}

func TestServerClosesJunk(t *testing.T) {
	tests := []struct {
		name string
		send string
	}{
		{"http request", "GET / HTTP/1.1\r\nHost: vipgate\r\n\r\n"},
		{"binary garbage", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\n"},
		{"over-long line", "agi_network: " + strings.Repeat("y", 300) + "\n\n"},
		{"too many header lines", strings.Repeat("agi_x: 1\n", 20) + "\n"},
		{"nothing (header timeout)", ""},
		{"header cut off", "agi_network: yes\n"},
	}
	var handled atomic.Int64
	_, addr, _, _ := startServer(t, Config{
		Handler:        func(context.Context, gate.Call) { handled.Add(1) },
		HeaderTimeout:  200 * time.Millisecond,
		MaxLineLen:     256,
		MaxHeaderLines: 16,
	})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, addr)
			if _, err := io.WriteString(c, tt.send); err != nil {
				t.Fatal(err)
			}
			waitClosed(t, c)
		})
	}
	if n := handled.Load(); n != 0 {
		t.Fatalf("handler ran %d times for junk", n)
	}
}

func TestServerMaxSessions(t *testing.T) {
	release := make(chan struct{})
	var started sync.WaitGroup
	started.Add(2)
	srv, addr, _, _ := startServer(t, Config{
		MaxSessions: 2,
		Handler: func(ctx context.Context, c gate.Call) {
			started.Done()
			select {
			case <-release:
			case <-ctx.Done():
			}
		},
	})
	for range 2 {
		c := dial(t, addr)
		if _, err := io.WriteString(c, testHeader); err != nil {
			t.Fatal(err)
		}
	}
	started.Wait()
	if n := srv.Sessions(); n != 2 {
		t.Fatalf("Sessions() = %d, want 2", n)
	}
	over := dial(t, addr)
	_, _ = io.WriteString(over, testHeader)
	waitClosed(t, over)
	if n := srv.Refused(); n != 1 {
		t.Fatalf("Refused() = %d, want 1", n)
	}
	close(release)
}

func TestServerHandlerSeesCall(t *testing.T) {
	got := make(chan gate.CallInfo, 1)
	_, addr, _, _ := startServer(t, Config{
		Handler: func(ctx context.Context, c gate.Call) {
			got <- c.Info()
			_ = c.Continue(ctx, gate.Continue)
		},
	})
	c := dial(t, addr)
	if _, err := io.WriteString(c, testHeader); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(c)
	line, err := r.ReadString('\n')
	if err != nil || line != "SET VARIABLE VIPGATE_RESULT \"fallback\"\n" {
		t.Fatalf("got %q, %v", line, err)
	}
	if _, err := io.WriteString(c, "200 result=1\n"); err != nil {
		t.Fatal(err)
	}
	waitClosed(t, c)
	want := gate.CallInfo{ID: "1.1", Source: "agi", Caller: "123", Called: "100", GateName: "hotline"}
	if info := <-got; info != want {
		t.Fatalf("Info() = %+v, want %+v", info, want)
	}
}

func TestServerPanicIsContained(t *testing.T) {
	var calls atomic.Int64
	_, addr, _, _ := startServer(t, Config{
		Handler: func(ctx context.Context, c gate.Call) {
			if calls.Add(1) == 1 {
				panic("bad handler")
			}
		},
	})
	for range 2 {
		c := dial(t, addr)
		_, _ = io.WriteString(c, testHeader)
		waitClosed(t, c)
	}
	if n := calls.Load(); n != 2 {
		t.Fatalf("handler ran %d times, want 2", n)
	}
}

func TestServerShutdown(t *testing.T) {
	tests := []struct {
		name      string
		finish    bool // the handler finishes when asked to during the drain
		drain     time.Duration
		wantErr   bool
		wantCause error
	}{
		// The drain timeout is far longer than the test needs: the handler
		// finishes as soon as the listener is seen closed.
		{name: "drained", finish: true, drain: time.Minute},
		{name: "cut off after the drain timeout", drain: 300 * time.Millisecond, wantErr: true, wantCause: context.Canceled},
		{name: "default drain", finish: true},
		{name: "no drain", drain: gate.NoDrain, wantErr: true, wantCause: context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			started := make(chan struct{})
			finish := make(chan struct{})
			cause := make(chan error, 1)
			var states []bool
			var names []string
			var mu sync.Mutex
			_, addr, cancel, wait := startServer(t, Config{
				DrainTimeout: tt.drain,
				OnState: func(name string, up bool) {
					mu.Lock()
					states = append(states, up)
					names = append(names, name)
					mu.Unlock()
				},
				Handler: func(ctx context.Context, c gate.Call) {
					close(started)
					select {
					case <-finish:
						cause <- nil
					case <-ctx.Done():
						cause <- context.Cause(ctx)
					}
				},
			})
			c := dial(t, addr)
			_, _ = io.WriteString(c, testHeader)
			// Asterisk's part: the undecided call is sent back with
			// VIPGATE_RESULT=fallback.
			go func() {
				r := bufio.NewReader(c)
				for {
					if _, err := r.ReadString('\n'); err != nil {
						return
					}
					_, _ = io.WriteString(c, "200 result=1\n")
				}
			}()
			<-started
			cancel()
			// The listener is closed at once: new calls are refused.
			deadline := time.Now().Add(5 * time.Second)
			for {
				c2, err := net.Dial("tcp", addr)
				if err != nil {
					break
				}
				c2.Close()
				if time.Now().After(deadline) {
					t.Fatal("listener still accepts after shutdown")
				}
				time.Sleep(10 * time.Millisecond)
			}
			if tt.finish {
				close(finish)
			}
			err := wait()
			if (err != nil) != tt.wantErr {
				t.Fatalf("Serve = %v, want error %v", err, tt.wantErr)
			}
			if got := <-cause; !errors.Is(got, tt.wantCause) && got != tt.wantCause {
				t.Fatalf("handler context cause = %v, want %v", got, tt.wantCause)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(states) != 2 || !states[0] || states[1] {
				t.Fatalf("OnState calls = %v, want [true false]", states)
			}
			// Named like an ARI server: by the listener's address.
			for _, n := range names {
				if n != addr {
					t.Errorf("OnState named %q, want the listener address %q", n, addr)
				}
			}
		})
	}
}

// TestServerNoGoroutineLeak runs good, hung-up and junk sessions, stops the
// server, and checks that every goroutine it started has ended.
func TestServerNoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(Config{
		// Long enough that a client goroutine scheduled late under load
		// still sends its header in time; the silent connections wait
		// for it once.
		HeaderTimeout: time.Second,
		Handler: func(ctx context.Context, c gate.Call) {
			if err := c.Answer(ctx); err != nil {
				return
			}
			in, err := c.Collect(ctx, gate.Prompt{Name: "vipgate/ask-pin"}, gate.CollectOptions{MaxDigits: 4})
			if err != nil || len(in.Digits) != 4 {
				_ = c.Hangup(ctx, gate.CauseBusy)
				return
			}
			_ = c.Continue(ctx, gate.Continue)
		},
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()

	var wg sync.WaitGroup
	for i := range 30 {
		wg.Go(func() {
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(10 * time.Second))
			switch i % 3 {
			case 0: // a whole call
				p := &peer{r: bufio.NewReader(c), w: c, digits: "1234#"}
				_, _ = io.WriteString(c, testHeader)
				if err := p.serve(); err != nil {
					t.Error(err)
				}
			case 1: // the caller hangs up during the prompt
				_, _ = io.WriteString(c, testHeader)
				r := bufio.NewReader(c)
				_, _ = r.ReadString('\n')
				_, _ = io.WriteString(c, "200 result=0\n")
				_, _ = r.ReadString('\n')
				_, _ = io.WriteString(c, "200 result=-1 endpos=0\nHANGUP\n")
				_, _ = r.ReadString('\n')
				_, _ = io.WriteString(c, "511 Command Not Permitted on a dead channel or intercept routine\n")
				_, _ = io.Copy(io.Discard, c)
			case 2: // junk, or nothing until the header timeout
				if i%2 == 0 {
					_, _ = io.WriteString(c, "\x00\x01junk\n")
				}
				_, _ = io.Copy(io.Discard, c)
			}
		})
	}
	wg.Wait()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// Goroutines end asynchronously after Serve returns (the runtime's
	// own included); wait for the count to settle, then compare.
	var after int
	for range 200 {
		if after = runtime.NumGoroutine(); after <= before {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	buf := make([]byte, 1<<16)
	t.Fatalf("%d goroutines before, %d after:\n%s", before, after, buf[:runtime.Stack(buf, true)])
}

// flakyListener fails its first Accept calls with a transient error.
type flakyListener struct {
	*pipeListener
	fails atomic.Int64
}

func (l *flakyListener) Accept() (net.Conn, error) {
	if l.fails.Add(-1) >= 0 {
		return nil, errors.New("accept4: too many open files")
	}
	return l.pipeListener.Accept()
}

// TestServerAcceptRetries checks that a failing Accept (e.g. out of file
// descriptors) does not stop the server.
func TestServerAcceptRetries(t *testing.T) {
	ln := &flakyListener{pipeListener: newPipeListener()}
	ln.fails.Store(3)
	handled := make(chan gate.CallInfo, 1)
	srv := NewServer(Config{Handler: func(ctx context.Context, c gate.Call) { handled <- c.Info() }})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	c, err := ln.Dial()
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, testHeader); err != nil {
		t.Fatal(err)
	}
	if info := <-handled; info.ID != "1.1" {
		t.Fatalf("Info().ID = %q", info.ID)
	}
	waitClosed(t, c)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := ln.fails.Load(); n >= 0 {
		t.Fatalf("Accept failed only %d of 3 times", 3-n-1)
	}
}

// TestServerShutdownStuckHandler checks that Serve returns even when a
// handler ignores its cancelled context.
func TestServerShutdownStuckHandler(t *testing.T) {
	old := cancelGrace
	cancelGrace = 100 * time.Millisecond
	defer func() { cancelGrace = old }()
	started := make(chan struct{})
	stuck := make(chan struct{})
	defer close(stuck)
	_, addr, cancel, wait := startServer(t, Config{
		DrainTimeout: 100 * time.Millisecond,
		Handler: func(ctx context.Context, c gate.Call) {
			close(started)
			<-stuck
		},
	})
	c := dial(t, addr)
	_, _ = io.WriteString(c, testHeader)
	<-started
	cancel()
	err := wait()
	if err == nil || !strings.Contains(err.Error(), "1 handlers still running") {
		t.Fatalf("Serve = %v, want an error naming the stuck handler", err)
	}
}

// TestServerIdleConnectionsDoNotStarveCalls holds many more idle
// connections (no header) than there are sessions: they must not take
// the places real calls need. The oldest idle ones are closed as new
// connections arrive, and a call that sends its header is served.
func TestServerIdleConnectionsDoNotStarveCalls(t *testing.T) {
	handled := make(chan gate.CallInfo, 1)
	_, addr, _, _ := startServer(t, Config{
		MaxSessions:   20,
		HeaderTimeout: time.Minute, // idle connections are not timed out during the test
		Handler:       func(ctx context.Context, c gate.Call) { handled <- c.Info() },
	})
	idle := make([]net.Conn, 150)
	for i := range idle {
		idle[i] = dial(t, addr)
	}
	call := dial(t, addr)
	if _, err := io.WriteString(call, testHeader); err != nil {
		t.Fatal(err)
	}
	select {
	case info := <-handled:
		if info.GateName != "hotline" {
			t.Errorf("call info %+v", info)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a call behind 150 idle connections was not served")
	}
	waitClosed(t, call)
	// At four times the per-peer bound of 32 the oldest are pushed out
	// whatever their age: 150 - 128 of them, and one more for the call.
	for i, c := range idle[:23] {
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("idle connection %d was not closed (err %v)", i, err)
		}
	}
}

// TestServerRefusalReasons checks the per-peer session bound (another
// peer is still served), the header timeout and eviction, each reported
// to OnRefused.
func TestServerRefusalReasons(t *testing.T) {
	var mu sync.Mutex
	reasons := map[string]int{}
	release := make(chan struct{})
	started := make(chan string, 4)
	_, addr, _, _ := startServer(t, Config{
		MaxSessionsPerPeer: 2,
		MaxPendingPerPeer:  2,
		HeaderTimeout:      300 * time.Millisecond,
		Handler: func(ctx context.Context, c gate.Call) {
			started <- c.Info().ID
			select {
			case <-release:
			case <-ctx.Done():
			}
		},
		OnRefused: func(r string) {
			mu.Lock()
			reasons[r]++
			mu.Unlock()
		},
	})
	defer close(release)
	count := func(r string) int {
		mu.Lock()
		defer mu.Unlock()
		return reasons[r]
	}
	for range 2 {
		c := dial(t, addr)
		if _, err := io.WriteString(c, testHeader); err != nil {
			t.Fatal(err)
		}
		<-started
	}
	third := dial(t, addr)
	_, _ = io.WriteString(third, testHeader)
	waitClosed(t, third)
	if n := count(RefusedPeer); n != 1 {
		t.Errorf("peer refusals %d, want 1", n)
	}
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}
	other, err := d.Dial("tcp", addr)
	if err != nil {
		t.Skipf("cannot dial from 127.0.0.2: %v", err)
	}
	defer other.Close()
	if _, err := io.WriteString(other, testHeader); err != nil {
		t.Fatal(err)
	}
	select {
	case <-started:
	case <-time.After(5 * time.Second):
		t.Fatal("a call from another peer was not served")
	}
	// Nine idle connections from one peer with MaxPendingPerPeer 2: at
	// four times the bound the oldest is pushed out at once, the other
	// eight time out.
	for range 9 {
		dial(t, addr)
	}
	deadline := time.Now().Add(5 * time.Second)
	for (count(RefusedHeaderPending) < 1 || count(RefusedHeaderTimeout) < 8) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	mu.Lock()
	if reasons[RefusedHeaderPending] != 1 || reasons[RefusedHeaderTimeout] != 8 {
		t.Errorf("refusals %v, want header_pending 1 and header_timeout 8", reasons)
	}
	mu.Unlock()
}

// TestServerBurstNotCut opens more connections at once than
// MaxPendingPerPeer and only then sends their headers, as a busy PBX that
// vipgate is slow to read looks: none is pushed out, every call is served.
func TestServerBurstNotCut(t *testing.T) {
	var handled atomic.Int64
	var refused atomic.Int64
	_, addr, _, _ := startServer(t, Config{
		Handler:   func(context.Context, gate.Call) { handled.Add(1) },
		OnRefused: func(string) { refused.Add(1) },
	})
	conns := make([]net.Conn, 3*DefaultMaxPendingPerPeer)
	for i := range conns {
		conns[i] = dial(t, addr)
	}
	for _, c := range conns {
		if _, err := io.WriteString(c, testHeader); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range conns {
		waitClosed(t, c)
	}
	if h, r := handled.Load(), refused.Load(); h != int64(len(conns)) || r != 0 {
		t.Errorf("%d calls handled, %d refused; want all %d handled", h, r, len(conns))
	}
}
