package ari

import (
	"net/http"
	"time"

	"github.com/vipgate/vipgate/gate"
)

// SetFirstCommandHook lets benchmarks see, per call, when StasisStart was
// dispatched and when the first command was sent. Not for parallel tests.
func SetFirstCommandHook(h func(channelID string, started, sent time.Time)) func() {
	testHookFirstCommand = h
	return func() { testHookFirstCommand = nil }
}

// SetCollectHook lets tests see the options each Collect runs with. Not for
// parallel tests.
func SetCollectHook(h func(opts gate.CollectOptions)) func() {
	testHookCollect = h
	return func() { testHookCollect = nil }
}

// IdleTimeoutOf returns how long c keeps idle connections (0: no limit).
func IdleTimeoutOf(c *Client) time.Duration {
	if t, ok := c.http.Transport.(*http.Transport); ok {
		return t.IdleConnTimeout
	}
	return -1
}
