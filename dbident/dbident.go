package dbident

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/internal/answercache"
	"github.com/vipgate/vipgate/internal/breaker"
)

// Observer receives database identification metrics. Calls must not
// block. A nil Observer is allowed.
type Observer interface {
	// DatabaseRequest reports one lookup that was not answered from the
	// cache: its latency and error class ("" on success).
	DatabaseRequest(gateID string, latency time.Duration, errClass string)
	// DatabaseBreaker reports that the gate's breaker opened (open true)
	// or closed.
	DatabaseBreaker(gateID string, open bool)
	// DatabaseCache reports one cache lookup of a gate with a cache.
	DatabaseCache(gateID string, hit bool)
}

// Config wires an Authorizer. Every field is optional.
type Config struct {
	// Hasher checks the pin_hash column (vipgate's "v1$salt$sum" form,
	// keyed with this installation's key); nil makes a pin_hash answer
	// an "answer" error.
	Hasher *gate.Hasher
	// Logger receives breaker changes (Info) and per-lookup lines
	// (Debug); nil discards.
	Logger *slog.Logger
	// Observer receives metrics; nil drops them.
	Observer Observer
	// Now is the clock of the cache and the breaker; nil means time.Now.
	// Latency is always measured with the monotonic clock.
	Now func() time.Time
}

// Authorizer runs the database queries of database gates. It is safe for
// concurrent use; Close releases its pools.
type Authorizer struct {
	cfg Config
	log *slog.Logger
	obs Observer
	now func() time.Time

	mu      sync.Mutex
	states  map[string]*gateState // by gate ID
	closing sync.WaitGroup        // pools being closed
}

var _ gate.Authorizer = (*Authorizer)(nil)

// New returns an Authorizer.
func New(cfg Config) *Authorizer {
	a := &Authorizer{cfg: cfg, log: cfg.Logger, obs: cfg.Observer, now: cfg.Now, states: map[string]*gateState{}}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if a.obs == nil {
		a.obs = nopObserver{}
	}
	if a.now == nil {
		a.now = time.Now
	}
	return a
}

type nopObserver struct{}

func (nopObserver) DatabaseRequest(string, time.Duration, string) {}
func (nopObserver) DatabaseBreaker(string, bool)                  {}
func (nopObserver) DatabaseCache(string, bool)                    {}

// cacheKey keys cached answers: every number the query may see.
type cacheKey struct{ callerE164, caller, called string }

// gateState is what the Authorizer keeps per gate and database
// configuration.
type gateState struct {
	cfg     gate.DatabaseConfig
	query   gate.DatabaseQuery
	timeout time.Duration
	pool    *pgxpool.Pool
	breaker *breaker.Breaker
	cache   *answercache.Cache[cacheKey] // nil without CacheTTL
	secrets []string                     // cut out of every error text
}

// Close closes every pool and waits for them to be closed.
func (a *Authorizer) Close() {
	a.mu.Lock()
	states := a.states
	a.states = map[string]*gateState{}
	a.mu.Unlock()
	for _, st := range states {
		st.pool.Close()
	}
	a.closing.Wait()
}

// state returns the state of g's current database configuration,
// building it on first use and replacing it when the configuration
// changed.
func (a *Authorizer) state(g *gate.Gate) (*gateState, *Error) {
	dc := g.Identification.Database
	a.mu.Lock()
	defer a.mu.Unlock()
	old := a.states[g.ID]
	if old != nil && old.cfg == *dc {
		return old, nil
	}
	st, err := newState(dc)
	if err != nil {
		return nil, err
	}
	a.states[g.ID] = st
	if old != nil {
		// Close waits for the queries in flight; the call that changed
		// the state does not.
		a.closing.Go(old.pool.Close)
		if old.breaker.Open() {
			a.obs.DatabaseBreaker(g.ID, false)
		}
		a.log.Debug("database configuration changed", gate.LogGate, g.ID)
	}
	return st, nil
}

