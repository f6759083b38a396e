package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/vipgate/vipgate/gate"
)

// gateCache holds every gate, decoded. gen changes on every invalidation,
// so a load that raced with a write does not install stale gates. version
// is the gate_version counter the gates were loaded at; it is compared
// with the database at most every recheck interval, to notice changes
// made by other processes.
type gateCache struct {
	mu      sync.Mutex
	gen     uint64
	valid   bool
	list    []*gate.Gate // ordered by ID
	byID    map[string]*gate.Gate
	version int64
	checked time.Time
}

func (s *Store) invalidate() {
	s.cache.mu.Lock()
	s.cache.gen++
	s.cache.valid, s.cache.list, s.cache.byID = false, nil, nil
	s.cache.mu.Unlock()
}

// cachedGates returns the cached gates, loading them if needed. The
// results are shared: callers must clone before handing them out.
func (s *Store) cachedGates(ctx context.Context) ([]*gate.Gate, map[string]*gate.Gate, error) {
	c := &s.cache
	c.mu.Lock()
	if c.valid && time.Since(c.checked) < s.recheck {
		list, byID := c.list, c.byID
		c.mu.Unlock()
		return list, byID, nil
	}
	gen, valid, have := c.gen, c.valid, c.version
	c.mu.Unlock()

	if valid {
		// Still current unless another process changed a gate.
		var v int64
		stmt, err := s.readStmt(ctx, gateVersionKey)
		if err != nil {
			return nil, nil, dbErr(err)
		}
		if err := stmt.QueryRowContext(ctx).Scan(&v); err != nil {
			return nil, nil, dbErr(err)
		}
		c.mu.Lock()
		if c.gen == gen && c.valid && v == have {
			c.checked = time.Now()
			list, byID := c.list, c.byID
			c.mu.Unlock()
			return list, byID, nil
		}
		c.mu.Unlock()
	}

	version, list, err := s.loadGates(ctx)
	if err != nil {
		return nil, nil, err
	}
	byID := make(map[string]*gate.Gate, len(list))
	for _, g := range list {
		byID[g.ID] = g
	}
	c.mu.Lock()
	if c.gen == gen {
		c.valid, c.list, c.byID, c.version, c.checked = true, list, byID, version, time.Now()
	}
	c.mu.Unlock()
	return list, byID, nil
}

