package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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
	c.importGates("gates.yaml", yaml)
	explain := func(at string, extra ...string) string {
		return c.must(append([]string{"explain", "--called", "+4930901820", "--caller", "+4917612345678", "--at", at}, extra...)...)
	}
	// Nothing has read the calendar yet (serve would keep a copy): explain
	// uses the store's copies only, and says that there is none.
	if out := explain("2026-12-11T15:00:00+01:00"); strings.Contains(out, "calendar event") || !strings.Contains(out, "no copy in the store") {
		t.Fatalf("explain before any copy was kept:\n%s", out)
	}
	// Friday 11 December 2026, 15:00: the team party (an event in UTC),
	// read fresh from the file.
	if out := explain("2026-12-11T15:00:00+01:00", "--fetch-calendars"); !strings.Contains(out, `calendar event "Team party"`) {
		t.Fatalf("explain --fetch-calendars during the event:\n%s", out)
	}
	if out := explain("2026-12-10T15:00:00+01:00"); strings.Contains(out, "calendar event") {
		t.Fatalf("explain outside any event names one:\n%s", out)
	}
	if err := os.Remove(calPath); err != nil {
		t.Fatal(err)
	}
	// The copy read is kept in the store: explain uses it without reading
	// the (now missing) file; fetched fresh, the failure is named.
	if out := explain("2026-12-24T10:00:00+01:00"); !strings.Contains(out, `calendar event "Christmas break"`) || strings.Contains(out, "failing") {
		t.Fatalf("explain from the stored copy:\n%s", out)
	}
	out := explain("2026-12-24T10:00:00+01:00", "--fetch-calendars")
	if !strings.Contains(out, `calendar event "Christmas break"`) || !strings.Contains(out, "last good copy used") {
		t.Fatalf("explain --fetch-calendars with the calendar file gone:\n%s", out)
	}
}

// TestOverrideUntilChangeCountsCalendars: "override set --until-change"
// ends the override where the gate's decision next turns, calendar
// events included (from the copies in the store).
func TestOverrideUntilChangeCountsCalendars(t *testing.T) {
	c := newCLI(t)
	now := time.Now().UTC()
	start, end := now.Add(2*time.Hour).Truncate(time.Minute), now.Add(3*time.Hour).Truncate(time.Minute)
	ics := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:test\r\nBEGIN:VEVENT\r\nUID:m1\r\nSUMMARY:Meeting\r\nDTSTART:" + start.Format("20060102T150405Z") +
		"\r\nDTEND:" + end.Format("20060102T150405Z") + "\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	calPath := filepath.Join(c.dir, "meetings.ics")
	if err := os.WriteFile(calPath, []byte(ics), 0o600); err != nil {
		t.Fatal(err)
	}
	// Active inside a window around now (so that only the calendar
	// event, which closes the gate, changes it before the window ends in
	// 10 hours).
	from, to := now.Add(-time.Hour).Format("15:04"), now.Add(10*time.Hour).Format("15:04")
	yaml := `id: office
enabled: true
match: {numbers: ["+4930901820"]}
activation:
  mode: schedule
  schedule:
    time_zone: UTC
    active: inside
    windows: [{from: "` + from + `", to: "` + to + `"}]
    calendars: [{path: "` + calPath + `"}]
identification: {mode: static, static_pin: "4711"}
`
	c.importGates("gates.yaml", yaml)
	c.must("explain", "--called", "+4930901820", "--fetch-calendars") // keeps the copy, as serve does
	out := c.must("override", "set", "--gate", "office", "--active", "off", "--until-change")
	if !strings.Contains(out, start.Format(time.RFC3339)) {
		t.Fatalf("override until the next change: %s, want until %s (the meeting starts)", out, start.Format(time.RFC3339))
	}
}
