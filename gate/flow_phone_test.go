package gate_test

import (
	"bytes"
	"context"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/gate/gatetest"
)

const overridePIN = "4711"

// phoneGate is staticGate with a phone override PIN.
func phoneGate(h *gate.Hasher, po gate.PhoneOverride) *gate.Gate {
	g := staticGate(h, "1234")
	ph := h.Hash(overridePIN)
	po.PIN = &ph
	g.PhoneOverride = &po
	return g
}

// phoneEnv is newEnv over an audited store with a log of its own.
type phoneEnv struct {
	store *gatetest.Store
	flow  *gate.Flow
	now   time.Time
	log   *bytes.Buffer
}

func newPhoneEnv(t *testing.T, gates ...*gate.Gate) *phoneEnv {
	t.Helper()
	st := gatetest.NewStore()
	for _, g := range gates {
		g.Normalize()
		if err := g.Validate(); err != nil {
			t.Fatal(err)
		}
		if err := st.CreateGate(context.Background(), g); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	e := gate.NewEngine(gate.EngineConfig{Store: gate.Audited(st, "test"), Hasher: mustHasher(t), Region: "DE", Logger: log})
	f := gate.NewFlow(e, gate.FlowConfig{Log: st, Counters: st, Now: func() time.Time { return now }, Logger: log})
	return &phoneEnv{store: st, flow: f, now: now, log: &buf}
}

func overrideCall(caller string, action gate.OverrideAction, steps ...gatetest.Step) *gatetest.Call {
	return &gatetest.Call{CallInfo: gate.CallInfo{ID: "p1", Source: "test", Caller: caller, Called: "*55", GateName: "hotline",
		Override: &gate.OverrideRequest{Gate: "hotline", Action: action}}, Steps: steps}
}

func TestFlowPhoneOverride(t *testing.T) {
	h := mustHasher(t)
	forcedOff := &gate.Override{Active: false, Reason: "api"}
	tests := []struct {
		name     string
		po       gate.PhoneOverride
		before   *gate.Override
		caller   string
		action   gate.OverrideAction
		steps    []gatetest.Step
		want     *gate.Override // nil: no override afterwards
		result   string
		played   []string // sound names, in order
		device   string   // DEVICE_STATE value set on the channel ("" none)
		attempts int
	}{
		{name: "toggle of an active gate forces it off", caller: "201", action: gate.ActionToggle, steps: []gatetest.Step{typed(overridePIN)},
			want: &gate.Override{Active: false}, result: gate.ResultOverrideOff, played: []string{"vipgate/ask-pin", "de-activated"}, device: "ONHOLD", attempts: 1},
		{name: "toggle of a forced gate clears it", before: forcedOff, caller: "201", action: gate.ActionToggle, steps: []gatetest.Step{typed(overridePIN)},
			result: gate.ResultOverrideSchedule, played: []string{"vipgate/ask-pin", "cancelled"}, device: "NOT_INUSE", attempts: 1},
		{name: "on", before: forcedOff, caller: "201", action: gate.ActionOn, steps: []gatetest.Step{typed(overridePIN)},
			want: &gate.Override{Active: true}, result: gate.ResultOverrideOn, played: []string{"vipgate/ask-pin", "activated"}, device: "INUSE", attempts: 1},
		{name: "on for two hours after a wrong PIN", po: gate.PhoneOverride{For: gate.Duration(2 * time.Hour)}, caller: "201", action: gate.ActionOn,
			steps: []gatetest.Step{typed("9999"), typed(overridePIN)},
			want:  &gate.Override{Active: true, Until: time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)}, result: gate.ResultOverrideOn,
			played: []string{"vipgate/ask-pin", "vipgate/wrong-pin", "activated"}, device: "INUSE", attempts: 2},
		{name: "schedule", before: forcedOff, caller: "201", action: gate.ActionSchedule, steps: []gatetest.Step{typed(overridePIN)},
			result: gate.ResultOverrideSchedule, played: []string{"vipgate/ask-pin", "cancelled"}, device: "NOT_INUSE", attempts: 1},
		{name: "the gate's own confirmation prompt", po: gate.PhoneOverride{}, caller: "201", action: gate.ActionOn, steps: []gatetest.Step{typed(overridePIN)},
			want: &gate.Override{Active: true}, result: gate.ResultOverrideOn, played: []string{"vipgate/ask-pin", "custom/forced-on"}, device: "INUSE", attempts: 1},
		{name: "three wrong PINs", before: forcedOff, caller: "201", action: gate.ActionOn, steps: []gatetest.Step{typed("1111"), typed("2222"), typed("1234")},
			want: forcedOff, result: gate.ResultOverrideWrongPIN, played: []string{"vipgate/ask-pin", "vipgate/wrong-pin", "vipgate/wrong-pin", "vipgate/rejected"}, attempts: 3},
		{name: "an outside caller is refused", caller: "+4930123456", action: gate.ActionOn, steps: []gatetest.Step{typed(overridePIN)},
			result: gate.ResultOverrideRefused, played: []string{"vipgate/unavailable"}},
		{name: "any caller when allowed", po: gate.PhoneOverride{Callers: gate.PhoneCallersAny}, caller: "+4930123456", action: gate.ActionOn, steps: []gatetest.Step{typed(overridePIN)},
			want: &gate.Override{Active: true}, result: gate.ResultOverrideOn, played: []string{"vipgate/ask-pin", "activated"}, device: "INUSE", attempts: 1},
		{name: "a withheld number is no internal caller", caller: "", action: gate.ActionOn, steps: []gatetest.Step{typed(overridePIN)},
			result: gate.ResultOverrideRefused, played: []string{"vipgate/unavailable"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := phoneGate(h, tt.po)
			if strings.Contains(tt.name, "own confirmation") {
				g.Prompts = gate.Prompts{gate.PromptOverrideOn: "custom/forced-on"}
			}
			g.Override = tt.before
			env := newPhoneEnv(t, g)
			if tt.before != nil {
				if err := env.store.SetOverride(context.Background(), "hotline", tt.before); err != nil {
					t.Fatal(err)
				}
			}
			c := overrideCall(tt.caller, tt.action, tt.steps...)
			rec := env.flow.Run(context.Background(), c)
			var played []string
			for _, p := range c.Prompts() {
				played = append(played, p.Name)
			}
			if !slices.Equal(played, tt.played) {
				t.Errorf("played %q, want %q", played, tt.played)
			}
			if got := c.Var(gate.VarResult); got != tt.result {
				t.Errorf("%s = %q, want %q", gate.VarResult, got, tt.result)
			}
			if got := c.Var("DEVICE_STATE(Custom:vipgate-hotline)"); got != tt.device {
				t.Errorf("DEVICE_STATE = %q, want %q", got, tt.device)
			}
			if c.HangupCause() != gate.CauseNormal {
				t.Errorf("hang-up cause %q (ops %s), want normal", c.HangupCause(), c.Ops())
			}
			if rec.Attempts != tt.attempts {
				t.Errorf("attempts = %d, want %d", rec.Attempts, tt.attempts)
			}
			stored, err := env.store.GetGate(context.Background(), "hotline")
			if err != nil {
				t.Fatal(err)
			}
			switch o := stored.Override; {
			case tt.want == nil && o != nil:
				t.Errorf("override %+v, want none", *o)
			case tt.want != nil && o == nil:
				t.Errorf("no override, want %+v", *tt.want)
			case tt.want != nil && (o.Active != tt.want.Active || !o.Until.Equal(tt.want.Until)):
				t.Errorf("override %+v, want active %v until %v", *o, tt.want.Active, tt.want.Until)
			}
			audit, err := env.store.ListAudit(context.Background(), gate.AuditFilter{GateID: "hotline"})
			if err != nil {
				t.Fatal(err)
			}
			changed := tt.device != ""
			if changed && (len(audit) != 1 || audit[0].Actor != "phone:"+tt.caller || !strings.HasPrefix(audit[0].Action, "override.")) {
				t.Errorf("audit %+v, want one override entry by phone:%s", audit, tt.caller)
			}
			if !changed && len(audit) != 0 {
				t.Errorf("audit %+v, want none", audit)
			}
			if calls := env.store.Calls(); len(calls) != 0 {
				t.Errorf("%d call-log rows for a phone override call, want none", len(calls))
			}
			logs := env.log.String()
			for _, secret := range []string{overridePIN, "9999", "1111", "2222"} {
				if strings.Contains(logs, secret) {
					t.Errorf("the log shows typed digits %q:\n%s", secret, logs)
				}
			}
			if !strings.Contains(logs, `"msg":"phone override"`) {
				t.Errorf("no phone override line in the log:\n%s", logs)
			}
		})
	}
}

