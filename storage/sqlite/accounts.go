package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/vipgate/vipgate/gate"
)

const accountCols = `gate_id, number, pin_salt, pin_sum, label, priority, account_code, valid_from, valid_until, created_at, updated_at`

func scanAccount(sc scanner) (*gate.Account, error) {
	var (
		a                gate.Account
		from, until      sql.NullInt64
		created, updated int64
	)
	if err := sc.Scan(&a.GateID, &a.Number, &a.PIN.Salt, &a.PIN.Sum, &a.Label, &a.Priority, &a.Code, &from, &until, &created, &updated); err != nil {
		return nil, err
	}
	a.ValidFrom, a.ValidUntil = fromNS(from), fromNS(until)
	a.CreatedAt, a.UpdatedAt = timeNS(created), timeNS(updated)
	return &a, nil
}

// GetAccount returns one account of a gate.
func (s *Store) GetAccount(ctx context.Context, gateID, number string) (*gate.Account, error) {
	a, err := scanAccount(s.r.QueryRowContext(ctx, `SELECT `+accountCols+` FROM accounts WHERE gate_id = ? AND number = ?`, gateID, number))
	if err != nil {
		return nil, fmt.Errorf("sqlite: get account %s: %w", number, dbErr(err))
	}
	return a, nil
}

// ListAccounts returns a page of the gate's accounts ordered by number,
// and how many match the filter.
func (s *Store) ListAccounts(ctx context.Context, gateID string, f gate.AccountFilter) ([]*gate.Account, int, error) {
	where := `gate_id = ?`
	args := []any{gateID}
	if f.Number != "" {
		where += ` AND substr(number, 1, ?) = ?`
		args = append(args, len(f.Number), f.Number)
	}
	var total int
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM accounts WHERE `+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("sqlite: list accounts: %w", dbErr(err))
	}
	if f.After != "" {
		where += ` AND number > ?`
		args = append(args, f.After)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+accountCols+` FROM accounts WHERE `+where+` ORDER BY number LIMIT ? OFFSET ?`,
		append(args, limit, max(f.Offset, 0))...)
	if err != nil {
		return nil, 0, fmt.Errorf("sqlite: list accounts: %w", dbErr(err))
	}
	defer rows.Close()
	var out []*gate.Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("sqlite: list accounts: %w", dbErr(err))
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("sqlite: list accounts: %w", dbErr(err))
	}
	return out, total, nil
}

// CreateAccount inserts an account and sets its times.
func (s *Store) CreateAccount(ctx context.Context, a *gate.Account) error {
	if err := a.Check(""); err != nil {
		return fmt.Errorf("sqlite: create account: %w", err)
	}
	now := s.stamp()
	_, err := s.w.ExecContext(ctx, `INSERT INTO accounts (`+accountCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.GateID, a.Number, a.PIN.Salt, a.PIN.Sum, a.Label, a.Priority, a.Code, ns(a.ValidFrom), ns(a.ValidUntil), now.UnixNano(), now.UnixNano())
	if err != nil {
		return fmt.Errorf("sqlite: create account %s: %w", a.Number, dbErr(err))
	}
	a.CreatedAt, a.UpdatedAt = now, now
	return nil
}

// UpdateAccount replaces an account and sets its times.
func (s *Store) UpdateAccount(ctx context.Context, a *gate.Account) error {
	if err := a.Check(""); err != nil {
		return fmt.Errorf("sqlite: update account: %w", err)
	}
	now := s.stamp()
	var created int64
	err := s.w.QueryRowContext(ctx, `UPDATE accounts SET pin_salt = ?, pin_sum = ?, label = ?, priority = ?, account_code = ?,
			valid_from = ?, valid_until = ?, updated_at = ?
		WHERE gate_id = ? AND number = ? RETURNING created_at`,
		a.PIN.Salt, a.PIN.Sum, a.Label, a.Priority, a.Code, ns(a.ValidFrom), ns(a.ValidUntil), now.UnixNano(), a.GateID, a.Number).Scan(&created)
	if err != nil {
		return fmt.Errorf("sqlite: update account %s: %w", a.Number, dbErr(err))
	}
	a.CreatedAt, a.UpdatedAt = timeNS(created), now
	return nil
}

// DeleteAccount removes one account of a gate with the lockout and the
// guess counters of its number, in one transaction.
func (s *Store) DeleteAccount(ctx context.Context, gateID, number string) error {
	var n int64
	err := inTx(ctx, s.w, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM accounts WHERE gate_id = ? AND number = ?`, gateID, number)
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		key := gate.AccountKey(number)
		if _, err := tx.ExecContext(ctx, `DELETE FROM lockouts WHERE gate_id = ? AND caller = ?`, gateID, key); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM failures WHERE gate_id = ? AND caller = ?`, gateID, key)
		return err
	})
	if err == nil && n == 0 {
		err = gate.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("sqlite: delete account %s: %w", number, dbErr(err))
	}
	return nil
}

// ImportAccounts upserts accounts by number in one transaction.
func (s *Store) ImportAccounts(ctx context.Context, gateID string, accounts []*gate.Account, opts gate.ImportOptions) (gate.ImportResult, error) {
	var res gate.ImportResult
	seen := make(map[string]bool, len(accounts))
	for i, a := range accounts {
		if err := a.Check(fmt.Sprintf("accounts[%d].", i)); err != nil {
			return res, fmt.Errorf("sqlite: import accounts: %w", err)
		}
		if seen[a.Number] {
			return res, fmt.Errorf("sqlite: import accounts: account %s twice: %w", a.Number, gate.ErrConflict)
		}
		seen[a.Number] = true
	}
	now := s.stamp().UnixNano()
	err := inTx(ctx, s.w, func(tx *sql.Tx) error {
		if err := gateExists(ctx, tx, gateID); err != nil {
			return err
		}
		old := map[string]bool{}
		rows, err := tx.QueryContext(ctx, `SELECT number FROM accounts WHERE gate_id = ?`, gateID)
		if err != nil {
			return err
		}
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				rows.Close()
				return err
			}
			old[n] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, a := range accounts {
			_, err := tx.ExecContext(ctx, `INSERT INTO accounts (`+accountCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (gate_id, number) DO UPDATE SET pin_salt = excluded.pin_salt, pin_sum = excluded.pin_sum,
					label = excluded.label, priority = excluded.priority, account_code = excluded.account_code,
					valid_from = excluded.valid_from, valid_until = excluded.valid_until, updated_at = excluded.updated_at`,
				gateID, a.Number, a.PIN.Salt, a.PIN.Sum, a.Label, a.Priority, a.Code, ns(a.ValidFrom), ns(a.ValidUntil), now, now)
			if err != nil {
				return err
			}
			if old[a.Number] {
				res.Updated++
			} else {
				res.Inserted++
			}
		}
		if opts.Replace {
			for n := range old {
				if seen[n] {
					continue
				}
				if _, err := tx.ExecContext(ctx, `DELETE FROM accounts WHERE gate_id = ? AND number = ?`, gateID, n); err != nil {
					return err
				}
				res.Deleted++
			}
		}
		return nil
	})
	if err != nil {
		return gate.ImportResult{}, fmt.Errorf("sqlite: import accounts: %w", dbErr(err))
	}
	return res, nil
}

