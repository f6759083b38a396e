package notify_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/netip"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/gate/gatetest"
	"github.com/vipgate/vipgate/internal/nettest"
	"github.com/vipgate/vipgate/notify"
	"github.com/vipgate/vipgate/webhook"
)

const (
	hookSecret   = "notify-hook-secret-3f9a1c"
	smtpPassword = "smtp-password-77c2e0"
	smtpUser     = "vipgate"
)

// receiver is an event webhook on loopback. It verifies each request's
// signature and records the accepted ones; while down it answers 503.
type receiver struct {
	t   *testing.T
	url string

	mu       sync.Mutex
	down     bool
	accepted []delivery
	refused  int
	bad      []string
}

type delivery struct {
	key, typ string
	attempt  string
	event    notify.Event
	body     string
}

func newReceiver(t *testing.T, l net.Listener) *receiver {
	r := &receiver{t: t, url: "http://" + l.Addr().String() + "/hooks/vipgate?tenant=7"}
	srv := &http.Server{Handler: http.HandlerFunc(r.serve)}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.down {
		r.refused++
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	if err := webhook.Verify([]byte(hookSecret), req, body, 0, time.Now()); err != nil {
		r.bad = append(r.bad, err.Error())
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var e notify.Event
	if err := json.Unmarshal(body, &e); err != nil {
		r.bad = append(r.bad, "body: "+err.Error())
	}
	r.accepted = append(r.accepted, delivery{key: req.Header.Get(notify.HeaderIdempotencyKey), typ: req.Header.Get(notify.HeaderEvent),
		attempt: req.Header.Get(notify.HeaderAttempt), event: e, body: string(body)})
}

func (r *receiver) setDown(down bool) {
	r.mu.Lock()
	r.down = down
	r.mu.Unlock()
}

func (r *receiver) got() []delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.bad) > 0 {
		r.t.Errorf("receiver refused requests: %v", r.bad)
		r.bad = nil
	}
	return append([]delivery(nil), r.accepted...)
}

// smtpServer is a tiny SMTP server on loopback: EHLO, STARTTLS, AUTH
// PLAIN, MAIL, RCPT, DATA, RSET, NOOP, QUIT. It requires STARTTLS and the
// login before MAIL.
type smtpServer struct {
	addr string
	tls  *tls.Config
	pool *x509.CertPool

	mu    sync.Mutex
	mails []mailMsg
	errs  []string
}

type mailMsg struct {
	from string
	to   []string
	data string
	tls  bool
	auth bool
}

func newSMTPServer(t *testing.T) *smtpServer {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	s := &smtpServer{pool: pool, tls: &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}}
	s.addr = nettest.Serve(t, s.serve).String()
	return s
}

func (s *smtpServer) fail(msg string) {
	s.mu.Lock()
	s.errs = append(s.errs, msg)
	s.mu.Unlock()
}

func (s *smtpServer) serve(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	tp := textproto.NewConn(c)
	tp.PrintfLine("220 127.0.0.1 ESMTP test")
	var (
		m      mailMsg
		secure bool
		authed bool
	)
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO", "HELO":
			if secure {
				tp.PrintfLine("250-127.0.0.1\r\n250-AUTH PLAIN\r\n250 8BITMIME")
			} else {
				tp.PrintfLine("250-127.0.0.1\r\n250-STARTTLS\r\n250 8BITMIME")
			}
		case "STARTTLS":
			tp.PrintfLine("220 go ahead")
			tc := tls.Server(c, s.tls)
			if err := tc.Handshake(); err != nil {
				s.fail("tls handshake: " + err.Error())
				return
			}
			c, secure = tc, true
			tp = textproto.NewConn(tc)
		case "AUTH":
			mech, resp, _ := strings.Cut(arg, " ")
			b, _ := base64.StdEncoding.DecodeString(resp)
			if mech != "PLAIN" || !secure || string(b) != "\x00"+smtpUser+"\x00"+smtpPassword {
				s.fail("auth: bad credentials or mechanism " + mech)
				tp.PrintfLine("535 authentication failed")
				continue
			}
			authed = true
			tp.PrintfLine("235 ok")
		case "MAIL":
			if !secure || !authed {
				s.fail("MAIL before STARTTLS and AUTH")
				tp.PrintfLine("530 must authenticate")
				continue
			}
			m = mailMsg{from: arg, tls: secure, auth: authed}
			tp.PrintfLine("250 ok")
		case "RCPT":
			m.to = append(m.to, arg)
			tp.PrintfLine("250 ok")
		case "DATA":
			tp.PrintfLine("354 go on")
			b, err := tp.ReadDotBytes()
			if err != nil {
				return
			}
			m.data = string(b)
			s.mu.Lock()
			s.mails = append(s.mails, m)
			s.mu.Unlock()
			tp.PrintfLine("250 queued")
		case "RSET", "NOOP":
			tp.PrintfLine("250 ok")
		case "QUIT":
			tp.PrintfLine("221 bye")
			return
		default:
			tp.PrintfLine("502 unknown")
		}
	}
}

