package ari

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vipgate/vipgate/gate"
)

const (
	// maxBufferedDigits bounds the digits kept during one Collect.
	maxBufferedDigits = 64
)

// call is one channel in Stasis, driven through gate.Call. The server's
// reader goroutine feeds it events (under mu, never blocking); the call's
// own goroutine runs the Handler and does all REST calls.
type call struct {
	srv       *server
	cl        *Client
	id        string
	ch        *Channel
	args      []string
	info      gate.CallInfo
	recovered bool
	started   time.Time // when StasisStart was dispatched (or recovery began)
	log       *slog.Logger
	firstCmd  sync.Once

	ctx    context.Context
	cancel context.CancelCauseFunc
	done   chan struct{} // closed when the channel is out of vipgate's control
	wake   chan struct{} // capacity 1: something changed under mu

	mu         sync.Mutex
	state      string
	ended      bool
	leaving    string // "continue" or "hangup" while vipgate lets go of the channel
	released   bool   // Continue or Hangup succeeded
	resultSet  bool   // gate.VarResult has been set
	collecting bool
	digits     []byte
	pbs        map[string]*pbState
	seq        int
}

// pbState is what the reader learned about one of our playbacks.
type pbState struct {
	finished bool
	stopped  bool // we asked Asterisk to stop it; nobody waits for it
	result   string
	// link is the server's event connection count when it started;
	// reported says Asterisk always reports the end of its media
	// (sound:, a missing file included).
	link     uint64
	reported bool
}

var _ gate.Call = (*call)(nil)

func newCall(s *server, ch *Channel, args []string, recovered bool) *call {
	ctx, cancel := context.WithCancelCause(s.base)
	c := &call{
		srv:       s,
		cl:        s.client,
		id:        ch.ID,
		ch:        ch,
		args:      args,
		info:      callInfo(ch, args, nil, nil),
		recovered: recovered,
		started:   time.Now(),
		ctx:       ctx,
		cancel:    cancel,
		done:      make(chan struct{}),
		wake:      make(chan struct{}, 1),
		state:     ch.State,
		pbs:       make(map[string]*pbState),
	}
	c.log = gate.CallLogger(s.log, c.info)
	return c
}

// testHookFirstCommand, if set (by tests), is told when the first command
// of a call is about to be sent: the latency vipgate adds to a call.
var testHookFirstCommand func(channelID string, started, sent time.Time)

// testHookCollect, if set (by tests), is told the options each Collect
// runs with, after the defaults are filled in.
var testHookCollect func(opts gate.CollectOptions)

// command is called at the start of every method that sends a command.
func (c *call) command() {
	if h := testHookFirstCommand; h != nil {
		c.firstCmd.Do(func() { h(c.id, c.started, time.Now()) })
	}
}

// signal wakes the call goroutine; it never blocks. Call with mu held or not.
func (c *call) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// end marks the channel as out of vipgate's control. Unless the event is
// the consequence of vipgate's own continue or hang-up (byUs), it cancels
// the call's context with gate.ErrHangup as its cause. Safe to call more
// than once.
func (c *call) end(reason string, byUs func(leaving string) bool) {
	c.mu.Lock()
	already := c.ended
	if !already {
		// Cancel before anyone can see ended, so that a method returning
		// ErrHangup always finds the context cancelled too.
		if byUs == nil || !byUs(c.leaving) {
			c.cancel(gate.ErrHangup)
		}
		c.ended = true
		close(c.done)
	}
	c.mu.Unlock()
	if already {
		return
	}
	c.log.Debug("ari call ended", "reason", reason)
	c.signal()
}

// leave records that vipgate is letting go of the channel by kind
// ("continue", "hangup"; "" when the attempt failed), so that the
// StasisEnd or hang-up request it causes is not taken for the caller
// hanging up.
func (c *call) leave(kind string) {
	c.mu.Lock()
	c.leaving = kind
	c.mu.Unlock()
}

