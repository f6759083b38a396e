-- 0007: the audit log of administrative changes (who, what, when, and the
-- changed fields as JSON with secrets replaced).
CREATE TABLE audit (
	id      INTEGER PRIMARY KEY AUTOINCREMENT,
	at      INTEGER NOT NULL,
	actor   TEXT NOT NULL,
	action  TEXT NOT NULL,
	gate_id TEXT NOT NULL DEFAULT '',
	object  TEXT NOT NULL DEFAULT '',
	changes TEXT NOT NULL DEFAULT '[]'
) STRICT;
CREATE INDEX audit_at ON audit (at);
