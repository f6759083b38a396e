package gate_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/gate/gatetest"
)

// fakeCalendars is a gate.CalendarEvents with fixed events per source.
type fakeCalendars struct {
	mu     sync.Mutex
	events map[string][]gate.CalendarEvent // by source; absent: never read
}

func (f *fakeCalendars) Events(gateID string, src gate.CalendarSource) ([]gate.CalendarEvent, string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	evs, ok := f.events[gateID+" "+src.Source()]
	return evs, "", ok
}

func calendarGate(t *testing.T) *gate.Gate {
	g := staticGate(mustHasher(t), "4711")
	g.Activation = gate.Activation{Mode: gate.ActiveSchedule, Schedule: &gate.Schedule{
		TimeZone: "Europe/Berlin", Active: gate.Outside, Windows: []gate.Window{weekly("mon-fri", "08:00", "18:00")},
		Closures: []gate.Closure{{Name: "Inventory", Date: "2026-11-27"}},
		Calendars: []gate.CalendarSource{
			{URL: "https://cal.example.com/office.ics", Refresh: "15m"},
			{Path: "/etc/vipgate/maintenance.ics", ClosureAction: gate.ClosureAction{Route: mustTarget(t, "hangup:congestion")}},
		},
	}}
	if err := g.Validate(); err != nil {
		t.Fatal(err)
	}
	return g
}

// TestCalendarEventClosesTheGate checks that an event of a schedule's
// calendar closes the gate for its duration (as after hours, or with the
// calendar's own action), that explain and the call log name the event's
// summary, that a dated closure still comes first, and that a calendar
// never read is named in the trace and closes nothing.
func TestCalendarEventClosesTheGate(t *testing.T) {
	cals := &fakeCalendars{events: map[string][]gate.CalendarEvent{
		"hotline https://cal.example.com/office.ics": {
			{Name: "Christmas break", Start: instant(t, "2026-12-24T00:00:00+01:00"), End: instant(t, "2026-12-28T00:00:00+01:00")},
			{Name: "Team party", Start: instant(t, "2026-12-11T14:00:00+01:00"), End: instant(t, "2026-12-11T18:00:00+01:00")},
			{Name: "Inventory overlap", Start: instant(t, "2026-11-27T00:00:00+01:00"), End: instant(t, "2026-11-28T00:00:00+01:00")},
		},
		"hotline /etc/vipgate/maintenance.ics": {
			{Name: "Maintenance", Start: instant(t, "2026-12-07T08:00:00+01:00"), End: instant(t, "2026-12-07T09:00:00+01:00")},
		},
	}}
	slices.SortFunc(cals.events["hotline https://cal.example.com/office.ics"], func(a, b gate.CalendarEvent) int { return a.Start.Compare(b.Start) })
	tests := []struct {
		name, at, wantClosure string
		wantOutcome           gate.Outcome
	}{
		{"all-day event", "2026-12-24T10:00:00+01:00", `calendar event "Christmas break"`, gate.OutcomePINOK},
		{"timed event", "2026-12-11T15:00:00+01:00", `calendar event "Team party"`, gate.OutcomePINOK},
		{"days into a long event", "2026-12-27T10:00:00+01:00", `calendar event "Christmas break"`, gate.OutcomePINOK},
		{"after the timed event", "2026-12-11T17:59:59+01:00", `calendar event "Team party"`, gate.OutcomePINOK},
		{"end is exclusive", "2026-12-11T18:00:00+01:00", "", gate.OutcomePINOK}, // after hours anyway, no event
		{"office hours", "2026-12-10T10:00:00+01:00", "", gate.OutcomePassed},
		{"calendar with an action", "2026-12-07T08:30:00+01:00", `calendar event "Maintenance"`, gate.OutcomeRejected},
		{"closures come first", "2026-11-27T10:00:00+01:00", `closure "Inventory"`, gate.OutcomePINOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, calendarGate(t))
			at := instant(t, tt.at)
			eng := gate.NewEngine(gate.EngineConfig{Store: e.store, Hasher: e.h, Region: "DE", Calendars: cals})
			e.flow = gate.NewFlow(eng, gate.FlowConfig{Log: e.store, Counters: e.store, Now: func() time.Time { return at }})
			c := call("+4917612345678", typed("4711"))
			rec := e.flow.Run(context.Background(), c)
			if rec.Outcome != tt.wantOutcome || rec.Closure != tt.wantClosure {
				t.Fatalf("outcome %s, closure %q; want %s, %q (ops: %s)", rec.Outcome, rec.Closure, tt.wantOutcome, tt.wantClosure, c.Ops())
			}
			if calls := e.store.Calls(); len(calls) != 1 || calls[0].Closure != tt.wantClosure {
				t.Fatalf("call log %+v, want closure %q", calls, tt.wantClosure)
			}
			d := eng.Explain(context.Background(), "hotline", "+4917612345678", "1000", at)
			if d.Closure != tt.wantClosure || (tt.wantClosure != "" && !strings.Contains(traceText(d), tt.wantClosure)) {
				t.Errorf("explain closure %q, trace %v; want %q", d.Closure, d.Trace, tt.wantClosure)
			}
		})
	}

	t.Run("never read", func(t *testing.T) {
		e := newEnv(t, calendarGate(t))
		eng := gate.NewEngine(gate.EngineConfig{Store: e.store, Hasher: e.h, Region: "DE", Calendars: &fakeCalendars{}})
		d := eng.Explain(context.Background(), "hotline", "+4917612345678", "1000", instant(t, "2026-12-24T10:00:00+01:00"))
		if d.Closure != "" || d.Active || !strings.Contains(traceText(d), "calendar https://cal.example.com/… not loaded yet") {
			t.Errorf("closure %q active %v, trace %s; want no closure (office hours) and the unread calendar named", d.Closure, d.Active, traceText(d))
		}
	})
}

