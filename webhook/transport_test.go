package webhook

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// countingServer is an httptest server that counts the connections it
// accepted.
func countingServer(t *testing.T, h http.HandlerFunc) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &conns
}

// roundTrip sends one request through tr and reads the whole answer.
func roundTrip(t *testing.T, tr http.RoundTripper, method, url, body string) (int, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := tr.RoundTrip(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

func TestTransportReusesConnections(t *testing.T) {
	srv, conns := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("chunked") != "" {
			w.Write([]byte(`{reject:`))
			w.(http.Flusher).Flush() // no Content-Length: chunked
			w.Write([]byte(`true}`))
			return
		}
		io.WriteString(w, `{reject:false}`)
	})
	tr := newTransport()
	defer tr.CloseIdleConnections()
	for i := range 20 {
		url := srv.URL + "/x"
		want := `{reject:false}`
		if i%2 == 1 {
			url, want = srv.URL+"/x?chunked=1", `{reject:true}`
		}
		code, body, err := roundTrip(t, tr, http.MethodGet, url, "")
		if err != nil || code != 200 || body != want {
			t.Fatalf("request %d: %d %q %v", i, code, body, err)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections for 20 sequential requests, want 1", n)
	}
}

func TestTransportHTTPSReusesConnections(t *testing.T) {
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{forward:"200"}`)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.StartTLS()
	defer srv.Close()
	tr := newTransport().withRoots(srv.Client().Transport.(*http.Transport).TLSClientConfig)
	defer tr.CloseIdleConnections()
	for i := range 5 {
		if code, body, err := roundTrip(t, tr, http.MethodGet, srv.URL, ""); err != nil || code != 200 || body != `{forward:"200"}` {
			t.Fatalf("request %d: %d %q %v", i, code, body, err)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("%d TLS connections for 5 sequential requests, want 1", n)
	}
}

// fillPool leaves n idle connections to url in tr's pool: each request is
// sent while the answers before it are still open, so each takes a
// connection of its own.
func fillPool(t *testing.T, tr *transport, url string, n int) {
	t.Helper()
	var open []io.Closer
	for range n {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		io.ReadAll(resp.Body)
		open = append(open, resp.Body)
	}
	for _, b := range open {
		b.Close()
	}
}

// scriptedServer accepts connections and runs serve on each; serve gets
// the connection's index and a reader positioned at the first request.
func scriptedServer(t *testing.T, serve func(i int, c net.Conn, br *bufio.Reader)) (string, *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns atomic.Int64
	var wg sync.WaitGroup
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			i := int(conns.Add(1)) - 1
			wg.Go(func() {
				defer c.Close()
				serve(i, c, bufio.NewReader(c))
			})
		}
	})
	return "http://" + ln.Addr().String(), &conns
}

// readRequest reads one request and its body.
func readRequest(t *testing.T, br *bufio.Reader) (*http.Request, string) {
	req, err := http.ReadRequest(br)
	if err != nil {
		return nil, ""
	}
	b, _ := io.ReadAll(req.Body)
	return req, string(b)
}

func TestTransportRetriesAConnectionClosedWhileIdle(t *testing.T) {
	var bodies []string
	var mu sync.Mutex
	// Every connection answers one request with keep-alive, then closes
	// silently, as a server does when its idle timeout strikes.
	url, conns := scriptedServer(t, func(i int, c net.Conn, br *bufio.Reader) {
		req, body := readRequest(t, br)
		if req == nil {
			return
		}
		mu.Lock()
		bodies = append(bodies, req.Method+" "+body)
		mu.Unlock()
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 14\r\n\r\n{reject:false}")
	})
	tr := newTransport()
	tr.peek = false // the request itself must find out
	defer tr.CloseIdleConnections()
	const post = `{"caller":"+4917612345678"}`
	reqs := []struct{ method, body string }{{http.MethodGet, ""}, {http.MethodPost, post}, {http.MethodPost, post}}
	for i, r := range reqs {
		time.Sleep(20 * time.Millisecond) // let the server's close arrive
		if code, _, err := roundTrip(t, tr, r.method, url, r.body); err != nil || code != 200 {
			t.Fatalf("request %d (%s): %d %v", i, r.method, code, err)
		}
	}
	// The first request dials; each later one finds the idle connection
	// closed, drops it and dials again.
	if n := conns.Load(); n != 3 {
		t.Errorf("%d connections, want 3", n)
	}
	mu.Lock()
	defer mu.Unlock()
	want := []string{"GET ", "POST " + post, "POST " + post}
	if strings.Join(bodies, "|") != strings.Join(want, "|") {
		t.Errorf("server saw %q, want %q (each request once, POST bodies sent again in full)", bodies, want)
	}
}

func TestTransportDoesNotRetryAfterAPartialAnswer(t *testing.T) {
	var requests atomic.Int64
	url, _ := scriptedServer(t, func(i int, c net.Conn, br *bufio.Reader) {
		for n := 0; ; n++ {
			if req, _ := readRequest(t, br); req == nil {
				return
			}
			requests.Add(1)
			if n == 0 {
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 14\r\n\r\n{reject:false}")
				continue
			}
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Le") // then close
			return
		}
	})
	tr := newTransport()
	defer tr.CloseIdleConnections()
	if _, _, err := roundTrip(t, tr, http.MethodGet, url, ""); err != nil {
		t.Fatal(err)
	}
	if _, _, err := roundTrip(t, tr, http.MethodGet, url, ""); err == nil {
		t.Fatal("a truncated answer was accepted")
	}
	if n := requests.Load(); n != 2 {
		t.Errorf("server saw %d requests, want 2: an answer that had begun must not be asked again", n)
	}
}

func TestTransportConnectionNotReused(t *testing.T) {
	tests := []struct {
		name   string
		answer string
		read   bool // read the body to the end
	}{
		{"Connection: close", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 14\r\n\r\n{reject:false}", true},
		{"bytes after the answer", "HTTP/1.1 200 OK\r\nContent-Length: 14\r\n\r\n{reject:false}JUNK", true},
		{"body not read", "HTTP/1.1 200 OK\r\nContent-Length: 14\r\n\r\n{reject:false}", false},
		{"HTTP/1.0 answer", "HTTP/1.0 200 OK\r\nContent-Length: 14\r\n\r\n{reject:false}", true},
		{"body ends with the connection", "HTTP/1.1 200 OK\r\n\r\n{reject:false}", true}, // the server closes
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url, conns := scriptedServer(t, func(i int, c net.Conn, br *bufio.Reader) {
				for {
					if req, _ := readRequest(t, br); req == nil {
						return
					}
					io.WriteString(c, tt.answer)
					if !strings.Contains(tt.answer, "Content-Length") {
						return
					}
				}
			})
			tr := newTransport()
			defer tr.CloseIdleConnections()
			for range 2 {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
				resp, err := tr.RoundTrip(req)
				if err != nil {
					t.Fatal(err)
				}
				if tt.read {
					io.ReadAll(resp.Body)
				}
				resp.Body.Close()
			}
			if n := conns.Load(); n != 2 {
				t.Errorf("%d connections for 2 requests, want 2 (the first must not be reused)", n)
			}
		})
	}
}

func TestTransportSkipsInformationalAnswers(t *testing.T) {
	url, _ := scriptedServer(t, func(i int, c net.Conn, br *bufio.Reader) {
		readRequest(t, br)
		io.WriteString(c, "HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\n{reject:true}")
	})
	tr := newTransport()
	defer tr.CloseIdleConnections()
	code, body, err := roundTrip(t, tr, http.MethodGet, url, "")
	if err != nil || code != 200 || body != "{reject:true}" {
		t.Fatalf("got %d %q %v, want 200 {reject:true}", code, body, err)
	}
}

func TestTransportBoundsAnswerHeaders(t *testing.T) {
	url, _ := scriptedServer(t, func(i int, c net.Conn, br *bufio.Reader) {
		readRequest(t, br)
		io.WriteString(c, "HTTP/1.1 200 OK\r\n")
		line := "X-Filler: " + strings.Repeat("a", 1000) + "\r\n"
		for range 200 { // 200 KB of headers
			if _, err := io.WriteString(c, line); err != nil {
				return
			}
		}
		io.WriteString(c, "Content-Length: 2\r\n\r\n{}")
	})
	tr := newTransport()
	defer tr.CloseIdleConnections()
	_, _, err := roundTrip(t, tr, http.MethodGet, url, "")
	if !errors.Is(err, errHeaderTooLarge) {
		t.Fatalf("err = %v, want %v", err, errHeaderTooLarge)
	}
}

func TestTransportCancel(t *testing.T) {
	release := make(chan struct{})
	url, _ := scriptedServer(t, func(i int, c net.Conn, br *bufio.Reader) {
		readRequest(t, br)
		<-release // never answers before the cancel
	})
	defer close(release)
	tr := newTransport()
	defer tr.CloseIdleConnections()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err := tr.RoundTrip(req)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("RoundTrip returned %v after the cancel", d)
	}

	// A deadline in the middle of the body ends the read too.
	url2, _ := scriptedServer(t, func(i int, c net.Conn, br *bufio.Reader) {
		readRequest(t, br)
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 14\r\n\r\n{rej")
		<-release
	})
	ctx2, cancel2 := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel2()
	req2, _ := http.NewRequestWithContext(ctx2, http.MethodGet, url2, nil)
	resp, err := tr.RoundTrip(req2)
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("body read err = %v, want a timeout", err)
	}
}

func TestTransportIdleTimeout(t *testing.T) {
	srv, conns := countingServer(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "{}") })
	tr := newTransport()
	defer tr.CloseIdleConnections()
	var now atomic.Int64
	now.Store(time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC).UnixNano())
	tr.now = func() time.Time { return time.Unix(0, now.Load()) }
	steps := []struct {
		after time.Duration
		conns int64
	}{
		{0, 1},
		{transportIdleTimeout - time.Second, 1},
		{transportIdleTimeout + time.Second, 2},
	}
	for _, st := range steps {
		now.Add(int64(st.after))
		if _, _, err := roundTrip(t, tr, http.MethodGet, srv.URL, ""); err != nil {
			t.Fatal(err)
		}
		if n := conns.Load(); n != st.conns {
			t.Errorf("after %v idle: %d connections, want %d", st.after, n, st.conns)
		}
	}
}

func TestTransportRefusesOtherSchemes(t *testing.T) {
	tr := newTransport()
	req, _ := http.NewRequest(http.MethodGet, "ftp://example.com/x", nil)
	if _, err := tr.RoundTrip(req); err == nil {
		t.Fatal("ftp URL accepted")
	}
}

func TestTransportTraceHooks(t *testing.T) {
	srv, _ := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(10 * time.Millisecond)
		io.WriteString(w, "{}")
	})
	tr := newTransport()
	defer tr.CloseIdleConnections()
	for i, wantReused := range []bool{false, true} {
		var got []string
		var wrote, first time.Time
		ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
			GotConn:              func(ci httptrace.GotConnInfo) { got = append(got, fmt.Sprintf("conn reused=%v", ci.Reused)) },
			WroteRequest:         func(httptrace.WroteRequestInfo) { got = append(got, "wrote"); wrote = time.Now() },
			GotFirstResponseByte: func() { got = append(got, "first byte"); first = time.Now() },
		})
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		io.ReadAll(resp.Body)
		resp.Body.Close()
		want := []string{fmt.Sprintf("conn reused=%v", wantReused), "wrote", "first byte"}
		if strings.Join(got, ", ") != strings.Join(want, ", ") {
			t.Errorf("request %d: hooks %q, want %q", i, got, want)
		}
		if d := first.Sub(wrote); d < 10*time.Millisecond {
			t.Errorf("request %d: wire time %v, shorter than the server's 10ms", i, d)
		}
	}
}

func TestTransportRefusesHeaderInjection(t *testing.T) {
	var seen atomic.Int64
	srv, _ := countingServer(t, func(w http.ResponseWriter, r *http.Request) { seen.Add(1) })
	tr := newTransport()
	defer tr.CloseIdleConnections()
	for _, h := range []struct{ k, v string }{
		{"X-Token", "abc\r\nX-Evil: 1"},
		{"X-Token", "abc\nX-Evil: 1"},
		{"X-Token", "abc\x00"},
		{"X Token", "abc"},
		{"X-Token:", "abc"},
	} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
		req.Header[h.k] = []string{h.v}
		if _, err := tr.RoundTrip(req); err == nil {
			t.Errorf("header %q: %q sent", h.k, h.v)
		} else if strings.Contains(err.Error(), "abc") {
			t.Errorf("error %q quotes the header value", err)
		}
	}
	if n := seen.Load(); n != 0 {
		t.Errorf("the server received %d requests", n)
	}
}

// headerLines reads one request's header lines, raw, without the request
// line; nil when the connection ends first.
func headerLines(br *bufio.Reader) []string {
	if _, err := br.ReadString('\n'); err != nil {
		return nil
	}
	var lines []string
	for {
		l, err := br.ReadString('\n')
		if err != nil {
			return nil
		}
		if l == "\r\n" {
			return lines
		}
		lines = append(lines, strings.TrimRight(l, "\r\n"))
	}
}

// pooledConn sends one request through tr to url so that its connection
// is pooled.
func pooledConn(t *testing.T, tr *transport, url string) {
	t.Helper()
	if code, _, err := roundTrip(t, tr, http.MethodGet, url, ""); err != nil || code != 200 {
		t.Fatalf("first request: %d %v", code, err)
	}
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if len(tr.idle) != 1 {
		t.Fatalf("%d idle connection lists after the first request, want 1", len(tr.idle))
	}
}

func TestTransportSendsNothingOnADoneContext(t *testing.T) {
	served := make(chan int, 1) // requests on the connection, at its end
	url, _ := scriptedServer(t, func(i int, c net.Conn, br *bufio.Reader) {
		n := 0
		defer func() { served <- n }()
		for {
			if req, _ := readRequest(t, br); req == nil {
				return
			}
			n++
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
		}
	})
	tr := newTransport()
	pooledConn(t, tr, url)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if _, err := tr.RoundTrip(req); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	tr.CloseIdleConnections()
	if n := <-served; n != 1 {
		t.Errorf("server saw %d requests, want 1: a canceled request was sent", n)
	}
}

func TestTransportRefusedRequestKeepsThePooledConnection(t *testing.T) {
	srv, conns := countingServer(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "{}") })
	tr := newTransport()
	defer tr.CloseIdleConnections()
	pooledConn(t, tr, srv.URL)
	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	req.Header["X-Token"] = []string{"abc\r\nX-Evil: 1"}
	if _, err := tr.RoundTrip(req); err == nil {
		t.Fatal("a header value with a line break was sent")
	}
	pooledConn(t, tr, srv.URL)
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections, want 1: a refused request must neither drop the pooled connection nor dial", n)
	}
}

func TestTransportRefusesControlBytesInTheTarget(t *testing.T) {
	var seen atomic.Int64
	srv, _ := countingServer(t, func(w http.ResponseWriter, r *http.Request) { seen.Add(1) })
	tr := newTransport()
	defer tr.CloseIdleConnections()
	for _, q := range []string{"a=1 HTTP/1.1\r\nX-Evil: 1\r\n", "a=1\nX-Evil: 1", "a=b c", "a=\x00"} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/x", nil)
		req.URL.RawQuery = q
		if _, err := tr.RoundTrip(req); err == nil {
			t.Errorf("query %q sent", q)
		} else if strings.Contains(err.Error(), "a=") {
			t.Errorf("error %q quotes the query", err)
		}
	}
	if n := seen.Load(); n != 0 {
		t.Errorf("the server received %d requests", n)
	}
}

func TestTransportFramingHeadersOnlyFromTheRequest(t *testing.T) {
	lines := make(chan []string, 1)
	url, _ := scriptedServer(t, func(i int, c net.Conn, br *bufio.Reader) {
		lines <- headerLines(br)
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
	})
	tr := newTransport()
	defer tr.CloseIdleConnections()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader("{}"))
	// Keys set on the map directly need not be canonical.
	req.Header["transfer-encoding"] = []string{"chunked"}
	req.Header["content-length"] = []string{"99"}
	req.Header["host"] = []string{"evil.example"}
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var framing []string
	for _, l := range <-lines {
		k, _, _ := strings.Cut(l, ":")
		switch strings.ToLower(k) {
		case "transfer-encoding", "content-length", "host":
			framing = append(framing, l)
		}
	}
	if want := []string{"Host: " + strings.TrimPrefix(url, "http://"), "Content-Length: 2"}; strings.Join(framing, "|") != strings.Join(want, "|") {
		t.Errorf("framing headers %q, want %q", framing, want)
	}
}

func TestTransportBoundsInformationalAnswers(t *testing.T) {
	url, _ := scriptedServer(t, func(i int, c net.Conn, br *bufio.Reader) {
		readRequest(t, br)
		for { // 1xx answers without end
			if _, err := io.WriteString(c, "HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n"); err != nil {
				return
			}
		}
	})
	tr := newTransport()
	defer tr.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if _, err := tr.RoundTrip(req); !errors.Is(err, errHeaderTooLarge) {
		t.Fatalf("err = %v, want %v: the headers of all answers to a request share one bound", err, errHeaderTooLarge)
	}
}

// lateContext has a deadline but reports it only later, as a context
// whose timer has not run yet when the connection's deadline strikes.
type lateContext struct {
	context.Context
	deadline time.Time
}

func (c lateContext) Deadline() (time.Time, bool) { return c.deadline, true }

func TestTransportDoesNotRetryATimeout(t *testing.T) {
	// The second connection answers its first request only.
	url, conns := scriptedServer(t, func(i int, c net.Conn, br *bufio.Reader) {
		for n := 0; ; n++ {
			if req, _ := readRequest(t, br); req == nil {
				return
			}
			if i == 1 && n == 1 {
				io.Copy(io.Discard, br) // until the client closes
				return
			}
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
		}
	})
	tr := newTransport()
	defer tr.CloseIdleConnections()
	fillPool(t, tr, url, 2)
	// The request goes to the second connection, pooled last.
	ctx := lateContext{context.Background(), time.Now().Add(50 * time.Millisecond)}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	_, err := tr.RoundTrip(req)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("err = %v, want a timeout", err)
	}
	// The other pooled connection is still there.
	pooledConn(t, tr, url)
	if n := conns.Load(); n != 2 {
		t.Errorf("%d connections, want 2: a timeout must not be retried on the other pooled connection", n)
	}
}

func TestTransportEmptyBodies(t *testing.T) {
	// Every connection answers one request with keep-alive, then closes
	// silently; it reports the request's Content-Length lines.
	lengths := make(chan string, 4)
	url, _ := scriptedServer(t, func(i int, c net.Conn, br *bufio.Reader) {
		var cl []string
		for _, l := range headerLines(br) {
			if strings.HasPrefix(l, "Content-Length:") {
				cl = append(cl, l)
			}
		}
		lengths <- strings.Join(cl, ",")
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
	})
	tr := newTransport()
	defer tr.CloseIdleConnections()
	for i, tt := range []struct {
		method string
		body   io.ReadCloser
		want   string
	}{
		{http.MethodGet, nil, ""},
		// http.NoBody is no body: nothing to send again on a new
		// connection.
		{http.MethodGet, http.NoBody, ""},
		// A POST states that it has no body, as net/http's does.
		{http.MethodPost, nil, "Content-Length: 0"},
		{http.MethodPost, http.NoBody, "Content-Length: 0"},
	} {
		req, _ := http.NewRequest(tt.method, url, nil)
		req.Body = tt.body
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		io.ReadAll(resp.Body)
		resp.Body.Close()
		if got := <-lengths; got != tt.want {
			t.Errorf("request %d, %s: sent %q, want %q", i, tt.method, got, tt.want)
		}
	}
}

func TestTransportClosesIdleConnectionsWithoutTraffic(t *testing.T) {
	closed := make(chan struct{})
	url, _ := scriptedServer(t, func(i int, c net.Conn, br *bufio.Reader) {
		readRequest(t, br)
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
		io.Copy(io.Discard, br) // until the client closes
		close(closed)
	})
	tr := newTransport()
	defer tr.CloseIdleConnections()
	tr.idleTimeout = 20 * time.Millisecond
	if code, _, err := roundTrip(t, tr, http.MethodGet, url, ""); err != nil || code != 200 {
		t.Fatalf("%d %v", code, err)
	}
	// No further request comes for this host.
	select {
	case <-closed:
	case <-time.After(time.Second):
		t.Fatal("an idle connection outlived the idle timeout by a second")
	}
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if len(tr.idle) != 0 {
		t.Errorf("%d idle connection lists left, want 0", len(tr.idle))
	}
}

func TestTransportRetriesOnANewConnection(t *testing.T) {
	// Every connection answers one request with keep-alive, then closes
	// silently: after a lull, all pooled connections are closed.
	url, conns := scriptedServer(t, func(i int, c net.Conn, br *bufio.Reader) {
		if req, _ := readRequest(t, br); req != nil {
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
		}
	})
	tr := newTransport()
	tr.peek = false // the request itself must find out
	defer tr.CloseIdleConnections()
	fillPool(t, tr, url, 3)
	if code, _, err := roundTrip(t, tr, http.MethodGet, url, ""); err != nil || code != 200 {
		t.Fatalf("request after the server closed its idle connections: %d %v", code, err)
	}
	if n := conns.Load(); n != 4 {
		t.Errorf("%d connections, want 4 (the retry dials)", n)
	}
}

func TestTransportBodyCloseDuringRead(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	url, _ := scriptedServer(t, func(i int, c net.Conn, br *bufio.Reader) {
		readRequest(t, br)
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 14\r\n\r\n{rej")
		<-release
	})
	tr := newTransport()
	defer tr.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	read := make(chan error, 1)
	go func() {
		_, err := io.ReadAll(resp.Body)
		read <- err
	}()
	time.Sleep(10 * time.Millisecond) // let the reader block
	// Closing from another goroutine ends the read, as with net/http.
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() { resp.Body.Close() })
	}
	wg.Wait()
	select {
	case err := <-read:
		if err == nil {
			t.Error("a read of a closed body ended without error")
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Close did not end a blocked read")
	}
}

func TestTransportConnectionCloseHeader(t *testing.T) {
	lines := make(chan []string, 2)
	url, conns := scriptedServer(t, func(i int, c net.Conn, br *bufio.Reader) {
		for {
			l := headerLines(br)
			if l == nil {
				return
			}
			lines <- l
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
		}
	})
	tr := newTransport()
	defer tr.CloseIdleConnections()
	for range 2 {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		req.Header.Set("Connection", "keep-alive, Close") // as a gate may configure
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		io.ReadAll(resp.Body)
		resp.Body.Close()
		var conn []string
		for _, l := range <-lines {
			if strings.HasPrefix(strings.ToLower(l), "connection:") {
				conn = append(conn, l)
			}
		}
		if strings.Join(conn, "|") != "Connection: close" {
			t.Errorf("sent %q, want Connection: close", conn)
		}
	}
	if n := conns.Load(); n != 2 {
		t.Errorf("%d connections for 2 requests asking to close, want 2", n)
	}
}

// FuzzWriteRequest checks that a request checkRequest lets through is
// written so that an HTTP server reads back exactly the header and URL that
// were set, with nothing added: no header value or URL can inject a header
// or a second request.
func FuzzWriteRequest(f *testing.F) {
	f.Add("X-Token", "Bearer abc", "/check", "caller=%2B4917612345678", "")
	f.Add("X-Token", "abc\r\nX-Evil: 1", "/check", "a=b", "")
	f.Add("X-Token", "abc", "/check", "a=b\r\nX-Evil: 1", "")
	f.Add("transfer-encoding", "chunked", "/", "", `{"caller":"+49"}`)
	f.Add("Content-Length", "0", "/x y", "", "body")
	f.Add("X-Tab", "a\tb", "/%0d%0a", "q=%0D%0A", "")
	f.Fuzz(func(t *testing.T, key, value, path, query, body string) {
		method := http.MethodGet
		if body != "" {
			method = http.MethodPost
		}
		r, err := http.NewRequest(method, "http://hooks.example.com/", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if body == "" {
			r.Body, r.ContentLength = nil, 0
		}
		r.URL.Path, r.URL.RawQuery = "/"+strings.TrimPrefix(path, "/"), query
		r.Header[key] = []string{value}
		target, err := checkRequest(r)
		if err != nil {
			return // refused before a connection is taken
		}
		var buf strings.Builder
		w := bufio.NewWriter(&buf)
		if err := writeRequest(w, r, target); err != nil {
			return
		}
		w.Flush()
		br := bufio.NewReader(strings.NewReader(buf.String()))
		got, err := http.ReadRequest(br)
		if err != nil {
			t.Fatalf("written request does not parse: %v\n%q", err, buf.String())
		}
		gotBody, err := io.ReadAll(got.Body)
		if err != nil || string(gotBody) != body {
			t.Fatalf("body %q (%v), want %q", gotBody, err, body)
		}
		if br.Buffered() > 0 {
			t.Fatalf("%d bytes after the request: a second request was smuggled in\n%q", br.Buffered(), buf.String())
		}
		if got.RequestURI != target {
			t.Fatalf("request target %q, want %q", got.RequestURI, target)
		}
		ck := http.CanonicalHeaderKey(key)
		for k := range got.Header {
			if k != ck && k != "Content-Length" {
				t.Fatalf("header %q appeared (set: %q)\n%q", k, key, buf.String())
			}
		}
		switch ck {
		case "Host", "Content-Length", "Connection", "Transfer-Encoding":
			return // framing headers come from the request's fields
		}
		if g := got.Header.Get(key); g != strings.Trim(value, " \t") {
			t.Fatalf("header %s = %q, want %q", key, g, value)
		}
	})
}

// TestTransportIdleConnectionTheServerWroteToOrClosed has the server act
// on the idle connection after the first answer. With the peek, the next
// request is sent on a new connection at once; without it (or where a
// platform cannot peek), a 408 that answers nothing is still taken for the
// server's idle close and the request sent again on a new connection.
func TestTransportIdleConnectionTheServerWroteToOrClosed(t *testing.T) {
	for _, tt := range []struct {
		name       string
		peek       bool
		after      func(c net.Conn) // what the server does once the first answer is out
		wantReused []bool           // GotConn's Reused, per connection taken
	}{
		{"stray bytes", true, func(c net.Conn) { io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\n{reject:true}") }, []bool{false}},
		{"closed", true, func(c net.Conn) { c.Close() }, []bool{false}},
		{"408, peek", true, write408, []bool{false}},
		{"408, no peek", false, write408, []bool{true, false}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.peek && !peekSupported {
				t.Skip("no socket peek on this platform")
			}
			var answered atomic.Int64
			url, conns := scriptedServer(t, func(i int, c net.Conn, br *bufio.Reader) {
				for {
					if req, _ := readRequest(t, br); req == nil {
						return
					}
					answered.Add(1)
					io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 14\r\n\r\n{reject:false}")
					if i == 0 {
						time.Sleep(10 * time.Millisecond)
						tt.after(c)
						io.Copy(io.Discard, br)
						return
					}
				}
			})
			tr := newTransport()
			tr.peek = tt.peek
			defer tr.CloseIdleConnections()
			if _, _, err := roundTrip(t, tr, http.MethodGet, url, ""); err != nil {
				t.Fatal(err)
			}
			time.Sleep(40 * time.Millisecond) // the server acts on the idle connection
			var reused []bool
			ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
				GotConn: func(ci httptrace.GotConnInfo) { reused = append(reused, ci.Reused) },
			})
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			resp, err := tr.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(b) != "{reject:false}" {
				t.Errorf("answer %q, want {reject:false} (the server's bytes were taken for it)", b)
			}
			if !slices.Equal(reused, tt.wantReused) {
				t.Errorf("connections taken (reused?): %v, want %v", reused, tt.wantReused)
			}
			if n, a := conns.Load(), answered.Load(); n != 2 || a != 2 {
				t.Errorf("%d connections, %d answered; want 2 and 2", n, a)
			}
		})
	}
}

// write408 is a server's idle close: a 408 that answers nothing.
func write408(c net.Conn) {
	io.WriteString(c, "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
}
