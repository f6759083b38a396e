// Package breaker is the circuit breaker that vipgate's authorizers (the
// webhook and database identification) keep per gate. One rule, one
// place: both open, probe and close alike. It imports only the standard
// library.
package breaker

import (
	"sync"
	"time"
)

// Defaults of New.
const (
	DefaultFailures = 5
	DefaultCooldown = 30 * time.Second
)

type breakerState uint8

const (
	breakerClosed breakerState = iota
	breakerOpen
	breakerHalfOpen
)

// Breaker is a per-gate circuit breaker. Closed, it lets every request
// through and counts consecutive failures; at the threshold it opens for the
// cool-down, refusing requests. After the cool-down it is half-open: one
// trial request goes through; its success closes the breaker, its failure
// opens it again. Results of requests that started before the breaker
// opened do not change an open or half-open breaker.
type Breaker struct {
	threshold int
	cooldown  time.Duration

	mu       sync.Mutex
	state    breakerState
	failures int
	until    time.Time // end of the cool-down while open
	trial    bool      // a half-open trial is in flight
}

// New returns a closed breaker that opens after threshold consecutive
// failures for cooldown; zero values mean DefaultFailures and
// DefaultCooldown.
func New(threshold int, cooldown time.Duration) *Breaker {
	if threshold <= 0 {
		threshold = DefaultFailures
	}
	if cooldown <= 0 {
		cooldown = DefaultCooldown
	}
	return &Breaker{threshold: threshold, cooldown: cooldown}
}

// Allow reports whether a request may go out at now, and whether it is the
// half-open trial. Every allowed request must be followed by exactly one of
// Success, Failure or Release with the same trial flag.
func (b *Breaker) Allow(now time.Time) (ok, trial bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.state {
	case breakerOpen:
		if now.Before(b.until) {
			return false, false
		}
		b.state = breakerHalfOpen
		fallthrough
	case breakerHalfOpen:
		if b.trial {
			return false, false
		}
		b.trial = true
		return true, true
	}
	return true, false
}

// Success records a successful request; it reports whether the breaker
// closed.
func (b *Breaker) Success(trial bool) (closed bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state == breakerClosed {
		b.failures = 0
		return false
	}
	if !trial {
		return false
	}
	b.trial = false
	b.state = breakerClosed
	b.failures = 0
	return true
}

// Failure records a failed request at now; it reports whether the breaker
// (re)opened.
func (b *Breaker) Failure(now time.Time, trial bool) (opened bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.state {
	case breakerClosed:
		b.failures++
		if b.failures < b.threshold {
			return false
		}
	default:
		if !trial {
			return false
		}
		b.trial = false
	}
	b.state = breakerOpen
	b.until = now.Add(b.cooldown)
	return true
}

// Release ends an allowed request that neither succeeded nor failed (the
// caller hung up, no slot was free); a trial may be taken again.
func (b *Breaker) Release(trial bool) {
	if !trial {
		return
	}
	b.mu.Lock()
	b.trial = false
	b.mu.Unlock()
}

// Open reports whether the breaker is open or half-open.
func (b *Breaker) Open() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.state != breakerClosed
}

// Cooldown returns how long the breaker stays open.
func (b *Breaker) Cooldown() time.Duration { return b.cooldown }
