package console_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vipgate/vipgate/admin"
	"github.com/vipgate/vipgate/admin/admintest"
	"github.com/vipgate/vipgate/admin/console"
	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/gate/gatetest"
)

// lockedBuffer is a log sink safe for concurrent writers.
type lockedBuffer = gatetest.Logs

// env is a running admin listener (API and console, mounted as `vipgate
// serve` mounts them) with one token per role.
type env struct {
	t      *testing.T
	srv    *httptest.Server
	store  gate.Store
	hasher *gate.Hasher
	tokens map[gate.Role]string
	ids    map[gate.Role]string
	logs   lockedBuffer

	mu    sync.Mutex
	clock time.Time
	pages []string // every console body, for the leak checks

	// restart builds a new console over the same API and store (a
	// restarted server) and serves it from e.srv.
	restart func()
	handler atomic.Pointer[http.Handler]
}

func (e *env) now() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.clock
}

func (e *env) advance(d time.Duration) {
	e.mu.Lock()
	e.clock = e.clock.Add(d)
	e.mu.Unlock()
}

type envOpts struct {
	burst int
	// tokenTTL is admin.Deps.TokenCacheTTL; the tests use -1 (no cache,
	// a revocation shows at once), the benchmarks 0 (the default).
	tokenTTL time.Duration
	// memSessions keeps the sessions in memory instead of the store.
	memSessions bool
	// calendars is the engine's calendars (nil: none read).
	calendars gate.CalendarEvents
}

func newEnv(t testing.TB) *env { return newEnvOpts(t, envOpts{burst: -1, tokenTTL: -1}) }

func openStore(t testing.TB) gate.Store { return admintest.Store(t) }

func newEnvOpts(tb testing.TB, o envOpts) *env {
	tb.Helper()
	t, _ := tb.(*testing.T)
	st := openStore(tb)
	h := admintest.Hasher(tb)
	e := &env{t: t, store: st, hasher: h, tokens: map[gate.Role]string{}, ids: map[gate.Role]string{},
		clock: time.Now().UTC().Truncate(time.Second)}
	log := slog.New(slog.NewTextHandler(&e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	eng := gate.NewEngine(gate.EngineConfig{Store: st, Hasher: h, Region: "DE", Calendars: o.calendars})
	api := admin.New(admin.Deps{Store: st, Engine: eng, Hasher: h, Region: "DE", Logger: log, Now: e.now,
		AuthFailureBurst: o.burst, AuthFailureRefill: time.Minute, TokenCacheTTL: o.tokenTTL})
	var ready admin.Readiness
	ready.Set("agi", true)
	ready.Set("ari pbx1", false)
	var sessions gate.ConsoleSessions
	if !o.memSessions {
		sessions = st.(gate.ConsoleSessions)
	}
	e.restart = func() {
		web, err := console.New(console.Deps{API: api, Status: ready.States, Ready: st.Ping, Sessions: sessions, Logger: log, Now: e.now})
		if err != nil {
			tb.Fatal(err)
		}
		mux := http.NewServeMux()
		for _, p := range []string{"/api/", "/healthz", "/readyz", "/metrics", "/openapi.json"} {
			mux.Handle(p, api)
		}
		mux.Handle("/", web)
		var h http.Handler = mux
		e.handler.Store(&h)
	}
	e.restart()
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { (*e.handler.Load()).ServeHTTP(w, r) }))
	tb.Cleanup(e.srv.Close)
	for _, role := range admintest.Roles {
		clear, tok := admintest.Token(tb, st, role, string(role)+" test", e.clock)
		e.tokens[role], e.ids[role] = clear, tok.ID
	}
	return e
}

// browser is a cookie-keeping client that does not follow redirects.
type browser struct {
	e    *env
	c    *http.Client
	csrf string
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{e: e, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]*)"`)

// do sends a request and returns the status and body; it remembers the
// page's CSRF token.
func (b *browser) do(req *http.Request) (*http.Response, string) {
	b.e.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if m := csrfRE.FindSubmatch(body); m != nil {
		b.csrf = string(m[1])
	}
	b.e.mu.Lock()
	b.e.pages = append(b.e.pages, string(body))
	b.e.mu.Unlock()
	return resp, string(body)
}

func (b *browser) get(path string) (*http.Response, string) {
	b.e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.e.srv.URL+path, nil)
	return b.do(req)
}

// post sends a form with the remembered CSRF token (unless form sets
// csrf itself).
func (b *browser) post(path string, form url.Values) (*http.Response, string) {
	b.e.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf"]; !ok {
		form.Set("csrf", b.csrf)
	}
	req, _ := http.NewRequest(http.MethodPost, b.e.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// upload posts a multipart form with one file.
func (b *browser) upload(path, field, name string, data []byte, fields url.Values) (*http.Response, string) {
	b.e.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if fields == nil {
		fields = url.Values{}
	}
	if _, ok := fields["csrf"]; !ok {
		fields.Set("csrf", b.csrf)
	}
	for k, vs := range fields {
		for _, v := range vs {
			_ = mw.WriteField(k, v)
		}
	}
	fw, _ := mw.CreateFormFile(field, name)
	_, _ = fw.Write(data)
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, b.e.srv.URL+path, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return b.do(req)
}

// login logs in with token and fails the test unless it works.
func (b *browser) login(token string) {
	b.e.t.Helper()
	b.get("/login")
	resp, body := b.post("/login", url.Values{"token": {token}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		b.e.t.Fatalf("login: %d %s\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	b.get("/") // picks up the session's CSRF token
}

// as returns a browser logged in with the role's token.
func (e *env) as(role gate.Role) *browser {
	b := e.browser()
	b.login(e.tokens[role])
	return b
}

// api calls the REST API with the role's bearer token.
func (e *env) api(role gate.Role, method, path, contentType string, body []byte) *http.Response {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.srv.URL+path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+e.tokens[role])
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// putGate stores g directly.
func (e *env) putGate(tb testing.TB, g *gate.Gate) {
	tb.Helper()
	if err := e.store.CreateGate(context.Background(), g); err != nil {
		tb.Fatal(err)
	}
}

func staticGate(id string) *gate.Gate {
	return &gate.Gate{ID: id, Name: id, Enabled: true, Match: gate.Match{Numbers: []string{"+4930901820"}},
		Activation: gate.Activation{Mode: gate.ActiveAlways}, Identification: gate.Identification{Mode: gate.IdentTable}}
}

// httptestTLS serves the env's handler over TLS.
func httptestTLS(t *testing.T, e *env) *httptest.Server {
	s := httptest.NewTLSServer(e.srv.Config.Handler)
	t.Cleanup(s.Close)
	return s
}
