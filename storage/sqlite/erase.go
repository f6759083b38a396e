package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/vipgate/vipgate/gate"
)

// EraseCaller deletes the caller's call-log rows, exact caller-table
// entries, lockouts and counters (at gateID, or everywhere for "") in one
// write transaction, after writing the queued call-log rows.
func (s *Store) EraseCaller(ctx context.Context, gateID, number string) (gate.Erasure, error) {
	var out gate.Erasure
	if err := gate.ValidErasable(number); err != nil {
		return out, fmt.Errorf("sqlite: erase caller: %w", err)
	}
	if err := s.calls.Flush(ctx); err != nil {
		return out, err // named by the writer, as in ListCalls
	}
	where, args := `caller = ?`, []any{number}
	if gateID != "" {
		where, args = `caller = ? AND gate_id = ?`, []any{number, gateID}
	}
	err := inTx(ctx, s.w, func(tx *sql.Tx) error {
		if gateID != "" {
			var one int
			if err := tx.QueryRowContext(ctx, `SELECT 1 FROM gates WHERE id = ?`, gateID).Scan(&one); errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("gate %q: %w", gateID, gate.ErrNotFound)
			} else if err != nil {
				return err
			}
		}
		// failures holds a row per failure or guess; the count is of
		// counters (gates), as in every store.
		if err := tx.QueryRowContext(ctx, `SELECT count(DISTINCT gate_id) FROM failures WHERE `+where, args...).Scan(&out.Counters); err != nil {
			return err
		}
		var failures int64
		for _, d := range []struct {
			q string
			n *int64
		}{
			{`DELETE FROM calls WHERE ` + where, &out.Calls},
			{`DELETE FROM entries WHERE pattern = ?` + gateClause(gateID), &out.Entries},
			{`DELETE FROM lockouts WHERE ` + where, &out.Lockouts},
			{`DELETE FROM failures WHERE ` + where, &failures},
			{`DELETE FROM grants WHERE caller = ?` + gateClause(gateID), &out.Grants},
		} {
			res, err := tx.ExecContext(ctx, d.q, args...)
			if err != nil {
				return err
			}
			if *d.n, err = res.RowsAffected(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return gate.Erasure{}, fmt.Errorf("sqlite: erase caller: %w", dbErr(err))
	}
	return out, nil
}

// gateClause narrows an erasure to one gate ("" = every gate).
func gateClause(gateID string) string {
	if gateID == "" {
		return ""
	}
	return ` AND gate_id = ?`
}
