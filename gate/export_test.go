package gate

import "time"

// Test hooks for the fast path of international numbers.
var FastE164 = fastE164

func ParseE164(s string) (string, error) { return parseE164(s, s) }

// Prepared returns the engine's prepared form of the gate id (nil if
// none), to check that it is built once and rebuilt after a change.
func Prepared(e *Engine, id string) any {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if p, ok := e.prep[id]; ok {
		return p
	}
	return nil
}

// PreparedSchedule returns the compiled schedule of the engine's prepared
// form of gate id (nil if none), to check that it is compiled once per
// gate and again after a change.
func PreparedSchedule(e *Engine, id string) any {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if p, ok := e.prep[id]; ok && p.sched != nil {
		return p.sched
	}
	return nil
}

// CompileSchedule compiles s as the Engine does when it prepares a gate
// and returns the compiled form's ActiveAt.
func CompileSchedule(s *Schedule) (func(time.Time) (bool, string), error) {
	cs, err := compileSchedule(s)
	if err != nil {
		return nil, err
	}
	return cs.activeAt, nil
}
