package main

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/vipgate/vipgate/admin"
	"github.com/vipgate/vipgate/admin/console"
	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/storage/sqlite"
)

// TestConsoleLoginLink checks `vipgate console login-link`: it prints a
// console URL whose one-time token becomes a session of the role on its
// first use, and is refused on the second; the store keeps no clear
// token; bad flags are usage errors.
func TestConsoleLoginLink(t *testing.T) {
	c := newCLI(t)
	out, errOut, err := c.run("console", "login-link", "--role", "operator", "--valid", "5m", "--url", "https://pbx1.example:8443/")
	if err != nil {
		t.Fatalf("login-link: %v\n%s", err, errOut)
	}
	link := strings.TrimSpace(out)
	if !strings.HasPrefix(link, "https://pbx1.example:8443/login/link?t=") || !strings.Contains(errOut, "works once") {
		t.Fatalf("link %q, stderr %q", link, errOut)
	}
	u, _ := url.Parse(link)
	secret := u.Query().Get("t")

	st, err := sqlite.Open(context.Background(), filepath.Join(c.dir, "vipgate", "vipgate.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.GetConsoleSession(context.Background(), gate.LoginLinkPrefix+secret); err == nil {
		t.Fatal("the clear link token is a key in the store")
	}
	api := admin.New(admin.Deps{Store: st, Engine: gate.NewEngine(gate.EngineConfig{Store: st})})
	web, err := console.New(console.Deps{API: api, Sessions: st})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(web)
	defer srv.Close()
	use := func() (int, string) {
		jar, _ := cookiejar.New(nil)
		cl := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := cl.Get(srv.URL + u.RequestURI())
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		m := regexp.MustCompile(`name="csrf" value="([^"]*)"`).FindSubmatch(body)
		if m == nil {
			t.Fatalf("link page without a form: %s", body)
		}
		resp, err = cl.PostForm(srv.URL+"/login/link", url.Values{"csrf": {string(m[1])}, "t": {secret}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			return resp.StatusCode, ""
		}
		resp, err = cl.Get(srv.URL + "/")
		if err != nil {
			t.Fatal(err)
		}
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, string(body)
	}
	if code, body := use(); code != http.StatusOK || !strings.Contains(body, "operator") {
		t.Fatalf("first use: %d\n%.500s", code, body)
	}
	if code, _ := use(); code != http.StatusUnauthorized {
		t.Fatalf("second use: %d, want 401", code)
	}

	for _, args := range [][]string{{"--role", "root"}, {"--valid", "2h"}, {"--valid", "0s"}, {"--url", "ftp://x"}} {
		if _, _, err := c.run(append([]string{"console", "login-link"}, args...)...); err == nil {
			t.Errorf("console login-link %v accepted", args)
		}
	}
}
