package admin_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/vipgate/vipgate/admin"
	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/gate/gatetest"
	"github.com/vipgate/vipgate/webhook"
)

// Metrics is what the call path reports to. The admin package itself does
// not import webhook; this test checks that the method sets still match.
var (
	_ gate.Observer    = (*admin.Metrics)(nil)
	_ webhook.Observer = (*admin.Metrics)(nil)
)

// TestMetricsFromFlow runs calls through gate.Flow with Metrics as its
// observer, gates written through the API, and checks the counters.
func TestMetricsFromFlow(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g := tableGate("vip")
	g["lockout"] = map[string]any{"max_failures": 1, "window": "1h", "duration": "1h"}
	mustStatus(t, e.admin("POST", "/api/v1/gates", g), http.StatusCreated)
	mustStatus(t, e.admin("POST", "/api/v1/gates/vip/pins", map[string]any{"caller": "+4917612345678", "pin": "8642"}), http.StatusCreated)

	eng := gate.NewEngine(gate.EngineConfig{Store: e.store, Hasher: e.hasher, Region: "DE"})
	flow := gate.NewFlow(eng, gate.FlowConfig{Counters: e.store, Observer: e.metrics})
	calls := []struct {
		caller string
		steps  []gatetest.Step
		want   gate.Outcome
	}{
		{"+4917612345678", []gatetest.Step{{Digits: "1111", Terminated: true}, {Digits: "8642", Terminated: true}}, gate.OutcomePINOK},
		{"+4917612345678", []gatetest.Step{{Digits: "1111", Terminated: true}, {Digits: "2222", Terminated: true}, {Digits: "3333", Terminated: true}}, gate.OutcomePINFailed},
		{"+4917612345678", nil, gate.OutcomeLockedOut},
	}
	for i, c := range calls {
		call := &gatetest.Call{CallInfo: gate.CallInfo{ID: "c" + itoa(i), Source: "agi", Caller: c.caller, Called: "+49309990"}, Steps: c.steps}
		rec := flow.Run(context.Background(), call)
		if rec.Outcome != c.want {
			t.Fatalf("call %d: outcome %s, want %s (ops %s)", i, rec.Outcome, c.want, call.Ops())
		}
	}
	body := scrape(t, e.metrics)
	for _, want := range []struct {
		sample string
		value  float64
	}{
		{`vipgate_calls_total{gate="vip",outcome="pin_ok"}`, 1},
		{`vipgate_calls_total{gate="vip",outcome="pin_failed"}`, 1},
		{`vipgate_calls_total{gate="vip",outcome="locked_out"}`, 1},
		{`vipgate_pin_failures_total{gate="vip"}`, 4},
		{`vipgate_lockouts_total{gate="vip"}`, 1},
		{`vipgate_calls_in_flight`, 0},
		{`vipgate_decision_seconds_count`, 3},
	} {
		checkSample(t, body, want.sample, want.value)
	}
	for _, n := range []string{"4917612345678", "49309990"} {
		if strings.Contains(body, n) {
			t.Errorf("metrics hold number %s", n)
		}
	}
}
