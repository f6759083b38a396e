package postgres

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/storage/auditsql"
)

// AppendAudit implements gate.AuditLog.
func (s *Store) AppendAudit(ctx context.Context, e *gate.AuditEntry) error {
	if e.At.IsZero() {
		e.At = s.now()
	}
	changes, err := auditsql.Changes(e)
	if err != nil {
		return fmt.Errorf("postgres: append audit: %w", err)
	}
	if err := s.pool.QueryRow(ctx, `INSERT INTO audit (at, actor, action, gate_id, object, changes) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
		e.At, e.Actor, e.Action, e.GateID, e.Object, changes).Scan(&e.ID); err != nil {
		return wrap("append audit", err)
	}
	return nil
}

// auditDialect is how PostgreSQL writes the audit log's shared query.
var auditDialect = auditsql.Dialect{
	Param:   func(n int) string { return "$" + strconv.Itoa(n) },
	Time:    func(t time.Time) any { return t },
	Changes: "changes::text",
}

// ListAudit implements gate.AuditLog.
func (s *Store) ListAudit(ctx context.Context, f gate.AuditFilter) ([]*gate.AuditEntry, error) {
	q, args := auditsql.Query(f, auditDialect)
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, wrap("list audit", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*gate.AuditEntry, error) {
		var at time.Time
		return auditsql.Scan(row.Scan, &at, func() time.Time { return at.UTC() })
	})
	if err != nil {
		return nil, wrap("list audit", err)
	}
	return out, nil
}

// PruneAudit implements gate.AuditLog.
func (s *Store) PruneAudit(ctx context.Context, before time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM audit WHERE at < $1`, before)
	if err != nil {
		return 0, wrap("prune audit", err)
	}
	return tag.RowsAffected(), nil
}
