// Package webhook is vipgate's webhook authorizer: for a gate in webhook
// mode it asks an external HTTP service what to do with a call and turns the
// JSON answer into a gate.AuthAnswer. Authorizer implements gate.Authorizer.
//
// # Request
//
// The gate's URL template (and its header values and POST body template)
// may hold ###CALLER_NUMBER### and ###CALLED_NUMBER###. They are replaced by
// the call's numbers in international format: path-escaped before the '?'
// of the URL, query-escaped after it (+4917612345678 becomes
// %2B4917612345678), as is in header values, and JSON-string-escaped in the
// body. GET is the default; POST sends the body template (default
// {"caller":"…","called":"…"}) as application/json. Every request also
// carries X-Vipgate-Gate (the gate ID) and, when known, X-Vipgate-Call-ID.
//
// The gate's timeout (default 3s, at most 15s) bounds the whole
// authorization, including the wait for one of the gate's MaxConcurrent
// request slots (default 32); a wait that reaches the deadline fails with
// class "overload". Server certificates are always verified; a CAFile adds
// PEM roots to the system pool for that gate. Redirects are not followed (a
// 3xx answer is a "status" error).
//
// Requests go out over vipgate's own small HTTP/1.1 client transport
// (transport.go): keep-alive connections per scheme, host and port, the
// request written and the answer read on the calling goroutine, no
// goroutines per connection. A connection is reused when its answer was
// read to the end (answers up to 5*64 KiB are drained for that); an idle
// connection the server wrote to or closed is dropped before use (a
// non-blocking peek, on Unix), and a reused connection that fails before
// any answer byte is dropped and the request sent once more on a new one. No HTTP/2, no proxy, no compression. The
// standard net/http/httptrace hooks GotConn, WroteRequest (after the
// request left for the kernel) and GotFirstResponseByte fire.
//
// # Answers
//
// A 2xx answer of at most 64 KiB is read as strict JSON or the relaxed form
// (unquoted keys, single quotes, trailing commas, comments):
//
//	{askForPin:{expectedPIN:"1234", forwardCorrectPIN:"100", forwardIncorrectPIN:"120", maxRetries:3}}
//	{reject:true}       reject the call
//	{reject:false}      pass the call on
//	{forward:"123"}     forward to a target (gate.ParseTarget syntax)
//
// Exactly one of askForPin, reject and forward must be there; keys match
// without regard to case and unknown keys are ignored. expectedPIN is 1..32
// digits, as a string or as a number written with digits only (taken as
// written, so leading zeros are kept). Without forwardCorrectPIN or
// forwardIncorrectPIN the target stays zero (the engine continues, resp.
// rejects); without maxRetries it is 0 (the gate's value applies); a
// maxRetries outside 1..10 is clamped into that range.
//
// # Errors
//
// Every failure is an *Error with a class: "timeout", "network", "status"
// (non-2xx), "too_large", "syntax", "answer" (none of the keys, conflicting
// or repeated keys, invalid values), "breaker_open", "overload", "config"
// (unusable gate configuration, secret or CA file), "request" (a number with
// control characters) and "canceled" (the caller hung up). Error texts never
// contain the answer body, a PIN, the URL's query or the secret. The engine
// turns every error into the gate's failure policy.
//
// # Signing
//
// When the gate has a secret (the contents of its SecretFile, surrounding
// white space removed; the file is re-read when its modification time or
// size changes), every request carries
//
//	X-Vipgate-Timestamp: <unix seconds>
//	X-Vipgate-Signature: hex(HMAC-SHA-256(secret, timestamp + "\n" + method + "\n" + url + "\n" + body))
//
// where method is "GET" or "POST", url is the absolute URL as sent
// (scheme://host[:port]/path?query, exactly the escaped form on the wire,
// without fragment) and body is the request body (empty for GET). A receiver
// rebuilds url as scheme + "://" + Host header + request target; Verify does
// that and checks the timestamp against a clock skew. Other headers are not
// signed. Without a SecretFile
// requests are sent unsigned and a warning is logged once per gate.
//
// # Resilience
//
// Each gate has a circuit breaker: BreakerFailures consecutive failures
// (default 5; any class but breaker_open, overload, canceled, config and
// request) open it for BreakerCooldown (default 30s); then one trial request
// goes out, and its success closes the breaker while its failure opens it
// again. With CacheTTL set, successful answers are kept in memory per
// (caller, called) for that time, at most 10,000 per gate (expired, then
// oldest entries go first); a cached answer is served even while the
// breaker is open. Changes are logged at Info and reported to the Observer.
//
// Per-gate state (request slots, breaker, cache, the HTTP client with the CA
// roots) is keyed by gate ID and the webhook configuration (compared field
// by field on every call), so a changed configuration takes effect on the
// next call, with a fresh breaker and cache. The CA file is read when that state is
// built; the secret file is checked on every request.
//
// Package webhook imports gate and the standard library only; it must not
// import a storage, admin or transport (ari, agi) package.
package webhook
