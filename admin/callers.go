package admin

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/vipgate/vipgate/gate"
)

// eraseCaller deletes everything kept under one caller's number (any
// number format, normalised as the entry search does): call-log rows,
// exact caller-table entries, lockouts and counters, at every gate or,
// with ?gate=, at one. It answers the counts. The log line says who
// erased how much where, but not the number: the erasure must not keep
// it.
func (s *server) eraseCaller(w http.ResponseWriter, r *http.Request) {
	var g *gate.Gate
	gateID := r.URL.Query().Get("gate")
	if gateID != "" {
		if !gate.ValidID(gateID) {
			s.writeError(w, r, invalid("gate", "is not a valid gate ID"))
			return
		}
		gg, err := s.store.GetGate(r.Context(), gateID)
		if err != nil {
			s.writeError(w, r, fmt.Errorf("gate %q: %w", gateID, err))
			return
		}
		g = gg
	}
	raw, err := url.PathUnescape(urlParam(r, "number"))
	if err != nil {
		s.writeError(w, r, invalid("number", "is not a valid URL path segment"))
		return
	}
	nb, err := s.numberingOf(g)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	n, err := nb.Number(strings.TrimSpace(raw))
	if err != nil {
		s.writeError(w, r, invalid("number", "%s", err.Error()))
		return
	}
	if err := gate.ValidErasable(n.Value); err != nil {
		s.writeError(w, r, err)
		return
	}
	res, err := s.store.EraseCaller(r.Context(), gateID, n.Value)
	if err != nil {
		s.writeError(w, r, fmt.Errorf("erase caller: %w", err))
		return
	}
	s.log.Info("admin: caller erased", "gate", gateID, "calls", res.Calls, "entries", res.Entries,
		"lockouts", res.Lockouts, "counters", res.Counters, "by", tokenFrom(r.Context()).ID)
	writeJSON(w, http.StatusOK, res)
}
