package webhook

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/internal/answercache"
	"github.com/vipgate/vipgate/internal/breaker"
)

// Timeout and concurrency defaults.
const (
	DefaultTimeout       = 3 * time.Second
	MaxTimeout           = 15 * time.Second
	DefaultMaxConcurrent = 32
)

// Observer receives webhook metrics. Calls must not block. A nil Observer
// is allowed.
type Observer interface {
	// WebhookRequest reports one authorization that was not answered from
	// the cache: its latency and error class ("" on success).
	WebhookRequest(gateID string, latency time.Duration, errClass string)
	// WebhookBreaker reports that the gate's breaker opened (open true) or
	// closed.
	WebhookBreaker(gateID string, open bool)
	// WebhookCache reports one cache lookup of a gate with a cache.
	WebhookCache(gateID string, hit bool)
}

// Config wires an Authorizer. Every field is optional.
type Config struct {
	// Client's Transport sends the requests; the rest of the client (its
	// Timeout, redirect policy and cookie jar) is not used: requests go
	// straight to the transport, so redirects are never followed and the
	// gate's timeout applies. Nil means a shared *http.Transport tuned for
	// webhook calls (see NewTransport). Gates with a CAFile get a clone of
	// the client's *http.Transport with the extra roots, one per distinct
	// CA file contents.
	Client *http.Client
	// Proxy chooses the proxy of a request sent by the default transport
	// (Client nil), as http.Transport.Proxy does; nil means no proxy.
	// http.ProxyFromEnvironment honours HTTPS_PROXY, HTTP_PROXY and
	// NO_PROXY.
	Proxy func(*http.Request) (*url.URL, error)
	// Logger receives breaker changes (Info), a missing-secret warning and
	// per-request lines (Debug); nil discards.
	Logger *slog.Logger
	// Observer receives metrics; nil drops them.
	Observer Observer
	// Now is the clock for signatures, the cache and the breaker; nil means
	// time.Now. Latency is always measured with the monotonic clock.
	Now func() time.Time
	// Secret returns the signing key of a gate; nil means reading
	// g.Identification.Webhook.SecretFile (surrounding white space removed),
	// cached until the file's modification time or size changes. A nil key
	// sends requests unsigned.
	Secret func(g *gate.Gate) ([]byte, error)
}

// Authorizer asks a gate's webhook for a verdict. It is safe for
// concurrent use.
type Authorizer struct {
	cfg     Config
	log     *slog.Logger
	obs     Observer
	now     func() time.Time
	secrets secretFiles
	base    http.RoundTripper

	mu     sync.Mutex
	states map[string]*gateState     // by gate ID
	cas    map[[32]byte]*caTransport // by SHA-256 of the CA file's contents
}

var _ gate.Authorizer = (*Authorizer)(nil)

// New returns an Authorizer.
func New(cfg Config) *Authorizer {
	a := &Authorizer{cfg: cfg, log: cfg.Logger, obs: cfg.Observer, now: cfg.Now, states: make(map[string]*gateState), cas: make(map[[32]byte]*caTransport)}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if a.obs == nil {
		a.obs = nopObserver{}
	}
	if a.now == nil {
		a.now = time.Now
	}
	switch {
	case cfg.Client == nil:
		a.base = NewTransport(cfg.Proxy)
	case cfg.Client.Transport == nil:
		a.base = http.DefaultTransport
	default:
		a.base = cfg.Client.Transport
	}
	return a
}

