package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vipgate/vipgate/gate"
)

// PutPrompt stores or replaces a prompt and sets its size (and its time,
// if unset).
func (s *Store) PutPrompt(ctx context.Context, p *gate.PromptFile) error {
	if p.CreatedAt.IsZero() {
		p.CreatedAt = s.now()
	}
	p.Size = len(p.Data)
	_, err := s.pool.Exec(ctx, `INSERT INTO prompts (gate_id, lang, key, data, created_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (gate_id, lang, key) DO UPDATE SET data = EXCLUDED.data, created_at = EXCLUDED.created_at`,
		p.GateID, p.Lang, string(p.Key), notNil(p.Data), p.CreatedAt)
	if err != nil {
		return wrap(fmt.Sprintf("put prompt %s/%s/%s", p.GateID, p.Lang, p.Key), err)
	}
	return nil
}

func scanPrompt(withData bool) pgx.RowToFunc[*gate.PromptFile] {
	return func(row pgx.CollectableRow) (*gate.PromptFile, error) {
		var (
			p   gate.PromptFile
			key string
		)
		var err error
		if withData {
			err = row.Scan(&p.GateID, &p.Lang, &key, &p.Size, &p.CreatedAt, &p.Data)
		} else {
			err = row.Scan(&p.GateID, &p.Lang, &key, &p.Size, &p.CreatedAt)
		}
		p.Key, p.CreatedAt = gate.PromptKey(key), p.CreatedAt.UTC()
		return &p, err
	}
}

// GetPrompt returns a prompt with its data, or ErrNotFound. It runs within
// StoreTimeout.
func (s *Store) GetPrompt(ctx context.Context, gateID, lang string, key gate.PromptKey) (*gate.PromptFile, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	rows, err := s.pool.Query(ctx, `SELECT gate_id, lang, key, length(data), created_at, data FROM prompts
		WHERE gate_id = $1 AND lang = $2 AND key = $3`, gateID, lang, string(key))
	if err != nil {
		return nil, wrap("get prompt", err)
	}
	p, err := pgx.CollectExactlyOneRow(rows, scanPrompt(true))
	if err != nil {
		return nil, wrap(fmt.Sprintf("get prompt %s/%s/%s", gateID, lang, key), err)
	}
	return p, nil
}

// ListPrompts returns prompts without their data, ordered by gate,
// language and key; gateID "" lists all.
func (s *Store) ListPrompts(ctx context.Context, gateID string) ([]*gate.PromptFile, error) {
	rows, err := s.pool.Query(ctx, `SELECT gate_id, lang, key, length(data), created_at FROM prompts
		WHERE $1 = '' OR gate_id = $1 ORDER BY gate_id, lang, key`, gateID)
	if err != nil {
		return nil, wrap("list prompts", err)
	}
	ps, err := pgx.CollectRows(rows, scanPrompt(false))
	if err != nil {
		return nil, wrap("list prompts", err)
	}
	return ps, nil
}

// DeletePrompt removes one prompt; ErrNotFound if there is none.
func (s *Store) DeletePrompt(ctx context.Context, gateID, lang string, key gate.PromptKey) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM prompts WHERE gate_id = $1 AND lang = $2 AND key = $3`, gateID, lang, string(key))
	if err != nil {
		return wrap("delete prompt", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: delete prompt %s/%s/%s: %w", gateID, lang, key, gate.ErrNotFound)
	}
	return nil
}

// CreateToken stores an API token (only the hash of its secret);
// ErrConflict if the ID is taken.
func (s *Store) CreateToken(ctx context.Context, t *gate.Token) error {
	if t.CreatedAt.IsZero() {
		t.CreatedAt = s.now()
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO tokens (id, name, role, hash, created_at, revoked_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		t.ID, t.Name, string(t.Role), notNil(t.Hash), t.CreatedAt, nullTime(t.RevokedAt), nullTime(t.ExpiresAt))
	if err != nil {
		return wrap(fmt.Sprintf("create token %q", t.ID), err)
	}
	return nil
}

func scanToken(row pgx.CollectableRow) (*gate.Token, error) {
	var (
		t       gate.Token
		role    string
		revoked *time.Time
		expires *time.Time
	)
	err := row.Scan(&t.ID, &t.Name, &role, &t.Hash, &t.CreatedAt, &revoked, &expires)
	t.Role, t.CreatedAt = gate.Role(role), t.CreatedAt.UTC()
	if revoked != nil {
		t.RevokedAt = revoked.UTC()
	}
	if expires != nil {
		t.ExpiresAt = expires.UTC()
	}
	return &t, err
}

// GetToken returns a token, revoked ones too, or ErrNotFound. It runs
// within StoreTimeout.
func (s *Store) GetToken(ctx context.Context, id string) (*gate.Token, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	rows, err := s.pool.Query(ctx, `SELECT id, name, role, hash, created_at, revoked_at, expires_at FROM tokens WHERE id = $1`, id)
	if err != nil {
		return nil, wrap("get token", err)
	}
	t, err := pgx.CollectExactlyOneRow(rows, scanToken)
	if err != nil {
		return nil, wrap(fmt.Sprintf("get token %q", id), err)
	}
	return t, nil
}

// ListTokens returns every token, ordered by creation.
func (s *Store) ListTokens(ctx context.Context) ([]*gate.Token, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, name, role, hash, created_at, revoked_at, expires_at FROM tokens ORDER BY created_at, id`)
	if err != nil {
		return nil, wrap("list tokens", err)
	}
	ts, err := pgx.CollectRows(rows, scanToken)
	if err != nil {
		return nil, wrap("list tokens", err)
	}
	return ts, nil
}

// RevokeToken marks a token revoked at t; ErrNotFound if there is none.
func (s *Store) RevokeToken(ctx context.Context, id string, t time.Time) error {
	tag, err := s.pool.Exec(ctx, `UPDATE tokens SET revoked_at = $2 WHERE id = $1`, id, t)
	if err != nil {
		return wrap(fmt.Sprintf("revoke token %q", id), err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: revoke token %q: %w", id, gate.ErrNotFound)
	}
	return nil
}
