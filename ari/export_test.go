package ari

import (
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
