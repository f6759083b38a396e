package admin_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/vipgate/vipgate/admin"
	"github.com/vipgate/vipgate/gate"
)

func TestMetricsCallFinished(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		rec          gate.CallRecord
		wantFailures float64
		wantLockouts float64
	}{
		{"pass without PIN", gate.CallRecord{GateID: "hotline", Outcome: gate.OutcomePassed}, 0, 0},
		{"correct at first try", gate.CallRecord{GateID: "hotline", Outcome: gate.OutcomePINOK, Attempts: 1}, 0, 0},
		{"correct at third try", gate.CallRecord{GateID: "hotline", Outcome: gate.OutcomePINOK, Attempts: 3}, 2, 0},
		{"all wrong", gate.CallRecord{GateID: "hotline", Outcome: gate.OutcomePINFailed, Attempts: 3}, 3, 0},
		{"hung up at the first prompt", gate.CallRecord{GateID: "hotline", Outcome: gate.OutcomeAbandoned, Attempts: 1}, 0, 0},
		{"hung up after two wrong PINs", gate.CallRecord{GateID: "hotline", Outcome: gate.OutcomeAbandoned, Attempts: 3}, 2, 0},
		{"cut off in the second attempt", gate.CallRecord{GateID: "hotline", Outcome: gate.OutcomeFailed, Attempts: 2, ErrorClass: "shutdown"}, 1, 0},
		{"locked out", gate.CallRecord{GateID: "hotline", Outcome: gate.OutcomeLockedOut}, 0, 1},
		{"no gate", gate.CallRecord{Outcome: gate.OutcomePassed}, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := admin.NewMetrics()
			m.CallStarted("ari")
			checkSample(t, scrape(t, m), "vipgate_calls_in_flight", 1)
			rec := tt.rec
			rec.DecisionLatency = 300 * time.Microsecond
			m.CallFinished(&rec)
			body := scrape(t, m)
			gateLbl := rec.GateID
			if gateLbl == "" {
				gateLbl = "none"
			}
			wantCall := `vipgate_calls_total{gate="` + gateLbl + `",outcome="` + string(rec.Outcome) + `"} 1`
			if !strings.Contains(body, wantCall) {
				t.Errorf("missing %q in\n%s", wantCall, grepLines(body, "vipgate_calls_total"))
			}
			if !strings.Contains(body, "vipgate_calls_in_flight 0") {
				t.Errorf("in flight not back to 0:\n%s", grepLines(body, "in_flight"))
			}
			if !strings.Contains(body, `vipgate_decision_seconds_bucket{le="0.0005"} 1`) || !strings.Contains(body, `vipgate_decision_seconds_bucket{le="0.00025"} 0`) {
				t.Errorf("decision latency 300µs not in the 500µs bucket:\n%s", grepLines(body, "vipgate_decision_seconds_bucket"))
			}
			checkSample(t, body, `vipgate_pin_failures_total{gate="`+gateLbl+`"}`, tt.wantFailures)
			checkSample(t, body, `vipgate_lockouts_total{gate="`+gateLbl+`"}`, tt.wantLockouts)
		})
	}
}

func TestMetricsWebhookAndSources(t *testing.T) {
	t.Parallel()
	m := admin.NewMetrics()
	m.WebhookRequest("crm", 40*time.Millisecond, "")
	m.WebhookRequest("crm", 3*time.Second, "timeout")
	m.WebhookBreaker("crm", true)
	m.WebhookCache("crm", true)
	m.WebhookCache("crm", false)
	m.WebhookCache("crm", false)
	m.SourceState("ari", "pbx1", true)
	m.SourceState("agi", "0.0.0.0:4573", false)
	body := scrape(t, m)
	for _, want := range []struct {
		sample string
		value  float64
	}{
		{`vipgate_webhook_seconds_count{gate="crm"}`, 2},
		{`vipgate_webhook_errors_total{class="timeout",gate="crm"}`, 1},
		{`vipgate_webhook_breaker_open{gate="crm"}`, 1},
		{`vipgate_webhook_cache_total{gate="crm",result="hit"}`, 1},
		{`vipgate_webhook_cache_total{gate="crm",result="miss"}`, 2},
		{`vipgate_source_up{server="pbx1",source="ari"}`, 1},
		{`vipgate_source_up{server="0.0.0.0:4573",source="agi"}`, 0},
	} {
		checkSample(t, body, want.sample, want.value)
	}
	m.WebhookBreaker("crm", false)
	checkSample(t, scrape(t, m), `vipgate_webhook_breaker_open{gate="crm"}`, 0)

	m.CallFinished(&gate.CallRecord{GateID: "crm", Outcome: gate.OutcomePINFailed, Attempts: 2})
	m.CallFinished(&gate.CallRecord{GateID: "crm", Outcome: gate.OutcomeLockedOut})
	checkSample(t, scrape(t, m), `vipgate_pin_failures_total{gate="crm"}`, 2)
	checkSample(t, scrape(t, m), `vipgate_lockouts_total{gate="crm"}`, 1)
	m.CallFinished(&gate.CallRecord{GateID: "other", Outcome: gate.OutcomePassed})
	m.ForgetGate("crm")
	body = scrape(t, m)
	if strings.Contains(body, `gate="crm"`) {
		t.Errorf("series of a forgotten gate remain:\n%s", grepLines(body, `gate="crm"`))
	}
	checkSample(t, body, `vipgate_calls_total{gate="other",outcome="passed"}`, 1)
}

// TestMetricsNoCallerNumbers feeds calls with caller numbers and checks
// that none of them shows up in the exposition.
func TestMetricsNoCallerNumbers(t *testing.T) {
	t.Parallel()
	m := admin.NewMetrics()
	callers := []string{"+4917612345678", "004917699887766", "0711 555 0101"}
	for i, c := range callers {
		m.CallStarted("agi")
		m.CallFinished(&gate.CallRecord{GateID: "hotline", CallerRaw: c, Caller: c, Called: "+49301234567",
			Outcome: []gate.Outcome{gate.OutcomePINOK, gate.OutcomePINFailed, gate.OutcomeLockedOut}[i], Attempts: 2})
	}
	body := scrape(t, m)
	for _, c := range append(callers, "+49301234567", "17612345678", "5550101") {
		if strings.Contains(body, c) {
			t.Errorf("metrics contain caller/called number %q", c)
		}
	}
}

func scrape(t *testing.T, m *admin.Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("metrics status %d", rec.Code)
	}
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

func grepLines(body, substr string) string {
	var out []string
	for _, l := range strings.Split(body, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// checkSample checks the value of one sample; a missing sample counts as 0.
func checkSample(t *testing.T, body, sample string, want float64) {
	t.Helper()
	got := 0.0
	found := false
	for _, l := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(l, sample+" "); ok {
			found = true
			if _, err := fmt.Sscan(v, &got); err != nil {
				t.Fatalf("sample %s: %v", sample, err)
			}
		}
	}
	if !found && want != 0 {
		t.Errorf("sample %s missing, want %v", sample, want)
		return
	}
	if got != want {
		t.Errorf("%s = %v, want %v", sample, got, want)
	}
}
