package gate_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/gate/gatetest"
)

func notifyRule() gate.NotifyRule {
	return gate.NotifyRule{Name: "ops", Events: []gate.NotifyEvent{gate.EventLockedOut},
		Webhook: &gate.NotifyWebhook{URL: "https://hooks.example/vipgate", Secret: "rule-secret-81f2"},
		Email:   &gate.NotifyEmail{To: []string{"ops@example.com"}}, RateLimit: 10,
		QuietHours: &gate.QuietHours{From: "22:00", To: "07:00"}}
}

func TestValidateNotifyNamesTheField(t *testing.T) {
	for _, tc := range []struct {
		field string
		edit  func(r *gate.NotifyRule)
	}{
		{"notify[0].name", func(r *gate.NotifyRule) { r.Name = "Ops Team" }},
		{"notify[0].events[0]", func(r *gate.NotifyRule) { r.Events = []gate.NotifyEvent{"vip_arrived"} }},
		{"notify[0].webhook", func(r *gate.NotifyRule) { r.Webhook, r.Email = nil, nil }},
		{"notify[0].webhook.url", func(r *gate.NotifyRule) { r.Webhook.URL = "ftp://x" }},
		{"notify[0].webhook.url", func(r *gate.NotifyRule) { r.Webhook.URL = "https://u:p@x.example/" }},
		{"notify[0].webhook.secret", func(r *gate.NotifyRule) { r.Webhook.Secret = "a\nb" }},
		{"notify[0].email.to", func(r *gate.NotifyRule) { r.Email.To = nil }},
		{"notify[0].email.to[0]", func(r *gate.NotifyRule) { r.Email.To = []string{"Ops <ops@example.com>"} }},
		{"notify[0].email.to[0]", func(r *gate.NotifyRule) { r.Email.To = []string{"ops@example.com\r\nBcc: x@y.z"} }},
		{"notify[0].rate_limit", func(r *gate.NotifyRule) { r.RateLimit = -1 }},
		{"notify[0].quiet_hours.from", func(r *gate.NotifyRule) { r.QuietHours.From = "25:00" }},
		{"notify[0].quiet_hours.to", func(r *gate.NotifyRule) { r.QuietHours.To = "22:00" }},
		{"notify[0].quiet_hours.action", func(r *gate.NotifyRule) { r.QuietHours.Action = "mute" }},
	} {
		g := validGate()
		r := notifyRule()
		tc.edit(&r)
		g.Notify = []gate.NotifyRule{r}
		err := g.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.field+":") {
			t.Errorf("%s: Validate = %v, want an error naming %s", tc.field, err, tc.field)
		}
	}
	g := validGate()
	g.Notify = []gate.NotifyRule{notifyRule(), notifyRule()}
	if err := g.Validate(); err == nil || !strings.Contains(err.Error(), "notify[1].name:") {
		t.Errorf("two rules of one name: %v, want notify[1].name", err)
	}
	g.Notify = []gate.NotifyRule{notifyRule()}
	if err := g.Validate(); err != nil {
		t.Errorf("a valid rule: %v", err)
	}
}

func validGate() *gate.Gate {
	g := &gate.Gate{ID: "hotline", Name: "Hotline", Enabled: true, Activation: gate.Activation{Mode: gate.ActiveAlways},
		Identification: gate.Identification{Mode: gate.IdentTable, UnknownCaller: gate.UnknownReject, Region: "DE"}}
	g.Normalize()
	return g
}

func TestNotifySecretSealedRedactedKept(t *testing.T) {
	g := validGate()
	g.Notify = []gate.NotifyRule{notifyRule()}
	sealed, err := gate.SealSecrets(g, fakeBox{})
	if err != nil {
		t.Fatal(err)
	}
	if s := sealed.Notify[0].Webhook.Secret; s != "sealed(rule-secret-81f2)" {
		t.Errorf("sealed rule secret = %q, want it sealed", s)
	}
	if g.Notify[0].Webhook.Secret != "rule-secret-81f2" {
		t.Error("SealSecrets changed its argument")
	}
	if _, err := gate.OpenSecrets(sealed, fakeBox{}); err != nil || sealed.Notify[0].Webhook.Secret != "rule-secret-81f2" {
		t.Errorf("opened rule secret = %q, %v", sealed.Notify[0].Webhook.Secret, err)
	}
	shown := gate.RedactNotify(g.Notify)
	if shown[0].Webhook.Secret != gate.Redacted || g.Notify[0].Webhook.Secret != "rule-secret-81f2" {
		t.Errorf("RedactNotify = %q (original %q), want the copy redacted only", shown[0].Webhook.Secret, g.Notify[0].Webhook.Secret)
	}
	gate.KeepNotifySecrets(shown, g.Notify)
	if shown[0].Webhook.Secret != "rule-secret-81f2" {
		t.Errorf("KeepNotifySecrets = %q, want the stored secret back", shown[0].Webhook.Secret)
	}
}

