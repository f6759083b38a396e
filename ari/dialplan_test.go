package ari_test

import (
	"context"
	"maps"
	"strings"
	"sync"
	"testing"

	"github.com/vipgate/vipgate/ari"
	"github.com/vipgate/vipgate/ari/arifake"
	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/gate/gatetest"
)

// TestDialplanTableOverARI sends every row of gatetest's dialplan table
// through the fake Asterisk as Stasis(vipgate,<args>) at its extension,
// with its DNID in CALLERID(dnid), and checks what the Handler is told and
// the variables gate.Flow sets on the channel: the same rows give the same
// answers over FastAGI (agi's TestDialplanTableOverAGI) and in gate.
func TestDialplanTableOverARI(t *testing.T) {
	f := newFake(t, arifake.Config{})
	var mu sync.Mutex
	seen := map[string]gate.CallInfo{}
	flow := gatetest.DialplanFlow()
	startApp(t, func(ctx context.Context, c gate.Call) {
		mu.Lock()
		seen[c.Info().ID] = c.Info()
		mu.Unlock()
		flow.Run(ctx, c)
	}, nil, f)
	for _, tt := range gatetest.DialplanCases {
		t.Run(tt.Name, func(t *testing.T) {
			id, err := f.Call(arifake.CallSpec{Exten: tt.Exten, Args: tt.Args, DNID: tt.DNID})
			if err != nil {
				t.Fatal(err)
			}
			r := result(t, f, id)
			vars := gatetest.ResultVars(func(name string) string { return r.Vars[name] })
			if want := gatetest.DialplanVars(flow, tt); !maps.Equal(vars, want) {
				t.Errorf("channel variables %v, want %v", vars, want)
			}
			mu.Lock()
			info := seen[id]
			mu.Unlock()
			if info.Called != tt.Called || info.GateName != tt.Gate {
				t.Errorf("called %q gate %q, want %q %q", info.Called, info.GateName, tt.Called, tt.Gate)
			}
			// CALLERID(dnid) is asked for only when the rule needs it.
			asked := false
			for _, r := range f.Requests() {
				if strings.Contains(r.Path, id+"/variable") && r.Method == "GET" {
					asked = true
				}
			}
			if want := tt.Exten == "s" && (tt.Called == tt.DNID); asked != want {
				t.Errorf("GET CALLERID(dnid) sent: %v, want %v", asked, want)
			}
		})
	}
}

// TestCollectUsesGateDefaults checks that a Collect without timeouts waits
// as long as over FastAGI: gate's one pair of digit timeouts.
func TestCollectUsesGateDefaults(t *testing.T) {
	got := make(chan gate.CollectOptions, 1)
	defer ari.SetCollectHook(func(o gate.CollectOptions) { got <- o })()
	f := newFake(t, arifake.Config{})
	startApp(t, func(ctx context.Context, c gate.Call) {
		_ = c.Answer(ctx)
		_, _ = c.Collect(ctx, gate.Prompt{}, gate.CollectOptions{MaxDigits: 4})
		_ = c.Continue(ctx, gate.Continue)
	}, nil, f)
	id, err := f.Call(arifake.CallSpec{})
	if err != nil {
		t.Fatal(err)
	}
	o := <-got
	if o.FirstDigit != gate.DefaultFirstDigitTimeout || o.InterDigit != gate.DefaultInterDigitTimeout || o.Terminator != "#" {
		t.Errorf("Collect ran with %+v, want gate's defaults %v/%v and #", o, gate.DefaultFirstDigitTimeout, gate.DefaultInterDigitTimeout)
	}
	if err := f.CallerHangup(id); err != nil {
		t.Fatal(err)
	}
}

// TestLetGoWithoutResult checks that a call the Handler lets go of without
// setting VIPGATE_RESULT is marked fallback, as over FastAGI, and that a
// result the Handler set is kept.
func TestLetGoWithoutResult(t *testing.T) {
	tests := []struct {
		name    string
		handler func(ctx context.Context, c gate.Call)
		kind    string
		want    string
	}{
		{"continue", func(ctx context.Context, c gate.Call) { _ = c.Continue(ctx, gate.Continue) }, "continue", gate.ResultFallback},
		{"hangup", func(ctx context.Context, c gate.Call) { _ = c.Hangup(ctx, gate.CauseBusy) }, "hangup", gate.ResultFallback},
		{"result kept", func(ctx context.Context, c gate.Call) {
			_ = c.SetVars(ctx, gate.Var{Name: gate.VarResult, Value: "pin_ok"})
			_ = c.Continue(ctx, gate.Continue)
		}, "continue", "pin_ok"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, arifake.Config{})
			startApp(t, tt.handler, nil, f)
			id, err := f.Call(arifake.CallSpec{})
			if err != nil {
				t.Fatal(err)
			}
			r := result(t, f, id)
			if r.Kind != tt.kind || r.Vars[gate.VarResult] != tt.want {
				t.Errorf("result %s %s=%q, want %s %q", r.Kind, gate.VarResult, r.Vars[gate.VarResult], tt.kind, tt.want)
			}
		})
	}
}
