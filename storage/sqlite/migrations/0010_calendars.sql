-- 0010: the last good copy of each calendar a gate's schedule names, so
-- that a restart or an unreachable calendar server changes nothing.
CREATE TABLE calendars (
    gate_id       TEXT NOT NULL,
    source        TEXT NOT NULL,
    body          BLOB NOT NULL,
    etag          TEXT NOT NULL DEFAULT '',
    last_modified TEXT NOT NULL DEFAULT '',
    fetched_at    INTEGER NOT NULL,
    PRIMARY KEY (gate_id, source)
);
