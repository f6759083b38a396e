package console

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/vipgate/vipgate/admin"
	"github.com/vipgate/vipgate/gate"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Session lifetimes.
const (
	// DefaultIdle ends a session after this long without a request.
	DefaultIdle = 30 * time.Minute
	// DefaultAbsolute ends a session this long after the login, used or not.
	DefaultAbsolute = 12 * time.Hour
)

// Deps is what the console needs.
type Deps struct {
	// API is the admin API; every read and write goes through it.
	API *admin.API
	// Status reports the call sources' connection state ("ari pbx1" → up);
	// nil shows none.
	Status func() map[string]bool
	// Ready is the readiness check (store and call sources); nil means
	// ready.
	Ready func(ctx context.Context) error
	// Sessions keeps the console's sessions (the SQLite and PostgreSQL
	// stores do), so that they survive a restart and are shared by every
	// instance on the store; nil keeps them in this process's memory.
	Sessions gate.ConsoleSessions
	// Idle and Absolute bound sessions; 0 means DefaultIdle, DefaultAbsolute.
	Idle, Absolute time.Duration
	// SecureCookie marks the cookies Secure even on plain HTTP (set it when
	// a TLS proxy is in front); under TLS they are Secure anyway.
	SecureCookie bool
	Logger       *slog.Logger
	Now          func() time.Time
}

// Console is the web console's handler.
type Console struct {
	api      *admin.API
	status   func() map[string]bool
	ready    func(ctx context.Context) error
	secure   bool
	log      *slog.Logger
	now      func() time.Time
	sessions *sessions
	pages    map[string]*template.Template
	mux      *http.ServeMux
}

// New returns the console. It serves the paths below "/" that the admin
// API does not (mount the API's /api/, /healthz, /readyz, /metrics and
// /openapi.json next to it).
func New(d Deps) (*Console, error) {
	c := &Console{api: d.API, status: d.Status, ready: d.Ready, secure: d.SecureCookie, log: d.Logger, now: d.Now}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.now == nil {
		c.now = time.Now
	}
	idle, abs := d.Idle, d.Absolute
	if idle <= 0 {
		idle = DefaultIdle
	}
	if abs <= 0 {
		abs = DefaultAbsolute
	}
	c.sessions = newSessions(idle, abs, d.Sessions)
	if err := c.parse(); err != nil {
		return nil, err
	}
	c.routes()
	return c, nil
}

func (c *Console) parse() error {
	funcs := template.FuncMap{
		"t":        translate,
		"time":     func(t time.Time) string { return fmtTime(t) },
		"timeIn":   inputTime,
		"join":     strings.Join,
		"fieldErr": func(errs map[string]string, name string) string { return errs[name] },
		"dict": func(kv ...any) map[string]any {
			m := map[string]any{}
			for i := 0; i+1 < len(kv); i += 2 {
				m[kv[i].(string)] = kv[i+1]
			}
			return m
		},
		"add":  func(a, b int) int { return a + b },
		"list": func(v ...string) []string { return v },
	}
	layout, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return fmt.Errorf("console: %w", err)
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return fmt.Errorf("console: %w", err)
	}
	c.pages = map[string]*template.Template{}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if base == "layout" {
			continue
		}
		t, err := template.Must(layout.Clone()).ParseFS(templateFS, n)
		if err != nil {
			return fmt.Errorf("console: %w", err)
		}
		c.pages[base] = t
	}
	return nil
}

// inputTime is a time as a form field holds it: RFC 3339, which the API
// reads back as the same instant.
func inputTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

// ServeHTTP serves the console.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; media-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	c.mux.ServeHTTP(w, r)
}

// result is an admin API answer.
type result struct {
	status  int
	header  http.Header
	body    []byte
	problem *admin.Problem
}

// ok reports a 2xx answer.
func (r *result) ok() bool { return r.status >= 200 && r.status < 300 }

