package agi

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/gate/gatetest"
)

// flowPIN is the static PIN of the gate in the flow transcripts.
const flowPIN = "4719"

// staticPINGate is an always-active static-PIN gate named "hotline" for the
// number 0301234567, that forwards after a wrong PIN to staff,900,1 when
// forwardWrong is set and else rejects as busy after the announcement.
func staticPINGate(t testing.TB, h *gate.Hasher, forwardWrong bool) *gate.Gate {
	t.Helper()
	ph := h.Hash(flowPIN)
	g := &gate.Gate{
		ID:             "hotline",
		Enabled:        true,
		Match:          gate.Match{Numbers: []string{"0301234567"}},
		Activation:     gate.Activation{Mode: gate.ActiveAlways},
		Identification: gate.Identification{Mode: gate.IdentStatic, StaticPIN: &ph, Region: "DE"},
		Dialogue: gate.Dialogue{MaxRetries: 2, MinDigits: 4, MaxDigits: 6,
			FirstDigitTimeout: gate.Duration(5 * time.Second), InterDigitTimeout: gate.Duration(3 * time.Second)},
		Routes: gate.Routes{ForwardContext: "staff", OnCorrect: gate.Continue, OnIncorrect: gate.Hangup(gate.CauseBusy),
			Reject: gate.RejectStyle{Cause: gate.CauseBusy, Announce: true}},
		Failure: gate.FailurePolicy{Action: gate.FailReject},
	}
	if forwardWrong {
		g.Routes.OnIncorrect = gate.Target{Kind: gate.TargetLocation, Context: "staff", Exten: "900", Priority: 1}
	}
	g.Normalize()
	if err := g.Validate(); err != nil {
		t.Fatal(err)
	}
	return g
}

// newFlow returns a Flow over an in-memory store holding gates, and the
// store.
func newFlow(t testing.TB, gates func(h *gate.Hasher) []*gate.Gate, log ...*slog.Logger) (*gate.Flow, *gatetest.Store) {
	t.Helper()
	h, err := gate.NewHasher([]byte("vipgate-agi-test-key-0123456789"))
	if err != nil {
		t.Fatal(err)
	}
	st := gatetest.NewStore()
	for _, g := range gates(h) {
		if err := st.CreateGate(context.Background(), g); err != nil {
			t.Fatal(err)
		}
	}
	e := gate.NewEngine(gate.EngineConfig{Store: st, Hasher: h, Region: "DE"})
	cfg := gate.FlowConfig{Log: st, Counters: st}
	if len(log) > 0 {
		cfg.Logger = log[0]
	}
	return gate.NewFlow(e, cfg), st
}

// TestFlowTranscripts runs a whole gate.Flow (static-PIN gate, in-memory
// store) over AGI. The "flow" step reports the call-log row as
// "outcome=.. target=.. attempts=..".
func TestFlowTranscripts(t *testing.T) {
	for _, tr := range loadTranscripts(t, "flow-*.agi") {
		t.Run(strings.TrimSuffix(tr.name, ".agi"), func(t *testing.T) {
			flow, st := newFlow(t, func(h *gate.Hasher) []*gate.Gate {
				return []*gate.Gate{staticPINGate(t, h, strings.Contains(tr.name, "forward"))}
			})
			log := runTranscript(t, tr, func(ctx context.Context, c gate.Call) string {
				rec := flow.Run(ctx, c)
				return fmt.Sprintf("outcome=%s target=%s attempts=%d", rec.Outcome, rec.Target, rec.Attempts)
			})
			if strings.Contains(log.String(), flowPIN) {
				t.Error("the log contains the PIN")
			}
			calls, n, err := st.ListCalls(context.Background(), gate.CallFilter{})
			if err != nil || n != 1 {
				t.Fatalf("call log: %d rows, %v; want 1", n, err)
			}
			if calls[0].Source != "agi" || calls[0].ChannelID != "1700000000.1" {
				t.Errorf("call log row %+v: want source agi and the AGI uniqueid", calls[0])
			}
		})
	}
}
