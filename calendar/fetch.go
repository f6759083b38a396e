package calendar

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vipgate/vipgate/gate"
)

// maxBody bounds a calendar's size.
const maxBody = 16 << 20

// Window is how far before and after now a calendar's events are read.
const (
	WindowBefore = 24 * time.Hour
	WindowAfter  = 400 * 24 * time.Hour
)

// FetcherConfig configures a Fetcher.
type FetcherConfig struct {
	// Store keeps the last good copy of each calendar; nil keeps them
	// in memory only.
	Store gate.CalendarStore
	// Client reads URLs; nil means a client with a 30 s timeout.
	Client *http.Client
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// StoreOnly makes Sync use the store's last good copies and never
	// read a calendar's source (for a quick dry run such as vipgate
	// explain). A calendar without a copy in the store is not loaded;
	// Events says so.
	StoreOnly bool
}

// Fetcher reads the calendars that gates' schedules name, refreshes them
// on their interval with conditional requests, and keeps the last good
// copy: a calendar that fails is reported and its last good copy used. It
// implements gate.CalendarEvents and is safe for concurrent use.
type Fetcher struct {
	cfg    FetcherConfig
	syncMu sync.Mutex // one Sync at a time; it alone changes an entry's copy
	mu     sync.Mutex
	cal    map[string]*entry // by gate ID and source
}

type entry struct {
	redacted  string
	copy      *gate.CalendarCopy // the last good copy, nil if none
	events    []gate.CalendarEvent
	loaded    bool
	lastTry   time.Time
	lastOK    time.Time
	problem   string
	errors    int
	parsedFor time.Time // the day the events were expanded for
}

// Status is how one calendar is doing, for metrics and health.
type Status struct {
	GateID, Source string    // Source as Redacted names it
	LastSuccess    time.Time // zero: never read
	Problem        string    // why the last refresh failed, "" if it did not
	Errors         int       // failed refreshes since start
}

// NewFetcher returns a Fetcher.
func NewFetcher(cfg FetcherConfig) *Fetcher {
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Fetcher{cfg: cfg, cal: map[string]*entry{}}
}

func key(gateID, source string) string { return gateID + "\x00" + source }

// Events implements gate.CalendarEvents.
func (f *Fetcher) Events(gateID string, src gate.CalendarSource) ([]gate.CalendarEvent, string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	e := f.cal[key(gateID, src.Source())]
	if e == nil {
		return nil, "", false
	}
	return e.events, e.problem, e.loaded
}

// Status returns the state of every calendar.
func (f *Fetcher) Status() []Status {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Status
	for k, e := range f.cal {
		s := Status{Source: e.redacted}
		s.GateID, _, _ = strings.Cut(k, "\x00")
		s.LastSuccess, s.Problem, s.Errors = e.lastOK, e.problem, e.errors
		out = append(out, s)
	}
	return out
}

// Sync refreshes the calendars of gates that are due: first from the
// store's last good copy (after a restart), then from their source.
func (f *Fetcher) Sync(ctx context.Context, gates []*gate.Gate) {
	f.syncMu.Lock()
	defer f.syncMu.Unlock()
	// Calendars no gate names any more are forgotten.
	named := map[string]bool{}
	for _, g := range gates {
		if s := g.Activation.Schedule; s != nil {
			for _, src := range s.Calendars {
				named[key(g.ID, src.Source())] = true
			}
		}
	}
	f.mu.Lock()
	for k := range f.cal {
		if !named[k] {
			delete(f.cal, k)
		}
	}
	f.mu.Unlock()
	for _, g := range gates {
		s := g.Activation.Schedule
		if s == nil {
			continue
		}
		loc, err := time.LoadLocation(s.TimeZone)
		if err != nil {
			continue
		}
		for _, src := range s.Calendars {
			f.sync(ctx, g.ID, src, loc)
		}
	}
}

