// Package admin is vipgate's REST API for administrators and operators:
// gates, caller PIN tables (with bulk CSV/JSON import and CSV export),
// manual overrides, uploaded prompts, the call log, lockouts and a dry-run
// "explain" of the Engine's decision, plus /healthz, /readyz, /metrics and
// /openapi.json.
//
// NewServer returns an http.Handler built on go-chi; routes.go lists the
// whole API. Every /api/v1 request needs a bearer token (see NewToken) whose
// role allows it: viewers read, operators also manage PIN entries,
// overrides and lockouts, admins may do everything. Errors are RFC 9457
// problem documents (application/problem+json) that name the rejected
// fields.
//
// PINs are write-only: the API accepts them in clear, hashes them with the
// installation's gate.Hasher and never returns, logs or stores them in
// clear. Token secrets are stored as SHA-256 digests only. Webhook
// credentials (the values of secret-looking headers and URL query
// parameters, a password in the URL) are shown as "[redacted]"; a gate
// written back with that placeholder keeps the stored value.
//
// Metrics (NewMetrics) is the Prometheus registry of vipgate; it implements
// gate.Observer and the webhook observer so that the call path reports to
// it, and its Handler may also be served on a separate listener.
//
// GET /api/v1/events streams every call decision of an events.Hub as
// Server-Sent Events; GET /api/v1/status is the document "vipgate check"
// reads.
//
// Package admin depends on gate, events, sounds (WAV checking and
// conversion of uploaded prompts) and the HTTP and metrics libraries. It must not import
// a storage driver, the ari, agi or webhook packages, or cmd; the binary
// wires it (its tests use storage/sqlite and check that Metrics satisfies
// webhook.Observer).
package admin
