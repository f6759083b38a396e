package ari

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/vipgate/vipgate/gate"
)

// DefaultApp is the Stasis application name vipgate registers.
const DefaultApp = "vipgate"

// ServerConfig is one Asterisk server.
type ServerConfig struct {
	// Name identifies the server in logs and OnState; default the host of
	// BaseURL (host:port). App.ServerNames returns the names in use.
	Name string
	// BaseURL is the ARI root, e.g. "http://127.0.0.1:8088/ari".
	BaseURL  string
	User     string
	Password Secret
	// App is the Stasis application name (default "vipgate").
	App string
}

// AppConfig configures an App.
type AppConfig struct {
	// Servers are the Asterisk servers to serve; at least one.
	Servers []ServerConfig
	// Handler runs one call; it must route the call (Continue or Hangup)
	// before it returns. cmd/vipgate wires it to gate.Flow.Handler.
	// Required.
	Handler gate.Handler
	// Fallback routes a call vipgate cannot drive: a channel found parked
	// in the application whose details cannot be read, and any call the
	// Handler returned from without routing it (also after a panic or at
	// shutdown). It gets a fresh context bounded by FallbackTimeout. nil
	// means continue in the dialplan. If the channel is still parked
	// afterwards it is continued with VIPGATE_RESULT=fallback
	// (gate.ResultFallback), which a fail-closed dialplan refuses. A call
	// the Handler or Fallback lets go of without setting VIPGATE_RESULT
	// gets the same mark.
	Fallback gate.Handler
	// Logger, nil discards.
	Logger *slog.Logger
	// OnState is told, with the server's Name, when a server's event
	// connection comes up or goes down. It must not block. nil is allowed.
	OnState gate.StateFunc

	// HTTPClient is used for REST and the websocket; nil means a default
	// client with keep-alive.
	HTTPClient *http.Client
	// RequestTimeout bounds each REST request (default 5s).
	RequestTimeout time.Duration
	// MaxPlayback is the longest vipgate waits for one prompt before it
	// stops it (default 2m): the cover for playbacks whose end is never
	// reported.
	MaxPlayback time.Duration
	// PlaybackPoll is how often a running playback is checked with GET
	// /playbacks/{id} (default 3s), to notice one that ended without a
	// PlaybackFinished (media other than sound:, event lost in a
	// reconnect). A sound: playback is not polled while the event
	// connection that carried its start is up.
	PlaybackPoll time.Duration
	// MinBackoff and MaxBackoff bound the reconnect delay (default 500ms
	// and 30s). The delay doubles after each failed attempt and is reset
	// after a connection that lasted HealthyAfter (default 10s).
	MinBackoff, MaxBackoff, HealthyAfter time.Duration
	// PingInterval is how often the websocket is pinged (default 20s); a
	// ping not answered within the request timeout drops the connection.
	PingInterval time.Duration
	// FallbackTimeout bounds the fallback routing of one call (default 10s).
	FallbackTimeout time.Duration
	// DrainTimeout is how long Run lets calls in progress finish after its
	// context is done (default gate.DefaultDrainTimeout, as over FastAGI;
	// negative, gate.NoDrain: none). While draining, the event
	// connections stay up so those calls keep their events, and every new
	// call is sent back to the dialplan at once by the fallback
	// (VIPGATE_RESULT=fallback). When the time is up, the calls still
	// running are cancelled and routed by the fallback.
	DrainTimeout time.Duration
}

// App is vipgate's Stasis application: it keeps one event connection per
// Asterisk server and runs each call that enters Stasis in a goroutine of
// its own.
type App struct {
	cfg      AppConfig
	log      *slog.Logger
	servers  []*server
	pbPrefix string
	calls    gate.CallGroup // call goroutines of every server, for the drain
}

