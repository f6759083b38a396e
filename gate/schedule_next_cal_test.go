package gate_test

import (
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/gate/gatetest"
)

// sameEvents gives the same events for every calendar.
type sameEvents []gate.CalendarEvent

func (f sameEvents) Events(string, gate.CalendarSource) ([]gate.CalendarEvent, string, bool) {
	return f, "", true
}

// TestNextChangeWithCalendars: the next change of a gate whose calendar
// has an event comes at the event's start (the event closes the gate as
// outside business hours), by the rule a call's decision uses; without
// the calendars only the window counts.
func TestNextChangeWithCalendars(t *testing.T) {
	g := &gate.Gate{ID: "hotline", Enabled: true, Match: gate.Match{Numbers: []string{"1000"}}, Identification: gate.Identification{Mode: gate.IdentTable},
		Activation: gate.Activation{Mode: gate.ActiveSchedule, Schedule: &gate.Schedule{TimeZone: "UTC", Active: gate.Outside,
			Windows:   []gate.Window{{Days: []string{"mon-fri"}, From: "08:00", To: "17:00"}},
			Calendars: []gate.CalendarSource{{Path: "/etc/vipgate/closed.ics"}}}}}
	g.Normalize()
	if err := g.Validate(); err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC) // Friday, inside the window: inactive
	meeting := sameEvents{{Name: "staff meeting", Start: from.Add(2 * time.Hour), End: from.Add(3 * time.Hour)}}
	// A past event and one that changes nothing (the gate is active
	// already at 18:00) are no change.
	cal := append(sameEvents{{Name: "old", Start: from.Add(-3 * time.Hour), End: from.Add(-2 * time.Hour)}}, meeting...)

	if got, err := g.NextChange(from); err != nil || !got.Equal(from.Add(7*time.Hour)) {
		t.Errorf("NextChange = %v, %v; want 17:00 (the window)", got, err)
	}
	if got, err := g.NextChangeWith(from, cal); err != nil || !got.Equal(from.Add(2*time.Hour)) {
		t.Errorf("NextChangeWith = %v, %v; want 12:00 (the meeting starts)", got, err)
	}
	// During the event the next change is its end.
	if got, err := g.NextChangeWith(from.Add(150*time.Minute), cal); err != nil || !got.Equal(from.Add(3*time.Hour)) {
		t.Errorf("NextChangeWith during the event = %v, %v; want 13:00", got, err)
	}
	// The Engine passes its calendars: its next change is where its own
	// decision of a call turns.
	st := gatetest.NewStore()
	if err := st.CreateGate(t.Context(), g); err != nil {
		t.Fatal(err)
	}
	e := gate.NewEngine(gate.EngineConfig{Store: st, Calendars: cal})
	next, err := e.NextChange(g, from)
	if err != nil || !next.Equal(from.Add(2*time.Hour)) {
		t.Errorf("Engine.NextChange = %v, %v; want 12:00", next, err)
	}
	before := e.Explain(t.Context(), "hotline", "", "1000", next.Add(-time.Second))
	at := e.Explain(t.Context(), "hotline", "", "1000", next)
	if before.Active || !at.Active {
		t.Errorf("the decision is active %v a second before the next change and %v at it; want false, true", before.Active, at.Active)
	}
}
