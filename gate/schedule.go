package gate

import "time"

// Schedule says when a gate in schedule mode is active: inside or outside
// weekly windows, with closure dates on which the gate behaves as outside
// the windows (outside business hours).
//
// All times are wall-clock times in TimeZone. See Schedule.Inside for how
// times that do not exist or happen twice on DST change days are treated.
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
}

// Schedule.Active values.
const (
	Inside  = "inside"
	Outside = "outside"
)

// Window is a weekly time window. From and To are "HH:MM" (To may be
// "24:00"). When To is not after From the window crosses midnight and ends
// on the next day.
type Window struct {
	// Days are "mon".."sun" (also "mon-fri" ranges); the window starts on
	// these days.
	Days []string `json:"days"`
	From string   `json:"from"`
	To   string   `json:"to"`
}

// Closure is a closure date or range. Date (or the range Date..Until) is
// "YYYY-MM-DD", or "MM-DD" with Yearly for dates that recur every year.
// From/To ("HH:MM") restrict it to part of each day (a partial closure,
// e.g. from 12:00 on 24 December).
type Closure struct {
	Name   string `json:"name,omitempty"`
	Date   string `json:"date"`
	Until  string `json:"until,omitempty"`
	Yearly bool   `json:"yearly,omitempty"`
	From   string `json:"from,omitempty"`
	To     string `json:"to,omitempty"`
}

// Inside reports whether t falls inside the schedule's windows and not on
// a closure, with a human-readable reason for the trace.
func (s *Schedule) Inside(t time.Time) (bool, string, error) {
	return s.inside(t)
}

// ActiveAt reports whether the schedule makes the gate active at t.
func (s *Schedule) ActiveAt(t time.Time) (bool, string, error) {
	in, why, err := s.Inside(t)
	if err != nil {
		return false, why, err
	}
	if s.Active == Inside {
		return in, why, nil
	}
	return !in, why, nil
}