// NewApp checks cfg and returns an App; nothing connects before Run.
func NewApp(cfg AppConfig) (*App, error) {
	if len(cfg.Servers) == 0 {
		return nil, fmt.Errorf("ari: no servers configured: %w", gate.ErrInvalid)
	}
	if cfg.Handler == nil {
		return nil, fmt.Errorf("ari: no handler: %w", gate.ErrInvalid)
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.RequestTimeout, DefaultRequestTimeout)
	def(&cfg.MaxPlayback, 2*time.Minute)
	def(&cfg.PlaybackPoll, 3*time.Second)
	def(&cfg.MinBackoff, 500*time.Millisecond)
	def(&cfg.MaxBackoff, 30*time.Second)
	def(&cfg.HealthyAfter, 10*time.Second)
	def(&cfg.PingInterval, 20*time.Second)
	def(&cfg.FallbackTimeout, 10*time.Second)
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = cfg.MinBackoff
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	a := &App{cfg: cfg, log: log, pbPrefix: "vg" + hex.EncodeToString(rnd[:]) + "-"}
	names := map[string]bool{}
	for i, sc := range cfg.Servers {
		if sc.App == "" {
			sc.App = DefaultApp
		}
		cl, err := NewClient(ClientConfig{BaseURL: sc.BaseURL, User: sc.User, Password: sc.Password, HTTPClient: cfg.HTTPClient, RequestTimeout: cfg.RequestTimeout, Logger: log})
		if err != nil {
			return nil, fmt.Errorf("ari: server %d: %w", i, err)
		}
		if sc.Name == "" {
			sc.Name = cl.base.Host
		}
		if names[sc.Name] {
			return nil, fmt.Errorf("ari: server name %q used twice: %w", sc.Name, gate.ErrInvalid)
		}
		names[sc.Name] = true
		ws := *cl.base
		switch ws.Scheme {
		case "https":
			ws.Scheme = "wss"
		default:
			ws.Scheme = "ws"
		}
		ws.Path += "/events"
		ws.RawQuery = url.Values{"app": {sc.App}}.Encode()
		a.servers = append(a.servers, &server{
			app: a, cfg: sc, client: cl, wsURL: ws.String(),
			log:   log.With("server", sc.Name),
			calls: make(map[string]*call),
		})
	}
	return a, nil
}

// ServerNames returns the name of each configured server, in the order of
// AppConfig.Servers, with the default filled in (the host of BaseURL): the
// names OnState reports. A caller that tracks server state registers these.
func (a *App) ServerNames() []string {
	names := make([]string, len(a.servers))
	for i, s := range a.servers {
		names[i] = s.cfg.Name
	}
	return names
}

// Run connects to every server and serves calls until ctx is done. Lost
// connections are re-established with backoff. When ctx is done, Run
// drains (see AppConfig.DrainTimeout), then the calls still running get
// their contexts cancelled; each call the Handler did not route is routed
// by Fallback. Run returns after every call goroutine has finished; it
// returns nil after a shutdown through ctx.
func (a *App) Run(ctx context.Context) error {
	life, stop := context.WithCancel(context.WithoutCancel(ctx))
	defer stop()
	var wg sync.WaitGroup
	for _, s := range a.servers {
		wg.Go(func() { s.run(life) })
	}
	<-ctx.Done()
	for _, s := range a.servers {
		s.draining.Store(true)
	}
	drain := gate.DrainTimeout(a.cfg.DrainTimeout)
	a.log.Info("ari draining: new calls go back to the dialplan; calls in progress may finish", "drain", drain)
	if n := a.calls.Drain(drain); n > 0 {
		a.log.Warn("ari drain time is up; routing the remaining calls by the fallback", "calls", n)
	}
	stop()
	wg.Wait()
	return nil
}

// server is the connection to one Asterisk and the calls it carries.
type server struct {
	app    *App
	cfg    ServerConfig
	client *Client
	wsURL  string
	log    *slog.Logger
	base   context.Context // parent of call contexts, ended after the drain

	// draining is set when Run's context is done: new calls are routed by
	// the fallback at once.
	draining atomic.Bool

	// links counts the event connections made and lost: odd while one is
	// up. A playback started under an odd value has its events delivered
	// as long as the value holds.
	links atomic.Uint64

	mu    sync.Mutex
	calls map[string]*call
	wg    sync.WaitGroup // call goroutines
}

// errReplaced ends a connection that received ApplicationReplaced.
var errReplaced = errors.New("application replaced by another connection")

func (s *server) run(ctx context.Context) {
	s.base = ctx
	cfg := &s.app.cfg
	backoff := cfg.MinBackoff
	for {
		start := time.Now()
		err := s.connect(ctx)
		if ctx.Err() != nil {
			break
		}
		if time.Since(start) >= cfg.HealthyAfter {
			backoff = cfg.MinBackoff
		}
		wait := backoff
		if errors.Is(err, errReplaced) {
			wait = cfg.MaxBackoff
		}
		s.log.Warn("ari event connection lost", "err", err, "retry_in", wait)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
		if ctx.Err() != nil {
			break
		}
		backoff = min(backoff*2, cfg.MaxBackoff)
	}
	s.wg.Wait()
}

func (s *server) state(up bool) {
	if f := s.app.cfg.OnState; f != nil {
		f(s.cfg.Name, up)
	}
}

