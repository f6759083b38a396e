// Package dbident is vipgate's database identification: for a gate in
// database mode it runs the administrator's query against a PostgreSQL
// server the gate names and turns the first row into a gate.AuthAnswer,
// the same verdicts a webhook answers. Authorizer implements
// gate.Authorizer; the engine turns every error into the gate's failure
// policy.
//
// The contract — the parameters (:caller_e164, :caller, :called, :gate),
// the columns of the answer row, no row, the failure classes, the
// circuit breaker and the cache — is written once, in docs/database.md.
//
// # Implementation
//
// Each gate gets a pgxpool of its own with at most the gate's max_conns
// connections, opened lazily; statement_timeout and
// default_transaction_read_only are set on every connection, and the
// gate's timeout is the deadline of the whole lookup (connection, BEGIN
// READ ONLY, query, first row). The query is the one gate.ParseDatabaseQuery
// checked and rewrote to positional parameters: the numbers always go
// as parameters, never into the SQL text. The circuit breaker and the
// answer cache are those of internal/breaker and internal/answercache,
// shared with the webhook.
//
// Per-gate state is keyed by gate ID and the database configuration (the
// DSN included), so a changed configuration takes effect on the next
// call with a fresh pool, breaker and cache; the old pool is closed in
// the background once its queries are done (Close waits for that).
//
// The DSN is a secret: errors and log lines never carry its password
// (pgx's own messages name host, user and database; the password is cut
// out of every error text that passes through here).
//
// Package dbident imports gate, internal/breaker, internal/answercache,
// pgx and the standard library only; it must not import a storage, admin
// or transport (ari, agi) package.
package dbident
