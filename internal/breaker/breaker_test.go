package breaker_test

import (
	"sync"
	"testing"
	"time"

	"github.com/vipgate/vipgate/internal/breaker"
)

func TestBreakerSingleTrial(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	b := breaker.New(1, time.Second)
	if ok, _ := b.Allow(t0); !ok {
		t.Fatal("closed breaker refused")
	}
	if !b.Failure(t0, false) {
		t.Fatal("failure at threshold 1 did not open")
	}
	later := t0.Add(time.Second)
	var mu sync.Mutex
	trials, allowed := 0, 0
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			ok, trial := b.Allow(later)
			mu.Lock()
			defer mu.Unlock()
			if ok {
				allowed++
			}
			if trial {
				trials++
			}
		})
	}
	wg.Wait()
	if allowed != 1 || trials != 1 {
		t.Fatalf("half-open breaker allowed %d requests (%d trials), want exactly one trial", allowed, trials)
	}
	// A released trial (caller hung up) lets the next request try.
	b.Release(true)
	if ok, trial := b.Allow(later); !ok || !trial {
		t.Fatalf("after release: allow = %v, %v; want a new trial", ok, trial)
	}
	// A late success of a request sent before the breaker opened does not
	// close it.
	if b.Success(false) {
		t.Fatal("non-trial success closed the breaker")
	}
	if !b.Success(true) || b.Open() {
		t.Fatal("trial success did not close the breaker")
	}
}
