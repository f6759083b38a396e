package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vipgate/vipgate/gate"
)

// gateCache holds every gate in memory. While the change listener is
// subscribed (live), it is current and serves ListGates and GetGate
// without a query. Otherwise it is the last-known-good state, served only
// when the database cannot be reached.
type gateCache struct {
	mu     sync.RWMutex
	gates  map[string]*gate.Gate
	loaded bool   // a full load succeeded once
	live   bool   // the listener is subscribed and reloaded since
	gen    uint64 // bumped by every change, so that a slow reload does not overwrite a newer write
	// downUntil makes gate reads skip the database for a moment after it
	// failed, so that an outage costs one StoreTimeout, not one per call.
	downUntil time.Time
	stale     bool // serving last-known-good data (logged once per outage)
}

func newGateCache() *gateCache { return &gateCache{gates: map[string]*gate.Gate{}} }

func (c *gateCache) generation() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.gen
}

// replaceAll installs a full load taken at generation gen; it fails (false)
// if something changed meanwhile, unless force.
func (c *gateCache) replaceAll(all []*gate.Gate, gen uint64, force bool) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen && !force {
		return false
	}
	c.gates = make(map[string]*gate.Gate, len(all))
	for _, g := range all {
		c.gates[g.ID] = g
	}
	c.loaded = true
	c.gen++
	return true
}

// set installs one gate (nil: deleted) read at generation gen (0 with
// force: a write of this instance, which is always newer).
func (c *gateCache) set(id string, g *gate.Gate, gen uint64, force bool) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen && !force {
		return false
	}
	if g == nil {
		delete(c.gates, id)
	} else {
		c.gates[id] = g
	}
	c.gen++
	return true
}

func (c *gateCache) setLive(live bool) {
	c.mu.Lock()
	c.live = live
	c.mu.Unlock()
}

// fresh reports whether the cache is current.
func (c *gateCache) fresh() bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.live
}

func (c *gateCache) list() []*gate.Gate {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]*gate.Gate, 0, len(c.gates))
	for _, g := range c.gates {
		out = append(out, g.Clone())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (c *gateCache) get(id string) (*gate.Gate, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	g, ok := c.gates[id]
	return g.Clone(), ok
}

// ListGates returns every gate, ordered by ID, from memory while the change
// listener is subscribed. Otherwise it reads the database (within
// StoreTimeout) and, if the database is unreachable, returns the
// last-known-good gates (logged once per outage).
func (s *Store) ListGates(ctx context.Context) ([]*gate.Gate, error) {
	if s.gates.fresh() {
		return s.gates.list(), nil
	}
	if s.gates.lastKnownGood() {
		return s.gates.list(), nil
	}
	gen := s.gates.generation()
	qctx, cancel := s.bound(ctx)
	all, err := s.queryGates(qctx, s.pool, "")
	cancel()
	if err != nil {
		if s.serveStale(err) {
			return s.gates.list(), nil
		}
		return nil, wrap("list gates", err)
	}
	s.gates.replaceAll(all, gen, false)
	s.gates.recovered(s)
	out := make([]*gate.Gate, len(all))
	for i, g := range all {
		out[i] = g.Clone()
	}
	return out, nil
}

// GetGate returns one gate, from memory while the change listener is
// subscribed; see ListGates for what happens while the database is
// unreachable. An unknown ID is ErrNotFound (also when the last-known-good
// state is served and did not hold the gate).
func (s *Store) GetGate(ctx context.Context, id string) (*gate.Gate, error) {
	if s.gates.fresh() || s.gates.lastKnownGood() {
		if g, ok := s.gates.get(id); ok {
			return g, nil
		}
		return nil, fmt.Errorf("postgres: get gate %q: %w", id, gate.ErrNotFound)
	}
	gen := s.gates.generation()
	qctx, cancel := s.bound(ctx)
	all, err := s.queryGates(qctx, s.pool, id)
	cancel()
	if err != nil {
		if s.serveStale(err) {
			if g, ok := s.gates.get(id); ok {
				return g, nil
			}
			return nil, fmt.Errorf("postgres: get gate %q: %w", id, gate.ErrNotFound)
		}
		return nil, wrap(fmt.Sprintf("get gate %q", id), err)
	}
	s.gates.recovered(s)
	if len(all) == 0 {
		s.gates.set(id, nil, gen, false)
		return nil, fmt.Errorf("postgres: get gate %q: %w", id, gate.ErrNotFound)
	}
	s.gates.set(id, all[0], gen, false)
	return all[0].Clone(), nil
}

// lastKnownGood reports whether gate reads should skip the database that
// failed a moment ago.
func (c *gateCache) lastKnownGood() bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.loaded && time.Now().Before(c.downUntil)
}

