package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExplainNamesTheCalendarEvent: a gate whose schedule names a
// calendar file is closed during the calendar's events, and explain names
// the event; the copy read is kept in the store, so a calendar file that
// disappears later changes nothing.
func TestExplainNamesTheCalendarEvent(t *testing.T) {
	c := newCLI(t)
	ics, err := os.ReadFile(filepath.Join("..", "..", "calendar", "testdata", "google.ics"))
	if err != nil {
		t.Fatal(err)
	}
	calPath := filepath.Join(c.dir, "office.ics")
	if err := os.WriteFile(calPath, ics, 0o600); err != nil {
		t.Fatal(err)
	}
	gates := filepath.Join(c.dir, "gates.yaml")
	yaml := `id: office
enabled: true
match: {numbers: ["+4930901820"]}
activation:
  mode: schedule
  schedule:
    time_zone: Europe/Berlin
    active: outside
    windows: [{days: [mon-fri], from: "08:00", to: "18:00"}]
    calendars: [{path: "` + calPath + `", refresh: 15m}]
identification: {mode: static, static_pin: "4711"}
`
	if err := os.WriteFile(gates, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	c.must("gates", "import", gates)
	explain := func(at string) string {
		return c.must("explain", "--called", "+4930901820", "--caller", "+4917612345678", "--at", at)
	}
	// Friday 11 December 2026, 15:00: the team party (an event in UTC).
	if out := explain("2026-12-11T15:00:00+01:00"); !strings.Contains(out, `calendar event "Team party"`) {
		t.Fatalf("explain during the event:\n%s", out)
	}
	if out := explain("2026-12-10T15:00:00+01:00"); strings.Contains(out, "calendar event") {
		t.Fatalf("explain outside any event names one:\n%s", out)
	}
	if err := os.Remove(calPath); err != nil {
		t.Fatal(err)
	}
	out := explain("2026-12-24T10:00:00+01:00")
	if !strings.Contains(out, `calendar event "Christmas break"`) || !strings.Contains(out, "last good copy used") {
		t.Fatalf("explain with the calendar file gone:\n%s", out)
	}
}
