-- 0011: granted PINs. A grant is a random PIN of a gate for one caller
-- (caller, normalised) or for anyone ('*'), valid between valid_from and
-- valid_until (NULL = open) and for max_uses calls (0 = any number until
-- it expires). Only the PIN's hash is kept. uses counts the calls it let
-- through; it is raised by one UPDATE that checks the limit, so that two
-- calls cannot both take the last use.
CREATE TABLE grants (
	id          INTEGER PRIMARY KEY,
	gate_id     TEXT NOT NULL REFERENCES gates (id) ON DELETE CASCADE,
	caller      TEXT NOT NULL,
	pin_salt    BLOB NOT NULL,
	pin_sum     BLOB NOT NULL,
	label       TEXT NOT NULL DEFAULT '',
	valid_from  INTEGER,
	valid_until INTEGER,
	max_uses    INTEGER NOT NULL DEFAULT 0 CHECK (max_uses >= 0),
	uses        INTEGER NOT NULL DEFAULT 0 CHECK (uses >= 0),
	created_by  TEXT NOT NULL DEFAULT '',
	created_at  INTEGER NOT NULL
) STRICT;

CREATE INDEX grants_gate_caller ON grants (gate_id, caller);

-- A grant made or revoked bumps gate_version, as a gate change does, so
-- that another process (serve, when the CLI granted) notices that the
-- gates with grants changed: calls of gates without any skip the read.
CREATE TRIGGER grants_insert_version AFTER INSERT ON grants
BEGIN
	UPDATE gate_version SET version = version + 1;
END;

CREATE TRIGGER grants_delete_version AFTER DELETE ON grants
BEGIN
	UPDATE gate_version SET version = version + 1;
END;
