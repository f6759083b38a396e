package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/vipgate/vipgate/gate"
)

// grantColumns are the columns scanGrant reads, without the PIN hash.
const grantColumns = `id, gate_id, caller, label, valid_from, valid_until, max_uses, uses, created_by, created_at`

// usableGrant is the condition of a grant usable at ?2 (nanoseconds).
const usableGrant = `(valid_from IS NULL OR valid_from <= ?2) AND (valid_until IS NULL OR valid_until > ?2)
	AND (max_uses = 0 OR uses < max_uses)`

// callGrantsSQL reads the grants of gate ?1 usable at ?2 of caller ?3 or
// anyone, with their hashes.
var callGrantsSQL = `SELECT ` + grantColumns + `, pin_salt, pin_sum FROM grants
	WHERE gate_id = ?1 AND caller IN (?3, '*') AND ` + usableGrant + ` ORDER BY id LIMIT ` + fmt.Sprint(gate.MaxGrants)

func scanGrant(sc interface{ Scan(...any) error }, hash bool) (*gate.Grant, error) {
	var (
		g           gate.Grant
		from, until sql.NullInt64
		created     int64
	)
	dest := []any{&g.ID, &g.GateID, &g.Caller, &g.Label, &from, &until, &g.MaxUses, &g.Uses, &g.CreatedBy, &created}
	if hash {
		dest = append(dest, &g.PIN.Salt, &g.PIN.Sum)
	}
	if err := sc.Scan(dest...); err != nil {
		return nil, err
	}
	g.ValidFrom, g.ValidUntil, g.CreatedAt = fromNS(from), fromNS(until), timeNS(created)
	return &g, nil
}

// CreateGrant stores a new grant unless the gate has gate.MaxGrants
// grants usable at its CreatedAt: the count and the insert are one
// transaction.
func (s *Store) CreateGrant(ctx context.Context, g *gate.Grant) error {
	if len(g.PIN.Salt) == 0 || len(g.PIN.Sum) == 0 {
		return fmt.Errorf("sqlite: create grant: %w", &gate.ValidationError{Field: "pin", Problem: "is required"})
	}
	if g.CreatedAt.IsZero() {
		g.CreatedAt = s.stamp()
	}
	at := clampNS(g.CreatedAt)
	err := inTx(ctx, s.w, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM grants WHERE gate_id = ?1 AND `+usableGrant, g.GateID, at).Scan(&n); err != nil {
			return err
		}
		if n >= gate.MaxGrants {
			return fmt.Errorf("gate %q has %d usable grants, at most %d: %w", g.GateID, n, gate.MaxGrants, gate.ErrConflict)
		}
		return tx.QueryRowContext(ctx, `INSERT INTO grants (gate_id, caller, pin_salt, pin_sum, label, valid_from, valid_until, max_uses, uses, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			g.GateID, g.Caller, g.PIN.Salt, g.PIN.Sum, g.Label, ns(g.ValidFrom), ns(g.ValidUntil), g.MaxUses, g.Uses, g.CreatedBy, at).Scan(&g.ID)
	})
	s.granted.forget()
	if err != nil {
		return fmt.Errorf("sqlite: create grant: %w", dbErr(err))
	}
	return nil
}

// ListGrants returns a gate's grants ordered by ID, without hashes.
func (s *Store) ListGrants(ctx context.Context, gateID string) ([]*gate.Grant, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+grantColumns+` FROM grants WHERE gate_id = ? ORDER BY id`, gateID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list grants: %w", dbErr(err))
	}
	defer rows.Close()
	var out []*gate.Grant
	for rows.Next() {
		g, err := scanGrant(rows, false)
		if err != nil {
			return nil, fmt.Errorf("sqlite: list grants: %w", dbErr(err))
		}
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list grants: %w", dbErr(err))
	}
	return out, nil
}