// serveStale decides, after a failed gate read, whether to answer from the
// last-known-good cache: only if the database is unreachable and a full
// load happened once.
func (s *Store) serveStale(err error) bool {
	if !errors.Is(classify(err), gate.ErrUnavailable) {
		return false
	}
	c := s.gates
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.loaded {
		return false
	}
	c.downUntil = time.Now().Add(time.Second)
	if !c.stale {
		c.stale = true
		s.log.Warn("postgres: database unreachable; serving last-known-good gates", "gates", len(c.gates), "err", err)
	}
	return true
}

// recovered notes that the database answered again.
func (c *gateCache) recovered(s *Store) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.downUntil = time.Time{}
	if c.stale {
		c.stale = false
		s.log.Info("postgres: database reachable again; gates read from it")
	}
}

// querier is what pool and connection have in common.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// queryGates reads every gate (id "") or one, with its secrets opened.
func (s *Store) queryGates(ctx context.Context, q querier, id string) ([]*gate.Gate, error) {
	rows, err := q.Query(ctx, `SELECT id, doc, override, created_at, updated_at FROM gates
		WHERE $1 = '' OR id = $1 ORDER BY id`, id)
	if err != nil {
		return nil, err
	}
	all, err := pgx.CollectRows(rows, scanGate)
	if err != nil {
		return nil, err
	}
	return all, s.openSecrets(all)
}

// openSecrets opens the sealed secrets of gates read from the database.
func (s *Store) openSecrets(all []*gate.Gate) error {
	for _, g := range all {
		if _, err := gate.OpenSecrets(g, s.opts.Secrets); err != nil {
			return fmt.Errorf("gate %q: open secrets: %w", g.ID, err)
		}
	}
	return nil
}

// sealClearSecrets seals the secrets of gates written in clear (before
// secrets were encrypted, or without Options.Secrets) and returns how
// many it sealed; each change is announced like any gate change, and
// updated_at stays as it is.
func (s *Store) sealClearSecrets(ctx context.Context) (int, error) {
	if s.opts.Secrets == nil {
		return 0, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT id, doc, override, created_at, updated_at FROM gates ORDER BY id`)
	if err != nil {
		return 0, wrap("seal secrets", err)
	}
	all, err := pgx.CollectRows(rows, scanGate)
	if err != nil {
		return 0, wrap("seal secrets", err)
	}
	n := 0
	for _, g := range all {
		clear, err := gate.OpenSecrets(g, s.opts.Secrets)
		if err != nil {
			return n, fmt.Errorf("postgres: seal secrets: gate %q: %w", g.ID, err)
		}
		if !clear {
			continue
		}
		doc, err := s.gateDoc(g)
		if err != nil {
			return n, fmt.Errorf("postgres: seal secrets: gate %q: %w", g.ID, err)
		}
		// Only if the document is still the clear one that was read.
		err = s.writeGate(ctx, g.ID, func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `UPDATE gates SET doc = $2 WHERE id = $1 AND updated_at = $3`, g.ID, doc, g.UpdatedAt)
			return err
		})
		if err != nil {
			return n, wrap(fmt.Sprintf("seal secrets of gate %q", g.ID), err)
		}
		n++
	}
	return n, nil
}

func scanGate(row pgx.CollectableRow) (*gate.Gate, error) {
	var (
		id               string
		doc, override    []byte
		created, updated time.Time
		g                gate.Gate
	)
	if err := row.Scan(&id, &doc, &override, &created, &updated); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(doc, &g); err != nil {
		return nil, fmt.Errorf("gate %q: %w", id, err)
	}
	if len(override) > 0 {
		g.Override = new(gate.Override)
		if err := json.Unmarshal(override, g.Override); err != nil {
			return nil, fmt.Errorf("gate %q override: %w", id, err)
		}
	}
	g.ID, g.CreatedAt, g.UpdatedAt = id, created.UTC(), updated.UTC()
	return &g, nil
}

// gateDoc is the JSON kept in gates.doc: the gate without its override and
// times, which have columns of their own, and with its secrets sealed.
func (s *Store) gateDoc(g *gate.Gate) ([]byte, error) {
	g, err := gate.SealSecrets(g, s.opts.Secrets)
	if err != nil {
		return nil, fmt.Errorf("seal secrets: %w", err)
	}
	c := *g
	c.Override, c.CreatedAt, c.UpdatedAt = nil, time.Time{}, time.Time{}
	return json.Marshal(&c)
}

func overrideDoc(o *gate.Override) ([]byte, error) {
	if o == nil {
		return nil, nil
	}
	return json.Marshal(o)
}

// writeGate runs fn in a transaction that also announces the change of
// gate id to every instance.
func (s *Store) writeGate(ctx context.Context, id string, fn func(tx pgx.Tx) error) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, Channel, s.notifyPayload(id))
		return err
	})
}

// CreateGate stores a new gate (with its override, if set) and sets its
// times; ErrConflict if the ID is taken.
func (s *Store) CreateGate(ctx context.Context, g *gate.Gate) error {
	if !gate.ValidID(g.ID) {
		return fmt.Errorf("postgres: create gate: %w", gate.Invalid("id", "must be 1 to 63 lower-case letters, digits, '-' or '_'"))
	}
	doc, err := s.gateDoc(g)
	if err != nil {
		return fmt.Errorf("postgres: create gate %q: %w", g.ID, err)
	}
	ov, err := overrideDoc(g.Override)
	if err != nil {
		return fmt.Errorf("postgres: create gate %q: %w", g.ID, err)
	}
	now := s.now()
	err = s.writeGate(ctx, g.ID, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO gates (id, doc, override, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $4)`, g.ID, doc, ov, now)
		return err
	})
	if err != nil {
		return wrap(fmt.Sprintf("create gate %q", g.ID), err)
	}
	g.CreatedAt, g.UpdatedAt = now, now
	s.gates.set(g.ID, g.Clone(), 0, true)
	return nil
}

