-- 0013: the notification outbox. A row waits until it is delivered
-- (deleted) or runs out of attempts (dead, kept for inspection). A claim
-- leases a row to one owner until lease_until; claims skip rows that
-- another instance's claim holds locked.
CREATE TABLE outbox (
    id          BIGSERIAL PRIMARY KEY,
    key         TEXT NOT NULL UNIQUE,
    gate_id     TEXT NOT NULL,
    rule        TEXT NOT NULL,
    channel     TEXT NOT NULL,
    event       BYTEA NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    created_at  TIMESTAMPTZ NOT NULL,
    next_at     TIMESTAMPTZ NOT NULL,
    lease_owner TEXT NOT NULL DEFAULT '',
    lease_until TIMESTAMPTZ NOT NULL DEFAULT '-infinity',
    last_error  TEXT NOT NULL DEFAULT '',
    dead        BOOLEAN NOT NULL DEFAULT false
);
CREATE INDEX outbox_due ON outbox (dead, next_at, id);
