package admin

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/vipgate/vipgate/gate"
)

func (s *server) listLockouts(w http.ResponseWriter, r *http.Request) {
	gateID := r.URL.Query().Get("gate")
	if gateID != "" && !gate.ValidID(gateID) {
		s.writeError(w, r, invalid("gate", "is not a valid gate ID"))
		return
	}
	ls, err := s.store.ListLockouts(r.Context(), gateID, s.now())
	if err != nil {
		s.writeError(w, r, fmt.Errorf("list lockouts: %w", err))
		return
	}
	if ls == nil {
		ls = []*gate.Lockout{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": ls})
}

// clearLockout lifts the lockout of one caller (any number format), with
// caller "anonymous" the shared one of callers without a number, or with
// caller "*" the gate-wide lockout, and forgets its failures.
func (s *server) clearLockout(w http.ResponseWriter, r *http.Request) {
	g, err := s.gate(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	caller, err := url.PathUnescape(urlParam(r, "caller"))
	if err != nil {
		s.writeError(w, r, invalid("caller", "is not a valid URL path segment"))
		return
	}
	caller = strings.TrimSpace(caller)
	if n, ok := gate.AccountNumberOfKey(caller); ok {
		// An account number's lockout (account:<number>).
		if err := gate.ValidAccountNumber(n); err != nil {
			s.writeError(w, r, invalid("caller", "account number %s", err.Error()))
			return
		}
	} else if caller != gate.AnyCaller && caller != gate.AnonymousCaller {
		nb, err := s.numberingOf(g)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		n, err := nb.Number(caller)
		if err != nil {
			s.writeError(w, r, invalid("caller", "%s", err.Error()))
			return
		}
		caller = n.Value
	}
	if _, err := s.store.GetLockout(r.Context(), g.ID, caller, s.now()); err != nil {
		s.writeError(w, r, fmt.Errorf("lockout of %s at gate %q: %w", caller, g.ID, err))
		return
	}
	if err := s.store.ClearLockout(r.Context(), g.ID, caller); err != nil {
		s.writeError(w, r, fmt.Errorf("clear lockout at gate %q: %w", g.ID, err))
		return
	}
	s.log.Info("admin: lockout cleared", "gate", g.ID, "gate_wide", caller == gate.AnyCaller, "by", tokenFrom(r.Context()).ID)
	w.WriteHeader(http.StatusNoContent)
}
