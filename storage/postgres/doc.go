// Package postgres is vipgate's PostgreSQL store: a gate.Store on one
// PostgreSQL database (version 12 or later; CI uses 15) that several vipgate
// instances share. It talks to the database through pgx and its pool.
//
// # Schema
//
// Open and Migrate apply the SQL migrations embedded from migrations/ (table
// schema_migrations, one transaction per migration) under a PostgreSQL
// advisory lock, so instances that start together migrate once. The tables
// live in the first schema of the connection's search_path; a search_path
// parameter in the DSN puts an installation (or a test) in a schema of its
// own. Gates are JSON documents (jsonb) with their override in a column of
// its own; caller-table entries have a unique index on (gate_id, pattern)
// in the "C" collation, and LookupEntry is one indexed query over the
// number and its prefixes (gate.Prefixes). PINs are stored only as HMAC
// salt and sum (bytea); the key that makes them useful is not in the
// database.
//
// # Several instances
//
// Every instance keeps all gates in memory and serves ListGates and
// GetGate from there. A write of a gate sends NOTIFY on the channel
// vipgate_changes in the same transaction (payload: schema and gate ID);
// every instance LISTENs on a dedicated connection and reloads the gate
// it names, so a change made anywhere is seen everywhere within
// milliseconds (the contract is 1 s). When the listener's connection
// breaks it reconnects with backoff (100 ms doubling to 2 s) and reloads
// every gate after subscribing again; in between, gate reads go to the
// database. Failure counters and lockouts are rows in the database;
// AddFailure is one upsert under a row lock, so a caller cannot spread
// attempts over instances. In the same transaction it deletes up to 1000
// rows of the gate whose newest failure is older than a day (or the
// gate's window, if longer), skipping rows other instances hold, so the
// failures of numbers that never fail again do not pile up.
//
// # Call log
//
// LogCall does not write: it copies the row into a bounded buffer
// (Options.LogBuffer) and returns. A background writer stores buffered rows
// every LogInterval (200 ms) or LogBatch rows with a multi-row INSERT, and
// Close writes what is left (retrying for up to FlushTimeout), so a
// graceful stop loses nothing. ListCalls writes the buffer first, so a
// caller sees its own rows. Call IDs are handed out from blocks of 1000
// that each instance reserves from a sequence, so LogCall sets r.ID without
// a query. If the database is unreachable, rows wait in memory; once the
// buffer is full, LogCall waits at most StoreTimeout and then fails with
// gate.ErrUnavailable (that row is lost; the call goes on). PruneCalls
// writes the buffer, then deletes old rows through the calls_at index in
// statements of at most 5000 rows, each its own short transaction;
// instances pruning at once skip each other's rows.
//
// # Failure behaviour
//
// Every query on the call path runs under Options.StoreTimeout (default
// 2 s), so no call waits longer on the store. When the database cannot be
// reached, ListGates and GetGate serve the last-known-good gates from
// memory (logged once per outage) and skip the database for a second after
// each failure, so an outage costs a call at most one StoreTimeout;
// LookupEntry, the counters and the rest fail with gate.ErrUnavailable;
// the engine then counts PIN guesses in memory and applies the gate's
// failure policy only to a call it cannot decide (a caller table it cannot
// read). gate.EngineConfig.StoreTimeout also bounds all store steps of one
// call together. The pool reconnects by
// itself, the listener as described above. Open itself needs the database.
// The call path's reads (ReadCall, LookupEntry, GetLockout) take a pooled
// connection without pgxpool's ping (a second round trip after a second of
// idleness) and, when that connection turns out broken (closed by the
// server, a FATAL error), run once more on one that is pinged, so a
// connection that died while idle does not fail a call; writes keep the
// ping.
//
// Errors wrap gate.ErrNotFound (no such row, or an unknown gate),
// gate.ErrConflict (unique violation, a pattern twice in one import,
// serialization failure), gate.ErrInvalid or gate.ErrUnavailable
// (connection errors, timeouts, server shutdown) with the operation:
// "postgres: put entry +4971112345: conflict: ...". The DSN's password, PINs
// and PIN hashes are never logged.
//
// Package postgres imports gate, the standard library and pgx; it must not
// import another adapter (storage/sqlite, admin, ari, agi, webhook) or cmd.
package postgres
