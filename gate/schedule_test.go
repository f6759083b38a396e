package gate_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
	_ "time/tzdata" // the tests do not depend on the machine's zone files

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/gate/gatetest"
)

// at parses an RFC 3339 time with its UTC offset, so that every instant in
// the tests is unambiguous, including those in a repeated hour.
func instant(tb testing.TB, s string) time.Time {
	tb.Helper()
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		tb.Fatalf("bad test time %q: %v", s, err)
	}
	return t
}

func weekly(days, from, to string) gate.Window {
	w := gate.Window{From: from, To: to}
	if days != "" {
		w.Days = strings.Split(days, " ")
	}
	return w
}

func schedIn(zone string, ws ...gate.Window) *gate.Schedule {
	return &gate.Schedule{TimeZone: zone, Active: gate.Outside, Windows: ws}
}

type insideCase struct {
	t      string // RFC 3339 with offset
	inside bool
	why    string // expected reason ("" = not checked beyond being non-empty)
}

func runInside(t *testing.T, s *gate.Schedule, cases []insideCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.t, func(t *testing.T) {
			in, why, err := s.Inside(instant(t, c.t))
			if err != nil {
				t.Fatalf("Inside: %v", err)
			}
			if in != c.inside {
				t.Errorf("Inside = %v (%s), want %v", in, why, c.inside)
			}
			if why == "" || (c.why != "" && why != c.why) {
				t.Errorf("reason = %q, want %q", why, c.why)
			}
		})
	}
}

