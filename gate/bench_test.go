package gate_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/gate/gatetest"
)

// BenchmarkDecideTable measures one Decide for a table gate on the
// in-memory store: the engine's own cost and allocations, without I/O,
// for a caller written nationally and internationally.
func BenchmarkDecideTable(b *testing.B) {
	h := mustHasher(b)
	st := gatetest.NewStore()
	g := staticGate(h, "4711")
	g.Identification.Mode = gate.IdentTable
	ctx := context.Background()
	if err := st.CreateGate(ctx, g); err != nil {
		b.Fatal(err)
	}
	var entries []*gate.Entry
	for i := range 10000 {
		entries = append(entries, &gate.Entry{Pattern: fmt.Sprintf("+491761%07d", i), PIN: h.Hash("4711")})
	}
	if _, err := st.ImportEntries(ctx, g.ID, entries, gate.ImportOptions{}); err != nil {
		b.Fatal(err)
	}
	e := gate.NewEngine(gate.EngineConfig{Store: st, Hasher: h, Region: "DE"})
	now := time.Now()
	for _, form := range []struct{ name, caller string }{{"national", "01761 0004242"}, {"international", "+4917610004242"}} {
		b.Run(form.name, func(b *testing.B) {
			info := gate.CallInfo{Caller: form.caller, Called: "1000"}
			b.ReportAllocs()
			for b.Loop() {
				if d := e.Decide(ctx, info, now); d.Verdict != gate.VerdictAskPIN {
					b.Fatal(d.Verdict, d.Trace)
				}
			}
		})
	}
}

// BenchmarkDecideManyGates measures gate selection among 50 enabled gates
// with three match numbers each (national, international and prefix
// forms): the patterns are prepared once per gate, not per call.
func BenchmarkDecideManyGates(b *testing.B) {
	h := mustHasher(b)
	st := gatetest.NewStore()
	ctx := context.Background()
	for i := range 50 {
		g := staticGate(h, "4711")
		g.ID = fmt.Sprintf("g%02d", i)
		g.Match.Numbers = []string{fmt.Sprintf("0711 555 %04d", i), fmt.Sprintf("+49 30 555 %04d", i), fmt.Sprintf("0221 77%02d*", i)}
		if err := st.CreateGate(ctx, g); err != nil {
			b.Fatal(err)
		}
	}
	e := gate.NewEngine(gate.EngineConfig{Store: st, Hasher: h, Region: "DE"})
	info := gate.CallInfo{Caller: "+4917612345678", Called: "+49305550042"}
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		if d := e.Decide(ctx, info, now); d.Gate == nil || d.Gate.ID != "g42" {
			b.Fatal(d.Trace)
		}
	}
}

// BenchmarkDecideSchedule measures one Decide for a static-PIN gate in
// schedule mode (active outside office hours, with yearly and dated
// closures), on the in-memory store, with the latency of each Decide for
// the p50/p99 figures.
func BenchmarkDecideSchedule(b *testing.B) {
	h := mustHasher(b)
	st := gatetest.NewStore()
	g := staticGate(h, "4711")
	s := schedIn("Europe/Berlin", weekly("mon-thu", "08:00", "17:00"), weekly("fri", "08:00", "14:00"), weekly("sat", "09:00", "12:00"))
	s.Active = gate.Outside
	for _, d := range []string{"01-01", "05-01", "10-03", "12-25", "12-26"} {
		s.Closures = append(s.Closures, gate.Closure{Date: d, Yearly: true})
	}
	s.Closures = append(s.Closures, gate.Closure{Name: "Christmas Eve", Date: "12-24", Yearly: true, From: "12:00"},
		gate.Closure{Date: "2026-04-03", Until: "2026-04-06"}, gate.Closure{Date: "2026-05-14"}, gate.Closure{Date: "2026-05-25"})
	g.Activation = gate.Activation{Mode: gate.ActiveSchedule, Schedule: s}
	ctx := context.Background()
	if err := st.CreateGate(ctx, g); err != nil {
		b.Fatal(err)
	}
	withHolidays := g.Clone()
	withHolidays.ID = "holidays"
	withHolidays.Match.Numbers = []string{"2000"}
	withHolidays.Activation.Schedule.Holidays = []string{"de-by", "at"}
	if err := st.CreateGate(ctx, withHolidays); err != nil {
		b.Fatal(err)
	}
	// The same with a calendar of 500 events (one hour each, every
	// 19 hours from a day before), none at the time of the call, so the
	// search runs in full.
	withCalendar := withHolidays.Clone()
	withCalendar.ID = "calendar"
	withCalendar.Match.Numbers = []string{"3000"}
	withCalendar.Activation.Schedule.Calendars = []gate.CalendarSource{{URL: "https://cal.example.com/office.ics"}}
	if err := st.CreateGate(ctx, withCalendar); err != nil {
		b.Fatal(err)
	}
	now := instant(b, "2026-01-13T19:15:00+01:00") // a Tuesday evening: active
	var evs []gate.CalendarEvent
	for i := range 500 {
		start := now.Add(-24*time.Hour + time.Duration(i)*19*time.Hour + 30*time.Minute)
		evs = append(evs, gate.CalendarEvent{Name: fmt.Sprintf("event %d", i), Start: start, End: start.Add(time.Hour)})
	}
	cals := &fakeCalendars{events: map[string][]gate.CalendarEvent{"calendar https://cal.example.com/office.ics": evs}}
	e := gate.NewEngine(gate.EngineConfig{Store: st, Hasher: h, Region: "DE", Calendars: cals})
	for _, bc := range []struct{ name, called string }{{"closures", "1000"}, {"two holiday sets", "2000"}, {"two holiday sets and a 500-event calendar", "3000"}} {
		b.Run(bc.name, func(b *testing.B) {
			info := gate.CallInfo{Caller: "+4917612345678", Called: bc.called}
			if d := e.Decide(ctx, info, now); strings.Contains(traceText(d), "not loaded") {
				b.Fatal("the calendar was not read:", traceText(d))
			}
			benchDecide(b, func() {
				if d := e.Decide(ctx, info, now); d.Verdict != gate.VerdictAskPIN {
					b.Fatal(d.Verdict, d.Trace)
				}
			})
		})
	}
}

// benchDecide runs decide in the benchmark loop and reports the p50 and
// p99 latency of one run.
func benchDecide(b *testing.B, decide func()) {
	lat := make([]time.Duration, 0, 1<<16)
	b.ReportAllocs()
	for b.Loop() {
		start := time.Now()
		decide()
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Nanoseconds()) }
	b.ReportMetric(q(0.50), "p50-ns")
	b.ReportMetric(q(0.99), "p99-ns")
}