// deliver hands an event to the call. It runs on the reader goroutine and
// never blocks on I/O.
func (c *call) deliver(ev Event) {
	switch ev.(type) {
	case *StasisEnd:
		// After vipgate's continue or hang-up, StasisEnd is expected.
		c.end("StasisEnd", func(leaving string) bool { return leaving != "" })
		return
	case *ChannelHangupRequest:
		// Only vipgate's own hang-up causes a hang-up request it expects;
		// during a continue it is the caller hanging up.
		c.end("ChannelHangupRequest", func(leaving string) bool { return leaving == "hangup" })
		return
	case *ChannelDestroyed:
		c.end("ChannelDestroyed", func(leaving string) bool { return leaving == "hangup" })
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch e := ev.(type) {
	case *ChannelDtmfReceived:
		// Digits count only inside Collect; the digit itself is never logged.
		kept := c.collecting && len(c.digits) < maxBufferedDigits && len(e.Digit) == 1
		if kept {
			c.digits = append(c.digits, e.Digit[0])
		}
		c.log.Debug("ari dtmf received", "kept", kept)
		if !kept {
			return // nothing for the call goroutine to see
		}
	case *ChannelStateChange:
		c.state = e.Channel.State
	case *PlaybackFinished:
		if pb := c.pbs[e.Playback.ID]; pb != nil {
			pb.finished, pb.result = true, e.Playback.State
			if pb.stopped {
				delete(c.pbs, e.Playback.ID)
			}
		}
	default:
		return
	}
	c.signal()
}

func (c *call) isEnded() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ended
}

// letGo reports whether vipgate is done with the channel: it was routed, or
// it left Stasis.
func (c *call) letGo() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.released || c.ended
}

// fail wraps err for op; once the channel is gone every failure is a
// hang-up.
func (c *call) fail(op string, err error) error {
	if err == nil {
		return nil
	}
	if !errors.Is(err, gate.ErrHangup) && c.isEnded() {
		return fmt.Errorf("ari: %s: %w (%w)", op, gate.ErrHangup, err)
	}
	var ae *Error
	if errors.As(err, &ae) {
		return err
	}
	return fmt.Errorf("ari: %s: %w", op, err)
}

func (c *call) hangupErr(op string) error { return fmt.Errorf("ari: %s: %w", op, gate.ErrHangup) }

func (c *call) ctxErr(ctx context.Context, op string) error {
	if c.isEnded() {
		return c.hangupErr(op)
	}
	return fmt.Errorf("ari: %s: %w", op, context.Cause(ctx))
}

// Info returns what is known about the call.
func (c *call) Info() gate.CallInfo { return c.info }

// Answer answers the channel unless it is up already.
func (c *call) Answer(ctx context.Context) error {
	c.command()
	c.mu.Lock()
	up, ended := c.state == StateUp, c.ended
	c.mu.Unlock()
	if ended {
		return c.hangupErr("answer")
	}
	if up {
		return nil
	}
	if err := c.cl.Answer(ctx, c.id); err != nil {
		return c.fail("answer", err)
	}
	c.mu.Lock()
	c.state = StateUp
	c.mu.Unlock()
	return nil
}

// SetVars sets channel variables, in one request where Asterisk can.
func (c *call) SetVars(ctx context.Context, vars ...gate.Var) error {
	c.command()
	if c.isEnded() {
		return c.hangupErr("set variables")
	}
	err := c.cl.SetVars(ctx, c.id, vars)
	if err != nil && (errors.Is(err, gate.ErrHangup) || c.isEnded()) {
		return c.fail("set variables", err)
	}
	if slices.ContainsFunc(vars, func(v gate.Var) bool { return v.Name == gate.VarResult }) && varSet(err, gate.VarResult) {
		c.mu.Lock()
		c.resultSet = true
		c.mu.Unlock()
	}
	return c.fail("set variables", err)
}

// markUndecided sets gate.VarResult to gate.ResultFallback before vipgate
// lets go of a call whose result nobody set, as the FastAGI session does. A
// failure is logged; the call is let go all the same.
func (c *call) markUndecided(ctx context.Context) {
	c.mu.Lock()
	set := c.resultSet
	c.mu.Unlock()
	if set || c.isEnded() {
		return
	}
	if err := c.SetVars(ctx, gate.Var{Name: gate.VarResult, Value: gate.ResultFallback}); err != nil {
		c.log.Debug("ari: set result variable failed", "err", err)
	}
}