// DeleteGrant removes one grant of a gate.
func (s *Store) DeleteGrant(ctx context.Context, gateID string, id int64) error {
	res, err := s.w.ExecContext(ctx, `DELETE FROM grants WHERE id = ? AND gate_id = ?`, id, gateID)
	s.granted.forget()
	if err != nil {
		return fmt.Errorf("sqlite: delete grant %d: %w", id, dbErr(err))
	}
	return affected(res, "sqlite: delete grant %d: %w", id)
}

// UseGrant counts one use with a single UPDATE that checks validity and
// the limit in its WHERE: SQLite runs one writer at a time, so two uses
// of the last one cannot both match.
func (s *Store) UseGrant(ctx context.Context, gateID string, id int64, now time.Time) (*gate.Grant, error) {
	row := s.w.QueryRowContext(ctx, `UPDATE grants SET uses = uses + 1
		WHERE id = ?3 AND gate_id = ?1 AND `+usableGrant+` RETURNING `+grantColumns, gateID, clampNS(now), id)
	g, err := scanGrant(row, false)
	if errors.Is(err, sql.ErrNoRows) {
		var one int
		if err := s.r.QueryRowContext(ctx, `SELECT 1 FROM grants WHERE id = ? AND gate_id = ?`, id, gateID).Scan(&one); err == nil {
			return nil, fmt.Errorf("sqlite: use grant %d: %w", id, gate.ErrGrantUnusable)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: use grant %d: %w", id, dbErr(err))
	}
	return g, nil
}

// grantGates knows which gates have grant rows at all, as of a
// gate_version: grants bump it (migration 0011), so the gate cache's
// check of the version, which every Decide's ListGates makes, tells when
// to read the set again. Calls of gates without grants skip the grants
// query: it costs a SQLite call about 50 µs and 50 allocations.
type grantGates struct {
	mu      sync.Mutex
	gen     uint64 // changes with every forget, so that a read that raced with a write is not kept
	valid   bool
	version int64
	gates   map[string]bool
}

// forget makes the next call read the set again (after a grant was made
// or revoked through this store).
func (g *grantGates) forget() {
	g.mu.Lock()
	g.gen++
	g.valid = false
	g.mu.Unlock()
}

// hasGrants reports whether gateID has grant rows, reading the set again
// when the gate cache has seen a newer gate_version.
func (s *Store) hasGrants(ctx context.Context, gateID string) (bool, error) {
	s.cache.mu.Lock()
	version := s.cache.version
	s.cache.mu.Unlock()
	g := &s.granted
	g.mu.Lock()
	if g.valid && g.version == version {
		has := g.gates[gateID]
		g.mu.Unlock()
		return has, nil
	}
	gen := g.gen
	g.mu.Unlock()
	rows, err := s.r.QueryContext(ctx, `SELECT DISTINCT gate_id FROM grants`)
	if err != nil {
		return false, err
	}
	defer rows.Close()
	set := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return false, err
		}
		set[id] = true
	}
	if err := rows.Err(); err != nil {
		return false, err
	}
	g.mu.Lock()
	if g.gen == gen {
		g.valid, g.version, g.gates = true, version, set
	}
	g.mu.Unlock()
	return set[gateID], nil
}

// callGrants returns the grants of gateID usable at now of number or
// anyone, with one prepared query; none, without a query, when the gate
// has no grants.
func (s *Store) callGrants(ctx context.Context, gateID, number string, now time.Time) ([]*gate.Grant, error) {
	if has, err := s.hasGrants(ctx, gateID); err != nil || !has {
		return nil, err
	}
	stmt, err := s.readStmt(ctx, callGrantsKey)
	if err != nil {
		return nil, err
	}
	if number == "" {
		number = gate.AnyCaller
	}
	rows, err := stmt.QueryContext(ctx, gateID, clampNS(now), number)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*gate.Grant
	for rows.Next() {
		g, err := scanGrant(rows, true)
		if err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, rows.Err()
}
