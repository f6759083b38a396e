package console

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/vipgate/vipgate/gate"
)

// Cookie names. The session cookie holds a random session id; the server
// keeps the session (keyed by the id's SHA-256), never the API token.
const (
	sessionCookie = "vipgate_session"
	loginCookie   = "vipgate_login"
	langCookie    = "vipgate_lang"
	csrfField     = "csrf"
	maxSessions   = 10000
)

// session is a logged-in browser. It holds the token's record (id, role,
// name; never the clear token), so it ends when the token is revoked or
// expires, and the CSRF token that every form posts back.
type session struct {
	key     [sha256.Size]byte
	token   *gate.Token
	csrf    string
	created time.Time

	mu    sync.Mutex
	seen  time.Time
	flash string
	// sessions keeps the flash of a stored session for its next request.
	sessions *sessions
}

// TokenID, Role and Name are for the templates.
func (s *session) TokenID() string { return s.token.ID }
func (s *session) Role() gate.Role { return s.token.Role }
func (s *session) Name() string    { return s.token.Name }

func (s *session) setFlash(m string) {
	if ss := s.sessions; ss != nil {
		ss.mu.Lock()
		if len(ss.flash) < maxSessions {
			ss.flash[s.key] = m
		}
		ss.mu.Unlock()
		return
	}
	s.mu.Lock()
	s.flash = m
	s.mu.Unlock()
}
func (s *session) takeFlash() string {
	if ss := s.sessions; ss != nil {
		ss.mu.Lock()
		defer ss.mu.Unlock()
		m := ss.flash[s.key]
		delete(ss.flash, s.key)
		return m
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.flash
	s.flash = ""
	return m
}

// sessions are the console's logins. With a store (Deps.Sessions) they
// are kept there by the SHA-256 of their id, so that they survive a
// restart and are shared by every instance on the store; without one, in
// memory. The flash message of a page redirect stays in memory.
type sessions struct {
	idle, abs time.Duration
	store     gate.ConsoleSessions
	mu        sync.Mutex
	m         map[[sha256.Size]byte]*session
	// flash holds the flash messages of stored sessions.
	flash map[[sha256.Size]byte]string
}

func newSessions(idle, abs time.Duration, store gate.ConsoleSessions) *sessions {
	return &sessions{idle: idle, abs: abs, store: store, m: map[[sha256.Size]byte]*session{}, flash: map[[sha256.Size]byte]string{}}
}

func randomString() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("console: crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// csrfOf is the CSRF token of session id: derived from the id, so that a
// stored session needs no second secret and only the cookie's holder can
// know it.
func csrfOf(id string) string {
	sum := sha256.Sum256([]byte("vipgate console csrf\x00" + id))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// touchEvery is how stale a stored session's last use may get before a
// request writes it again (a write per page view is not worth it).
func (ss *sessions) touchEvery() time.Duration { return min(ss.idle/10, time.Minute) }

// create starts a session for t and returns its cookie value.
func (ss *sessions) create(ctx context.Context, t *gate.Token, now time.Time) (string, *session, error) {
	id := randomString()
	s := &session{key: sha256.Sum256([]byte(id)), token: t, csrf: csrfOf(id), created: now, seen: now}
	if ss.store != nil {
		s.sessions = ss
		// Logins are rare: each one prunes the expired sessions.
		if _, err := ss.store.PruneConsoleSessions(ctx, now.Add(-ss.idle), now.Add(-ss.abs)); err != nil {
			return "", nil, err
		}
		if err := ss.store.CreateConsoleSession(ctx, &gate.ConsoleSession{Key: hex.EncodeToString(s.key[:]), TokenID: t.ID, CreatedAt: now, SeenAt: now}); err != nil {
			return "", nil, err
		}
		return id, s, nil
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if len(ss.m) >= maxSessions {
		ss.sweep(now)
	}
	if len(ss.m) >= maxSessions { // drop the oldest
		var oldest *session
		for _, o := range ss.m {
			if oldest == nil || o.created.Before(oldest.created) {
				oldest = o
			}
		}
		delete(ss.m, oldest.key)
	}
	ss.m[s.key] = s
	return id, s, nil
}

func (ss *sessions) sweep(now time.Time) {
	for k, s := range ss.m {
		if ss.expired(s, now) {
			delete(ss.m, k)
		}
	}
}

func (ss *sessions) expired(s *session, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return ss.expiredAt(s.created, s.seen, now)
}

func (ss *sessions) expiredAt(created, seen, now time.Time) bool {
	return now.Sub(seen) >= ss.idle || now.Sub(created) >= ss.abs || now.Before(created)
}

var errNoSession = errors.New("no session")

// get returns the live session of cookie value id and marks it used.
func (ss *sessions) get(ctx context.Context, id string, now time.Time) (*session, error) {
	key := sha256.Sum256([]byte(id))
	if ss.store != nil {
		return ss.getStored(ctx, id, key, now)
	}
	ss.mu.Lock()
	s := ss.m[key]
	if s != nil && ss.expired(s, now) {
		delete(ss.m, key)
		s = nil
	}
	ss.mu.Unlock()
	if s == nil {
		return nil, errNoSession
	}
	s.mu.Lock()
	s.seen = now
	s.mu.Unlock()
	return s, nil
}

func (ss *sessions) getStored(ctx context.Context, id string, key [sha256.Size]byte, now time.Time) (*session, error) {
	hk := hex.EncodeToString(key[:])
	cs, err := ss.store.GetConsoleSession(ctx, hk)
	if errors.Is(err, gate.ErrNotFound) {
		return nil, errNoSession
	}
	if err != nil {
		return nil, err
	}
	if ss.expiredAt(cs.CreatedAt, cs.SeenAt, now) {
		if err := ss.store.DeleteConsoleSession(ctx, hk); err != nil {
			return nil, err
		}
		return nil, errNoSession
	}
	if now.Sub(cs.SeenAt) >= ss.touchEvery() {
		if err := ss.store.TouchConsoleSession(ctx, hk, now); errors.Is(err, gate.ErrNotFound) {
			return nil, errNoSession
		} else if err != nil {
			return nil, err
		}
	}
	s := &session{key: key, token: &gate.Token{ID: cs.TokenID}, csrf: csrfOf(id), created: cs.CreatedAt, seen: now, sessions: ss}
	return s, nil
}

func (ss *sessions) drop(ctx context.Context, s *session) error {
	ss.mu.Lock()
	delete(ss.m, s.key)
	delete(ss.flash, s.key)
	ss.mu.Unlock()
	if ss.store != nil {
		return ss.store.DeleteConsoleSession(ctx, hex.EncodeToString(s.key[:]))
	}
	return nil
}

// dropToken ends every session of token id (the token was revoked). A
// stored session ends at its next request, when its token no longer
// authenticates.
func (ss *sessions) dropToken(id string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	for k, s := range ss.m {
		if s.token.ID == id {
			delete(ss.m, k)
		}
	}
}

func equal(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// cookie returns a console cookie: HttpOnly, SameSite=Strict, Secure under
// TLS (or when configured).
func (c *Console) cookie(r *http.Request, name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: c.secure || r.TLS != nil, MaxAge: maxAge}
}

// authed wraps a page handler: it requires a live session (else sends
// the browser to the login page) and, on every request that is not GET or
// HEAD, the session's CSRF token in the form.
func (c *Console) authed(h func(w http.ResponseWriter, r *http.Request, s *session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ck, err := r.Cookie(sessionCookie)
		var s *session
		if err == nil {
			s, err = c.sessions.get(r.Context(), ck.Value, c.now())
		}
		if err == nil {
			// The session lives as long as its token does.
			t, terr := c.api.Token(r.Context(), s.token.ID)
			if terr != nil {
				if derr := c.sessions.drop(r.Context(), s); derr != nil {
					c.log.Warn("console: drop session", "err", derr)
				}
				err = terr
			} else {
				s.token = t
			}
		}
		if err != nil {
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				http.Redirect(w, r, "/login", http.StatusSeeOther)
				return
			}
			http.Error(w, translate(lang(r), "Your session has ended; log in again."), http.StatusUnauthorized)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if !equal(r.Header.Get("X-CSRF-Token"), s.csrf) && !equal(formValue(r, csrfField), s.csrf) {
				c.log.Warn("console: request without a valid CSRF token refused", "method", r.Method, "path", r.URL.Path, "token", s.token.ID)
				http.Error(w, translate(lang(r), "The form was stale or forged (no valid CSRF token); reload the page and try again."), http.StatusForbidden)
				return
			}
		}
		h(w, r, s)
	}
}

// formValue reads a form field of a urlencoded or multipart body.
func formValue(r *http.Request, name string) string {
	if r.MultipartForm == nil && r.PostForm == nil {
		_ = r.ParseMultipartForm(maxUpload)
	}
	return r.FormValue(name)
}
