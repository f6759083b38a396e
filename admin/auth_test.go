package admin_test

import (
	"context"
	"crypto/sha256"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/vipgate/vipgate/admin"
	"github.com/vipgate/vipgate/gate"
)

// routeRoles is the least role of every /api/v1 route, with a concrete
// path and body to call it with.
var routeRoles = []struct {
	method, pattern, path string
	body                  any
	role                  gate.Role
}{
	{"GET", "/api/v1/gates", "/api/v1/gates", nil, gate.RoleViewer},
	{"POST", "/api/v1/gates", "/api/v1/gates", staticGate("new", "4711"), gate.RoleAdmin},
	{"GET", "/api/v1/gates/{gate}", "/api/v1/gates/vip", nil, gate.RoleViewer},
	{"PUT", "/api/v1/gates/{gate}", "/api/v1/gates/vip", tableGate("vip"), gate.RoleAdmin},
	{"DELETE", "/api/v1/gates/{gate}", "/api/v1/gates/other", nil, gate.RoleAdmin},
	{"GET", "/api/v1/gates/{gate}/pins", "/api/v1/gates/vip/pins", nil, gate.RoleViewer},
	{"POST", "/api/v1/gates/{gate}/pins", "/api/v1/gates/vip/pins", map[string]any{"caller": "+4917611111111", "pin": "8642"}, gate.RoleOperator},
	{"GET", "/api/v1/gates/{gate}/pins/{entry}", "/api/v1/gates/vip/pins/1", nil, gate.RoleViewer},
	{"PUT", "/api/v1/gates/{gate}/pins/{entry}", "/api/v1/gates/vip/pins/1", map[string]any{"caller": "+4917600000000"}, gate.RoleOperator},
	{"DELETE", "/api/v1/gates/{gate}/pins/{entry}", "/api/v1/gates/vip/pins/999", nil, gate.RoleOperator},
	{"GET", "/api/v1/gates/{gate}/accounts", "/api/v1/gates/vip/accounts", nil, gate.RoleViewer},
	{"POST", "/api/v1/gates/{gate}/accounts", "/api/v1/gates/vip/accounts", map[string]any{"number": "10042", "pin": "8642"}, gate.RoleOperator},
	{"POST", "/api/v1/gates/{gate}/accounts/import", "/api/v1/gates/vip/accounts/import", []byte("number,pin\n30033,8642\n"), gate.RoleOperator},
	{"GET", "/api/v1/gates/{gate}/accounts/export", "/api/v1/gates/vip/accounts/export", nil, gate.RoleViewer},
	{"GET", "/api/v1/gates/{gate}/accounts/{number}", "/api/v1/gates/vip/accounts/10042", nil, gate.RoleViewer},
	{"PUT", "/api/v1/gates/{gate}/accounts/{number}", "/api/v1/gates/vip/accounts/10042", map[string]any{"label": "x"}, gate.RoleOperator},
	{"DELETE", "/api/v1/gates/{gate}/accounts/{number}", "/api/v1/gates/vip/accounts/999", nil, gate.RoleOperator},
	{"POST", "/api/v1/gates/{gate}/pins/import", "/api/v1/gates/vip/pins/import", []byte("caller,pin\n+4917622222222,8642\n"), gate.RoleOperator},
	{"GET", "/api/v1/gates/{gate}/pins/export", "/api/v1/gates/vip/pins/export", nil, gate.RoleViewer},
	{"GET", "/api/v1/gates/{gate}/grants", "/api/v1/gates/vip/grants", nil, gate.RoleViewer},
	{"POST", "/api/v1/gates/{gate}/grants", "/api/v1/gates/vip/grants", map[string]any{"max_uses": 1}, gate.RoleOperator},
	{"DELETE", "/api/v1/gates/{gate}/grants/{grant}", "/api/v1/gates/vip/grants/999", nil, gate.RoleOperator},
	{"PUT", "/api/v1/gates/{gate}/override", "/api/v1/gates/vip/override", map[string]any{"active": true}, gate.RoleOperator},
	{"DELETE", "/api/v1/gates/{gate}/override", "/api/v1/gates/vip/override", nil, gate.RoleOperator},
	{"GET", "/api/v1/lockouts", "/api/v1/lockouts", nil, gate.RoleViewer},
	{"DELETE", "/api/v1/gates/{gate}/lockouts/{caller}", "/api/v1/gates/vip/lockouts/+4917699999999", nil, gate.RoleOperator},
	{"GET", "/api/v1/calls", "/api/v1/calls", nil, gate.RoleViewer},
	{"DELETE", "/api/v1/callers/{number}", "/api/v1/callers/+4917699999999", nil, gate.RoleAdmin},
	{"GET", "/api/v1/status", "/api/v1/status", nil, gate.RoleViewer},
	{"GET", "/api/v1/status/gates", "/api/v1/status/gates", nil, gate.RoleViewer},
	{"GET", "/api/v1/events", "/api/v1/events", nil, gate.RoleViewer},
	{"GET", "/api/v1/calls/summary", "/api/v1/calls/summary", nil, gate.RoleViewer},
	{"POST", "/api/v1/explain", "/api/v1/explain", map[string]any{"caller": "+4917600000000", "called": "+49309990"}, gate.RoleViewer},
	{"GET", "/api/v1/prompts", "/api/v1/prompts", nil, gate.RoleViewer},
	{"GET", "/api/v1/prompts/{gate}/{lang}/{key}", "/api/v1/prompts/_default/en/ask-pin", nil, gate.RoleViewer},
	{"PUT", "/api/v1/prompts/{gate}/{lang}/{key}", "/api/v1/prompts/_default/en/ask-pin", wav(8000, 1, 16, 800), gate.RoleAdmin},
	{"DELETE", "/api/v1/prompts/{gate}/{lang}/{key}", "/api/v1/prompts/_default/en/welcome", nil, gate.RoleAdmin},
	{"POST", "/api/v1/tokens", "/api/v1/tokens", map[string]any{"role": "viewer"}, gate.RoleAdmin},
	{"GET", "/api/v1/tokens", "/api/v1/tokens", nil, gate.RoleAdmin},
	{"DELETE", "/api/v1/tokens/{token}", "/api/v1/tokens/unknownid", nil, gate.RoleAdmin},
	{"GET", "/api/v1/audit", "/api/v1/audit", nil, gate.RoleAdmin},
}

