package gate_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/gate/gatetest"
)

// kindsEnv is a table gate with entries of every kind:
//
//	+49711*       deny  (a whole area)
//	+4971155*     pin 5555
//	+49711551234  allow (longer than the deny prefix, yet denied)
//	+4917612345678 allow, label and priority
//	+4917699999999 allow with its own target
//	+4930*        pin 3030
//	+493012*      allow
//	+49301234567  deny
func kindsEnv(t *testing.T, mode gate.IdentMode) *env {
	t.Helper()
	h := mustHasher(t)
	g := staticGate(h, "4711")
	g.Identification.Mode = mode
	g.Identification.UnknownCaller = gate.UnknownReject
	g.Routes.Reject = gate.RejectStyle{Cause: gate.CauseRejected}
	e := newEnv(t, g)
	ctx := context.Background()
	ext := gate.Target{Kind: gate.TargetExtension, Exten: "200"}
	for _, en := range []gate.Entry{
		{Pattern: "+49711*", Kind: gate.EntryDeny, Label: "blocked area"},
		{Pattern: "+4971155*", PIN: h.Hash("5555")},
		{Pattern: "+49711551234", Kind: gate.EntryAllow},
		{Pattern: "+4917612345678", Kind: gate.EntryAllow, Label: "Anna Müller", Priority: 10},
		{Pattern: "+4917699999999", Kind: gate.EntryAllow, Target: ext, Label: "Night desk"},
		{Pattern: "+4930*", Kind: gate.EntryPIN, PIN: h.Hash("3030"), Label: "Berlin", Priority: 5},
		{Pattern: "+493012*", Kind: gate.EntryAllow},
		{Pattern: "+49301234567", Kind: gate.EntryDeny},
	} {
		en.GateID = "hotline"
		if err := e.store.PutEntry(ctx, &en); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

func TestEntryKindsOrder(t *testing.T) {
	tests := []struct {
		name, caller string
		steps        []gatetest.Step
		want         gate.Outcome
		dest         string
		label, prio  string
	}{
		{name: "deny prefix beats a longer allow", caller: "+49711551234", want: gate.OutcomeDenied},
		{name: "deny prefix beats a longer pin", caller: "+49711559999", steps: []gatetest.Step{typed("5555")}, want: gate.OutcomeDenied},
		{name: "allow passes without a PIN", caller: "017612345678", want: gate.OutcomePassed, dest: "continue", label: "Anna Müller", prio: "10"},
		{name: "allow to its own target", caller: "+4917699999999", want: gate.OutcomeForwarded, dest: "staff,200,1", label: "Night desk"},
		{name: "allow prefix beats a shorter pin", caller: "+4930127777", want: gate.OutcomePassed, dest: "continue"},
		{name: "exact deny beats an allow prefix", caller: "+49301234567", want: gate.OutcomeDenied},
		{name: "pin entry asks its PIN", caller: "+4930555555", steps: []gatetest.Step{typed("3030")}, want: gate.OutcomePINOK, dest: "continue", label: "Berlin", prio: "5"},
		{name: "wrong PIN sets no label", caller: "+4930555555", steps: []gatetest.Step{typed("1"), typed("2"), typed("3")}, want: gate.OutcomePINFailed},
		{name: "unknown caller follows its rule", caller: "+4989123456", want: gate.OutcomeRejected},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := kindsEnv(t, gate.IdentTable)
			c := call(tt.caller, tt.steps...)
			rec := e.flow.Run(context.Background(), c)
			if rec.Outcome != tt.want {
				t.Fatalf("outcome %s, want %s (ops %s)", rec.Outcome, tt.want, c.Ops())
			}
			if tt.want == gate.OutcomeDenied {
				if c.Answered() != 0 || c.HangupCause() != gate.CauseRejected || rec.EntryID == 0 {
					t.Errorf("denied call: answered %d, cause %q, entry %d; want unanswered, the gate's reject cause, the entry logged", c.Answered(), c.HangupCause(), rec.EntryID)
				}
				if rec.Attempts != 0 {
					t.Errorf("denied call asked for a PIN (%d attempts)", rec.Attempts)
				}
			}
			if tt.dest != "" {
				if d, _ := c.Destination(); d.String() != tt.dest {
					t.Errorf("destination %s, want %s", d, tt.dest)
				}
			}
			if tt.want == gate.OutcomePassed || tt.want == gate.OutcomeForwarded {
				if c.Answered() != 0 {
					t.Errorf("allowed caller was answered (ops %s)", c.Ops())
				}
			}
			if got := c.Var(gate.VarLabel); got != tt.label {
				t.Errorf("%s = %q, want %q", gate.VarLabel, got, tt.label)
			}
			if got := c.Var(gate.VarPriority); got != tt.prio {
				t.Errorf("%s = %q, want %q", gate.VarPriority, got, tt.prio)
			}
		})
	}
}