// TestFlowPhoneOverrideLockout checks that wrong override PINs count
// towards the gate's lockout as the guesses of a screened call do: once
// spent, the next call is turned away before the dialogue.
func TestFlowPhoneOverrideLockout(t *testing.T) {
	h := mustHasher(t)
	g := phoneGate(h, gate.PhoneOverride{})
	g.Lockout = gate.LockoutPolicy{MaxFailures: 1, Window: gate.Duration(15 * time.Minute), Duration: gate.Duration(30 * time.Minute)}
	env := newPhoneEnv(t, g)
	first := overrideCall("201", gate.ActionOn, typed("1111"), typed("2222"), typed("3333"))
	env.flow.Run(context.Background(), first)
	if got := first.Var(gate.VarResult); got != gate.ResultOverrideWrongPIN {
		t.Fatalf("first call: %s = %q", gate.VarResult, got)
	}
	second := overrideCall("201", gate.ActionOn, typed(overridePIN))
	env.flow.Run(context.Background(), second)
	if got := second.Var(gate.VarResult); got != gate.ResultOverrideLockedOut {
		t.Errorf("second call: %s = %q, want %s", gate.VarResult, got, gate.ResultOverrideLockedOut)
	}
	if played := second.Played(); !slices.Equal(played, []gate.PromptKey{gate.PromptLockedOut}) {
		t.Errorf("second call played %q, want only the locked-out prompt", played)
	}
	if stored, _ := env.store.GetGate(context.Background(), "hotline"); stored.Override != nil {
		t.Errorf("a locked-out caller set the override: %+v", *stored.Override)
	}
	// Another internal caller is not locked out.
	third := overrideCall("202", gate.ActionOn, typed(overridePIN))
	env.flow.Run(context.Background(), third)
	if got := third.Var(gate.VarResult); got != gate.ResultOverrideOn {
		t.Errorf("other caller: %s = %q, want %s", gate.VarResult, got, gate.ResultOverrideOn)
	}
}