func newState(dc *gate.DatabaseConfig) (*gateState, *Error) {
	secrets := dsnSecrets(dc.DSN)
	if strings.TrimSpace(dc.DSN) == "" {
		return nil, &Error{Class: ClassConfig, Op: "configure", Err: errors.New("no DSN")}
	}
	q, err := gate.ParseDatabaseQuery(dc.Query)
	if err != nil {
		return nil, &Error{Class: ClassConfig, Op: "configure", Err: fmt.Errorf("query %w", err)}
	}
	timeout := dc.Timeout.D()
	if timeout <= 0 {
		timeout = gate.DefaultDatabaseTimeout
	}
	timeout = min(timeout, gate.MaxDatabaseTimeout)
	pc, err := pgxpool.ParseConfig(dc.DSN)
	if err != nil {
		return nil, &Error{Class: ClassConfig, Op: "configure", Err: scrub(fmt.Errorf("DSN: %w", err), secrets)}
	}
	if p := pc.ConnConfig.Password; p != "" {
		secrets = append(secrets, p)
	}
	n := dc.MaxConns
	if n <= 0 {
		n = gate.DefaultDatabaseMaxConns
	}
	pc.MaxConns = int32(min(n, gate.MaxDatabaseMaxConns))
	pc.MinConns = 0
	pc.MaxConnIdleTime = time.Minute
	pc.ConnConfig.ConnectTimeout = timeout
	rp := pc.ConnConfig.RuntimeParams
	rp["statement_timeout"] = strconv.FormatInt(timeout.Milliseconds(), 10)
	rp["default_transaction_read_only"] = "on"
	if rp["application_name"] == "" {
		rp["application_name"] = "vipgate"
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), pc)
	if err != nil {
		return nil, &Error{Class: ClassConfig, Op: "configure", Err: scrub(err, secrets)}
	}
	st := &gateState{cfg: *dc, query: q, timeout: timeout, pool: pool, secrets: secrets,
		breaker: breaker.New(dc.BreakerFailures, dc.BreakerCooldown.D())}
	if ttl := dc.CacheTTL.D(); ttl > 0 {
		st.cache = answercache.New[cacheKey](ttl, answercache.DefaultSize)
	}
	return st, nil
}

// Authorize runs g's query for the call in req. It blocks for at most
// the gate's timeout (default 3s, at most 15s) or until ctx is done.
//
// A successful answer is served from the cache when the gate has one. The
// returned answer carries the latency even with an error. Errors are
// *Error; their class says what failed.
func (a *Authorizer) Authorize(ctx context.Context, g *gate.Gate, req gate.AuthRequest) (gate.AuthAnswer, error) {
	start := time.Now()
	if g == nil || g.Identification.Database == nil {
		return gate.AuthAnswer{}, &Error{Class: ClassConfig, Op: "configure", Err: errors.New("gate has no database configuration")}
	}
	st, serr := a.state(g)
	if serr != nil {
		a.obs.DatabaseRequest(g.ID, time.Since(start), serr.Class)
		return gate.AuthAnswer{Latency: time.Since(start)}, serr
	}
	callerE164 := ""
	if req.CallerKnown {
		callerE164 = req.Caller
	}
	key := cacheKey{callerE164: callerE164, caller: req.CallerRaw, called: req.Called}
	if st.cache != nil {
		ans, ok := st.cache.Get(key, a.now())
		a.obs.DatabaseCache(g.ID, ok)
		if ok {
			ans.Cached = true
			ans.Latency = time.Since(start)
			a.log.Debug("database answer from cache", gate.LogGate, g.ID, gate.LogCall, req.CallID, "kind", ans.Kind)
			return ans, nil
		}
	}
	vals := map[string]string{
		gate.ParamCallerE164: key.callerE164,
		gate.ParamCaller:     key.caller,
		gate.ParamCalled:     key.called,
		gate.ParamGate:       g.ID,
	}
	ans, aerr := a.authorize(ctx, g.ID, st, vals)
	ans.Latency = time.Since(start)
	class := ""
	if aerr != nil {
		class = aerr.Class
	}
	a.obs.DatabaseRequest(g.ID, ans.Latency, class)
	a.log.Debug("database lookup", gate.LogGate, g.ID, gate.LogCall, req.CallID, "kind", ans.Kind, "class", class, "latency", ans.Latency)
	if aerr != nil {
		return gate.AuthAnswer{Latency: ans.Latency}, aerr
	}
	if st.cache != nil {
		st.cache.Put(key, ans, a.now())
	}
	return ans, nil
}

