-- 0004: API tokens may expire; NULL means never. An instance of an older
-- vipgate goes on working during a rolling upgrade (it ignores the column,
-- so it accepts an expired token until it is upgraded).
ALTER TABLE tokens ADD COLUMN expires_at timestamptz;
