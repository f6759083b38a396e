package ari_test

import (
	"context"
	"testing"
	"time"

	"github.com/vipgate/vipgate/ari/arifake"
	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/gate/gatetest"
)

// TestFlowOverFakeARI runs gate.Flow, the real call flow, over the ARI
// transport against the fake Asterisk.
func TestFlowOverFakeARI(t *testing.T) {
	h, err := gate.NewHasher([]byte("flow-test-key-0123456789abcdef01"))
	if err != nil {
		t.Fatal(err)
	}
	pin := h.Hash(testPIN)
	mk := func(id, number string, active gate.ActivationMode) *gate.Gate {
		return &gate.Gate{
			ID: id, Enabled: true, Match: gate.Match{Numbers: []string{number}},
			Activation:     gate.Activation{Mode: active},
			Identification: gate.Identification{Mode: gate.IdentStatic, StaticPIN: &pin, Region: "DE"},
			Dialogue:       gate.Dialogue{MaxRetries: 2, MinDigits: 4, MaxDigits: 8, FirstDigitTimeout: gate.Duration(500 * time.Millisecond), InterDigitTimeout: gate.Duration(3 * time.Second)},
			Routes:         gate.Routes{ForwardContext: "staff", OnCorrect: gate.Target{Kind: gate.TargetExtension, Exten: "9000", Priority: 1}, OnIncorrect: gate.Hangup(gate.CauseBusy)},
			Failure:        gate.FailurePolicy{Action: gate.FailReject},
		}
	}
	st := gatetest.NewStore()
	for _, g := range []*gate.Gate{mk("hotline", "1000", gate.ActiveAlways), mk("office", "2000", gate.ActiveNever)} {
		if err := st.CreateGate(context.Background(), g); err != nil {
			t.Fatal(err)
		}
	}
	flow := gate.NewFlow(gate.NewEngine(gate.EngineConfig{Store: st, Hasher: h, Region: "DE"}), gate.FlowConfig{Log: st, Counters: st})
	f := newFake(t, arifake.Config{PlaybackDuration: func(m string) time.Duration {
		if m == "sound:vipgate/ask-pin" {
			return time.Hour // only barge-in gets a caller through
		}
		return 50 * time.Millisecond
	}})
	e := startApp(t, func(ctx context.Context, c gate.Call) { flow.Run(ctx, c) }, nil, f)

	tests := []struct {
		name     string
		caller   string
		exten    string
		digits   string
		kind     string
		context  string
		ext      string
		reason   string
		answered bool
		outcome  gate.Outcome
	}{
		{"right PIN during the prompt", "5551", "1000", testPIN + "#", "continue", "staff", "9000", "", true, gate.OutcomePINOK},
		{"wrong PIN twice", "5552", "1000", "0000#", "hangup", "", "", "busy", true, gate.OutcomePINFailed},
		{"inactive gate", "5553", "2000", "", "continue", "from-external", "2000", "", false, gate.OutcomePassed},
		{"no gate", "5554", "7777", "", "continue", "from-external", "7777", "", false, gate.OutcomePassed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := f.Call(arifake.CallSpec{Caller: tt.caller, Exten: tt.exten})
			if err != nil {
				t.Fatal(err)
			}
			if tt.digits != "" {
				waitFor(t, "prompt", playing(f, id, "sound:vipgate/ask-pin"))
				_ = f.SendDTMF(id, tt.digits, 10*time.Millisecond)
			}
			r := result(t, f, id)
			if r.Kind != tt.kind || r.Reason != tt.reason || r.Answered != tt.answered {
				t.Errorf("result %+v", r)
			}
			if tt.kind == "continue" && (r.Context != tt.context || r.Exten != tt.ext) {
				t.Errorf("continued to %s,%s; want %s,%s", r.Context, r.Exten, tt.context, tt.ext)
			}
			waitFor(t, "call log", func() bool {
				for _, rec := range st.Calls() {
					if rec.ChannelID == id {
						if rec.Outcome != tt.outcome || rec.Source != "ari" || rec.CallerRaw != tt.caller || rec.Called != tt.exten {
							t.Errorf("call log %+v", rec)
						}
						return true
					}
				}
				return false
			})
		})
	}
	e.stop()
	checkLogs(t, e.logs.String())
}
