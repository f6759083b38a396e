package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/vipgate/vipgate/gate"
)

// failureRetention is the least time failures are kept; older ones are
// pruned when anyone fails at the same gate again.
const failureRetention = 24 * time.Hour

// AddFailure records a failed PIN dialogue of caller at gate at t and
// returns the caller's failures in (t-window, t]. gate.AnyCaller is a key
// like any other: the flow records every failed dialogue under it too, so
// its count is the gate-wide one. Failures at the gate older than a day
// (or the window, if longer) are pruned, whoever made them, so that
// numbers that fail once and never again (a brute-forcer trying many
// numbers) do not pile up.
func (s *Store) AddFailure(ctx context.Context, gateID, caller string, t time.Time, window time.Duration) (int, error) {
	now, from := clampNS(t), clampNS(t.Add(-window))
	prune := clampNS(t.Add(-max(window, failureRetention)))
	var n int
	err := inTx(ctx, s.w, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO failures (gate_id, caller, at) VALUES (?, ?, ?)`, gateID, caller, now); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM failures WHERE gate_id = ? AND at <= ?`, gateID, prune); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT count(*) FROM failures WHERE gate_id = ? AND caller = ? AND at > ? AND at <= ?`,
			gateID, caller, from, now).Scan(&n)
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite: add failure: %w", dbErr(err))
	}
	return n, nil
}

// ReserveGuess counts a PIN guess about to be judged under every key, in
// one transaction on the single writer connection (BEGIN IMMEDIATE), if
// each key has fewer than its limit after t-window; see gate.Counters.
// Guesses are rows of the failures table like failures, pruned alike.
func (s *Store) ReserveGuess(ctx context.Context, gateID string, keys []gate.GuessKey, t time.Time, window time.Duration) ([]int, bool, error) {
	now, from := clampNS(t), clampNS(t.Add(-window))
	prune := clampNS(t.Add(-max(window, failureRetention)))
	var (
		counts []int
		ok     bool
	)
	err := inTx(ctx, s.w, func(tx *sql.Tx) error {
		counts, ok = make([]int, len(keys)), true
		for i, k := range keys {
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM failures WHERE gate_id = ? AND caller = ? AND at > ?`,
				gateID, k.Caller, from).Scan(&counts[i]); err != nil {
				return err
			}
			ok = ok && counts[i] < k.Limit
		}
		if !ok {
			return nil
		}
		for i, k := range keys {
			if _, err := tx.ExecContext(ctx, `INSERT INTO failures (gate_id, caller, at) VALUES (?, ?, ?)`, gateID, k.Caller, now); err != nil {
				return err
			}
			counts[i]++
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM failures WHERE gate_id = ? AND at <= ?`, gateID, prune)
		return err
	})
	if err != nil {
		return nil, false, fmt.Errorf("sqlite: reserve guess: %w", dbErr(err))
	}
	return counts, ok, nil
}

// ReleaseGuess takes back one guess of caller at gate at t.
func (s *Store) ReleaseGuess(ctx context.Context, gateID, caller string, t time.Time) error {
	_, err := s.w.ExecContext(ctx, `DELETE FROM failures WHERE rowid = (
		SELECT rowid FROM failures WHERE gate_id = ? AND caller = ? AND at = ? LIMIT 1)`, gateID, caller, clampNS(t))
	if err != nil {
		return fmt.Errorf("sqlite: release guess: %w", dbErr(err))
	}
	return nil
}

// ResetFailures forgets the caller's failures.
func (s *Store) ResetFailures(ctx context.Context, gateID, caller string) error {
	if _, err := s.w.ExecContext(ctx, `DELETE FROM failures WHERE gate_id = ? AND caller = ?`, gateID, caller); err != nil {
		return fmt.Errorf("sqlite: reset failures: %w", dbErr(err))
	}
	return nil
}

// SetLockout stores a lockout, replacing the one of the same gate and
// caller.
func (s *Store) SetLockout(ctx context.Context, l *gate.Lockout) error {
	at := l.At
	if at.IsZero() {
		at = s.stamp()
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO lockouts (gate_id, caller, until, failures, at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (gate_id, caller) DO UPDATE SET until = excluded.until, failures = excluded.failures, at = excluded.at`,
		l.GateID, l.Caller, clampNS(l.Until), l.Failures, clampNS(at))
	if err != nil {
		return fmt.Errorf("sqlite: set lockout: %w", dbErr(err))
	}
	return nil
}

