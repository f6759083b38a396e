package admin

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/vipgate/vipgate/gate"
)

// Token format: "vg_<id>_<secret>". The id is 12 lower-case base32
// characters (no '_'), the secret 32 random bytes in unpadded base64url.
// Only SHA-256 of the whole token is stored.
const (
	tokenPrefix    = "vg_"
	tokenIDLen     = 12
	tokenSecretLen = 32
)

var tokenIDEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// NewToken returns a new API token for role: the clear token, to be shown
// once to whoever asked for it, and the gate.Token to store (which holds
// only the token's SHA-256). CreatedAt is left for the caller to set.
func NewToken(role gate.Role, name string) (string, *gate.Token, error) {
	if !validRole(role) {
		return "", nil, fmt.Errorf("admin: new token: unknown role %q (want admin, operator or viewer)", role)
	}
	idb := make([]byte, 10)
	sec := make([]byte, tokenSecretLen)
	if _, err := rand.Read(idb); err != nil {
		return "", nil, fmt.Errorf("admin: new token: %w", err)
	}
	if _, err := rand.Read(sec); err != nil {
		return "", nil, fmt.Errorf("admin: new token: %w", err)
	}
	id := tokenIDEncoding.EncodeToString(idb)[:tokenIDLen]
	clear := tokenPrefix + id + "_" + base64.RawURLEncoding.EncodeToString(sec)
	sum := sha256.Sum256([]byte(clear))
	return clear, &gate.Token{ID: id, Name: name, Role: role, Hash: sum[:]}, nil
}

func validRole(r gate.Role) bool {
	return r == gate.RoleViewer || r == gate.RoleOperator || r == gate.RoleAdmin
}

// rank orders roles; an unknown role ranks below viewer.
func rank(r gate.Role) int {
	switch r {
	case gate.RoleViewer:
		return 1
	case gate.RoleOperator:
		return 2
	case gate.RoleAdmin:
		return 3
	}
	return 0
}

// parseToken splits a clear token into its id; ok is false when the token
// is not of vipgate's form.
func parseToken(tok string) (id string, ok bool) {
	rest, ok := strings.CutPrefix(tok, tokenPrefix)
	if !ok {
		return "", false
	}
	id, secret, ok := strings.Cut(rest, "_")
	if !ok || len(id) < 8 || len(id) > 64 || len(secret) < 16 || len(secret) > 128 {
		return "", false
	}
	return id, true
}

// dummyHash is compared against when a token's id is unknown, so that
// unknown and known ids take the same time.
var dummyHash = sha256.Sum256([]byte("vg_dummytoken_vipgate"))

// errUnauthenticated means no valid token was presented.
var errUnauthenticated = errors.New("missing, malformed, unknown or revoked bearer token")

// checkToken returns the token presented as clear, or errUnauthenticated.
// Store failures other than ErrNotFound are returned as they are.
func (s *server) checkToken(ctx context.Context, clear string) (*gate.Token, error) {
	sum := sha256.Sum256([]byte(clear))
	id, ok := parseToken(clear)
	var t *gate.Token
	if ok {
		var err error
		t, err = s.getToken(ctx, id)
		if err != nil && !errors.Is(err, gate.ErrNotFound) {
			return nil, fmt.Errorf("admin: check token: %w", err)
		}
	}
	want := dummyHash[:]
	if t != nil && len(t.Hash) == sha256.Size {
		want = t.Hash
	}
	match := subtle.ConstantTimeCompare(sum[:], want) == 1
	if t == nil || !match || !t.RevokedAt.IsZero() {
		return nil, errUnauthenticated
	}
	return t, nil
}

// getToken reads a token record through the cache.
func (s *server) getToken(ctx context.Context, id string) (*gate.Token, error) {
	if s.tokens == nil {
		return s.store.GetToken(ctx, id)
	}
	if t, ok := s.tokens.get(id, s.now()); ok {
		return t, nil
	}
	t, err := s.store.GetToken(ctx, id)
	if err == nil {
		s.tokens.put(t, s.now())
	}
	return t, err
}