func TestFlowPhoneOverrideRefused(t *testing.T) {
	h := mustHasher(t)
	noPIN := staticGate(h, "1234")
	noPIN.ID, noPIN.Match.Numbers = "plain", []string{"2000"}
	env := newPhoneEnv(t, phoneGate(h, gate.PhoneOverride{}), noPIN)
	for _, req := range []gate.OverrideRequest{
		{Gate: "nosuch", Action: gate.ActionOn},
		{Gate: "plain", Action: gate.ActionOn},
		{Gate: "hotline", Action: "maybe", Problem: "unknown action"},
	} {
		c := &gatetest.Call{CallInfo: gate.CallInfo{ID: "p", Source: "test", Caller: "201", GateName: req.Gate, Override: &req}, Steps: []gatetest.Step{typed(overridePIN)}}
		env.flow.Run(context.Background(), c)
		if got := c.Var(gate.VarResult); got != gate.ResultOverrideRefused {
			t.Errorf("%+v: %s = %q, want %s", req, gate.VarResult, got, gate.ResultOverrideRefused)
		}
		if played := c.Played(); !slices.Equal(played, []gate.PromptKey{gate.PromptUnavailable}) {
			t.Errorf("%+v: played %q, want the unavailable prompt only", req, played)
		}
	}
	for _, id := range []string{"hotline", "plain"} {
		if g, _ := env.store.GetGate(context.Background(), id); g.Override != nil {
			t.Errorf("gate %s got an override: %+v", id, *g.Override)
		}
	}
}

