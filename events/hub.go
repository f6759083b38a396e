package events

import (
	"sync"
	"time"

	"github.com/vipgate/vipgate/gate"
)

// Event is one call decision as subscribers see it.
type Event struct {
	// ID grows by one per event of a Hub (from 1); a client resumes with
	// the ID of the last event it saw.
	ID   uint64 `json:"id"`
	Type string `json:"type"` // "call"
	// At is when vipgate let go of the call.
	At   time.Time  `json:"at"`
	Call *CallEvent `json:"call,omitempty"`
}

// CallEvent is the part of a call-log row an event carries.
type CallEvent struct {
	At              time.Time      `json:"at"` // arrival
	Source          string         `json:"source"`
	ChannelID       string         `json:"channel_id,omitempty"`
	GateID          string         `json:"gate_id,omitempty"`
	Caller          string         `json:"caller"`
	Called          string         `json:"called"`
	Active          bool           `json:"active"`
	Mode            gate.IdentMode `json:"mode,omitempty"`
	Verdict         gate.Verdict   `json:"verdict,omitempty"`
	Attempts        int            `json:"attempts"`
	Outcome         gate.Outcome   `json:"outcome"`
	Target          string         `json:"target,omitempty"`
	EntryID         int64          `json:"entry_id,omitempty"`
	DecisionLatency float64        `json:"decision_latency_ms"`
	Duration        float64        `json:"duration_ms"`
	WebhookLatency  float64        `json:"webhook_latency_ms,omitempty"`
	ErrorClass      string         `json:"error_class,omitempty"`
}

// TypeCall is the Type of a call decision.
const TypeCall = "call"

// Defaults of a Hub.
const (
	// DefaultBuffer is the events one subscriber may fall behind by
	// before it is dropped.
	DefaultBuffer = 256
	// DefaultReplay is how many recent events a Hub keeps for clients
	// that reconnect.
	DefaultReplay = 1024
	// DefaultMaxSubscribers bounds the subscribers of a Hub.
	DefaultMaxSubscribers = 64
)

// Config tunes a Hub; zero values mean the defaults.
type Config struct {
	Buffer         int
	Replay         int
	MaxSubscribers int
}

// Hub fans events out to subscribers. It implements gate.Observer, so
// gate.Flow publishes every finished call to it. Its methods are safe for
// concurrent use; none blocks on a subscriber.
type Hub struct {
	cfg Config

	mu      sync.Mutex
	next    uint64
	ring    []Event // the last events, at most cfg.Replay; oldest at head once full
	head    int
	subs    map[*Subscription]struct{}
	dropped uint64
	closed  bool
}

var _ gate.Observer = (*Hub)(nil)

// NewHub returns a Hub.
func NewHub(cfg Config) *Hub {
	if cfg.Buffer <= 0 {
		cfg.Buffer = DefaultBuffer
	}
	if cfg.Replay <= 0 {
		cfg.Replay = DefaultReplay
	}
	if cfg.MaxSubscribers <= 0 {
		cfg.MaxSubscribers = DefaultMaxSubscribers
	}
	return &Hub{cfg: cfg, next: 1, subs: map[*Subscription]struct{}{}}
}

// Filter selects events for a subscriber; the zero value selects all.
type Filter struct {
	GateID string
}

func (f Filter) match(e *Event) bool {
	return f.GateID == "" || (e.Call != nil && e.Call.GateID == f.GateID)
}

// Subscription is one subscriber's stream.
type Subscription struct {
	hub    *Hub
	filter Filter
	ch     chan Event
	// dropped is set, under hub.mu, before ch is closed by the hub.
	dropped bool
	closed  bool
}

// C delivers the events in ID order. It is closed when the subscriber is
// dropped for falling behind (Dropped is then true) or cancelled.
func (s *Subscription) C() <-chan Event { return s.ch }

// Dropped reports whether the hub dropped the subscriber because its
// buffer was full. Read it after C is closed.
func (s *Subscription) Dropped() bool {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	return s.dropped
}

// Cancel ends the subscription; C is closed. Calling it again does
// nothing.
func (s *Subscription) Cancel() {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	s.hub.remove(s)
}

// remove closes s; hub.mu is held.
func (h *Hub) remove(s *Subscription) {
	if s.closed {
		return
	}
	s.closed = true
	delete(h.subs, s)
	close(s.ch)
}

