-- 0012: accounts of a gate, for account-number identification: the
-- number a caller types, the hash of that account's PIN (never the PIN),
-- a label, a priority and an account code for the dialplan, and validity
-- dates. Accounts are found by exact number only, never by caller number.
CREATE TABLE accounts (
	gate_id      TEXT NOT NULL REFERENCES gates (id) ON DELETE CASCADE,
	number       TEXT NOT NULL,
	pin_salt     BLOB NOT NULL,
	pin_sum      BLOB NOT NULL,
	label        TEXT NOT NULL DEFAULT '',
	priority     INTEGER NOT NULL DEFAULT 0,
	account_code TEXT NOT NULL DEFAULT '',
	valid_from   INTEGER,
	valid_until  INTEGER,
	created_at   INTEGER NOT NULL,
	updated_at   INTEGER NOT NULL,
	PRIMARY KEY (gate_id, number)
) STRICT;
