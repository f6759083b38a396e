-- 0005: caller-table entries have a kind (pin, allow, deny), a priority
-- (0 = none) and, for allow entries, a target ('' = on to the call's
-- destination). Allow and deny entries carry no PIN: their pin_salt and
-- pin_sum are empty. Existing entries are PIN entries. The defaults keep
-- an older vipgate working during a rolling upgrade: it writes PIN
-- entries, and reads allow and deny entries as entries with an empty PIN
-- hash, which no typed PIN matches.
ALTER TABLE entries ADD COLUMN kind text NOT NULL DEFAULT 'pin' CHECK (kind IN ('pin', 'allow', 'deny')),
	ADD COLUMN priority integer NOT NULL DEFAULT 0,
	ADD COLUMN target text NOT NULL DEFAULT '';
