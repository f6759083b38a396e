package gate

import "time"

// GateState is what a gate does with calls at one instant and why, as
// Decide would decide it then: the override, the activation mode and the
// schedule with its closures, holidays and calendars.
type GateState struct {
	// Active says the gate screens calls.
	Active bool
	// Why is the reason, as the trace of a call gives it.
	Why string
	// Closure names the closure, holiday or calendar event that decided
	// the schedule; empty when none did.
	Closure string
	// ClosureAction says the closure routes calls by its own action
	// (announcement, route) instead of passing them.
	ClosureAction bool
	// Override is the manual override in effect; nil when none is.
	Override *Override
	// Err is a schedule that cannot be evaluated (the call would follow
	// the failure policy).
	Err error
}

// StateAt reports g's state at now with the schedule the Engine holds
// compiled for it and the calendars' last good copies: the evaluation
// Decide applies to a call, without the store steps of a call.
func (e *Engine) StateAt(g *Gate, now time.Time) GateState {
	active, why, hit, err := activeAt(g, e.prepared(g), now, e.cfg.Calendars)
	st := GateState{Active: active, Why: why, Err: err}
	if o := g.Override; o.InEffect(now) {
		st.Override = o
	}
	if hit != nil {
		st.Closure = hit.label
		st.ClosureAction = hit.action != nil
	}
	return st
}
