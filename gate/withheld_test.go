package gate_test

import (
	"context"
	"errors"
	"testing"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/gate/gatetest"
)

// TestWithheldRule checks identification.withheld for callers without a
// readable number, in every mode.
func TestWithheldRule(t *testing.T) {
	tests := []struct {
		name     string
		mode     gate.IdentMode
		rule     gate.Withheld
		caller   string
		steps    []gatetest.Step
		want     gate.Outcome
		answered bool
	}{
		{"table, mode: unknown_caller pass", gate.IdentTable, gate.WithheldMode, "", nil, gate.OutcomePassed, false},
		{"table, default is mode", gate.IdentTable, "", "anonymous", nil, gate.OutcomePassed, false},
		{"table, reject", gate.IdentTable, gate.WithheldReject, "", nil, gate.OutcomeRejected, false},
		{"table, reject an unreadable number", gate.IdentTable, gate.WithheldReject, "anonymous", nil, gate.OutcomeRejected, false},
		{"table, static PIN", gate.IdentTable, gate.WithheldStatic, "", []gatetest.Step{typed("4711")}, gate.OutcomePINOK, true},
		{"table, a caller with a number is not affected", gate.IdentTable, gate.WithheldReject, "+4930999999", nil, gate.OutcomePassed, false},
		{"static, reject", gate.IdentStatic, gate.WithheldReject, "", []gatetest.Step{typed("4711")}, gate.OutcomeRejected, false},
		{"static, mode asks the static PIN", gate.IdentStatic, gate.WithheldMode, "", []gatetest.Step{typed("4711")}, gate.OutcomePINOK, true},
		{"webhook, reject without asking the webhook", gate.IdentWebhook, gate.WithheldReject, "", nil, gate.OutcomeRejected, false},
		{"webhook, static PIN instead of the webhook", gate.IdentWebhook, gate.WithheldStatic, "", []gatetest.Step{typed("4711")}, gate.OutcomePINOK, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := mustHasher(t)
			g := staticGate(h, "4711")
			g.Identification.Mode = tt.mode
			g.Identification.UnknownCaller = gate.UnknownPass
			g.Identification.Withheld = tt.rule
			if tt.mode == gate.IdentWebhook {
				g.Identification.Webhook = &gate.WebhookConfig{URL: "http://127.0.0.1:1/decide"}
			}
			st := gatetest.NewStore()
			if err := st.CreateGate(context.Background(), g); err != nil {
				t.Fatal(err)
			}
			// The webhook, if asked, fails: the failure policy (reject)
			// would record the call as failed, not rejected.
			fa := &fakeAuth{err: classErr{"network"}}
			e := gate.NewEngine(gate.EngineConfig{Store: st, Hasher: h, Authorizer: fa, Region: "DE"})
			f := gate.NewFlow(e, gate.FlowConfig{Log: st, Counters: st})
			c := call(tt.caller, tt.steps...)
			rec := f.Run(context.Background(), c)
			if rec.Outcome != tt.want {
				t.Fatalf("outcome %s (class %q), want %s (ops %s)", rec.Outcome, rec.ErrorClass, tt.want, c.Ops())
			}
			if (c.Answered() > 0) != tt.answered {
				t.Errorf("answered %d times, want answered %v", c.Answered(), tt.answered)
			}
		})
	}
}

func TestWithheldValidation(t *testing.T) {
	h := mustHasher(t)
	for _, tt := range []struct {
		rule gate.Withheld
		pin  bool
		ok   bool
	}{
		{"reject", false, true}, {"static", true, true}, {"", false, true}, {"MODE", false, true},
		{"static", false, false}, {"callback", true, false}, {"account", false, true},
	} {
		g := staticGate(h, "4711")
		g.Identification.Mode = gate.IdentTable
		if !tt.pin {
			g.Identification.StaticPIN = nil
		}
		g.Identification.Withheld = tt.rule
		g.Normalize()
		err := g.Validate()
		hasField := false
		var ves gate.ValidationErrors
		var ve *gate.ValidationError
		switch {
		case errors.As(err, &ves):
			for _, v := range ves {
				hasField = hasField || v.Field == "identification.withheld"
			}
		case errors.As(err, &ve):
			hasField = ve.Field == "identification.withheld"
		}
		if tt.ok == hasField {
			t.Errorf("withheld %q (static PIN %v): error %v, want ok %v", tt.rule, tt.pin, err, tt.ok)
		}
	}
}
