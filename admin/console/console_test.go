package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vipgate/vipgate/admin"
	"github.com/vipgate/vipgate/gate"
)

func TestPagesNeedALogin(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	for _, p := range []string{"/", "/gates/new", "/simulate", "/calls", "/lockouts", "/prompts", "/tokens", "/gates/x/pins"} {
		resp, _ := b.get(p)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
			t.Errorf("GET %s without a session: %d %q, want 303 to /login", p, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	resp, _ := b.post("/gates/new", url.Values{"id": {"x"}, "csrf": {"anything"}})
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("POST without a session: %d, want 401", resp.StatusCode)
	}
	if _, err := e.store.GetGate(context.Background(), "x"); err == nil {
		t.Error("a post without a session created a gate")
	}
}

func TestLoginMakesASessionCookie(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.get("/login")
	resp, _ := b.post("/login", url.Values{"token": {e.tokens[gate.RoleAdmin]}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %d", resp.StatusCode)
	}
	var sess *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "vipgate_session" {
			sess = c
		}
	}
	if sess == nil {
		t.Fatal("no session cookie")
	}
	if !sess.HttpOnly || sess.SameSite != http.SameSiteStrictMode || sess.Secure {
		t.Errorf("session cookie on plain HTTP: HttpOnly=%v SameSite=%v Secure=%v, want true, Strict, false", sess.HttpOnly, sess.SameSite, sess.Secure)
	}
	if strings.Contains(sess.Value, e.tokens[gate.RoleAdmin]) || strings.Contains(e.tokens[gate.RoleAdmin], sess.Value) {
		t.Error("the session cookie holds the API token")
	}
	resp, body := b.get("/")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, e.ids[gate.RoleAdmin]) {
		t.Fatalf("overview after login: %d\n%s", resp.StatusCode, body)
	}
	// Logout ends the session on the server, not only in the browser.
	resp, _ = b.post("/logout", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	stale := e.browser()
	stale.c.Jar.SetCookies(mustURL(e.srv.URL), []*http.Cookie{{Name: "vipgate_session", Value: sess.Value}})
	if resp, _ := stale.get("/"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("the session cookie still works after logout: %d", resp.StatusCode)
	}
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

func TestSessionCookieIsSecureUnderTLS(t *testing.T) {
	e := newEnv(t)
	tlsSrv := httptestTLS(t, e)
	c := tlsSrv.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Get(tlsSrv.URL + "/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, ck := range resp.Cookies() {
		if ck.Name == "vipgate_login" && (!ck.Secure || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode) {
			t.Errorf("login cookie under TLS: Secure=%v HttpOnly=%v SameSite=%v", ck.Secure, ck.HttpOnly, ck.SameSite)
		}
		if ck.Name == "vipgate_login" {
			return
		}
	}
	t.Error("no login cookie under TLS")
}

func TestFailedLoginsAreRefusedLoggedAndSlowedDown(t *testing.T) {
	e := newEnvOpts(t, envOpts{burst: 3, tokenTTL: -1})
	b := e.browser()
	b.get("/login")
	for i := range 3 {
		resp, body := b.post("/login", url.Values{"token": {"vg_aaaaaaaaaaaa_wrongwrongwrongwrongwrong"}})
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "Wrong, revoked or expired token.") {
			t.Fatalf("wrong token %d: %d", i, resp.StatusCode)
		}
	}
	// The bucket is empty: even the right token is refused until it refills.
	resp, body := b.post("/login", url.Values{"token": {e.tokens[gate.RoleAdmin]}})
	if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(body, "retry in") {
		t.Fatalf("after 3 failures: %d, want 429 with a retry time\n%s", resp.StatusCode, body)
	}
	logs := e.logs.String()
	if strings.Count(logs, "console login failed") != 3 || !strings.Contains(logs, "rate-limited") {
		t.Errorf("failed logins not logged:\n%s", logs)
	}
	if strings.Contains(logs, "wrongwrong") || strings.Contains(logs, e.tokens[gate.RoleAdmin]) {
		t.Error("the log holds a typed token")
	}
	// The REST API shares the limiter: the address is refused there too.
	if r := e.api(gate.RoleAdmin, "GET", "/api/v1/gates", "", nil); r.StatusCode != http.StatusTooManyRequests {
		t.Errorf("REST after console failures: %d, want 429 (one limiter)", r.StatusCode)
	}
	e.advance(2 * time.Minute)
	b.login(e.tokens[gate.RoleAdmin])
}

func TestLoginWithoutItsNonceIsRefused(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	resp, _ := b.post("/login", url.Values{"token": {e.tokens[gate.RoleAdmin]}, "csrf": {"forged"}})
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("login without the login page's nonce: %d, want 403", resp.StatusCode)
	}
	for _, c := range resp.Cookies() {
		if c.Name == "vipgate_session" && c.Value != "" {
			t.Error("a forged login got a session")
		}
	}
}