// TestCalendarValidation checks that a schedule's calendars are validated
// with the field named.
func TestCalendarValidation(t *testing.T) {
	g := calendarGate(t)
	g.Activation.Schedule.Calendars = []gate.CalendarSource{
		{},
		{URL: "ftp://cal.example.com/x.ics"},
		{URL: "https://user:secret@cal.example.com/x.ics"},
		{Path: "relative.ics"},
		{URL: "https://cal.example.com/x.ics", Path: "/etc/x.ics"},
		{Path: "/etc/x.ics", Refresh: "10s"},
		{Path: "/etc/x.ics", Refresh: "often"},
		{Path: "/etc/x.ics", ClosureAction: gate.ClosureAction{Announce: "../etc/passwd"}},
	}
	var ves gate.ValidationErrors
	if !errors.As(g.Validate(), &ves) {
		t.Fatal("no validation errors")
	}
	var fields []string
	for _, ve := range ves {
		fields = append(fields, ve.Field)
	}
	p := "activation.schedule.calendars"
	for _, f := range []string{p + "[0].url", p + "[1].url", p + "[2].url", p + "[3].path", p + "[4].path", p + "[5].refresh", p + "[6].refresh", p + "[7].announce"} {
		if !slices.Contains(fields, f) {
			t.Errorf("Validate fields %v, want %s", fields, f)
		}
	}
	for _, ve := range ves {
		if strings.Contains(ve.Error(), "secret") {
			t.Errorf("validation error %q repeats the URL's password", ve.Error())
		}
	}
}

// TestAuditedStoreKeepsCalendars: the copies of calendars pass through an
// audited store (the binary wraps its store in one).
func TestAuditedStoreKeepsCalendars(t *testing.T) {
	st := gatetest.NewStore()
	cs, ok := gate.Audited(st, "test").(gate.CalendarStore)
	if !ok {
		t.Fatal("an audited store is no CalendarStore")
	}
	ctx := context.Background()
	if err := cs.PutCalendar(ctx, &gate.CalendarCopy{GateID: "hotline", Source: "/etc/x.ics", Body: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	if c, err := st.GetCalendar(ctx, "hotline", "/etc/x.ics"); err != nil || string(c.Body) != "x" {
		t.Fatalf("the wrapped store has %+v, %v", c, err)
	}
	if c, err := cs.GetCalendar(ctx, "hotline", "/etc/x.ics"); err != nil || string(c.Body) != "x" {
		t.Fatalf("GetCalendar through the audited store: %+v, %v", c, err)
	}
}
