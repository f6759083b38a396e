-- vipgate schema, version 1. Times are integer nanoseconds since the Unix
-- epoch (UTC); NULL means unset.

CREATE TABLE gates (
	id         TEXT PRIMARY KEY,
	doc        TEXT NOT NULL,   -- the gate as JSON, without override and times
	override   TEXT,            -- the override as JSON, NULL if none
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE entries (
	id          INTEGER PRIMARY KEY,
	gate_id     TEXT NOT NULL REFERENCES gates (id) ON DELETE CASCADE,
	pattern     TEXT NOT NULL,
	pin_salt    BLOB NOT NULL,
	pin_sum     BLOB NOT NULL,
	label       TEXT NOT NULL DEFAULT '',
	valid_from  INTEGER,
	valid_until INTEGER,
	created_at  INTEGER NOT NULL,
	updated_at  INTEGER NOT NULL
) STRICT;

CREATE UNIQUE INDEX entries_gate_pattern ON entries (gate_id, pattern);

CREATE TABLE calls (
	id                  INTEGER PRIMARY KEY,
	at                  INTEGER NOT NULL,
	source              TEXT NOT NULL,
	channel_id          TEXT NOT NULL,
	gate_id             TEXT NOT NULL,
	caller_raw          TEXT NOT NULL,
	caller              TEXT NOT NULL,
	called              TEXT NOT NULL,
	active              INTEGER NOT NULL,
	mode                TEXT NOT NULL,
	verdict             TEXT NOT NULL,
	attempts            INTEGER NOT NULL,
	outcome             TEXT NOT NULL,
	target              TEXT NOT NULL,
	entry_id            INTEGER NOT NULL,
	decision_latency_ns INTEGER NOT NULL,
	duration_ns         INTEGER NOT NULL,
	webhook_latency_ns  INTEGER NOT NULL,
	error_class         TEXT NOT NULL
) STRICT;

CREATE INDEX calls_at ON calls (at);
CREATE INDEX calls_gate_at ON calls (gate_id, at);
CREATE INDEX calls_caller_at ON calls (caller, at);

CREATE TABLE failures (
	gate_id TEXT NOT NULL,
	caller  TEXT NOT NULL,
	at      INTEGER NOT NULL
) STRICT;

CREATE INDEX failures_gate_caller_at ON failures (gate_id, caller, at);
CREATE INDEX failures_gate_at ON failures (gate_id, at);

CREATE TABLE lockouts (
	gate_id  TEXT NOT NULL,
	caller   TEXT NOT NULL,
	until    INTEGER NOT NULL,
	failures INTEGER NOT NULL,
	at       INTEGER NOT NULL,
	PRIMARY KEY (gate_id, caller)
) STRICT;

CREATE TABLE prompts (
	gate_id    TEXT NOT NULL,   -- '' = every gate
	lang       TEXT NOT NULL,
	key        TEXT NOT NULL,
	data       BLOB NOT NULL,
	size       INTEGER NOT NULL,
	created_at INTEGER NOT NULL,
	PRIMARY KEY (gate_id, lang, key)
) STRICT;

CREATE TABLE tokens (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL,
	role       TEXT NOT NULL,
	hash       BLOB NOT NULL,
	created_at INTEGER NOT NULL,
	revoked_at INTEGER
) STRICT;
