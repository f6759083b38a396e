package notify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/vipgate/vipgate/gate"
)

// Defaults of a Notifier.
const (
	DefaultOutboxMax   = 10000
	DefaultBuffer      = 1024
	DefaultLease       = 2 * time.Minute
	DefaultPoll        = time.Second
	DefaultBatch       = 16
	DefaultMaxAttempts = 12
	DefaultBackoff     = 2 * time.Second
	DefaultMaxBackoff  = 15 * time.Minute
	DefaultTimeout     = 10 * time.Second
	// DefaultDeadRetention is how long dead messages are kept.
	DefaultDeadRetention = 7 * 24 * time.Hour
)

// Channels of an outbox message.
const (
	ChannelWebhook = "webhook"
	ChannelEmail   = "email"
)

// Drop reasons of Metrics.Dropped.
const (
	DropFull   = "outbox_full" // the outbox is at its bound
	DropBuffer = "buffer"      // the intake buffer is full
	DropQuiet  = "quiet_hours" // a rule's quiet hours with action drop
	DropStore  = "store"       // the store failed (reading the gate, enqueueing)
)

// Metrics receives the Notifier's counts; calls must not block. Nil
// drops them.
type Metrics interface {
	// Sent, Failed and Dead count deliveries by channel: accepted, failed
	// (to be retried) and given up (the message is dead).
	Sent(channel string)
	Failed(channel string)
	Dead(channel string)
	// Dropped counts a notification not written to the outbox, by reason.
	Dropped(reason string)
	// Depth reports the outbox's pending and dead messages.
	Depth(d gate.OutboxDepth)
}

// Config wires a Notifier. Gates and Outbox are required.
type Config struct {
	Gates  gate.GateStore
	Outbox gate.Outbox
	// OutboxMax bounds the pending messages (0: DefaultOutboxMax; -1 no
	// bound).
	OutboxMax int
	// Buffer is the events that may wait to be written to the outbox;
	// beyond it they are dropped (counted).
	Buffer int
	// HTTP sends the event webhooks; nil means a client of its own.
	HTTP *http.Client
	// SMTP is the mail server; nil makes e-mail messages fail (and be
	// retried until dead) with "no SMTP server configured".
	SMTP *SMTP
	// Owner names this instance's leases; "" means a random one.
	Owner       string
	Lease       time.Duration
	Poll        time.Duration
	Batch       int
	MaxAttempts int
	// Backoff is the first retry's delay, doubled per attempt up to
	// MaxBackoff, with jitter.
	Backoff       time.Duration
	MaxBackoff    time.Duration
	Timeout       time.Duration // one delivery
	DeadRetention time.Duration
	Metrics       Metrics
	Logger        *slog.Logger
	Now           func() time.Time
}

