package gate

import (
	"fmt"
	"strings"
	"time"
)

// ParseTime reads a time as vipgate's files, flags and API requests take
// it, the one rule for all of them:
//
//   - RFC 3339 with an offset ("2026-12-24T19:00:00+01:00", "…Z") is that
//     instant;
//   - a date and time without an offset ("2026-12-24T19:00",
//     "2026-12-24 19:00", seconds optional) is wall-clock time in loc;
//   - a date alone ("2026-12-24") is the start of that day in loc, or with
//     endOfDay the start of the next day (the end of an inclusive range:
//     valid_until 2026-12-31 includes the 31st).
//
// A wall time that does not exist in loc (the clocks jump forward) or
// happens twice (they go back) is resolved as the schedule resolves its
// boundaries (see Schedule): to the instant the clocks jump to, or to the
// first occurrence. note then says so ("02:30 does not exist in
// Europe/Berlin on 2027-03-28; read as 03:00 CEST"); it is "" otherwise.
// A nil loc is UTC.
func ParseTime(s string, loc *time.Location, endOfDay bool) (t time.Time, note string, err error) {
	s = strings.TrimSpace(s)
	if loc == nil {
		loc = time.UTC
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, "", nil
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02 15:04:05", time.DateOnly} {
		w, err := time.Parse(layout, s) // the wall time, read as if UTC
		if err != nil {
			continue
		}
		if layout == time.DateOnly && endOfDay {
			w = w.AddDate(0, 0, 1)
		}
		t, note := resolveLocal(loc, w)
		return t, note, nil
	}
	return time.Time{}, "", fmt.Errorf("%q is not a time: use RFC 3339 (2026-12-24T19:00:00+01:00), a local time (2026-12-24T19:00) or a date (2026-12-24)", s)
}

// resolveLocal returns the instant at which loc's clocks show wall (a wall
// date and time in UTC fields), by resolveWall's rule, and a note when wall
// does not exist or happens twice.
func resolveLocal(loc *time.Location, wall time.Time) (time.Time, string) {
	w := wall.Unix()
	t := time.Unix(resolveWall(loc, w), 0).In(loc)
	shown := wall.Format("15:04")
	if wall.Second() != 0 {
		shown = wall.Format("15:04:05")
	}
	day := wall.Format(time.DateOnly)
	if !sameWall(t, wall) {
		return t, fmt.Sprintf("%s does not exist in %s on %s; read as %s", shown, loc, day, t.Format("15:04 MST"))
	}
	// The same wall time in the next zone period means it happens twice.
	if _, end := t.ZoneBounds(); !end.IsZero() {
		_, off := end.In(loc).Zone()
		if second := time.Unix(w-int64(off), 0).In(loc); !second.Before(end) && sameWall(second, wall) {
			return t, fmt.Sprintf("%s happens twice in %s on %s; read as the first, %s", shown, loc, day, t.Format("15:04 MST"))
		}
	}
	return t, ""
}

func sameWall(t, wall time.Time) bool {
	y, m, d := t.Date()
	wy, wm, wd := wall.Date()
	return y == wy && m == wm && d == wd && t.Hour() == wall.Hour() && t.Minute() == wall.Minute() && t.Second() == wall.Second()
}

// Location returns the zone a time without an offset is read in for g: its
// schedule's time zone, else (no schedule, or an unknown zone) the local
// zone of the vipgate process.
func (g *Gate) Location() *time.Location {
	if g != nil && g.Activation.Schedule != nil && g.Activation.Schedule.TimeZone != "" {
		if loc, err := loadZone(g.Activation.Schedule.TimeZone); err == nil {
			return loc
		}
	}
	return time.Local
}
