package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vipgate/vipgate/gate"
)

var _ gate.ConsoleSessions = (*Store)(nil)

// CreateConsoleSession implements gate.ConsoleSessions.
func (s *Store) CreateConsoleSession(ctx context.Context, cs *gate.ConsoleSession) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	_, err := s.pool.Exec(ctx, `INSERT INTO console_sessions (key, token_id, created_at, seen_at) VALUES ($1, $2, $3, $4)`,
		cs.Key, cs.TokenID, cs.CreatedAt, cs.SeenAt)
	return wrap("create console session", err)
}

// GetConsoleSession implements gate.ConsoleSessions.
func (s *Store) GetConsoleSession(ctx context.Context, key string) (*gate.ConsoleSession, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	cs := gate.ConsoleSession{Key: key}
	err := s.pool.QueryRow(ctx, `SELECT token_id, created_at, seen_at FROM console_sessions WHERE key = $1`, key).Scan(&cs.TokenID, &cs.CreatedAt, &cs.SeenAt)
	if err == pgx.ErrNoRows {
		return nil, fmt.Errorf("postgres: get console session: %w", gate.ErrNotFound)
	}
	if err != nil {
		return nil, wrap("get console session", err)
	}
	cs.CreatedAt, cs.SeenAt = cs.CreatedAt.UTC(), cs.SeenAt.UTC()
	return &cs, nil
}

// TouchConsoleSession implements gate.ConsoleSessions.
func (s *Store) TouchConsoleSession(ctx context.Context, key string, seen time.Time) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	tag, err := s.pool.Exec(ctx, `UPDATE console_sessions SET seen_at = $2 WHERE key = $1`, key, seen)
	if err != nil {
		return wrap("touch console session", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: touch console session: %w", gate.ErrNotFound)
	}
	return nil
}

// DeleteConsoleSession implements gate.ConsoleSessions.
func (s *Store) DeleteConsoleSession(ctx context.Context, key string) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	_, err := s.pool.Exec(ctx, `DELETE FROM console_sessions WHERE key = $1`, key)
	return wrap("delete console session", err)
}

// PruneConsoleSessions implements gate.ConsoleSessions.
func (s *Store) PruneConsoleSessions(ctx context.Context, seenBefore, createdBefore time.Time) (int, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	tag, err := s.pool.Exec(ctx, `DELETE FROM console_sessions WHERE seen_at < $1 OR created_at < $2`, seenBefore, createdBefore)
	if err != nil {
		return 0, wrap("prune console sessions", err)
	}
	return int(tag.RowsAffected()), nil
}

// ClaimConsoleSession implements gate.ConsoleSessions.
func (s *Store) ClaimConsoleSession(ctx context.Context, key string) (*gate.ConsoleSession, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	cs := gate.ConsoleSession{Key: key}
	err := s.pool.QueryRow(ctx, `DELETE FROM console_sessions WHERE key = $1 RETURNING token_id, created_at, seen_at`, key).Scan(&cs.TokenID, &cs.CreatedAt, &cs.SeenAt)
	if err == pgx.ErrNoRows {
		return nil, fmt.Errorf("postgres: claim console session: %w", gate.ErrNotFound)
	}
	if err != nil {
		return nil, wrap("claim console session", err)
	}
	cs.CreatedAt, cs.SeenAt = cs.CreatedAt.UTC(), cs.SeenAt.UTC()
	return &cs, nil
}
