package console_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/vipgate/vipgate/gate"
)

// TestGateEditorKeepsPhoneOverride: saving a gate in the editor keeps its
// phone override (the API shows it without the PIN and does not take it
// back in that form).
func TestGateEditorKeepsPhoneOverride(t *testing.T) {
	e := newEnv(t)
	g := staticGate("g1")
	h, err := gate.NewHasher([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	ph := h.Hash("8080")
	g.PhoneOverride = &gate.PhoneOverride{PIN: &ph, Callers: gate.PhoneCallersAny}
	if err := e.store.CreateGate(context.Background(), g); err != nil {
		t.Fatal(err)
	}
	b := e.as(gate.RoleAdmin)
	resp, body := b.post("/gates/g1", url.Values{"id": {"g1"}, "name": {"Renamed"}, "enabled": {"on"}, "activation.mode": {"always"},
		"identification.mode": {"table"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d\n%s", resp.StatusCode, body)
	}
	stored, err := e.store.GetGate(context.Background(), "g1")
	if err != nil {
		t.Fatal(err)
	}
	if stored.Name != "Renamed" {
		t.Errorf("name %q: the form was not saved", stored.Name)
	}
	if p := stored.PhoneOverride; p == nil || p.PIN == nil || p.Callers != gate.PhoneCallersAny {
		t.Errorf("phone override after the save: %+v", p)
	}
}
