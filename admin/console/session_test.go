package console_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/vipgate/vipgate/admin/console"
	"github.com/vipgate/vipgate/gate"
)

// sessionCookieOf returns the browser's session cookie value.
func sessionCookieOf(t *testing.T, b *browser) string {
	t.Helper()
	u, _ := url.Parse(b.e.srv.URL)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == "vipgate_session" {
			return c.Value
		}
	}
	t.Fatal("no session cookie")
	return ""
}

// TestSessionSurvivesARestart checks that a session is kept in the store
// by the hash of its id (never the id): the browser stays logged in, CSRF
// token included, across a restart of the console over the same store;
// logout deletes it from the store; an idle session is deleted when it is
// next presented, and logins prune the expired ones.
func TestSessionSurvivesARestart(t *testing.T) {
	e := newEnv(t)
	st := e.store.(gate.ConsoleSessions)
	ctx := context.Background()
	b := e.as(gate.RoleOperator)
	id := sessionCookieOf(t, b)
	sum := sha256.Sum256([]byte(id))
	key := hex.EncodeToString(sum[:])
	if cs, err := st.GetConsoleSession(ctx, key); err != nil || cs.TokenID != e.ids[gate.RoleOperator] {
		t.Fatalf("stored session: %+v, %v", cs, err)
	}
	if _, err := st.GetConsoleSession(ctx, id); err == nil {
		t.Fatal("the clear session id is a key in the store")
	}

	e.restart()
	if resp, body := b.get("/"); resp.StatusCode != http.StatusOK || !strings.Contains(body, "Gates") {
		t.Fatalf("after a restart: %d", resp.StatusCode)
	}
	// A form with the CSRF token of the page before the restart still
	// works: the token is derived from the session id.
	e.putGate(t, staticGate("hotline"))
	csrf := b.csrf
	e.restart()
	if resp, body := b.post("/gates/hotline/override", url.Values{"csrf": {csrf}, "active": {"false"}, "reason": {"drill"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("override after a restart: %d %.300s", resp.StatusCode, body)
	}

	if resp, _ := b.post("/logout", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	if _, err := st.GetConsoleSession(ctx, key); err == nil {
		t.Fatal("logout left the session in the store")
	}

	// Idle expiry over the store; the next login prunes the expired.
	idle := e.as(gate.RoleViewer)
	sumIdle := sha256.Sum256([]byte(sessionCookieOf(t, idle)))
	idleKey := hex.EncodeToString(sumIdle[:])
	other := e.as(gate.RoleViewer)
	sumOther := sha256.Sum256([]byte(sessionCookieOf(t, other)))
	e.advance(31 * time.Minute)
	if resp, _ := idle.get("/"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("idle session: %d, want 303 to the login", resp.StatusCode)
	}
	if _, err := st.GetConsoleSession(ctx, idleKey); err == nil {
		t.Error("an expired session presented is kept")
	}
	e.as(gate.RoleViewer)
	if _, err := st.GetConsoleSession(ctx, hex.EncodeToString(sumOther[:])); err == nil {
		t.Error("a login does not prune the expired sessions")
	}
}

// TestLoginLinkOnceAndExpires checks the one-time login link: opening it
// changes nothing (a link previewer does not use it up), its form makes a
// session of the link's role once, a second use is refused, and a link
// used after its validity is refused.
func TestLoginLinkOnceAndExpires(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	secret, err := console.NewLoginLink(ctx, e.store, e.store.(gate.ConsoleSessions), gate.RoleViewer, 10*time.Minute, e.now())
	if err != nil {
		t.Fatal(err)
	}
	use := func(b *browser) int {
		t.Helper()
		if resp, _ := b.get("/login/link?t=" + url.QueryEscape(secret)); resp.StatusCode != http.StatusOK {
			t.Fatalf("link page: %d", resp.StatusCode)
		}
		resp, _ := b.post("/login/link", url.Values{"t": {secret}})
		return resp.StatusCode
	}
	b := e.browser()
	b.get("/login/link?t=" + url.QueryEscape(secret)) // opened twice, by a previewer say
	if code := use(b); code != http.StatusSeeOther {
		t.Fatalf("first use: %d, want 303", code)
	}
	if resp, body := b.get("/"); resp.StatusCode != http.StatusOK || !strings.Contains(body, "viewer") {
		t.Fatalf("session from the link: %d", resp.StatusCode)
	}
	if code := use(e.browser()); code != http.StatusUnauthorized {
		t.Fatalf("second use: %d, want 401", code)
	}
	if _, err := console.NewLoginLink(ctx, e.store, e.store.(gate.ConsoleSessions), gate.RoleViewer, 2*time.Hour, e.now()); err == nil {
		t.Error("a link valid for 2 hours was made")
	}

	secret, err = console.NewLoginLink(ctx, e.store, e.store.(gate.ConsoleSessions), gate.RoleAdmin, 10*time.Minute, e.now())
	if err != nil {
		t.Fatal(err)
	}
	e.advance(10 * time.Minute)
	if code := use(e.browser()); code != http.StatusUnauthorized {
		t.Fatalf("expired link: %d, want 401", code)
	}
}