// CloseIdleConnections closes idle connections of every transport the
// Authorizer uses.
func (a *Authorizer) CloseIdleConnections() {
	type idleCloser interface{ CloseIdleConnections() }
	if c, ok := a.base.(idleCloser); ok {
		c.CloseIdleConnections()
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, ct := range a.cas {
		ct.t.CloseIdleConnections()
	}
}

// NewTransport returns the transport an Authorizer uses by default:
// HTTP/1.1 only, with keep-alive connections (up to MaxIdleConnsPerHost idle
// per host, closed after IdleConnTimeout), no compression, TLS 1.2 or
// later, answer headers bounded to 64 KiB. proxy is its Proxy; nil means
// none. Timeouts come from each request's context.
func NewTransport(proxy func(*http.Request) (*url.URL, error)) *http.Transport {
	t := &http.Transport{
		Proxy:                  proxy,
		DialContext:            (&net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:        &tls.Config{MinVersion: tls.VersionTLS12},
		MaxIdleConnsPerHost:    MaxIdleConnsPerHost,
		IdleConnTimeout:        IdleConnTimeout,
		DisableCompression:     true,
		MaxResponseHeaderBytes: 64 << 10,
		Protocols:              new(http.Protocols),
	}
	t.Protocols.SetHTTP1(true)
	return t
}

// Connection defaults of NewTransport. A gate has at most MaxConcurrent
// requests in flight (32 by default), so twice that many idle connections
// per host keep up with a burst of every slot of two gates on one host.
const (
	MaxIdleConnsPerHost = 2 * DefaultMaxConcurrent
	IdleConnTimeout     = 90 * time.Second
	dialTimeout         = 5 * time.Second
)

// Breaker and cache defaults (see packages internal/breaker and
// internal/answercache, which the database identification shares).
const (
	DefaultBreakerFailures = breaker.DefaultFailures
	DefaultBreakerCooldown = breaker.DefaultCooldown
	DefaultCacheSize       = answercache.DefaultSize
)

// cacheKey keys cached answers: the numbers the request carries.
type cacheKey struct{ caller, called string }

type nopObserver struct{}

func (nopObserver) WebhookRequest(string, time.Duration, string) {}
func (nopObserver) WebhookBreaker(string, bool)                  {}
func (nopObserver) WebhookCache(string, bool)                    {}

// gateState is what the Authorizer keeps per gate and webhook
// configuration.
type gateState struct {
	id           string
	cfg          gate.WebhookConfig // a copy; Headers cloned
	method       string
	timeout      time.Duration
	sem          chan struct{}
	breaker      *breaker.Breaker
	cache        *answercache.Cache[cacheKey] // nil without CacheTTL
	rt           http.RoundTripper
	ca           *caTransport // the transport with the CAFile's roots; nil without
	headers      []header     // configured headers, keys canonical
	signer       signer
	warnUnsigned sync.Once
}

// header is one configured header with its canonical key; "Host" sets
// the request's Host.
type header struct{ key, value string }

// sameConfig reports whether two webhook configurations are equal, field
// by field; it is the per-call fingerprint check and does not allocate.
func sameConfig(a, b *gate.WebhookConfig) bool {
	return a.URL == b.URL && a.Method == b.Method && a.Body == b.Body &&
		a.Timeout == b.Timeout && a.MaxConcurrent == b.MaxConcurrent &&
		a.CAFile == b.CAFile && a.SecretFile == b.SecretFile &&
		a.CacheTTL == b.CacheTTL && a.BreakerFailures == b.BreakerFailures &&
		a.BreakerCooldown == b.BreakerCooldown && maps.Equal(a.Headers, b.Headers)
}

// state returns the state of g's current webhook configuration, building
// it on first use and replacing it when the configuration changed.
func (a *Authorizer) state(g *gate.Gate) (*gateState, *Error) {
	wc := g.Identification.Webhook
	a.mu.Lock()
	old := a.states[g.ID]
	a.mu.Unlock()
	if old != nil && sameConfig(&old.cfg, wc) {
		return old, nil
	}
	st, err := a.newState(g.ID, wc)
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	if cur := a.states[g.ID]; cur != nil && sameConfig(&cur.cfg, wc) {
		// Another call built the same state first.
		a.releaseCA(st.ca)
		a.mu.Unlock()
		return cur, nil
	}
	old = a.states[g.ID]
	a.states[g.ID] = st
	if old != nil {
		a.releaseCA(old.ca)
	}
	a.mu.Unlock()
	if old != nil {
		if old.breaker.Open() {
			a.obs.WebhookBreaker(g.ID, false)
		}
		a.log.Debug("webhook configuration changed", gate.LogGate, g.ID)
	}
	return st, nil
}

func (a *Authorizer) newState(id string, wc *gate.WebhookConfig) (*gateState, *Error) {
	st := &gateState{id: id, cfg: *wc}
	st.cfg.Headers = maps.Clone(wc.Headers)
	switch strings.ToUpper(strings.TrimSpace(wc.Method)) {
	case "", http.MethodGet:
		st.method = http.MethodGet
	case http.MethodPost:
		st.method = http.MethodPost
	default:
		return nil, errorf(ClassConfig, "configure", "method must be GET or POST")
	}
	if strings.TrimSpace(wc.URL) == "" {
		return nil, errorf(ClassConfig, "configure", "no URL")
	}
	if _, err := expandURL(wc.URL, "+10000000000", "+10000000000"); err != nil {
		return nil, newError(ClassConfig, "configure", err)
	}
	st.timeout = wc.Timeout.D()
	if st.timeout <= 0 {
		st.timeout = DefaultTimeout
	}
	st.timeout = min(st.timeout, MaxTimeout)
	n := wc.MaxConcurrent
	if n <= 0 {
		n = DefaultMaxConcurrent
	}
	st.sem = make(chan struct{}, n)
	st.breaker = breaker.New(wc.BreakerFailures, wc.BreakerCooldown.D())
	if ttl := wc.CacheTTL.D(); ttl > 0 {
		st.cache = answercache.New[cacheKey](ttl, DefaultCacheSize)
	}

	for _, k := range slices.Sorted(maps.Keys(wc.Headers)) {
		if err := checkHeader(k, wc.Headers[k]); err != nil {
			return nil, newError(ClassConfig, "configure", err)
		}
		st.headers = append(st.headers, header{key: http.CanonicalHeaderKey(k), value: wc.Headers[k]})
	}
	st.rt = a.base
	if wc.CAFile != "" {
		ct, err := a.caTransport(wc.CAFile)
		if err != nil {
			return nil, newError(ClassConfig, "configure", err)
		}
		st.ca, st.rt = ct, ct.t
	}
	return st, nil
}

// checkHeader refuses a configured header that cannot be sent: its name
// must be a token and its value hold no control byte but a tab, so that no
// header (or placeholder, whose numbers hold none either) can add another.
// gate.Gate.Validate says the same to the administrator; this keeps a
// gate that was not validated from reaching the wire.
func checkHeader(name, value string) error {
	if name == "" || strings.ContainsFunc(name, func(r rune) bool {
		return r <= ' ' || r >= 0x7f || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r)
	}) {
		return fmt.Errorf("header %q: not a valid header name", name)
	}
	if strings.ContainsFunc(value, func(r rune) bool { return r < ' ' && r != '\t' || r == 0x7f }) {
		return fmt.Errorf("header %s: value holds a control character", name)
	}
	return nil
}

// caTransport is a clone of the base transport that trusts the system
// roots plus the certificates of one CA file contents; gates whose CA
// files hold the same bytes share it and its connections.
type caTransport struct {
	sum   [32]byte
	t     *http.Transport
	users int // gate states using it; guarded by Authorizer.mu
}

// caTransport returns the transport for the certificates in file, cloning
// the base transport the first time these certificates are seen.
func (a *Authorizer) caTransport(file string) (*caTransport, error) {
	base, ok := a.base.(*http.Transport)
	if !ok {
		return nil, errors.New("a CA file needs the default transport or an *http.Transport in Config.Client")
	}
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("CA file: %w", err)
	}
	sum := sha256.Sum256(pem)
	a.mu.Lock()
	if ct := a.cas[sum]; ct != nil {
		ct.users++
		a.mu.Unlock()
		return ct, nil
	}
	a.mu.Unlock()
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("CA file %s holds no PEM certificate", file)
	}
	cfg := &tls.Config{}
	if base.TLSClientConfig != nil {
		cfg = base.TLSClientConfig.Clone()
	}
	cfg.RootCAs = pool
	cfg.MinVersion = max(cfg.MinVersion, tls.VersionTLS12)
	t := base.Clone()
	t.TLSClientConfig = cfg

	a.mu.Lock()
	defer a.mu.Unlock()
	ct := a.cas[sum]
	if ct == nil {
		// Not built by another call meanwhile.
		ct = &caTransport{sum: sum, t: t}
		a.cas[sum] = ct
	}
	ct.users++
	return ct, nil
}

