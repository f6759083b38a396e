package admin

import (
	"math"
	"net"
	"net/netip"
	"sync"
	"time"
)

// Defaults of the limit on failed authentications per client address.
const (
	// DefaultAuthFailureBurst is how many failed authentications a client
	// address may make in a row before it must wait.
	DefaultAuthFailureBurst = 20
	// DefaultAuthFailureRefill is how long it takes until one more failed
	// authentication is allowed (a sustained rate of one a second).
	DefaultAuthFailureRefill = time.Second
	// maxAuthClients bounds the addresses the limiter remembers.
	maxAuthClients = 10000
)

// authLimiter is a token bucket per client address that failed
// authentications drain. A client whose bucket is empty is refused every
// authentication (right or wrong token) until the bucket refills: an
// answer that told a right token from a wrong one would let the guessing
// go on. The map is bounded: when it is full, buckets that have refilled
// (and so hold no information) are dropped (at most once per refill
// interval), and if that is not enough the new addresses share one
// bucket.
type authLimiter struct {
	burst  float64
	refill time.Duration

	mu sync.Mutex
	m  map[string]*authBucket
	// swept is when the full map was last swept for refilled buckets: at
	// most once per refill interval, so that many addresses cannot make
	// every failure walk the whole map.
	swept time.Time
}

type authBucket struct {
	tokens float64
	at     time.Time
}

// overflowClient is the shared bucket of addresses beyond maxAuthClients.
const overflowClient = "overflow"

func newAuthLimiter(burst int, refill time.Duration) *authLimiter {
	return &authLimiter{burst: float64(burst), refill: refill, m: map[string]*authBucket{}}
}

// level returns the bucket's tokens at now (refilled since its last use).
func (l *authLimiter) level(b *authBucket, now time.Time) float64 {
	if d := now.Sub(b.at); d > 0 {
		return math.Min(l.burst, b.tokens+float64(d)/float64(l.refill))
	}
	return b.tokens
}

// wait reports how long client must wait before it may authenticate
// again; 0 means it may now.
func (l *authLimiter) wait(client string, now time.Time) time.Duration {
	if l == nil {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.m[client]
	if !ok {
		b, ok = l.m[overflowClient]
		if !ok || len(l.m) < maxAuthClients {
			return 0
		}
	}
	lv := l.level(b, now)
	if lv >= 1 {
		return 0
	}
	return time.Duration((1 - lv) * float64(l.refill))
}

// fail takes one token from client's bucket and reports whether the bucket
// is now empty (the client is rate-limited from now on).
func (l *authLimiter) fail(client string, now time.Time) bool {
	if l == nil {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.m[client]
	if !ok {
		if len(l.m) >= maxAuthClients && now.Sub(l.swept) >= l.refill {
			l.swept = now
			for k, v := range l.m {
				if l.level(v, now) >= l.burst {
					delete(l.m, k)
				}
			}
		}
		if len(l.m) >= maxAuthClients {
			client = overflowClient
			b = l.m[client]
		}
		if b == nil {
			b = &authBucket{tokens: l.burst, at: now}
			l.m[client] = b
		}
	}
	b.tokens, b.at = l.level(b, now)-1, now
	if b.tokens < 0 {
		b.tokens = 0
	}
	return b.tokens < 1
}

// clientKey is the rate-limit key of a request's remote address: the IP
// (an IPv6 address by its /64, which one host usually holds whole). The
// address is the TCP peer; a proxy in front of vipgate makes every client
// share the proxy's bucket.
func clientKey(remoteAddr string) string {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}
