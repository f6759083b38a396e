package agi

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vipgate/vipgate/gate"
)

// Defaults of Config.
const (
	DefaultAddr          = ":4573"
	DefaultMaxSessions   = 1000
	DefaultReadTimeout   = 2 * time.Minute
	DefaultHeaderTimeout = 2 * time.Second
	// DefaultMaxPendingHeaders bounds the connections that have not sent
	// their whole header yet; DefaultMaxPendingPerPeer bounds them per
	// remote IP.
	DefaultMaxPendingHeaders = 256
	DefaultMaxPendingPerPeer = 32
)

// Reasons a connection is closed without a call, as passed to
// Config.OnRefused.
const (
	// RefusedSessions: the header was read but MaxSessions sessions run.
	RefusedSessions = "sessions"
	// RefusedPeer: the peer already runs MaxSessionsPerPeer sessions.
	RefusedPeer = "peer"
	// RefusedHeaderPending: the connection was still waiting for its
	// header when a newer connection needed its place (MaxPendingHeaders,
	// MaxPendingPerPeer).
	RefusedHeaderPending = "header_pending"
	// RefusedHeaderTimeout: the header did not arrive within HeaderTimeout.
	RefusedHeaderTimeout = "header_timeout"
)

// Config configures a Server. Zero fields take the defaults.
type Config struct {
	// Addr is the TCP address to listen on (default ":4573").
	Addr string
	// Handler runs one call; the cmd wires it to gate.Flow.Handler. The
	// session lets go of the call when Handler returns (see
	// gate.RouteUndecided). ctx is cancelled with gate.ErrHangup as its
	// cause when Asterisk reports the hangup.
	Handler gate.Handler
	// MaxSessions bounds the concurrent sessions (default 1000). A
	// connection whose header arrives while MaxSessions sessions run is
	// closed at once: Asterisk goes on with the dialplan with
	// VIPGATE_RESULT unset. Connections that have not sent their whole
	// header yet do not count: they are bounded by MaxPendingHeaders.
	MaxSessions int
	// MaxSessionsPerPeer bounds the sessions of one remote IP; 0 means no
	// bound besides MaxSessions. Asterisk opens every connection of a
	// PBX from one address, so set it only when several PBXs (or other
	// hosts) reach the listener, to at least the calls one PBX may have.
	MaxSessionsPerPeer int
	// MaxPendingHeaders bounds the connections still reading their header
	// (default 256), MaxPendingPerPeer those of one remote IP (default
	// 32). A new connection over either bound closes the oldest pending
	// connection (of that peer, else of all) once that one has waited
	// 500 ms, and at four times the bound whatever its age: Asterisk sends
	// the header at once, so idle connections are pushed out and cannot
	// hold the places that calls need, while a burst of real calls is not.
	MaxPendingHeaders int
	MaxPendingPerPeer int
	// ReadTimeout bounds the wait for each reply (default 2 min: STREAM
	// FILE and GET DATA reply only when the prompt has finished). WAIT FOR
	// DIGIT adds its own timeout to it, GET DATA its timeout for every
	// key it may read, and one more.
	ReadTimeout time.Duration
	// HeaderTimeout bounds reading the agi_* header (default 2 s).
	HeaderTimeout time.Duration
	// DrainTimeout bounds the wait for running sessions when the context
	// given to Serve is cancelled (default gate.DefaultDrainTimeout, as
	// over ARI; negative, gate.NoDrain: none); then their contexts are
	// cancelled.
	DrainTimeout time.Duration
	// MaxLineLen bounds a line (default 8 KiB) and MaxHeaderLines the
	// header (default 128 lines).
	MaxLineLen     int
	MaxHeaderLines int
	// Logger receives Warn lines for refused connections and missing
	// prompts and protocol traffic at Debug; nil discards.
	Logger *slog.Logger
	// OnState, if set, is called with the listener's address and true when
	// the server starts accepting, and with false when it stops accepting
	// (before the drain). It must not block.
	OnState gate.StateFunc
	// OnRefused, if set, is called with a Refused* reason for each
	// connection closed without a call. It must not block.
	OnRefused func(reason string)
}