// ErrTooMany is returned by Subscribe when the hub has its most
// subscribers.
var ErrTooMany = errTooMany{}

type errTooMany struct{}

func (errTooMany) Error() string { return "events: too many subscribers" }

// Subscribe adds a subscriber. With after > 0 it first receives the
// events after that ID that the hub still keeps (as many as fit in its
// buffer), and missed reports whether some after it are gone (or after is
// from an earlier process: then it receives every event kept).
func (h *Hub) Subscribe(f Filter, after uint64) (*Subscription, bool, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, false, ErrClosed
	}
	if len(h.subs) >= h.cfg.MaxSubscribers {
		return nil, false, ErrTooMany
	}
	s := &Subscription{hub: h, filter: f, ch: make(chan Event, h.cfg.Buffer)}
	missed := false
	if after >= h.next {
		// An ID this hub has not given out: the client saw an earlier
		// process. It gets what is kept, and is told it missed some.
		after, missed = 0, true
	}
	if after > 0 || missed {
		var backlog []Event
		kept := h.kept()
		for _, e := range kept {
			if e.ID > after && f.match(&e) {
				backlog = append(backlog, e)
			}
		}
		if after > 0 && len(kept) > 0 && kept[0].ID > after+1 {
			missed = true
		}
		if len(backlog) > h.cfg.Buffer {
			backlog, missed = backlog[len(backlog)-h.cfg.Buffer:], true
		}
		for _, e := range backlog {
			s.ch <- e
		}
	}
	h.subs[s] = struct{}{}
	return s, missed, nil
}

// Publish gives e the next ID, keeps it for replay and hands it to every
// subscriber whose filter selects it; a subscriber whose buffer is full is
// dropped. It returns the event as published.
func (h *Hub) Publish(e Event) Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	e.ID = h.next
	h.next++
	if len(h.ring) < h.cfg.Replay {
		h.ring = append(h.ring, e)
	} else {
		h.ring[h.head] = e
		h.head = (h.head + 1) % len(h.ring)
	}
	for s := range h.subs {
		if !s.filter.match(&e) {
			continue
		}
		select {
		case s.ch <- e:
		default:
			s.dropped = true
			h.dropped++
			h.remove(s)
		}
	}
	return e
}

// kept returns the ring's events, oldest first; hub.mu is held.
func (h *Hub) kept() []Event {
	return append(h.ring[h.head:len(h.ring):len(h.ring)], h.ring[:h.head]...)
}

// Subscribers is the number of subscribers now.
func (h *Hub) Subscribers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}

// DroppedTotal is the number of subscribers dropped for falling behind.
func (h *Hub) DroppedTotal() uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.dropped
}

// CallStarted implements gate.Observer; arrivals are not events.
func (h *Hub) CallStarted(source string) {}

// CallFinished implements gate.Observer: it publishes the call's
// decision.
func (h *Hub) CallFinished(r *gate.CallRecord) {
	if r == nil {
		return
	}
	h.Publish(Event{Type: TypeCall, At: r.At.Add(r.Duration).UTC(), Call: callEvent(r)})
}

func callEvent(r *gate.CallRecord) *CallEvent {
	ms := func(d time.Duration) float64 { return float64(d) / 1e6 }
	return &CallEvent{
		At: r.At.UTC(), Source: r.Source, ChannelID: r.ChannelID, GateID: r.GateID,
		Caller: r.Caller, Called: r.Called, Active: r.Active, Mode: r.Mode, Verdict: r.Verdict,
		Attempts: r.Attempts, Outcome: r.Outcome, Target: r.Target, EntryID: r.EntryID,
		DecisionLatency: ms(r.DecisionLatency), Duration: ms(r.Duration), WebhookLatency: ms(r.WebhookLatency),
		ErrorClass: r.ErrorClass,
	}
}

// Close ends every subscription and refuses new ones (ErrClosed), so that
// streams end when vipgate stops. Publish still works and keeps events
// for nobody.
func (h *Hub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for s := range h.subs {
		h.remove(s)
	}
}

// ErrClosed is returned by Subscribe after Close.
var ErrClosed = errClosed{}

type errClosed struct{}

func (errClosed) Error() string { return "events: the hub is closed" }