// mediaURI turns a prompt name into an ARI media URI: names that carry a
// media scheme are used as they are, anything else is a sound file.
func mediaURI(name string) string {
	for _, s := range []string{"sound:", "recording:", "number:", "digits:", "characters:", "tone:"} {
		if strings.HasPrefix(name, s) {
			return name
		}
	}
	return "sound:" + name
}

// startPlayback registers interest in a new playback id and then asks
// Asterisk to play, so that a fast PlaybackFinished is never missed.
func (c *call) startPlayback(ctx context.Context, p gate.Prompt) (string, error) {
	c.command()
	c.mu.Lock()
	if c.ended {
		c.mu.Unlock()
		return "", c.hangupErr("play")
	}
	c.seq++
	id := c.srv.app.pbPrefix + c.id + "-" + strconv.Itoa(c.seq)
	uri := mediaURI(p.Name)
	c.pbs[id] = &pbState{link: c.srv.links.Load(), reported: strings.HasPrefix(uri, "sound:")}
	c.mu.Unlock()
	// The answer (the new playback) says nothing vipgate does not know.
	if err := c.cl.play(ctx, c.id, id, []string{uri}, p.Lang, nil); err != nil {
		c.mu.Lock()
		delete(c.pbs, id)
		c.mu.Unlock()
		return "", c.fail("play "+string(p.Key), err)
	}
	c.log.Debug("ari playback queued", "playback", id, "prompt", p.Key)
	return id, nil
}

// playbackDone checks (under mu) whether playback id has ended and forgets
// it if so.
func (c *call) playbackDone(id string) (bool, string) {
	pb := c.pbs[id]
	if pb == nil {
		return true, ""
	}
	if pb.finished {
		delete(c.pbs, id)
		return true, pb.result
	}
	return false, ""
}

// pollPlayback asks Asterisk whether playback id still exists. Asterisk
// forgets a playback when it ends, also when it never reports
// PlaybackFinished (media other than sound:, see REFERENCE.md) or the
// event was lost while the websocket was down; such a playback is marked
// finished as "gone". A sound: playback started while the event
// connection was up, and that is still the same connection, needs no
// request: its PlaybackFinished will come.
func (c *call) pollPlayback(ctx context.Context, id string) {
	c.mu.Lock()
	pb := c.pbs[id]
	sure := pb != nil && pb.reported && pb.link%2 == 1 && pb.link == c.srv.links.Load()
	c.mu.Unlock()
	if sure {
		return
	}
	_, err := c.cl.GetPlayback(ctx, id)
	if !errors.Is(err, gate.ErrNotFound) {
		return
	}
	c.mu.Lock()
	if pb := c.pbs[id]; pb != nil && !pb.finished {
		pb.finished, pb.result = true, "gone"
	}
	c.mu.Unlock()
}

// stopPlayback asks Asterisk to stop playback id and stops waiting for it.
// A playback that has ended already is fine; errors are logged only.
func (c *call) stopPlayback(ctx context.Context, id string) {
	c.mu.Lock()
	pb := c.pbs[id]
	if pb == nil || pb.finished || pb.stopped {
		if pb != nil && pb.finished {
			delete(c.pbs, id)
		}
		c.mu.Unlock()
		return
	}
	pb.stopped = true
	c.mu.Unlock()
	err := c.cl.StopPlayback(ctx, id)
	if err != nil && !errors.Is(err, gate.ErrNotFound) {
		c.log.Debug("ari stop playback failed", "playback", id, "err", err)
	}
	c.mu.Lock()
	if pb.finished || err != nil {
		delete(c.pbs, id)
	}
	c.mu.Unlock()
}

// stopPlaybacks stops every playback still running, so that a following
// continue or hang-up is not queued behind a prompt.
func (c *call) stopPlaybacks(ctx context.Context) {
	c.mu.Lock()
	var ids []string
	for id, pb := range c.pbs {
		if !pb.finished && !pb.stopped {
			ids = append(ids, id)
		}
	}
	c.mu.Unlock()
	for _, id := range ids {
		c.stopPlayback(ctx, id)
	}
}

