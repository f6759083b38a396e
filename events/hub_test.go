package events_test

import (
	"testing"
	"time"

	"github.com/vipgate/vipgate/events"
	"github.com/vipgate/vipgate/gate"
)

func record(gateID string, outcome gate.Outcome) *gate.CallRecord {
	return &gate.CallRecord{At: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC), Source: "agi", GateID: gateID,
		Caller: "+4917612345678", Called: "+4930123456", Active: true, Mode: gate.IdentStatic,
		Verdict: gate.VerdictAskPIN, Attempts: 2, Outcome: outcome, Duration: 3 * time.Second, DecisionLatency: time.Millisecond}
}

// drain reads what is buffered for s without waiting.
func drain(s *events.Subscription) (evs []events.Event, closed bool) {
	for {
		select {
		case e, ok := <-s.C():
			if !ok {
				return evs, true
			}
			evs = append(evs, e)
		default:
			return evs, false
		}
	}
}

func TestHubDeliversCallsInOrder(t *testing.T) {
	h := events.NewHub(events.Config{})
	all, _, err := h.Subscribe(events.Filter{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	vip, _, err := h.Subscribe(events.Filter{GateID: "vip"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	h.CallFinished(record("vip", gate.OutcomePINOK))
	h.CallFinished(record("other", gate.OutcomeLockedOut))
	h.CallFinished(nil)
	h.CallFinished(record("vip", gate.OutcomePINFailed))

	got, closed := drain(all)
	if closed || len(got) != 3 {
		t.Fatalf("all: %d events, closed %v", len(got), closed)
	}
	for i, e := range got {
		if e.ID != uint64(i+1) || e.Type != events.TypeCall || e.Call == nil {
			t.Errorf("event %d: %+v", i, e)
		}
	}
	c := got[0].Call
	if c.GateID != "vip" || c.Outcome != gate.OutcomePINOK || c.Caller != "+4917612345678" || c.Attempts != 2 || c.Duration != 3000 || c.DecisionLatency != 1 {
		t.Errorf("call event %+v", c)
	}
	if want := time.Date(2026, 3, 2, 10, 0, 3, 0, time.UTC); !got[0].At.Equal(want) {
		t.Errorf("at %v, want %v (when vipgate let go)", got[0].At, want)
	}
	got, _ = drain(vip)
	if len(got) != 2 || got[0].ID != 1 || got[1].ID != 3 {
		t.Errorf("gate filter: %+v", got)
	}
	vip.Cancel()
	vip.Cancel()
	if _, closed := drain(vip); !closed || vip.Dropped() {
		t.Errorf("cancelled: closed %v dropped %v", closed, vip.Dropped())
	}
	if h.Subscribers() != 1 {
		t.Errorf("%d subscribers, want 1", h.Subscribers())
	}
}

// TestHubDropsSlowSubscriber: a subscriber that reads nothing is dropped
// once its buffer is full, Publish goes on without waiting, and the
// others receive every event.
func TestHubDropsSlowSubscriber(t *testing.T) {
	h := events.NewHub(events.Config{Buffer: 4})
	slow, _, _ := h.Subscribe(events.Filter{}, 0)
	fast, _, _ := h.Subscribe(events.Filter{}, 0)
	var got []events.Event
	for range 100 {
		h.CallFinished(record("vip", gate.OutcomePassed))
		evs, closed := drain(fast)
		if closed {
			t.Fatal("the fast subscriber was dropped")
		}
		got = append(got, evs...)
	}
	if len(got) != 100 || got[99].ID != 100 {
		t.Errorf("fast subscriber got %d events", len(got))
	}
	evs, closed := drain(slow)
	if !closed || !slow.Dropped() || len(evs) != 4 {
		t.Errorf("slow subscriber: %d events, closed %v, dropped %v; want its 4 buffered, then closed and dropped", len(evs), closed, slow.Dropped())
	}
	if h.DroppedTotal() != 1 || h.Subscribers() != 1 {
		t.Errorf("dropped %d, subscribers %d", h.DroppedTotal(), h.Subscribers())
	}
}

func TestHubReplay(t *testing.T) {
	h := events.NewHub(events.Config{Buffer: 8, Replay: 5})
	for range 10 {
		h.CallFinished(record("vip", gate.OutcomePassed))
	}
	// The ring keeps 6..10.
	tests := []struct {
		after      uint64
		first, n   int
		wantMissed bool
	}{
		{after: 0, n: 0},                                // no replay asked
		{after: 10, n: 0},                               // up to date
		{after: 7, first: 8, n: 3},                      // 8, 9, 10
		{after: 5, first: 6, n: 5},                      // everything kept, nothing missed
		{after: 2, first: 6, n: 5, wantMissed: true},    // 3..5 are gone
		{after: 5000, first: 6, n: 5, wantMissed: true}, // an ID of an earlier process
	}
	for _, tt := range tests {
		s, missed, err := h.Subscribe(events.Filter{}, tt.after)
		if err != nil {
			t.Fatal(err)
		}
		evs, _ := drain(s)
		if len(evs) != tt.n || missed != tt.wantMissed || (tt.n > 0 && evs[0].ID != uint64(tt.first)) {
			t.Errorf("after %d: %d events (first %v), missed %v; want %d from %d, missed %v", tt.after, len(evs), evs, missed, tt.n, tt.first, tt.wantMissed)
		}
		s.Cancel()
	}
	// A backlog larger than the buffer keeps the newest and says so.
	small := events.NewHub(events.Config{Buffer: 2, Replay: 10})
	for range 6 {
		small.CallFinished(record("vip", gate.OutcomePassed))
	}
	s, missed, _ := small.Subscribe(events.Filter{}, 1)
	if evs, _ := drain(s); len(evs) != 2 || evs[0].ID != 5 || !missed {
		t.Errorf("backlog over the buffer: %v, missed %v", evs, missed)
	}
}

func TestHubMaxSubscribers(t *testing.T) {
	h := events.NewHub(events.Config{MaxSubscribers: 2})
	a, _, _ := h.Subscribe(events.Filter{}, 0)
	if _, _, err := h.Subscribe(events.Filter{}, 0); err != nil {
		t.Fatal(err)
	}
	if _, _, err := h.Subscribe(events.Filter{}, 0); err != events.ErrTooMany {
		t.Errorf("third subscriber: %v, want ErrTooMany", err)
	}
	a.Cancel()
	if _, _, err := h.Subscribe(events.Filter{}, 0); err != nil {
		t.Errorf("after a cancel: %v", err)
	}
}

func BenchmarkPublish(b *testing.B) {
	h := events.NewHub(events.Config{})
	for range 8 {
		s, _, _ := h.Subscribe(events.Filter{}, 0)
		go func() {
			for range s.C() {
			}
		}()
	}
	r := record("vip", gate.OutcomePINOK)
	b.ReportAllocs()
	for b.Loop() {
		h.CallFinished(r)
	}
}

func TestHubClose(t *testing.T) {
	h := events.NewHub(events.Config{})
	s, _, _ := h.Subscribe(events.Filter{}, 0)
	h.Close()
	if _, closed := drain(s); !closed || s.Dropped() {
		t.Errorf("after Close: closed %v, dropped %v", closed, s.Dropped())
	}
	if _, _, err := h.Subscribe(events.Filter{}, 0); err != events.ErrClosed {
		t.Errorf("Subscribe after Close: %v", err)
	}
	h.CallFinished(record("vip", gate.OutcomePassed))
}