func TestScheduleWindows(t *testing.T) {
	tests := []struct {
		name  string
		s     *gate.Schedule
		cases []insideCase
	}{
		{"office hours", schedIn("Europe/Berlin", weekly("mon-fri", "08:00", "18:00")), []insideCase{
			{"2026-01-13T09:15:00+01:00", true, "inside window mon-fri 08:00-18:00 (Europe/Berlin, Tue 09:15 CET)"},
			{"2026-01-13T08:00:00+01:00", true, ""},
			{"2026-01-13T07:59:59+01:00", false, ""},
			{"2026-01-13T17:59:59+01:00", true, ""},
			{"2026-01-13T18:00:00+01:00", false, "outside all windows (Europe/Berlin, Tue 18:00 CET)"},
			{"2026-01-17T10:00:00+01:00", false, "outside all windows (Europe/Berlin, Sat 10:00 CET)"},
			{"2026-07-14T09:15:00+02:00", true, "inside window mon-fri 08:00-18:00 (Europe/Berlin, Tue 09:15 CEST)"},
			// The same instant seen from another zone is still 09:15 in Berlin.
			{"2026-01-13T08:15:00Z", true, ""},
		}},
		{"across midnight belongs to its start day", schedIn("Europe/Berlin", weekly("fri", "22:00", "06:00")), []insideCase{
			{"2026-01-16T21:59:00+01:00", false, ""},
			{"2026-01-16T22:00:00+01:00", true, "inside window fri 22:00-06:00 (Europe/Berlin, Fri 22:00 CET)"},
			{"2026-01-17T05:59:59+01:00", true, "inside window fri 22:00-06:00 (Europe/Berlin, Sat 05:59 CET)"},
			{"2026-01-17T06:00:00+01:00", false, ""},
			{"2026-01-16T05:00:00+01:00", false, ""}, // Thursday's night has no window
			{"2026-01-17T23:00:00+01:00", false, ""}, // Saturday evening neither
		}},
		{"to 24:00", schedIn("UTC", weekly("sat", "20:00", "24:00")), []insideCase{
			{"2026-01-17T23:59:59Z", true, ""},
			{"2026-01-18T00:00:00Z", false, ""},
		}},
		{"from equals to is 24 hours", schedIn("UTC", weekly("mon", "08:00", "08:00")), []insideCase{
			{"2026-01-12T08:00:00Z", true, ""},
			{"2026-01-13T07:59:59Z", true, ""},
			{"2026-01-13T08:00:00Z", false, ""},
			{"2026-01-12T07:59:59Z", false, ""},
		}},
		{"no days is every day", schedIn("UTC", weekly("", "09:00", "10:00")), []insideCase{
			{"2026-01-18T09:30:00Z", true, "inside window daily 09:00-10:00 (UTC, Sun 09:30 UTC)"},
			{"2026-01-14T09:30:00Z", true, ""},
			{"2026-01-14T10:30:00Z", false, ""},
		}},
		{"full names, lists and wrapping ranges", schedIn("UTC", weekly("Monday wed,THU fri-sun", "09:00", "10:00")), []insideCase{
			{"2026-01-12T09:30:00Z", true, ""},  // mon
			{"2026-01-13T09:30:00Z", false, ""}, // tue
			{"2026-01-14T09:30:00Z", true, ""},  // wed
			{"2026-01-15T09:30:00Z", true, ""},  // thu
			{"2026-01-17T09:30:00Z", true, ""},  // sat
			{"2026-01-18T09:30:00Z", true, ""},  // sun
		}},
		{"second window matches", schedIn("UTC", weekly("mon", "08:00", "12:00"), weekly("mon", "13:00", "17:00")), []insideCase{
			{"2026-01-12T12:30:00Z", false, ""},
			{"2026-01-12T14:00:00Z", true, "inside window mon 13:00-17:00 (UTC, Mon 14:00 UTC)"},
		}},
		{"no windows", schedIn("UTC"), []insideCase{
			{"2026-01-12T12:30:00Z", false, "outside all windows (UTC, Mon 12:30 UTC)"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { runInside(t, tt.s, tt.cases) })
	}
}

// TestScheduleDST pins the rules for wall times that do not exist (they
// resolve to the end of the gap) or happen twice (the first occurrence
// counts) on the change days of 2026 in Berlin and New York.
func TestScheduleDST(t *testing.T) {
	const berlin, newYork = "Europe/Berlin", "America/New_York"
	tests := []struct {
		name  string
		s     *gate.Schedule
		cases []insideCase
	}{
		// Berlin 2026-03-29: 02:00 CET jumps to 03:00 CEST.
		{"Berlin spring: start in the gap begins when the gap ends", schedIn(berlin, weekly("sun", "02:30", "04:00")), []insideCase{
			{"2026-03-29T01:59:59+01:00", false, ""},
			{"2026-03-29T03:00:00+02:00", true, "inside window sun 02:30-04:00 (Europe/Berlin, Sun 03:00 CEST)"},
			{"2026-03-29T03:59:59+02:00", true, ""},
			{"2026-03-29T04:00:00+02:00", false, ""},
		}},
		{"Berlin spring: end in the gap ends when the gap ends", schedIn(berlin, weekly("sat", "22:00", "02:30")), []insideCase{
			{"2026-03-28T22:00:00+01:00", true, ""},
			{"2026-03-29T01:59:59+01:00", true, ""},
			{"2026-03-29T03:00:00+02:00", false, ""},
		}},
		{"Berlin spring: window inside the gap is empty", schedIn(berlin, weekly("sun", "02:00", "03:00")), []insideCase{
			{"2026-03-29T01:59:59+01:00", false, ""},
			{"2026-03-29T03:00:00+02:00", false, ""},
		}},
		{"Berlin spring: window over the gap is an hour shorter", schedIn(berlin, weekly("sun", "01:00", "05:00")), []insideCase{
			{"2026-03-29T00:59:59+01:00", false, ""},
			{"2026-03-29T01:00:00+01:00", true, ""},
			{"2026-03-29T04:59:59+02:00", true, ""},
			{"2026-03-29T05:00:00+02:00", false, ""},
		}},
		// Berlin 2026-10-25: 03:00 CEST goes back to 02:00 CET.
		{"Berlin fall: start in the repeated hour is its first occurrence", schedIn(berlin, weekly("sun", "02:30", "04:00")), []insideCase{
			{"2026-10-25T02:29:59+02:00", false, ""},
			{"2026-10-25T02:30:00+02:00", true, "inside window sun 02:30-04:00 (Europe/Berlin, Sun 02:30 CEST)"},
			{"2026-10-25T02:15:00+01:00", true, "inside window sun 02:30-04:00 (Europe/Berlin, Sun 02:15 CET)"},
			{"2026-10-25T03:59:59+01:00", true, ""},
			{"2026-10-25T04:00:00+01:00", false, ""},
		}},
		{"Berlin fall: end in the repeated hour is its first occurrence", schedIn(berlin, weekly("sat", "22:00", "02:30")), []insideCase{
			{"2026-10-25T02:29:59+02:00", true, ""},
			{"2026-10-25T02:30:00+02:00", false, ""},
			{"2026-10-25T02:15:00+01:00", false, "outside all windows (Europe/Berlin, Sun 02:15 CET)"},
		}},
		{"Berlin fall: window over the change is an hour longer", schedIn(berlin, weekly("sun", "01:00", "05:00")), []insideCase{
			{"2026-10-25T01:00:00+02:00", true, ""},
			{"2026-10-25T02:30:00+01:00", true, ""},
			{"2026-10-25T04:59:59+01:00", true, ""},
			{"2026-10-25T05:00:00+01:00", false, ""},
		}},
		// New York 2026-03-08: 02:00 EST jumps to 03:00 EDT.
		{"New York spring: start in the gap", schedIn(newYork, weekly("sun", "02:30", "05:00")), []insideCase{
			{"2026-03-08T01:59:59-05:00", false, ""},
			{"2026-03-08T03:00:00-04:00", true, "inside window sun 02:30-05:00 (America/New_York, Sun 03:00 EDT)"},
		}},
		{"New York spring: end in the gap", schedIn(newYork, weekly("sat", "20:00", "02:15")), []insideCase{
			{"2026-03-08T01:59:59-05:00", true, ""},
			{"2026-03-08T03:00:00-04:00", false, ""},
		}},
		// New York 2026-11-01: 02:00 EDT goes back to 01:00 EST.
		{"New York fall: start in the repeated hour", schedIn(newYork, weekly("sun", "01:30", "03:00")), []insideCase{
			{"2026-11-01T01:29:59-04:00", false, ""},
			{"2026-11-01T01:30:00-04:00", true, ""},
			{"2026-11-01T01:10:00-05:00", true, "inside window sun 01:30-03:00 (America/New_York, Sun 01:10 EST)"},
			{"2026-11-01T02:59:59-05:00", true, ""},
			{"2026-11-01T03:00:00-05:00", false, ""},
		}},
		{"New York fall: end in the repeated hour", schedIn(newYork, weekly("sat", "22:00", "01:30")), []insideCase{
			{"2026-11-01T01:29:59-04:00", true, ""},
			{"2026-11-01T01:30:00-04:00", false, ""},
			{"2026-11-01T01:10:00-05:00", false, ""},
		}},
		// Goose Bay 2009-11-01: at 00:01 ADT (Sunday) the clocks went back
		// to 23:01 AST on Saturday, so Sunday began before Saturday ended.
		{"Goose Bay: clocks back across midnight", schedIn("America/Goose_Bay", weekly("sun", "00:00", "01:00")), []insideCase{
			{"2009-10-31T23:59:59-03:00", false, ""},
			{"2009-11-01T00:00:00-03:00", true, ""},
			{"2009-10-31T23:30:00-04:00", true, "inside window sun 00:00-01:00 (America/Goose_Bay, Sat 23:30 AST)"},
			{"2009-11-01T00:59:59-04:00", true, ""},
			{"2009-11-01T01:00:00-04:00", false, ""},
		}},
		{"Goose Bay: Saturday ends at its first midnight", schedIn("America/Goose_Bay", weekly("sat", "20:00", "24:00")), []insideCase{
			{"2009-10-31T23:59:59-03:00", true, ""},
			{"2009-10-31T23:30:00-04:00", false, "outside all windows (America/Goose_Bay, Sat 23:30 AST)"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { runInside(t, tt.s, tt.cases) })
	}
}

// firstAtLeast returns the first instant at which the clocks of loc show
// wall (a date and time read as if UTC) or later: a definition of the DST
// rules that is independent of the implementation.
func firstAtLeast(loc *time.Location, wall time.Time) time.Time {
	for u := wall.Add(-16 * time.Hour); ; u = u.Add(time.Minute) {
		l := u.In(loc)
		shown := time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), 0, 0, time.UTC)
		if !shown.Before(wall) {
			return u
		}
	}
}

// TestScheduleSweep compares Inside with a brute-force reference, minute
// boundary by minute boundary, for a week around each change day, so that
// both the plain and the change-day evaluation are covered.
func TestScheduleSweep(t *testing.T) {
	days := map[string]time.Weekday{"sun": time.Sunday, "sat": time.Saturday, "": -1}
	windows := []gate.Window{
		weekly("sun", "02:00", "03:00"), weekly("sun", "02:30", "04:00"), weekly("sat", "22:00", "02:30"),
		weekly("", "01:00", "02:00"), weekly("", "01:30", "01:30"), weekly("", "03:00", "02:00"),
		weekly("sun", "00:00", "24:00"), weekly("sat", "23:00", "01:15"), weekly("sun", "00:00", "01:00"),
	}
	changes := []struct{ zone, day string }{
		{"Europe/Berlin", "2026-03-29"}, {"Europe/Berlin", "2026-10-25"},
		{"America/New_York", "2026-03-08"}, {"America/New_York", "2026-11-01"},
		{"America/Goose_Bay", "2009-11-01"}, // back from 00:01 to 23:01 the day before
	}
	for _, ch := range changes {
		loc, err := time.LoadLocation(ch.zone)
		if err != nil {
			t.Fatal(err)
		}
		change, _ := time.Parse(time.DateOnly, ch.day)
		for _, w := range windows {
			name := fmt.Sprintf("%s %s %v %s-%s", ch.zone, ch.day, w.Days, w.From, w.To)
			t.Run(name, func(t *testing.T) {
				s := schedIn(ch.zone, w)
				type span struct{ from, to time.Time }
				var spans []span
				var wd time.Weekday = -1
				if len(w.Days) > 0 {
					wd = days[w.Days[0]]
				}
				from, _ := time.Parse("15:04", w.From)
				to := 24 * time.Hour
				if w.To != "24:00" {
					tt, _ := time.Parse("15:04", w.To)
					to = time.Duration(tt.Hour())*time.Hour + time.Duration(tt.Minute())*time.Minute
				}
				fromD := time.Duration(from.Hour())*time.Hour + time.Duration(from.Minute())*time.Minute
				if to <= fromD {
					to += 24 * time.Hour
				}
				for d := -8; d <= 8; d++ {
					day := change.AddDate(0, 0, d)
					if wd >= 0 && day.Weekday() != wd {
						continue
					}
					spans = append(spans, span{firstAtLeast(loc, day.Add(fromD)), firstAtLeast(loc, day.Add(to))})
				}
				start := change.Add(-7 * 24 * time.Hour)
				for u := start; u.Before(change.Add(7 * 24 * time.Hour)); u = u.Add(5 * time.Minute) {
					for _, tm := range []time.Time{u, u.Add(-time.Second)} {
						want := 0 // reference spans that contain tm
						for _, sp := range spans {
							if !tm.Before(sp.from) && tm.Before(sp.to) {
								want++
							}
						}
						got, why, err := s.Inside(tm)
						if err != nil {
							t.Fatal(err)
						}
						if got != (want > 0) {
							t.Fatalf("Inside(%s) = %v (%s), reference says %v", tm.In(loc).Format(time.RFC3339), got, why, want > 0)
						}
					}
				}
			})
		}
	}
}

func TestScheduleClosures(t *testing.T) {
	// Every day is inside the windows, so only closures make it outside.
	withClosures := func(zone string, cs ...gate.Closure) *gate.Schedule {
		s := schedIn(zone, weekly("", "00:00", "24:00"))
		s.Closures = cs
		return s
	}
	tests := []struct {
		name  string
		s     *gate.Schedule
		cases []insideCase
	}{
		{"single day", withClosures("Europe/Berlin", gate.Closure{Name: "Labour Day", Date: "2026-05-01"}), []insideCase{
			{"2026-04-30T23:59:59+02:00", true, ""},
			{"2026-05-01T00:00:00+02:00", false, `closure "Labour Day" (Europe/Berlin, Fri 00:00 CEST)`},
			{"2026-05-01T23:59:59+02:00", false, ""},
			{"2026-05-02T00:00:00+02:00", true, ""},
			{"2027-05-01T12:00:00+02:00", true, ""}, // not yearly
		}},
		{"unnamed closure", withClosures("Europe/Berlin", gate.Closure{Date: "2026-05-01"}), []insideCase{
			{"2026-05-01T12:00:00+02:00", false, "closure 2026-05-01 (Europe/Berlin, Fri 12:00 CEST)"},
		}},
		{"range", withClosures("Europe/Berlin", gate.Closure{Date: "2026-08-03", Until: "2026-08-14"}), []insideCase{
			{"2026-08-02T23:59:59+02:00", true, ""},
			{"2026-08-03T00:00:00+02:00", false, "closure 2026-08-03..2026-08-14 (Europe/Berlin, Mon 00:00 CEST)"},
			{"2026-08-09T12:00:00+02:00", false, ""},
			{"2026-08-14T23:59:59+02:00", false, ""},
			{"2026-08-15T00:00:00+02:00", true, ""},
		}},
		{"yearly", withClosures("Europe/Berlin", gate.Closure{Name: "Christmas", Date: "12-25", Yearly: true}), []insideCase{
			{"2026-12-25T12:00:00+01:00", false, ""},
			{"2031-12-25T12:00:00+01:00", false, ""},
			{"2026-12-26T00:00:00+01:00", true, ""},
			{"2026-12-24T23:59:59+01:00", true, ""},
		}},
		{"yearly range", withClosures("Europe/Berlin", gate.Closure{Date: "12-24", Until: "12-26", Yearly: true}), []insideCase{
			{"2026-12-23T23:59:59+01:00", true, ""},
			{"2026-12-24T00:00:00+01:00", false, "closure yearly 12-24..12-26 (Europe/Berlin, Thu 00:00 CET)"},
			{"2028-12-26T23:59:59+01:00", false, ""},
			{"2028-12-27T00:00:00+01:00", true, ""},
		}},
		{"yearly range across the new year", withClosures("Europe/Berlin", gate.Closure{Date: "12-31", Until: "01-01", Yearly: true}), []insideCase{
			{"2026-12-30T23:59:59+01:00", true, ""},
			{"2026-12-31T10:00:00+01:00", false, ""},
			{"2027-01-01T10:00:00+01:00", false, ""},
			{"2027-01-02T00:00:00+01:00", true, ""},
			{"2027-06-15T12:00:00+02:00", true, ""},
		}},
		{"yearly 29 February", withClosures("UTC", gate.Closure{Date: "02-29", Yearly: true}), []insideCase{
			{"2028-02-29T12:00:00Z", false, ""},
			{"2027-03-01T12:00:00Z", true, ""},
		}},
		{"partial day from", withClosures("Europe/Berlin", gate.Closure{Name: "Christmas Eve", Date: "12-24", Yearly: true, From: "12:00"}), []insideCase{
			{"2026-12-24T11:59:59+01:00", true, ""},
			{"2026-12-24T12:00:00+01:00", false, `closure "Christmas Eve" from 12:00 (Europe/Berlin, Thu 12:00 CET)`},
			{"2026-12-24T23:59:59+01:00", false, ""},
			{"2026-12-25T00:00:00+01:00", true, ""},
		}},
		{"partial day to", withClosures("UTC", gate.Closure{Date: "2026-06-01", To: "10:00"}), []insideCase{
			{"2026-06-01T00:00:00Z", false, "closure 2026-06-01 to 10:00 (UTC, Mon 00:00 UTC)"},
			{"2026-06-01T09:59:59Z", false, ""},
			{"2026-06-01T10:00:00Z", true, ""},
		}},
		{"partial day across midnight", withClosures("Europe/Berlin", gate.Closure{Date: "12-31", Yearly: true, From: "18:00", To: "02:00"}), []insideCase{
			{"2026-12-31T17:59:59+01:00", true, ""},
			{"2026-12-31T18:00:00+01:00", false, ""},
			{"2027-01-01T01:59:59+01:00", false, ""},
			{"2027-01-01T02:00:00+01:00", true, ""},
		}},
		{"partial range applies to each day", withClosures("UTC", gate.Closure{Date: "2026-07-01", Until: "2026-07-03", From: "13:00", To: "14:00"}), []insideCase{
			{"2026-07-02T12:59:59Z", true, ""},
			{"2026-07-02T13:30:00Z", false, ""},
			{"2026-07-03T13:30:00Z", false, ""},
			{"2026-07-04T13:30:00Z", true, ""},
		}},
		{"closure on a spring-forward day is 23 hours", withClosures("Europe/Berlin", gate.Closure{Date: "2026-03-29"}), []insideCase{
			{"2026-03-28T23:59:59+01:00", true, ""},
			{"2026-03-29T00:00:00+01:00", false, ""},
			{"2026-03-29T23:59:59+02:00", false, ""},
			{"2026-03-30T00:00:00+02:00", true, ""},
		}},
		{"closure from a time in the repeated hour", withClosures("Europe/Berlin", gate.Closure{Date: "2026-10-25", From: "02:30"}), []insideCase{
			{"2026-10-25T02:29:59+02:00", true, ""},
			{"2026-10-25T02:30:00+02:00", false, ""},
			{"2026-10-25T02:10:00+01:00", false, ""}, // after the first 02:30
		}},
		{"closure beats a window", withClosures("UTC", gate.Closure{Name: "a", Date: "2026-01-05"}, gate.Closure{Name: "b", Date: "2026-01-05"}), []insideCase{
			{"2026-01-05T12:00:00Z", false, `closure "a" (UTC, Mon 12:00 UTC)`},
			{"2026-01-06T12:00:00Z", true, "inside window daily 00:00-24:00 (UTC, Tue 12:00 UTC)"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { runInside(t, tt.s, tt.cases) })
	}
}

func TestScheduleActiveAt(t *testing.T) {
	office := func(active string) *gate.Schedule {
		s := schedIn("Europe/Berlin", weekly("mon-fri", "08:00", "18:00"))
		s.Active = active
		s.Closures = []gate.Closure{{Name: "New Year", Date: "01-01", Yearly: true}}
		return s
	}
	const (
		working = "2026-01-13T09:15:00+01:00"
		night   = "2026-01-13T22:00:00+01:00"
		holiday = "2026-01-01T09:15:00+01:00" // a Thursday
	)
	tests := []struct {
		active string
		t      string
		want   bool
	}{
		{gate.Outside, working, false},
		{gate.Outside, night, true},
		{gate.Outside, holiday, true},
		{gate.Inside, working, true},
		{gate.Inside, night, false},
		{gate.Inside, holiday, false},
		{"", night, true}, // empty behaves as outside, as Normalize fills it
	}
	for _, tt := range tests {
		t.Run(tt.active+" "+tt.t, func(t *testing.T) {
			s := office(tt.active)
			got, why, err := s.ActiveAt(instant(t, tt.t))
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("ActiveAt = %v (%s), want %v", got, why, tt.want)
			}
			in, _, _ := s.Inside(instant(t, tt.t))
			if got == in && tt.active != gate.Inside {
				t.Errorf("active %q: ActiveAt = Inside = %v, want the opposite", tt.active, got)
			}
		})
	}
}

func TestScheduleErrors(t *testing.T) {
	tests := []struct {
		name  string
		s     *gate.Schedule
		field string // "" = no ValidationError expected
	}{
		{"unknown time zone", schedIn("Mars/Olympus_Mons", weekly("mon", "08:00", "18:00")), "time_zone"},
		{"empty time zone", schedIn("", weekly("mon", "08:00", "18:00")), "time_zone"},
		{"machine-local zone", schedIn("Local"), "time_zone"},
		{"bad end", schedIn("UTC", weekly("mon", "08:00", "18:00"), weekly("tue", "08:00", "25:00")), "windows[1].to"},
		{"24:00 as start", schedIn("UTC", weekly("mon", "24:00", "18:00")), "windows[0].from"},
		{"bad day", schedIn("UTC", weekly("mon funday", "08:00", "18:00")), "windows[0].days[1]"},
		{"bad closure date", &gate.Schedule{TimeZone: "UTC", Closures: []gate.Closure{{Date: "2026-02-30"}}}, "closures[0].date"},
		{"year-less date without yearly", &gate.Schedule{TimeZone: "UTC", Closures: []gate.Closure{{Date: "12-24"}}}, "closures[0].date"},
		{"until before date", &gate.Schedule{TimeZone: "UTC", Closures: []gate.Closure{{Date: "2026-05-02", Until: "2026-05-01"}}}, "closures[0].until"},
		{"nil schedule", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A bad part fails evaluation at any time, not only when it applies.
			for _, when := range []string{"2026-01-12T09:00:00Z", "2026-01-17T03:00:00Z"} {
				_, _, err := tt.s.ActiveAt(instant(t, when))
				if !errors.Is(err, gate.ErrInvalid) {
					t.Fatalf("ActiveAt(%s) error = %v, want one matching ErrInvalid", when, err)
				}
				var ve *gate.ValidationError
				if tt.field != "" && (!errors.As(err, &ve) || ve.Field != tt.field) {
					t.Errorf("error = %v, want field %q", err, tt.field)
				}
			}
		})
	}
}

// TestScheduleChanges checks that evaluation follows a schedule changed in
// place or copied and changed, although parsed schedules are cached.
func TestScheduleChanges(t *testing.T) {
	const tue0930 = "2026-01-13T09:30:00Z"
	tests := []struct {
		name   string
		change func(s *gate.Schedule)
		want   bool
	}{
		{"unchanged", func(s *gate.Schedule) {}, true},
		{"end changed", func(s *gate.Schedule) { s.Windows[0].To = "09:00" }, false},
		{"day changed in place", func(s *gate.Schedule) { s.Windows[0].Days[0] = "sat" }, false},
		{"zone changed", func(s *gate.Schedule) { s.TimeZone = "America/New_York" }, false},
		{"closure added", func(s *gate.Schedule) { s.Closures = append(s.Closures, gate.Closure{Date: "2026-01-13"}) }, false},
		{"closure made yearly", func(s *gate.Schedule) { s.Closures[0].Yearly = true }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := schedIn("UTC", weekly("mon-fri", "08:00", "18:00"))
			s.Closures = []gate.Closure{{Date: "2025-01-13"}}
			if in, why, err := s.Inside(instant(t, tue0930)); err != nil || !in {
				t.Fatalf("before the change: Inside = %v, %q, %v", in, why, err)
			}
			c := *s
			tt.change(s)
			if in, why, err := s.Inside(instant(t, tue0930)); err != nil || in != tt.want {
				t.Errorf("after the change: Inside = %v (%s, %v), want %v", in, why, err, tt.want)
			}
			c.Windows = []gate.Window{weekly("sun", "08:00", "18:00")}
			if in, _, _ := c.Inside(instant(t, tue0930)); in {
				t.Errorf("a changed copy is still inside")
			}
		})
	}
}

// TestScheduleReasonsDiffer evaluates schedules that differ only in names
// alternately: each reason must name its own closure.
func TestScheduleReasonsDiffer(t *testing.T) {
	names := []string{"Staff party", "Inventory", "Move"}
	when := instant(t, "2026-06-05T10:00:00Z")
	for round := range 3 {
		for _, n := range names {
			t.Run(fmt.Sprintf("%d %s", round, n), func(t *testing.T) {
				s := schedIn("UTC", weekly("", "00:00", "24:00"))
				s.Closures = []gate.Closure{{Name: n, Date: "2026-06-05"}}
				_, why, err := s.Inside(when)
				if err != nil {
					t.Fatal(err)
				}
				if want := fmt.Sprintf("closure %q (UTC, Fri 10:00 UTC)", n); why != want {
					t.Errorf("reason = %q, want %q", why, want)
				}
			})
		}
	}
}

// TestScheduleConcurrent runs evaluations of many schedules at once; run
// with -race.
func TestScheduleConcurrent(t *testing.T) {
	const workers, schedules = 8, 40
	shared := schedIn("Europe/Berlin", weekly("mon-fri", "08:00", "18:00"))
	sharedAt := instant(t, "2026-01-13T09:15:00+01:00")
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := range 200 {
				own := schedIn("UTC", weekly("", fmt.Sprintf("%02d:00", (w+i)%schedules%24), "23:59"))
				when := time.Date(2026, 1, 13, 23, 30, 0, 0, time.UTC)
				if in, why, err := own.Inside(when); err != nil || !in {
					errs <- fmt.Errorf("worker %d: Inside = %v, %q, %v", w, in, why, err)
					return
				}
				if in, _, err := shared.Inside(sharedAt); err != nil || !in {
					errs <- fmt.Errorf("worker %d: shared schedule: %v, %v", w, in, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestOverrideInEffect(t *testing.T) {
	now := instant(t, "2026-01-12T09:00:00Z")
	tests := []struct {
		name string
		o    *gate.Override
		t    time.Time
		want bool
	}{
		{"nil", nil, now, false},
		{"no expiry", &gate.Override{Active: true}, now, true},
		{"no expiry, inactive override", &gate.Override{Active: false}, now, true},
		{"before expiry", &gate.Override{Active: true, Until: now.Add(time.Hour)}, now, true},
		{"at expiry", &gate.Override{Active: true, Until: now}, now, false},
		{"after expiry", &gate.Override{Active: true, Until: now.Add(-time.Nanosecond)}, now, false},
		{"expiry in another zone", &gate.Override{Until: instant(t, "2026-01-12T10:00:01+01:00")}, now, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.o.InEffect(tt.t); got != tt.want {
				t.Errorf("InEffect(%s) = %v, want %v", tt.t, got, tt.want)
			}
		})
	}
}

// BenchmarkActiveAt measures the evaluation of a compiled schedule (as the
// Engine holds it for a gate) with three windows and nine closures.
func BenchmarkActiveAt(b *testing.B) {
	s := schedIn("Europe/Berlin", weekly("mon-thu", "08:00", "17:00"), weekly("fri", "08:00", "14:00"), weekly("sat", "09:00", "12:00"))
	for _, d := range []string{"01-01", "05-01", "10-03", "12-25", "12-26"} {
		s.Closures = append(s.Closures, gate.Closure{Date: d, Yearly: true})
	}
	s.Closures = append(s.Closures, gate.Closure{Name: "Christmas Eve", Date: "12-24", Yearly: true, From: "12:00"},
		gate.Closure{Date: "2026-04-03", Until: "2026-04-06"}, gate.Closure{Date: "2026-05-14"}, gate.Closure{Date: "2026-05-25"})
	for _, bc := range []struct{ name, t string }{
		{"plain day", "2026-01-13T09:15:00+01:00"},
		{"change day", "2026-10-25T02:15:00+01:00"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			t := instant(b, bc.t)
			activeAt, err := gate.CompileSchedule(s)
			if err != nil {
				b.Fatal(err)
			}
			want, _, _ := s.ActiveAt(t)
			for b.Loop() {
				if got, _ := activeAt(t); got != want {
					b.Fatal("compiled and parsed schedule disagree")
				}
			}
		})
	}
}

// TestEngineCompilesScheduleOnce checks that the Engine compiles a gate's
// schedule when it prepares the gate, keeps it across calls, compiles it
// again when the schedule changes, and reports a schedule that does not
// compile through the failure policy of every call.
func TestEngineCompilesScheduleOnce(t *testing.T) {
	h := mustHasher(t)
	ctx := context.Background()
	st := gatetest.NewStore()
	g := staticGate(h, "4711")
	s := schedIn("Europe/Berlin", weekly("mon-fri", "08:00", "17:00"))
	s.Active = gate.Inside
	g.Activation = gate.Activation{Mode: gate.ActiveSchedule, Schedule: s}
	if err := st.CreateGate(ctx, g); err != nil {
		t.Fatal(err)
	}
	e := gate.NewEngine(gate.EngineConfig{Store: st, Hasher: h, Region: "DE"})
	call := gate.CallInfo{Caller: "+4917612345678", Called: "1000"}
	tue1800 := instant(t, "2026-01-13T18:00:00+01:00")
	if d := e.Decide(ctx, call, tue1800); d.Active {
		t.Fatalf("active at 18:00 outside mon-fri 08:00-17:00; trace %v", d.Trace)
	}
	first := gate.PreparedSchedule(e, g.ID)
	if first == nil {
		t.Fatal("schedule not compiled when the gate was prepared")
	}
	e.Decide(ctx, call, tue1800)
	if gate.PreparedSchedule(e, g.ID) != first {
		t.Fatal("schedule compiled again although it did not change")
	}
	g.Activation.Schedule.Windows[0].To = "19:00"
	if err := st.UpdateGate(ctx, g); err != nil {
		t.Fatal(err)
	}
	if d := e.Decide(ctx, call, tue1800); !d.Active {
		t.Fatalf("changed window not used; trace %v", d.Trace)
	}
	if gate.PreparedSchedule(e, g.ID) == first {
		t.Fatal("changed schedule not compiled again")
	}
	g.Activation.Schedule.Active = gate.Outside
	if err := st.UpdateGate(ctx, g); err != nil {
		t.Fatal(err)
	}
	if d := e.Decide(ctx, call, tue1800); d.Active {
		t.Fatalf("changed active side not used; trace %v", d.Trace)
	}
	// A schedule that does not compile (stored before a zone was
	// removed from the tz database, say) fails each call by the policy.
	g.Activation.Schedule.TimeZone = "Mars/Olympus_Mons"
	if err := st.UpdateGate(ctx, g); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		d := e.Decide(ctx, call, tue1800)
		if d.Err == nil || !strings.Contains(d.Err.Error(), "Mars/Olympus_Mons") || d.Verdict != gate.VerdictReject {
			t.Fatalf("bad zone: verdict %s, err %v; want the failure policy (reject) naming the zone", d.Verdict, d.Err)
		}
	}
}
