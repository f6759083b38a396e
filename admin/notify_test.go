package admin_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/vipgate/vipgate/admin"
	"github.com/vipgate/vipgate/gate"
)

// TestNotifyRulesThroughTheAPI: a gate's notification rules go in and
// out through the gate documents, the rule's secret shown redacted and
// kept when written back; a bad rule is refused naming the field.
func TestNotifyRulesThroughTheAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g := tableGate("vip")
	g["notify"] = []map[string]any{{"name": "ops", "events": []string{"locked_out"},
		"webhook": map[string]any{"url": "https://alerts.example/vipgate", "secret": "rule-secret-4c1e"},
		"email":   map[string]any{"to": []string{"ops@example.com"}}, "rate_limit": 5,
		"quiet_hours": map[string]any{"from": "22:00", "to": "07:00"}}}
	mustStatus(t, e.admin("POST", "/api/v1/gates", g), http.StatusCreated)
	r := e.do(e.tokens["viewer"], "GET", "/api/v1/gates/vip", nil)
	mustStatus(t, r, http.StatusOK)
	if strings.Contains(string(r.body), "rule-secret-4c1e") || !strings.Contains(string(r.body), `"secret":"[redacted]"`) ||
		!strings.Contains(string(r.body), `"to":["ops@example.com"]`) {
		t.Fatalf("gate answer: %s; want the rule with its secret redacted", r.body)
	}
	var shown map[string]any
	r.json(t, &shown)
	delete(shown["identification"].(map[string]any), "static_pin_set")
	for _, k := range []string{"override", "created_at", "updated_at"} {
		delete(shown, k)
	}
	mustStatus(t, e.admin("PUT", "/api/v1/gates/vip", shown), http.StatusOK)
	sg, err := e.store.GetGate(context.Background(), "vip")
	if err != nil {
		t.Fatal(err)
	}
	if len(sg.Notify) != 1 || sg.Notify[0].Webhook.Secret != "rule-secret-4c1e" || sg.Notify[0].RateLimit != 5 {
		t.Fatalf("stored rules after write-back = %+v, want the secret kept", sg.Notify)
	}
	g["notify"] = []map[string]any{{"name": "ops", "email": map[string]any{"to": []string{"not an address"}}}}
	r = e.admin("PUT", "/api/v1/gates/vip", g)
	mustStatus(t, r, http.StatusUnprocessableEntity)
	if !strings.Contains(string(r.body), "notify[0].email.to[0]") {
		t.Errorf("refusal %s does not name notify[0].email.to[0]", r.body)
	}
}

func TestNotifyMetrics(t *testing.T) {
	m := admin.NewMetrics()
	n := admin.NewNotifyMetrics(m)
	n.Sent("webhook")
	n.Sent("webhook")
	n.Failed("email")
	n.Dead("email")
	n.Dropped("outbox_full")
	n.Depth(gate.OutboxDepth{Pending: 7, Dead: 2})
	body := scrape(t, m)
	for _, want := range []string{
		`vipgate_notify_deliveries_total{channel="webhook",result="sent"} 2`,
		`vipgate_notify_deliveries_total{channel="email",result="failed"} 1`,
		`vipgate_notify_deliveries_total{channel="email",result="dead"} 1`,
		`vipgate_notify_dropped_total{reason="outbox_full"} 1`,
		`vipgate_notify_outbox_messages{state="pending"} 7`,
		`vipgate_notify_outbox_messages{state="dead"} 2`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}