// Server is a FastAGI server. It is safe for concurrent use; Serve may be
// called once.
type Server struct {
	cfg    Config
	lim    Limits
	log    *slog.Logger
	active atomic.Int64
	// refused counts connections closed because of MaxSessions.
	refused atomic.Int64
	// refusedLog is when a refusal was last logged (Unix ns).
	refusedLog atomic.Int64

	adm admission
}

// admission tracks the connections in the header phase (oldest first)
// and the sessions per peer.
type admission struct {
	mu          sync.Mutex
	pending     []*pendingConn
	peerPending map[string]int
	peerSess    map[string]int
	sessions    int
}

// pendingConn is a connection that has not sent its whole header.
type pendingConn struct {
	conn    net.Conn
	peer    string
	at      time.Time
	evicted atomic.Bool
	done    bool // left the pending list (under admission.mu)
}

// NewServer returns a Server for cfg.
func NewServer(cfg Config) *Server {
	if cfg.Addr == "" {
		cfg.Addr = DefaultAddr
	}
	if cfg.MaxSessions <= 0 {
		cfg.MaxSessions = DefaultMaxSessions
	}
	if cfg.ReadTimeout <= 0 {
		cfg.ReadTimeout = DefaultReadTimeout
	}
	if cfg.HeaderTimeout <= 0 {
		cfg.HeaderTimeout = DefaultHeaderTimeout
	}
	if cfg.MaxPendingHeaders <= 0 {
		cfg.MaxPendingHeaders = DefaultMaxPendingHeaders
	}
	if cfg.MaxPendingPerPeer <= 0 {
		cfg.MaxPendingPerPeer = DefaultMaxPendingPerPeer
	}
	lim := Limits{MaxLineLen: cfg.MaxLineLen, MaxHeaderLines: cfg.MaxHeaderLines}.withDefaults()
	cfg.MaxLineLen, cfg.MaxHeaderLines = lim.MaxLineLen, lim.MaxHeaderLines
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Server{cfg: cfg, lim: lim, log: log, adm: admission{peerPending: map[string]int{}, peerSess: map[string]int{}}}
}

// peerOf is the remote IP of conn, the key of the per-peer limits.
func peerOf(conn net.Conn) string {
	a := conn.RemoteAddr().String()
	if host, _, err := net.SplitHostPort(a); err == nil {
		return host
	}
	return a
}

// minEvictAge is how long a connection must have waited for its header
// before a newer one may push it out: Asterisk sends the header at once,
// so only a connection that has been quiet this long is taken for idle,
// and a burst of real calls that vipgate is slow to read is not cut.
// pendingHardFactor times the bounds, the oldest is pushed out whatever
// its age.
const (
	minEvictAge       = 500 * time.Millisecond
	pendingHardFactor = 4
)

// addPending registers a new connection in the header phase. Over
// MaxPendingPerPeer it closes the peer's oldest pending connection, else
// over MaxPendingHeaders the oldest of all, if that one has waited
// minEvictAge (always at pendingHardFactor times the bound). Eviction
// unblocks the evicted connection's header read.
func (s *Server) addPending(conn net.Conn) *pendingConn {
	now := time.Now()
	pc := &pendingConn{conn: conn, peer: peerOf(conn), at: now}
	a := &s.adm
	a.mu.Lock()
	defer a.mu.Unlock()
	evict := -1
	if n := a.peerPending[pc.peer]; n >= s.cfg.MaxPendingPerPeer {
		for i, p := range a.pending {
			if p.peer == pc.peer {
				if now.Sub(p.at) >= minEvictAge || n >= pendingHardFactor*s.cfg.MaxPendingPerPeer {
					evict = i
				}
				break
			}
		}
	} else if n := len(a.pending); n >= s.cfg.MaxPendingHeaders {
		if now.Sub(a.pending[0].at) >= minEvictAge || n >= pendingHardFactor*s.cfg.MaxPendingHeaders {
			evict = 0
		}
	}
	if evict >= 0 {
		old := a.pending[evict]
		a.removePendingAt(evict)
		old.evicted.Store(true)
		_ = old.conn.SetReadDeadline(aLongTimeAgo)
	}
	a.pending = append(a.pending, pc)
	a.peerPending[pc.peer]++
	return pc
}

