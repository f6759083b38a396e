package gate_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/gate/gatetest"
)

var testKey = []byte("0123456789abcdef0123456789abcdef")

func mustHasher(t testing.TB) *gate.Hasher {
	t.Helper()
	h, err := gate.NewHasher(testKey)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// staticGate returns an always-active static-PIN gate for number 1000.
func staticGate(h *gate.Hasher, pin string) *gate.Gate {
	ph := h.Hash(pin)
	return &gate.Gate{
		ID:             "hotline",
		Enabled:        true,
		Match:          gate.Match{Numbers: []string{"1000"}},
		Activation:     gate.Activation{Mode: gate.ActiveAlways},
		Identification: gate.Identification{Mode: gate.IdentStatic, StaticPIN: &ph, Region: "DE"},
		Dialogue:       gate.Dialogue{MaxRetries: 3, MinDigits: 4, MaxDigits: 8, FirstDigitTimeout: gate.Duration(5 * time.Second), InterDigitTimeout: gate.Duration(3 * time.Second)},
		Routes:         gate.Routes{ForwardContext: "staff", OnCorrect: gate.Continue, OnIncorrect: gate.Hangup(gate.CauseBusy), Reject: gate.RejectStyle{Cause: gate.CauseBusy}},
		Failure:        gate.FailurePolicy{Action: gate.FailReject},
	}
}

type env struct {
	store *gatetest.Store
	flow  *gate.Flow
	h     *gate.Hasher
	now   time.Time
}

func newEnv(t *testing.T, gates ...*gate.Gate) *env {
	t.Helper()
	st := gatetest.NewStore()
	for _, g := range gates {
		if err := st.CreateGate(context.Background(), g); err != nil {
			t.Fatal(err)
		}
	}
	h := mustHasher(t)
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	e := gate.NewEngine(gate.EngineConfig{Store: st, Hasher: h, Region: "DE"})
	f := gate.NewFlow(e, gate.FlowConfig{Log: st, Counters: st, Now: func() time.Time { return now }})
	return &env{store: st, flow: f, h: h, now: now}
}

func call(caller string, steps ...gatetest.Step) *gatetest.Call {
	return &gatetest.Call{CallInfo: gate.CallInfo{ID: "c1", Source: "test", Caller: caller, Called: "1000"}, Steps: steps}
}

func typed(d string) gatetest.Step { return gatetest.Step{Digits: d, Terminated: true} }

func TestFlowStaticPIN(t *testing.T) {
	h := mustHasher(t)
	tests := []struct {
		name         string
		steps        []gatetest.Step
		hangupAt     int
		wantOutcome  gate.Outcome
		wantAttempts int
		wantDest     string // continue target, or "" for a hangup
		wantCause    gate.Cause
		wantPlayed   []gate.PromptKey
	}{
		{name: "right first try", steps: []gatetest.Step{typed("4711")}, wantOutcome: gate.OutcomePINOK, wantAttempts: 1, wantDest: "continue",
			wantPlayed: []gate.PromptKey{gate.PromptAskPIN}},
		{name: "right on last retry", steps: []gatetest.Step{typed("1111"), typed("2222"), typed("4711")}, wantOutcome: gate.OutcomePINOK, wantAttempts: 3, wantDest: "continue",
			wantPlayed: []gate.PromptKey{gate.PromptAskPIN, gate.PromptWrongPIN, gate.PromptWrongPIN}},
		{name: "all wrong", steps: []gatetest.Step{typed("1111"), typed("2222"), typed("3333")}, wantOutcome: gate.OutcomePINFailed, wantAttempts: 3, wantCause: gate.CauseBusy},
		{name: "typed during prompt", steps: []gatetest.Step{{Digits: "4711", Terminated: true, DuringPrompt: true}}, wantOutcome: gate.OutcomePINOK, wantAttempts: 1, wantDest: "continue"},
		{name: "no input, timeouts", steps: nil, wantOutcome: gate.OutcomePINFailed, wantAttempts: 3, wantCause: gate.CauseBusy},
		{name: "hash alone", steps: []gatetest.Step{typed(""), typed(""), typed("")}, wantOutcome: gate.OutcomePINFailed, wantAttempts: 3, wantCause: gate.CauseBusy},
		{name: "too many digits", steps: []gatetest.Step{typed("47110000000"), typed("4711")}, wantOutcome: gate.OutcomePINOK, wantAttempts: 2, wantDest: "continue"},
		{name: "pin followed by more digits is wrong", steps: []gatetest.Step{typed("47111"), typed("0"), typed("0")}, wantOutcome: gate.OutcomePINFailed, wantAttempts: 3, wantCause: gate.CauseBusy},
		{name: "no terminator, inter-digit timeout", steps: []gatetest.Step{{Digits: "4711"}}, wantOutcome: gate.OutcomePINOK, wantAttempts: 1, wantDest: "continue"},
		{name: "hangup during prompt", steps: []gatetest.Step{{Hangup: true}}, wantOutcome: gate.OutcomeAbandoned, wantAttempts: 1},
		{name: "hangup during collection after a wrong try", steps: []gatetest.Step{typed("1"), {Hangup: true}}, wantOutcome: gate.OutcomeAbandoned, wantAttempts: 2},
		{name: "hangup before answer", hangupAt: 1, wantOutcome: gate.OutcomeAbandoned},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, staticGate(h, "4711"))
			c := call("+4917612345678", tt.steps...)
			c.HangupAt = tt.hangupAt
			rec := e.flow.Run(context.Background(), c)
			if rec.Outcome != tt.wantOutcome || rec.Attempts != tt.wantAttempts {
				t.Fatalf("outcome %s after %d attempts, want %s after %d (ops: %s)", rec.Outcome, rec.Attempts, tt.wantOutcome, tt.wantAttempts, c.Ops())
			}
			dest, continued := c.Destination()
			switch {
			case tt.wantDest != "":
				if !continued || dest.String() != tt.wantDest {
					t.Errorf("destination %v (continued %v), want %s", dest, continued, tt.wantDest)
				}
			case tt.wantCause != "":
				if c.HangupCause() != tt.wantCause || continued {
					t.Errorf("hangup cause %q (continued %v), want %q", c.HangupCause(), continued, tt.wantCause)
				}
			default:
				if continued || c.HangupCause() != "" {
					t.Errorf("an abandoned call was routed: dest %v cause %q", dest, c.HangupCause())
				}
			}
			if tt.wantPlayed != nil && !slices.Equal(c.Played(), tt.wantPlayed) {
				t.Errorf("played %v, want %v", c.Played(), tt.wantPlayed)
			}
			if tt.wantOutcome != gate.OutcomeAbandoned && c.Var(gate.VarResult) != string(tt.wantOutcome) {
				t.Errorf("VIPGATE_RESULT = %q, want %q", c.Var(gate.VarResult), tt.wantOutcome)
			}
			// The variables go in one SetVars: one request over ARI.
			if n := strings.Count(c.Ops(), "setvar"); tt.wantOutcome != gate.OutcomeAbandoned && n != 1 {
				t.Errorf("%d SetVars (ops: %s), want 1", n, c.Ops())
			}
			calls := e.store.Calls()
			if len(calls) != 1 || calls[0].Outcome != tt.wantOutcome || calls[0].GateID != "hotline" {
				t.Fatalf("call log %+v", calls)
			}
		})
	}
}

