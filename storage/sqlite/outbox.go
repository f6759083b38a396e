package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/vipgate/vipgate/gate"
)

var _ gate.Outbox = (*Store)(nil)

// EnqueueOutbox adds messages in one transaction on the single writer
// connection, so the bound holds however many goroutines enqueue; see
// gate.Outbox.
func (s *Store) EnqueueOutbox(ctx context.Context, msgs []*gate.OutboxMessage, max int) error {
	now := s.stamp()
	err := inTx(ctx, s.w, func(tx *sql.Tx) error {
		if max > 0 {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM outbox WHERE dead = 0`).Scan(&n); err != nil {
				return err
			}
			if n+len(msgs) > max {
				return gate.ErrOutboxFull
			}
		}
		for _, m := range msgs {
			m.Stamp(now)
			var id int64
			err := tx.QueryRowContext(ctx, `INSERT INTO outbox (key, gate_id, rule, channel, event, created_at, next_at)
				VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING RETURNING id`,
				m.Key, m.GateID, m.Rule, m.Channel, notNilBytes(m.Event), clampNS(m.CreatedAt), clampNS(m.NextAt)).Scan(&id)
			if err == sql.ErrNoRows {
				continue // the key is there already
			}
			if err != nil {
				return err
			}
			m.ID = id
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: enqueue outbox: %w", dbErr(err))
	}
	return nil
}

const outboxColumns = `id, key, gate_id, rule, channel, event, attempts, created_at, next_at, last_error, dead`

func scanOutbox(rows *sql.Rows) ([]*gate.OutboxMessage, error) {
	defer rows.Close()
	var out []*gate.OutboxMessage
	for rows.Next() {
		var (
			m               gate.OutboxMessage
			created, nextAt int64
		)
		if err := rows.Scan(&m.ID, &m.Key, &m.GateID, &m.Rule, &m.Channel, &m.Event, &m.Attempts, &created, &nextAt, &m.LastError, &m.Dead); err != nil {
			return nil, err
		}
		m.CreatedAt, m.NextAt = timeNS(created), timeNS(nextAt)
		out = append(out, &m)
	}
	return out, rows.Err()
}

// ClaimOutbox leases due messages with one UPDATE on the single writer
// connection: the lease column keeps a claimed row from the next claim
// until it ends; see gate.Outbox.
func (s *Store) ClaimOutbox(ctx context.Context, owner string, n int, now time.Time, lease time.Duration) ([]*gate.OutboxMessage, error) {
	if n <= 0 {
		return nil, nil
	}
	at := clampNS(now)
	// Most polls find nothing due: a prepared read says so without taking
	// the write lock or parsing the claim.
	due, err := s.readStmt(ctx, outboxDueKey)
	if err == nil {
		var one int
		if err = due.QueryRowContext(ctx, at).Scan(&one); errors.Is(err, sql.ErrNoRows) {
			return nil, nil
		}
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: claim outbox: %w", dbErr(err))
	}
	var out []*gate.OutboxMessage
	err = inTx(ctx, s.w, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `UPDATE outbox SET lease_owner = ?, lease_until = ?, attempts = attempts + 1
			WHERE id IN (SELECT id FROM outbox WHERE dead = 0 AND next_at <= ? AND lease_until <= ? ORDER BY next_at, id LIMIT ?)
			RETURNING `+outboxColumns, owner, clampNS(now.Add(lease)), at, at, n)
		if err != nil {
			return err
		}
		out, err = scanOutbox(rows)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: claim outbox: %w", dbErr(err))
	}
	slices.SortFunc(out, gate.CompareOutboxDue)
	return out, nil
}

// outboxDueSQL finds whether a message is due for a claim at ?1 (the
// claim's own condition, on the outbox_due index).
const outboxDueSQL = `SELECT 1 FROM outbox WHERE dead = 0 AND next_at <= ?1 AND lease_until <= ?1 LIMIT 1`

// outboxDepthSQL counts the pending and the dead messages.
const outboxDepthSQL = `SELECT coalesce(sum(dead = 0), 0), coalesce(sum(dead = 1), 0) FROM outbox`

// CompleteOutbox deletes a delivered message.
func (s *Store) CompleteOutbox(ctx context.Context, id int64) error {
	if _, err := s.w.ExecContext(ctx, `DELETE FROM outbox WHERE id = ?`, id); err != nil {
		return fmt.Errorf("sqlite: complete outbox %d: %w", id, dbErr(err))
	}
	return nil
}

// RetryOutbox records a failed attempt; see gate.Outbox.
func (s *Store) RetryOutbox(ctx context.Context, id int64, owner string, next time.Time, lastErr string, dead bool) error {
	err := inTx(ctx, s.w, func(tx *sql.Tx) error {
		var cur string
		if err := tx.QueryRowContext(ctx, `SELECT lease_owner FROM outbox WHERE id = ?`, id).Scan(&cur); err == sql.ErrNoRows {
			return gate.ErrNotFound
		} else if err != nil {
			return err
		}
		if cur != owner {
			return gate.ErrConflict
		}
		_, err := tx.ExecContext(ctx, `UPDATE outbox SET next_at = ?, last_error = ?, dead = ?, lease_owner = '', lease_until = 0 WHERE id = ?`,
			clampNS(next), lastErr, dead, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: retry outbox %d: %w", id, dbErr(err))
	}
	return nil
}

// OutboxDepth counts pending and dead messages.
func (s *Store) OutboxDepth(ctx context.Context) (gate.OutboxDepth, error) {
	var d gate.OutboxDepth
	stmt, err := s.readStmt(ctx, outboxDepthKey)
	if err == nil {
		err = stmt.QueryRowContext(ctx).Scan(&d.Pending, &d.Dead)
	}
	if err != nil {
		return d, fmt.Errorf("sqlite: outbox depth: %w", dbErr(err))
	}
	return d, nil
}

// ListOutbox returns dead or pending messages, oldest first.
func (s *Store) ListOutbox(ctx context.Context, dead bool, limit int) ([]*gate.OutboxMessage, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+outboxColumns+` FROM outbox WHERE dead = ? ORDER BY created_at, id LIMIT ?`, dead, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list outbox: %w", dbErr(err))
	}
	out, err := scanOutbox(rows)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list outbox: %w", dbErr(err))
	}
	return out, nil
}

// PruneOutbox deletes dead messages enqueued before before.
func (s *Store) PruneOutbox(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM outbox WHERE dead = 1 AND created_at < ?`, clampNS(before))
	if err != nil {
		return 0, fmt.Errorf("sqlite: prune outbox: %w", dbErr(err))
	}
	return res.RowsAffected()
}

func notNilBytes(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
