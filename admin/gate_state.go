package admin

import (
	"fmt"
	"net/http"
	"time"

	"github.com/vipgate/vipgate/gate"
)

// gateStateOut is one gate's state in GET /api/v1/status/gates.
type gateStateOut struct {
	Gate    string `json:"gate"`
	Name    string `json:"name,omitempty"`
	Enabled bool   `json:"enabled"`
	// Active says the gate screens calls now.
	Active bool `json:"active"`
	// Why is the reason, as a call's trace gives it.
	Why string `json:"why"`
	// Mode is the activation mode (always, never, schedule).
	Mode gate.ActivationMode `json:"mode"`
	// Closure names the closure, holiday or calendar event that decides
	// the schedule now.
	Closure       string `json:"closure,omitempty"`
	ClosureAction bool   `json:"closure_action,omitempty"`
	// Override is the manual override in effect now.
	Override *gate.Override `json:"override,omitempty"`
	// Error is a schedule that cannot be evaluated: calls follow the
	// gate's failure policy.
	Error string `json:"error,omitempty"`
}

// gateStates answers GET /api/v1/status/gates: every gate's state now, as
// the Engine decides calls (its compiled schedules and the calendars' last
// good copies).
func (s *server) gateStates(w http.ResponseWriter, r *http.Request) {
	if s.engine == nil {
		s.writeError(w, r, fmt.Errorf("gate states: no engine configured: %w", gate.ErrUnavailable))
		return
	}
	gs, err := s.store.ListGates(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	now := s.now()
	out := make([]gateStateOut, 0, len(gs))
	for _, g := range gs {
		st := s.engine.StateAt(g, now)
		o := gateStateOut{Gate: g.ID, Name: g.Name, Enabled: g.Enabled, Active: st.Active, Why: st.Why,
			Mode: g.Activation.Mode, Closure: st.Closure, ClosureAction: st.ClosureAction, Override: st.Override}
		if o.Mode == "" {
			o.Mode = gate.ActiveAlways
		}
		if st.Err != nil {
			o.Error = st.Err.Error()
		}
		out = append(out, o)
	}
	writeJSON(w, http.StatusOK, map[string]any{"time": now.UTC().Format(time.RFC3339), "items": out})
}
