package admin_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// TestGatePhoneOverridePIN checks that the override PIN is write-only:
// hashed when written, never shown (only pin_set), kept on an update that
// leaves it out, checked like a static PIN, and "" removes the phone
// override.
func TestGatePhoneOverridePIN(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g := staticGate("hotline", "4711")
	g["phone_override"] = map[string]any{"pin": "8080", "for": "2h"}
	r := e.admin("POST", "/api/v1/gates", g)
	mustStatus(t, r, http.StatusCreated)
	if strings.Contains(string(r.body), "8080") || strings.Contains(string(r.body), "pin_hash") {
		t.Errorf("response shows the override PIN or its hash: %s", r.body)
	}
	var out struct {
		PhoneOverride map[string]any `json:"phone_override"`
	}
	r.json(t, &out)
	if out.PhoneOverride["pin_set"] != true || out.PhoneOverride["device"] != "Custom:vipgate-hotline" || out.PhoneOverride["for"] != "2h0m0s" {
		t.Errorf("phone_override %v", out.PhoneOverride)
	}
	stored, err := e.store.GetGate(context.Background(), "hotline")
	if err != nil {
		t.Fatal(err)
	}
	if p := stored.PhoneOverride; p == nil || p.PIN == nil || !e.hasher.Check(*p.PIN, "8080") {
		t.Fatalf("stored phone override %+v does not check the PIN", p)
	}

	// An update without phone_override, and one without its pin, keep it.
	upd := staticGate("hotline", "4711")
	mustStatus(t, e.admin("PUT", "/api/v1/gates/hotline", upd), http.StatusOK)
	upd["phone_override"] = map[string]any{"callers": "any"}
	mustStatus(t, e.admin("PUT", "/api/v1/gates/hotline", upd), http.StatusOK)
	stored, _ = e.store.GetGate(context.Background(), "hotline")
	if p := stored.PhoneOverride; p == nil || p.PIN == nil || !e.hasher.Check(*p.PIN, "8080") || p.Callers != "any" || p.For != 0 {
		t.Errorf("after updates: %+v", p)
	}

	// A bad PIN names the field.
	upd["phone_override"] = map[string]any{"pin": "12"}
	r = e.admin("PUT", "/api/v1/gates/hotline", upd)
	mustStatus(t, r, http.StatusUnprocessableEntity)
	if f := r.fields(t); !slices.Contains(f, "phone_override.pin") {
		t.Errorf("fields %v", f)
	}
	upd["phone_override"] = map[string]any{"device": "SIP/201"}
	r = e.admin("PUT", "/api/v1/gates/hotline", upd)
	mustStatus(t, r, http.StatusUnprocessableEntity)
	if f := r.fields(t); !slices.Contains(f, "phone_override.device") {
		t.Errorf("fields %v", f)
	}

	// pin "" removes it.
	upd["phone_override"] = map[string]any{"pin": ""}
	mustStatus(t, e.admin("PUT", "/api/v1/gates/hotline", upd), http.StatusOK)
	stored, _ = e.store.GetGate(context.Background(), "hotline")
	if stored.PhoneOverride != nil {
		t.Errorf("phone override kept: %+v", stored.PhoneOverride)
	}
	// A new gate's phone override needs a PIN.
	g = staticGate("other", "4711")
	g["phone_override"] = map[string]any{"for": "1h"}
	r = e.admin("POST", "/api/v1/gates", g)
	mustStatus(t, r, http.StatusUnprocessableEntity)
	if f := r.fields(t); !slices.Contains(f, "phone_override.pin") {
		t.Errorf("fields %v", f)
	}
}
