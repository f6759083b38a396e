-- 0012: accounts of a gate, for account-number identification: the
-- number a caller types, the hash of that account's PIN (never the PIN),
-- a label, a priority and an account code for the dialplan, and validity
-- dates. Accounts are found by exact number only, never by caller number.
-- An older vipgate during a rolling upgrade does not know the table and
-- leaves it alone.
CREATE TABLE accounts (
    gate_id      TEXT NOT NULL REFERENCES gates (id) ON DELETE CASCADE,
    number       TEXT NOT NULL,
    pin_salt     BYTEA NOT NULL,
    pin_sum      BYTEA NOT NULL,
    label        TEXT NOT NULL DEFAULT '',
    priority     INTEGER NOT NULL DEFAULT 0,
    account_code TEXT NOT NULL DEFAULT '',
    valid_from   TIMESTAMPTZ,
    valid_until  TIMESTAMPTZ,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (gate_id, number)
);