func TestSessionsExpire(t *testing.T) {
	e := newEnv(t)
	b := e.as(gate.RoleViewer)
	e.advance(29 * time.Minute)
	if resp, _ := b.get("/"); resp.StatusCode != http.StatusOK {
		t.Fatalf("after 29 idle minutes: %d", resp.StatusCode)
	}
	e.advance(31 * time.Minute)
	if resp, _ := b.get("/"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("after 31 idle minutes: %d, want 303 to the login", resp.StatusCode)
	}
	// Absolute: used every 20 minutes, it still ends after 12 hours.
	b = e.as(gate.RoleViewer)
	for i := 0; i < 35; i++ {
		e.advance(20 * time.Minute)
		if resp, _ := b.get("/"); resp.StatusCode != http.StatusOK {
			t.Fatalf("at %d min: %d", (i+1)*20, resp.StatusCode)
		}
	}
	e.advance(20 * time.Minute) // 12 h
	if resp, _ := b.get("/"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("after 12 hours: %d, want 303 to the login", resp.StatusCode)
	}
}

func TestRevokedTokenEndsItsSessions(t *testing.T) {
	e := newEnv(t)
	b := e.as(gate.RoleOperator)
	if err := e.store.RevokeToken(context.Background(), e.ids[gate.RoleOperator], e.now()); err != nil {
		t.Fatal(err)
	}
	if resp, _ := b.get("/"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("session of a revoked token: %d, want 303 to the login", resp.StatusCode)
	}
}

// consoleRoute is a state-changing console request and the REST route it
// uses.
type consoleRoute struct {
	path      string
	form      url.Values
	file      string // multipart field, when it is an upload
	data      []byte
	apiMethod string
	apiPath   string // the API pattern, for admin.Need
	restPath  string // the concrete REST path
}

