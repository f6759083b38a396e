-- 0003: an index on the newest failure of each (gate, caller) row, so that
-- AddFailure can find and delete the rows of numbers that have not failed
-- for a day (or the gate's window, if longer) without reading the gate's
-- other rows. AddFailure keeps times in ascending order, so the last
-- element is the newest. The table itself is unchanged: an instance of an
-- older vipgate goes on working during a rolling upgrade.
CREATE INDEX failures_gate_newest ON failures (gate_id, (times[array_upper(times, 1)]));
