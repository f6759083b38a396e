package gate_test

import (
	"strings"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
)

// TestNextChange checks the instant at which a schedule next turns a gate
// on or off by itself, across closing time, a weekend with Easter
// holidays, a DST change and a window starting in the skipped hour.
func TestNextChange(t *testing.T) {
	office := func() *gate.Gate {
		return &gate.Gate{Activation: gate.Activation{Mode: gate.ActiveSchedule, Schedule: &gate.Schedule{
			TimeZone: "Europe/Berlin", Active: gate.Outside, Windows: []gate.Window{weekly("mon-fri", "08:00", "18:00")},
			Holidays: []string{"de"}, Closures: []gate.Closure{{Date: "12-24", Yearly: true, From: "12:00"}},
		}}}
	}
	night := &gate.Gate{Activation: gate.Activation{Mode: gate.ActiveSchedule, Schedule: &gate.Schedule{
		TimeZone: "Europe/Berlin", Active: gate.Inside, Windows: []gate.Window{weekly("", "02:30", "05:00")},
	}}}
	tests := []struct {
		name     string
		g        *gate.Gate
		from     string
		want     string
		wantFail string
	}{
		{"office hours end", office(), "2026-03-02T11:00:00+01:00", "2026-03-02T18:00:00+01:00", ""},
		{"after hours to the next morning", office(), "2026-03-02T19:00:00+01:00", "2026-03-03T08:00:00+01:00", ""},
		{"exactly at a boundary", office(), "2026-03-02T18:00:00+01:00", "2026-03-03T08:00:00+01:00", ""},
		// Good Friday, the weekend and Easter Monday are one closed stretch.
		{"over Easter", office(), "2026-04-02T19:00:00+02:00", "2026-04-07T08:00:00+02:00", ""},
		{"Christmas Eve from noon", office(), "2026-12-24T09:00:00+01:00", "2026-12-24T12:00:00+01:00", ""},
		{"over the DST change", office(), "2026-03-28T10:00:00+01:00", "2026-03-30T08:00:00+02:00", ""},
		// 02:30 does not exist on 29 March 2026: the window opens at 03:00 CEST.
		{"window in the skipped hour", night, "2026-03-29T01:00:00+01:00", "2026-03-29T03:00:00+02:00", ""},
		{"always", &gate.Gate{Activation: gate.Activation{Mode: gate.ActiveAlways}}, "2026-03-02T11:00:00+01:00", "", "never changes by itself"},
		{"never changes", &gate.Gate{Activation: gate.Activation{Mode: gate.ActiveSchedule, Schedule: &gate.Schedule{TimeZone: "Europe/Berlin", Active: gate.Outside}}},
			"2026-03-02T11:00:00+01:00", "", "does not change within 400 days"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.g.NextChange(instant(t, tt.from))
			if tt.wantFail != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantFail) {
					t.Fatalf("NextChange = %v, %v; want an error with %q", got, err, tt.wantFail)
				}
				return
			}
			if err != nil || !got.Equal(instant(t, tt.want)) {
				t.Fatalf("NextChange(%s) = %s, %v; want %s", tt.from, got.Format(time.RFC3339), err, tt.want)
			}
			// The state just before differs from the state at the change.
			s := tt.g.Activation.Schedule
			before, _, _ := s.ActiveAt(got.Add(-time.Second))
			after, _, _ := s.ActiveAt(got)
			if before == after {
				t.Fatalf("no change of state at %s", got)
			}
		})
	}
}