func rank(r gate.Role) int {
	return map[gate.Role]int{gate.RoleViewer: 1, gate.RoleOperator: 2, gate.RoleAdmin: 3}[r]
}

// TestAuthMatrix calls every /api/v1 route with no token, malformed,
// unknown and revoked tokens (401) and with each role (403 below the
// route's role, anything else at or above it).
func TestAuthMatrix(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mustStatus(t, e.admin("POST", "/api/v1/gates", tableGate("vip")), http.StatusCreated)
	mustStatus(t, e.admin("POST", "/api/v1/gates", tableGate("other")), http.StatusCreated)
	unknown, _, err := admin.NewToken(gate.RoleAdmin, "never stored")
	if err != nil {
		t.Fatal(err)
	}
	// A token with a known id but a wrong secret.
	forged := e.tokens[gate.RoleAdmin][:len("vg_")+12] + "_" + strings.Repeat("A", 43)

	for _, rt := range routeRoles {
		t.Run(rt.method+" "+rt.pattern, func(t *testing.T) {
			for name, tok := range map[string]string{"none": "", "garbage": "hello", "unknown": unknown, "forged": forged, "revoked": e.revoked} {
				r := e.do(tok, rt.method, rt.path, rt.body, "Content-Type", contentType(rt.body))
				if r.status != http.StatusUnauthorized {
					t.Errorf("%s token: status %d, want 401", name, r.status)
				}
				if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
					t.Errorf("%s token: WWW-Authenticate %q", name, r.header.Get("WWW-Authenticate"))
				}
			}
			for _, role := range []gate.Role{gate.RoleViewer, gate.RoleOperator, gate.RoleAdmin} {
				r := e.do(e.tokens[role], rt.method, rt.path, rt.body, "Content-Type", contentType(rt.body))
				switch {
				case rank(role) < rank(rt.role) && r.status != http.StatusForbidden:
					t.Errorf("%s: status %d, want 403", role, r.status)
				case rank(role) >= rank(rt.role) && (r.status == http.StatusForbidden || r.status == http.StatusUnauthorized || r.status == http.StatusMethodNotAllowed):
					t.Errorf("%s: status %d, want access; body %s", role, r.status, r.body)
				}
			}
		})
	}
}

func contentType(body any) string {
	switch b := body.(type) {
	case nil:
		return ""
	case []byte:
		if len(b) > 4 && string(b[:4]) == "RIFF" {
			return "audio/wav"
		}
		return "text/csv"
	}
	return "application/json"
}

// TestAuthMatrixCoversRoutes checks that routeRoles lists every /api/v1
// route the router has, and no other.
func TestAuthMatrixCoversRoutes(t *testing.T) {
	t.Parallel()
	want := map[string]bool{}
	for _, rt := range routeRoles {
		want[rt.method+" "+rt.pattern] = true
	}
	got := walkRoutes(t)
	for k := range got {
		if strings.Contains(k, "/api/v1/") && !want[k] {
			t.Errorf("route %s is not in the auth matrix", k)
		}
	}
	for k := range want {
		if !got[k] {
			t.Errorf("auth matrix lists %s, which is not routed", k)
		}
	}
}

