// Package webhook is vipgate's webhook authorizer: for a gate in webhook
// mode it asks an external HTTP service what to do with a call and turns the
// JSON answer into a gate.AuthAnswer. Authorizer implements gate.Authorizer.
//
// The contract with that service — the request and its placeholders
// (###CALLER_NUMBER###, ###CALLED_NUMBER###), the answers (askForPin,
// reject, forward), the failure classes, the circuit breaker and cache, and
// the request signature (X-Vipgate-Timestamp, X-Vipgate-Signature) — is
// written once, in docs/webhook.md. A receiver written in Go can check a
// signature with Verify.
//
// Every failure is an *Error with one of the classes listed there; the
// engine turns every error into the gate's failure policy.
//
// # Implementation
//
// Requests go out over vipgate's own small HTTP/1.1 client transport
// (transport.go): keep-alive connections per scheme, host and port, the
// request written and the answer read on the calling goroutine, no
// goroutines per connection. A connection is reused when its answer was
// read to the end (answers up to 5*64 KiB are drained for that); an idle
// connection the server wrote to or closed is dropped before use (a
// non-blocking peek, on Unix), and a reused connection that fails before
// any answer byte is dropped and the request sent once more on a new one.
// No HTTP/2, no proxy, no compression. The standard net/http/httptrace
// hooks GotConn, WroteRequest (after the request left for the kernel) and
// GotFirstResponseByte fire.
//
// Per-gate state (request slots, breaker, cache, the HTTP client with the CA
// roots) is keyed by gate ID and the webhook configuration (compared field
// by field on every call), so a changed configuration takes effect on the
// next call, with a fresh breaker and cache. Breaker changes are logged at
// Info and reported to the Observer.
//
// Package webhook imports gate and the standard library only; it must not
// import a storage, admin or transport (ari, agi) package.
package webhook
