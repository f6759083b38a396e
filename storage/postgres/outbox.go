package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vipgate/vipgate/gate"
)

var _ gate.Outbox = (*Store)(nil)

// EnqueueOutbox adds messages in one transaction. The transaction first
// takes an advisory lock of the schema's outbox, so that instances
// enqueueing at once count each other's rows against the bound; see
// gate.Outbox.
func (s *Store) EnqueueOutbox(ctx context.Context, msgs []*gate.OutboxMessage, max int) error {
	now := s.now()
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if max > 0 {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext($1))`, "vipgate.outbox:"+s.schema); err != nil {
				return err
			}
			var n int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM outbox WHERE NOT dead`).Scan(&n); err != nil {
				return err
			}
			if n+len(msgs) > max {
				return gate.ErrOutboxFull
			}
		}
		for _, m := range msgs {
			m.Stamp(now)
			var id int64
			err := tx.QueryRow(ctx, `INSERT INTO outbox (key, gate_id, rule, channel, event, created_at, next_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (key) DO NOTHING RETURNING id`,
				m.Key, m.GateID, m.Rule, m.Channel, notNil(m.Event), m.CreatedAt, m.NextAt).Scan(&id)
			if errors.Is(err, pgx.ErrNoRows) {
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
		return wrap("enqueue outbox", err)
	}
	return nil
}

const outboxColumns = `id, key, gate_id, rule, channel, event, attempts, created_at, next_at, last_error, dead`

func scanOutbox(rows pgx.Rows) ([]*gate.OutboxMessage, error) {
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (*gate.OutboxMessage, error) {
		var m gate.OutboxMessage
		err := r.Scan(&m.ID, &m.Key, &m.GateID, &m.Rule, &m.Channel, &m.Event, &m.Attempts, &m.CreatedAt, &m.NextAt, &m.LastError, &m.Dead)
		m.CreatedAt, m.NextAt = m.CreatedAt.UTC(), m.NextAt.UTC()
		return &m, err
	})
}

// claimOutboxSQL leases due rows. FOR UPDATE SKIP LOCKED makes a claim
// pass over the rows another instance's claim is taking at that moment,
// and the lease keeps them from the next claims until it ends.
const claimOutboxSQL = `UPDATE outbox SET lease_owner = $1, lease_until = $2, attempts = attempts + 1
	WHERE id IN (SELECT id FROM outbox WHERE NOT dead AND next_at <= $3 AND lease_until <= $3
		ORDER BY next_at, id LIMIT $4 FOR UPDATE SKIP LOCKED)
	RETURNING ` + outboxColumns

// ClaimOutbox leases due messages; see gate.Outbox.
func (s *Store) ClaimOutbox(ctx context.Context, owner string, n int, now time.Time, lease time.Duration) ([]*gate.OutboxMessage, error) {
	if n <= 0 {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, claimOutboxSQL, owner, now.Add(lease), now, n)
	if err != nil {
		return nil, wrap("claim outbox", err)
	}
	out, err := scanOutbox(rows)
	if err != nil {
		return nil, wrap("claim outbox", err)
	}
	slices.SortFunc(out, gate.CompareOutboxDue)
	return out, nil
}

// CompleteOutbox deletes a delivered message.
func (s *Store) CompleteOutbox(ctx context.Context, id int64) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM outbox WHERE id = $1`, id); err != nil {
		return wrap(fmt.Sprintf("complete outbox %d", id), err)
	}
	return nil
}

// RetryOutbox records a failed attempt; see gate.Outbox.
func (s *Store) RetryOutbox(ctx context.Context, id int64, owner string, next time.Time, lastErr string, dead bool) error {
	var cur string
	err := s.pool.QueryRow(ctx, `WITH old AS (SELECT id, lease_owner FROM outbox WHERE id = $1 FOR UPDATE),
		upd AS (UPDATE outbox o SET next_at = $3, last_error = $4, dead = $5, lease_owner = '', lease_until = '-infinity'
			FROM old WHERE o.id = old.id AND old.lease_owner = $2)
		SELECT lease_owner FROM old`, id, owner, next, lastErr, dead).Scan(&cur)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		err = gate.ErrNotFound
	case err == nil && cur != owner:
		err = gate.ErrConflict
	}
	if err != nil {
		return wrap(fmt.Sprintf("retry outbox %d", id), err)
	}
	return nil
}

// OutboxDepth counts pending and dead messages.
func (s *Store) OutboxDepth(ctx context.Context) (gate.OutboxDepth, error) {
	var d gate.OutboxDepth
	err := s.pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE NOT dead), count(*) FILTER (WHERE dead) FROM outbox`).Scan(&d.Pending, &d.Dead)
	if err != nil {
		return d, wrap("outbox depth", err)
	}
	return d, nil
}

// ListOutbox returns dead or pending messages, oldest first.
func (s *Store) ListOutbox(ctx context.Context, dead bool, limit int) ([]*gate.OutboxMessage, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.pool.Query(ctx, `SELECT `+outboxColumns+` FROM outbox WHERE dead = $1 ORDER BY created_at, id LIMIT $2`, dead, limit)
	if err != nil {
		return nil, wrap("list outbox", err)
	}
	out, err := scanOutbox(rows)
	if err != nil {
		return nil, wrap("list outbox", err)
	}
	return out, nil
}

// PruneOutbox deletes dead messages enqueued before before.
func (s *Store) PruneOutbox(ctx context.Context, before time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM outbox WHERE dead AND created_at < $1`, before)
	if err != nil {
		return 0, wrap("prune outbox", err)
	}
	return tag.RowsAffected(), nil
}
