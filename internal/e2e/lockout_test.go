package e2e_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/internal/e2e"
)

// TestE2EARIParallelGuessing places 10 real calls at once from one number
// at a static-PIN gate whose lockout allows 3 guesses (1 failure × 3
// attempts), each typing 3 wrong PINs: they all pass the lockout check at
// the start long before the first guess is typed, so only counting each
// guess before it is judged keeps the guesses to the budget.
func TestE2EARIParallelGuessing(t *testing.T) {
	cfg := e2e.ConfigFromEnv(t)
	ast := e2e.Start(t, cfg)
	h, err := gate.NewHasher(e2e.HasherKey)
	if err != nil {
		t.Fatal(err)
	}
	pin := h.Hash("4711")
	g := &gate.Gate{
		ID: "guarded", Enabled: true, Match: gate.Match{Numbers: []string{"6000"}},
		Activation:     gate.Activation{Mode: gate.ActiveAlways},
		Identification: gate.Identification{Mode: gate.IdentStatic, StaticPIN: &pin, Region: "DE"},
		Dialogue:       dialogue(), Routes: routes(),
		Failure: gate.FailurePolicy{Action: gate.FailReject},
		Lockout: gate.LockoutPolicy{MaxFailures: 1, Window: gate.Duration(time.Hour), Duration: gate.Duration(time.Hour), MaxParallel: 100},
	}
	vg := e2e.StartVipgate(t, ast, []*gate.Gate{g}, nil, nil)

	const calls = 10
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for i := range calls {
		wg.Go(func() {
			c := e2e.CallSpec{ID: fmt.Sprint(601 + i), Caller: "5550600", Exten: "6000", DTMF: "1111#ww2222#ww3333#", Hold: 10 * time.Second}
			if _, err := ast.Originate(ctx, c); err != nil {
				t.Error(err)
				return
			}
			if _, err := ast.WaitResult(ctx, c.ID); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	var rows []*gate.CallRecord
	for ctx.Err() == nil {
		rows = rows[:0]
		for _, r := range vg.Store.Calls() {
			if r.GateID == g.ID {
				rows = append(rows, r)
			}
		}
		if len(rows) == calls {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(rows) != calls {
		t.Fatalf("%d call-log rows, want %d", len(rows), calls)
	}
	// Judged guesses from the call log: a pin_failed call had all its
	// attempts judged; a locked_out call was refused at its last attempt.
	judged := 0
	for _, r := range rows {
		switch r.Outcome {
		case gate.OutcomePINFailed:
			judged += r.Attempts
		case gate.OutcomeLockedOut:
			judged += max(r.Attempts-1, 0)
		default:
			t.Errorf("call %s: outcome %s, want pin_failed or locked_out", r.ChannelID, r.Outcome)
		}
	}
	if judged != 3 {
		t.Errorf("%d wrong guesses judged over %d parallel calls, want exactly the budget of 3", judged, calls)
	}
}
