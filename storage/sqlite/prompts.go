package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/vipgate/vipgate/gate"
)

// PutPrompt stores or replaces a prompt and sets its Size and CreatedAt.
func (s *Store) PutPrompt(ctx context.Context, p *gate.PromptFile) error {
	data := p.Data
	if data == nil {
		data = []byte{}
	}
	now := s.stamp()
	_, err := s.w.ExecContext(ctx, `INSERT INTO prompts (gate_id, lang, key, data, size, created_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (gate_id, lang, key) DO UPDATE SET data = excluded.data, size = excluded.size, created_at = excluded.created_at`,
		p.GateID, p.Lang, string(p.Key), data, len(data), now.UnixNano())
	if err != nil {
		return fmt.Errorf("sqlite: put prompt %s/%s/%s: %w", p.GateID, p.Lang, p.Key, dbErr(err))
	}
	p.Size, p.CreatedAt = len(data), now
	return nil
}

// GetPrompt returns a prompt with its data, or ErrNotFound.
func (s *Store) GetPrompt(ctx context.Context, gateID, lang string, key gate.PromptKey) (*gate.PromptFile, error) {
	p := gate.PromptFile{GateID: gateID, Lang: lang, Key: key}
	var created int64
	err := s.r.QueryRowContext(ctx, `SELECT data, size, created_at FROM prompts WHERE gate_id = ? AND lang = ? AND key = ?`,
		gateID, lang, string(key)).Scan(&p.Data, &p.Size, &created)
	if err != nil {
		return nil, fmt.Errorf("sqlite: get prompt %s/%s/%s: %w", gateID, lang, key, dbErr(err))
	}
	p.CreatedAt = timeNS(created)
	return &p, nil
}

// ListPrompts returns prompts without their data, ordered by gate,
// language and key; gateID "" lists every prompt.
func (s *Store) ListPrompts(ctx context.Context, gateID string) ([]*gate.PromptFile, error) {
	var (
		rows *sql.Rows
		err  error
	)
	if gateID == "" {
		rows, err = s.r.QueryContext(ctx, `SELECT gate_id, lang, key, size, created_at FROM prompts ORDER BY gate_id, lang, key`)
	} else {
		rows, err = s.r.QueryContext(ctx, `SELECT gate_id, lang, key, size, created_at FROM prompts WHERE gate_id = ? ORDER BY lang, key`, gateID)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: list prompts: %w", dbErr(err))
	}
	defer rows.Close()
	var out []*gate.PromptFile
	for rows.Next() {
		var (
			p       gate.PromptFile
			key     string
			created int64
		)
		if err := rows.Scan(&p.GateID, &p.Lang, &key, &p.Size, &created); err != nil {
			return nil, fmt.Errorf("sqlite: list prompts: %w", dbErr(err))
		}
		p.Key, p.CreatedAt = gate.PromptKey(key), time.Unix(0, created).UTC()
		out = append(out, &p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list prompts: %w", dbErr(err))
	}
	return out, nil
}

// DeletePrompt removes one prompt.
func (s *Store) DeletePrompt(ctx context.Context, gateID, lang string, key gate.PromptKey) error {
	res, err := s.w.ExecContext(ctx, `DELETE FROM prompts WHERE gate_id = ? AND lang = ? AND key = ?`, gateID, lang, string(key))
	if err != nil {
		return fmt.Errorf("sqlite: delete prompt %s/%s/%s: %w", gateID, lang, key, dbErr(err))
	}
	return affected(res, "sqlite: delete prompt %s: %w", gateID+"/"+lang+"/"+string(key))
}

// CreateToken stores a token; ErrConflict if the ID is taken. A zero
// CreatedAt is set to now.
func (s *Store) CreateToken(ctx context.Context, t *gate.Token) error {
	if t.CreatedAt.IsZero() {
		t.CreatedAt = s.stamp()
	}
	hash := t.Hash
	if hash == nil {
		hash = []byte{}
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO tokens (id, name, role, hash, created_at, revoked_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		t.ID, t.Name, string(t.Role), hash, clampNS(t.CreatedAt), ns(t.RevokedAt), ns(t.ExpiresAt))
	if err != nil {
		return fmt.Errorf("sqlite: create token %s: %w", t.ID, dbErr(err))
	}
	return nil
}

func scanToken(sc scanner) (*gate.Token, error) {
	var (
		t       gate.Token
		role    string
		created int64
		revoked sql.NullInt64
		expires sql.NullInt64
	)
	if err := sc.Scan(&t.ID, &t.Name, &role, &t.Hash, &created, &revoked, &expires); err != nil {
		return nil, err
	}
	t.Role, t.CreatedAt, t.RevokedAt, t.ExpiresAt = gate.Role(role), timeNS(created), fromNS(revoked), fromNS(expires)
	return &t, nil
}

// GetToken returns a token, revoked or not, or ErrNotFound.
func (s *Store) GetToken(ctx context.Context, id string) (*gate.Token, error) {
	t, err := scanToken(s.r.QueryRowContext(ctx, `SELECT id, name, role, hash, created_at, revoked_at, expires_at FROM tokens WHERE id = ?`, id))
	if err != nil {
		return nil, fmt.Errorf("sqlite: get token %s: %w", id, dbErr(err))
	}
	return t, nil
}

// ListTokens returns every token, ordered by creation.
func (s *Store) ListTokens(ctx context.Context) ([]*gate.Token, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, name, role, hash, created_at, revoked_at, expires_at FROM tokens ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list tokens: %w", dbErr(err))
	}
	defer rows.Close()
	var out []*gate.Token
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: list tokens: %w", dbErr(err))
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list tokens: %w", dbErr(err))
	}
	return out, nil
}

// RevokeToken marks a token revoked at t.
func (s *Store) RevokeToken(ctx context.Context, id string, t time.Time) error {
	res, err := s.w.ExecContext(ctx, `UPDATE tokens SET revoked_at = ? WHERE id = ?`, clampNS(t), id)
	if err != nil {
		return fmt.Errorf("sqlite: revoke token %s: %w", id, dbErr(err))
	}
	return affected(res, "sqlite: revoke token %s: %w", id)
}
