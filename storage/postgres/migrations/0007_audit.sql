-- 0007: the audit log of administrative changes (who, what, when, and the
-- changed fields as JSON with secrets replaced).
CREATE TABLE audit (
	id      bigserial PRIMARY KEY,
	at      timestamptz NOT NULL,
	actor   text NOT NULL,
	action  text NOT NULL,
	gate_id text NOT NULL DEFAULT '',
	object  text NOT NULL DEFAULT '',
	changes jsonb NOT NULL DEFAULT '[]'
);
CREATE INDEX audit_at ON audit (at);