func TestFlowPhoneOverrideUntilChange(t *testing.T) {
	h := mustHasher(t)
	g := phoneGate(h, gate.PhoneOverride{UntilChange: true})
	g.Activation = gate.Activation{Mode: gate.ActiveSchedule, Schedule: &gate.Schedule{TimeZone: "UTC", Active: gate.Outside,
		Windows: []gate.Window{{Days: []string{"mon-fri"}, From: "08:00", To: "17:00"}}}}
	env := newPhoneEnv(t, g)
	// Friday 10:00, inside the window: the gate is inactive; toggle forces
	// it on until the window closes at 17:00.
	c := overrideCall("201", gate.ActionToggle, typed(overridePIN))
	env.flow.Run(context.Background(), c)
	stored, _ := env.store.GetGate(context.Background(), "hotline")
	want := time.Date(2026, 11, 27, 17, 0, 0, 0, time.UTC)
	if o := stored.Override; o == nil || !o.Active || !o.UntilChange || !o.Until.Equal(want) {
		t.Errorf("override %+v, want forced on until %v (the schedule's next change)", o, want)
	}
}

func TestGatePhoneOverrideValidate(t *testing.T) {
	h := mustHasher(t)
	tests := []struct {
		name  string
		po    *gate.PhoneOverride
		field string
	}{
		{"no pin", &gate.PhoneOverride{}, "phone_override.pin_hash"},
		{"for and until change", &gate.PhoneOverride{For: gate.Duration(time.Hour), UntilChange: true}, "phone_override.until_change"},
		{"negative for", &gate.PhoneOverride{For: gate.Duration(-time.Hour)}, "phone_override.for"},
		{"until change without schedule", &gate.PhoneOverride{UntilChange: true}, "phone_override.until_change"},
		{"callers", &gate.PhoneOverride{Callers: "friends"}, "phone_override.callers"},
		{"device", &gate.PhoneOverride{Device: "SIP/201"}, "phone_override.device"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := staticGate(h, "1234")
			if tt.name != "no pin" {
				ph := h.Hash(overridePIN)
				tt.po.PIN = &ph
			}
			g.PhoneOverride = tt.po
			g.Normalize()
			err := g.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.field) {
				t.Errorf("Validate() = %v, want an error naming %s", err, tt.field)
			}
		})
	}
	g := phoneGate(h, gate.PhoneOverride{Device: "Stasis:hotline-blf", For: gate.Duration(time.Hour)})
	g.Normalize()
	if err := g.Validate(); err != nil {
		t.Errorf("valid phone override: %v", err)
	}
	if g.Device() != "Stasis:hotline-blf" || gate.DefaultDevice("x") != "Custom:vipgate-x" {
		t.Errorf("Device() = %q", g.Device())
	}
}

func TestOverrideDeviceState(t *testing.T) {
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		o    *gate.Override
		want string
	}{
		{nil, "NOT_INUSE"},
		{&gate.Override{Active: true}, "INUSE"},
		{&gate.Override{Active: false}, "ONHOLD"},
		{&gate.Override{Active: true, Until: now.Add(time.Minute)}, "INUSE"},
		{&gate.Override{Active: true, Until: now}, "NOT_INUSE"}, // expired
	} {
		g := &gate.Gate{ID: "g", Override: tt.o}
		if got := g.OverrideStateAt(now).DeviceState(); got != tt.want {
			t.Errorf("override %+v: device state %q, want %q", tt.o, got, tt.want)
		}
	}
}
