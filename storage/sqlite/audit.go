package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/vipgate/vipgate/gate"
)

// AppendAudit implements gate.AuditLog.
func (s *Store) AppendAudit(ctx context.Context, e *gate.AuditEntry) error {
	if e.At.IsZero() {
		e.At = s.stamp()
	}
	changes, err := json.Marshal(auditChanges(e.Changes))
	if err != nil {
		return fmt.Errorf("sqlite: append audit: %w", err)
	}
	res, err := s.w.ExecContext(ctx, `INSERT INTO audit (at, actor, action, gate_id, object, changes) VALUES (?, ?, ?, ?, ?, ?)`,
		clampNS(e.At), e.Actor, e.Action, e.GateID, e.Object, string(changes))
	if err != nil {
		return fmt.Errorf("sqlite: append audit: %w", dbErr(err))
	}
	if e.ID, err = res.LastInsertId(); err != nil {
		return fmt.Errorf("sqlite: append audit: %w", dbErr(err))
	}
	return nil
}

func auditChanges(c []gate.AuditChange) []gate.AuditChange {
	if c == nil {
		return []gate.AuditChange{}
	}
	return c
}

// ListAudit implements gate.AuditLog.
func (s *Store) ListAudit(ctx context.Context, f gate.AuditFilter) ([]*gate.AuditEntry, error) {
	var (
		conds []string
		args  []any
	)
	add := func(cond string, v any) {
		conds = append(conds, cond)
		args = append(args, v)
	}
	if f.GateID != "" {
		add("gate_id = ?", f.GateID)
	}
	if f.Actor != "" {
		add("actor = ?", f.Actor)
	}
	if f.Action != "" {
		add("action = ?", f.Action)
	}
	if f.Object != "" {
		add("object = ?", f.Object)
	}
	if f.BeforeID != 0 {
		add("id < ?", f.BeforeID)
	}
	if !f.From.IsZero() {
		add("at >= ?", clampNS(f.From))
	}
	if !f.To.IsZero() {
		add("at < ?", clampNS(f.To))
	}
	where := ""
	if len(conds) > 0 {
		where = " WHERE " + strings.Join(conds, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.r.QueryContext(ctx, `SELECT id, at, actor, action, gate_id, object, changes FROM audit`+where+
		` ORDER BY id DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list audit: %w", dbErr(err))
	}
	defer rows.Close()
	var out []*gate.AuditEntry
	for rows.Next() {
		var (
			e       gate.AuditEntry
			at      int64
			changes string
		)
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.Action, &e.GateID, &e.Object, &changes); err != nil {
			return nil, fmt.Errorf("sqlite: list audit: %w", dbErr(err))
		}
		e.At = timeNS(at)
		if err := json.Unmarshal([]byte(changes), &e.Changes); err != nil {
			return nil, fmt.Errorf("sqlite: list audit: entry %d: %w", e.ID, err)
		}
		out = append(out, &e)
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
