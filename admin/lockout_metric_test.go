package admin_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/vipgate/vipgate/admin"
	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/gate/gatetest"
)

// TestMetricsGateLockoutActive: vipgate_gate_lockout_active is 1 for a
// gate with a gate-wide lockout in effect (as the store has it, whichever
// instance set it), 0 for gates with a gate-wide limit and none, and 0
// again once the lockout has run out.
func TestMetricsGateLockoutActive(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := gatetest.NewStore()
	for _, g := range []*gate.Gate{
		{ID: "hotline", Lockout: gate.LockoutPolicy{MaxFailures: 3, GateMaxFailures: 10}},
		{ID: "night", Lockout: gate.LockoutPolicy{GateMaxFailures: 10, GateAction: gate.GateSlow}},
		{ID: "open", Lockout: gate.LockoutPolicy{MaxFailures: 3}},
	} {
		if err := st.CreateGate(ctx, g); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	for _, l := range []*gate.Lockout{
		{GateID: "night", Caller: gate.AnyCaller, Until: now.Add(30 * time.Minute)},
		{GateID: "hotline", Caller: "+4917612345678", Until: now.Add(30 * time.Minute)}, // a caller's, not gate-wide
	} {
		if err := st.SetLockout(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
	clock := now
	m := admin.NewMetrics()
	m.WatchGateLockouts(st, func() time.Time { return clock })
	body := scrape(t, m)
	checkSample(t, body, `vipgate_gate_lockout_active{action="slow",gate="night"}`, 1)
	if !strings.Contains(body, `vipgate_gate_lockout_active{action="refuse",gate="hotline"} 0`) {
		t.Errorf("no 0 sample for a gate with a gate-wide limit:\n%s", grepLines(body, "vipgate_gate_lockout_active"))
	}
	if strings.Contains(body, `gate="open"`) {
		t.Errorf("a sample for a gate without a gate-wide limit:\n%s", grepLines(body, "vipgate_gate_lockout_active"))
	}
	clock = now.Add(31 * time.Minute)
	if body := scrape(t, m); !strings.Contains(body, `vipgate_gate_lockout_active{action="slow",gate="night"} 0`) {
		t.Errorf("the gate-wide lockout ran out, but not 0:\n%s", grepLines(body, "vipgate_gate_lockout_active"))
	}

	st.SetErr(errors.New("store down"))
	if body := scrape(t, m); strings.Contains(body, "vipgate_gate_lockout_active{") {
		t.Errorf("samples while the store is down:\n%s", grepLines(body, "vipgate_gate_lockout_active"))
	}
}
