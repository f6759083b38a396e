package admin

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/vipgate/vipgate/gate"
)

// statusBook is what Metrics remembers for /api/v1/status beyond its
// Prometheus series: the calls since start by kind, the time vipgate last
// let go of a call and the state of each call source. Safe for concurrent
// use.
type statusBook struct {
	mu          sync.Mutex
	inFlight    int64
	calls       int64
	failed      int64
	lockouts    int64
	pinFailures int64
	last        time.Time
	sources     map[sourceKey]bool
}

type sourceKey struct{ source, server string }

func (b *statusBook) callStarted() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.inFlight++
}

// callFinished counts a finished call; r is nil for a call that left no
// record.
func (b *statusBook) callFinished(r *gate.CallRecord) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.inFlight--
	if r == nil {
		return
	}
	b.calls++
	switch r.Outcome {
	case gate.OutcomeFailed:
		b.failed++
	case gate.OutcomeLockedOut:
		b.lockouts++
	}
	b.pinFailures += int64(failedAttempts(r))
	if end := r.At.Add(r.Duration); end.After(b.last) {
		b.last = end
	}
}

func (b *statusBook) sourceState(source, server string, up bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.sources == nil {
		b.sources = map[sourceKey]bool{}
	}
	b.sources[sourceKey{source, server}] = up
}

// StatusCounts counts calls by kind.
type StatusCounts struct {
	// Calls is every call vipgate let go of.
	Calls int64 `json:"calls"`
	// Failed is the calls whose decision failed (store down, webhook
	// failing, ...) and that the failure policy routed.
	Failed int64 `json:"failed"`
	// Lockouts is the calls refused by a lockout.
	Lockouts int64 `json:"lockouts"`
	// PINFailures is the wrong PINs typed.
	PINFailures int64 `json:"pin_failures"`
}

// StatusSource is the state of one call source.
type StatusSource struct {
	Source string `json:"source"` // "ari" or "agi"
	Server string `json:"server"`
	Up     bool   `json:"up"`
}

// StatusWindow is the call log's counts over the last Seconds.
type StatusWindow struct {
	Seconds  float64 `json:"seconds"`
	Calls    int64   `json:"calls"`
	Failed   int64   `json:"failed"`
	Lockouts int64   `json:"lockouts"`
	// PINFailed is the calls in which every PIN typed was wrong.
	PINFailed int64 `json:"pin_failed"`
}

// Status is the answer of GET /api/v1/status: what a monitoring check
// ("vipgate check") needs in one request.
type Status struct {
	// Status is "ok" when the store answers and every call source is
	// connected, else "degraded".
	Status string    `json:"status"`
	Time   time.Time `json:"time"`
	// StartedAt is when this instance's admin API started.
	StartedAt time.Time `json:"started_at"`
	// Store is "ok", "unreachable" or "unavailable: <reason>".
	Store   string         `json:"store"`
	Sources []StatusSource `json:"sources"`
	// SinceStart counts this instance's calls since it started.
	SinceStart StatusCounts `json:"since_start"`
	// Window counts the call log's rows (of every instance that shares
	// the store) in the last window; absent when the store could not be
	// read.
	Window *StatusWindow `json:"window,omitempty"`
	// InFlight is the calls this instance is handling now.
	InFlight int64 `json:"in_flight"`
	// LastDecisionAt is when this instance last let go of a call; absent
	// when it has had no call since it started.
	LastDecisionAt *time.Time `json:"last_decision_at,omitempty"`
	// LastDecisionAgeSeconds is the time since LastDecisionAt, or since
	// StartedAt when there was no call.
	LastDecisionAgeSeconds float64 `json:"last_decision_age_seconds"`
}

// DefaultStatusWindow is the window of GET /api/v1/status without ?window.
const DefaultStatusWindow = 15 * time.Minute

// maxStatusWindow bounds ?window.
const maxStatusWindow = 7 * 24 * time.Hour

// status answers GET /api/v1/status?window=15m.
func (s *server) status(w http.ResponseWriter, r *http.Request) {
	window := DefaultStatusWindow
	if v := r.URL.Query().Get("window"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Second || d > maxStatusWindow {
			s.writeError(w, r, invalid("window", "must be a duration from 1s to 168h, such as 15m"))
			return
		}
		window = d
	}
	now := s.now()
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	st := Status{Status: "ok", Time: now.UTC(), StartedAt: s.started.UTC(), Store: "ok", Sources: []StatusSource{}}
	if err := s.store.Ping(ctx); err != nil {
		s.log.Warn("admin: status: store", "err", err)
		st.Store = "unreachable"
		var fault *gate.StoreFault
		if errors.As(err, &fault) {
			st.Store = "unavailable: " + fault.Reason
		}
		st.Status = "degraded"
	}
	b := &s.metrics.status
	b.mu.Lock()
	st.SinceStart = StatusCounts{Calls: b.calls, Failed: b.failed, Lockouts: b.lockouts, PINFailures: b.pinFailures}
	last := b.last
	for k, up := range b.sources {
		st.Sources = append(st.Sources, StatusSource{Source: k.source, Server: k.server, Up: up})
		if !up {
			st.Status = "degraded"
		}
	}
	st.InFlight = b.inFlight
	b.mu.Unlock()
	slices.SortFunc(st.Sources, func(a, b StatusSource) int {
		return cmp.Or(cmp.Compare(a.Source, b.Source), cmp.Compare(a.Server, b.Server))
	})
	if !last.IsZero() {
		l := last.UTC()
		st.LastDecisionAt = &l
		st.LastDecisionAgeSeconds = max(now.Sub(last), 0).Seconds()
	} else {
		st.LastDecisionAgeSeconds = max(now.Sub(s.started), 0).Seconds()
	}
	if st.Store == "ok" {
		win, err := s.windowCounts(ctx, now, window)
		if err != nil {
			s.log.Warn("admin: status: call log", "err", err)
		} else {
			st.Window = win
		}
	}
	writeJSON(w, http.StatusOK, st)
}

// windowCounts counts the call log's rows in [now-window, now].
func (s *server) windowCounts(ctx context.Context, now time.Time, window time.Duration) (*StatusWindow, error) {
	count := func(o gate.Outcome) (int64, error) {
		_, n, err := s.store.ListCalls(ctx, gate.CallFilter{From: now.Add(-window), To: now.Add(time.Nanosecond), Outcome: o, Limit: 1})
		if err != nil {
			return 0, fmt.Errorf("count calls: %w", err)
		}
		return int64(n), nil
	}
	win := &StatusWindow{Seconds: window.Seconds()}
	var err error
	if win.Calls, err = count(""); err != nil {
		return nil, err
	}
	if win.Failed, err = count(gate.OutcomeFailed); err != nil {
		return nil, err
	}
	if win.Lockouts, err = count(gate.OutcomeLockedOut); err != nil {
		return nil, err
	}
	if win.PINFailed, err = count(gate.OutcomePINFailed); err != nil {
		return nil, err
	}
	return win, nil
}
