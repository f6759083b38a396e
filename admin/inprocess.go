package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/vipgate/vipgate/gate"
)

// API is the admin API with the entry points an in-process front end (the
// web console) needs besides HTTP: an interactive login and requests made
// on behalf of a logged-in token. Both go through the same token check,
// failed-authentication limiter, route table, role checks, validation and
// store code as bearer requests.
type API struct {
	s *server
	h http.Handler
}

// New returns the admin API; NewServer(d) is New(d) as an http.Handler.
func New(d Deps) *API {
	s := newServer(d)
	return &API{s: s, h: s.routes()}
}

// ServeHTTP serves the HTTP API.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.h.ServeHTTP(w, r) }

// ErrLoginRefused means the token presented to Login is missing,
// malformed, unknown, revoked or expired.
var ErrLoginRefused = errUnauthenticated

// RateLimitedError means the client address failed too often; it may try
// again after Retry.
type RateLimitedError struct{ Retry time.Duration }

func (e *RateLimitedError) Error() string {
	return fmt.Sprintf("too many failed logins from this address; retry in %d s", int64((e.Retry+time.Second-1)/time.Second))
}

// Login checks a clear token typed into a login form by the client at
// remoteAddr: the bearer check with the same per-address limiter, metric
// and log line for failures. It returns the token record (never the clear
// token), ErrLoginRefused, a *RateLimitedError or a store error.
func (a *API) Login(ctx context.Context, remoteAddr, clear string) (*gate.Token, error) {
	s := a.s
	client := clientKey(remoteAddr)
	if d := s.authLimit.wait(client, s.now()); d > 0 {
		s.metrics.authFailures.WithLabelValues("rate_limited").Inc()
		s.log.Warn("admin: console login refused: rate-limited", "client", client)
		return nil, &RateLimitedError{Retry: d}
	}
	t, err := s.checkToken(ctx, clear)
	if errors.Is(err, errUnauthenticated) {
		s.metrics.authFailures.WithLabelValues("unauthorized").Inc()
		s.log.Warn("admin: console login failed", "client", client)
		if s.authLimit.fail(client, s.now()) {
			s.log.Warn("admin: authentication rate-limited: too many failed attempts", "client", client)
		}
		return nil, ErrLoginRefused
	}
	if err != nil {
		return nil, err
	}
	s.log.Info("admin: console login", "client", client, "token", t.ID, "role", string(t.Role))
	return t, nil
}

// Token returns the record of token id if it still authenticates (not
// revoked, not expired), else ErrLoginRefused: a session ends when its
// token does.
func (a *API) Token(ctx context.Context, id string) (*gate.Token, error) {
	t, err := a.s.getToken(ctx, id)
	if errors.Is(err, gate.ErrNotFound) {
		return nil, ErrLoginRefused
	}
	if err != nil {
		return nil, err
	}
	if !t.RevokedAt.IsZero() || t.Expired(a.s.now()) {
		return nil, ErrLoginRefused
	}
	return t, nil
}

type asKey struct{}

// Do serves r (an /api/v1 request) as token t, as if t had been sent as
// the bearer token: the route's role check, validation and answers are
// those of the HTTP API. t must come from Login or Token.
func (a *API) Do(w http.ResponseWriter, r *http.Request, t *gate.Token) {
	a.h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), asKey{}, t)))
}

// inProcessToken returns the token an in-process caller (Do) set; a
// remote client cannot set it.
func inProcessToken(ctx context.Context) *gate.Token {
	t, _ := ctx.Value(asKey{}).(*gate.Token)
	return t
}
