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
	"math"
	"net/http"
	"strconv"
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
var errUnauthenticated = errors.New("missing, malformed, unknown, revoked or expired bearer token")

// checkToken returns the token presented as clear, or errUnauthenticated.
// Store failures other than ErrNotFound are returned as they are. It
// takes the same time whether the token's id exists or not: both are
// answered from the same token snapshot (or both from the store when the
// cache is off), and an unknown id is compared against a dummy hash.
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
	if t.Expired(s.now()) {
		return nil, fmt.Errorf("%w: token %s expired at %s", errUnauthenticated, t.ID, t.ExpiresAt.UTC().Format(time.RFC3339))
	}
	return t, nil
}

// getToken reads a token record through the cache.
func (s *server) getToken(ctx context.Context, id string) (*gate.Token, error) {
	if s.tokens == nil {
		return s.store.GetToken(ctx, id)
	}
	return s.tokens.get(ctx, s.store, id, s.now())
}

// tokenCache is a snapshot of every token record (hashes, roles,
// revocation and expiry times, never a clear token), read from the store
// at most once per TTL. Known and unknown ids are answered from the same
// map, so the time of an answer does not tell whether an id exists, and
// guessed ids cause no store reads.
type tokenCache struct {
	ttl time.Duration

	mu sync.Mutex // held while the snapshot loads: one load at a time
	m  map[string]*gate.Token
	at time.Time
	ok bool
}

func newTokenCache(ttl time.Duration) *tokenCache {
	return &tokenCache{ttl: ttl}
}

func (c *tokenCache) get(ctx context.Context, st gate.TokenStore, id string, now time.Time) (*gate.Token, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.ok || now.Sub(c.at) >= c.ttl || now.Before(c.at) {
		list, err := st.ListTokens(ctx)
		if err != nil {
			return nil, err
		}
		m := make(map[string]*gate.Token, len(list))
		for _, t := range list {
			m[t.ID] = t
		}
		c.m, c.at, c.ok = m, now, true
	}
	t, found := c.m[id]
	if !found {
		return nil, gate.ErrNotFound
	}
	return t, nil
}

// forget drops the snapshot, so that a token revoked through this server
// is refused at once.
func (c *tokenCache) forget(id string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ok, c.m = false, nil
}

type ctxKey int

const tokenKey ctxKey = 1

// tokenFrom returns the token that authenticated the request.
func tokenFrom(ctx context.Context) *gate.Token {
	t, _ := ctx.Value(tokenKey).(*gate.Token)
	return t
}

// authenticate requires a valid bearer token. A client address that has
// failed too often is answered 429 until its bucket refills (see
// authLimiter), whatever token it sends.
func (s *server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if t := inProcessToken(r.Context()); t != nil {
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), tokenKey, t)))
			return
		}
		client := clientKey(r.RemoteAddr)
		if d := s.authLimit.wait(client, s.now()); d > 0 {
			s.metrics.authFailures.WithLabelValues("rate_limited").Inc()
			secs := int64(math.Ceil(d.Seconds()))
			w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
			writeProblem(w, Problem{Type: problemBlank, Title: http.StatusText(http.StatusTooManyRequests), Status: http.StatusTooManyRequests,
				Detail: fmt.Sprintf("too many failed authentications from this address; retry in %d s", secs)})
			return
		}
		fail := func(detail string) {
			s.metrics.authFailures.WithLabelValues("unauthorized").Inc()
			if s.authLimit.fail(client, s.now()) {
				s.log.Warn("admin: authentication rate-limited: too many failed attempts", "client", client)
			}
			unauthorized(w, detail)
		}
		h := r.Header.Get("Authorization")
		scheme, clear, _ := strings.Cut(h, " ")
		if !strings.EqualFold(scheme, "Bearer") || clear == "" {
			fail("send Authorization: Bearer <token>")
			return
		}
		t, err := s.checkToken(r.Context(), strings.TrimSpace(clear))
		if errors.Is(err, errUnauthenticated) {
			fail(err.Error())
			return
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		ctx := context.WithValue(r.Context(), tokenKey, t)
		next.ServeHTTP(w, r.WithContext(gate.WithActor(ctx, tokenActor(t))))
	})
}

// tokenActor names a token in the audit log: "token:<id> (<name>)".
func tokenActor(t *gate.Token) string {
	if t.Name == "" {
		return "token:" + t.ID
	}
	return "token:" + t.ID + " (" + t.Name + ")"
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
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

func (s *server) listTokens(w http.ResponseWriter, r *http.Request) {
	ts, err := s.store.ListTokens(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]tokenOut, 0, len(ts))
	for _, t := range ts {
		out = append(out, tokenOut{ID: t.ID, Name: t.Name, Role: t.Role, CreatedAt: t.CreatedAt, RevokedAt: t.RevokedAt, ExpiresAt: t.ExpiresAt})
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
