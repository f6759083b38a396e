package webhook_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/gate/gatetest"
	"github.com/vipgate/vipgate/webhook"
)

// clock is an injectable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 29, 1, 30, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// syncBuffer is a log sink safe for concurrent writers.
type syncBuffer = gatetest.Logs

func debugLogger(buf *syncBuffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// observer records what the Authorizer reports.
type observer struct {
	mu       sync.Mutex
	requests []string // error classes, "" for success
	breaker  []bool
	hits     int
	misses   int
}

func (o *observer) WebhookRequest(gateID string, latency time.Duration, errClass string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.requests = append(o.requests, errClass)
}

func (o *observer) WebhookBreaker(gateID string, open bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.breaker = append(o.breaker, open)
}

func (o *observer) WebhookCache(gateID string, hit bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if hit {
		o.hits++
	} else {
		o.misses++
	}
}

func (o *observer) snapshot() (requests []string, breaker []bool, hits, misses int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.requests...), append([]bool(nil), o.breaker...), o.hits, o.misses
}

var _ webhook.Observer = (*observer)(nil)

// webhookGate returns a webhook gate for url; mod adjusts its webhook config.
func webhookGate(url string, mod func(*gate.WebhookConfig)) *gate.Gate {
	wc := &gate.WebhookConfig{URL: url}
	if mod != nil {
		mod(wc)
	}
	return &gate.Gate{
		ID:             "hotline",
		Enabled:        true,
		Identification: gate.Identification{Mode: gate.IdentWebhook, Webhook: wc},
	}
}

var callReq = gate.AuthRequest{Caller: "+4917612345678", Called: "+4930123456", CallID: "call-1"}

func authorize(t *testing.T, a *webhook.Authorizer, g *gate.Gate, req gate.AuthRequest) (gate.AuthAnswer, error) {
	t.Helper()
	return a.Authorize(context.Background(), g, req)
}
