package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
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
	RETURNING cardinality(times)`

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

// lockGuessesSQL takes the row lock of a (gate, caller) pair, creating
// the row if need be, drops the times at or before the window's start and
// returns the count left (later times included). In READ COMMITTED the conflict path
// locks and reads the newest committed version of the row, so
// transactions on any instance see each other's guesses.
const lockGuessesSQL = `INSERT INTO failures AS f (gate_id, caller, times) VALUES ($1, $2, '{}')
	ON CONFLICT (gate_id, caller) DO UPDATE
		SET times = ARRAY(SELECT x FROM unnest(f.times) AS x WHERE x > $3::timestamptz ORDER BY x)
	RETURNING cardinality(times)`

// addGuessSQL records a guess at $3 under a pair locked by lockGuessesSQL,
// keeping the times in ascending order.
const addGuessSQL = `UPDATE failures AS f SET times = ARRAY(SELECT x FROM unnest(f.times || $3::timestamptz) AS x ORDER BY x)
	WHERE gate_id = $1 AND caller = $2`

// dropEmptySQL deletes a pair's row that lockGuessesSQL created or
// emptied and that holds no time.
const dropEmptySQL = `DELETE FROM failures WHERE gate_id = $1 AND caller = $2 AND cardinality(times) = 0`

// ReserveGuess counts a PIN guess about to be judged under every key if
// each has fewer than its limit after t-window; see gate.Counters. One
// transaction takes the row locks of all keys (in one order, so two
// reservations cannot deadlock), counts, and adds the guess only if every
// key has room: reservations on any number of instances queue on the row
// locks, and none sees a count without the guesses committed before it.
// Stale rows of the gate are pruned afterwards as in AddFailure. It runs
// within StoreTimeout.
func (s *Store) ReserveGuess(ctx context.Context, gateID string, keys []gate.GuessKey, t time.Time, window time.Duration) ([]int, bool, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	order := make([]int, len(keys))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(keys[a].Caller, keys[b].Caller) })
	var (
		counts []int
		ok     bool
	)
	from := t.Add(-window)
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		counts, ok = make([]int, len(keys)), true
		for _, i := range order {
			if err := tx.QueryRow(ctx, lockGuessesSQL, gateID, keys[i].Caller, from).Scan(&counts[i]); err != nil {
				return err
			}
			ok = ok && counts[i] < keys[i].Limit
		}
		for _, i := range order {
			if !ok {
				if _, err := tx.Exec(ctx, dropEmptySQL, gateID, keys[i].Caller); err != nil {
					return err
				}
				continue
			}
			if _, err := tx.Exec(ctx, addGuessSQL, gateID, keys[i].Caller, t); err != nil {
				return err
			}
			counts[i]++
		}
		return nil
	})
	if err != nil {
		return nil, false, wrap("reserve guess", err)
	}
	_, _ = s.pool.Exec(ctx, pruneFailuresSQL, gateID, t.Add(-max(window, failureRetention)), failurePruneBatch)
	return counts, ok, nil
}

// releaseGuessSQL removes one occurrence of $3 from a pair's times.
const releaseGuessSQL = `UPDATE failures SET times = times[:array_position(times, $3::timestamptz) - 1] || times[array_position(times, $3::timestamptz) + 1:]
	WHERE gate_id = $1 AND caller = $2 AND array_position(times, $3::timestamptz) IS NOT NULL`

// ReleaseGuess takes back one guess of caller at gate at t. It runs
// within StoreTimeout.
func (s *Store) ReleaseGuess(ctx context.Context, gateID, caller string, t time.Time) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if _, err := s.pool.Exec(ctx, releaseGuessSQL, gateID, caller, t); err != nil {
		return wrap("release guess", err)
	}
	return nil
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
	var l *gate.Lockout
	err := s.read(ctx, func(ctx context.Context) error {
		rows, err := s.pool.Query(ctx, `SELECT `+lockoutColumns+` FROM lockouts
			WHERE gate_id = $1 AND caller = $2 AND until > $3`, gateID, caller, now)
		if err != nil {
			return err
		}
		l, err = pgx.CollectExactlyOneRow(rows, scanLockout)
		return err
	})
	if err != nil {
		return nil, wrap(fmt.Sprintf("get lockout of %s at %q", caller, gateID), err)
	}
	return l, nil
}

// callLockoutsSQL returns the lockouts of gate $1 in effect at $3 among
// the caller keys $2.
const callLockoutsSQL = `SELECT ` + lockoutColumns + ` FROM lockouts
	WHERE gate_id = $1 AND caller = ANY($2::text[]) AND until > $3`

// ReadCall returns the lockouts in effect at now of the caller keys at
// gate and, if number is not "", the entry LookupEntry finds (nil when
// none matches), and the grants usable at now of number or anyone: the
// queries go to the server as one pipelined batch, one round trip. It
// runs within StoreTimeout.
func (s *Store) ReadCall(ctx context.Context, gateID string, keys []string, number string, now time.Time) (gate.CallState, error) {
	var prefixes []string
	if number != "" {
		prefixes = gate.Prefixes(number)
	}
	var st gate.CallState
	err := s.read(ctx, func(ctx context.Context) error {
		// A batch is built for each attempt: pgx keeps the prepared
		// statements of the connection it was sent on in it.
		var batch pgx.Batch
		st = gate.CallState{}
		if len(keys) > 0 {
			batch.Queue(callLockoutsSQL, gateID, keys, now).Query(func(rows pgx.Rows) (err error) {
				st.Lockouts, err = pgx.CollectRows(rows, scanLockout)
				return err
			})
		}
		if number != "" {
			batch.Queue(lookupSQL, gateID, prefixes, now).Query(func(rows pgx.Rows) (err error) {
				st.Entry, err = pgx.CollectOneRow(rows, scanEntry)
				if errors.Is(err, pgx.ErrNoRows) {
					st.Entry, err = nil, nil
				}
				return err
			})
		}
		queueCallGrants(&batch, &st, gateID, number, now)
		return s.pool.SendBatch(ctx, &batch).Close()
	})
	if err != nil {
		return gate.CallState{}, wrap("read call", err)
	}
	return st, nil
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
