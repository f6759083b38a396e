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
// considered. It fails for a gate not in schedule mode, an invalid
// schedule, or a schedule that does not change within 400 days.
func (g *Gate) NextChange(from time.Time) (time.Time, error) {
	if g.Activation.Mode != ActiveSchedule || g.Activation.Schedule == nil {
		return time.Time{}, fmt.Errorf("the gate is in activation mode %q and never changes by itself; only a schedule does", g.Activation.Mode)
	}
	cs, err := compileSchedule(g.Activation.Schedule)
	if err != nil {
		return time.Time{}, fmt.Errorf("schedule: %w", err)
	}
	return cs.nextChange(from)
}

// nextChange finds the first instant after from whose state differs from
// the state at from. The state can change only at a boundary: a minute of
// the day at which a window, closure or holiday starts or ends (holidays
// and whole-day closures at midnight), resolved to an instant by the same
// rule as evaluation. Those minutes are tried on each day in turn.
func (cs *compiledSchedule) nextChange(from time.Time) (time.Time, error) {
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

	now, _ := cs.activeAt(from)
	start := daysFromCivil(civil(from.In(cs.loc)))
	for day := start; day <= start+nextChangeHorizon; day++ {
		for _, m := range minutes {
			t := time.Unix(resolveWall(cs.loc, day*86400+int64(m)*60), 0)
			if !t.After(from) {
				continue
			}
			if active, _ := cs.activeAt(t); active != now {
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
