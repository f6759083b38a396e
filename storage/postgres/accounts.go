package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/vipgate/vipgate/gate"
)

const accountColumns = `gate_id, number, pin_salt, pin_sum, label, priority, account_code, valid_from, valid_until, created_at, updated_at`

func scanAccount(row pgx.CollectableRow) (*gate.Account, error) {
	var (
		a          gate.Account
		from, till *time.Time
	)
	if err := row.Scan(&a.GateID, &a.Number, &a.PIN.Salt, &a.PIN.Sum, &a.Label, &a.Priority, &a.Code,
		&from, &till, &a.CreatedAt, &a.UpdatedAt); err != nil {
		return nil, err
	}
	if from != nil {
		a.ValidFrom = from.UTC()
	}
	if till != nil {
		a.ValidUntil = till.UTC()
	}
	a.CreatedAt, a.UpdatedAt = a.CreatedAt.UTC(), a.UpdatedAt.UTC()
	return &a, nil
}

// GetAccount returns one account of a gate, or ErrNotFound.
func (s *Store) GetAccount(ctx context.Context, gateID, number string) (*gate.Account, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	rows, err := s.pool.Query(ctx, `SELECT `+accountColumns+` FROM accounts WHERE gate_id = $1 AND number = $2`, gateID, number)
	if err != nil {
		return nil, wrap("get account", err)
	}
	a, err := one(rows, scanAccount)
	if err != nil {
		return nil, wrap("get account "+number, err)
	}
	return a, nil
}

// ListAccounts returns a page of a gate's accounts ordered by number, and
// how many match the filter.
func (s *Store) ListAccounts(ctx context.Context, gateID string, f gate.AccountFilter) ([]*gate.Account, int, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	var total int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM accounts WHERE gate_id = $1 AND number LIKE $2`,
		gateID, likePrefix(f.Number)).Scan(&total); err != nil {
		return nil, 0, wrap("list accounts", err)
	}
	rows, err := s.pool.Query(ctx, `SELECT `+accountColumns+` FROM accounts
		WHERE gate_id = $1 AND number LIKE $2 AND number > $3 ORDER BY number LIMIT $4 OFFSET $5`,
		gateID, likePrefix(f.Number), f.After, limit, max(f.Offset, 0))
	if err != nil {
		return nil, 0, wrap("list accounts", err)
	}
	as, err := pgx.CollectRows(rows, scanAccount)
	if err != nil {
		return nil, 0, wrap("list accounts", err)
	}
	return as, total, nil
}

// CreateAccount inserts an account and sets its times; an unknown gate is
// ErrNotFound, a number the gate has ErrConflict.
func (s *Store) CreateAccount(ctx context.Context, a *gate.Account) error {
	if err := a.Check(""); err != nil {
		return fmt.Errorf("postgres: create account: %w", err)
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	now := s.now()
	_, err := s.pool.Exec(ctx, `INSERT INTO accounts (`+accountColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)`,
		a.GateID, a.Number, a.PIN.Salt, a.PIN.Sum, a.Label, a.Priority, a.Code, nullTime(a.ValidFrom), nullTime(a.ValidUntil), now)
	if err != nil {
		return wrap("create account "+a.Number, err)
	}
	a.CreatedAt, a.UpdatedAt = now, now
	return nil
}

// UpdateAccount replaces an account and sets its times.
func (s *Store) UpdateAccount(ctx context.Context, a *gate.Account) error {
	if err := a.Check(""); err != nil {
		return fmt.Errorf("postgres: update account: %w", err)
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	now := s.now()
	var created time.Time
	err := s.pool.QueryRow(ctx, `UPDATE accounts SET pin_salt = $3, pin_sum = $4, label = $5, priority = $6, account_code = $7,
			valid_from = $8, valid_until = $9, updated_at = $10
		WHERE gate_id = $1 AND number = $2 RETURNING created_at`,
		a.GateID, a.Number, a.PIN.Salt, a.PIN.Sum, a.Label, a.Priority, a.Code, nullTime(a.ValidFrom), nullTime(a.ValidUntil), now).Scan(&created)
	if err != nil {
		return wrap("update account "+a.Number, err)
	}
	a.CreatedAt, a.UpdatedAt = created.UTC(), now
	return nil
}

// DeleteAccount removes one account with the lockout and the guess
// counters of its number, in one transaction; ErrNotFound if there is
// none.
func (s *Store) DeleteAccount(ctx context.Context, gateID, number string) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var n int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM accounts WHERE gate_id = $1 AND number = $2`, gateID, number)
		if err != nil {
			return err
		}
		if n = tag.RowsAffected(); n == 0 {
			return nil
		}
		key := gate.AccountKey(number)
		if _, err := tx.Exec(ctx, `DELETE FROM lockouts WHERE gate_id = $1 AND caller = $2`, gateID, key); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM failures WHERE gate_id = $1 AND caller = $2`, gateID, key)
		return err
	})
	if err != nil {
		return wrap("delete account "+number, err)
	}
	if n == 0 {
		return fmt.Errorf("postgres: delete account %s: %w", number, gate.ErrNotFound)
	}
	return nil
}

