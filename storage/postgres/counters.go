package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vipgate/vipgate/gate"
)

// failureRetention is the least time failures are kept: AddFailure
// deletes the rows of a gate whose newest failure is older than that (or
// the window, if longer), so that numbers that fail once and never again
// (a brute-forcer trying many numbers) do not pile up.
const failureRetention = 24 * time.Hour

// failurePruneBatch bounds the stale rows one AddFailure deletes; a
// backlog shrinks by as many with every further failure at the gate.
const failurePruneBatch = 1000

// addFailureSQL appends a failure to the (gate, caller) row, drops the
// ones older than the window and keeps the rest in ascending order (the
// failures_gate_newest index relies on it), and returns the count in the
// window.
const addFailureSQL = `INSERT INTO failures AS f (gate_id, caller, times) VALUES ($1, $2, ARRAY[$3::timestamptz])
	ON CONFLICT (gate_id, caller) DO UPDATE
		SET times = ARRAY(SELECT x FROM unnest(f.times || $3::timestamptz) AS x WHERE x > $4::timestamptz ORDER BY x)
	RETURNING (SELECT count(*) FROM unnest(times) AS x WHERE x > $4::timestamptz AND x <= $3::timestamptz)`

// pruneFailuresSQL deletes at most $3 rows of gate $1 whose newest
// failure is at or before $2, found through the failures_gate_newest
// index. Rows locked by another transaction (a failure being added on
// another instance) are skipped, never waited for.
const pruneFailuresSQL = `DELETE FROM failures WHERE (gate_id, caller) IN (
	SELECT gate_id, caller FROM failures WHERE gate_id = $1 AND times[array_upper(times, 1)] <= $2
	LIMIT $3 FOR UPDATE SKIP LOCKED)`

// AddFailure records a failed PIN dialogue and returns the failures of
// (gate, caller) in (t-window, t]. One upsert takes the row lock of the
// pair, so concurrent failures on several instances are all counted and
// each call sees a distinct count. Failures older than the window are
// dropped from the row as it is written. After the failure is counted, a
// statement of its own deletes the gate's rows whose newest failure is
// older than failureRetention or the window, whichever is longer, at most
// failurePruneBatch of them; it skips rows other transactions hold, so it
// never waits and cannot deadlock with a concurrent AddFailure. A failed
// prune is not an error of AddFailure (the failure is counted; the next
// one prunes again). gate.AnyCaller is a key like any other: the flow
// records every failed dialogue of a gate under it too. It runs within
// StoreTimeout.
func (s *Store) AddFailure(ctx context.Context, gateID, caller string, t time.Time, window time.Duration) (int, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var n int
	if err := s.pool.QueryRow(ctx, addFailureSQL, gateID, caller, t, t.Add(-window)).Scan(&n); err != nil {
		return 0, wrap("add failure", err)
	}
	_, _ = s.pool.Exec(ctx, pruneFailuresSQL, gateID, t.Add(-max(window, failureRetention)), failurePruneBatch)
	return n, nil
}

// forgetFailures deletes the failures of one caller key at a gate.
const forgetFailures = `DELETE FROM failures WHERE gate_id = $1 AND caller = $2`

// ResetFailures forgets the failures of caller (a key like any other,
// gate.AnyCaller included) at gate.
func (s *Store) ResetFailures(ctx context.Context, gateID, caller string) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if _, err := s.pool.Exec(ctx, forgetFailures, gateID, caller); err != nil {
		return wrap("reset failures", err)
	}
	return nil
}

// SetLockout stores a lockout, replacing the pair's previous one.
func (s *Store) SetLockout(ctx context.Context, l *gate.Lockout) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	at := l.At
	if at.IsZero() {
		at = s.now()
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO lockouts (gate_id, caller, until, failures, at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (gate_id, caller) DO UPDATE SET until = EXCLUDED.until, failures = EXCLUDED.failures, at = EXCLUDED.at`,
		l.GateID, l.Caller, l.Until, l.Failures, at)
	if err != nil {
		return wrap("set lockout", err)
	}
	return nil
}

const lockoutColumns = `gate_id, caller, until, failures, at`

func scanLockout(row pgx.CollectableRow) (*gate.Lockout, error) {
	var l gate.Lockout
	err := row.Scan(&l.GateID, &l.Caller, &l.Until, &l.Failures, &l.At)
	l.Until, l.At = l.Until.UTC(), l.At.UTC()
	return &l, err
}

// GetLockout returns the lockout of caller at gate in effect at now, or
// ErrNotFound. It runs within StoreTimeout.
func (s *Store) GetLockout(ctx context.Context, gateID, caller string, now time.Time) (*gate.Lockout, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	rows, err := s.pool.Query(ctx, `SELECT `+lockoutColumns+` FROM lockouts
		WHERE gate_id = $1 AND caller = $2 AND until > $3`, gateID, caller, now)
	if err != nil {
		return nil, wrap("get lockout", err)
	}
	l, err := pgx.CollectExactlyOneRow(rows, scanLockout)
	if err != nil {
		return nil, wrap(fmt.Sprintf("get lockout of %s at %q", caller, gateID), err)
	}
	return l, nil
}

// ListLockouts returns the lockouts in effect at now, ordered by gate and
// caller; gateID "" lists every gate's.
func (s *Store) ListLockouts(ctx context.Context, gateID string, now time.Time) ([]*gate.Lockout, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	rows, err := s.pool.Query(ctx, `SELECT `+lockoutColumns+` FROM lockouts
		WHERE ($1 = '' OR gate_id = $1) AND until > $2 ORDER BY gate_id, caller`, gateID, now)
	if err != nil {
		return nil, wrap("list lockouts", err)
	}
	ls, err := pgx.CollectRows(rows, scanLockout)
	if err != nil {
		return nil, wrap("list lockouts", err)
	}
	return ls, nil
}

// ClearLockout removes a lockout and forgets the failures of that caller
// key. It returns ErrNotFound if there
// was no lockout; the failures are forgotten all the same.
func (s *Store) ClearLockout(ctx context.Context, gateID, caller string) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var cleared int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM lockouts WHERE gate_id = $1 AND caller = $2`, gateID, caller)
		if err != nil {
			return err
		}
		cleared = tag.RowsAffected()
		_, err = tx.Exec(ctx, forgetFailures, gateID, caller)
		return err
	})
	if err == nil && cleared == 0 {
		err = gate.ErrNotFound
	}
	if err != nil {
		return wrap(fmt.Sprintf("clear lockout of %s at %q", caller, gateID), err)
	}
	return nil
}
