package webhook

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// transport is the webhook client's http.RoundTripper: HTTP/1.1 with
// keep-alive connections per scheme, host and port, plain or TLS.
//
// It writes the request and reads the answer on the calling goroutine; a
// connection has no goroutines of its own. net/http's Transport runs a
// reader and a writer goroutine per connection and hands every request and
// answer between them, which on a small machine costs more than the rest of
// a webhook call together (see BENCHMARKS.md). What it leaves out, because
// a webhook call does not need it: HTTP/2, proxies, compression, redirects
// (the Authorizer never follows them), Expect: 100-continue, trailers.
//
// A connection is reused only when its answer was read to the end, the
// server did not ask to close, and nothing followed the answer. Before an
// idle connection is taken, a non-blocking peek at its socket (Unix) drops
// it if the server wrote to it or closed it meanwhile. A reused connection
// that still fails before a byte of the answer arrived (the server closed
// it after the peek) is dropped and the request sent once more on a new
// connection; webhook requests are queries, so sending one twice is safe.
// Connections idle longer than the idle timeout are closed, whether or not
// another request comes.
type transport struct {
	dialer         net.Dialer
	tls            *tls.Config // nil: the system roots
	maxIdlePerHost int
	idleTimeout    time.Duration
	maxHeaderBytes int64
	now            func() time.Time
	peek           bool // check idle connections before use (stale); off in tests of the retry

	mu      sync.Mutex
	idle    map[string][]*pconn // by connection key, most recent last
	sweeper *time.Timer         // closes expired idle connections; nil: none pooled
}

// Transport defaults.
const (
	transportIdleTimeout    = 90 * time.Second
	transportDialTimeout    = 5 * time.Second
	transportMaxHeaderBytes = 64 << 10
)

func newTransport() *transport {
	return &transport{
		dialer:         net.Dialer{Timeout: transportDialTimeout, KeepAlive: 30 * time.Second},
		maxIdlePerHost: 2 * DefaultMaxConcurrent,
		idleTimeout:    transportIdleTimeout,
		maxHeaderBytes: transportMaxHeaderBytes,
		now:            time.Now,
		peek:           true,
		idle:           make(map[string][]*pconn),
	}
}

// withRoots returns a transport like t, with its own connections, that
// verifies servers against roots.
func (t *transport) withRoots(cfg *tls.Config) *transport {
	c := newTransport()
	c.dialer, c.maxIdlePerHost, c.idleTimeout, c.maxHeaderBytes, c.now, c.peek = t.dialer, t.maxIdlePerHost, t.idleTimeout, t.maxHeaderBytes, t.now, t.peek
	c.tls = cfg
	return c
}

// pconn is one connection. Reads go through it so that the header size
// can be bounded and a reused connection can tell "closed before any
// answer" from a broken answer.
type pconn struct {
	key       string
	conn      net.Conn
	raw       net.Conn // the TCP connection under conn (conn itself without TLS)
	br        *bufio.Reader
	bw        *bufio.Writer
	read      int64 // bytes read since the request was written
	limit     int64 // reads fail beyond this many bytes; 0: no limit
	idleSince time.Time
	trace     *httptrace.ClientTrace // of the current request, while its header is read
}

var errHeaderTooLarge = errors.New("answer headers too large")

func (pc *pconn) Read(p []byte) (int, error) {
	if pc.limit > 0 {
		if pc.read >= pc.limit {
			return 0, errHeaderTooLarge
		}
		p = p[:min(int64(len(p)), pc.limit-pc.read)]
	}
	n, err := pc.conn.Read(p)
	if pc.read == 0 && n > 0 && pc.trace != nil && pc.trace.GotFirstResponseByte != nil {
		pc.trace.GotFirstResponseByte()
	}
	pc.read += int64(n)
	return n, err
}

// connKey is scheme://host:port of u.
func connKey(u *urlParts) string { return u.scheme + "://" + u.hostPort }

type urlParts struct{ scheme, host, hostPort string }

func splitURL(r *http.Request) (*urlParts, error) {
	u := r.URL
	if u == nil {
		return nil, errors.New("request has no URL")
	}
	p := &urlParts{scheme: strings.ToLower(u.Scheme), host: u.Hostname()}
	port := u.Port()
	switch p.scheme {
	case "http":
		if port == "" {
			port = "80"
		}
	case "https":
		if port == "" {
			port = "443"
		}
	default:
		return nil, fmt.Errorf("unsupported URL scheme %q", u.Scheme)
	}
	if p.host == "" {
		return nil, errors.New("URL has no host")
	}
	p.hostPort = net.JoinHostPort(p.host, port)
	return p, nil
}