func TestFlowInactiveGateNeverAnswers(t *testing.T) {
	h := mustHasher(t)
	g := staticGate(h, "4711")
	g.Activation.Mode = gate.ActiveNever
	e := newEnv(t, g)
	c := call("+4917612345678", typed("4711"))
	rec := e.flow.Run(context.Background(), c)
	if c.Answered() != 0 {
		t.Errorf("inactive gate answered the call (ops %s)", c.Ops())
	}
	if dest, ok := c.Destination(); !ok || dest.Kind != gate.TargetContinue {
		t.Errorf("destination %v %v, want continue", dest, ok)
	}
	if rec.Outcome != gate.OutcomePassed || rec.Active || len(c.Played()) != 0 {
		t.Errorf("record %+v, played %v", rec, c.Played())
	}
}

func TestFlowStoreFailureFollowsPolicy(t *testing.T) {
	h := mustHasher(t)
	tests := []struct {
		policy    gate.FailurePolicy
		wantDest  string
		wantCause gate.Cause
	}{
		{policy: gate.FailurePolicy{Action: gate.FailReject}, wantCause: gate.CauseBusy},
		{policy: gate.FailurePolicy{Action: gate.FailPass}, wantDest: "continue"},
		{policy: gate.FailurePolicy{Action: gate.FailForward, Target: gate.Target{Kind: gate.TargetExtension, Exten: "200"}}, wantDest: "staff,200,1"},
	}
	for _, tt := range tests {
		t.Run(string(tt.policy.Action), func(t *testing.T) {
			g := staticGate(h, "4711")
			g.Identification.Mode = gate.IdentTable
			g.Failure = tt.policy
			e := newEnv(t, g)
			// Read the gates once so the engine has a last-known list,
			// then kill the store: the lookup fails.
			e.flow.Run(context.Background(), call("+4917612345678"))
			e.store.SetErr(errors.New("disk on fire"))
			c := call("+4917612345678")
			rec := e.flow.Run(context.Background(), c)
			if rec.Outcome != gate.OutcomeFailed || rec.ErrorClass == "" {
				t.Errorf("outcome %s class %q, want failed with a class", rec.Outcome, rec.ErrorClass)
			}
			dest, ok := c.Destination()
			if tt.wantDest != "" && (!ok || dest.String() != tt.wantDest) {
				t.Errorf("destination %v, want %s", dest, tt.wantDest)
			}
			if tt.wantCause != "" && c.HangupCause() != tt.wantCause {
				t.Errorf("cause %q, want %q", c.HangupCause(), tt.wantCause)
			}
		})
	}
}