// Play plays the prompts one after the other. Each is covered by a timer
// (AppConfig.MaxPlayback) and by polling, in case Asterisk never reports
// its end. A missing sound file is logged, not returned.
func (c *call) Play(ctx context.Context, prompts ...gate.Prompt) error {
	for _, p := range prompts {
		if p.Name == "" {
			continue
		}
		id, err := c.startPlayback(ctx, p)
		if err != nil {
			return err
		}
		if err := c.waitPlayback(ctx, id, p); err != nil {
			return err
		}
	}
	return nil
}

func (c *call) waitPlayback(ctx context.Context, id string, p gate.Prompt) error {
	cfg := &c.srv.app.cfg
	limit := time.NewTimer(cfg.MaxPlayback)
	defer limit.Stop()
	poll := time.NewTicker(cfg.PlaybackPoll)
	defer poll.Stop()
	for {
		c.mu.Lock()
		done, result := c.playbackDone(id)
		ended := c.ended
		c.mu.Unlock()
		if done {
			if result == PlaybackStateFailed && !ended {
				c.log.Warn("ari prompt could not be played", "prompt", p.Key, "sound", p.Name)
			}
			if ended {
				return c.hangupErr("play")
			}
			return nil
		}
		if ended {
			return c.hangupErr("play")
		}
		select {
		case <-c.wake:
		case <-c.done:
		case <-ctx.Done():
			if !c.isEnded() {
				c.stopPlayback(context.WithoutCancel(ctx), id)
			}
			return c.ctxErr(ctx, "play")
		case <-poll.C:
			c.pollPlayback(ctx, id)
		case <-limit.C:
			c.log.Warn("ari playback did not finish in time; stopping it", "prompt", p.Key, "limit", cfg.MaxPlayback)
			c.stopPlayback(ctx, id)
			return nil
		}
	}
}

// Collect plays prompt and collects digits with barge-in. Digits count only
// from the start of Collect: keys pressed between Collects (for instance
// during a "wrong PIN" announcement played with Play) are dropped. The first
// digit stops the prompt (Asterisk does not stop ARI playbacks on DTMF).
// The first-digit timeout starts when the prompt has ended; each digit
// restarts the inter-digit timeout. A terminator pressed before any digit
// while the prompt still plays is ignored: it is the tail of the previous
// input (a PIN that ended at MaxDigits, followed by "#").
func (c *call) Collect(ctx context.Context, prompt gate.Prompt, opts gate.CollectOptions) (gate.Input, error) {
	cfg := &c.srv.app.cfg
	opts = opts.WithDefaults()
	if h := testHookCollect; h != nil {
		h(opts)
	}
	c.mu.Lock()
	if c.ended {
		c.mu.Unlock()
		return gate.Input{}, c.hangupErr("collect")
	}
	c.collecting = true
	c.digits = c.digits[:0]
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.collecting = false
		clear(c.digits)
		c.digits = c.digits[:0]
		c.mu.Unlock()
	}()

	var pbID string
	if prompt.Name != "" {
		id, err := c.startPlayback(ctx, prompt)
		if err != nil {
			return gate.Input{}, err
		}
		pbID = id
	}
	playing := pbID != ""
	var in []byte
	defer func() { clear(in) }() // the typed digits do not linger in memory

	// timer is the digit timeout; it is armed once the prompt is over.
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	armed := false
	arm := func(d time.Duration) { timer.Reset(d); armed = true }
	defer timer.Stop()
	limit := time.NewTimer(cfg.MaxPlayback)
	defer limit.Stop()
	poll := time.NewTicker(cfg.PlaybackPoll)
	defer poll.Stop()
	if !playing {
		arm(opts.FirstDigit)
	}
	var pending [maxBufferedDigits]byte
	for {
		c.mu.Lock()
		n := copy(pending[:], c.digits)
		c.digits = c.digits[:0]
		if playing {
			if done, result := c.playbackDone(pbID); done {
				playing = false
				if result == PlaybackStateFailed && !c.ended {
					c.log.Warn("ari prompt could not be played", "prompt", prompt.Key, "sound", prompt.Name)
				}
			}
		}
		ended := c.ended
		c.mu.Unlock()
		if ended {
			clear(pending[:n])
			return gate.Input{}, c.hangupErr("collect")
		}
		for i := 0; i < n; i++ {
			d := pending[i]
			pending[i] = 0
			term := strings.IndexByte(opts.Terminator, d) >= 0
			if term && playing && len(in) == 0 {
				// A terminator before any digit while the prompt still
				// plays is a leftover of the previous input (a PIN ended
				// by max digits, then "#"); it neither stops the prompt
				// nor ends this input.
				continue
			}
			if playing {
				// Barge-in: the first digit stops the prompt.
				c.stopPlayback(ctx, pbID)
				playing = false
			}
			if term {
				clear(pending[:n])
				return gate.Input{Digits: string(in), Terminated: true}, nil
			}
			in = append(in, d)
			if opts.MaxDigits > 0 && len(in) >= opts.MaxDigits {
				clear(pending[:n])
				return gate.Input{Digits: string(in)}, nil
			}
			arm(opts.InterDigit)
		}
		if !playing && !armed {
			arm(opts.FirstDigit)
		}
		var pollC, limitC <-chan time.Time
		if playing {
			pollC, limitC = poll.C, limit.C
		}
		select {
		case <-c.wake:
		case <-c.done:
		case <-ctx.Done():
			if playing && !c.isEnded() {
				c.stopPlayback(context.WithoutCancel(ctx), pbID)
			}
			return gate.Input{}, c.ctxErr(ctx, "collect")
		case <-timer.C:
			armed = false
			return gate.Input{Digits: string(in), TimedOut: true}, nil
		case <-pollC:
			c.pollPlayback(ctx, pbID)
		case <-limitC:
			c.log.Warn("ari playback did not finish in time; stopping it", "prompt", prompt.Key, "limit", cfg.MaxPlayback)
			c.stopPlayback(ctx, pbID)
			playing = false
		}
	}
}