func writeRoutes(e *env, entryID int64, revokeID string) []consoleRoute {
	eid := strconv.FormatInt(entryID, 10)
	return []consoleRoute{
		{path: "/gates/new", form: url.Values{"id": {"newgate"}, "activation.mode": {"always"}, "identification.mode": {"table"}, "enabled": {"on"}},
			apiMethod: "POST", apiPath: "/gates", restPath: "/api/v1/gates"},
		{path: "/gates/g1", form: url.Values{"id": {"g1"}, "name": {"G one"}, "activation.mode": {"always"}, "identification.mode": {"table"}},
			apiMethod: "PUT", apiPath: "/gates/{gate}", restPath: "/api/v1/gates/g1"},
		{path: "/gates/g1/pins", form: url.Values{"caller": {"0176 1111 2222"}, "pin": {"4711"}},
			apiMethod: "POST", apiPath: "/gates/{gate}/pins", restPath: "/api/v1/gates/g1/pins"},
		{path: "/gates/g1/pins/import", file: "csv", data: []byte("caller,pin\n+4917633334444,9876\n"),
			apiMethod: "POST", apiPath: "/gates/{gate}/pins/import", restPath: "/api/v1/gates/g1/pins/import"},
		{path: "/gates/g1/pins/" + eid, form: url.Values{"caller": {"+4915100000001"}, "label": {"x"}},
			apiMethod: "PUT", apiPath: "/gates/{gate}/pins/{entry}", restPath: "/api/v1/gates/g1/pins/" + eid},
		{path: "/gates/g1/override", form: url.Values{"active": {"false"}, "reason": {"test"}},
			apiMethod: "PUT", apiPath: "/gates/{gate}/override", restPath: "/api/v1/gates/g1/override"},
		{path: "/gates/g1/override/clear", apiMethod: "DELETE", apiPath: "/gates/{gate}/override", restPath: "/api/v1/gates/g1/override"},
		{path: "/lockouts/clear", form: url.Values{"gate": {"g1"}, "caller": {"+4915100000001"}},
			apiMethod: "DELETE", apiPath: "/gates/{gate}/lockouts/{caller}", restPath: "/api/v1/gates/g1/lockouts/%2B4915100000001"},
		{path: "/simulate", form: url.Values{"called": {"+4930901820"}, "caller": {"+4915100000001"}},
			apiMethod: "POST", apiPath: "/explain", restPath: "/api/v1/explain"},
		{path: "/prompts", file: "wav", data: []byte("not a wav"), form: url.Values{"gate": {"g1"}, "lang": {"en"}, "key": {"ask-pin"}},
			apiMethod: "PUT", apiPath: "/prompts/{gate}/{lang}/{key}", restPath: "/api/v1/prompts/g1/en/ask-pin"},
		{path: "/tokens", form: url.Values{"role": {"viewer"}, "name": {"made in test"}},
			apiMethod: "POST", apiPath: "/tokens", restPath: "/api/v1/tokens"},
		{path: "/tokens/" + revokeID + "/revoke", apiMethod: "DELETE", apiPath: "/tokens/{token}", restPath: "/api/v1/tokens/" + revokeID},
		{path: "/gates/g1/pins/" + eid + "/delete", apiMethod: "DELETE", apiPath: "/gates/{gate}/pins/{entry}", restPath: "/api/v1/gates/g1/pins/" + eid},
		{path: "/gates/newgate/delete", apiMethod: "DELETE", apiPath: "/gates/{gate}", restPath: "/api/v1/gates/newgate"},
	}
}

