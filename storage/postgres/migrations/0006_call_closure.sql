-- 0006: the call log names the closure or holiday that decided the gate's
-- schedule ('' when none did). An instance of an older vipgate goes on
-- writing calls during a rolling upgrade (the column has a default).
ALTER TABLE calls ADD COLUMN closure text NOT NULL DEFAULT '';