// RoundTrip sends r and returns the answer; its Body must be read to the
// end and closed for the connection to be reused. The request's context
// bounds dialing, writing and reading, the body included.
func (t *transport) RoundTrip(r *http.Request) (*http.Response, error) {
	u, err := splitURL(r)
	if err != nil {
		closeBody(r)
		return nil, err
	}
	target, err := checkRequest(r)
	if err != nil {
		closeBody(r)
		return nil, err
	}
	ctx := r.Context()
	if ctx.Err() != nil {
		// Not a byte for a call that is already over.
		closeBody(r)
		return nil, context.Cause(ctx)
	}
	for attempt := 0; ; attempt++ {
		if attempt > 0 && hasBody(r) {
			if r.GetBody == nil {
				return nil, errors.New("connection closed by the server; the request body cannot be sent again")
			}
			b, err := r.GetBody()
			if err != nil {
				return nil, err
			}
			r = r.Clone(ctx)
			r.Body = b
		}
		// A retry dials: a server that closed one idle connection has
		// likely closed the others too.
		var pc *pconn
		reused := false
		if attempt == 0 {
			pc, reused = t.idleConn(connKey(u))
		}
		if pc == nil {
			if pc, err = t.dial(ctx, u); err != nil {
				closeBody(r)
				return nil, err
			}
		}
		if trace := httptrace.ContextClientTrace(ctx); trace != nil && trace.GotConn != nil {
			trace.GotConn(httptrace.GotConnInfo{Conn: pc.conn, Reused: reused})
		}
		resp, err := t.exchange(ctx, pc, r, target)
		if err == nil && reused && attempt == 0 && resp.StatusCode == http.StatusRequestTimeout {
			// Some servers write a 408 on a keep-alive connection
			// before they close it for idleness; it answers no request
			// of ours. Drop the connection and send on a new one, as
			// net/http does.
			resp.Body.Close()
			pc.conn.Close()
			continue
		}
		if err == nil {
			return resp, nil
		}
		pc.conn.Close()
		if !reused || pc.read > 0 || ctx.Err() != nil || isTimeout(err) || attempt > 0 {
			return nil, err
		}
		// The server closed an idle connection: send again on a new one.
	}
}

// isTimeout reports whether err is a timeout: the connection's deadline,
// which is the context's, can strike before the context reports it.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func closeBody(r *http.Request) {
	if r.Body != nil {
		r.Body.Close()
	}
}

// exchange writes r, with its request target, on pc and reads the
// answer's header.
func (t *transport) exchange(ctx context.Context, pc *pconn, r *http.Request, target string) (*http.Response, error) {
	if dl, ok := ctx.Deadline(); ok {
		pc.conn.SetDeadline(dl)
	} else {
		pc.conn.SetDeadline(time.Time{})
	}
	// Cancellation interrupts blocked reads and writes.
	stop := context.AfterFunc(ctx, func() { pc.conn.SetDeadline(time.Unix(1, 0)) })
	fail := func(err error) (*http.Response, error) {
		stop()
		if ctx.Err() != nil {
			return nil, context.Cause(ctx)
		}
		return nil, err
	}
	if ctx.Err() != nil {
		closeBody(r)
		return fail(context.Cause(ctx))
	}
	pc.read, pc.limit = 0, 0
	if err := writeRequest(pc.bw, r, target); err != nil {
		return fail(err)
	}
	if err := pc.bw.Flush(); err != nil {
		return fail(err)
	}
	// The standard hooks a caller may measure with (WroteRequest,
	// GotFirstResponseByte; GotConn in RoundTrip).
	pc.trace = httptrace.ContextClientTrace(ctx)
	defer func() { pc.trace = nil }()
	if pc.trace != nil && pc.trace.WroteRequest != nil {
		pc.trace.WroteRequest(httptrace.WroteRequestInfo{})
	}
	// One bound for the headers of the answer and of any informational
	// answers before it, so that endless 1xx answers end too.
	pc.limit = t.maxHeaderBytes
	var resp *http.Response
	for {
		var err error
		resp, err = http.ReadResponse(pc.br, r)
		if err != nil {
			return fail(err)
		}
		// Skip informational answers (103 Early Hints and the like).
		if resp.StatusCode >= 200 || resp.StatusCode == http.StatusSwitchingProtocols {
			break
		}
	}
	pc.limit = 0
	resp.Body = &body{rc: resp.Body, t: t, pc: pc, stop: stop, reuse: !resp.Close && !wantsClose(r) && resp.StatusCode != http.StatusSwitchingProtocols}
	return resp, nil
}

