package gate

import (
	"strings"
	"time"
)

// Schedule says when a gate in schedule mode is active: inside or outside
// weekly windows, with closure dates on which the gate behaves as outside
// the windows (outside business hours).
//
// All times are wall-clock times in TimeZone. Every boundary (the start and
// end of a window or of a closure day) is turned into one instant before it
// is compared with the time of a call, so evaluation is exact across
// daylight-saving changes:
//
//   - A wall time that does not exist because the clocks jump forward
//     resolves to the instant the gap ends: on the Berlin spring-forward
//     day (2026-03-29) "02:30" is 03:00 CEST, so a window from 02:30 starts
//     at 03:00 and a window from 02:00 to 03:00 is empty that day.
//   - A wall time that happens twice because the clocks go back resolves to
//     its first occurrence: on the Berlin fall-back day (2026-10-25) "02:30"
//     is 02:30 CEST, so a window ending at 02:30 ends before the repeated
//     hour and one starting at 02:30 covers both 02:30 CEST and 02:30 CET.
//
// A window or closure day covers the instants from its start up to, but
// not including, its end. Windows belong to the day they start on; one
// whose To is not after its From ends on the next day.
type Schedule struct {
	// TimeZone is an IANA zone name ("Europe/Berlin"); required.
	TimeZone string `json:"time_zone"`
	// Windows are the weekly windows (business hours).
	Windows []Window `json:"windows"`
	// Active is "inside" (the gate is active during the windows) or
	// "outside" (active outside them: ask for the PIN after hours).
	Active string `json:"active"`
	// Closures are holidays and closure dates.
	Closures []Closure `json:"closures,omitempty"`
	// Holidays name public-holiday sets ("de", "de-by", "at", "ch-zh",
	// "us", "gb-eng"; HolidaySets lists them): each holiday of a set is a
	// closure of its whole day, computed for any year.
	Holidays []string `json:"holidays,omitempty"`
	// OnHoliday, when set, is what the holidays of Holidays do with a
	// call instead of behaving as outside business hours.
	OnHoliday *ClosureAction `json:"on_holiday,omitempty"`
	// Calendars are iCalendar calendars whose events close the gate for
	// their duration (see CalendarSource); checked after Closures and
	// Holidays.
	Calendars []CalendarSource `json:"calendars,omitempty"`
}

// Schedule.Active values.
const (
	Inside  = "inside"
	Outside = "outside"
)

// Window is a weekly time window. From and To are "HH:MM" (To may be
// "24:00"). When To is not after From the window crosses midnight and ends
// on the next day ("22:00"-"06:00"); From equal to To is a 24-hour window.
type Window struct {
	// Days are "mon".."sun" (full names such as "monday" too), ranges such
	// as "mon-fri" or "fri-mon", or comma lists ("mon,wed"); the window
	// starts on these days. No days means every day.
	Days []string `json:"days"`
	From string   `json:"from"`
	To   string   `json:"to"`
}

// Closure is a closure date or range. Date (or the range Date..Until) is
// "YYYY-MM-DD", or "MM-DD" with Yearly for dates that recur every year (a
// year given with Yearly is ignored); a yearly range may cross the new
// year ("12-31".."01-01"). From/To ("HH:MM",
// To may be "24:00") restrict it to part of each day it covers (a partial
// closure, e.g. from 12:00 on 24 December); From alone runs to the end of
// the day, To alone from its start, and To not after From ends on the next
// day.
type Closure struct {
	Name   string `json:"name,omitempty"`
	Date   string `json:"date"`
	Until  string `json:"until,omitempty"`
	Yearly bool   `json:"yearly,omitempty"`
	From   string `json:"from,omitempty"`
	To     string `json:"to,omitempty"`
	// ClosureAction, when set, replaces "behave as outside business
	// hours" on this closure.
	ClosureAction
}

// ClosureAction is what a closure does with a call instead of behaving
// as outside business hours: play Announce, then send the call to Route.
// Either may be left out: without Route the call is hung up with the
// gate's reject cause after the announcement; without Announce it goes to
// Route at once. A zero ClosureAction is no action.
type ClosureAction struct {
	// Announce is a sound name relative to Asterisk's sounds directory,
	// without extension ("custom/closed-christmas").
	Announce string `json:"announce,omitempty"`
	// Route is where the call goes: continue, an extension in the gate's
	// forward_context, context,exten,priority, or hangup:CAUSE.
	Route Target `json:"route,omitzero"`
}

func (a ClosureAction) set() bool { return a.Announce != "" || a.Route != (Target{}) }

// Inside reports whether t falls inside the schedule's windows and not on
// a closure, with a short human-readable reason for the explain trace. It
// fails with an error matching ErrInvalid when the schedule does not
// validate (an unknown time zone, a malformed window or closure).
//
// Inside is safe for concurrent use (as long as s is not being changed).
// It parses s on every call; the Engine parses a gate's schedule once, when
// it prepares the gate, and again only when the schedule changed.
func (s *Schedule) Inside(t time.Time) (bool, string, error) {
	return s.inside(t)
}

// ActiveAt reports whether the schedule makes the gate active at t: inside
// the windows when Active is "inside", outside them otherwise. The reason
// and error are those of Inside.
func (s *Schedule) ActiveAt(t time.Time) (bool, string, error) {
	in, why, err := s.Inside(t)
	if err != nil {
		return false, why, err
	}
	if strings.EqualFold(strings.TrimSpace(s.Active), Inside) {
		return in, why, nil
	}
	return !in, why, nil
}
