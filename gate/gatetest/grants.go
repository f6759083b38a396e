package gatetest

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/vipgate/vipgate/gate"
)

// grantTable holds the granted PINs of every gate. Store.mu guards it.
type grantTable struct {
	byID   map[int64]*gate.Grant
	lastID int64
}

func (t *grantTable) dropGate(gateID string) {
	for id, g := range t.byID {
		if g.GateID == gateID {
			delete(t.byID, id)
		}
	}
}

// sorted returns the grants of gateID ordered by ID.
func (t *grantTable) sorted(gateID string) []*gate.Grant {
	var out []*gate.Grant
	for _, g := range t.byID {
		if g.GateID == gateID {
			out = append(out, g)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// usable returns copies of the grants of gateID usable at now for number
// or anyone, with their hashes, at most gate.MaxGrants.
func (t *grantTable) usable(gateID, number string, now time.Time) []*gate.Grant {
	var out []*gate.Grant
	for _, g := range t.sorted(gateID) {
		if (g.Caller == gate.AnyCaller || number != "" && g.Caller == number) && g.UsableAt(now) && len(out) < gate.MaxGrants {
			c := *g
			out = append(out, &c)
		}
	}
	return out
}

// CreateGrant implements gate.Store.
func (s *Store) CreateGrant(ctx context.Context, g *gate.Grant) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	if _, ok := s.gates[g.GateID]; !ok {
		return fmt.Errorf("gatetest: create grant: gate %q: %w", g.GateID, gate.ErrNotFound)
	}
	if g.CreatedAt.IsZero() {
		g.CreatedAt = time.Now().UTC()
	}
	n := 0
	for _, x := range s.grants.sorted(g.GateID) {
		if x.UsableAt(g.CreatedAt) {
			n++
		}
	}
	if n >= gate.MaxGrants {
		return fmt.Errorf("gatetest: create grant: gate %q has %d usable grants: %w", g.GateID, n, gate.ErrConflict)
	}
	if s.grants.byID == nil {
		s.grants.byID = map[int64]*gate.Grant{}
	}
	s.grants.lastID++
	g.ID = s.grants.lastID
	c := *g
	s.grants.byID[g.ID] = &c
	return nil
}

// ListGrants implements gate.Store.
func (s *Store) ListGrants(ctx context.Context, gateID string) ([]*gate.Grant, error) {
	if err := s.lock(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	var out []*gate.Grant
	for _, g := range s.grants.sorted(gateID) {
		c := *g
		c.PIN = gate.PINHash{}
		out = append(out, &c)
	}
	return out, nil
}

// DeleteGrant implements gate.Store.
func (s *Store) DeleteGrant(ctx context.Context, gateID string, id int64) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	if g, ok := s.grants.byID[id]; !ok || g.GateID != gateID {
		return fmt.Errorf("gatetest: delete grant %d of gate %q: %w", id, gateID, gate.ErrNotFound)
	}
	delete(s.grants.byID, id)
	return nil
}

// UseGrant implements gate.Store.
func (s *Store) UseGrant(ctx context.Context, gateID string, id int64, now time.Time) (*gate.Grant, error) {
	if err := s.lock(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	g, ok := s.grants.byID[id]
	if !ok || g.GateID != gateID {
		return nil, fmt.Errorf("gatetest: use grant %d of gate %q: %w", id, gateID, gate.ErrNotFound)
	}
	if !g.UsableAt(now) {
		return nil, fmt.Errorf("gatetest: use grant %d of gate %q: %w", id, gateID, gate.ErrGrantUnusable)
	}
	g.Uses++
	c := *g
	c.PIN = gate.PINHash{}
	return &c, nil
}

// eraseCaller deletes the grants of number at the gates at says, and
// counts them.
func (t *grantTable) eraseCaller(number string, at func(gateID string) bool) int64 {
	var n int64
	for id, g := range t.byID {
		if g.Caller == number && at(g.GateID) {
			delete(t.byID, id)
			n++
		}
	}
	return n
}
