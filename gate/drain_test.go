package gate_test

import (
	"context"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
)

func TestDrainTimeout(t *testing.T) {
	for in, want := range map[time.Duration]time.Duration{0: gate.DefaultDrainTimeout, gate.NoDrain: 0, -time.Hour: 0, time.Second: time.Second} {
		if got := gate.DrainTimeout(in); got != want {
			t.Errorf("DrainTimeout(%v) = %v, want %v", in, got, want)
		}
	}
}

// TestCallGroup checks the drain wait: it returns when the last call ends,
// counts a call that starts while it waits, and gives up when its context
// is done.
func TestCallGroup(t *testing.T) {
	var g gate.CallGroup
	if n := g.Drain(time.Hour); n != 0 {
		t.Fatalf("empty group: %d running", n)
	}
	g.Add()
	done := make(chan int, 1)
	go func() { done <- g.Drain(time.Hour) }()
	// A call that arrives during the drain is waited for too.
	g.Add()
	g.Done()
	select {
	case n := <-done:
		t.Fatalf("drain returned %d with a call still running", n)
	case <-time.After(20 * time.Millisecond):
	}
	g.Done()
	if n := <-done; n != 0 {
		t.Errorf("drain returned %d, want 0", n)
	}

	g.Add()
	defer g.Done()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if n := g.Wait(ctx); n != 1 {
		t.Errorf("Wait after cancel = %d, want 1", n)
	}
	if n := g.Drain(gate.DrainTimeout(gate.NoDrain)); n != 1 {
		t.Errorf("Drain(NoDrain) = %d, want 1 without waiting", n)
	}
}
