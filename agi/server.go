package agi

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync/atomic"
	"time"

	"github.com/vipgate/vipgate/gate"
)

// Defaults of Config.
const (
	DefaultAddr          = ":4573"
	DefaultMaxSessions   = 1000
	DefaultReadTimeout   = 2 * time.Minute
	DefaultHeaderTimeout = 5 * time.Second
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
	// connection over the limit is accepted and closed at once: Asterisk
	// goes on with the dialplan with VIPGATE_RESULT unset.
	MaxSessions int
	// ReadTimeout bounds the wait for each reply (default 2 min: STREAM
	// FILE replies only when the prompt has finished). WAIT FOR DIGIT adds
	// its own timeout to it.
	ReadTimeout time.Duration
	// HeaderTimeout bounds reading the agi_* header (default 5 s).
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
	lim := Limits{MaxLineLen: cfg.MaxLineLen, MaxHeaderLines: cfg.MaxHeaderLines}.withDefaults()
	cfg.MaxLineLen, cfg.MaxHeaderLines = lim.MaxLineLen, lim.MaxHeaderLines
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Server{cfg: cfg, lim: lim, log: log}
}

// Sessions returns the number of connections being served.
func (s *Server) Sessions() int { return int(s.active.Load()) }

// Refused returns the number of connections closed because the server was
// at MaxSessions.
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
		slots   = make(chan struct{}, s.cfg.MaxSessions)
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
		select {
		case slots <- struct{}{}:
		default:
			n := s.refused.Add(1)
			// At most one line a second, so an overload does not flood the log.
			if now := time.Now().UnixNano(); now-s.refusedLog.Load() >= int64(time.Second) {
				s.refusedLog.Store(now)
				s.log.Warn("agi: session limit reached, connection closed", "max_sessions", s.cfg.MaxSessions, "refused_total", n, "remote", conn.RemoteAddr().String())
			}
			_ = conn.Close()
			continue
		}
		s.active.Add(1)
		calls.Add()
		go func() {
			defer calls.Done()
			defer func() { <-slots }()
			defer s.active.Add(-1)
			s.serveConn(sessCtx, conn)
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

// serveConn runs one connection: header, handler, close.
func (s *Server) serveConn(ctx context.Context, conn net.Conn) {
	start := time.Now()
	defer conn.Close()
	// A hard stop unblocks whatever the connection is waiting for.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(aLongTimeAgo) })
	defer stop()

	r := bufio.NewReaderSize(conn, readBufSize)
	if err := conn.SetReadDeadline(time.Now().Add(s.cfg.HeaderTimeout)); err != nil {
		return
	}
	hdr, err := ReadHeader(r, s.lim)
	if err != nil {
		lvl := slog.LevelWarn
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			// A port probe or a connection dropped by Asterisk.
			lvl = slog.LevelDebug
		}
		s.log.Log(ctx, lvl, "agi: bad connection closed", "remote", conn.RemoteAddr().String(), "err", err)
		return
	}
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
