package sqlite_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/gate/gatetest"
	"github.com/vipgate/vipgate/storage/sqlite"
)

// TestParallelGuessingThroughFlow runs 30 calls at once through a Flow on
// the SQLite store, all past the lockout check before any guess is
// judged, then a late call with the right PIN: the store's guess counters
// hold the wrong guesses to the lockout's budget (3 failures × 3 attempts)
// and refuse the late call, for one number and spread over 30.
func TestParallelGuessingThroughFlow(t *testing.T) {
	h, err := gate.NewHasher([]byte("vipgate-sqlite-lockout-test-key-0123"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		lockout gate.LockoutPolicy
		callers int
	}{
		{"one caller", gate.LockoutPolicy{MaxFailures: 3}, 1},
		{"many callers, gate-wide", gate.LockoutPolicy{MaxFailures: 100, GateMaxFailures: 3}, 30},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := MustOpen(t, sqlite.Options{})
			pin := h.Hash("4711")
			g := &gate.Gate{
				ID: "hotline", Enabled: true,
				Match:          gate.Match{Numbers: []string{"1000"}},
				Activation:     gate.Activation{Mode: gate.ActiveAlways},
				Identification: gate.Identification{Mode: gate.IdentStatic, StaticPIN: &pin, Region: "DE"},
				Dialogue:       gate.Dialogue{MaxRetries: 3, MinDigits: 4, MaxDigits: 8},
				Lockout:        tt.lockout,
			}
			g.Lockout.Window, g.Lockout.Duration = gate.Duration(time.Hour), gate.Duration(30*time.Minute)
			g.Lockout.MaxParallel, g.Lockout.GateMaxParallel = 100, 100
			g.Normalize()
			if err := g.Validate(); err != nil {
				t.Fatal(err)
			}
			if err := s.CreateGate(context.Background(), g); err != nil {
				t.Fatal(err)
			}
			j := &gatetest.Judgements{}
			e := gate.NewEngine(gate.EngineConfig{Store: s, Hasher: h, Region: "DE"})
			f := gate.NewFlow(e, gate.FlowConfig{Log: s, Counters: s, Logger: slog.New(j)})
			callers := make([]string, tt.callers)
			for i := range callers {
				callers[i] = fmt.Sprintf("+49176200000%02d", i)
			}
			attack := gatetest.Guessing{Calls: 30, Callers: callers, Wrong: []string{"1111", "2222", "3333"}, Right: "4711", Called: "1000"}
			last, _ := attack.Run(func(c *gatetest.Call) *gate.CallRecord { return f.Run(context.Background(), c) })
			if n := j.Wrong(); n != 9 {
				t.Errorf("%d wrong guesses judged, want exactly the budget of 9", n)
			}
			if last.Outcome != gate.OutcomeLockedOut {
				t.Errorf("the right PIN after %d wrong guesses: %s, want locked_out", j.Wrong(), last.Outcome)
			}
		})
	}
}
