package gate

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// TestGuardBounded: the in-memory guess counters hold at most
// localKeysMax keys however many numbers guess during an outage, and the
// gate-wide key is never the one evicted, so the gate-wide limit still
// holds against a guesser who cycles through numbers.
func TestGuardBounded(t *testing.T) {
	g := newGuard()
	t0 := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	const window = time.Hour
	gateMax := localKeysMax + 500
	refused := 0
	for i := range localKeysMax + 200 {
		keys := []GuessKey{{Caller: fmt.Sprintf("+4917%08d", i), Limit: 3}, {Caller: AnyCaller, Limit: gateMax}}
		if _, ok := g.reserve("hotline", keys, t0.Add(time.Duration(i)*time.Millisecond), window, false); !ok {
			refused++
		}
	}
	if refused != 0 {
		t.Fatalf("%d guesses refused below the limits", refused)
	}
	if n := len(g.guesses); n > localKeysMax {
		t.Errorf("%d keys in memory, want at most %d", n, localKeysMax)
	}
	at := t0.Add(time.Duration(localKeysMax+200) * time.Millisecond)
	gateKey := GuessKey{Caller: AnyCaller, Limit: localKeysMax + 200}
	if !g.full("hotline", gateKey, at, window) {
		t.Errorf("the gate-wide key lost guesses to eviction")
	}
	// Keys whose guesses left the window go first.
	later := at.Add(2 * window)
	if _, ok := g.reserve("hotline", []GuessKey{{Caller: "+491", Limit: 3}}, later, window, false); !ok {
		t.Fatal("a fresh number refused")
	}
	if n := len(g.guesses); n > 2 {
		t.Errorf("%d keys kept after every guess left the window, want the new one (and the gate key)", n)
	}
}

// TestBudgetSharedBySteps: once the steps of a call have used up its
// store time, no further step runs.
func TestBudgetSharedBySteps(t *testing.T) {
	b := newBudget(20 * time.Millisecond)
	ran := 0
	step := func(ctx context.Context) error {
		ran++
		<-ctx.Done()
		return ctx.Err()
	}
	for range 3 {
		_ = b.do(context.Background(), step)
	}
	if ran != 1 {
		t.Errorf("%d steps ran, want 1: the first used up the budget", ran)
	}
	if err := b.do(context.Background(), func(context.Context) error { return nil }); !errors.Is(err, ErrUnavailable) {
		t.Errorf("step after the budget: %v, want ErrUnavailable", err)
	}
}