func scanLockout(sc scanner) (*gate.Lockout, error) {
	var (
		l         gate.Lockout
		until, at int64
	)
	if err := sc.Scan(&l.GateID, &l.Caller, &until, &l.Failures, &at); err != nil {
		return nil, err
	}
	l.Until, l.At = timeNS(until), timeNS(at)
	return &l, nil
}

// GetLockout returns the lockout in effect at now, or ErrNotFound.
func (s *Store) GetLockout(ctx context.Context, gateID, caller string, now time.Time) (*gate.Lockout, error) {
	l, err := scanLockout(s.r.QueryRowContext(ctx, `SELECT gate_id, caller, until, failures, at FROM lockouts
		WHERE gate_id = ? AND caller = ? AND until > ?`, gateID, caller, clampNS(now)))
	if err != nil {
		return nil, fmt.Errorf("sqlite: get lockout: %w", dbErr(err))
	}
	return l, nil
}

// readLockoutsSQL returns the lockouts of gate ?1 in effect at ?2 among
// the caller keys ?3 and ?4.
const readLockoutsSQL = `SELECT gate_id, caller, until, failures, at FROM lockouts
	WHERE gate_id = ?1 AND caller IN (?3, ?4) AND until > ?2`

// ReadCall returns the lockouts in effect at now of the caller keys at
// gate (one prepared query per two keys) and, if number is not "", the
// entry LookupEntry finds (nil when none matches), and the grants usable
// at now of number or anyone (one more prepared query).
func (s *Store) ReadCall(ctx context.Context, gateID string, keys []string, number string, now time.Time) (gate.CallState, error) {
	var st gate.CallState
	for i := 0; i < len(keys); i += 2 {
		a, b := keys[i], keys[i]
		if i+1 < len(keys) {
			b = keys[i+1]
		}
		ls, err := s.readLockouts(ctx, gateID, a, b, now)
		if err != nil {
			return gate.CallState{}, fmt.Errorf("sqlite: read call: %w", dbErr(err))
		}
		st.Lockouts = append(st.Lockouts, ls...)
	}
	if number != "" {
		e, err := s.LookupEntry(ctx, gateID, number, now)
		if err != nil && !errors.Is(err, gate.ErrNotFound) {
			return gate.CallState{}, err
		}
		st.Entry = e
	}
	gs, err := s.callGrants(ctx, gateID, number, now)
	if err != nil {
		return gate.CallState{}, fmt.Errorf("sqlite: read call: %w", dbErr(err))
	}
	st.Grants = gs
	return st, nil
}

func (s *Store) readLockouts(ctx context.Context, gateID, a, b string, now time.Time) ([]*gate.Lockout, error) {
	stmt, err := s.readStmt(ctx, readLockoutsKey)
	if err != nil {
		return nil, err
	}
	rows, err := stmt.QueryContext(ctx, gateID, clampNS(now), a, b)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*gate.Lockout
	for rows.Next() {
		l, err := scanLockout(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// ListLockouts returns the lockouts in effect at now, ordered by gate and
// caller; gateID "" means every gate.
func (s *Store) ListLockouts(ctx context.Context, gateID string, now time.Time) ([]*gate.Lockout, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT gate_id, caller, until, failures, at FROM lockouts
		WHERE until > ? AND (? = '' OR gate_id = ?) ORDER BY gate_id, caller`, clampNS(now), gateID, gateID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list lockouts: %w", dbErr(err))
	}
	defer rows.Close()
	var out []*gate.Lockout
	for rows.Next() {
		l, err := scanLockout(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: list lockouts: %w", dbErr(err))
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list lockouts: %w", dbErr(err))
	}
	return out, nil
}

// ClearLockout removes a lockout and the caller's failures. It returns
// ErrNotFound if there was no lockout; the failures are forgotten all the
// same.
func (s *Store) ClearLockout(ctx context.Context, gateID, caller string) error {
	var cleared int64
	err := inTx(ctx, s.w, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM lockouts WHERE gate_id = ? AND caller = ?`, gateID, caller)
		if err != nil {
			return err
		}
		if cleared, err = res.RowsAffected(); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM failures WHERE gate_id = ? AND caller = ?`, gateID, caller)
		return err
	})
	if err == nil && cleared == 0 {
		err = gate.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("sqlite: clear lockout: %w", dbErr(err))
	}
	return nil
}