func (a *admission) removePendingAt(i int) {
	p := a.pending[i]
	a.pending = append(a.pending[:i], a.pending[i+1:]...)
	p.done = true
	if a.peerPending[p.peer]--; a.peerPending[p.peer] <= 0 {
		delete(a.peerPending, p.peer)
	}
}

// endPending takes pc out of the header phase; it reports false when pc
// was evicted meanwhile.
func (s *Server) endPending(pc *pendingConn) bool {
	a := &s.adm
	a.mu.Lock()
	defer a.mu.Unlock()
	if !pc.done {
		for i, p := range a.pending {
			if p == pc {
				a.removePendingAt(i)
				break
			}
		}
	}
	return !pc.evicted.Load()
}

// startSession takes a session place for peer, or returns the reason it
// cannot.
func (s *Server) startSession(peer string) string {
	a := &s.adm
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.sessions >= s.cfg.MaxSessions {
		return RefusedSessions
	}
	if s.cfg.MaxSessionsPerPeer > 0 && a.peerSess[peer] >= s.cfg.MaxSessionsPerPeer {
		return RefusedPeer
	}
	a.sessions++
	a.peerSess[peer]++
	return ""
}

func (s *Server) endSession(peer string) {
	a := &s.adm
	a.mu.Lock()
	defer a.mu.Unlock()
	a.sessions--
	if a.peerSess[peer]--; a.peerSess[peer] <= 0 {
		delete(a.peerSess, peer)
	}
}

// refuse counts and reports a connection closed without a call; it logs
// at most one line a second, so an attack does not flood the log.
func (s *Server) refuse(reason string, conn net.Conn) {
	if reason == RefusedSessions {
		s.refused.Add(1)
	}
	if s.cfg.OnRefused != nil {
		s.cfg.OnRefused(reason)
	}
	if now := time.Now().UnixNano(); now-s.refusedLog.Load() >= int64(time.Second) {
		s.refusedLog.Store(now)
		s.log.Warn("agi: connection closed without a call", "reason", reason, "max_sessions", s.cfg.MaxSessions,
			"refused_total", s.refused.Load(), "remote", conn.RemoteAddr().String())
	}
}

// Sessions returns the number of connections being served (header phase
// included).
func (s *Server) Sessions() int { return int(s.active.Load()) }

// Refused returns the number of connections closed because the server was
// at MaxSessions (OnRefused reports every reason).
func (s *Server) Refused() int64 { return s.refused.Load() }

// ListenAndServe listens on cfg.Addr and serves until ctx is done; see
// Serve.
func (s *Server) ListenAndServe(ctx context.Context) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("agi: listen: %w", err)
	}
	return s.Serve(ctx, ln)
}