// loadGates reads the gate_version counter and every gate in one read
// transaction.
func (s *Store) loadGates(ctx context.Context) (int64, []*gate.Gate, error) {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return 0, nil, dbErr(err)
	}
	defer tx.Rollback()
	var version int64
	if err := tx.QueryRowContext(ctx, `SELECT version FROM gate_version`).Scan(&version); err != nil {
		return 0, nil, dbErr(err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, doc, override, created_at, updated_at FROM gates ORDER BY id`)
	if err != nil {
		return 0, nil, dbErr(err)
	}
	defer rows.Close()
	var list []*gate.Gate
	for rows.Next() {
		var (
			id, doc          string
			override         sql.NullString
			created, updated int64
		)
		if err := rows.Scan(&id, &doc, &override, &created, &updated); err != nil {
			return 0, nil, dbErr(err)
		}
		g := new(gate.Gate)
		if err := json.Unmarshal([]byte(doc), g); err != nil {
			return 0, nil, fmt.Errorf("gate %s: decode document: %w", id, err)
		}
		if _, err := gate.OpenSecrets(g, s.secrets); err != nil {
			return 0, nil, fmt.Errorf("gate %s: open secrets: %w", id, err)
		}
		if override.Valid {
			g.Override = new(gate.Override)
			if err := json.Unmarshal([]byte(override.String), g.Override); err != nil {
				return 0, nil, fmt.Errorf("gate %s: decode override: %w", id, err)
			}
		}
		g.ID, g.CreatedAt, g.UpdatedAt = id, timeNS(created), timeNS(updated)
		list = append(list, g)
	}
	if err := rows.Err(); err != nil {
		return 0, nil, dbErr(err)
	}
	return version, list, nil
}

// ListGates returns every gate, ordered by ID, from the cache.
func (s *Store) ListGates(ctx context.Context) ([]*gate.Gate, error) {
	list, _, err := s.cachedGates(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list gates: %w", err)
	}
	out := make([]*gate.Gate, len(list))
	for i, g := range list {
		out[i] = g.Clone()
	}
	return out, nil
}

// GetGate returns one gate from the cache, or ErrNotFound.
func (s *Store) GetGate(ctx context.Context, id string) (*gate.Gate, error) {
	_, byID, err := s.cachedGates(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlite: get gate: %w", err)
	}
	g, ok := byID[id]
	if !ok {
		return nil, fmt.Errorf("sqlite: get gate %s: %w", id, gate.ErrNotFound)
	}
	return g.Clone(), nil
}

// gateDoc is the stored JSON of g: without ID-independent store fields,
// with its secrets sealed.
func (s *Store) gateDoc(g *gate.Gate) ([]byte, error) {
	g, err := gate.SealSecrets(g, s.secrets)
	if err != nil {
		return nil, fmt.Errorf("seal secrets: %w", err)
	}
	c := *g
	c.Override = nil
	c.CreatedAt, c.UpdatedAt = time.Time{}, time.Time{}
	return json.Marshal(&c)
}

func overrideDoc(o *gate.Override) (sql.NullString, error) {
	if o == nil {
		return sql.NullString{}, nil
	}
	b, err := json.Marshal(o)
	if err != nil {
		return sql.NullString{}, err
	}
	return sql.NullString{String: string(b), Valid: true}, nil
}

// CreateGate stores a new gate; ErrConflict if the ID is taken.
func (s *Store) CreateGate(ctx context.Context, g *gate.Gate) error {
	if !gate.ValidID(g.ID) {
		return fmt.Errorf("sqlite: create gate: %w", gate.Invalid("id", "must be 1 to 63 lower-case letters, digits, '-' or '_'"))
	}
	doc, err := s.gateDoc(g)
	if err != nil {
		return fmt.Errorf("sqlite: create gate %s: %w", g.ID, err)
	}
	ov, err := overrideDoc(g.Override)
	if err != nil {
		return fmt.Errorf("sqlite: create gate %s: %w", g.ID, err)
	}
	now := s.stamp()
	_, err = s.w.ExecContext(ctx, `INSERT INTO gates (id, doc, override, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`,
		g.ID, string(doc), ov, now.UnixNano(), now.UnixNano())
	s.invalidate()
	if err != nil {
		return fmt.Errorf("sqlite: create gate %s: %w", g.ID, dbErr(err))
	}
	g.CreatedAt, g.UpdatedAt = now, now
	return nil
}

// UpdateGate replaces a gate's configuration, keeping its override; it
// sets g's CreatedAt, UpdatedAt and Override from the store.
func (s *Store) UpdateGate(ctx context.Context, g *gate.Gate) error {
	doc, err := s.gateDoc(g)
	if err != nil {
		return fmt.Errorf("sqlite: update gate %s: %w", g.ID, err)
	}
	now := s.stamp()
	var (
		created  int64
		override sql.NullString
	)
	err = s.w.QueryRowContext(ctx, `UPDATE gates SET doc = ?, updated_at = ? WHERE id = ? RETURNING created_at, override`,
		string(doc), now.UnixNano(), g.ID).Scan(&created, &override)
	s.invalidate()
	if err != nil {
		return fmt.Errorf("sqlite: update gate %s: %w", g.ID, dbErr(err))
	}
	g.CreatedAt, g.UpdatedAt, g.Override = timeNS(created), now, nil
	if override.Valid {
		g.Override = new(gate.Override)
		if err := json.Unmarshal([]byte(override.String), g.Override); err != nil {
			return fmt.Errorf("sqlite: update gate %s: decode override: %w", g.ID, err)
		}
	}
	return nil
}

// DeleteGate removes a gate with its entries, prompts, failures and
// lockouts.
func (s *Store) DeleteGate(ctx context.Context, id string) error {
	err := inTx(ctx, s.w, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM gates WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return gate.ErrNotFound
		}
		for _, q := range []string{
			`DELETE FROM prompts WHERE gate_id = ?`,
			`DELETE FROM failures WHERE gate_id = ?`,
			`DELETE FROM lockouts WHERE gate_id = ?`,
		} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return err
			}
		}
		return nil
	})
	s.invalidate()
	if err != nil {
		return fmt.Errorf("sqlite: delete gate %s: %w", id, dbErr(err))
	}
	return nil
}

// SetOverride sets or (with nil) clears a gate's override. The gate's
// UpdatedAt stays as it is: the override carries its own SetAt.
func (s *Store) SetOverride(ctx context.Context, id string, o *gate.Override) error {
	ov, err := overrideDoc(o)
	if err != nil {
		return fmt.Errorf("sqlite: set override %s: %w", id, err)
	}
	res, err := s.w.ExecContext(ctx, `UPDATE gates SET override = ? WHERE id = ?`, ov, id)
	s.invalidate()
	if err != nil {
		return fmt.Errorf("sqlite: set override %s: %w", id, dbErr(err))
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: set override %s: %w", id, dbErr(err))
	} else if n == 0 {
		return fmt.Errorf("sqlite: set override %s: %w", id, gate.ErrNotFound)
	}
	return nil
}

// sealClearSecrets seals the secrets of gates written in clear (before
// secrets were encrypted, or without a SecretBox) and returns how many
// gates it sealed. The documents change, their updated_at does not; the
// gate_version trigger tells other processes. Most opens find nothing to
// seal: they look with a read and take no write lock.
func (s *Store) sealClearSecrets(ctx context.Context) (int, error) {
	if s.secrets == nil {
		return 0, nil
	}
	clearIDs := func(q interface {
		QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	}) (map[string]*gate.Gate, error) {
		rows, err := q.QueryContext(ctx, `SELECT id, doc FROM gates ORDER BY id`)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		out := map[string]*gate.Gate{}
		for rows.Next() {
			var id, doc string
			if err := rows.Scan(&id, &doc); err != nil {
				return nil, err
			}
			g := new(gate.Gate)
			if err := json.Unmarshal([]byte(doc), g); err != nil {
				return nil, fmt.Errorf("gate %s: decode document: %w", id, err)
			}
			clear, err := gate.OpenSecrets(g, s.secrets)
			if err != nil {
				return nil, fmt.Errorf("gate %s: open secrets: %w", id, err)
			}
			if clear {
				out[id] = g
			}
		}
		return out, rows.Err()
	}
	found, err := clearIDs(s.r)
	if err != nil {
		return 0, fmt.Errorf("sqlite: seal secrets: %w", dbErr(err))
	}
	if len(found) == 0 {
		return 0, nil
	}
	// secure_delete overwrites the replaced clear documents instead of
	// leaving them in free pages, and the checkpoint afterwards moves the
	// change into the main file and empties the WAL.
	if _, err := s.w.ExecContext(ctx, `PRAGMA secure_delete = ON`); err != nil {
		return 0, fmt.Errorf("sqlite: seal secrets: %w", dbErr(err))
	}
	defer s.w.ExecContext(context.WithoutCancel(ctx), `PRAGMA secure_delete = OFF`)
	n := 0
	err = inTx(ctx, s.w, func(tx *sql.Tx) error {
		found, err := clearIDs(tx)
		if err != nil {
			return err
		}
		for id, g := range found {
			sealed, err := s.gateDoc(g)
			if err != nil {
				return fmt.Errorf("gate %s: %w", id, err)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE gates SET doc = ? WHERE id = ?`, string(sealed), id); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	s.invalidate()
	if err != nil {
		return 0, fmt.Errorf("sqlite: seal secrets: %w", dbErr(err))
	}
	if _, err := s.w.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return n, fmt.Errorf("sqlite: seal secrets: checkpoint: %w", dbErr(err))
	}
	return n, nil
}

// gateExists is gate.ErrNotFound unless tx sees the gate id.
func gateExists(ctx context.Context, tx *sql.Tx, id string) error {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM gates WHERE id = ?`, id).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return gate.ErrNotFound
	}
	return nil
}
