package postgres

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

// TestTwoInstancesShareTheGuessBudget runs 40 calls at once, spread over
// two instances (a store, an engine and a flow each) on one database, all
// past the lockout check before any guess is judged, then a late call
// with the right PIN: the guesses of both instances count against one
// budget (3 failures × 2 attempts), for one number and over 40.
func TestTwoInstancesShareTheGuessBudget(t *testing.T) {
	testDSN(t)
	t.Parallel()
	h := testHasher(t)
	tests := []struct {
		name    string
		lockout gate.LockoutPolicy
		callers int
	}{
		{"one caller", gate.LockoutPolicy{MaxFailures: 3}, 1},
		{"many callers, gate-wide", gate.LockoutPolicy{MaxFailures: 100, GateMaxFailures: 3}, 40},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dsn := freshSchema(t)
			a, b := openStore(t, dsn, Options{}), openStore(t, dsn, Options{})
			pin := h.Hash("4711")
			g := &gate.Gate{
				ID: "hotline", Enabled: true,
				Match:          gate.Match{Numbers: []string{"1000"}},
				Activation:     gate.Activation{Mode: gate.ActiveAlways},
				Identification: gate.Identification{Mode: gate.IdentStatic, StaticPIN: &pin, Region: "DE"},
				Dialogue:       gate.Dialogue{MaxRetries: 2, MinDigits: 4, MaxDigits: 8},
				Lockout:        tt.lockout,
			}
			g.Lockout.Window, g.Lockout.Duration = gate.Duration(time.Hour), gate.Duration(30*time.Minute)
			g.Lockout.MaxParallel, g.Lockout.GateMaxParallel = 100, 100
			g.Normalize()
			if err := g.Validate(); err != nil {
				t.Fatal(err)
			}
			if err := a.CreateGate(context.Background(), g); err != nil {
				t.Fatal(err)
			}
			eventually(t, 5*time.Second, "gate visible on the second instance", func() (bool, string) {
				_, err := b.GetGate(context.Background(), g.ID)
				return err == nil, fmt.Sprint(err)
			})
			j := &gatetest.Judgements{}
			var flows []*gate.Flow
			for _, s := range []*Store{a, b} {
				e := gate.NewEngine(gate.EngineConfig{Store: s, Hasher: h, Region: "DE"})
				flows = append(flows, gate.NewFlow(e, gate.FlowConfig{Log: s, Counters: s, Logger: slog.New(j)}))
			}
			callers := make([]string, tt.callers)
			for i := range callers {
				callers[i] = fmt.Sprintf("+49176300000%02d", i)
			}
			var n atomic.Int64
			attack := gatetest.Guessing{Calls: 40, Callers: callers, Wrong: []string{"1111", "2222"}, Right: "4711", Called: "1000"}
			last, _ := attack.Run(func(c *gatetest.Call) *gate.CallRecord {
				return flows[n.Add(1)%2].Run(context.Background(), c)
			})
			if got := j.Wrong(); got != 6 {
				t.Errorf("%d wrong guesses judged on two instances, want exactly the budget of 6", got)
			}
			if last.Outcome != gate.OutcomeLockedOut {
				t.Errorf("the right PIN after %d wrong guesses: %s, want locked_out", j.Wrong(), last.Outcome)
			}
		})
	}
}