// connect runs one websocket connection until it fails or ctx is done.
func (s *server) connect(ctx context.Context) error {
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	h := http.Header{}
	s.client.authorize(h)
	conn, resp, err := websocket.Dial(cctx, s.wsURL, &websocket.DialOptions{
		HTTPClient:   s.client.http,
		HTTPHeader:   h,
		Subprotocols: []string{"ari"},
	})
	if err != nil {
		if resp != nil {
			return fmt.Errorf("ari: connect events: %d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
		}
		return fmt.Errorf("ari: connect events: %w", err)
	}
	defer conn.CloseNow()
	conn.SetReadLimit(4 << 20)
	s.log.Info("ari event connection up", "app", s.cfg.App)
	s.links.Add(1)
	defer s.links.Add(1)
	s.state(true)
	defer s.state(false)

	var helpers sync.WaitGroup
	defer helpers.Wait()
	defer cancel()
	helpers.Go(func() { s.filterEvents(cctx) })
	helpers.Go(func() { s.recover(cctx) })
	helpers.Go(func() { s.ping(cctx, conn) })
	helpers.Go(func() {
		// Reads are not tied to the context (a cancelled read drops the
		// connection without a close frame); this closes it instead:
		// with a close handshake when vipgate stops.
		<-cctx.Done()
		if ctx.Err() != nil {
			_ = conn.Close(websocket.StatusNormalClosure, "vipgate stopping")
		}
		_ = conn.CloseNow()
	})

	for {
		_, data, err := conn.Read(context.WithoutCancel(cctx))
		if err != nil {
			return fmt.Errorf("ari: read event: %w", err)
		}
		if unusedEvent(data) {
			// ChannelVarset (one per variable vipgate sets), PlaybackStarted
			// and the like, where Asterisk did not filter them: no call
			// looks at them; they are not decoded at all.
			continue
		}
		ev, err := DecodeEvent(data)
		if err != nil {
			s.log.Debug("ari event ignored", "err", err, "size", len(data))
			continue
		}
		if _, ok := ev.(*ApplicationReplaced); ok {
			s.log.Warn("ari application registered by another connection; backing off", "app", s.cfg.App)
			_ = conn.Close(websocket.StatusNormalClosure, "application replaced")
			return errReplaced
		}
		s.dispatch(ev)
	}
}

// filterEvents asks Asterisk to send the application only the events
// vipgate uses (usedType): the others (ChannelVarset for each variable
// vipgate sets, PlaybackStarted for each prompt, ChannelDialplan, ...)
// would cost both sides a message each, to be skipped unread. Where
// Asterisk cannot filter, they are skipped as before.
func (s *server) filterEvents(ctx context.Context) {
	if _, err := s.client.FilterEvents(ctx, s.cfg.App, slices.Sorted(maps.Keys(usedType))); err != nil {
		if ctx.Err() == nil {
			s.log.Info("ari: could not set the application's event filter; unused events are skipped as they come", "app", s.cfg.App, "err", err)
		}
		return
	}
	s.log.Debug("ari event filter set", "app", s.cfg.App)
}

// ping keeps the websocket honest: an unanswered ping closes it.
func (s *server) ping(ctx context.Context, conn *websocket.Conn) {
	t := time.NewTicker(s.app.cfg.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, s.app.cfg.RequestTimeout)
		err := conn.Ping(pctx)
		cancel()
		if err != nil && ctx.Err() == nil {
			s.log.Warn("ari websocket ping failed; reconnecting", "err", err)
			_ = conn.CloseNow()
			return
		}
	}
}

// dispatch routes one event. It runs on the reader goroutine and never
// waits for I/O.
func (s *server) dispatch(ev Event) {
	if e, ok := ev.(*StasisStart); ok {
		if e.ReplaceChannel != nil {
			s.log.Debug("ari channel replaced", gate.LogCall, e.Channel.ID, "replaced", e.ReplaceChannel.ID)
		}
		s.start(&e.Channel, e.Args, false, false)
		return
	}
	id := channelOf(ev)
	if id == "" {
		return
	}
	s.mu.Lock()
	c := s.calls[id]
	s.mu.Unlock()
	if c == nil {
		return
	}
	c.deliver(ev)
}

// start takes ownership of a channel and runs its call, unless a call
// goroutine owns it already. It is called only from the reader and the
// recovery goroutine, which connect waits for, so s.wg.Add never races
// with the s.wg.Wait in run.
func (s *server) start(ch *Channel, args []string, recovered, fallbackOnly bool) *call {
	s.mu.Lock()
	if _, ok := s.calls[ch.ID]; ok {
		s.mu.Unlock()
		return nil
	}
	if s.base.Err() != nil || s.draining.Load() {
		// Shutting down: do not start a dialogue, but do not leave the
		// channel parked either.
		fallbackOnly = true
	}
	c := newCall(s, ch, args, recovered)
	s.calls[ch.ID] = c
	s.wg.Add(1)
	s.app.calls.Add()
	s.mu.Unlock()
	c.log.Debug("ari call started", "state", ch.State, "recovered", recovered)
	go s.runCall(c, fallbackOnly)
	return c
}

