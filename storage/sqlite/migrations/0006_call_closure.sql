-- 0006: the call log names the closure or holiday that decided the gate's
-- schedule ('' when none did).
ALTER TABLE calls ADD COLUMN closure TEXT NOT NULL DEFAULT '';