// fields maps the problem's field names to their problems.
func (r *result) fields() map[string]string {
	m := map[string]string{}
	if r.problem != nil {
		for _, f := range r.problem.Errors {
			if m[f.Field] != "" {
				m[f.Field] += "; "
			}
			m[f.Field] += f.Problem
		}
	}
	return m
}

// message is the problem's text for the page.
func (r *result) message() string {
	if r.problem == nil {
		return fmt.Sprintf("status %d", r.status)
	}
	msg := r.problem.Title
	if r.problem.Detail != "" {
		msg += ": " + r.problem.Detail
	}
	return msg
}

// recorder is the ResponseWriter the console hands to the admin API.
type recorder struct {
	h      http.Header
	status int
	buf    bytes.Buffer
}

func (w *recorder) Header() http.Header { return w.h }
func (w *recorder) WriteHeader(s int) {
	if w.status == 0 {
		w.status = s
	}
}
func (w *recorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.buf.Write(b)
}

// call makes an admin API request as the session's token. body is JSON
// encoded unless it is an io.Reader (sent as contentType).
func (c *Console) call(r *http.Request, s *session, method, path string, body any, contentType string) *result {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case io.Reader:
		rd = b
	default:
		js, err := json.Marshal(b)
		if err != nil {
			return &result{status: 500, problem: &admin.Problem{Title: "encode", Detail: err.Error()}}
		}
		rd, contentType = bytes.NewReader(js), "application/json"
	}
	req, err := http.NewRequestWithContext(r.Context(), method, "/api/v1"+path, rd)
	if err != nil {
		return &result{status: 500, problem: &admin.Problem{Title: "request", Detail: err.Error()}}
	}
	req.RemoteAddr = r.RemoteAddr
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := &recorder{h: http.Header{}}
	c.api.Do(rec, req, s.token)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	res := &result{status: rec.status, header: rec.h, body: rec.buf.Bytes()}
	if !res.ok() {
		var p admin.Problem
		if json.Unmarshal(res.body, &p) == nil && p.Status != 0 {
			localizeProblem(lang(r), &p)
			res.problem = &p
		}
	}
	return res
}

// get reads an API resource into v; it returns the result when the answer
// is not 2xx or cannot be read.
func (c *Console) get(r *http.Request, s *session, path string, v any) *result {
	res := c.call(r, s, http.MethodGet, path, nil, "")
	if !res.ok() {
		return res
	}
	if err := json.Unmarshal(res.body, v); err != nil {
		return &result{status: 500, problem: &admin.Problem{Title: "decode", Detail: err.Error()}}
	}
	return nil
}

// can reports whether the session's role may use the API route.
func can(s *session, method, pattern string) bool {
	need, ok := admin.Need(method, pattern)
	return ok && s != nil && admin.Allows(s.token.Role, need)
}

// page is what every page's template gets.
type page struct {
	Lang    string
	Title   string
	Session *session
	CSRF    string
	Nav     string
	Flash   string
	Error   string
	Data    any
	Path    string
}

// render writes page name with data.
func (c *Console) render(w http.ResponseWriter, r *http.Request, s *session, status int, name, title string, data any, flash, errMsg string) {
	t := c.pages[name]
	p := page{Lang: lang(r), Title: title, Session: s, Nav: name, Data: data, Flash: flash, Error: errMsg, Path: r.URL.Path}
	if s != nil {
		p.CSRF = s.csrf
		if flash == "" {
			p.Flash = s.takeFlash()
		}
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", p); err != nil {
		c.log.Error("console: render", "page", name, "err", err)
		http.Error(w, "console: render failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// redirect answers a form post with 303 to path, showing flash on the
// next page of the session.
func redirect(w http.ResponseWriter, r *http.Request, s *session, path, flash string) {
	if flash != "" && s != nil {
		s.setFlash(flash)
	}
	http.Redirect(w, r, path, http.StatusSeeOther)
}

// roles lists the roles for the token form.
var roles = []gate.Role{gate.RoleViewer, gate.RoleOperator, gate.RoleAdmin}
