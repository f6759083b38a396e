package gate

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// CalendarSource is an iCalendar (RFC 5545) calendar a schedule reads
// closures from: each event of the calendar closes the gate for its
// duration, like a closure, and is named by its summary. Exactly one of
// URL (https, or http) and Path (an absolute file path) is set. Refresh is
// how often it is read again ("15m"; default 15m, at least 1m).
type CalendarSource struct {
	URL     string `json:"url,omitempty"`
	Path    string `json:"path,omitempty"`
	Refresh string `json:"refresh,omitempty"`
	// ClosureAction, when set, is what the calendar's events do with a
	// call instead of behaving as outside business hours.
	ClosureAction
}

// Source returns the URL or path that names the calendar.
func (c CalendarSource) Source() string {
	if c.URL != "" {
		return c.URL
	}
	return c.Path
}

// Redacted names the calendar for logs, traces and metrics: a URL's
// scheme and host only (shared calendar URLs often carry a private token
// in their path or query), or the path.
func (c CalendarSource) Redacted() string {
	if c.URL == "" {
		return c.Path
	}
	u, err := url.Parse(c.URL)
	if err != nil || u.Host == "" {
		return "(calendar URL)"
	}
	return u.Scheme + "://" + u.Host + "/…"
}

// Default and least calendar refresh intervals.
const (
	DefaultCalendarRefresh = 15 * time.Minute
	MinCalendarRefresh     = time.Minute
	maxCalendars           = 8
)

// RefreshInterval returns Refresh parsed, or the default.
func (c CalendarSource) RefreshInterval() time.Duration {
	d, err := time.ParseDuration(strings.TrimSpace(c.Refresh))
	if err != nil || d < MinCalendarRefresh {
		return DefaultCalendarRefresh
	}
	return d
}

// CalendarEvent is one occurrence of a calendar's event as the domain sees
// it: a closure from Start up to, but not including, End.
type CalendarEvent struct {
	Name       string
	Start, End time.Time
}

// CalendarEvents gives the Engine the events of the calendars that gates'
// schedules name (the serve command reads and refreshes them). Events
// returns the occurrences of gate gateID's calendar src, sorted by start,
// as last read successfully, and ok false when none was ever read;
// problem says why the last refresh failed ("" when it did not).
type CalendarEvents interface {
	Events(gateID string, src CalendarSource) (events []CalendarEvent, problem string, ok bool)
}

// calendarHit returns the event of g's calendars that covers t, with the
// calendar it came from, or nil. Problems (a calendar never read) are
// returned for the trace.
func calendarHit(cal CalendarEvents, g *Gate, t time.Time) (*closureHit, []string) {
	s := g.Activation.Schedule
	if s == nil || len(s.Calendars) == 0 {
		return nil, nil
	}
	var problems []string
	for i := range s.Calendars {
		src := s.Calendars[i]
		if cal == nil {
			problems = append(problems, fmt.Sprintf("calendar %s not loaded", src.Redacted()))
			continue
		}
		evs, problem, ok := cal.Events(g.ID, src)
		if problem != "" {
			problems = append(problems, fmt.Sprintf("calendar %s failing (%s), its last good copy used", src.Redacted(), problem))
		}
		if !ok {
			problems = append(problems, fmt.Sprintf("calendar %s not loaded yet", src.Redacted()))
			continue
		}
		if e := covering(evs, t); e != nil {
			hit := &closureHit{label: fmt.Sprintf("calendar event %q", e.Name)}
			if src.ClosureAction.set() {
				a := src.ClosureAction
				hit.action = &a
			}
			return hit, problems
		}
	}
	return nil, problems
}

// covering returns an event of evs (sorted by start) that covers t.
func covering(evs []CalendarEvent, t time.Time) *CalendarEvent {
	// The events that start at or before t; the one that covers t, if
	// any, is among them (long events may start earlier than short ones).
	n := sort.Search(len(evs), func(i int) bool { return evs[i].Start.After(t) })
	for i := n - 1; i >= 0; i-- {
		if t.Before(evs[i].End) {
			return &evs[i]
		}
		if t.Sub(evs[i].Start) > maxCalendarEvent {
			break
		}
	}
	return nil
}

// maxCalendarEvent bounds how far back covering looks: the reader gives
// events that start at most a day before now (it moves earlier starts to
// then) and expands them up to 400 days ahead, so that a call decided at
// now looks back a day at most.
const maxCalendarEvent = 402 * 24 * time.Hour

// validateCalendars adds the problems of a schedule's calendars.
func validateCalendars(es *ValidationErrors, prefix string, cs []CalendarSource) {
	if len(cs) > maxCalendars {
		es.add(prefix+"calendars", "has more than %d calendars", maxCalendars)
	}
	for i, c := range cs {
		f := fmt.Sprintf("%scalendars[%d].", prefix, i)
		switch {
		case c.URL == "" && c.Path == "":
			es.add(f+"url", "is required (or path)")
		case c.URL != "" && c.Path != "":
			es.add(f+"path", "cannot be given with url")
		case c.URL != "":
			u, err := url.Parse(c.URL)
			if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				es.add(f+"url", "must be an http or https URL")
			} else if u.User != nil {
				es.add(f+"url", "must not carry credentials")
			}
		default:
			if !filepath.IsAbs(c.Path) {
				es.add(f+"path", "must be an absolute path")
			}
		}
		if c.Refresh != "" {
			d, err := time.ParseDuration(strings.TrimSpace(c.Refresh))
			switch {
			case err != nil:
				es.add(f+"refresh", "is not a duration (15m, 1h)")
			case d < MinCalendarRefresh:
				es.add(f+"refresh", "must be at least %s", MinCalendarRefresh)
			}
		}
		validateAction(es, f, &c.ClosureAction)
	}
}

// CalendarCopy is the last good copy of a calendar as read from its
// source: kept in the store so that a restart or an unreachable server
// changes nothing.
type CalendarCopy struct {
	GateID       string
	Source       string // the URL or path
	Body         []byte
	ETag         string
	LastModified string
	FetchedAt    time.Time
}

// CalendarStore keeps the last good copy of each gate's calendars. Stores
// that implement it let the calendar reader start from those copies.
type CalendarStore interface {
	// PutCalendar stores or replaces the copy of (GateID, Source).
	PutCalendar(ctx context.Context, c *CalendarCopy) error
	// GetCalendar returns a copy or ErrNotFound.
	GetCalendar(ctx context.Context, gateID, source string) (*CalendarCopy, error)
}

// errNoCalendars is what an Audited store answers when the store it wraps
// keeps no calendars.
var errNoCalendars = errors.New("the store keeps no calendars")

// PutCalendar passes the calendar copy through: it is the calendar
// reader's cache, not an administrative change.
func (a *audited) PutCalendar(ctx context.Context, c *CalendarCopy) error {
	cs, ok := a.Store.(CalendarStore)
	if !ok {
		return errNoCalendars
	}
	return cs.PutCalendar(ctx, c)
}

// GetCalendar passes through.
func (a *audited) GetCalendar(ctx context.Context, gateID, source string) (*CalendarCopy, error) {
	cs, ok := a.Store.(CalendarStore)
	if !ok {
		return nil, fmt.Errorf("calendar %s: %w (%w)", gateID, ErrNotFound, errNoCalendars)
	}
	return cs.GetCalendar(ctx, gateID, source)
}