// tokenCache keeps token records that were read from the store for a
// short time. It holds only records (hashes, roles, revocation times),
// never a clear token, and only records that exist, so unknown ids cannot
// fill it.
type tokenCache struct {
	ttl time.Duration
	mu  sync.Mutex
	m   map[string]cachedToken
}

type cachedToken struct {
	t  *gate.Token
	at time.Time
}

// maxCachedTokens bounds the cache; it is cleared when full.
const maxCachedTokens = 4096

func newTokenCache(ttl time.Duration) *tokenCache {
	return &tokenCache{ttl: ttl, m: map[string]cachedToken{}}
}

func (c *tokenCache) get(id string, now time.Time) (*gate.Token, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[id]
	if !ok || now.Sub(e.at) >= c.ttl || now.Before(e.at) {
		return nil, false
	}
	return e.t, true
}

func (c *tokenCache) put(t *gate.Token, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= maxCachedTokens {
		clear(c.m)
	}
	c.m[t.ID] = cachedToken{t: t, at: now}
}

func (c *tokenCache) forget(id string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, id)
}

type ctxKey int

const tokenKey ctxKey = 1

// tokenFrom returns the token that authenticated the request.
func tokenFrom(ctx context.Context) *gate.Token {
	t, _ := ctx.Value(tokenKey).(*gate.Token)
	return t
}

// authenticate requires a valid bearer token.
func (s *server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Get("Authorization")
		scheme, clear, _ := strings.Cut(h, " ")
		if !strings.EqualFold(scheme, "Bearer") || clear == "" {
			unauthorized(w, "send Authorization: Bearer <token>")
			return
		}
		t, err := s.checkToken(r.Context(), strings.TrimSpace(clear))
		if errors.Is(err, errUnauthenticated) {
			unauthorized(w, err.Error())
			return
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), tokenKey, t)))
	})
}

func unauthorized(w http.ResponseWriter, detail string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="vipgate"`)
	writeProblem(w, Problem{Type: problemBlank, Title: http.StatusText(http.StatusUnauthorized), Status: http.StatusUnauthorized, Detail: detail})
}

// require lets requests through whose token has at least role.
func require(role gate.Role) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			t := tokenFrom(r.Context())
			if t == nil || rank(t.Role) < rank(role) {
				have := gate.Role("none")
				if t != nil {
					have = t.Role
				}
				writeProblem(w, Problem{Type: problemBlank, Title: http.StatusText(http.StatusForbidden), Status: http.StatusForbidden,
					Detail: fmt.Sprintf("this needs the %s role; the token has %s", role, have)})
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// tokenOut is a token as the API shows it: never its hash.
type tokenOut struct {
	ID        string    `json:"id"`
	Name      string    `json:"name,omitempty"`
	Role      gate.Role `json:"role"`
	CreatedAt time.Time `json:"created_at"`
	RevokedAt time.Time `json:"revoked_at,omitzero"`
}

func (s *server) listTokens(w http.ResponseWriter, r *http.Request) {
	ts, err := s.store.ListTokens(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]tokenOut, 0, len(ts))
	for _, t := range ts {
		out = append(out, tokenOut{ID: t.ID, Name: t.Name, Role: t.Role, CreatedAt: t.CreatedAt, RevokedAt: t.RevokedAt})
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": out})
}

func (s *server) revokeToken(w http.ResponseWriter, r *http.Request) {
	id := urlParam(r, "token")
	if _, err := s.store.GetToken(r.Context(), id); err != nil {
		s.writeError(w, r, fmt.Errorf("token %q: %w", id, err))
		return
	}
	if err := s.store.RevokeToken(r.Context(), id, s.now()); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.tokens.forget(id)
	w.WriteHeader(http.StatusNoContent)
}