// Serve accepts FastAGI connections on ln until ctx is done or ln is
// closed. Then it closes ln, waits up to DrainTimeout for the running
// sessions, cancels the contexts of those still running, waits a few
// seconds more for them to end, and returns: nil after a shutdown through
// ctx in which every session finished in time, else an error.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if s.cfg.Handler == nil {
		_ = ln.Close()
		return errors.New("agi: serve: no handler")
	}
	// Sessions outlive ctx for the drain, then are cancelled.
	sessCtx, cancelSessions := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelSessions()
	stopClose := context.AfterFunc(ctx, func() { _ = ln.Close() })
	defer stopClose()

	name := ln.Addr().String()
	if s.cfg.OnState != nil {
		s.cfg.OnState(name, true)
	}
	var (
		calls   gate.CallGroup
		acceptE error
		backoff time.Duration
	)
	for {
		conn, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			if errors.Is(err, net.ErrClosed) {
				acceptE = fmt.Errorf("agi: accept: %w", err)
				break
			}
			// A transient failure (e.g. out of file descriptors): back
			// off and go on, as net/http does.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			s.log.Warn("agi: accept failed; retrying", "err", err, "retry_in", backoff)
			t := time.NewTimer(backoff)
			select {
			case <-ctx.Done():
			case <-t.C:
			}
			t.Stop()
			continue
		}
		backoff = 0
		// The header deadline is set before the connection is pending,
		// so that an eviction (a deadline in the past) is not undone.
		if err := conn.SetReadDeadline(time.Now().Add(s.cfg.HeaderTimeout)); err != nil {
			_ = conn.Close()
			continue
		}
		pc := s.addPending(conn)
		s.active.Add(1)
		calls.Add()
		go func() {
			defer calls.Done()
			defer s.active.Add(-1)
			s.serveConn(sessCtx, pc)
		}()
	}

	// Not accepting any more: report down before the drain.
	_ = ln.Close()
	if s.cfg.OnState != nil {
		s.cfg.OnState(name, false)
	}
	drain := gate.DrainTimeout(s.cfg.DrainTimeout)
	n := calls.Drain(drain)
	if n == 0 {
		return acceptE
	}
	cancelSessions()
	// Cancelled sessions end at once unless a handler ignores its
	// context; do not wait for such a handler forever.
	if left := calls.Drain(cancelGrace); left > 0 {
		return errors.Join(acceptE, fmt.Errorf("agi: shutdown: %d sessions cancelled after the drain timeout of %s; %d handlers still running", n, drain, left))
	}
	return errors.Join(acceptE, fmt.Errorf("agi: shutdown: %d sessions cancelled after the drain timeout of %s", n, drain))
}

// cancelGrace bounds the wait for sessions after their contexts have been
// cancelled at the end of the drain (a variable for tests).
var cancelGrace = 5 * time.Second

// readBufSize is the read buffer of a connection. Replies are short;
// longer lines (up to MaxLineLen) are assembled.
const readBufSize = 512

// errSessionEnded is the cause of a call context cancelled because the
// handler returned.
var errSessionEnded = errors.New("agi: session ended")

// serveConn runs one connection: header, session place, handler, close.
func (s *Server) serveConn(ctx context.Context, pc *pendingConn) {
	start := time.Now()
	conn := pc.conn
	defer conn.Close()
	// A hard stop unblocks whatever the connection is waiting for.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(aLongTimeAgo) })
	defer stop()

	r := bufio.NewReaderSize(conn, readBufSize)
	hdr, err := ReadHeader(r, s.lim)
	if !s.endPending(pc) {
		s.refuse(RefusedHeaderPending, conn)
		return
	}
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) && ctx.Err() == nil {
		s.refuse(RefusedHeaderTimeout, conn)
		return
	}
	if err != nil {
		lvl := slog.LevelWarn
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			// A port probe or a connection dropped by Asterisk.
			lvl = slog.LevelDebug
		}
		s.log.Log(ctx, lvl, "agi: bad connection closed", "remote", conn.RemoteAddr().String(), "err", err)
		return
	}
	if reason := s.startSession(pc.peer); reason != "" {
		s.refuse(reason, conn)
		return
	}
	defer s.endSession(pc.peer)
	if err := conn.SetReadDeadline(time.Time{}); err != nil {
		return
	}
	callCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(errSessionEnded)
	sess := newSession(conn, r, hdr, s.lim.MaxLineLen, s.cfg.ReadTimeout, s.log, func() { cancel(gate.ErrHangup) })
	sess.log.Debug("agi session start", "gate_name", sess.info.GateName, "called", sess.info.Called, "remote", conn.RemoteAddr().String())
	s.runHandler(callCtx, sess)
	sess.close()
	commands, hungUp := sess.stats()
	sess.log.Debug("agi session end", "commands", commands, "hangup", hungUp, "duration", time.Since(start))
}

// runHandler runs the handler and turns a panic into an Error line, so one
// bad call does not end every call.
func (s *Server) runHandler(ctx context.Context, sess *session) {
	defer func() {
		if v := recover(); v != nil {
			sess.log.Error("agi: handler panicked", "panic", fmt.Sprint(v))
		}
	}()
	s.cfg.Handler(ctx, sess)
}