// UpdateGate replaces a gate but keeps its override; it sets g's times.
func (s *Store) UpdateGate(ctx context.Context, g *gate.Gate) error {
	doc, err := s.gateDoc(g)
	if err != nil {
		return fmt.Errorf("postgres: update gate %q: %w", g.ID, err)
	}
	now := s.now()
	var (
		created time.Time
		ov      []byte
	)
	err = s.writeGate(ctx, g.ID, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `UPDATE gates SET doc = $2, updated_at = $3 WHERE id = $1
			RETURNING created_at, override`, g.ID, doc, now).Scan(&created, &ov)
	})
	if err != nil {
		return wrap(fmt.Sprintf("update gate %q", g.ID), err)
	}
	g.CreatedAt, g.UpdatedAt = created.UTC(), now
	c := g.Clone()
	c.Override = nil
	if len(ov) > 0 {
		c.Override = new(gate.Override)
		if err := json.Unmarshal(ov, c.Override); err != nil {
			return fmt.Errorf("postgres: update gate %q: override: %w", g.ID, err)
		}
	}
	s.gates.set(g.ID, c, 0, true)
	return nil
}

// DeleteGate removes a gate with its entries, prompts, failure counters
// and lockouts; ErrNotFound if it does not exist.
func (s *Store) DeleteGate(ctx context.Context, id string) error {
	err := s.writeGate(ctx, id, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM gates WHERE id = $1`, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return gate.ErrNotFound
		}
		for _, q := range []string{
			`DELETE FROM entries WHERE gate_id = $1`,
			`DELETE FROM prompts WHERE gate_id = $1`,
			`DELETE FROM failures WHERE gate_id = $1`,
			`DELETE FROM lockouts WHERE gate_id = $1`,
		} {
			if _, err := tx.Exec(ctx, q, id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return wrap(fmt.Sprintf("delete gate %q", id), err)
	}
	s.gates.set(id, nil, 0, true)
	return nil
}

// SetOverride sets (or with nil clears) a gate's manual override.
func (s *Store) SetOverride(ctx context.Context, id string, o *gate.Override) error {
	ov, err := overrideDoc(o)
	if err != nil {
		return fmt.Errorf("postgres: set override of %q: %w", id, err)
	}
	var all []*gate.Gate
	err = s.writeGate(ctx, id, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `UPDATE gates SET override = $2 WHERE id = $1
			RETURNING id, doc, override, created_at, updated_at`, id, ov)
		if err != nil {
			return err
		}
		all, err = pgx.CollectRows(rows, scanGate)
		if err == nil && len(all) == 0 {
			err = gate.ErrNotFound
		}
		if err == nil {
			err = s.openSecrets(all)
		}
		return err
	})
	if err != nil {
		return wrap(fmt.Sprintf("set override of %q", id), err)
	}
	s.gates.set(id, all[0], 0, true)
	return nil
}

// reloadGates replaces the cache with a full read through q.
func (s *Store) reloadGates(ctx context.Context, q querier) error {
	for try := 0; ; try++ {
		gen := s.gates.generation()
		all, err := s.queryGates(ctx, q, "")
		if err != nil {
			return wrap("load gates", err)
		}
		if s.gates.replaceAll(all, gen, try >= 3) {
			return nil
		}
	}
}

// reloadGate refreshes one gate in the cache through q.
func (s *Store) reloadGate(ctx context.Context, q querier, id string) error {
	for try := 0; ; try++ {
		gen := s.gates.generation()
		all, err := s.queryGates(ctx, q, id)
		if err != nil {
			return wrap(fmt.Sprintf("load gate %q", id), err)
		}
		var g *gate.Gate
		if len(all) > 0 {
			g = all[0]
		}
		if s.gates.set(id, g, gen, try >= 3) {
			return nil
		}
	}
}
