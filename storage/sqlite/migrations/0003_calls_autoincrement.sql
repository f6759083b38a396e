-- Call-log ids are never given out twice: with the retention deleting old
-- rows, a plain INTEGER PRIMARY KEY would hand out the id of the newest
-- deleted row again once a prune emptied the table. AUTOINCREMENT keeps the
-- highest id ever used (in sqlite_sequence). The table is rebuilt with the
-- same columns, rows and ids.

CREATE TABLE calls_new (
	id                  INTEGER PRIMARY KEY AUTOINCREMENT,
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

INSERT INTO calls_new (id, at, source, channel_id, gate_id, caller_raw, caller, called, active, mode,
		verdict, attempts, outcome, target, entry_id, decision_latency_ns, duration_ns, webhook_latency_ns, error_class)
	SELECT id, at, source, channel_id, gate_id, caller_raw, caller, called, active, mode,
		verdict, attempts, outcome, target, entry_id, decision_latency_ns, duration_ns, webhook_latency_ns, error_class
	FROM calls;

DROP TABLE calls;
ALTER TABLE calls_new RENAME TO calls;

CREATE INDEX calls_at ON calls (at);
CREATE INDEX calls_gate_at ON calls (gate_id, at);
CREATE INDEX calls_caller_at ON calls (caller, at);
