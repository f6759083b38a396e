// Package events carries vipgate's call events to live subscribers: every
// decision the call path makes becomes an Event on a Hub, which the admin
// API streams to wallboards and consoles as Server-Sent Events.
//
// An Event holds what the call log holds of a call — gate, numbers,
// verdict, outcome, target, latencies, error class — and never a PIN or
// the digits a caller typed (gate.CallRecord has neither).
//
// Publishing never waits for a subscriber: each has a bounded buffer, and
// one that falls behind by more than its buffer is dropped (its channel is
// closed, Dropped says why) rather than holding up calls. A Hub keeps the
// last events in a ring, so a client that reconnects with the id of the
// last event it saw misses nothing the ring still holds.
//
// Package events imports only gate and the standard library.
package events
