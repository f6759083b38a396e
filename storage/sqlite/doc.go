// Package sqlite is vipgate's embedded, single-node store: a gate.Store on
// one SQLite file, through the pure-Go modernc.org/sqlite driver (no cgo).
//
// Open creates or upgrades the database with the migrations embedded in the
// binary (table schema_migrations; each migration runs in one transaction),
// and sets WAL journaling, a busy timeout and foreign keys on every
// connection. Writes go through a pool of one connection, so writers queue
// in Go instead of failing with SQLITE_BUSY; reads use a separate pool of
// read-only connections that WAL lets run beside the writer.
//
// Gates are stored as a JSON document with indexed columns and cached in
// memory; every write through the Store invalidates the cache at once.
// Triggers bump a gate_version counter on every change to the gates
// table, and the cache compares it at most once a second
// (WithGateRecheck), so a change made by another process on the same file
// (the vipgate CLI, a manual edit) is seen within a second. SQLite is
// still meant for one vipgate node; use storage/postgres for several.
//
// LogCall only queues the row: a background goroutine writes queued rows
// in batches, so a call never waits for the writer (a big import holds it
// for seconds). Rows the database refuses for now (another process holds
// the write lock past the busy timeout) are kept and written later, not
// dropped. ListCalls writes the queue before it reads and Close before it
// closes; rows that could not be written are reported by the next
// ListCalls, Ping or Close. PruneCalls writes the queue too, then deletes
// old rows through the calls_at index in transactions of at most 1000
// rows, so other writers get the single writer connection in between.
// AddFailure and ReserveGuess delete the gate's failures and guesses older
// than a day (or the window, if longer) as they record a new one;
// ReserveGuess counts and records in one transaction on the writer
// connection, so reservations never overtake each other.
//
// Caller-table entries live in their own table with a unique index on
// (gate_id, pattern); LookupEntry is one indexed query over the number and
// its prefixes (gate.Prefixes). PINs are stored as HMAC salt and sum blobs,
// never in clear. Times are stored as integer nanoseconds (UTC), call-log
// durations as integer nanoseconds.
//
// Errors wrap gate.ErrNotFound, gate.ErrConflict, gate.ErrInvalid or
// gate.ErrUnavailable with the operation ("sqlite: put entry: conflict").
//
// Package sqlite imports gate, the standard library and the SQLite driver;
// it must not import another adapter (storage/postgres, admin, ari, agi,
// webhook) or cmd.
package sqlite
