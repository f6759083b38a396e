package admin_test

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestGateStates checks GET /api/v1/status/gates: every gate's state now
// and why, from the engine (a dated closure today, the windows, an
// override with its expiry, an activation mode), for a viewer.
func TestGateStates(t *testing.T) {
	e := newEnv(t)
	always := staticGate("always", "4711")
	closed := staticGate("closed", "4711")
	closed["match"] = map[string]any{"numbers": []string{"+4930123457"}}
	// now is Monday 2026-03-02 11:00 in Berlin.
	closed["activation"] = map[string]any{"mode": "schedule", "schedule": map[string]any{"time_zone": "Europe/Berlin", "active": "inside",
		"windows":  []any{map[string]any{"days": []string{"mon-fri"}, "from": "08:00", "to": "18:00"}},
		"closures": []any{map[string]any{"name": "Inventory", "date": "2026-03-02"}}}}
	overridden := staticGate("overridden", "4711")
	overridden["match"] = map[string]any{"numbers": []string{"+4930123458"}}
	overridden["activation"] = map[string]any{"mode": "never"}
	for _, g := range []map[string]any{always, closed, overridden} {
		mustStatus(t, e.admin(http.MethodPost, "/api/v1/gates", g), http.StatusCreated)
	}
	until := now.Add(time.Hour).Format(time.RFC3339)
	mustStatus(t, e.admin(http.MethodPut, "/api/v1/gates/overridden/override", map[string]any{"active": true, "until": until, "reason": "drill"}), http.StatusOK)

	r := e.do(e.tokens["viewer"], http.MethodGet, "/api/v1/status/gates", nil)
	mustStatus(t, r, http.StatusOK)
	var out struct {
		Items []struct {
			Gate, Why, Mode, Closure, Error string
			Enabled, Active                 bool
			Override                        *struct {
				Active bool
				Until  time.Time
				Reason string
			}
		}
	}
	r.json(t, &out)
	if len(out.Items) != 3 {
		t.Fatalf("items: %s", r.body)
	}
	byID := map[string]int{}
	for i, it := range out.Items {
		byID[it.Gate] = i
	}
	a, c, o := out.Items[byID["always"]], out.Items[byID["closed"]], out.Items[byID["overridden"]]
	if !a.Active || a.Mode != "always" || a.Override != nil || a.Why != "activation mode always" {
		t.Errorf("always: %+v", a)
	}
	if c.Active || c.Mode != "schedule" || c.Closure != `closure "Inventory"` || !strings.Contains(c.Why, "Inventory") {
		t.Errorf("closed: %+v", c)
	}
	if !o.Active || o.Mode != "never" || o.Override == nil || !o.Override.Until.Equal(now.Add(time.Hour)) || o.Override.Reason != "drill" ||
		!strings.Contains(o.Why, "manual override") {
		t.Errorf("overridden: %+v", o)
	}
	mustStatus(t, e.do("", http.MethodGet, "/api/v1/status/gates", nil), http.StatusUnauthorized)
}
