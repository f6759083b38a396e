package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/vipgate/vipgate/gate"
)

// EraseCaller deletes the caller's call-log rows, exact caller-table
// entries, lockouts and counters (at gateID, or everywhere for "") in one
// transaction, after writing the queued call-log rows.
func (s *Store) EraseCaller(ctx context.Context, gateID, number string) (gate.Erasure, error) {
	var out gate.Erasure
	if err := gate.ValidErasable(number); err != nil {
		return out, fmt.Errorf("postgres: erase caller: %w", err)
	}
	fctx, cancel := s.bound(ctx)
	err := s.calls.Flush(fctx)
	cancel()
	if err != nil {
		return out, classify(err) // named by the writer, as in ListCalls
	}
	// $2 = '' erases at every gate.
	const scope = `caller = $1 AND ($2 = '' OR gate_id = $2)`
	ctx, cancel = s.bound(ctx)
	defer cancel()
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if gateID != "" {
			var one int
			if err := tx.QueryRow(ctx, `SELECT 1 FROM gates WHERE id = $1`, gateID).Scan(&one); errors.Is(err, pgx.ErrNoRows) {
				return fmt.Errorf("gate %q: %w", gateID, gate.ErrNotFound)
			} else if err != nil {
				return err
			}
		}
		for _, d := range []struct {
			q string
			n *int64
		}{
			{`DELETE FROM calls WHERE ` + scope, &out.Calls},
			{`DELETE FROM entries WHERE pattern = $1 AND ($2 = '' OR gate_id = $2)`, &out.Entries},
			{`DELETE FROM lockouts WHERE ` + scope, &out.Lockouts},
			{`DELETE FROM failures WHERE ` + scope, &out.Counters},
			{`DELETE FROM grants WHERE caller = $1 AND ($2 = '' OR gate_id = $2)`, &out.Grants},
		} {
			tag, err := tx.Exec(ctx, d.q, number, gateID)
			if err != nil {
				return err
			}
			*d.n = tag.RowsAffected()
		}
		return nil
	})
	if err != nil {
		return gate.Erasure{}, wrap("erase caller", err)
	}
	return out, nil
}
