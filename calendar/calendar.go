// Package calendar reads iCalendar (RFC 5545) files, the exports of
// Google Calendar, Outlook and Nextcloud, into the intervals they cover
// over a time window: each VEVENT, with its recurrences (RRULE, RDATE,
// EXDATE and changed instances), becomes one interval per occurrence,
// named by its SUMMARY. The gate's schedule uses these intervals as
// closures; the iCal libraries stay in this package.
package calendar

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	ics "github.com/arran4/golang-ical"
	"github.com/teambition/rrule-go"
)

// Event is one occurrence of a calendar event: the instants from Start up
// to, but not including, End.
type Event struct {
	Summary string
	Start   time.Time
	End     time.Time
	AllDay  bool
}

// Result is what Parse read: the occurrences that overlap the window, in
// order of their start, and the events it had to skip, each with why.
type Result struct {
	Events  []Event
	Skipped []string
}

// MaxOccurrences bounds the occurrences one recurring event contributes,
// so that a rule such as FREQ=SECONDLY cannot exhaust memory.
const MaxOccurrences = 5000

// MaxEvents bounds the occurrences of a whole calendar.
const MaxEvents = 50000

// Parse reads an iCalendar body and returns the occurrences of its events
// that overlap [from, to). Times without a zone (floating times) and
// all-day dates are read in loc; a TZID names an IANA zone (or one of the
// Windows zone names Outlook writes). A body that is not an iCalendar
// stream is an error; an event that cannot be read is skipped and listed
// in Result.Skipped.
func Parse(body []byte, loc *time.Location, from, to time.Time) (res Result, err error) {
	defer func() {
		// The parsing libraries are not ours: a panic in them on
		// malformed input becomes an error, never a crash.
		if r := recover(); r != nil {
			res, err = Result{}, fmt.Errorf("calendar: malformed input (%v)", r)
		}
	}()
	if loc == nil {
		loc = time.UTC
	}
	if !bytes.Contains(body, []byte("BEGIN:VCALENDAR")) {
		return Result{}, errors.New("calendar: not an iCalendar file (no BEGIN:VCALENDAR)")
	}
	cal, err := ics.ParseCalendar(bytes.NewReader(body))
	if err != nil {
		return Result{}, fmt.Errorf("calendar: %w", err)
	}
	events := cal.Events()
	// Changed instances of a recurring event replace the occurrence
	// their RECURRENCE-ID names.
	changed := map[string][]time.Time{}
	for _, ev := range events {
		if rid := ev.GetProperty(ics.ComponentPropertyRecurrenceId); rid != nil {
			if t, _, err := readTime(&rid.BaseProperty, loc); err == nil {
				uid := propValue(&ev.ComponentBase, ics.ComponentPropertyUniqueId)
				changed[uid] = append(changed[uid], t)
			}
		}
	}
	for _, ev := range events {
		occ, err := expand(ev, loc, from, to, changed)
		if err != nil {
			res.Skipped = append(res.Skipped, fmt.Sprintf("event %q: %v", summary(ev), err))
			continue
		}
		res.Events = append(res.Events, occ...)
		if len(res.Events) > MaxEvents {
			return Result{}, fmt.Errorf("calendar: more than %d occurrences in the window", MaxEvents)
		}
	}
	slices.SortStableFunc(res.Events, func(a, b Event) int { return a.Start.Compare(b.Start) })
	return res, nil
}

func summary(ev *ics.VEvent) string {
	s := strings.TrimSpace(propValue(&ev.ComponentBase, ics.ComponentPropertySummary))
	if s == "" {
		s = "(no summary)"
	}
	return s
}

func propValue(cb *ics.ComponentBase, p ics.ComponentProperty) string {
	if pr := cb.GetProperty(p); pr != nil {
		return pr.Value
	}
	return ""
}

