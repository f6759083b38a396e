-- 0002: drop the foreign key from entries to gates. Checking it costs a
-- trigger call per row, about half the time of a bulk import; the store
-- keeps the invariant itself instead: every write of entries locks the
-- gate row (FOR KEY SHARE) in its transaction, and DeleteGate deletes the
-- gate's entries.
ALTER TABLE entries DROP CONSTRAINT entries_gate_id_fkey;
