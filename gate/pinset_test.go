package gate_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/gate/gatetest"
)

// pinSetGate is a static gate (PIN 4711) with a PIN set around now:
// last month's code (expired), this month's, next month's (not yet valid).
func pinSetGate(h *gate.Hasher, now time.Time, static bool) *gate.Gate {
	g := staticGate(h, "4711")
	if !static {
		g.Identification.StaticPIN = nil
	}
	month := 30 * 24 * time.Hour
	g.Identification.PINSet = []gate.SetPIN{
		{Label: "October", PIN: h.Hash("1010"), ValidFrom: now.Add(-2 * month), ValidUntil: now.Add(-month)},
		{Label: "November", PIN: h.Hash("1111"), Account: "ACC-11", ValidFrom: now.Add(-month), ValidUntil: now.Add(month)},
		{Label: "December", PIN: h.Hash("1212"), ValidFrom: now.Add(month)},
	}
	return g
}

func TestPINSet(t *testing.T) {
	tests := []struct {
		name           string
		static         bool
		pin            string
		want           gate.Outcome
		label, account string
	}{
		{"this month's PIN", true, "1111", gate.OutcomePINOK, "November", "ACC-11"},
		{"the static PIN still works", true, "4711", gate.OutcomePINOK, "", ""},
		{"last month's PIN is wrong", true, "1010", gate.OutcomePINFailed, "", ""},
		{"next month's PIN is wrong", true, "1212", gate.OutcomePINFailed, "", ""},
		{"set without a static PIN", false, "1111", gate.OutcomePINOK, "November", "ACC-11"},
		{"no static PIN to fall back on", false, "4711", gate.OutcomePINFailed, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := mustHasher(t)
			now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
			e := newEnv(t, pinSetGate(h, now, tt.static))
			c := call("+4917612345678", typed(tt.pin), typed(tt.pin), typed(tt.pin))
			rec := e.flow.Run(context.Background(), c)
			if rec.Outcome != tt.want {
				t.Fatalf("outcome %s, want %s (ops %s)", rec.Outcome, tt.want, c.Ops())
			}
			if c.Var(gate.VarLabel) != tt.label || c.Var(gate.VarAccount) != tt.account {
				t.Errorf("%s=%q %s=%q, want %q %q", gate.VarLabel, c.Var(gate.VarLabel), gate.VarAccount, c.Var(gate.VarAccount), tt.label, tt.account)
			}
		})
	}
}

// A set PIN counts wherever the static PIN is asked for: here for an
// unknown caller of a table gate.
func TestPINSetForUnknownCallers(t *testing.T) {
	h := mustHasher(t)
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	g := pinSetGate(h, now, false)
	g.Identification.Mode = gate.IdentTable
	g.Identification.UnknownCaller = gate.UnknownStatic
	e := newEnv(t, g)
	if rec := e.flow.Run(context.Background(), call("+4930123456", typed("1111"))); rec.Outcome != gate.OutcomePINOK {
		t.Fatalf("unknown caller with the set PIN: %s", rec.Outcome)
	}
}

// A gate whose only PINs are all out of their dates cannot screen: the
// call is rejected as a configuration failure, and explain says why.
func TestPINSetNoneValid(t *testing.T) {
	h := mustHasher(t)
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	g := pinSetGate(h, now, false)
	g.Identification.PINSet = g.Identification.PINSet[:1] // October only
	st := gatetest.NewStore()
	if err := st.CreateGate(context.Background(), g); err != nil {
		t.Fatal(err)
	}
	d := gate.NewEngine(gate.EngineConfig{Store: st, Hasher: h}).Explain(context.Background(), "hotline", "+4930123456", "1000", now)
	if d.Verdict != gate.VerdictReject || d.ErrClass != "config" {
		t.Fatalf("verdict %s class %q, want a config reject", d.Verdict, d.ErrClass)
	}
	if !slices.ContainsFunc(d.Trace, func(s gate.TraceStep) bool { return s.Step == "pin set" }) {
		t.Errorf("trace does not mention the PIN set: %v", d.Trace)
	}
}

func TestPINSetValidation(t *testing.T) {
	h := mustHasher(t)
	now := time.Now()
	tests := []struct {
		name  string
		edit  func(g *gate.Gate)
		field string
	}{
		{"ok", func(g *gate.Gate) {}, ""},
		{"no label", func(g *gate.Gate) { g.Identification.PINSet[0].Label = " " }, "identification.pin_set[0].label"},
		{"label twice", func(g *gate.Gate) { g.Identification.PINSet[1].Label = "October" }, "identification.pin_set[1].label"},
		{"no PIN", func(g *gate.Gate) { g.Identification.PINSet[2].PIN = gate.PINHash{} }, "identification.pin_set[2].pin"},
		{"bad account", func(g *gate.Gate) { g.Identification.PINSet[1].Account = "a b" }, "identification.pin_set[1].account"},
		{"until before from", func(g *gate.Gate) { g.Identification.PINSet[0].ValidUntil = g.Identification.PINSet[0].ValidFrom }, "identification.pin_set[0].valid_until"},
		{"too many", func(g *gate.Gate) {
			for i := range gate.MaxSetPINs {
				g.Identification.PINSet = append(g.Identification.PINSet, gate.SetPIN{Label: "x" + string(rune('a'+i%26)) + string(rune('a'+i/26)), PIN: h.Hash("5555")})
			}
		}, "identification.pin_set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := pinSetGate(h, now, false)
			tt.edit(g)
			g.Normalize()
			err := g.Validate()
			var fields []string
			var ves gate.ValidationErrors
			var ve *gate.ValidationError
			switch {
			case errors.As(err, &ves):
				for _, v := range ves {
					fields = append(fields, v.Field)
				}
			case errors.As(err, &ve):
				fields = append(fields, ve.Field)
			}
			if tt.field == "" {
				if err != nil {
					t.Fatalf("unexpected %v", err)
				}
				return
			}
			if !slices.Contains(fields, tt.field) {
				t.Errorf("fields %v, want %s", fields, tt.field)
			}
		})
	}
}
