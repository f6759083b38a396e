package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vipgate/vipgate/gate"
)

// AppendAudit implements gate.AuditLog.
func (s *Store) AppendAudit(ctx context.Context, e *gate.AuditEntry) error {
	if e.At.IsZero() {
		e.At = s.now()
	}
	changes := e.Changes
	if changes == nil {
		changes = []gate.AuditChange{}
	}
	b, err := json.Marshal(changes)
	if err != nil {
		return fmt.Errorf("postgres: append audit: %w", err)
	}
	if err := s.pool.QueryRow(ctx, `INSERT INTO audit (at, actor, action, gate_id, object, changes) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
		e.At, e.Actor, e.Action, e.GateID, e.Object, string(b)).Scan(&e.ID); err != nil {
		return wrap("append audit", err)
	}
	return nil
}

// ListAudit implements gate.AuditLog.
func (s *Store) ListAudit(ctx context.Context, f gate.AuditFilter) ([]*gate.AuditEntry, error) {
	var (
		conds []string
		args  []any
	)
	add := func(cond string, v any) {
		args = append(args, v)
		conds = append(conds, fmt.Sprintf(cond, len(args)))
	}
	if f.GateID != "" {
		add("gate_id = $%d", f.GateID)
	}
	if f.Actor != "" {
		add("actor = $%d", f.Actor)
	}
	if f.Action != "" {
		add("action = $%d", f.Action)
	}
	if f.Object != "" {
		add("object = $%d", f.Object)
	}
	if f.BeforeID != 0 {
		add("id < $%d", f.BeforeID)
	}
	if !f.From.IsZero() {
		add("at >= $%d", f.From)
	}
	if !f.To.IsZero() {
		add("at < $%d", f.To)
	}
	where := ""
	if len(conds) > 0 {
		where = " WHERE " + strings.Join(conds, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	n := len(args)
	args = append(args, limit)
	rows, err := s.pool.Query(ctx, `SELECT id, at, actor, action, gate_id, object, changes::text FROM audit`+where+
		fmt.Sprintf(` ORDER BY id DESC LIMIT $%d`, n+1), args...)
	if err != nil {
		return nil, wrap("list audit", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*gate.AuditEntry, error) {
		var (
			e       gate.AuditEntry
			changes string
		)
		if err := row.Scan(&e.ID, &e.At, &e.Actor, &e.Action, &e.GateID, &e.Object, &changes); err != nil {
			return nil, err
		}
		e.At = e.At.UTC()
		if err := json.Unmarshal([]byte(changes), &e.Changes); err != nil {
			return nil, fmt.Errorf("entry %d: %w", e.ID, err)
		}
		return &e, nil
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