// checkRequest refuses, before a connection is taken, a request that
// cannot be written safely, and returns its request target. Header names
// must be tokens and no value may hold a control byte but a tab, so nothing a
// template expands to can add a header; the target holds no space or
// control byte, so it cannot end the request line early.
func checkRequest(r *http.Request) (target string, err error) {
	if !validToken(r.Method) {
		return "", errors.New("invalid request method")
	}
	if host := requestHost(r); !validValue(host) || strings.ContainsAny(host, " /") {
		return "", errors.New("invalid request host")
	}
	target = r.URL.RequestURI()
	for i := 0; i < len(target); i++ {
		if c := target[i]; c <= ' ' || c == 0x7f {
			return "", errors.New("request URL holds a space or control byte")
		}
	}
	for k, vs := range r.Header {
		if !validToken(k) {
			return "", fmt.Errorf("invalid header name %q", k)
		}
		for _, v := range vs {
			if !validValue(v) {
				return "", fmt.Errorf("header %s: value holds a control character", k)
			}
		}
	}
	if (hasBody(r) || r.ContentLength > 0) && (!hasBody(r) || r.ContentLength < 0) {
		return "", errors.New("a request body needs its length")
	}
	return target, nil
}

// wantsClose reports whether r asks for its connection to be closed after
// it: r.Close or a close token in its Connection header.
func wantsClose(r *http.Request) bool {
	if r.Close {
		return true
	}
	for _, v := range r.Header["Connection"] {
		for v != "" {
			var tok string
			tok, v, _ = strings.Cut(v, ",")
			if strings.EqualFold(strings.TrimSpace(tok), "close") {
				return true
			}
		}
	}
	return false
}

// hasBody reports whether r has a body to send; http.NoBody is none.
func hasBody(r *http.Request) bool { return r.Body != nil && r.Body != http.NoBody }

// requestHost is the Host header of r.
func requestHost(r *http.Request) string {
	if r.Host != "" {
		return r.Host
	}
	return r.URL.Host
}

// writeRequest writes r, which passed checkRequest, in HTTP/1.1 wire form:
// request line, Host, r's headers, Content-Length and the body. Framing
// headers in r.Header, in any spelling, are left out: they come from r's
// fields; of Connection only a close goes out. A POST, PUT or PATCH
// without a body says Content-Length: 0, as some servers refuse one
// without a length.
func writeRequest(w *bufio.Writer, r *http.Request, target string) (err error) {
	if r.Body != nil {
		defer r.Body.Close()
	}
	w.WriteString(r.Method)
	w.WriteByte(' ')
	w.WriteString(target)
	w.WriteString(" HTTP/1.1\r\nHost: ")
	w.WriteString(requestHost(r))
	w.WriteString("\r\n")
	for k, vs := range r.Header {
		switch http.CanonicalHeaderKey(k) {
		case "Host", "Content-Length", "Connection", "Transfer-Encoding":
			continue
		}
		for _, v := range vs {
			w.WriteString(k)
			w.WriteString(": ")
			w.WriteString(v)
			w.WriteString("\r\n")
		}
	}
	if wantsClose(r) {
		w.WriteString("Connection: close\r\n")
	}
	switch {
	case hasBody(r):
		w.WriteString("Content-Length: ")
		w.WriteString(strconv.FormatInt(r.ContentLength, 10))
		w.WriteString("\r\n")
	case r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodPatch:
		w.WriteString("Content-Length: 0\r\n")
	}
	w.WriteString("\r\n")
	if hasBody(r) {
		n, err := io.Copy(w, io.LimitReader(r.Body, r.ContentLength+1))
		if err != nil {
			return err
		}
		if n != r.ContentLength {
			return fmt.Errorf("request body of %d bytes, declared %d", n, r.ContentLength)
		}
	}
	return nil
}

// validToken reports whether s is a non-empty RFC 9110 token.
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// validValue reports whether s can be sent as a header value (RFC 9110
// field-value): no control byte but the horizontal tab.
func validValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// body is an answer body; at its end the connection goes back to the pool.
// Close may come from another goroutine while a Read blocks: it closes the
// connection, which ends the Read.
type body struct {
	rc    io.ReadCloser
	t     *transport
	pc    *pconn
	stop  func() bool
	reuse bool

	mu   sync.Mutex // guards eof and done, not held while reading
	eof  bool
	done bool
}

func (b *body) Read(p []byte) (int, error) {
	b.mu.Lock()
	done := b.done
	b.mu.Unlock()
	if done {
		return 0, errors.New("read on a closed answer body")
	}
	n, err := b.rc.Read(p)
	if err == io.EOF {
		b.mu.Lock()
		b.eof = true
		b.mu.Unlock()
	}
	return n, err
}

