package gate

import (
	"context"
	"sync"
	"time"
)

// DefaultDrainTimeout is how long a transport (ARI and FastAGI alike) lets
// the calls in progress finish when it is stopped, before it cancels them
// and routes them by its fallback; vipgate serve --drain sets it for both.
// A negative drain timeout (NoDrain) does not wait.
const DefaultDrainTimeout = 20 * time.Second

// NoDrain is a drain timeout that does not wait for calls in progress.
const NoDrain time.Duration = -1

// DrainTimeout returns d, DefaultDrainTimeout for 0 and 0 for a negative
// d (no drain): what a transport's DrainTimeout setting means.
func DrainTimeout(d time.Duration) time.Duration {
	switch {
	case d == 0:
		return DefaultDrainTimeout
	case d < 0:
		return 0
	}
	return d
}

// CallGroup counts the calls a transport is running, so that it can wait
// for them when it stops (the drain). Unlike a sync.WaitGroup, Add may be
// called while Wait waits: a call that arrives during the drain is counted
// and waited for too. The zero value is ready to use.
type CallGroup struct {
	mu   sync.Mutex
	n    int
	idle chan struct{} // closed when n drops to 0; nil while nobody waits
}

// Add counts one more running call.
func (g *CallGroup) Add() {
	g.mu.Lock()
	g.n++
	g.mu.Unlock()
}

// Done counts one call as finished. A Done without an Add is ignored.
func (g *CallGroup) Done() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.n <= 0 {
		return
	}
	g.n--
	if g.n == 0 && g.idle != nil {
		close(g.idle)
		g.idle = nil
	}
}

// Len returns the number of running calls.
func (g *CallGroup) Len() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.n
}

// Wait waits until no call is running or ctx is done, and returns the
// number of calls still running (0 when all have finished).
func (g *CallGroup) Wait(ctx context.Context) int {
	for {
		g.mu.Lock()
		if g.n == 0 {
			g.mu.Unlock()
			return 0
		}
		if g.idle == nil {
			g.idle = make(chan struct{})
		}
		idle := g.idle
		g.mu.Unlock()
		select {
		case <-idle:
			// A call may have started since; look again.
		case <-ctx.Done():
			return g.Len()
		}
	}
}

// Drain waits up to timeout (none if it is not positive; see DrainTimeout
// for what a setting means) for the running calls to finish and returns
// the number still running.
func (g *CallGroup) Drain(timeout time.Duration) int {
	if timeout <= 0 {
		return g.Len()
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return g.Wait(ctx)
}