// Continue sends the call on and lets go of it. Running playbacks are
// stopped first, because Asterisk would run the continue only after them.
// Its requests are not cancelled with ctx (the StasisEnd that follows a
// continue may arrive before the answer); each is bounded by the request
// timeout.
func (c *call) Continue(ctx context.Context, t gate.Target) error {
	c.command()
	if t.Kind == gate.TargetHangup {
		return c.Hangup(ctx, t.Cause)
	}
	if c.isEnded() {
		return c.hangupErr("continue")
	}
	// StasisEnd may overtake Asterisk's answer to continue and cancel the
	// call's context; the request itself must not be cancelled by that.
	// It stays bounded by the request timeout.
	ctx = context.WithoutCancel(ctx)
	c.stopPlaybacks(ctx)
	c.markUndecided(ctx)
	var err error
	c.leave("continue")
	switch t.Kind {
	case gate.TargetContinue, "":
		err = c.cl.Continue(ctx, c.id, "", "", 0, "")
	case gate.TargetExtension, gate.TargetLocation:
		err = c.cl.Continue(ctx, c.id, t.Context, t.Exten, max(t.Priority, 1), "")
	default:
		err = fmt.Errorf("ari: continue to %q: %w", t.Kind, gate.ErrInvalid)
	}
	if err != nil {
		c.leave("")
		return c.fail("continue", err)
	}
	c.mu.Lock()
	c.released = true
	c.mu.Unlock()
	c.log.Debug("ari call continued", "target", t.String())
	return nil
}

// Hangup hangs the channel up with cause ("" means normal) and lets go of
// it. A channel that is gone already is not an error. Like Continue, its
// requests are bounded by the request timeout, not by ctx.
func (c *call) Hangup(ctx context.Context, cause gate.Cause) error {
	c.command()
	if cause == "" {
		cause = gate.CauseNormal
	}
	ctx = context.WithoutCancel(ctx) // see Continue
	if !c.isEnded() {
		c.stopPlaybacks(ctx)
		c.markUndecided(ctx)
	}
	c.leave("hangup")
	err := c.cl.Hangup(ctx, c.id, string(cause))
	if err != nil && !errors.Is(err, gate.ErrHangup) {
		c.leave("")
		return c.fail("hangup", err)
	}
	c.mu.Lock()
	c.released = true
	c.mu.Unlock()
	c.log.Debug("ari call hung up", "cause", cause)
	return nil
}
