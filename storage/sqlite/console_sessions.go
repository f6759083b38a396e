package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/vipgate/vipgate/gate"
)

var _ gate.ConsoleSessions = (*Store)(nil)

// CreateConsoleSession implements gate.ConsoleSessions.
func (s *Store) CreateConsoleSession(ctx context.Context, cs *gate.ConsoleSession) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO console_sessions (key, token_id, created_at, seen_at) VALUES (?, ?, ?, ?)`,
		cs.Key, cs.TokenID, clampNS(cs.CreatedAt), clampNS(cs.SeenAt))
	if err != nil {
		return fmt.Errorf("sqlite: create console session: %w", dbErr(err))
	}
	return nil
}

// GetConsoleSession implements gate.ConsoleSessions.
func (s *Store) GetConsoleSession(ctx context.Context, key string) (*gate.ConsoleSession, error) {
	cs := gate.ConsoleSession{Key: key}
	var created, seen int64
	err := s.r.QueryRowContext(ctx, `SELECT token_id, created_at, seen_at FROM console_sessions WHERE key = ?`, key).Scan(&cs.TokenID, &created, &seen)
	if err != nil {
		return nil, fmt.Errorf("sqlite: get console session: %w", dbErr(err))
	}
	cs.CreatedAt, cs.SeenAt = timeNS(created), timeNS(seen)
	return &cs, nil
}

// TouchConsoleSession implements gate.ConsoleSessions.
func (s *Store) TouchConsoleSession(ctx context.Context, key string, seen time.Time) error {
	res, err := s.w.ExecContext(ctx, `UPDATE console_sessions SET seen_at = ? WHERE key = ?`, clampNS(seen), key)
	if err != nil {
		return fmt.Errorf("sqlite: touch console session: %w", dbErr(err))
	}
	return affected(res, "sqlite: touch console session%s: %w", "")
}

// DeleteConsoleSession implements gate.ConsoleSessions.
func (s *Store) DeleteConsoleSession(ctx context.Context, key string) error {
	if _, err := s.w.ExecContext(ctx, `DELETE FROM console_sessions WHERE key = ?`, key); err != nil {
		return fmt.Errorf("sqlite: delete console session: %w", dbErr(err))
	}
	return nil
}

// PruneConsoleSessions implements gate.ConsoleSessions.
func (s *Store) PruneConsoleSessions(ctx context.Context, seenBefore, createdBefore time.Time) (int, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM console_sessions WHERE seen_at < ? OR created_at < ?`, clampNS(seenBefore), clampNS(createdBefore))
	if err != nil {
		return 0, fmt.Errorf("sqlite: prune console sessions: %w", dbErr(err))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlite: prune console sessions: %w", dbErr(err))
	}
	return int(n), nil
}

// ClaimConsoleSession implements gate.ConsoleSessions.
func (s *Store) ClaimConsoleSession(ctx context.Context, key string) (*gate.ConsoleSession, error) {
	cs := gate.ConsoleSession{Key: key}
	var created, seen int64
	err := s.w.QueryRowContext(ctx, `DELETE FROM console_sessions WHERE key = ? RETURNING token_id, created_at, seen_at`, key).Scan(&cs.TokenID, &created, &seen)
	if err != nil {
		return nil, fmt.Errorf("sqlite: claim console session: %w", dbErr(err))
	}
	cs.CreatedAt, cs.SeenAt = timeNS(created), timeNS(seen)
	return &cs, nil
}
