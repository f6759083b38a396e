package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/storage/auditsql"
)

// AppendAudit implements gate.AuditLog.
func (s *Store) AppendAudit(ctx context.Context, e *gate.AuditEntry) error {
	if e.At.IsZero() {
		e.At = s.stamp()
	}
	changes, err := auditsql.Changes(e)
	if err != nil {
		return fmt.Errorf("sqlite: append audit: %w", err)
	}
	res, err := s.w.ExecContext(ctx, `INSERT INTO audit (at, actor, action, gate_id, object, changes) VALUES (?, ?, ?, ?, ?, ?)`,
		clampNS(e.At), e.Actor, e.Action, e.GateID, e.Object, changes)
	if err != nil {
		return fmt.Errorf("sqlite: append audit: %w", dbErr(err))
	}
	if e.ID, err = res.LastInsertId(); err != nil {
		return fmt.Errorf("sqlite: append audit: %w", dbErr(err))
	}
	return nil
}

// auditDialect is how SQLite writes the audit log's shared query.
var auditDialect = auditsql.Dialect{
	Param:   func(int) string { return "?" },
	Time:    func(t time.Time) any { return clampNS(t) },
	Changes: "changes",
}

// ListAudit implements gate.AuditLog.
func (s *Store) ListAudit(ctx context.Context, f gate.AuditFilter) ([]*gate.AuditEntry, error) {
	q, args := auditsql.Query(f, auditDialect)
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list audit: %w", dbErr(err))
	}
	defer rows.Close()
	var out []*gate.AuditEntry
	for rows.Next() {
		var at int64
		e, err := auditsql.Scan(rows.Scan, &at, func() time.Time { return timeNS(at) })
		if err != nil {
			return nil, fmt.Errorf("sqlite: list audit: %w", dbErr(err))
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list audit: %w", dbErr(err))
	}
	return out, nil
}

// PruneAudit implements gate.AuditLog.
func (s *Store) PruneAudit(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM audit WHERE at < ?`, clampNS(before))
	if err != nil {
		return 0, fmt.Errorf("sqlite: prune audit: %w", dbErr(err))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlite: prune audit: %w", dbErr(err))
	}
	return n, nil
}
