-- 0005: caller-table entries have a kind (pin, allow, deny), a priority
-- (0 = none) and, for allow entries, a target ('' = on to the call's
-- destination). Allow and deny entries carry no PIN: their pin_salt and
-- pin_sum are empty. Existing entries are PIN entries.
ALTER TABLE entries ADD COLUMN kind TEXT NOT NULL DEFAULT 'pin' CHECK (kind IN ('pin', 'allow', 'deny'));
ALTER TABLE entries ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
ALTER TABLE entries ADD COLUMN target TEXT NOT NULL DEFAULT '';