func TestFlowStoreDeadFromStartUsesEnginePolicy(t *testing.T) {
	e := newEnv(t)
	e.store.SetErr(errors.New("gone"))
	c := call("+4917612345678")
	rec := e.flow.Run(context.Background(), c)
	if rec.Outcome != gate.OutcomeFailed || c.HangupCause() != gate.CauseBusy {
		t.Errorf("outcome %s cause %q, want failed and busy (fail closed)", rec.Outcome, c.HangupCause())
	}
}

func TestFlowTable(t *testing.T) {
	h := mustHasher(t)
	g := staticGate(h, "9999")
	g.Identification.Mode = gate.IdentTable
	g.Identification.UnknownCaller = gate.UnknownReject
	g.Routes.OnCorrect = gate.Target{Kind: gate.TargetExtension, Exten: "100"}
	e := newEnv(t, g)
	ctx := context.Background()
	for _, en := range []struct{ pat, pin string }{{"+4917612345678", "1234"}, {"+49711*", "5555"}} {
		if err := e.store.PutEntry(ctx, &gate.Entry{GateID: "hotline", Pattern: en.pat, PIN: h.Hash(en.pin)}); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		caller, pin string
		want        gate.Outcome
	}{
		{"004917612345678", "1234", gate.OutcomePINOK},
		{"017612345678", "1234", gate.OutcomePINOK},
		{"+4917612345678", "9999", gate.OutcomePINFailed},
		{"0711 123456", "5555", gate.OutcomePINOK},
		{"+4930123456", "1234", gate.OutcomeRejected},
		{"", "1234", gate.OutcomeRejected},
	}
	for _, tt := range tests {
		t.Run(tt.caller, func(t *testing.T) {
			c := call(tt.caller, typed(tt.pin), typed(tt.pin), typed(tt.pin))
			rec := e.flow.Run(ctx, c)
			if rec.Outcome != tt.want {
				t.Fatalf("outcome %s, want %s (ops %s)", rec.Outcome, tt.want, c.Ops())
			}
			if tt.want == gate.OutcomeRejected && c.Answered() != 0 {
				t.Errorf("unknown caller was answered")
			}
			if tt.want == gate.OutcomePINOK {
				if d, _ := c.Destination(); d.String() != "staff,100,1" {
					t.Errorf("destination %s, want staff,100,1", d)
				}
			}
		})
	}
}

func TestFlowLockout(t *testing.T) {
	h := mustHasher(t)
	g := staticGate(h, "4711")
	g.Lockout = gate.LockoutPolicy{MaxFailures: 2, Window: gate.Duration(time.Hour), Duration: gate.Duration(time.Hour)}
	e := newEnv(t, g)
	wrong := func() *gatetest.Call { return call("+4917612345678", typed("1"), typed("2"), typed("3")) }
	for i := 0; i < 2; i++ {
		if rec := e.flow.Run(context.Background(), wrong()); rec.Outcome != gate.OutcomePINFailed {
			t.Fatalf("dialogue %d: %s", i, rec.Outcome)
		}
	}
	c := call("+4917612345678", typed("4711"))
	rec := e.flow.Run(context.Background(), c)
	if rec.Outcome != gate.OutcomeLockedOut || c.Answered() != 0 {
		t.Fatalf("after 2 failures: outcome %s answered %d, want locked_out without answering", rec.Outcome, c.Answered())
	}
	// Another caller is not locked out.
	if rec := e.flow.Run(context.Background(), call("+4917600000000", typed("4711"))); rec.Outcome != gate.OutcomePINOK {
		t.Fatalf("other caller: %s", rec.Outcome)
	}
}

func TestFlowContextCancelledIsAbandoned(t *testing.T) {
	h := mustHasher(t)
	e := newEnv(t, staticGate(h, "4711"))
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(gate.ErrHangup)
	rec := e.flow.Run(ctx, call("+4917612345678", typed("4711")))
	if rec.Outcome != gate.OutcomeAbandoned {
		t.Fatalf("outcome %s, want abandoned", rec.Outcome)
	}
	if n := len(e.store.Calls()); n != 1 {
		t.Fatalf("%d call-log rows, want 1 even for a cancelled call", n)
	}
}

