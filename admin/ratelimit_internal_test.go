package admin

import (
	"fmt"
	"testing"
	"time"
)

// TestAuthLimiterBounded fails from far more addresses than the limiter
// remembers: the map stays bounded, refilled buckets make room, and the
// addresses beyond the bound share one bucket (so they are limited too).
func TestAuthLimiterBounded(t *testing.T) {
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	l := newAuthLimiter(2, time.Second)
	for i := range 3 * maxAuthClients {
		l.fail(fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255), now)
	}
	if n := len(l.m); n > maxAuthClients+1 {
		t.Fatalf("the limiter remembers %d addresses, want at most %d", n, maxAuthClients+1)
	}
	if d := l.wait("192.0.2.1", now); d == 0 {
		t.Error("a new address beyond the bound is not limited by the shared bucket")
	}
	// Once the buckets have refilled, new addresses get buckets of their own.
	later := now.Add(10 * time.Second)
	if d := l.wait("192.0.2.1", later); d != 0 {
		t.Errorf("wait after the refill = %v, want 0", d)
	}
	l.fail("192.0.2.1", later)
	if _, own := l.m["192.0.2.1"]; !own {
		t.Error("refilled buckets were not dropped to make room for a new address")
	}
}
