package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vipgate/vipgate/gate"
)

// grantColumns are the columns scanGrant reads, without the PIN hash.
const grantColumns = `id, gate_id, caller, label, valid_from, valid_until, max_uses, uses, created_by, created_at`

// usableGrant is the condition of a grant usable at $2.
const usableGrant = `(valid_from IS NULL OR valid_from <= $2) AND (valid_until IS NULL OR valid_until > $2)
	AND (max_uses = 0 OR uses < max_uses)`

// callGrantsSQL reads the grants of gate $1 usable at $2 of caller $3 or
// anyone, with their hashes.
var callGrantsSQL = `SELECT ` + grantColumns + `, pin_salt, pin_sum FROM grants
	WHERE gate_id = $1 AND caller IN ($3, '*') AND ` + usableGrant + ` ORDER BY id LIMIT ` + fmt.Sprint(gate.MaxGrants)

func scanGrantWith(row pgx.CollectableRow, hash bool) (*gate.Grant, error) {
	var (
		g           gate.Grant
		from, until *time.Time
	)
	dest := []any{&g.ID, &g.GateID, &g.Caller, &g.Label, &from, &until, &g.MaxUses, &g.Uses, &g.CreatedBy, &g.CreatedAt}
	if hash {
		dest = append(dest, &g.PIN.Salt, &g.PIN.Sum)
	}
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	if from != nil {
		g.ValidFrom = from.UTC()
	}
	if until != nil {
		g.ValidUntil = until.UTC()
	}
	g.CreatedAt = g.CreatedAt.UTC()
	return &g, nil
}

func scanGrant(row pgx.CollectableRow) (*gate.Grant, error)     { return scanGrantWith(row, false) }
func scanCallGrant(row pgx.CollectableRow) (*gate.Grant, error) { return scanGrantWith(row, true) }

// CreateGrant stores a new grant unless the gate has gate.MaxGrants
// grants usable at its CreatedAt. The gate row is locked for the count
// and the insert, so instances that grant at once take turns.
func (s *Store) CreateGrant(ctx context.Context, g *gate.Grant) error {
	if len(g.PIN.Salt) == 0 || len(g.PIN.Sum) == 0 {
		return fmt.Errorf("postgres: create grant: %w", &gate.ValidationError{Field: "pin", Problem: "is required"})
	}
	if g.CreatedAt.IsZero() {
		g.CreatedAt = s.now()
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var id string
		if err := tx.QueryRow(ctx, `SELECT id FROM gates WHERE id = $1 FOR UPDATE`, g.GateID).Scan(&id); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM grants WHERE gate_id = $1 AND `+usableGrant, g.GateID, g.CreatedAt).Scan(&n); err != nil {
			return err
		}
		if n >= gate.MaxGrants {
			return fmt.Errorf("gate %q has %d usable grants, at most %d: %w", g.GateID, n, gate.MaxGrants, gate.ErrConflict)
		}
		return tx.QueryRow(ctx, `INSERT INTO grants (gate_id, caller, pin_salt, pin_sum, label, valid_from, valid_until, max_uses, uses, created_by, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
			g.GateID, g.Caller, g.PIN.Salt, g.PIN.Sum, g.Label, nullTime(g.ValidFrom), nullTime(g.ValidUntil), g.MaxUses, g.Uses, g.CreatedBy, g.CreatedAt).Scan(&g.ID)
	})
	if err != nil {
		return wrap("create grant", err)
	}
	return nil
}

// ListGrants returns a gate's grants ordered by ID, without hashes.
func (s *Store) ListGrants(ctx context.Context, gateID string) ([]*gate.Grant, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	rows, err := s.pool.Query(ctx, `SELECT `+grantColumns+` FROM grants WHERE gate_id = $1 ORDER BY id`, gateID)
	if err != nil {
		return nil, wrap("list grants", err)
	}
	gs, err := pgx.CollectRows(rows, scanGrant)
	if err != nil {
		return nil, wrap("list grants", err)
	}
	return gs, nil
}

// DeleteGrant removes one grant of a gate.
func (s *Store) DeleteGrant(ctx context.Context, gateID string, id int64) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	tag, err := s.pool.Exec(ctx, `DELETE FROM grants WHERE gate_id = $1 AND id = $2`, gateID, id)
	if err == nil && tag.RowsAffected() == 0 {
		err = gate.ErrNotFound
	}
	return wrap(fmt.Sprintf("delete grant %d", id), err)
}

// UseGrant counts one use with a single UPDATE that checks validity and
// the limit in its WHERE. Two instances that use the last use at once
// both try to update the row; the second waits for the first, then
// PostgreSQL evaluates the WHERE again on the updated row (READ
// COMMITTED), finds it used up and updates nothing.
func (s *Store) UseGrant(ctx context.Context, gateID string, id int64, now time.Time) (*gate.Grant, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	rows, err := s.pool.Query(ctx, `UPDATE grants SET uses = uses + 1
		WHERE gate_id = $1 AND id = $3 AND `+usableGrant+` RETURNING `+grantColumns, gateID, now, id)
	if err != nil {
		return nil, wrap(fmt.Sprintf("use grant %d", id), err)
	}
	g, err := pgx.CollectExactlyOneRow(rows, scanGrant)
	if errors.Is(err, pgx.ErrNoRows) {
		var one int
		if s.pool.QueryRow(ctx, `SELECT 1 FROM grants WHERE gate_id = $1 AND id = $2`, gateID, id).Scan(&one) == nil {
			err = gate.ErrGrantUnusable
		}
	}
	if err != nil {
		return nil, wrap(fmt.Sprintf("use grant %d", id), err)
	}
	return g, nil
}

// queueCallGrants adds the read of the grants of gateID usable at now of
// number or anyone to batch, to land in st.
func queueCallGrants(batch *pgx.Batch, st *gate.CallState, gateID, number string, now time.Time) {
	if number == "" {
		number = gate.AnyCaller
	}
	batch.Queue(callGrantsSQL, gateID, now, number).Query(func(rows pgx.Rows) (err error) {
		st.Grants, err = pgx.CollectRows(rows, scanCallGrant)
		return err
	})
}