// releaseCA ends a gate state's use of ct (nil: none); the last user
// closes its idle connections. a.mu is held.
func (a *Authorizer) releaseCA(ct *caTransport) {
	if ct == nil {
		return
	}
	if ct.users--; ct.users > 0 {
		return
	}
	delete(a.cas, ct.sum)
	ct.t.CloseIdleConnections()
}

// secret returns the signing key of g, nil for unsigned requests.
func (a *Authorizer) secret(g *gate.Gate) (Secret, error) {
	if a.cfg.Secret != nil {
		k, err := a.cfg.Secret(g)
		return Secret(k), err
	}
	if f := g.Identification.Webhook.SecretFile; f != "" {
		return a.secrets.load(f)
	}
	return nil, nil
}

// Authorize asks g's webhook about the call in req. It blocks for at most
// the gate's timeout (default 3s, at most 15s) or until ctx is done: the
// wait for a free request slot and the request share that deadline.
//
// A successful answer is served from the cache when the gate has one. The
// returned answer carries the latency even with an error. Errors are *Error;
// their class says what failed.
func (a *Authorizer) Authorize(ctx context.Context, g *gate.Gate, req gate.AuthRequest) (gate.AuthAnswer, error) {
	start := time.Now()
	if g == nil || g.Identification.Webhook == nil {
		return gate.AuthAnswer{}, errorf(ClassConfig, "configure", "gate has no webhook configuration")
	}
	st, serr := a.state(g)
	if serr != nil {
		a.obs.WebhookRequest(g.ID, time.Since(start), serr.Class)
		return gate.AuthAnswer{Latency: time.Since(start)}, serr
	}
	key := cacheKey{caller: req.Caller, called: req.Called}
	if st.cache != nil {
		ans, ok := st.cache.Get(key, a.now())
		a.obs.WebhookCache(g.ID, ok)
		if ok {
			ans.Cached = true
			ans.Latency = time.Since(start)
			a.log.Debug("webhook answer from cache", gate.LogGate, g.ID, gate.LogCall, req.CallID, "kind", ans.Kind)
			return ans, nil
		}
	}

	ans, aerr := a.authorize(ctx, g, st, req)
	ans.Latency = time.Since(start)
	class := ""
	if aerr != nil {
		class = aerr.Class
	}
	a.obs.WebhookRequest(g.ID, ans.Latency, class)
	if aerr != nil {
		return gate.AuthAnswer{Latency: ans.Latency}, aerr
	}
	if st.cache != nil {
		st.cache.Put(key, ans, a.now())
	}
	return ans, nil
}