func TestFlowShutdownIsNoHangup(t *testing.T) {
	h := mustHasher(t)
	e := newEnv(t, staticGate(h, "4711"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // vipgate stopping, not the caller hanging up
	rec := e.flow.Run(ctx, call("+4917612345678", typed("4711")))
	if rec.Outcome != gate.OutcomeFailed || rec.ErrorClass != "shutdown" {
		t.Fatalf("outcome %s class %q, want failed/shutdown", rec.Outcome, rec.ErrorClass)
	}
}

func TestFlowUnknownCallerRules(t *testing.T) {
	h := mustHasher(t)
	tests := []struct {
		rule  gate.UnknownCaller
		steps []gatetest.Step
		want  gate.Outcome
	}{
		{gate.UnknownPass, nil, gate.OutcomePassed},
		{gate.UnknownStatic, []gatetest.Step{typed("4711")}, gate.OutcomePINOK},
		{gate.UnknownReject, []gatetest.Step{typed("4711")}, gate.OutcomeRejected},
	}
	for _, tt := range tests {
		t.Run(string(tt.rule), func(t *testing.T) {
			g := staticGate(h, "4711")
			g.Identification.Mode = gate.IdentTable
			g.Identification.UnknownCaller = tt.rule
			e := newEnv(t, g)
			c := call("+4930999999", tt.steps...)
			if rec := e.flow.Run(context.Background(), c); rec.Outcome != tt.want {
				t.Fatalf("outcome %s, want %s", rec.Outcome, tt.want)
			}
		})
	}
}

func TestFlowResultVariables(t *testing.T) {
	h := mustHasher(t)
	g := staticGate(h, "4711")
	g.Routes.OnCorrect = gate.Target{Kind: gate.TargetExtension, Exten: "100"}
	g.Routes.Connecting = true
	g.Prompts = gate.Prompts{gate.PromptWelcome: "custom/hotline-welcome"}
	e := newEnv(t, g)
	c := call("+4917612345678", typed("4711"))
	e.flow.Run(context.Background(), c)
	for name, want := range map[string]string{gate.VarResult: "pin_ok", gate.VarGate: "hotline", gate.VarTarget: "staff,100,1"} {
		if got := c.Var(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	want := []gate.PromptKey{gate.PromptWelcome, gate.PromptAskPIN, gate.PromptConnecting}
	if !slices.Equal(c.Played(), want) {
		t.Errorf("played %v, want %v", c.Played(), want)
	}
	if p := c.Prompts()[0]; p.Name != "custom/hotline-welcome" {
		t.Errorf("welcome played as %q", p.Name)
	}
}

func TestFlowLockoutAnonymousAndGateWide(t *testing.T) {
	h := mustHasher(t)
	wrong := func(caller string) *gatetest.Call { return call(caller, typed("1"), typed("2"), typed("3")) }
	t.Run("anonymous callers share one counter", func(t *testing.T) {
		g := staticGate(h, "4711")
		g.Lockout = gate.LockoutPolicy{MaxFailures: 2, Window: gate.Duration(time.Hour), Duration: gate.Duration(time.Hour)}
		e := newEnv(t, g)
		for range 2 {
			e.flow.Run(context.Background(), wrong(""))
		}
		if rec := e.flow.Run(context.Background(), call("anonymous", typed("4711"))); rec.Outcome != gate.OutcomeLockedOut {
			t.Fatalf("withheld number after 2 failures: %s, want locked_out", rec.Outcome)
		}
	})
	t.Run("gate-wide limit over many numbers", func(t *testing.T) {
		g := staticGate(h, "4711")
		g.Lockout = gate.LockoutPolicy{MaxFailures: 100, GateMaxFailures: 3, Window: gate.Duration(time.Hour), Duration: gate.Duration(time.Hour)}
		e := newEnv(t, g)
		for i := range 3 {
			e.flow.Run(context.Background(), wrong(fmt.Sprintf("+49176000000%d", i)))
		}
		c := call("+4917699999999", typed("4711"))
		if rec := e.flow.Run(context.Background(), c); rec.Outcome != gate.OutcomeLockedOut || c.Answered() != 0 {
			t.Fatalf("fresh number after 3 failures at the gate: %s (answered %d), want locked_out unanswered", rec.Outcome, c.Answered())
		}
	})
}

func TestFlowTransportFailureIsRecorded(t *testing.T) {
	h := mustHasher(t)
	e := newEnv(t, staticGate(h, "4711"))
	c := call("+4917612345678", typed("4711"))
	c.FailOn = map[string]error{"answer": errors.New("ari: 500")}
	rec := e.flow.Run(context.Background(), c)
	if rec.Outcome != gate.OutcomeFailed || rec.ErrorClass != "transport" {
		t.Fatalf("outcome %q class %q, want failed/transport", rec.Outcome, rec.ErrorClass)
	}
}
