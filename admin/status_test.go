package admin_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/vipgate/vipgate/admin"
	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/gate/gatetest"
)

// TestStatus runs calls through gate.Flow with the API's Metrics as
// observer and checks what GET /api/v1/status reports: the counts since
// start and in the window, the sources, the store and the age of the last
// decision.
func TestStatus(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	r := e.do(e.tokens[gate.RoleViewer], "GET", "/api/v1/status", nil)
	mustStatus(t, r, http.StatusOK)
	var st admin.Status
	r.json(t, &st)
	if st.Status != "ok" || st.Store != "ok" || st.SinceStart.Calls != 0 || st.LastDecisionAt != nil || len(st.Sources) != 0 {
		t.Fatalf("fresh status %+v", st)
	}
	if st.Window == nil || st.Window.Seconds != admin.DefaultStatusWindow.Seconds() || st.Window.Calls != 0 {
		t.Fatalf("fresh window %+v", st.Window)
	}

	g := tableGate("vip")
	g["lockout"] = map[string]any{"max_failures": 1, "window": "1h", "duration": "1h"}
	mustStatus(t, e.admin("POST", "/api/v1/gates", g), http.StatusCreated)
	mustStatus(t, e.admin("POST", "/api/v1/gates/vip/pins", map[string]any{"caller": "+4917612345678", "pin": "8642"}), http.StatusCreated)
	// The calls arrive 2 minutes before the API's clock; the first is an
	// hour older and falls outside a 30-minute window.
	at := []time.Time{now.Add(-time.Hour), now.Add(-2 * time.Minute), now.Add(-2 * time.Minute)}
	i := 0
	clock := func() time.Time { return at[min(i, len(at)-1)] }
	eng := gate.NewEngine(gate.EngineConfig{Store: e.store, Hasher: e.hasher, Region: "DE"})
	flow := gate.NewFlow(eng, gate.FlowConfig{Log: e.store, Counters: e.store, Observer: e.metrics, Now: clock})
	calls := []struct {
		steps []gatetest.Step
		want  gate.Outcome
	}{
		{[]gatetest.Step{{Digits: "8642", Terminated: true}}, gate.OutcomePINOK},
		{[]gatetest.Step{{Digits: "1111", Terminated: true}, {Digits: "2222", Terminated: true}, {Digits: "3333", Terminated: true}}, gate.OutcomePINFailed},
		{nil, gate.OutcomeLockedOut},
	}
	for n, c := range calls {
		i = n
		call := &gatetest.Call{CallInfo: gate.CallInfo{ID: "c" + itoa(n), Source: "agi", Caller: "+4917612345678", Called: "+49309990"}, Steps: c.steps}
		if rec := flow.Run(context.Background(), call); rec.Outcome != c.want {
			t.Fatalf("call %d: outcome %s, want %s", n, rec.Outcome, c.want)
		}
	}
	e.metrics.SourceState("ari", "pbx1", true)
	e.metrics.SourceState("agi", "127.0.0.1:4573", false)

	r = e.do(e.tokens[gate.RoleViewer], "GET", "/api/v1/status?window=30m", nil)
	mustStatus(t, r, http.StatusOK)
	st = admin.Status{}
	r.json(t, &st)
	if st.Status != "degraded" {
		t.Errorf("status %q with agi down, want degraded", st.Status)
	}
	want := admin.StatusCounts{Calls: 3, Failed: 0, Lockouts: 1, PINFailures: 3}
	if st.SinceStart != want {
		t.Errorf("since start %+v, want %+v", st.SinceStart, want)
	}
	if st.Window == nil || *st.Window != (admin.StatusWindow{Seconds: 1800, Calls: 2, Lockouts: 1, PINFailed: 1}) {
		t.Errorf("window %+v", st.Window)
	}
	wantSources := []admin.StatusSource{{Source: "agi", Server: "127.0.0.1:4573"}, {Source: "ari", Server: "pbx1", Up: true}}
	if len(st.Sources) != 2 || st.Sources[0] != wantSources[0] || st.Sources[1] != wantSources[1] {
		t.Errorf("sources %+v, want %+v", st.Sources, wantSources)
	}
	if st.LastDecisionAt == nil || st.LastDecisionAgeSeconds < 119 || st.LastDecisionAgeSeconds > 120 {
		t.Errorf("last decision %v, age %v s, want about 120 s", st.LastDecisionAt, st.LastDecisionAgeSeconds)
	}
	if st.InFlight != 0 {
		t.Errorf("in flight %d", st.InFlight)
	}

	r = e.do(e.tokens[gate.RoleViewer], "GET", "/api/v1/status?window=soon", nil)
	mustStatus(t, r, http.StatusUnprocessableEntity)
	if f := r.fields(t); len(f) != 1 || f[0] != "window" {
		t.Errorf("fields %v, want [window]", f)
	}
}