// In static and webhook gates, deny and allow entries are judged before
// the mode; PIN entries are not used.
func TestEntryKindsInOtherModes(t *testing.T) {
	for _, mode := range []gate.IdentMode{gate.IdentStatic, gate.IdentWebhook} {
		t.Run(string(mode), func(t *testing.T) {
			e := kindsEnv(t, mode)
			if rec := e.flow.Run(context.Background(), call("+49711000000")); rec.Outcome != gate.OutcomeDenied {
				t.Errorf("deny entry: outcome %s, want denied", rec.Outcome)
			}
			c := call("+4917612345678")
			if rec := e.flow.Run(context.Background(), c); rec.Outcome != gate.OutcomePassed || c.Var(gate.VarLabel) != "Anna Müller" {
				t.Errorf("allow entry: outcome %s label %q, want passed with the label", rec.Outcome, c.Var(gate.VarLabel))
			}
		})
	}
	e := kindsEnv(t, gate.IdentStatic)
	if rec := e.flow.Run(context.Background(), call("+4930555555", typed("4711"))); rec.Outcome != gate.OutcomePINOK {
		t.Errorf("static gate, caller with a pin entry: outcome %s, want pin_ok with the static PIN", rec.Outcome)
	}
}

// A deny entry rejects even a caller that is locked out, as denied (the
// list is checked first); an allow entry lets a locked-out number
// through, since the lockout guards the PIN dialogue only.
func TestEntryKindsBeforeLockout(t *testing.T) {
	e := kindsEnv(t, gate.IdentTable)
	ctx := context.Background()
	for _, caller := range []string{"+49711000000", "+4917612345678"} {
		if err := e.store.SetLockout(ctx, &gate.Lockout{GateID: "hotline", Caller: caller, Until: e.now.Add(3600e9), At: e.now}); err != nil {
			t.Fatal(err)
		}
	}
	if rec := e.flow.Run(ctx, call("+49711000000")); rec.Outcome != gate.OutcomeDenied {
		t.Errorf("locked-out denied caller: %s, want denied", rec.Outcome)
	}
	if rec := e.flow.Run(ctx, call("+4917612345678")); rec.Outcome != gate.OutcomePassed {
		t.Errorf("locked-out allowed caller: %s, want passed", rec.Outcome)
	}
}

func TestExplainNamesEntryKind(t *testing.T) {
	e := kindsEnv(t, gate.IdentTable)
	eng := gate.NewEngine(gate.EngineConfig{Store: e.store, Hasher: e.h, Region: "DE"})
	d := eng.Explain(context.Background(), "", "+49711000000", "1000", e.now)
	if d.Verdict != gate.VerdictReject || !d.Denied {
		t.Fatalf("verdict %s denied %v, want a denied reject", d.Verdict, d.Denied)
	}
	var text []string
	for _, s := range d.Trace {
		text = append(text, s.Step+": "+s.Detail)
	}
	all := strings.Join(text, "\n")
	for _, want := range []string{"matches deny entry #", "deny entry #"} {
		if !strings.Contains(all, want) {
			t.Errorf("trace lacks %q:\n%s", want, all)
		}
	}
}

func TestEntryCheckKind(t *testing.T) {
	h := mustHasher(t)
	pin := h.Hash("4711")
	tests := []struct {
		name  string
		e     gate.Entry
		field string
	}{
		{"pin entry without PIN", gate.Entry{Kind: gate.EntryPIN}, "pin"},
		{"default kind without PIN", gate.Entry{}, "pin"},
		{"allow with PIN", gate.Entry{Kind: gate.EntryAllow, PIN: pin}, "pin"},
		{"deny with PIN", gate.Entry{Kind: gate.EntryDeny, PIN: pin}, "pin"},
		{"deny with target", gate.Entry{Kind: gate.EntryDeny, Target: gate.Continue}, "target"},
		{"unknown kind", gate.Entry{Kind: "vip"}, "kind"},
		{"priority too high", gate.Entry{Kind: gate.EntryAllow, Priority: gate.MaxPriority + 1}, "priority"},
		{"negative priority", gate.Entry{Kind: gate.EntryAllow, Priority: -1}, "priority"},
		{"ok allow", gate.Entry{Kind: gate.EntryAllow, Priority: 7, Target: gate.Continue}, ""},
		{"ok pin", gate.Entry{PIN: pin}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.e.CheckKind("entries[2].")
			if tt.field == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			var ve *gate.ValidationError
			if !errors.As(err, &ve) || ve.Field != "entries[2]."+tt.field || !errors.Is(err, gate.ErrInvalid) {
				t.Fatalf("error %v, want a validation error for entries[2].%s", err, tt.field)
			}
		})
	}
}