func (c *Config) setDefaults() {
	if c.OutboxMax == 0 {
		c.OutboxMax = DefaultOutboxMax
	}
	if c.Buffer <= 0 {
		c.Buffer = DefaultBuffer
	}
	if c.HTTP == nil {
		c.HTTP = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if c.Owner == "" {
		c.Owner = "vipgate-" + randomID()[:12]
	}
	if c.Lease <= 0 {
		c.Lease = DefaultLease
	}
	if c.Poll <= 0 {
		c.Poll = DefaultPoll
	}
	if c.Batch <= 0 {
		c.Batch = DefaultBatch
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = DefaultMaxAttempts
	}
	if c.Backoff <= 0 {
		c.Backoff = DefaultBackoff
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = DefaultMaxBackoff
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.DeadRetention <= 0 {
		c.DeadRetention = DefaultDeadRetention
	}
	if c.Metrics == nil {
		c.Metrics = nopMetrics{}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

type nopMetrics struct{}

func (nopMetrics) Sent(string)            {}
func (nopMetrics) Failed(string)          {}
func (nopMetrics) Dead(string)            {}
func (nopMetrics) Dropped(string)         {}
func (nopMetrics) Depth(gate.OutboxDepth) {}

// Notifier turns what happens at gates into outbox messages and sends
// them. Its observer methods never block; Run does the work.
type Notifier struct {
	cfg  Config
	log  *slog.Logger
	in   chan occurrence
	wake chan struct{}

	mu     sync.Mutex
	limits map[string]*window // by gate ID + "/" + rule name
}

var (
	_ gate.Observer        = (*Notifier)(nil)
	_ gate.LockoutObserver = (*Notifier)(nil)
)

// occurrence is an event that happened, before the rules.
type occurrence struct {
	kind    gate.NotifyEvent
	gateID  string
	at      time.Time
	call    *Call
	lockout *Lockout
	reason  string
}

// New returns a Notifier; Run starts it.
func New(cfg Config) *Notifier {
	cfg.setDefaults()
	return &Notifier{cfg: cfg, log: cfg.Logger, in: make(chan occurrence, cfg.Buffer), wake: make(chan struct{}, 1), limits: map[string]*window{}}
}

// CallStarted implements gate.Observer.
func (n *Notifier) CallStarted(string) {}

// CallFinished implements gate.Observer: a passed VIP or a failed
// decision becomes an event.
func (n *Notifier) CallFinished(r *gate.CallRecord) {
	kind, ok := kindOf(r)
	if !ok {
		return
	}
	o := occurrence{kind: kind, gateID: r.GateID, at: n.cfg.Now(), call: callOf(r)}
	if kind == gate.EventDecideFailed {
		o.reason = r.ErrorClass
	}
	n.offer(o)
}

// LockoutSet implements gate.LockoutObserver.
func (n *Notifier) LockoutSet(l *gate.Lockout) {
	n.offer(occurrence{kind: gate.EventLockedOut, gateID: l.GateID, at: l.At,
		lockout: &Lockout{Caller: l.Caller, Until: l.Until, Failures: l.Failures}})
}

// WebhookBreaker takes the webhook authorizer's breaker reports (the
// webhook.Observer method): a breaker that opened is an event.
func (n *Notifier) WebhookBreaker(gateID string, open bool) {
	if open {
		n.offer(occurrence{kind: gate.EventBreakerOpened, gateID: gateID, at: n.cfg.Now(), reason: "webhook"})
	}
}

func (n *Notifier) offer(o occurrence) {
	if o.at.IsZero() {
		o.at = n.cfg.Now()
	}
	select {
	case n.in <- o:
	default:
		n.cfg.Metrics.Dropped(DropBuffer)
		n.log.Warn("notify: intake buffer full; event dropped", "gate", o.gateID, "event", string(o.kind))
	}
}

// Run writes offered events into the outbox and sends the outbox's
// messages until ctx is done; the events still in the intake buffer are
// written first (within a few seconds). It returns nil after ctx is
// done.
func (n *Notifier) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); n.send(ctx) }()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	defer wg.Wait()
	for {
		select {
		case o := <-n.in:
			n.handle(ctx, o)
		case <-tick.C:
			n.flushSummaries(ctx, false)
		case <-ctx.Done():
			// Write what was offered before the stop, then the
			// summaries of suppressed events, on a short deadline.
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
		drain:
			for {
				select {
				case o := <-n.in:
					n.handle(dctx, o)
				default:
					break drain
				}
			}
			n.flushSummaries(dctx, true)
			return nil
		}
	}
}

// handle applies the gate's rules to o and enqueues what they send.
func (n *Notifier) handle(ctx context.Context, o occurrence) {
	g, err := n.cfg.Gates.GetGate(ctx, o.gateID)
	if errors.Is(err, gate.ErrNotFound) {
		return
	}
	if err != nil {
		n.cfg.Metrics.Dropped(DropStore)
		n.log.Warn("notify: read gate; event dropped", "gate", o.gateID, "event", string(o.kind), "err", err)
		return
	}
	for i := range g.Notify {
		r := &g.Notify[i]
		if !r.Wants(o.kind) {
			continue
		}
		if !n.admit(g, r, o) {
			continue
		}
		e := Event{ID: randomID(), Type: string(o.kind), At: o.at.UTC(), Gate: GateRef{ID: g.ID, Name: g.Name}, Rule: r.Name,
			Call: o.call, Lockout: o.lockout, Reason: o.reason}
		n.enqueue(ctx, g, r, &e)
	}
}

// enqueue writes e into the outbox for each channel of r, held back to
// the end of r's quiet hours if e falls in them.
func (n *Notifier) enqueue(ctx context.Context, g *gate.Gate, r *gate.NotifyRule, e *Event) {
	next := n.cfg.Now() // the sender's clock, which claims
	if end, quiet := r.QuietHours.Quiet(e.At, g.Location()); quiet {
		if r.QuietHours.Action == gate.QuietDrop {
			n.cfg.Metrics.Dropped(DropQuiet)
			return
		}
		next = end
	}
	body, err := json.Marshal(e)
	if err != nil {
		n.log.Error("notify: encode event", "err", err)
		return
	}
	var msgs []*gate.OutboxMessage
	for _, ch := range channels(r) {
		msgs = append(msgs, &gate.OutboxMessage{Key: e.ID + "." + r.Name + "." + ch, GateID: g.ID, Rule: r.Name, Channel: ch, Event: body, NextAt: next})
	}
	err = n.cfg.Outbox.EnqueueOutbox(ctx, msgs, max(n.cfg.OutboxMax, 0))
	switch {
	case errors.Is(err, gate.ErrOutboxFull):
		n.cfg.Metrics.Dropped(DropFull)
		n.log.Warn("notify: outbox full; newest event dropped", "gate", g.ID, "rule", r.Name, "event", e.Type, "max", n.cfg.OutboxMax)
	case err != nil:
		n.cfg.Metrics.Dropped(DropStore)
		n.log.Warn("notify: enqueue; event dropped", "gate", g.ID, "rule", r.Name, "event", e.Type, "err", err)
	default:
		select {
		case n.wake <- struct{}{}:
		default:
		}
	}
}

func channels(r *gate.NotifyRule) []string {
	var cs []string
	if r.Webhook != nil {
		cs = append(cs, ChannelWebhook)
	}
	if r.Email != nil {
		cs = append(cs, ChannelEmail)
	}
	return cs
}

// window is a rule's rate-limit minute.
type window struct {
	start      time.Time
	count      int
	suppressed map[string]int
	g          *gate.Gate
	rule       *gate.NotifyRule
}

// admit counts o against r's rate limit and reports whether it may be
// sent; an event beyond the limit is counted for the minute's summary.
func (n *Notifier) admit(g *gate.Gate, r *gate.NotifyRule, o occurrence) bool {
	if r.RateLimit <= 0 {
		return true
	}
	start := o.at.Truncate(time.Minute)
	key := g.ID + "/" + r.Name
	n.mu.Lock()
	w := n.limits[key]
	var due *window
	if w == nil || !w.start.Equal(start) {
		if w != nil && len(w.suppressed) > 0 {
			due = w
		}
		w = &window{start: start}
		n.limits[key] = w
	}
	w.count++
	ok := w.count <= r.RateLimit
	if !ok {
		if w.suppressed == nil {
			w.suppressed = map[string]int{}
		}
		w.suppressed[string(o.kind)]++
		w.g, w.rule = g, r
	}
	n.mu.Unlock()
	if due != nil {
		n.summarise(context.Background(), due)
	}
	return ok
}

// flushSummaries enqueues the summaries of the minutes that are over (all,
// if all).
func (n *Notifier) flushSummaries(ctx context.Context, all bool) {
	now := n.cfg.Now().Truncate(time.Minute)
	var due []*window
	n.mu.Lock()
	for k, w := range n.limits {
		if all || w.start.Before(now) {
			if len(w.suppressed) > 0 {
				due = append(due, w)
			}
			delete(n.limits, k)
		}
	}
	n.mu.Unlock()
	for _, w := range due {
		n.summarise(ctx, w)
	}
}

func (n *Notifier) summarise(ctx context.Context, w *window) {
	e := Event{ID: randomID(), Type: TypeSummary, At: w.start.Add(time.Minute).UTC(), Gate: GateRef{ID: w.g.ID, Name: w.g.Name}, Rule: w.rule.Name,
		Summary: &Summary{From: w.start.UTC(), To: w.start.Add(time.Minute).UTC(), Suppressed: w.suppressed}}
	n.enqueue(ctx, w.g, w.rule, &e)
}

// randomID returns 32 hex digits from crypto/rand.
func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