func (a *Authorizer) authorize(ctx context.Context, g *gate.Gate, st *gateState, req gate.AuthRequest) (gate.AuthAnswer, *Error) {
	if err := checkNumber("caller", req.Caller); err != nil {
		return gate.AuthAnswer{}, newError(ClassRequest, "build request", err)
	}
	if err := checkNumber("called", req.Called); err != nil {
		return gate.AuthAnswer{}, newError(ClassRequest, "build request", err)
	}
	key, err := a.secret(g)
	if err != nil {
		return gate.AuthAnswer{}, newError(ClassConfig, "read secret", err)
	}
	if key == nil {
		st.warnUnsigned.Do(func() {
			a.log.Warn("webhook requests are sent unsigned: the gate has no secret file", gate.LogGate, g.ID)
		})
	}

	ctx, cancel := context.WithTimeout(ctx, st.timeout)
	defer cancel()

	ok, trial := st.breaker.Allow(a.now())
	if !ok {
		return gate.AuthAnswer{}, errorf(ClassBreakerOpen, "request", "circuit breaker open")
	}
	if e := a.acquire(ctx, st); e != nil {
		st.breaker.Release(trial)
		return gate.AuthAnswer{}, e
	}
	ans, e := a.do(ctx, st, req, key)
	<-st.sem

	switch {
	case e == nil:
		if st.breaker.Success(trial) {
			a.log.Info("webhook circuit breaker closed", gate.LogGate, g.ID)
			a.obs.WebhookBreaker(g.ID, false)
		}
	case e.Class == ClassCanceled:
		st.breaker.Release(trial)
	default:
		if st.breaker.Failure(a.now(), trial) {
			a.log.Info("webhook circuit breaker open", gate.LogGate, g.ID, "cooldown", st.breaker.Cooldown(), "class", e.Class)
			a.obs.WebhookBreaker(g.ID, true)
		}
	}
	return ans, e
}