func (a *Authorizer) authorize(ctx context.Context, id string, st *gateState, vals map[string]string) (gate.AuthAnswer, *Error) {
	ok, trial := st.breaker.Allow(a.now())
	if !ok {
		return gate.AuthAnswer{}, &Error{Class: ClassBreakerOpen, Op: "query", Err: errors.New("circuit breaker open")}
	}
	ctx, cancel := context.WithTimeout(ctx, st.timeout)
	defer cancel()
	ans, e := a.lookup(ctx, st, vals)
	switch {
	case e == nil:
		if st.breaker.Success(trial) {
			a.log.Info("database circuit breaker closed", gate.LogGate, id)
			a.obs.DatabaseBreaker(id, false)
		}
	case e.Class == ClassCanceled:
		st.breaker.Release(trial)
	default:
		if st.breaker.Failure(a.now(), trial) {
			a.log.Info("database circuit breaker open", gate.LogGate, id, "cooldown", st.breaker.Cooldown(), "class", e.Class)
			a.obs.DatabaseBreaker(id, true)
		}
	}
	return ans, e
}

// lookup runs the query in a read-only transaction and reads its first
// row.
func (a *Authorizer) lookup(ctx context.Context, st *gateState, vals map[string]string) (gate.AuthAnswer, *Error) {
	tx, err := st.pool.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
	if err != nil {
		return gate.AuthAnswer{}, classify(ctx, "connect", err, st.secrets)
	}
	// Nothing was written: a rollback ends the transaction. Its error
	// does not change the answer.
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck
	rows, err := tx.Query(ctx, st.query.SQL, st.query.Args(vals)...)
	if err != nil {
		return gate.AuthAnswer{}, classify(ctx, "query", err, st.secrets)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return gate.AuthAnswer{}, classify(ctx, "query", err, st.secrets)
		}
		return gate.AuthAnswer{Kind: gate.AnswerUnknown}, nil
	}
	values, err := rows.Values()
	if err != nil {
		return gate.AuthAnswer{}, &Error{Class: ClassAnswer, Op: "read row", Err: scrub(err, st.secrets)}
	}
	names := make([]string, len(values))
	for i, f := range rows.FieldDescriptions() {
		names[i] = f.Name
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return gate.AuthAnswer{}, classify(ctx, "query", err, st.secrets)
	}
	ans, err := answer(names, values, a.cfg.Hasher)
	if err != nil {
		return gate.AuthAnswer{}, &Error{Class: ClassAnswer, Op: "read row", Err: err}
	}
	return ans, nil
}

// classify turns an error of pgx into an *Error: the caller's hang-up, a
// deadline or statement timeout, an SQL error the server sent, or a
// failure to reach it.
func classify(ctx context.Context, op string, err error, secrets []string) *Error {
	var pe *pgconn.PgError
	switch {
	case errors.Is(context.Cause(ctx), gate.ErrHangup) || errors.Is(ctx.Err(), context.Canceled):
		return &Error{Class: ClassCanceled, Op: op, Err: context.Cause(ctx)}
	case ctx.Err() != nil || pgconn.Timeout(err):
		return &Error{Class: ClassTimeout, Op: op, Err: gate.ErrTimeout}
	case errors.As(err, &pe) && pe.Code == "57014": // query_canceled: statement_timeout
		return &Error{Class: ClassTimeout, Op: op, Err: scrub(err, secrets)}
	case errors.As(err, &pe) && strings.HasPrefix(pe.Code, "28"): // invalid authorization
		return &Error{Class: ClassNetwork, Op: op, Err: scrub(err, secrets)}
	case errors.As(err, &pe):
		return &Error{Class: ClassQuery, Op: op, Err: scrub(err, secrets)}
	}
	return &Error{Class: ClassNetwork, Op: op, Err: scrub(err, secrets)}
}

var passwordRE = regexp.MustCompile(`(?i)password\s*=\s*('(?:[^'\\]|\\.)*'|\S+)`)

// dsnSecrets returns the password of a DSN as far as it can be read
// without the driver: the user info of a URL, its password parameter, or
// a key=value password.
func dsnSecrets(dsn string) []string {
	var out []string
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		if p, ok := u.User.Password(); ok && p != "" {
			out = append(out, p)
			if raw := strings.TrimPrefix(u.User.String(), u.User.Username()+":"); raw != p {
				out = append(out, raw)
			}
		}
		if p := u.Query().Get("password"); p != "" {
			out = append(out, p)
		}
	}
	for _, m := range passwordRE.FindAllStringSubmatch(dsn, -1) {
		v := strings.Trim(m[1], "'")
		if v != "" {
			out = append(out, v, m[1])
		}
	}
	return out
}

// scrub returns err with every secret cut out of its text.
func scrub(err error, secrets []string) error {
	msg := err.Error()
	for _, s := range secrets {
		if len(s) >= 1 {
			msg = strings.ReplaceAll(msg, s, gate.Redacted)
		}
	}
	return &scrubbed{msg: msg}
}