// expand returns the occurrences of ev that overlap [from, to).
func expand(ev *ics.VEvent, loc *time.Location, from, to time.Time, changed map[string][]time.Time) ([]Event, error) {
	cb := &ev.ComponentBase
	if strings.EqualFold(propValue(cb, ics.ComponentPropertyStatus), "CANCELLED") {
		return nil, nil
	}
	dtstart := cb.GetProperty(ics.ComponentPropertyDtStart)
	if dtstart == nil {
		return nil, errors.New("no DTSTART")
	}
	start, allDay, err := readTime(&dtstart.BaseProperty, loc)
	if err != nil {
		return nil, fmt.Errorf("DTSTART: %w", err)
	}
	// The length of each occurrence: whole days for all-day events (so
	// that a day stays a day across a DST change), a duration otherwise.
	days, dur := 0, time.Duration(0)
	switch end := cb.GetProperty(ics.ComponentPropertyDtEnd); {
	case end != nil:
		e, _, err := readTime(&end.BaseProperty, loc)
		if err != nil {
			return nil, fmt.Errorf("DTEND: %w", err)
		}
		if allDay {
			days = daysBetween(start, e)
		} else {
			dur = e.Sub(start)
		}
	case cb.GetProperty(ics.ComponentPropertyDuration) != nil:
		d, err := parseDuration(propValue(cb, ics.ComponentPropertyDuration))
		if err != nil {
			return nil, fmt.Errorf("DURATION: %w", err)
		}
		if allDay {
			days = int((d + 23*time.Hour) / (24 * time.Hour))
		} else {
			dur = d
		}
	case allDay:
		days = 1
	}
	if days < 0 || dur < 0 {
		return nil, errors.New("ends before it starts")
	}
	if allDay && days == 0 {
		days = 1
	}
	name := summary(ev)
	occurrence := func(s time.Time) Event {
		e := Event{Summary: name, Start: s, AllDay: allDay}
		if allDay {
			e.End = s.AddDate(0, 0, days)
		} else {
			e.End = s.Add(dur)
		}
		return e
	}
	overlaps := func(e Event) bool {
		return e.End.After(from) && e.Start.Before(to) && (e.End.After(e.Start))
	}

	rules := cb.GetProperties(ics.ComponentPropertyRrule)
	rdates := cb.GetProperties(ics.ComponentPropertyRdate)
	if len(rules) == 0 && len(rdates) == 0 {
		if e := occurrence(start); overlaps(e) {
			return []Event{e}, nil
		}
		return nil, nil
	}
	if cb.GetProperty(ics.ComponentPropertyRecurrenceId) != nil {
		// A changed instance that itself recurs is not something the
		// exports write; read it as the single occurrence it names.
		if e := occurrence(start); overlaps(e) {
			return []Event{e}, nil
		}
		return nil, nil
	}
	set := &rrule.Set{}
	set.DTStart(start)
	for _, r := range rules {
		opt, err := rrule.StrToROptionInLocation(r.Value, start.Location())
		if err != nil {
			return nil, fmt.Errorf("RRULE: %w", err)
		}
		opt.Dtstart = start
		rr, err := rrule.NewRRule(*opt)
		if err != nil {
			return nil, fmt.Errorf("RRULE: %w", err)
		}
		set.RRule(rr)
	}
	if len(rules) == 0 {
		set.RDate(start)
	}
	for _, p := range rdates {
		for _, v := range strings.Split(p.Value, ",") {
			bp := ics.BaseProperty{ICalParameters: p.ICalParameters, Value: v}
			t, _, err := readTime(&bp, start.Location())
			if err != nil {
				return nil, fmt.Errorf("RDATE: %w", err)
			}
			set.RDate(t)
		}
	}
	for _, p := range cb.GetProperties(ics.ComponentPropertyExdate) {
		for _, v := range strings.Split(p.Value, ",") {
			bp := ics.BaseProperty{ICalParameters: p.ICalParameters, Value: v}
			t, _, err := readTime(&bp, start.Location())
			if err != nil {
				return nil, fmt.Errorf("EXDATE: %w", err)
			}
			set.ExDate(t)
		}
	}
	for _, t := range changed[propValue(cb, ics.ComponentPropertyUniqueId)] {
		set.ExDate(t)
	}
	// Occurrences that start up to one occurrence length before the
	// window still overlap it.
	back := dur + time.Duration(days)*25*time.Hour
	var out []Event
	next := set.Iterator()
	for n := 0; ; n++ {
		s, ok := next()
		if !ok || !s.Before(to) {
			break
		}
		if n >= MaxOccurrences*20 {
			return nil, fmt.Errorf("RRULE: more than %d occurrences before the window ends", MaxOccurrences*20)
		}
		if s.Before(from.Add(-back)) {
			continue
		}
		if e := occurrence(s); overlaps(e) {
			out = append(out, e)
			if len(out) > MaxOccurrences {
				return nil, fmt.Errorf("RRULE: more than %d occurrences in the window", MaxOccurrences)
			}
		}
	}
	return out, nil
}

// daysBetween returns the number of calendar days from a to b (dates).
func daysBetween(a, b time.Time) int {
	ua := time.Date(a.Year(), a.Month(), a.Day(), 0, 0, 0, 0, time.UTC)
	ub := time.Date(b.Year(), b.Month(), b.Day(), 0, 0, 0, 0, time.UTC)
	return int(ub.Sub(ua).Hours() / 24)
}