// acquire takes one of st's request slots, waiting until ctx is done.
// A wait that ends in the deadline is an overload, a hang-up is canceled;
// no request was sent either way.
func (a *Authorizer) acquire(ctx context.Context, st *gateState) *Error {
	select {
	case st.sem <- struct{}{}:
		return nil
	default:
	}
	select {
	case st.sem <- struct{}{}:
		if ctx.Err() == nil {
			return nil
		}
		// A slot freed up as the deadline struck: the call waited its
		// time out on the other requests and sends nothing.
		<-st.sem
	case <-ctx.Done():
	}
	if e := a.ctxError(ctx, "wait for a request slot"); e.Class == ClassCanceled {
		return e
	}
	return errorf(ClassOverload, "wait for a request slot", "%d requests in flight until the deadline", cap(st.sem))
}

// do sends one request and reads the answer.
func (a *Authorizer) do(ctx context.Context, st *gateState, req gate.AuthRequest, key Secret) (gate.AuthAnswer, *Error) {
	u, err := expandURL(st.cfg.URL, req.Caller, req.Called)
	if err != nil {
		return gate.AuthAnswer{}, newError(ClassConfig, "build request", err)
	}
	var body []byte
	if st.method == http.MethodPost {
		tmpl := st.cfg.Body
		if tmpl == "" {
			tmpl = DefaultPOSTBody
		}
		body = []byte(expand(tmpl, req.Caller, req.Called, jsonEscape))
	}
	hreq, err := http.NewRequestWithContext(ctx, st.method, "", nil)
	if err != nil {
		return gate.AuthAnswer{}, errorf(ClassConfig, "build request", "cannot build the request")
	}
	hreq.URL, hreq.Host = u, u.Host
	if body != nil {
		hreq.Body = io.NopCloser(bytes.NewReader(body))
		hreq.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		hreq.ContentLength = int64(len(body))
		// Webhook requests are queries: a POST that finds its kept-alive
		// connection closed by the server may be sent again on a new
		// one, as a GET is. The empty key is not sent.
		hreq.Header["Idempotency-Key"] = nil
	}
	// Keys are canonical already.
	set := func(k, v string) { hreq.Header[k] = []string{v} }
	if body != nil {
		set("Content-Type", "application/json")
	}
	set("Accept", "application/json")
	set("User-Agent", "vipgate-webhook")
	set("X-Vipgate-Gate", st.id)
	if req.CallID != "" && checkNumber("call ID", req.CallID) == nil {
		set("X-Vipgate-Call-Id", req.CallID)
	}
	for _, h := range st.headers {
		v := expand(h.value, req.Caller, req.Called, plain)
		if h.key == "Host" {
			hreq.Host = v
			continue
		}
		set(h.key, v)
	}
	if key != nil {
		ts := a.now().Unix()
		set(HeaderTimestamp, strconv.FormatInt(ts, 10))
		set(HeaderSignature, st.signer.sign(key, ts, st.method, signedURL(u, hreq.Host), body))
	}

	t0 := time.Now()
	resp, err := st.rt.RoundTrip(hreq)
	if err != nil {
		e := a.transportError(ctx, err)
		if a.debug(ctx) {
			a.log.Debug("webhook request failed", gate.LogGate, st.id, gate.LogCall, req.CallID, "method", st.method, "url", redactURL(u), "class", e.Class, "latency", time.Since(t0))
		}
		return gate.AuthAnswer{}, e
	}
	buf := getBody()
	defer putBody(buf)
	data, rerr := readBody(buf, resp)
	if a.debug(ctx) {
		a.log.Debug("webhook answered", gate.LogGate, st.id, gate.LogCall, req.CallID, "method", st.method, "url", redactURL(u), "status", resp.StatusCode, "bytes", len(data), "latency", time.Since(t0))
	}

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return gate.AuthAnswer{}, newError(ClassStatus, "request", &StatusError{Code: resp.StatusCode})
	}
	if rerr != nil {
		return gate.AuthAnswer{}, a.transportError(ctx, rerr)
	}
	if len(data) > MaxBody {
		return gate.AuthAnswer{}, newError(ClassTooLarge, "read answer", errTooLarge)
	}
	return parseAnswer(data)
}