// seed stores gate g1 with one entry and a spare token to revoke.
func seed(t *testing.T, e *env) (int64, string) {
	t.Helper()
	e.putGate(t, staticGate("g1"))
	en := &gate.Entry{GateID: "g1", Pattern: "+4915100000001", PIN: e.hasher.Hash("2580")}
	if err := e.store.PutEntry(context.Background(), en); err != nil {
		t.Fatal(err)
	}
	_, tok, _ := admin.NewToken(gate.RoleViewer, "spare")
	tok.CreatedAt = e.now()
	if err := e.store.CreateToken(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	return en.ID, tok.ID
}

func (b *browser) send(r consoleRoute, csrf *string) *http.Response {
	form := url.Values{}
	for k, v := range r.form {
		form[k] = v
	}
	if csrf != nil {
		form.Set("csrf", *csrf)
	}
	if r.file != "" {
		resp, _ := b.upload(r.path, r.file, "upload", r.data, form)
		return resp
	}
	resp, _ := b.post(r.path, form)
	return resp
}

// The console's role matrix is the REST API's: every state-changing
// console request is refused (403) for exactly the roles the REST API
// refuses on the route it uses.
func TestRoleMatrixIsTheAPIs(t *testing.T) {
	for _, role := range []gate.Role{gate.RoleViewer, gate.RoleOperator, gate.RoleAdmin} {
		t.Run(string(role), func(t *testing.T) {
			e := newEnv(t)
			entryID, spare := seed(t, e)
			b := e.as(role)
			for _, r := range writeRoutes(e, entryID, spare) {
				need, ok := admin.Need(r.apiMethod, r.apiPath)
				if !ok {
					t.Fatalf("%s: no API route %s %s", r.path, r.apiMethod, r.apiPath)
				}
				rest := e.api(role, r.apiMethod, r.restPath, "application/json", []byte("{}"))
				restForbidden := rest.StatusCode == http.StatusForbidden
				if restForbidden != !admin.Allows(role, need) {
					t.Errorf("REST %s %s as %s: %d; the route table says it needs %s", r.apiMethod, r.restPath, role, rest.StatusCode, need)
				}
				b.get("/") // a fresh CSRF token (the same for the session)
				got := b.send(r, nil)
				if forbidden := got.StatusCode == http.StatusForbidden; forbidden != restForbidden {
					t.Errorf("console POST %s as %s: %d; REST %s %s: %d", r.path, role, got.StatusCode, r.apiMethod, r.restPath, rest.StatusCode)
				}
			}
			// Pages that read: the tokens page is admin-only, as GET /api/v1/tokens.
			for _, p := range []struct{ path, method, pattern string }{
				{"/", "GET", "/gates"}, {"/gates/g1", "GET", "/gates/{gate}"}, {"/gates/g1/pins", "GET", "/gates/{gate}/pins"},
				{"/gates/g1/pins/export", "GET", "/gates/{gate}/pins/export"}, {"/calls", "GET", "/calls"},
				{"/calls/export", "GET", "/calls"}, {"/lockouts", "GET", "/lockouts"}, {"/prompts", "GET", "/prompts"},
				{"/tokens", "GET", "/tokens"},
			} {
				need, _ := admin.Need(p.method, p.pattern)
				resp, _ := b.get(p.path)
				if forbidden := resp.StatusCode == http.StatusForbidden; forbidden != !admin.Allows(role, need) {
					t.Errorf("GET %s as %s: %d; the API route %s needs %s", p.path, role, resp.StatusCode, p.pattern, need)
				}
			}
		})
	}
}

// Every state-changing request without the session's CSRF token is
// refused and changes nothing.
func TestCSRFRefused(t *testing.T) {
	e := newEnv(t)
	entryID, spare := seed(t, e)
	b := e.as(gate.RoleAdmin)
	before := snapshot(t, e)
	for _, bad := range []string{"", "forged"} {
		for _, r := range writeRoutes(e, entryID, spare) {
			if resp := b.send(r, &bad); resp.StatusCode != http.StatusForbidden {
				t.Errorf("POST %s with csrf=%q: %d, want 403", r.path, bad, resp.StatusCode)
			}
		}
		if resp, _ := b.post("/logout", url.Values{"csrf": {bad}}); resp.StatusCode != http.StatusForbidden {
			t.Errorf("logout with csrf=%q: %d, want 403", bad, resp.StatusCode)
		}
	}
	if after := snapshot(t, e); after != before {
		t.Errorf("refused requests changed the store:\nbefore %s\nafter  %s", before, after)
	}
	// The same session's token is accepted (the refusals were for the token).
	if resp := b.send(writeRoutes(e, entryID, spare)[5], nil); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("override with the session's CSRF token: %d, want 303", resp.StatusCode)
	}
}

// snapshot describes what the write routes could change.
func snapshot(t *testing.T, e *env) string {
	t.Helper()
	ctx := context.Background()
	gs, _ := e.store.ListGates(ctx)
	var b strings.Builder
	for _, g := range gs {
		fmt.Fprintf(&b, "gate %s %q %v %v;", g.ID, g.Name, g.Override != nil, g.UpdatedAt)
		es, n, _ := e.store.ListEntries(ctx, g.ID, gate.EntryFilter{Limit: 1000})
		fmt.Fprintf(&b, " %d entries", n)
		for _, en := range es {
			fmt.Fprintf(&b, " %s/%s", en.Pattern, en.Label)
		}
	}
	ts, _ := e.store.ListTokens(ctx)
	for _, tk := range ts {
		fmt.Fprintf(&b, " token %s %v", tk.ID, tk.RevokedAt.IsZero())
	}
	ps, _ := e.store.ListPrompts(ctx, "")
	fmt.Fprintf(&b, " %d prompts", len(ps))
	return b.String()
}
