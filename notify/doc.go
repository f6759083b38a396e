// Package notify sends a gate's notifications: a VIP passed, a caller was
// locked out, the gate failed to decide a call, the gate's webhook breaker
// opened. A Notifier is a gate.Observer (and gate.LockoutObserver, and
// takes the webhook breaker's reports): it applies each gate's
// notification rules (events, rate limit with a summary, quiet hours in
// the gate's time zone) and writes what is to be sent into the store's
// gate.Outbox. Its sender claims the outbox's due messages and delivers
// them, to event webhooks (JSON, signed like the authorisation webhook,
// see webhook.Sign) and by e-mail over SMTP (github.com/wneessen/go-mail),
// retrying with exponential backoff and jitter until the last attempt
// leaves a message dead.
//
// Delivery is at least once: a message is deleted from the outbox after
// its receiver accepted it, so a crash between the two sends it again.
// Every delivery carries the message's idempotency key. No event, e-mail
// or log line holds a PIN, typed digits or a secret; the events carry what
// the call log holds of a call.
//
// notify imports the domain (gate), webhook (for its signing) and the mail
// library; it is wired in cmd/vipgate only. See docs/notifications.md.
package notify