// readTime reads a DATE or DATE-TIME property value: a date (VALUE=DATE,
// or eight digits) is midnight in loc and reported as all-day; a time
// ending in Z is UTC; one with TZID is in that zone; any other is
// floating, read in loc.
func readTime(p *ics.BaseProperty, loc *time.Location) (time.Time, bool, error) {
	v := strings.TrimSpace(p.Value)
	isDate := len(v) == 8
	if vals := p.ICalParameters["VALUE"]; len(vals) > 0 && strings.EqualFold(vals[0], "DATE") {
		isDate = true
	}
	if isDate {
		if len(v) < 8 {
			return time.Time{}, false, fmt.Errorf("malformed date %q", v)
		}
		t, err := time.ParseInLocation("20060102", v[:8], loc)
		if err != nil {
			return time.Time{}, false, fmt.Errorf("malformed date %q", v)
		}
		return t, true, nil
	}
	in := loc
	if ids := p.ICalParameters["TZID"]; len(ids) > 0 && !strings.HasSuffix(v, "Z") {
		z, err := zone(ids[0])
		if err != nil {
			return time.Time{}, false, err
		}
		in = z
	}
	if s, ok := strings.CutSuffix(v, "Z"); ok {
		t, err := time.ParseInLocation("20060102T150405", s, time.UTC)
		if err != nil {
			return time.Time{}, false, fmt.Errorf("malformed time %q", v)
		}
		return t, false, nil
	}
	t, err := time.ParseInLocation("20060102T150405", v, in)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("malformed time %q", v)
	}
	return t, false, nil
}

// windowsZones maps the Windows zone names Outlook writes as TZID to IANA
// zones (the common ones; Outlook also writes a VTIMEZONE under that name,
// whose rules are those of the IANA zone).
var windowsZones = map[string]string{
	"W. Europe Standard Time":        "Europe/Berlin",
	"Central Europe Standard Time":   "Europe/Budapest",
	"Romance Standard Time":          "Europe/Paris",
	"Central European Standard Time": "Europe/Warsaw",
	"GMT Standard Time":              "Europe/London",
	"Greenwich Standard Time":        "Atlantic/Reykjavik",
	"E. Europe Standard Time":        "Europe/Chisinau",
	"FLE Standard Time":              "Europe/Kiev",
	"GTB Standard Time":              "Europe/Bucharest",
	"Eastern Standard Time":          "America/New_York",
	"Central Standard Time":          "America/Chicago",
	"Mountain Standard Time":         "America/Denver",
	"Pacific Standard Time":          "America/Los_Angeles",
	"UTC":                            "UTC",
	"Coordinated Universal Time":     "UTC",
}

// zone resolves a TZID: an IANA name (also in the "/mozilla.org/…/Europe/Berlin"
// form some clients write) or a Windows zone name.
func zone(id string) (*time.Location, error) {
	id = strings.Trim(strings.TrimSpace(id), `"`)
	if id == "" {
		return nil, errors.New("empty TZID")
	}
	if iana, ok := windowsZones[id]; ok {
		id = iana
	}
	if strings.HasPrefix(id, "/") {
		// "/citadel.org/20190101_1/Europe/Berlin": the last two parts.
		parts := strings.Split(id, "/")
		if len(parts) >= 2 {
			id = strings.Join(parts[len(parts)-2:], "/")
		}
	}
	if strings.ContainsAny(id, "\\") || strings.Contains(id, "..") {
		return nil, fmt.Errorf("unknown TZID %q", id)
	}
	l, err := time.LoadLocation(id)
	if err != nil {
		return nil, fmt.Errorf("unknown TZID %q (an IANA zone name is needed)", id)
	}
	return l, nil
}

// parseDuration reads an RFC 5545 duration (P1D, PT1H30M, P1W, -PT15M is
// rejected: an event does not end before it starts).
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "+")
	if !strings.HasPrefix(s, "P") {
		return 0, fmt.Errorf("malformed duration %q", s)
	}
	var d time.Duration
	inTime := false
	num := ""
	for _, c := range s[1:] {
		switch {
		case c >= '0' && c <= '9':
			num += string(c)
			if len(num) > 6 {
				return 0, fmt.Errorf("malformed duration %q", s)
			}
		case c == 'T':
			inTime = true
		default:
			n, err := strconv.Atoi(num)
			if err != nil {
				return 0, fmt.Errorf("malformed duration %q", s)
			}
			num = ""
			unit := map[rune]time.Duration{'W': 7 * 24 * time.Hour, 'D': 24 * time.Hour}
			if inTime {
				unit = map[rune]time.Duration{'H': time.Hour, 'M': time.Minute, 'S': time.Second}
			}
			u, ok := unit[c]
			if !ok {
				return 0, fmt.Errorf("malformed duration %q", s)
			}
			d += time.Duration(n) * u
		}
	}
	if num != "" {
		return 0, fmt.Errorf("malformed duration %q", s)
	}
	return d, nil
}