// TestAuditRedactsNotifySecret: the audit log records a changed rule
// secret as a redacted change, never its value.
func TestAuditRedactsNotifySecret(t *testing.T) {
	ctx := context.Background()
	raw := gatetest.NewStore()
	s := gate.Audited(raw, "cli:alice")
	g := validGate()
	g.Notify = []gate.NotifyRule{notifyRule()}
	if err := s.CreateGate(ctx, g); err != nil {
		t.Fatal(err)
	}
	g2 := g.Clone()
	g2.Notify[0].Webhook.Secret = "rule-secret-changed-93c"
	if err := s.UpdateGate(ctx, g2); err != nil {
		t.Fatal(err)
	}
	list, err := raw.ListAudit(ctx, gate.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(list)
	for _, secret := range []string{"rule-secret-81f2", "rule-secret-changed-93c"} {
		if strings.Contains(string(b), secret) {
			t.Errorf("the audit log holds the rule secret %q:\n%s", secret, b)
		}
	}
	if !strings.Contains(string(b), `"notify_secrets.ops"`) {
		t.Errorf("the audit log does not record the secret's change (redacted):\n%s", b)
	}
}

func TestQuietHoursSameDay(t *testing.T) {
	q := &gate.QuietHours{From: "09:00", To: "17:00"}
	loc := time.UTC
	if end, ok := q.Quiet(time.Date(2026, 6, 1, 12, 0, 0, 0, loc), loc); !ok || !end.Equal(time.Date(2026, 6, 1, 17, 0, 0, 0, loc)) {
		t.Errorf("noon: %v %v, want quiet until 17:00", end, ok)
	}
	if _, ok := q.Quiet(time.Date(2026, 6, 1, 17, 0, 0, 0, loc), loc); ok {
		t.Error("17:00 is quiet, want the end exclusive")
	}
	if _, ok := (*gate.QuietHours)(nil).Quiet(time.Now(), loc); ok {
		t.Error("no quiet hours are quiet")
	}
}

// lockoutSpy is an Observer that also hears of lockouts.
type lockoutSpy struct {
	mu   sync.Mutex
	seen []gate.Lockout
}

func (*lockoutSpy) CallStarted(string)            {}
func (*lockoutSpy) CallFinished(*gate.CallRecord) {}
func (s *lockoutSpy) LockoutSet(l *gate.Lockout) {
	s.mu.Lock()
	s.seen = append(s.seen, *l)
	s.mu.Unlock()
}

// TestFlowTellsLockoutObservers: the flow tells a LockoutObserver among
// its observers of each lockout it sets, once.
func TestFlowTellsLockoutObservers(t *testing.T) {
	h := mustHasher(t)
	g := staticGate(h, "4711")
	g.Lockout = gate.LockoutPolicy{MaxFailures: 3, Window: gate.Duration(time.Hour), Duration: gate.Duration(30 * time.Minute), MaxParallel: 100, GateMaxParallel: 100}
	st := gatetest.NewStore()
	if err := st.CreateGate(context.Background(), g); err != nil {
		t.Fatal(err)
	}
	spy := &lockoutSpy{}
	e := gate.NewEngine(gate.EngineConfig{Store: st, Hasher: h, Region: "DE"})
	flow := gate.NewFlow(e, gate.FlowConfig{Log: gatetest.NewStore(), Counters: st, Observer: gate.Observers{spy}})
	attack := gatetest.Guessing{Calls: 3, Callers: []string{"+4917610000001"}, Wrong: []string{"1111", "2222", "3333"}, Right: "4711", Called: "1000"}
	if last, _ := attack.Run(func(c *gatetest.Call) *gate.CallRecord { return flow.Run(context.Background(), c) }); last.Outcome != gate.OutcomeLockedOut {
		t.Fatalf("the last call: %s, want locked_out", last.Outcome)
	}
	spy.mu.Lock()
	defer spy.mu.Unlock()
	if len(spy.seen) != 1 || spy.seen[0].Caller != "+4917610000001" || spy.seen[0].GateID != g.ID || spy.seen[0].Failures != 9 {
		t.Fatalf("lockouts observed = %+v, want the caller's one after 9 wrong PINs (3 dialogues)", spy.seen)
	}
}
