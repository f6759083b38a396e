package gate

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
