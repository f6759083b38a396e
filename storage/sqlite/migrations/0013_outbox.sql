-- 0013: the notification outbox. A row waits until it is delivered
-- (deleted) or runs out of attempts (dead, kept for inspection). A claim
-- leases a row to one owner until lease_until.
CREATE TABLE outbox (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    key         TEXT NOT NULL UNIQUE,
    gate_id     TEXT NOT NULL,
    rule        TEXT NOT NULL,
    channel     TEXT NOT NULL,
    event       BLOB NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    next_at     INTEGER NOT NULL,
    lease_owner TEXT NOT NULL DEFAULT '',
    lease_until INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT NOT NULL DEFAULT '',
    dead        INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX outbox_due ON outbox (dead, next_at, id);
