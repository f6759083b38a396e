package gate_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
)

// closureGate is an after-hours gate with a Christmas closure that has its
// own announcement and route, and Bavarian holidays that hang up with a
// cause of their own.
func closureGate(t *testing.T) *gate.Gate {
	g := staticGate(mustHasher(t), "4711")
	g.Activation = gate.Activation{Mode: gate.ActiveSchedule, Schedule: &gate.Schedule{
		TimeZone: "Europe/Berlin", Active: gate.Outside, Windows: []gate.Window{weekly("mon-fri", "08:00", "18:00")},
		Closures: []gate.Closure{
			{Name: "Christmas", Date: "12-25", Yearly: true, ClosureAction: gate.ClosureAction{Announce: "custom/closed-christmas", Route: mustTarget(t, "oncall,100,1")}},
			{Name: "Inventory", Date: "2026-11-27"},
			{Name: "Staff outing", Date: "2026-07-10", ClosureAction: gate.ClosureAction{Route: mustTarget(t, "9000")}},
		},
		Holidays:  []string{"de-by"},
		OnHoliday: &gate.ClosureAction{Route: mustTarget(t, "hangup:congestion")},
	}}
	if err := g.Validate(); err != nil {
		t.Fatal(err)
	}
	return g
}

// TestFlowClosureAction checks that a closure's own announcement and route
// replace the PIN dialogue, that a holiday set's action applies on its
// days, and that explain and the call log name the closure or holiday
// that decided.
func TestFlowClosureAction(t *testing.T) {
	tests := []struct {
		name        string
		at          string
		wantClosure string
		wantOutcome gate.Outcome
		wantDest    string     // continue target
		wantCause   gate.Cause // or hang-up cause
		wantSound   string     // the closure's announcement
	}{
		{"closure with announcement and route", "2026-12-25T10:00:00+01:00", `closure "Christmas"`, gate.OutcomeForwarded, "oncall,100,1", "", "custom/closed-christmas"},
		{"holiday set with a route", "2026-06-04T10:00:00+02:00", `holiday "Fronleichnam" (de-by)`, gate.OutcomeRejected, "", gate.CauseCongestion, ""},
		// A closure without an action behaves as after hours (the PIN
		// dialogue), and is still named.
		{"closure without action", "2026-11-27T10:00:00+01:00", `closure "Inventory"`, gate.OutcomePINOK, "continue", "", ""},
		{"office hours", "2026-11-26T10:00:00+01:00", "", gate.OutcomePassed, "continue", "", ""},
		// An extension is one of the gate's forward_context.
		{"closure routed to an extension", "2026-07-10T10:00:00+02:00", `closure "Staff outing"`, gate.OutcomeForwarded, "staff,9000,1", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, closureGate(t))
			at := instant(t, tt.at)
			e.flow = gate.NewFlow(gate.NewEngine(gate.EngineConfig{Store: e.store, Hasher: e.h, Region: "DE"}),
				gate.FlowConfig{Log: e.store, Counters: e.store, Now: func() time.Time { return at }})
			c := call("+4917612345678", typed("4711"))
			rec := e.flow.Run(context.Background(), c)
			if rec.Outcome != tt.wantOutcome || rec.Closure != tt.wantClosure {
				t.Fatalf("outcome %s, closure %q; want %s, %q (ops: %s)", rec.Outcome, rec.Closure, tt.wantOutcome, tt.wantClosure, c.Ops())
			}
			dest, continued := c.Destination()
			if tt.wantDest != "" && (!continued || dest.String() != tt.wantDest) {
				t.Errorf("destination %v (continued %v), want %s", dest, continued, tt.wantDest)
			}
			if tt.wantCause != "" && (continued || c.HangupCause() != tt.wantCause) {
				t.Errorf("hangup cause %q (continued %v), want %q", c.HangupCause(), continued, tt.wantCause)
			}
			var sounds []string
			for _, p := range c.Prompts() {
				if p.Key == gate.PromptClosure {
					sounds = append(sounds, p.Name)
				}
			}
			if want := tt.wantSound; (want == "" && len(sounds) != 0) || (want != "" && (len(sounds) != 1 || sounds[0] != want || c.Answered() == 0)) {
				t.Errorf("closure announcements %v (answered %d), want %q", sounds, c.Answered(), want)
			}
			if calls := e.store.Calls(); len(calls) != 1 || calls[0].Closure != tt.wantClosure {
				t.Fatalf("call log %+v, want closure %q", calls, tt.wantClosure)
			}
			d := gate.NewEngine(gate.EngineConfig{Store: e.store, Hasher: e.h, Region: "DE"}).Explain(context.Background(), "hotline", "+4917612345678", "1000", at)
			if d.Closure != tt.wantClosure || (tt.wantClosure != "" && !strings.Contains(traceText(d), tt.wantClosure)) {
				t.Errorf("explain closure %q, trace %v; want %q", d.Closure, d.Trace, tt.wantClosure)
			}
		})
	}
}

func traceText(d *gate.Decision) string {
	var b strings.Builder
	for _, s := range d.Trace {
		b.WriteString(s.Step + ": " + s.Detail + "\n")
	}
	return b.String()
}

// TestClosureActionValidation checks the fields of a closure's action.
func TestClosureActionValidation(t *testing.T) {
	g := closureGate(t)
	s := g.Activation.Schedule
	s.Closures[0].Announce = "../etc/passwd"
	s.Closures[0].Route = mustTarget(t, "100")
	s.Holidays = nil
	g.Routes.ForwardContext = ""
	var ves gate.ValidationErrors
	if !errors.As(g.Validate(), &ves) {
		t.Fatal("no validation errors")
	}
	var fields []string
	for _, ve := range ves {
		fields = append(fields, ve.Field)
	}
	for _, f := range []string{"activation.schedule.closures[0].announce", "activation.schedule.on_holiday", "routes.forward_context"} {
		if !slices.Contains(fields, f) {
			t.Errorf("Validate fields %v, want %s", fields, f)
		}
	}
}
