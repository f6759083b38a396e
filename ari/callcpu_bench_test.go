package ari_test

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/vipgate/vipgate/ari"
	"github.com/vipgate/vipgate/ari/arifake"
	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/gate/gatetest"
)

// processCPU is the CPU time (user and system) of the whole process.
func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkGatedCallFake runs the dialogue of TestE2EPerfCPU, one call
// after the other, against the in-process fake Asterisk: prompt agent-pass,
// PIN 4711#, auth-thankyou, continue. "barge-in" sends the digits while the
// prompt plays (vipgate stops it), "after-prompt" once it has ended. The
// CPU and allocation figures include the fake's and the test's own work;
// a CPU or memory profile separates vipgate's (packages ari and gate).
func BenchmarkGatedCallFake(b *testing.B) {
	for _, mode := range []string{"barge-in", "after-prompt"} {
		b.Run(mode, func(b *testing.B) { benchGatedCall(b, mode == "barge-in") })
	}
}

func benchGatedCall(b *testing.B, bargeIn bool) {
	h, err := gate.NewHasher([]byte("bench-key-0123456789abcdef012345"))
	if err != nil {
		b.Fatal(err)
	}
	pin := h.Hash("4711")
	st := gatetest.NewStore()
	g := &gate.Gate{
		ID: "perf", Enabled: true, Match: gate.Match{Numbers: []string{"7000"}},
		Activation:     gate.Activation{Mode: gate.ActiveAlways},
		Identification: gate.Identification{Mode: gate.IdentStatic, StaticPIN: &pin, Region: "DE"},
		Dialogue:       gate.Dialogue{MaxRetries: 3, MinDigits: 4, MaxDigits: 8, FirstDigitTimeout: gate.Duration(10 * time.Second), InterDigitTimeout: gate.Duration(5 * time.Second)},
		Routes:         gate.Routes{OnCorrect: gate.Continue, OnIncorrect: gate.Hangup(gate.CauseBusy), Connecting: true},
		Prompts:        gate.Prompts{gate.PromptAskPIN: "agent-pass", gate.PromptConnecting: "auth-thankyou"},
		Failure:        gate.FailurePolicy{Action: gate.FailReject},
	}
	if err := st.CreateGate(context.Background(), g); err != nil {
		b.Fatal(err)
	}
	flow := gate.NewFlow(gate.NewEngine(gate.EngineConfig{Store: st, Hasher: h, Region: "DE"}), gate.FlowConfig{Log: st, Counters: st})
	prompt := time.Millisecond
	if bargeIn {
		prompt = 10 * time.Second
	}
	f := arifake.New(arifake.Config{User: testUser, Password: testPass, PlaybackDuration: func(m string) time.Duration {
		if m == "sound:agent-pass" {
			return prompt
		}
		return time.Millisecond
	}})
	defer f.Close()
	app, err := ari.NewApp(ari.AppConfig{
		Servers:      []ari.ServerConfig{{Name: "fake", BaseURL: f.URL(), User: testUser, Password: testPass}},
		Handler:      func(ctx context.Context, c gate.Call) { flow.Run(ctx, c) },
		DrainTimeout: gate.NoDrain,
	})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = app.Run(ctx) }()
	defer func() { cancel(); <-done }()
	for !f.Connected(ari.DefaultApp) {
		time.Sleep(time.Millisecond)
	}
	call := func(n int) {
		id, err := f.Call(arifake.CallSpec{Caller: "0305557" + string(rune('0'+n%10)) + "00", Exten: "7000"})
		if err != nil {
			b.Fatal(err)
		}
		// Digits count once the prompt is playing (barge-in) or has
		// ended.
		want := "done"
		if bargeIn {
			want = "playing"
		}
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(200 * time.Microsecond) {
			if p := f.Plays(id); len(p) > 0 && p[0].State == want {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("call %s: prompt not %s", id, want)
			}
		}
		if err := f.SendDTMF(id, "4711#", 0); err != nil {
			b.Fatal(err)
		}
		wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
		res, err := f.WaitResult(wctx, id)
		wcancel()
		if err != nil {
			b.Fatal(err)
		}
		if res.Kind != "continue" || res.Vars[gate.VarResult] != "pin_ok" {
			b.Fatalf("call %s ended %s with %s=%q", id, res.Kind, gate.VarResult, res.Vars[gate.VarResult])
		}
	}
	call(0) // warm up connections and caches
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := processCPU()
	for i := range b.N {
		call(i)
	}
	b.StopTimer()
	b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/float64(b.N), "cpu-µs/call")
}
