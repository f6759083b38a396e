package gate_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/gate/gatetest"
)

// TestAuditedRecordsChangesWithoutSecrets makes changes through an
// Audited store and checks who, what and the before/after of each, and
// that no PIN hash, header value or URL password reaches the log.
func TestAuditedRecordsChangesWithoutSecrets(t *testing.T) {
	ctx := context.Background()
	raw := gatetest.NewStore()
	s := gate.Audited(raw, "cli:alice")
	h, err := gate.NewHasher([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	pin := h.Hash("4711")
	g := &gate.Gate{ID: "vip", Name: "VIP", Identification: gate.Identification{Mode: gate.IdentStatic, StaticPIN: &pin}}
	if err := s.CreateGate(ctx, g); err != nil {
		t.Fatal(err)
	}
	g2 := *g
	pin2 := h.Hash("0815")
	g2.Name = "VIP line"
	g2.Identification = gate.Identification{Mode: gate.IdentWebhook, StaticPIN: &pin2, Webhook: &gate.WebhookConfig{
		URL: "https://u:hunter2@crm.example/?token=tok123", Headers: map[string]string{"X-Api": "headerval"}}}
	if err := s.UpdateGate(gate.WithActor(ctx, "token:abc (ops)"), &g2); err != nil {
		t.Fatal(err)
	}
	e := &gate.Entry{GateID: "vip", Pattern: "+4971112345", PIN: h.Hash("1234"), Label: "old"}
	if err := s.PutEntry(ctx, e); err != nil {
		t.Fatal(err)
	}
	e2 := *e
	e2.Label, e2.PIN = "new", h.Hash("9999")
	if err := s.PutEntry(ctx, &e2); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteEntry(ctx, "vip", e.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.SetOverride(ctx, "vip", &gate.Override{Active: true, Reason: "storm"}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteGate(ctx, "vip"); err != nil {
		t.Fatal(err)
	}
	list, err := raw.ListAudit(ctx, gate.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, a := range list {
		actions = append(actions, a.Action)
	}
	want := "gate.delete override.set entry.delete entry.update entry.create gate.update gate.create"
	if strings.Join(actions, " ") != want {
		t.Fatalf("actions %q, want %q", actions, want)
	}
	change := func(a *gate.AuditEntry, field string) *gate.AuditChange {
		for i := range a.Changes {
			if a.Changes[i].Field == field {
				return &a.Changes[i]
			}
		}
		t.Errorf("%s: no change of %s in %+v", a.Action, field, a.Changes)
		return &gate.AuditChange{}
	}
	upd := list[5]
	if upd.Actor != "token:abc (ops)" || list[6].Actor != "cli:alice" {
		t.Errorf("actors %q, %q", upd.Actor, list[6].Actor)
	}
	if c := change(upd, "name"); string(c.Before) != `"VIP"` || string(c.After) != `"VIP line"` {
		t.Errorf("name change %s -> %s", c.Before, c.After)
	}
	for _, f := range []string{"identification.static_pin_hash", "identification.webhook.headers.X-Api", "webhook_url_credentials"} {
		if c := change(upd, f); string(c.After) != gate.RedactedChange {
			t.Errorf("%s after = %s, want %s", f, c.After, gate.RedactedChange)
		}
	}
	entry := list[3]
	if entry.Object == "" || entry.GateID != "vip" {
		t.Errorf("entry update %+v", entry)
	}
	if c := change(entry, "label"); string(c.Before) != `"old"` || string(c.After) != `"new"` {
		t.Errorf("label change %s -> %s", c.Before, c.After)
	}
	if c := change(entry, "pin"); string(c.Before) != gate.RedactedChange || string(c.After) != gate.RedactedChange {
		t.Errorf("pin change %s -> %s", c.Before, c.After)
	}
	if c := change(list[1], "reason"); string(c.After) != `"storm"` {
		t.Errorf("override reason %s", c.After)
	}
	all, _ := json.Marshal(list)
	for _, secret := range []string{pin.String(), pin2.String(), e.PIN.String(), e2.PIN.String(), "hunter2", "tok123", "headerval"} {
		if strings.Contains(string(all), secret) {
			t.Errorf("audit log holds secret %q: %s", secret, all)
		}
	}
}