func (s *smtpServer) got(t *testing.T) []mailMsg {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.errs) > 0 {
		t.Errorf("smtp server: %v", s.errs)
		s.errs = nil
	}
	return append([]mailMsg(nil), s.mails...)
}

func (s *smtpServer) config() *notify.SMTP {
	host, port, _ := net.SplitHostPort(s.addr)
	ap := netip.MustParseAddrPort(s.addr)
	_ = port
	return &notify.SMTP{Host: host, Port: int(ap.Port()), Security: notify.SMTPStartTLS,
		TLSConfig: &tls.Config{RootCAs: s.pool, ServerName: "127.0.0.1"},
		Username:  smtpUser, Password: smtpPassword, From: "vipgate@example.com"}
}

// metrics counts what a Notifier reports.
type metrics struct {
	mu                 sync.Mutex
	sent, failed, dead map[string]int
	dropped            map[string]int
	depth              gate.OutboxDepth
}

func newMetrics() *metrics {
	return &metrics{sent: map[string]int{}, failed: map[string]int{}, dead: map[string]int{}, dropped: map[string]int{}}
}

func (m *metrics) Sent(c string)   { m.mu.Lock(); m.sent[c]++; m.mu.Unlock() }
func (m *metrics) Failed(c string) { m.mu.Lock(); m.failed[c]++; m.mu.Unlock() }
func (m *metrics) Dead(c string)   { m.mu.Lock(); m.dead[c]++; m.mu.Unlock() }
func (m *metrics) Dropped(r string) {
	m.mu.Lock()
	m.dropped[r]++
	m.mu.Unlock()
}
func (m *metrics) Depth(d gate.OutboxDepth) { m.mu.Lock(); m.depth = d; m.mu.Unlock() }

func (m *metrics) get(f func(m *metrics) int) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return f(m)
}

// notifyGate returns an always-active table gate with rules.
func notifyGate(rules ...gate.NotifyRule) *gate.Gate {
	return &gate.Gate{
		ID: "hotline", Name: "Hotline", Enabled: true,
		Activation: gate.Activation{Mode: gate.ActiveSchedule, Schedule: &gate.Schedule{TimeZone: "Europe/Berlin", Active: gate.Inside,
			Windows: []gate.Window{{Days: []string{"mon-sun"}, From: "00:00", To: "24:00"}}}},
		Identification: gate.Identification{Mode: gate.IdentTable, UnknownCaller: gate.UnknownReject, Region: "DE"},
		Notify:         rules,
	}
}

// harness runs a Notifier on a fake store and outbox.
type harness struct {
	n      *notify.Notifier
	store  *gatetest.Store
	outbox *gatetest.Outbox
	m      *metrics
	logs   *lockedBuffer
	cancel context.CancelFunc
	done   chan struct{}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  *bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func start(t *testing.T, g *gate.Gate, outbox *gatetest.Outbox, tune func(c *notify.Config)) *harness {
	t.Helper()
	h := &harness{store: gatetest.NewStore(), outbox: outbox, m: newMetrics(), logs: &lockedBuffer{b: &bytes.Buffer{}}, done: make(chan struct{})}
	if h.outbox == nil {
		h.outbox = gatetest.NewOutbox()
	}
	if g != nil {
		g.Normalize()
		if err := g.Validate(); err != nil {
			t.Fatalf("gate: %v", err)
		}
		if err := h.store.CreateGate(t.Context(), g); err != nil {
			t.Fatal(err)
		}
	}
	cfg := notify.Config{Gates: h.store, Outbox: h.outbox, Metrics: h.m, Poll: 20 * time.Millisecond,
		Backoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond, Timeout: 5 * time.Second,
		Logger: slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	if tune != nil {
		tune(&cfg)
	}
	h.n = notify.New(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() { defer close(h.done); h.n.Run(ctx) }()
	t.Cleanup(h.stop)
	return h
}

func (h *harness) stop() {
	h.cancel()
	<-h.done
}

// eventually waits up to 20 s for cond.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
