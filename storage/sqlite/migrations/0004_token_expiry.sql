-- 0004: API tokens may expire; NULL means never.
ALTER TABLE tokens ADD COLUMN expires_at INTEGER;
