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
// Requests go out over net/http's Transport (NewTransport): HTTP/1.1
// keep-alive connections, up to MaxIdleConnsPerHost idle per host and
// closed after IdleConnTimeout (90s), no compression, answer headers
// bounded to 64 KiB, and the proxy that Config.Proxy chooses (vipgate
// passes http.ProxyFromEnvironment). A connection is reused when its
// answer was read to the end (answers up to 5*64 KiB are drained for
// that). A POST is marked idempotent (an Idempotency-Key without value,
// which is not sent), so that net/http sends it again on a new connection
// when the server closed the kept-alive one before answering, as it does
// for a GET. The gate's timeout is the request context's deadline. A
// configured header or URL that could not go on the wire as it is (a
// control byte, a space in the URL, a header name that is not a token) is
// a "config" error before anything is sent. A wait for a request slot
// that reaches the deadline is an "overload", also when a slot frees up
// just then.
//
// Gates with a CAFile use a Transport.Clone with those roots, one per
// distinct CA file contents (by SHA-256), shared by the gates that name
// them and let go when the last of them changes its configuration.
//
// Per-gate state (request slots, breaker, cache, the transport with the CA
// roots) is keyed by gate ID and the webhook configuration (compared field
// by field on every call), so a changed configuration takes effect on the
// next call, with a fresh breaker and cache. Breaker changes are logged at
// Info and reported to the Observer.
//
// The circuit breaker and the answer cache are those of packages
// internal/breaker and internal/answercache, which the database
// identification (dbident) uses too.
//
// Package webhook imports gate, those two packages and the standard
// library only; it must not import a storage, admin or transport (ari,
// agi) package.
package webhook
