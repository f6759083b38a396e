package admin

import (
	"fmt"
	"net/http"
	"time"

	"github.com/vipgate/vipgate/gate"
)

// grantOut is a granted PIN as the API shows it: never its PIN or hash.
type grantOut struct {
	ID     int64  `json:"id"`
	GateID string `json:"gate_id"`
	// Caller is the normalised number, or "*" for anyone.
	Caller     string    `json:"caller"`
	Label      string    `json:"label,omitempty"`
	ValidFrom  time.Time `json:"valid_from,omitzero"`
	ValidUntil time.Time `json:"valid_until,omitzero"`
	MaxUses    int       `json:"max_uses"`
	Uses       int       `json:"uses"`
	// State is usable, pending, expired or used_up at the time of the
	// answer.
	State     string    `json:"state"`
	CreatedBy string    `json:"created_by,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

func newGrantOut(g *gate.Grant, now time.Time) grantOut {
	return grantOut{ID: g.ID, GateID: g.GateID, Caller: g.Caller, Label: g.Label, ValidFrom: g.ValidFrom, ValidUntil: g.ValidUntil,
		MaxUses: g.MaxUses, Uses: g.Uses, State: g.State(now), CreatedBy: g.CreatedBy, CreatedAt: g.CreatedAt}
}

// grantCreated is the answer to a new grant: the one time its PIN is
// shown.
type grantCreated struct {
	grantOut
	PIN string `json:"pin"`
}

func (s *server) createGrant(w http.ResponseWriter, r *http.Request) {
	var in gate.GrantIn
	g, err := s.gateBody(w, r, &in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	nb, err := s.numberingOf(g)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	gr, pin, err := gate.NewGrant(s.hasher, g, nb, in, gate.ActorFrom(r.Context()), now)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.store.CreateGrant(r.Context(), gr); err != nil {
		s.writeError(w, r, fmt.Errorf("create grant at gate %q: %w", g.ID, err))
		return
	}
	s.log.Info("admin: grant created", "gate", g.ID, "grant", gr.ID, "by", tokenFrom(r.Context()).ID)
	w.Header().Set("Location", fmt.Sprintf("/api/v1/gates/%s/grants/%d", g.ID, gr.ID))
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, grantCreated{grantOut: newGrantOut(gr, now), PIN: pin})
}

func (s *server) listGrants(w http.ResponseWriter, r *http.Request) {
	g, err := s.gate(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	gs, err := s.store.ListGrants(r.Context(), g.ID)
	if err != nil {
		s.writeError(w, r, fmt.Errorf("list grants of gate %q: %w", g.ID, err))
		return
	}
	now := s.now()
	writeJSON(w, http.StatusOK, newPage(gs, len(gs), 0, len(gs), func(gr *gate.Grant) grantOut { return newGrantOut(gr, now) }))
}

func (s *server) deleteGrant(w http.ResponseWriter, r *http.Request) {
	g, id, err := s.gateAndID(r, "grant")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.store.DeleteGrant(r.Context(), g.ID, id); err != nil {
		s.writeError(w, r, fmt.Errorf("delete grant %d of gate %q: %w", id, g.ID, err))
		return
	}
	s.log.Info("admin: grant revoked", "gate", g.ID, "grant", id, "by", tokenFrom(r.Context()).ID)
	w.WriteHeader(http.StatusNoContent)
}
