package e2e

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/vipgate/vipgate/admin"
	"github.com/vipgate/vipgate/ari"
	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/gate/gatetest"
)

// HasherKey is the PIN hashing key of the in-process vipgate.
var HasherKey = []byte("e2e-test-key-0123456789abcdef012")

// Vipgate is vipgate's ARI transport running in the test process over an
// in-memory store.
type Vipgate struct {
	Store  *gatetest.Store
	Hasher *gate.Hasher
	App    *ari.App
	// Requests records every ARI REST request vipgate sent.
	Requests *RequestLog
	// Admin is the admin API over the same store, with /readyz wired to
	// the App's server states as "vipgate serve" wires it.
	Admin http.Handler

	cancel context.CancelFunc
	done   chan struct{}
}

// StartVipgate runs an ari.App with gate.Flow against a, serving gates
// (and caller-table entries) from an in-memory store, until the test ends.
// tweak may adjust the App's configuration.
func StartVipgate(t testing.TB, a *Asterisk, gates []*gate.Gate, entries []*gate.Entry, tweak func(*ari.AppConfig)) *Vipgate {
	t.Helper()
	h, err := gate.NewHasher(HasherKey)
	if err != nil {
		t.Fatal(err)
	}
	st := gatetest.NewStore()
	ctx := context.Background()
	for _, g := range gates {
		if err := st.CreateGate(ctx, g); err != nil {
			t.Fatal(err)
		}
	}
	for _, e := range entries {
		if err := st.PutEntry(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	var logger *slog.Logger
	if os.Getenv("VIPGATE_TEST_DEBUG") != "" {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	engine := gate.NewEngine(gate.EngineConfig{Store: st, Hasher: h, Region: "DE", Logger: logger})
	flow := gate.NewFlow(engine, gate.FlowConfig{Log: st, Counters: st, Logger: logger})
	reqs := &RequestLog{}
	cfg := ari.AppConfig{
		Servers:    []ari.ServerConfig{{Name: "e2e", BaseURL: a.ARIURL, User: a.User, Password: a.Password}},
		Handler:    func(ctx context.Context, c gate.Call) { flow.Run(ctx, c) },
		Logger:     logger,
		HTTPClient: &http.Client{Transport: reqs.wrap(ari.NewTransport())}, // serve's transport, recorded
		// Stop routes the calls in progress by the fallback at once.
		DrainTimeout: gate.NoDrain,
	}
	up := make(chan struct{}, 1)
	cfg.OnState = func(_ string, isUp bool) {
		if isUp {
			select {
			case up <- struct{}{}:
			default:
			}
		}
	}
	if tweak != nil {
		tweak(&cfg)
	}
	// Readiness as cmd/vipgate's serve wires it: every server registered
	// down under the name OnState reports, then OnState updates it.
	var ready admin.Readiness
	next := cfg.OnState
	cfg.OnState = func(server string, isUp bool) {
		ready.Set("ari "+server, isUp)
		if next != nil {
			next(server, isUp)
		}
	}
	app, err := ari.NewApp(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range app.ServerNames() {
		ready.Set("ari "+name, false)
	}
	adm := admin.NewServer(admin.Deps{Store: st, Engine: engine, Hasher: h, Region: "DE", Ready: ready.Check, Logger: logger})
	runCtx, cancel := context.WithCancel(context.Background())
	v := &Vipgate{Store: st, Hasher: h, App: app, Requests: reqs, Admin: adm, cancel: cancel, done: make(chan struct{})}
	go func() { defer close(v.done); _ = app.Run(runCtx) }()
	t.Cleanup(v.Stop)
	select {
	case <-up:
	case <-time.After(10 * time.Second):
		t.Fatal("vipgate did not connect to Asterisk")
	}
	return v
}

// Stop stops the App and waits until every call goroutine has returned.
func (v *Vipgate) Stop() {
	v.cancel()
	<-v.done
}

// Readyz returns the status code and body /readyz answers now.
func (v *Vipgate) Readyz() (int, string) {
	rec := httptest.NewRecorder()
	v.Admin.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	return rec.Code, rec.Body.String()
}

// WaitCall waits for the call-log row of channel id (the ;1 half's channel
// id as vipgate saw it) or of the call whose caller matches.
func (v *Vipgate) WaitCall(ctx context.Context, match func(*gate.CallRecord) bool) (*gate.CallRecord, error) {
	for {
		for _, r := range v.Store.Calls() {
			if match(r) {
				return r, nil
			}
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// RequestLog records REST requests (method and path, never credentials).
type RequestLog struct {
	mu   sync.Mutex
	reqs []string
}

type recordingTransport struct {
	log  *RequestLog
	next http.RoundTripper
}

func (r recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r.log.mu.Lock()
	r.log.reqs = append(r.log.reqs, req.Method+" "+req.URL.Path)
	r.log.mu.Unlock()
	return r.next.RoundTrip(req)
}

func (l *RequestLog) wrap(next http.RoundTripper) http.RoundTripper {
	return recordingTransport{log: l, next: next}
}

// All returns the requests so far as "METHOD /path".
func (l *RequestLog) All() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.reqs...)
}