// walkRoutes returns "METHOD /pattern" for every route of the server.
func walkRoutes(t *testing.T) map[string]bool {
	t.Helper()
	h := admin.NewServer(admin.Deps{Store: openStore(t)})
	routes, ok := h.(chi.Routes)
	if !ok {
		t.Fatalf("NewServer returned %T, not a chi router", h)
	}
	out := map[string]bool{}
	err := chi.Walk(routes, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		route = regexp.MustCompile(`/\*?$`).ReplaceAllString(strings.ReplaceAll(route, "/*/", "/"), "")
		if route == "" {
			route = "/"
		}
		out[method+" "+route] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestTokens checks the token format and that only its SHA-256 is kept.
func TestTokens(t *testing.T) {
	t.Parallel()
	re := regexp.MustCompile(`^vg_([a-z2-7]{12})_([A-Za-z0-9_-]{43})$`)
	seen := map[string]bool{}
	for _, role := range []gate.Role{gate.RoleViewer, gate.RoleOperator, gate.RoleAdmin} {
		clear, tok, err := admin.NewToken(role, "ci")
		if err != nil {
			t.Fatal(err)
		}
		m := re.FindStringSubmatch(clear)
		if m == nil {
			t.Fatalf("token %q does not match %s", clear, re)
		}
		sum := sha256.Sum256([]byte(clear))
		if tok.ID != m[1] || string(tok.Hash) != string(sum[:]) || tok.Role != role {
			t.Errorf("token record %+v does not match %q", tok, clear)
		}
		if seen[tok.ID] {
			t.Errorf("duplicate id %s", tok.ID)
		}
		seen[tok.ID] = true
	}
	if _, _, err := admin.NewToken("root", "x"); err == nil {
		t.Error("NewToken accepted role root")
	}

	e := newEnv(t)
	r := e.admin("GET", "/api/v1/tokens", nil)
	mustStatus(t, r, http.StatusOK)
	for _, tok := range e.tokens {
		if strings.Contains(string(r.body), tok) || strings.Contains(string(r.body), tok[16:]) {
			t.Errorf("token list reveals a token: %s", r.body)
		}
	}
	// Revoking a token locks it out at once.
	op := e.tokens[gate.RoleOperator]
	mustStatus(t, e.do(op, "GET", "/api/v1/gates", nil), http.StatusOK)
	mustStatus(t, e.admin("DELETE", "/api/v1/tokens/"+op[3:15], nil), http.StatusNoContent)
	mustStatus(t, e.do(op, "GET", "/api/v1/gates", nil), http.StatusUnauthorized)
	tokens, err := e.store.ListTokens(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	revoked := 0
	for _, tk := range tokens {
		if !tk.RevokedAt.IsZero() {
			revoked++
		}
	}
	if revoked != 2 {
		t.Errorf("%d revoked tokens, want 2", revoked)
	}
}

// TestRevokedElsewhere revokes a token in the store directly, as the CLI
// does: with the token cache off it is refused at once.
func TestRevokedElsewhere(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	ctx := context.Background()
	clear, tok, err := admin.NewToken(gate.RoleViewer, "cli")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	h := admin.NewServer(admin.Deps{Store: st, TokenCacheTTL: -1})
	get := func() int {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "/api/v1/gates", nil)
		req.Header.Set("Authorization", "Bearer "+clear)
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	if c := get(); c != http.StatusOK {
		t.Fatalf("status %d before revocation", c)
	}
	if err := st.RevokeToken(ctx, tok.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if c := get(); c != http.StatusUnauthorized {
		t.Errorf("status %d after revocation, want 401", c)
	}
}

// TestRevokedElsewhereCached revokes a token in the store directly with
// the token cache on: the cached record is used until the TTL has passed
// on the server's clock, then the token is refused.
func TestRevokedElsewhereCached(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	ctx := context.Background()
	clear, tok, err := admin.NewToken(gate.RoleViewer, "cli")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	clock := now
	h := admin.NewServer(admin.Deps{Store: st, TokenCacheTTL: time.Minute, Now: func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return clock
	}})
	advance := func(d time.Duration) {
		mu.Lock()
		clock = clock.Add(d)
		mu.Unlock()
	}
	get := func() int {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "/api/v1/gates", nil)
		req.Header.Set("Authorization", "Bearer "+clear)
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	if c := get(); c != http.StatusOK {
		t.Fatalf("status %d before revocation", c)
	}
	if err := st.RevokeToken(ctx, tok.ID, now); err != nil {
		t.Fatal(err)
	}
	advance(59 * time.Second)
	if c := get(); c != http.StatusOK {
		t.Errorf("status %d within the cache TTL, want the cached 200", c)
	}
	advance(time.Second)
	if c := get(); c != http.StatusUnauthorized {
		t.Errorf("status %d after the cache TTL, want 401", c)
	}
}
