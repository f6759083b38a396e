package admin

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/vipgate/vipgate/events"
	"github.com/vipgate/vipgate/gate"
)

// Size limits of request bodies.
const (
	// DefaultMaxBody bounds JSON request bodies when Deps.MaxBody is 0.
	DefaultMaxBody = 1 << 20
	// MaxPromptBytes bounds an uploaded prompt (WAV).
	MaxPromptBytes = 5 << 20
	// MaxImportBytes bounds a bulk import of PIN entries (CSV or JSON).
	MaxImportBytes = 64 << 20
)

// Deps is what the admin API needs.
type Deps struct {
	// Store keeps everything; required. Changes made through the API go
	// to the store and so apply to the next call without a restart.
	Store gate.Store
	// Engine answers /api/v1/explain; nil disables it (503).
	Engine *gate.Engine
	// Hasher hashes PINs written through the API; required.
	Hasher *gate.Hasher
	// Metrics is served on /metrics; nil means a fresh, unconnected
	// registry.
	Metrics *Metrics
	// Region is the default region ("DE") for normalising numbers of gates
	// that set none.
	Region string
	// Ready reports whether the call sources (ARI, AGI) are connected;
	// nil means always ready. /readyz calls it with Store.Ping.
	Ready func(ctx context.Context) error
	// Calendars reports the gates' iCalendar calendars; /readyz lists the
	// failing ones (informational: their last good copy is used, so they
	// do not make the instance unready). nil: none.
	Calendars func() []CalendarStatus
	// Logger, nil means discard.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// MaxBody bounds JSON request bodies in bytes; 0 means DefaultMaxBody.
	MaxBody int64
	// MaxImport bounds bulk imports of PIN entries in bytes; 0 means
	// MaxImportBytes.
	MaxImport int64
	// TokenCacheTTL is how long the snapshot of token records is used
	// before it is read from the store again; 0 means DefaultTokenCacheTTL, a
	// negative value disables the cache. A token revoked through this
	// server is refused at once; one revoked elsewhere (the CLI, another
	// instance) within the TTL.
	TokenCacheTTL time.Duration
	// AuthFailureBurst is how many failed authentications one client
	// address may make in a row; 0 means DefaultAuthFailureBurst, a
	// negative value disables the limit. AuthFailureRefill is the time
	// after which one more is allowed; 0 means DefaultAuthFailureRefill.
	AuthFailureBurst  int
	AuthFailureRefill time.Duration
	// Events is the hub GET /api/v1/events streams; nil answers 503.
	// EventKeepalive and EventWriteTimeout tune the stream; 0 means
	// DefaultEventKeepalive and DefaultEventWriteTimeout.
	Events            *events.Hub
	EventKeepalive    time.Duration
	EventWriteTimeout time.Duration
}

// DefaultTokenCacheTTL is the default Deps.TokenCacheTTL.
const DefaultTokenCacheTTL = time.Second

type server struct {
	store   gate.Store
	engine  *gate.Engine
	hasher  *gate.Hasher
	metrics *Metrics
	region  string
	ready   func(ctx context.Context) error
	cals    func() []CalendarStatus
	log     *slog.Logger
	now     func() time.Time
	maxBody int64
	maxImp  int64
	tokens  *tokenCache
	started time.Time

	events     *events.Hub
	eventKeep  time.Duration
	eventWrite time.Duration

	authLimit *authLimiter
}

// NewServer returns the admin API handler. See routes.go for the API.
func NewServer(d Deps) http.Handler { return New(d).h }

func newServer(d Deps) *server {
	s := &server{
		store:   gate.Audited(d.Store, ""),
		engine:  d.Engine,
		hasher:  d.Hasher,
		metrics: d.Metrics,
		region:  d.Region,
		ready:   d.Ready,
		cals:    d.Calendars,
		log:     d.Logger,
		now:     d.Now,
		maxBody: d.MaxBody,
		maxImp:  d.MaxImport,

		events:     d.Events,
		eventKeep:  cmp.Or(d.EventKeepalive, DefaultEventKeepalive),
		eventWrite: cmp.Or(d.EventWriteTimeout, DefaultEventWriteTimeout),
	}
	if s.maxImp <= 0 {
		s.maxImp = MaxImportBytes
	}
	switch {
	case d.TokenCacheTTL == 0:
		s.tokens = newTokenCache(DefaultTokenCacheTTL)
	case d.TokenCacheTTL > 0:
		s.tokens = newTokenCache(d.TokenCacheTTL)
	}
	if d.AuthFailureBurst >= 0 {
		burst, refill := d.AuthFailureBurst, d.AuthFailureRefill
		if burst == 0 {
			burst = DefaultAuthFailureBurst
		}
		if refill <= 0 {
			refill = DefaultAuthFailureRefill
		}
		s.authLimit = newAuthLimiter(burst, refill)
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.started = s.now()
	if s.maxBody <= 0 {
		s.maxBody = DefaultMaxBody
	}
	if s.metrics == nil {
		s.metrics = NewMetrics()
	}
	return s
}

func urlParam(r *http.Request, name string) string { return chi.URLParam(r, name) }

// gateAndID reads the gate the URL names and the numeric ID the URL names
// at name (an entry, a grant of that gate): anything but a whole number
// from 1 up is not found.
func (s *server) gateAndID(r *http.Request, name string) (*gate.Gate, int64, error) {
	g, err := s.gate(r)
	if err != nil {
		return nil, 0, err
	}
	id, err := strconv.ParseInt(urlParam(r, name), 10, 64)
	if err != nil || id < 1 {
		return nil, 0, fmt.Errorf("%s %q: %w", name, urlParam(r, name), gate.ErrNotFound)
	}
	return g, id, nil
}

// page reads offset and limit (default 100, at most 1000).
func page(r *http.Request) (offset, limit int, err error) {
	var errs gate.ValidationErrors
	q := r.URL.Query()
	offset, limit = 0, 100
	if v := q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			errs = append(errs, &gate.ValidationError{Field: "offset", Problem: "must be a number >= 0"})
		}
		offset = n
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			errs = append(errs, &gate.ValidationError{Field: "limit", Problem: "must be a number from 1 to 1000"})
		}
		limit = n
	}
	return offset, limit, errs.Err()
}

// pageOut is a page of items with the total that match.
type pageOut[T any] struct {
	Items  []T `json:"items"`
	Total  int `json:"total"`
	Offset int `json:"offset"`
	Limit  int `json:"limit"`
}

// newPage is the page of items, each shown as out shows it.
func newPage[T, O any](items []T, total, offset, limit int, out func(T) O) pageOut[O] {
	p := pageOut[O]{Items: make([]O, 0, len(items)), Total: total, Offset: offset, Limit: limit}
	for _, it := range items {
		p.Items = append(p.Items, out(it))
	}
	return p
}