func (b *body) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.done {
		return nil
	}
	b.done = true
	if b.rc == http.NoBody {
		b.eof = true
	}
	// stop reports false when the context already fired: the deadline is
	// poisoned and the connection is not reused.
	stopped := b.stop()
	if !b.eof || !b.reuse || !stopped || b.pc.br.Buffered() > 0 {
		// An unread rest is not drained (net/http's body would read it
		// all): the connection is closed instead.
		b.pc.conn.Close()
		return nil
	}
	b.rc.Close()
	b.pc.conn.SetDeadline(time.Time{})
	b.t.putIdle(b.pc)
	return nil
}

// idleConn takes the most recently used idle connection for key that is
// fit for a request: connections idle longer than the idle timeout are
// closed, and so are those the server has written to or closed while they
// were idle (see stale).
func (t *transport) idleConn(key string) (*pconn, bool) {
	for {
		pc := t.popIdle(key)
		if pc == nil {
			return nil, false
		}
		if !t.peek || !pc.stale() {
			return pc, true
		}
		pc.conn.Close()
	}
}

// popIdle takes the most recently used idle connection for key that has
// not outlived the idle timeout, closing those that have.
func (t *transport) popIdle(key string) *pconn {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	list := t.idle[key]
	for len(list) > 0 {
		pc := list[len(list)-1]
		list[len(list)-1] = nil
		list = list[:len(list)-1]
		if now.Sub(pc.idleSince) < t.idleTimeout {
			t.idle[key] = list
			return pc
		}
		pc.conn.Close()
	}
	delete(t.idle, key)
	return nil
}

func (t *transport) putIdle(pc *pconn) {
	pc.idleSince = t.now()
	t.mu.Lock()
	list := t.idle[pc.key]
	if len(list) >= t.maxIdlePerHost {
		t.mu.Unlock()
		pc.conn.Close()
		return
	}
	t.idle[pc.key] = append(list, pc)
	if t.sweeper == nil {
		t.sweeper = time.AfterFunc(t.idleTimeout, t.sweep)
	}
	t.mu.Unlock()
}

// sweep closes the connections idle longer than the idle timeout, also of
// hosts no request goes to any more, which would otherwise stay open (the
// server's end long closed) for good. It runs again while any are left.
func (t *transport) sweep() {
	now := t.now()
	var expired []*pconn
	t.mu.Lock()
	next := t.idleTimeout
	for key, list := range t.idle {
		n := 0 // the oldest come first
		for n < len(list) && now.Sub(list[n].idleSince) >= t.idleTimeout {
			n++
		}
		expired = append(expired, list[:n]...)
		if list = slices.Delete(list, 0, n); len(list) == 0 {
			delete(t.idle, key)
			continue
		}
		t.idle[key] = list
		next = min(next, t.idleTimeout-now.Sub(list[0].idleSince))
	}
	if len(t.idle) == 0 {
		t.sweeper = nil
	} else if t.sweeper != nil {
		t.sweeper.Reset(next)
	}
	t.mu.Unlock()
	for _, pc := range expired {
		pc.conn.Close()
	}
}

// CloseIdleConnections closes every idle connection.
func (t *transport) CloseIdleConnections() {
	t.mu.Lock()
	idle := t.idle
	t.idle = make(map[string][]*pconn)
	if t.sweeper != nil {
		t.sweeper.Stop()
		t.sweeper = nil
	}
	t.mu.Unlock()
	for _, list := range idle {
		for _, pc := range list {
			pc.conn.Close()
		}
	}
}

// dial opens a connection, with TLS for https.
func (t *transport) dial(ctx context.Context, u *urlParts) (*pconn, error) {
	conn, err := t.dialer.DialContext(ctx, "tcp", u.hostPort)
	if err != nil {
		return nil, err
	}
	raw := conn
	if u.scheme == "https" {
		cfg := &tls.Config{MinVersion: tls.VersionTLS12}
		if t.tls != nil {
			cfg = t.tls.Clone()
		}
		if cfg.ServerName == "" {
			cfg.ServerName = u.host
		}
		cfg.NextProtos = []string{"http/1.1"}
		tc := tls.Client(conn, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return nil, err
		}
		conn = tc
	}
	pc := &pconn{key: connKey(u), conn: conn, raw: raw}
	pc.br = bufio.NewReaderSize(pc, 4<<10)
	pc.bw = bufio.NewWriterSize(conn, 4<<10)
	return pc, nil
}
