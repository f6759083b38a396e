package console

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/vipgate/vipgate/admin"
	"github.com/vipgate/vipgate/gate"
)

// Bounds of a login link's validity.
const (
	DefaultLinkValid = 10 * time.Minute
	MaxLinkValid     = time.Hour
)

// LinkPath is the console path a login link opens; the link's secret is
// its t parameter.
const LinkPath = "/login/link"

func linkKey(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return gate.LoginLinkPrefix + hex.EncodeToString(sum[:])
}

// NewLoginLink makes a one-time login link for role, valid for valid from
// now, and returns its secret (the t parameter of LinkPath). It creates an
// API token of role (named "console login link", its clear value thrown
// away) that expires when a session made from the link would
// (DefaultAbsolute after the link expires): the session lives as long as
// that token, and revoking it ends the session. The store keeps only the
// secret's SHA-256.
func NewLoginLink(ctx context.Context, st gate.Store, links gate.ConsoleSessions, role gate.Role, valid time.Duration, now time.Time) (string, error) {
	if valid <= 0 || valid > MaxLinkValid {
		return "", fmt.Errorf("console: login link: --valid must be from 1s to %s", MaxLinkValid)
	}
	if links == nil {
		return "", errors.New("console: login link: the store keeps no console sessions")
	}
	_, tok, err := admin.NewToken(role, "console login link")
	if err != nil {
		return "", err
	}
	tok.CreatedAt = now
	tok.ExpiresAt = now.Add(valid + DefaultAbsolute)
	if err := st.CreateToken(ctx, tok); err != nil {
		return "", fmt.Errorf("console: login link: %w", err)
	}
	secret := randomString()
	if err := links.CreateConsoleSession(ctx, &gate.ConsoleSession{Key: linkKey(secret), TokenID: tok.ID, CreatedAt: now, SeenAt: now.Add(valid)}); err != nil {
		return "", fmt.Errorf("console: login link: %w", err)
	}
	return secret, nil
}

type linkData struct {
	Nonce, T string
}

// linkPage shows the link's confirmation: opening the link changes
// nothing (a link previewer must not use it up); its button logs in.
func (c *Console) linkPage(w http.ResponseWriter, r *http.Request) {
	c.render(w, r, nil, http.StatusOK, "link", translate(lang(r), "Log in"), linkData{Nonce: c.loginNonce(w, r), T: r.URL.Query().Get("t")}, "", "")
}

// linkLogin uses a login link up: the first use becomes a session, every
// later one is refused.
func (c *Console) linkLogin(w http.ResponseWriter, r *http.Request) {
	if !c.loginForm(w, r, "login link") {
		return
	}
	refused := func() {
		c.log.Warn("console: login link refused (unknown, used or expired)", "client", r.RemoteAddr)
		c.showLogin(w, r, http.StatusUnauthorized, "", translate(lang(r), "This login link is unknown, used or expired."))
	}
	store := c.sessions.store
	t := r.PostForm.Get("t")
	if store == nil || t == "" {
		refused()
		return
	}
	cs, err := store.ClaimConsoleSession(r.Context(), linkKey(t))
	if errors.Is(err, gate.ErrNotFound) {
		refused()
		return
	}
	if err != nil {
		c.showLogin(w, r, http.StatusServiceUnavailable, "", "store: "+err.Error())
		return
	}
	now := c.now()
	if !now.Before(cs.SeenAt) {
		refused()
		return
	}
	tok, err := c.api.Token(r.Context(), cs.TokenID)
	if err != nil {
		refused()
		return
	}
	id, _, err := c.sessions.create(r.Context(), tok, now)
	if err != nil {
		c.showLogin(w, r, http.StatusServiceUnavailable, "", "store: "+err.Error())
		return
	}
	c.log.Info("console: login by a one-time link", "client", r.RemoteAddr, "token", tok.ID, "role", string(tok.Role))
	http.SetCookie(w, c.cookie(r, loginCookie, "", -1))
	http.SetCookie(w, c.cookie(r, sessionCookie, id, 0))
	http.Redirect(w, r, "/", http.StatusSeeOther)
}
