package gate_test

import (
	"strings"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
)

// TestStateAt checks that the Engine's view of a gate at an instant is the
// one its calls get: a calendar event (last good copy) closes the gate,
// with the calendar's own action when it has one, a dated closure comes
// first, the windows decide otherwise, and an override in effect wins
// until it expires. gate.ActiveAt, which has no calendars, cannot see the
// calendar events.
func TestStateAt(t *testing.T) {
	cals := &fakeCalendars{events: map[string][]gate.CalendarEvent{
		"hotline https://cal.example.com/office.ics": {
			{Name: "Christmas break", Start: instant(t, "2026-12-24T00:00:00+01:00"), End: instant(t, "2026-12-28T00:00:00+01:00")},
		},
		"hotline /etc/vipgate/maintenance.ics": {
			{Name: "Maintenance", Start: instant(t, "2026-12-07T08:00:00+01:00"), End: instant(t, "2026-12-07T09:00:00+01:00")},
		},
	}}
	g := calendarGate(t)
	eng := gate.NewEngine(gate.EngineConfig{Store: newEnv(t, g).store, Hasher: mustHasher(t), Region: "DE", Calendars: cals})
	tests := []struct {
		at, closure string
		active      bool
		action      bool
	}{
		{"2026-12-24T10:00:00+01:00", `calendar event "Christmas break"`, true, false}, // active outside the windows
		{"2026-12-07T08:30:00+01:00", `calendar event "Maintenance"`, true, true},
		{"2026-11-27T10:00:00+01:00", `closure "Inventory"`, true, false},
		{"2026-12-10T10:00:00+01:00", "", false, false},
		{"2026-12-10T20:00:00+01:00", "", true, false},
	}
	for _, tt := range tests {
		st := eng.StateAt(g, instant(t, tt.at))
		if st.Err != nil || st.Active != tt.active || st.Closure != tt.closure || st.ClosureAction != tt.action || st.Override != nil {
			t.Errorf("%s: %+v, want active %v closure %q action %v", tt.at, st, tt.active, tt.closure, tt.action)
		}
		if tt.closure != "" && !strings.Contains(st.Why, tt.closure) {
			t.Errorf("%s: why %q does not name %s", tt.at, st.Why, tt.closure)
		}
	}
	if active, _, _ := gate.ActiveAt(g, instant(t, "2026-12-10T10:00:00+01:00")); active {
		t.Fatal("ActiveAt: active inside the windows")
	}

	at := instant(t, "2026-12-10T10:00:00+01:00")
	o := &gate.Override{Active: true, Until: at.Add(time.Hour), Reason: "drill"}
	g.Override = o
	st := eng.StateAt(g, at)
	if !st.Active || st.Override != o || !strings.Contains(st.Why, "manual override") || !strings.Contains(st.Why, "drill") {
		t.Errorf("override in effect: %+v", st)
	}
	if st := eng.StateAt(g, at.Add(time.Hour)); st.Active || st.Override != nil {
		t.Errorf("override expired: %+v", st)
	}
}
