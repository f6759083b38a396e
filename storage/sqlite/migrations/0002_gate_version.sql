-- A counter that every change to the gates table bumps, so that a process
-- can tell that another one (vipgate CLI, a second daemon, a manual edit)
-- changed a gate and its gate cache is stale.

CREATE TABLE gate_version (
	id      INTEGER PRIMARY KEY CHECK (id = 1),
	version INTEGER NOT NULL
) STRICT;

INSERT INTO gate_version (id, version) VALUES (1, 0);

CREATE TRIGGER gates_insert_version AFTER INSERT ON gates
BEGIN
	UPDATE gate_version SET version = version + 1;
END;

CREATE TRIGGER gates_update_version AFTER UPDATE ON gates
BEGIN
	UPDATE gate_version SET version = version + 1;
END;

CREATE TRIGGER gates_delete_version AFTER DELETE ON gates
BEGIN
	UPDATE gate_version SET version = version + 1;
END;
