package gate

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// nextChangeHorizon bounds the search for a schedule's next change.
const nextChangeHorizon = 400 // days

// NextChange returns the first instant after from at which g's activation
// changes by itself: a window opens or closes, a closure or holiday begins
// or ends in a way that turns the gate on or off. The override is not
// considered, nor are the gate's iCalendar calendars (see
// NextChangeWith). It fails for a gate not in schedule mode, an invalid
// schedule, or a schedule that does not change within 400 days.
func (g *Gate) NextChange(from time.Time) (time.Time, error) {
	return g.NextChangeWith(from, nil)
}

// NextChangeWith is NextChange with the events of g's iCalendar calendars
// as cal gives them (nil: none): the state at each instant is judged by
// the rule a call's decision uses (windows, closures, holidays, then
// calendar events), and an event's start and end are instants at which
// it may change. Engine.NextChange passes the Engine's calendars.
func (g *Gate) NextChangeWith(from time.Time, cal CalendarEvents) (time.Time, error) {
	if g.Activation.Mode != ActiveSchedule || g.Activation.Schedule == nil {
		return time.Time{}, fmt.Errorf("the gate is in activation mode %q and never changes by itself; only a schedule does", g.Activation.Mode)
	}
	p := prepare(g, "")
	if p.schedErr != nil {
		return time.Time{}, fmt.Errorf("schedule: %w", p.schedErr)
	}
	var events []time.Time
	if cal != nil {
		until := from.AddDate(0, 0, nextChangeHorizon+1)
		for _, src := range g.Activation.Schedule.Calendars {
			evs, _, ok := cal.Events(g.ID, src)
			if !ok {
				continue
			}
			for _, e := range evs {
				for _, t := range []time.Time{e.Start, e.End} {
					if t.After(from) && t.Before(until) {
						events = append(events, t)
					}
				}
			}
		}
		slices.SortFunc(events, func(a, b time.Time) int { return a.Compare(b) })
	}
	state := func(t time.Time) bool {
		active, _, _, _ := p.activeAt(t, func() (*closureHit, []string) {
			if cal == nil {
				return nil, nil
			}
			return calendarHit(cal, g, t)
		})
		return active
	}
	return p.sched.nextChange(from, state, events)
}

// nextChange finds the first instant after from whose state (by state)
// differs from the state at from. The state can change only at a
// boundary: a minute of the day at which a window, closure or holiday
// starts or ends (holidays and whole-day closures at midnight), resolved
// to an instant by the same rule as evaluation, or one of extra (sorted;
// calendar events' starts and ends). Those instants are tried in turn.
func (cs *compiledSchedule) nextChange(from time.Time, state func(time.Time) bool, extra []time.Time) (time.Time, error) {
	minutes := []int{0}
	add := func(m int) { minutes = append(minutes, m%1440) }
	for _, w := range cs.windows {
		add(w.start)
		add(w.end)
	}
	for _, c := range cs.closures {
		add(c.start)
		add(c.end)
	}
	slices.Sort(minutes)
	minutes = slices.Compact(minutes)

	now := state(from)
	start := daysFromCivil(civil(from.In(cs.loc)))
	for day := start; day <= start+nextChangeHorizon; day++ {
		for _, m := range minutes {
			t := time.Unix(resolveWall(cs.loc, day*86400+int64(m)*60), 0)
			if !t.After(from) {
				continue
			}
			for len(extra) > 0 && extra[0].Before(t) {
				if state(extra[0]) != now {
					return extra[0].In(cs.loc), nil
				}
				extra = extra[1:]
			}
			if state(t) != now {
				return t.In(cs.loc), nil
			}
		}
	}
	return time.Time{}, errors.New("the schedule does not change within 400 days")
}

func civil(t time.Time) (int64, int, int) {
	y, m, d := t.Date()
	return int64(y), int(m), d
}

// NextChange is g.NextChangeWith with the Engine's calendars: the same
// closure sources (windows, closures, holidays and iCalendar events) a
// call's decision reads. An override "until the schedule's next change"
// is set with it.
func (e *Engine) NextChange(g *Gate, from time.Time) (time.Time, error) {
	return g.NextChangeWith(from, e.cfg.Calendars)
}