// bodies holds answer buffers; parseAnswer copies what it keeps.
var bodies = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

func getBody() *[]byte { return bodies.Get().(*[]byte) }

// putBody clears a buffer, which may hold a PIN, and pools it unless it
// grew past 4 KiB.
func putBody(b *[]byte) {
	clear((*b)[:cap(*b)])
	if cap(*b) > 4<<10 {
		return
	}
	*b = (*b)[:0]
	bodies.Put(b)
}

// readBody reads at most MaxBody+1 bytes of resp's body into buf, drains
// up to 4*MaxBody more so the connection can be reused, and closes the
// body. A buffer it outgrows is cleared, as putBody clears the last one.
func readBody(buf *[]byte, resp *http.Response) ([]byte, error) {
	defer resp.Body.Close()
	b := *buf
	var err error
	for len(b) <= MaxBody {
		if len(b) == cap(b) {
			old := b
			b = slices.Grow(b, min(cap(b), MaxBody+1-len(b)))
			clear(old)
		}
		var n int
		n, err = resp.Body.Read(b[len(b):min(cap(b), MaxBody+1)])
		b = b[:len(b)+n]
		if err != nil {
			break
		}
	}
	*buf = b
	if err == io.EOF {
		err = nil
	}
	if len(b) > MaxBody {
		io.CopyN(io.Discard, resp.Body, 4*MaxBody)
	}
	return b, err
}

// debug reports whether Debug lines are logged, to skip building them.
func (a *Authorizer) debug(ctx context.Context) bool {
	return a.log.Enabled(ctx, slog.LevelDebug)
}

// ctxError classifies a done ctx: the caller's cancellation or a deadline.
func (a *Authorizer) ctxError(ctx context.Context, op string) *Error {
	if errors.Is(ctx.Err(), context.Canceled) {
		return newError(ClassCanceled, op, context.Cause(ctx))
	}
	return newError(ClassTimeout, op, gate.ErrTimeout)
}

// transportError classifies an error of client.Do or of reading the body.
// It drops the *url.Error wrapper, whose text quotes the URL.
func (a *Authorizer) transportError(ctx context.Context, err error) *Error {
	if ctx.Err() != nil {
		return a.ctxError(ctx, "request")
	}
	var ue interface{ Timeout() bool }
	if errors.As(err, &ue) && ue.Timeout() {
		return newError(ClassTimeout, "request", gate.ErrTimeout)
	}
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err
	}
	return newError(ClassNetwork, "request", err)
}