// ImportAccounts upserts accounts by number in one transaction, which
// locks the gate row (FOR KEY SHARE) so the gate is not deleted under it.
func (s *Store) ImportAccounts(ctx context.Context, gateID string, accounts []*gate.Account, opts gate.ImportOptions) (gate.ImportResult, error) {
	var res gate.ImportResult
	seen := make(map[string]bool, len(accounts))
	numbers := make([]string, 0, len(accounts))
	for i, a := range accounts {
		if err := a.Check(fmt.Sprintf("accounts[%d].", i)); err != nil {
			return res, fmt.Errorf("postgres: import accounts: %w", err)
		}
		if seen[a.Number] {
			return res, fmt.Errorf("postgres: import accounts: account %s twice: %w", a.Number, gate.ErrConflict)
		}
		seen[a.Number] = true
		numbers = append(numbers, a.Number)
	}
	now := s.now()
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var id string
		if err := tx.QueryRow(ctx, `SELECT id FROM gates WHERE id = $1 FOR KEY SHARE`, gateID).Scan(&id); err != nil {
			return err
		}
		var existing int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM accounts WHERE gate_id = $1 AND number = ANY($2::text[])`,
			gateID, numbers).Scan(&existing); err != nil {
			return err
		}
		var batch pgx.Batch
		for _, a := range accounts {
			batch.Queue(`INSERT INTO accounts (`+accountColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)
				ON CONFLICT (gate_id, number) DO UPDATE SET pin_salt = EXCLUDED.pin_salt, pin_sum = EXCLUDED.pin_sum,
					label = EXCLUDED.label, priority = EXCLUDED.priority, account_code = EXCLUDED.account_code,
					valid_from = EXCLUDED.valid_from, valid_until = EXCLUDED.valid_until, updated_at = EXCLUDED.updated_at`,
				gateID, a.Number, a.PIN.Salt, a.PIN.Sum, a.Label, a.Priority, a.Code, nullTime(a.ValidFrom), nullTime(a.ValidUntil), now)
		}
		if opts.Replace {
			batch.Queue(`DELETE FROM accounts WHERE gate_id = $1 AND NOT (number = ANY($2::text[]))`, gateID, numbers).Exec(func(tag pgconn.CommandTag) error {
				res.Deleted = int(tag.RowsAffected())
				return nil
			})
		}
		if batch.Len() > 0 {
			if err := tx.SendBatch(ctx, &batch).Close(); err != nil {
				return err
			}
		}
		res.Updated = existing
		res.Inserted = len(accounts) - existing
		return nil
	})
	if err != nil {
		return gate.ImportResult{}, wrap("import accounts", err)
	}
	return res, nil
}

// ReadAccount returns the account with number valid at now and the
// lockouts in effect among keys, in one round trip (a batch).
func (s *Store) ReadAccount(ctx context.Context, gateID, number string, keys []string, now time.Time) (gate.AccountState, error) {
	var (
		st    gate.AccountState
		batch pgx.Batch
	)
	if number != "" {
		batch.Queue(`SELECT `+accountColumns+` FROM accounts WHERE gate_id = $1 AND number = $2
			AND (valid_from IS NULL OR valid_from <= $3) AND (valid_until IS NULL OR valid_until > $3)`, gateID, number, now).Query(func(rows pgx.Rows) (err error) {
			st.Account, err = pgx.CollectOneRow(rows, scanAccount)
			if errors.Is(err, pgx.ErrNoRows) {
				st.Account, err = nil, nil
			}
			return err
		})
	}
	if len(keys) > 0 {
		batch.Queue(callLockoutsSQL, gateID, keys, now).Query(func(rows pgx.Rows) (err error) {
			st.Lockouts, err = pgx.CollectRows(rows, scanLockout)
			return err
		})
	}
	if batch.Len() == 0 {
		return st, nil
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if err := s.pool.SendBatch(ctx, &batch).Close(); err != nil {
		return gate.AccountState{}, wrap("read account", err)
	}
	return st, nil
}
