package storagetest

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/gate/gatetest"
)

// ParallelGuessing runs calls at once through gate.Flows on real stores,
// all past the lockout check before any guess is judged, then a late call
// with the right PIN: the stores' guess counters must hold the wrong
// guesses to the lockout's budget (3 failures × attempts, the gate's
// max_retries) and refuse the late call, for one number and spread over as
// many numbers as calls.
//
// open returns the instances the calls are spread over, in turn: one
// store, or several on one database, each with an engine and a flow of its
// own, so that their guesses must count against one budget. It is called
// once per case and must return stores on a fresh, empty database. The
// gate is created through the first store; ParallelGuessing waits until
// every other one sees it.
func ParallelGuessing(t *testing.T, open func(t *testing.T) []gate.Store, calls, attempts int) {
	h, err := gate.NewHasher([]byte("vipgate-storagetest-guessing-key-0123"))
	if err != nil {
		t.Fatal(err)
	}
	wrong := []string{"1111", "2222", "3333", "5555", "6666"}
	if attempts < 1 || attempts > len(wrong) {
		t.Fatalf("attempts %d: want 1 to %d", attempts, len(wrong))
	}
	wrong = wrong[:attempts]
	budget := 3 * attempts
	tests := []struct {
		name    string
		lockout gate.LockoutPolicy
		callers int
	}{
		{"one caller", gate.LockoutPolicy{MaxFailures: 3}, 1},
		{"many callers, gate-wide", gate.LockoutPolicy{MaxFailures: 100, GateMaxFailures: 3}, calls},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stores := open(t)
			if len(stores) == 0 {
				t.Fatal("open returned no store")
			}
			ctx := context.Background()
			pin := h.Hash("4711")
			g := &gate.Gate{
				ID: "hotline", Enabled: true,
				Match:          gate.Match{Numbers: []string{"1000"}},
				Activation:     gate.Activation{Mode: gate.ActiveAlways},
				Identification: gate.Identification{Mode: gate.IdentStatic, StaticPIN: &pin, Region: "DE"},
				Dialogue:       gate.Dialogue{MaxRetries: attempts, MinDigits: 4, MaxDigits: 8},
				Lockout:        tt.lockout,
			}
			g.Lockout.Window, g.Lockout.Duration = gate.Duration(time.Hour), gate.Duration(30*time.Minute)
			g.Lockout.MaxParallel, g.Lockout.GateMaxParallel = 100, 100
			g.Normalize()
			if err := g.Validate(); err != nil {
				t.Fatal(err)
			}
			if err := stores[0].CreateGate(ctx, g); err != nil {
				t.Fatal(err)
			}
			for i, s := range stores[1:] {
				deadline := time.Now().Add(5 * time.Second)
				for {
					_, err := s.GetGate(ctx, g.ID)
					if err == nil {
						break
					}
					if time.Now().After(deadline) {
						t.Fatalf("the gate is not visible on instance %d after 5s: %v", i+2, err)
					}
					time.Sleep(20 * time.Millisecond)
				}
			}
			j := &gatetest.Judgements{}
			var flows []*gate.Flow
			for _, s := range stores {
				e := gate.NewEngine(gate.EngineConfig{Store: s, Hasher: h, Region: "DE"})
				flows = append(flows, gate.NewFlow(e, gate.FlowConfig{Log: s, Counters: s, Logger: slog.New(j)}))
			}
			callers := make([]string, tt.callers)
			for i := range callers {
				callers[i] = fmt.Sprintf("+49176200000%02d", i)
			}
			var n atomic.Int64
			attack := gatetest.Guessing{Calls: calls, Callers: callers, Wrong: wrong, Right: "4711", Called: "1000"}
			last, _ := attack.Run(func(c *gatetest.Call) *gate.CallRecord {
				return flows[int(n.Add(1))%len(flows)].Run(ctx, c)
			})
			if got := j.Wrong(); got != budget {
				t.Errorf("%d wrong guesses judged on %d instance(s), want exactly the budget of %d", got, len(flows), budget)
			}
			if last.Outcome != gate.OutcomeLockedOut {
				t.Errorf("the right PIN after %d wrong guesses: %s, want locked_out", j.Wrong(), last.Outcome)
			}
		})
	}
}
