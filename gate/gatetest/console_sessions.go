package gatetest

import (
	"context"
	"fmt"
	"time"

	"github.com/vipgate/vipgate/gate"
)

var _ gate.ConsoleSessions = (*Store)(nil)

// CreateConsoleSession implements gate.ConsoleSessions.
func (s *Store) CreateConsoleSession(ctx context.Context, cs *gate.ConsoleSession) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	if s.sessions == nil {
		s.sessions = map[string]gate.ConsoleSession{}
	}
	if _, ok := s.sessions[cs.Key]; ok {
		return fmt.Errorf("console session: %w", gate.ErrConflict)
	}
	s.sessions[cs.Key] = *cs
	return nil
}

// GetConsoleSession implements gate.ConsoleSessions.
func (s *Store) GetConsoleSession(ctx context.Context, key string) (*gate.ConsoleSession, error) {
	if err := s.lock(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	cs, ok := s.sessions[key]
	if !ok {
		return nil, fmt.Errorf("console session: %w", gate.ErrNotFound)
	}
	return &cs, nil
}

// TouchConsoleSession implements gate.ConsoleSessions.
func (s *Store) TouchConsoleSession(ctx context.Context, key string, seen time.Time) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	cs, ok := s.sessions[key]
	if !ok {
		return fmt.Errorf("console session: %w", gate.ErrNotFound)
	}
	cs.SeenAt = seen
	s.sessions[key] = cs
	return nil
}

// DeleteConsoleSession implements gate.ConsoleSessions.
func (s *Store) DeleteConsoleSession(ctx context.Context, key string) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	delete(s.sessions, key)
	return nil
}

// PruneConsoleSessions implements gate.ConsoleSessions.
func (s *Store) PruneConsoleSessions(ctx context.Context, seenBefore, createdBefore time.Time) (int, error) {
	if err := s.lock(ctx); err != nil {
		return 0, err
	}
	defer s.mu.Unlock()
	n := 0
	for k, cs := range s.sessions {
		if cs.SeenAt.Before(seenBefore) || cs.CreatedAt.Before(createdBefore) {
			delete(s.sessions, k)
			n++
		}
	}
	return n, nil
}

// ClaimConsoleSession implements gate.ConsoleSessions.
func (s *Store) ClaimConsoleSession(ctx context.Context, key string) (*gate.ConsoleSession, error) {
	if err := s.lock(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	cs, ok := s.sessions[key]
	if !ok {
		return nil, fmt.Errorf("console session: %w", gate.ErrNotFound)
	}
	delete(s.sessions, key)
	return &cs, nil
}
