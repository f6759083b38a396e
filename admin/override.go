package admin

import (
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/vipgate/vipgate/gate"
)

// overrideIn sets a gate's manual override. Active is required; Until
// (RFC 3339) is optional and must lie in the future.
type overrideIn struct {
	Active *bool     `json:"active"`
	Until  time.Time `json:"until,omitzero"`
	// UntilChange ends the override at the schedule's next change by
	// itself, instead of at Until.
	UntilChange bool   `json:"until_change,omitempty"`
	Reason      string `json:"reason,omitempty"`
}

// maxReason bounds an override's reason, in characters.
const maxReason = 200

func (s *server) setOverride(w http.ResponseWriter, r *http.Request) {
	var in overrideIn
	g, err := s.gateBody(w, r, &in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	now := s.now()
	var errs gate.ValidationErrors
	if in.Active == nil {
		errs = append(errs, &gate.ValidationError{Field: "active", Problem: "is required (true forces the gate on, false off)"})
	}
	if !in.Until.IsZero() && !in.Until.After(now) {
		errs = append(errs, &gate.ValidationError{Field: "until", Problem: "must be in the future"})
	}
	reason := strings.TrimSpace(in.Reason)
	if utf8.RuneCountInString(reason) > maxReason {
		errs = append(errs, &gate.ValidationError{Field: "reason", Problem: fmt.Sprintf("must have at most %d characters", maxReason)})
	}
	until := in.Until
	if in.UntilChange {
		var err error
		switch until, err = s.nextChange(g, now); {
		case !in.Until.IsZero():
			errs = append(errs, &gate.ValidationError{Field: "until_change", Problem: "cannot be combined with until"})
		case err != nil:
			errs = append(errs, &gate.ValidationError{Field: "until_change", Problem: err.Error()})
		}
	}
	if len(errs) > 0 {
		s.writeError(w, r, errs)
		return
	}
	o := &gate.Override{Active: *in.Active, Until: until, UntilChange: in.UntilChange, Reason: reason, SetAt: now}
	if err := s.store.SetOverride(r.Context(), g.ID, o); err != nil {
		s.writeError(w, r, fmt.Errorf("set override of gate %q: %w", g.ID, err))
		return
	}
	s.log.Info("admin: override set", "gate", g.ID, "active", o.Active, "until", o.Until, "by", tokenFrom(r.Context()).ID)
	writeJSON(w, http.StatusOK, o)
}

func (s *server) clearOverride(w http.ResponseWriter, r *http.Request) {
	g, err := s.gate(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.store.SetOverride(r.Context(), g.ID, nil); err != nil {
		s.writeError(w, r, fmt.Errorf("clear override of gate %q: %w", g.ID, err))
		return
	}
	s.log.Info("admin: override cleared", "gate", g.ID, "by", tokenFrom(r.Context()).ID)
	w.WriteHeader(http.StatusNoContent)
}

// nextChange is the gate's next change by itself after now, with the
// Engine's calendars when the API has an Engine (the closure sources a
// call's decision reads), else by its schedule alone.
func (s *server) nextChange(g *gate.Gate, now time.Time) (time.Time, error) {
	if s.engine != nil {
		return s.engine.NextChange(g, now)
	}
	return g.NextChange(now)
}
