package admin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/vipgate/vipgate/gate"
)

// healthz answers 200 while the process serves HTTP.
func (s *server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers 200 when the store answers a ping and the call sources
// are connected, else 503 saying which check failed; a store failure that
// carries a public reason (gate.StoreFault: "database file deleted") is
// shown with it, any other as "unreachable".
func (s *server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	checks := map[string]string{"store": "ok", "sources": "ok"}
	failed := false
	if err := s.store.Ping(ctx); err != nil {
		s.log.Warn("admin: readiness: store", "err", err)
		checks["store"] = "unreachable"
		var fault *gate.StoreFault
		if errors.As(err, &fault) {
			checks["store"] = "unavailable: " + fault.Reason
		}
		failed = true
	}
	if s.ready != nil {
		if err := s.ready(ctx); err != nil {
			s.log.Warn("admin: readiness: sources", "err", err)
			checks["sources"] = fmt.Sprintf("not ready: %v", err)
			failed = true
		}
	}
	if s.cals != nil {
		checks["calendars"] = calendarCheck(s.cals())
	}
	if failed {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "unavailable", "checks": checks})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "checks": checks})
}

// Readiness tracks whether each call source is connected; its Check is
// what cmd/vipgate gives Deps.Ready. A source is known by one name, used
// both to register it (Set(name, false) before it starts) and to report its
// state: for ARI "ari " plus the name ari.App.ServerNames and OnState use.
// The zero value is ready to use and, with no source, ready.
type Readiness struct {
	mu sync.Mutex
	up map[string]bool
}

// Set records whether the source called name is connected.
func (r *Readiness) Set(name string, up bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.up == nil {
		r.up = map[string]bool{}
	}
	r.up[name] = up
}

// Check returns an error naming every source that is not connected, in
// name order, or nil when all are.
func (r *Readiness) Check(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var down []string
	for n, up := range r.up {
		if !up {
			down = append(down, n)
		}
	}
	if len(down) > 0 {
		slices.Sort(down)
		return fmt.Errorf("not connected: %s", strings.Join(down, ", "))
	}
	return nil
}

func (s *server) notFound(w http.ResponseWriter, r *http.Request) {
	writeProblem(w, Problem{Type: problemBlank, Title: http.StatusText(http.StatusNotFound), Status: http.StatusNotFound,
		Detail: fmt.Sprintf("no such resource: %s", r.URL.Path)})
}

func (s *server) methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	writeProblem(w, Problem{Type: problemBlank, Title: http.StatusText(http.StatusMethodNotAllowed), Status: http.StatusMethodNotAllowed,
		Detail: fmt.Sprintf("%s is not allowed on %s", r.Method, r.URL.Path)})
}

// accessLog logs each request at Debug level: method, route pattern (not
// the query, which may hold caller numbers), status and duration.
func (s *server) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.log.Enabled(r.Context(), slog.LevelDebug) {
			next.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		next.ServeHTTP(ww, r)
		route := r.URL.Path
		if rc := chi.RouteContext(r.Context()); rc != nil && rc.RoutePattern() != "" {
			route = rc.RoutePattern()
		}
		s.log.Debug("admin: request", "method", r.Method, "route", route, "status", ww.Status(),
			"bytes", ww.BytesWritten(), "duration", time.Since(start))
	})
}

// States returns a copy of every source's state, by name.
func (r *Readiness) States() map[string]bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]bool, len(r.up))
	for n, up := range r.up {
		out[n] = up
	}
	return out
}

// calendarCheck is the readiness line of the calendars: "ok", or the
// failing ones ("failing (last good copy used): hotline https://host/…").
func calendarCheck(st []CalendarStatus) string {
	var bad []string
	for _, c := range st {
		if c.Problem != "" {
			bad = append(bad, c.GateID+" "+c.Calendar)
		}
	}
	if len(bad) == 0 {
		return "ok"
	}
	slices.Sort(bad)
	return "failing (last good copy used): " + strings.Join(bad, ", ")
}
