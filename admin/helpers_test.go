package admin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vipgate/vipgate/admin"
	"github.com/vipgate/vipgate/admin/admintest"
	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/gate/gatetest"
)

// now is the fixed clock of the tests.
var now = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// env is a running admin API with one token per role.
type env struct {
	t       *testing.T
	srv     *httptest.Server
	store   gate.Store
	hasher  *gate.Hasher
	metrics *admin.Metrics
	tokens  map[gate.Role]string
	revoked string

	mu     sync.Mutex
	bodies []string // every response body, for the PIN leak check
	logs   lockedBuffer
}

// lockedBuffer is a log sink safe for concurrent writers.
type lockedBuffer = gatetest.Logs

// openStore returns the store the tests run against: the SQLite store
// on a fresh file.
func openStore(t testing.TB) gate.Store {
	t.Helper()
	return admintest.Store(t)
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvWith(t, nil)
}

// newEnvWith is newEnv with an authorizer for webhook gates (and one for
// database gates, if given).
func newEnvWith(t *testing.T, auth gate.Authorizer, database ...gate.Authorizer) *env {
	t.Helper()
	st := openStore(t)
	h := admintest.Hasher(t)
	m := admin.NewMetrics()
	var db gate.Authorizer
	if len(database) > 0 {
		db = database[0]
	}
	eng := gate.NewEngine(gate.EngineConfig{Store: st, Hasher: h, Region: "DE", Authorizer: auth, Database: db})
	e := &env{t: t, store: st, hasher: h, metrics: m, tokens: map[gate.Role]string{}}
	handler := admin.NewServer(admin.Deps{Store: st, Engine: eng, Hasher: h, Metrics: m, Region: "DE",
		Logger: slog.New(slog.NewTextHandler(&e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:    func() time.Time { return now }, MaxBody: 64 << 10, MaxImport: 1 << 20,
		// The tests send many wrong tokens from one address on a clock
		// that stands still; TestAuthRateLimit checks the limit.
		AuthFailureBurst: -1})
	e.srv = httptest.NewServer(handler)
	t.Cleanup(e.srv.Close)
	for _, role := range admintest.Roles {
		e.tokens[role], _ = admintest.Token(t, st, role, string(role)+" test", now)
	}
	clear, tok := admintest.Token(t, st, gate.RoleAdmin, "revoked", now)
	if err := st.RevokeToken(context.Background(), tok.ID, now); err != nil {
		t.Fatal(err)
	}
	e.revoked = clear
	return e
}

// resp is a finished response.
type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// problem decodes a problem document and returns its field names.
func (r resp) fields(t *testing.T) []string {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type %q, want application/problem+json; body %s", ct, r.body)
	}
	var p admin.Problem
	r.json(t, &p)
	if p.Status != r.status || p.Title == "" || p.Type == "" {
		t.Errorf("problem %+v does not match status %d", p, r.status)
	}
	out := make([]string, len(p.Errors))
	for i, f := range p.Errors {
		out[i] = f.Field
		if f.Problem == "" {
			t.Errorf("field %s without a problem", f.Field)
		}
	}
	return out
}

// do sends a request with the token (clear; "" = none) and body (a
// string/[]byte is sent as is, anything else as JSON).
func (e *env) do(token, method, path string, body any, header ...string) resp {
	e.t.Helper()
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case string:
		rd, ct = strings.NewReader(b), "application/json"
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd, ct = bytes.NewReader(j), "application/json"
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	e.mu.Lock()
	e.bodies = append(e.bodies, string(b), headerText(res.Header))
	e.mu.Unlock()
	return resp{status: res.StatusCode, header: res.Header, body: b}
}

func headerText(h http.Header) string {
	var b strings.Builder
	_ = h.Write(&b)
	return b.String()
}

func (e *env) admin(method, path string, body any, header ...string) resp {
	e.t.Helper()
	return e.do(e.tokens[gate.RoleAdmin], method, path, body, header...)
}

// mustStatus fails unless r has status want.
func mustStatus(t *testing.T, r resp, want int) {
	t.Helper()
	if r.status != want {
		t.Fatalf("status %d, want %d; body %s", r.status, want, r.body)
	}
}

// staticGate is a static-PIN gate in JSON as clients write it.
func staticGate(id, pin string) map[string]any {
	return map[string]any{
		"id": id, "name": "Gate " + id, "enabled": true,
		"match":          map[string]any{"numbers": []string{"+4930123456"}},
		"activation":     map[string]any{"mode": "always"},
		"identification": map[string]any{"mode": "static", "static_pin": pin},
		"dialogue":       map[string]any{"max_retries": 3, "min_digits": 4, "max_digits": 8},
		"routes":         map[string]any{"forward_context": "from-internal"},
		"failure":        map[string]any{"action": "reject"},
		"lockout":        map[string]any{},
	}
}

// tableGate is a caller-table gate.
func tableGate(id string) map[string]any {
	g := staticGate(id, "")
	g["identification"] = map[string]any{"mode": "table", "unknown_caller": "reject", "region": "DE"}
	g["match"] = map[string]any{"numbers": []string{"+4930999" + "0"}}
	return g
}