// runCall runs the Handler on c (or, with fallbackOnly, only the fallback)
// and makes sure the channel is routed afterwards.
func (s *server) runCall(c *call, fallbackOnly bool) {
	defer s.wg.Done()
	defer s.app.calls.Done()
	defer func() {
		s.mu.Lock()
		if s.calls[c.id] == c {
			delete(s.calls, c.id)
		}
		s.mu.Unlock()
		c.cancel(context.Canceled)
	}()
	if !fallbackOnly {
		// The full call info, with the dialed number if the rule needs it
		// (one GET, in this goroutine, never on the event reader).
		c.info = callInfo(c.ch, c.args, c.dnid(c.ctx), c.log)
		func() {
			defer func() {
				if r := recover(); r != nil {
					c.log.Error("ari call handler panicked; routing the call by the fallback", "panic", fmt.Sprint(r))
				}
			}()
			s.app.cfg.Handler(c.ctx, c)
		}()
	}
	if c.letGo() {
		return
	}
	s.fallback(c)
}

// fallback routes a call that the Handler left in Stasis: AppConfig.Fallback,
// then continue, then (if continue failed for another reason than the
// channel being gone or out of Stasis) hang-up.
func (s *server) fallback(c *call) {
	cfg := &s.app.cfg
	ctx, cancel := context.WithTimeout(context.WithoutCancel(s.base), cfg.FallbackTimeout)
	defer cancel()
	if cfg.Fallback != nil {
		cfg.Fallback(ctx, c)
		if c.letGo() {
			return
		}
	}
	// Marked, so that a fail-closed dialplan can tell that vipgate did not
	// decide it (see deploy/asterisk/extensions-ari.conf).
	err := gate.RouteUndecided(ctx, c)
	if err == nil || errors.Is(err, gate.ErrHangup) || errors.Is(err, ErrNotInStasis) {
		c.log.Info("ari call routed by fallback", "err", err)
		return
	}
	c.log.Error("ari fallback continue failed; hanging up", "err", err)
	if err := c.Hangup(ctx, gate.CauseNormal); err != nil {
		c.log.Error("ari fallback hang-up failed", "err", err)
	}
}

// recover takes over the channels parked in the application after a
// (re)connect: Asterisk keeps them in Stasis while no connection is up and
// replays nothing. Channels a running call goroutine owns keep going (their
// events resume); every other channel gets a fresh call that runs the
// Handler from the start, so a PIN dialogue restarts. A channel whose
// details cannot be read is routed by the fallback. Owned calls whose
// channels left Stasis while the connection was down are ended.
func (s *server) recover(ctx context.Context) {
	delay := s.app.cfg.MinBackoff
	for attempt := 1; ; attempt++ {
		err := s.recoverOnce(ctx)
		if err == nil || ctx.Err() != nil {
			return
		}
		if attempt == 5 {
			s.log.Error("ari recovery failed; parked channels stay until the next reconnect", "err", err)
			return
		}
		s.log.Warn("ari recovery: list application channels failed; retrying", "err", err, "retry_in", delay)
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		delay = min(delay*2, s.app.cfg.MaxBackoff)
	}
}

// recoverOnce is one pass of recover; it fails only if the application's
// channels cannot be listed.
func (s *server) recoverOnce(ctx context.Context) error {
	snapshot := time.Now()
	app, err := s.client.GetApplication(ctx, s.cfg.App)
	if err != nil {
		return err
	}
	parked := make(map[string]bool, len(app.ChannelIDs))
	for _, id := range app.ChannelIDs {
		parked[id] = true
	}
	// Calls owned before the snapshot whose channels are no longer parked
	// lost their StasisEnd while the connection was down.
	s.mu.Lock()
	var stale []*call
	for id, c := range s.calls {
		if !parked[id] && c.started.Before(snapshot) {
			stale = append(stale, c)
		}
	}
	s.mu.Unlock()
	for _, c := range stale {
		ch, err := s.client.GetChannel(ctx, c.id)
		if errors.Is(err, gate.ErrHangup) || (err == nil && !strings.EqualFold(ch.Dialplan.AppName, "Stasis")) {
			c.end("gone after reconnect", func(leaving string) bool { return leaving != "" })
		}
	}
	recovered := 0
	for _, id := range app.ChannelIDs {
		if ctx.Err() != nil {
			return nil
		}
		s.mu.Lock()
		_, owned := s.calls[id]
		s.mu.Unlock()
		if owned {
			continue
		}
		ch, err := s.client.GetChannel(ctx, id)
		switch {
		case errors.Is(err, gate.ErrHangup):
			continue
		case err != nil:
			if ctx.Err() != nil {
				return nil
			}
			s.log.Warn("ari recovery: channel details unavailable; using the fallback", gate.LogCall, id, "err", err)
			s.start(&Channel{ID: id}, nil, true, true)
		default:
			s.start(ch, stasisArgs(ch), true, false)
		}
		recovered++
	}
	if recovered > 0 {
		s.log.Info("ari recovered parked channels", "count", recovered)
	}
	return nil
}