func (f *Fetcher) sync(ctx context.Context, gateID string, src gate.CalendarSource, loc *time.Location) {
	k := key(gateID, src.Source())
	f.mu.Lock()
	e := f.cal[k]
	if e == nil {
		e = &entry{redacted: src.Redacted()}
		f.cal[k] = e
	}
	f.mu.Unlock()
	now := f.cfg.Now()
	if e.copy == nil && f.cfg.Store != nil {
		if c, err := f.cfg.Store.GetCalendar(ctx, gateID, src.Source()); err == nil {
			f.install(e, c, loc, now, "")
		}
	}
	if f.cfg.StoreOnly {
		f.mu.Lock()
		if e.copy == nil {
			e.problem = "no copy in the store yet, and its source was not read"
		}
		f.mu.Unlock()
		return
	}
	if !e.lastTry.IsZero() && now.Sub(e.lastTry) < src.RefreshInterval() {
		if e.copy != nil && now.Sub(e.parsedFor) > time.Hour {
			f.install(e, e.copy, loc, now, e.problem) // move the window
		}
		return
	}
	e.lastTry = now
	c, err := f.read(ctx, gateID, src, e.copy)
	if err == nil && c != e.copy {
		if _, perr := Parse(c.Body, loc, now.Add(-WindowBefore), now.Add(WindowAfter)); perr != nil {
			err = perr
		}
	}
	if err != nil {
		f.mu.Lock()
		e.problem = err.Error()
		e.errors++
		f.mu.Unlock()
		f.cfg.Logger.Warn("calendar refresh failed; the last good copy is used", "gate", gateID, "calendar", src.Redacted(), "err", err, "last_success", e.lastOK)
		if e.copy != nil && now.Sub(e.parsedFor) > time.Hour {
			f.install(e, e.copy, loc, now, e.problem) // move the window
		}
		return
	}
	if c != e.copy && f.cfg.Store != nil {
		if err := f.cfg.Store.PutCalendar(ctx, c); err != nil {
			f.cfg.Logger.Warn("calendar: keeping the copy in the store failed", "gate", gateID, "calendar", src.Redacted(), "err", err)
		}
	}
	f.install(e, c, loc, now, "")
	f.mu.Lock()
	e.lastOK = now
	f.mu.Unlock()
}

// install expands c's events around now and makes them e's.
func (f *Fetcher) install(e *entry, c *gate.CalendarCopy, loc *time.Location, now time.Time, problem string) {
	res, err := Parse(c.Body, loc, now.Add(-WindowBefore), now.Add(WindowAfter))
	if err != nil {
		return
	}
	evs := make([]gate.CalendarEvent, len(res.Events))
	from := now.Add(-WindowBefore)
	for i, ev := range res.Events {
		// Events start no earlier than the window, so that the Engine's
		// search looks back a bounded time.
		evs[i] = gate.CalendarEvent{Name: ev.Summary, Start: maxTime(ev.Start, from), End: ev.End}
	}
	slices.SortStableFunc(evs, func(a, b gate.CalendarEvent) int { return a.Start.Compare(b.Start) })
	f.mu.Lock()
	defer f.mu.Unlock()
	e.copy, e.events, e.loaded, e.problem, e.parsedFor = c, evs, true, problem, now
	if e.lastOK.IsZero() {
		e.lastOK = c.FetchedAt
	}
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// read returns the calendar from its source: old itself when the server
// says it did not change (304), a new copy otherwise.
func (f *Fetcher) read(ctx context.Context, gateID string, src gate.CalendarSource, old *gate.CalendarCopy) (*gate.CalendarCopy, error) {
	now := f.cfg.Now()
	if src.Path != "" {
		body, err := os.ReadFile(src.Path)
		if err != nil {
			return nil, err
		}
		if old != nil && string(old.Body) == string(body) {
			return old, nil
		}
		return &gate.CalendarCopy{GateID: gateID, Source: src.Path, Body: body, FetchedAt: now}, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src.URL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/calendar")
	if old != nil {
		if old.ETag != "" {
			req.Header.Set("If-None-Match", old.ETag)
		}
		if old.LastModified != "" {
			req.Header.Set("If-Modified-Since", old.LastModified)
		}
	}
	resp, err := f.cfg.Client.Do(req)
	if err != nil {
		var ue interface{ Unwrap() error }
		if errors.As(err, &ue) {
			// net/url errors repeat the URL; keep the cause.
			err = ue.Unwrap()
		}
		return nil, err
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotModified && old != nil:
		return old, nil
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("HTTP %s", resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, err
	}
	if len(body) > maxBody {
		return nil, fmt.Errorf("larger than %d bytes", maxBody)
	}
	return &gate.CalendarCopy{GateID: gateID, Source: src.URL, Body: body, ETag: resp.Header.Get("ETag"),
		LastModified: resp.Header.Get("Last-Modified"), FetchedAt: now}, nil
}

// Run syncs the calendars of the gates list returns every interval until
// ctx ends.
func (f *Fetcher) Run(ctx context.Context, list func(context.Context) ([]*gate.Gate, error), interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if gates, err := list(ctx); err == nil {
			f.Sync(ctx, gates)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