// ReadAccount returns the account with number valid at now and the
// lockouts in effect among keys.
func (s *Store) ReadAccount(ctx context.Context, gateID, number string, keys []string, now time.Time) (gate.AccountState, error) {
	var st gate.AccountState
	if number != "" {
		a, err := scanAccount(s.r.QueryRowContext(ctx, `SELECT `+accountCols+` FROM accounts WHERE gate_id = ? AND number = ?
			AND (valid_from IS NULL OR valid_from <= ?) AND (valid_until IS NULL OR valid_until > ?)`,
			gateID, number, clampNS(now), clampNS(now)))
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return gate.AccountState{}, fmt.Errorf("sqlite: read account: %w", dbErr(err))
		default:
			st.Account = a
		}
	}
	if len(keys) > 0 {
		q := `SELECT gate_id, caller, until, failures, at FROM lockouts WHERE gate_id = ? AND until > ? AND caller IN (?` +
			strings.Repeat(", ?", len(keys)-1) + `)`
		args := []any{gateID, clampNS(now)}
		for _, k := range keys {
			args = append(args, k)
		}
		rows, err := s.r.QueryContext(ctx, q, args...)
		if err != nil {
			return gate.AccountState{}, fmt.Errorf("sqlite: read account: %w", dbErr(err))
		}
		defer rows.Close()
		for rows.Next() {
			l, err := scanLockout(rows)
			if err != nil {
				return gate.AccountState{}, fmt.Errorf("sqlite: read account: %w", dbErr(err))
			}
			st.Lockouts = append(st.Lockouts, l)
		}
		if err := rows.Err(); err != nil {
			return gate.AccountState{}, fmt.Errorf("sqlite: read account: %w", dbErr(err))
		}
	}
	return st, nil
}
