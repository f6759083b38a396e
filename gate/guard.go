package gate

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// budget is the time one call's store steps may take together (gate list,
// lockout checks, the caller lookup, the guess counters): a slow store
// costs a caller at most that much silence, however many steps the call
// needs. It is safe for concurrent use.
type budget struct {
	mu   sync.Mutex
	left time.Duration
}

func newBudget(d time.Duration) *budget { return &budget{left: d} }

// defaultStoreTimeout is EngineConfig.StoreTimeout's default.
const defaultStoreTimeout = 2 * time.Second

// do runs fn with ctx bounded by what is left of the budget and charges
// the time fn took. When nothing is left, fn is not run and do fails with
// ErrUnavailable.
func (b *budget) do(ctx context.Context, fn func(ctx context.Context) error) error {
	if b == nil {
		b = newBudget(defaultStoreTimeout)
	}
	b.mu.Lock()
	left := b.left
	b.mu.Unlock()
	if left <= 0 {
		return fmt.Errorf("the call's store time is spent: %w", ErrUnavailable)
	}
	// start is read before the deadline is set, so a step that ran into
	// the deadline is charged at least all that was left: measured from
	// after it, a few microseconds would stay and let the next step run
	// with a deadline it cannot meet.
	start := time.Now()
	cctx, cancel := context.WithTimeout(ctx, left)
	err := fn(cctx)
	cancel()
	spent := time.Since(start)
	b.mu.Lock()
	b.left -= spent
	b.mu.Unlock()
	return err
}

// localKeysMax bounds the keys the local counters hold. When they are
// full, expired keys go first, then the caller key whose newest guess is
// oldest; gate-wide keys are never evicted, so the gate-wide limit holds
// even against a guesser who cycles through numbers.
const localKeysMax = 10000

// guard is an instance's own lockout state: guess counters in memory that
// decide while the store's counters cannot be reached, and the count of
// PIN dialogues in progress per caller and per gate. It is safe for
// concurrent use.
type guard struct {
	mu      sync.Mutex
	guesses map[string][]time.Time // gate \x00 key → guess times, ascending
	running map[string]int         // gate \x00 key → PIN dialogues in progress
}

func newGuard() *guard {
	return &guard{guesses: map[string][]time.Time{}, running: map[string]int{}}
}

func guardKey(gateID, caller string) string { return gateID + "\x00" + caller }

// inWindow drops the times at or before from and returns the rest.
func inWindow(ts []time.Time, from time.Time) []time.Time {
	i := 0
	for i < len(ts) && !ts[i].After(from) {
		i++
	}
	return ts[i:]
}

// reserve is ReserveGuess in memory. With force it records the guess
// whatever the counts (the store, which is authoritative, allowed it).
func (g *guard) reserve(gateID string, keys []GuessKey, t time.Time, window time.Duration, force bool) ([]int, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	from := t.Add(-window)
	counts := make([]int, len(keys))
	ok := true
	for i, k := range keys {
		counts[i] = len(inWindow(g.guesses[guardKey(gateID, k.Caller)], from))
		if counts[i] >= k.Limit {
			ok = false
		}
	}
	if !ok && !force {
		return counts, false
	}
	for i, k := range keys {
		gk := guardKey(gateID, k.Caller)
		ts, had := g.guesses[gk]
		if !had && len(g.guesses) >= localKeysMax {
			g.evict(t, window)
		}
		ts = append(inWindow(ts, from), t)
		for j := len(ts) - 1; j > 0 && ts[j].Before(ts[j-1]); j-- {
			ts[j], ts[j-1] = ts[j-1], ts[j]
		}
		g.guesses[gk] = ts
		counts[i]++
	}
	return counts, true
}

// evict makes room for one key. g.mu is held.
func (g *guard) evict(t time.Time, window time.Duration) {
	from := t.Add(-window)
	oldest, oldestAt := "", time.Time{}
	for k, ts := range g.guesses {
		if len(ts) == 0 || !ts[len(ts)-1].After(from) {
			delete(g.guesses, k)
			continue
		}
		if isGateWide(k) {
			continue
		}
		if newest := ts[len(ts)-1]; oldest == "" || newest.Before(oldestAt) {
			oldest, oldestAt = k, newest
		}
	}
	if len(g.guesses) >= localKeysMax && oldest != "" {
		delete(g.guesses, oldest)
	}
}

func isGateWide(k string) bool {
	return len(k) >= 2 && k[len(k)-2:] == "\x00"+AnyCaller
}

// full reports whether key holds its limit of guesses after t-window.
func (g *guard) full(gateID string, k GuessKey, t time.Time, window time.Duration) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(inWindow(g.guesses[guardKey(gateID, k.Caller)], t.Add(-window))) >= k.Limit
}

// reset forgets the guesses of a key.
func (g *guard) reset(gateID, caller string) {
	g.mu.Lock()
	delete(g.guesses, guardKey(gateID, caller))
	g.mu.Unlock()
}

// release takes back one guess of a key at t.
func (g *guard) release(gateID, caller string, t time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	gk := guardKey(gateID, caller)
	ts := g.guesses[gk]
	for i := len(ts) - 1; i >= 0; i-- {
		if ts[i].Equal(t) {
			g.guesses[gk] = append(ts[:i:i], ts[i+1:]...)
			return
		}
	}
}

// enter counts a PIN dialogue of caller at gate in, unless the caller
// already has perCaller dialogues or the gate perGate (0 = no cap). The
// returned leave counts it out again; it is nil when the dialogue may not
// start, and then who names the cap that was hit.
func (g *guard) enter(gateID, caller string, perCaller, perGate int) (leave func(), who string) {
	ck, gk := guardKey(gateID, caller), guardKey(gateID, AnyCaller)
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case perCaller > 0 && g.running[ck] >= perCaller:
		return nil, "caller"
	case perGate > 0 && g.running[gk] >= perGate:
		return nil, "gate"
	}
	g.running[ck]++
	g.running[gk]++
	var once sync.Once
	return func() {
		once.Do(func() {
			g.mu.Lock()
			defer g.mu.Unlock()
			for _, k := range []string{ck, gk} {
				if g.running[k]--; g.running[k] <= 0 {
					delete(g.running, k)
				}
			}
		})
	}, ""
}
