package ari

import "time"

// SetFirstCommandHook lets benchmarks see, per call, when StasisStart was
// dispatched and when the first command was sent. Not for parallel tests.
func SetFirstCommandHook(h func(channelID string, started, sent time.Time)) func() {
	testHookFirstCommand = h
	return func() { testHookFirstCommand = nil }
}
