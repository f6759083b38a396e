package admin_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/vipgate/vipgate/gate"
)

// TestPINsNeverInResponses plants known PINs through every way the API
// takes them, calls every reading endpoint, and checks that no response
// body, header or log line holds a PIN, a PIN hash or a token.
func TestPINsNeverInResponses(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	const staticPIN, entryPIN, newPIN = "90817263", "5647382910", "31415926"

	mustStatus(t, e.admin("POST", "/api/v1/gates", staticGate("hotline", staticPIN)), http.StatusCreated)
	g := tableGate("vip")
	g["identification"].(map[string]any)["unknown_caller"] = "static"
	g["identification"].(map[string]any)["static_pin"] = staticPIN
	g["dialogue"].(map[string]any)["max_digits"] = 12
	mustStatus(t, e.admin("POST", "/api/v1/gates", g), http.StatusCreated)
	r := e.admin("POST", "/api/v1/gates/vip/pins", map[string]any{"caller": "+4917612345678", "pin": entryPIN, "label": "boss"})
	mustStatus(t, r, http.StatusCreated)
	var ent entryJSON
	r.json(t, &ent)
	mustStatus(t, e.admin("PUT", fmt.Sprintf("/api/v1/gates/vip/pins/%d", ent.ID), map[string]any{"caller": "+4917612345678", "pin": newPIN}), http.StatusOK)
	// Rejected writes must not echo the PIN either.
	e.admin("POST", "/api/v1/gates/vip/pins", map[string]any{"caller": "bad-number", "pin": entryPIN + "x"})
	e.admin("POST", "/api/v1/gates", staticGate("Bad", staticPIN+"x"))
	if err := e.store.LogCall(ctx, &gate.CallRecord{At: now, GateID: "vip", Caller: "+4917612345678", Outcome: gate.OutcomePINOK, Attempts: 1}); err != nil {
		t.Fatal(err)
	}

	for _, path := range []string{
		"/api/v1/gates", "/api/v1/gates/hotline", "/api/v1/gates/vip", "/api/v1/gates/vip/pins",
		fmt.Sprintf("/api/v1/gates/vip/pins/%d", ent.ID), "/api/v1/gates/vip/pins?caller=%2B4917612345678",
		"/api/v1/calls", "/api/v1/calls?format=csv", "/api/v1/lockouts", "/api/v1/prompts", "/api/v1/tokens", "/metrics",
	} {
		mustStatus(t, e.admin("GET", path, nil), http.StatusOK)
	}
	for _, in := range []map[string]any{
		{"gate": "hotline", "caller": "+4915100000000", "called": "1"},
		{"gate": "vip", "caller": "+4917612345678", "called": "1"},
		{"gate": "vip", "caller": "+4915100000000", "called": "1"},
	} {
		mustStatus(t, e.admin("POST", "/api/v1/explain", in), http.StatusOK)
	}

	// The hashes as stored, in their text form.
	secrets := []string{staticPIN, entryPIN, newPIN}
	for _, id := range []string{"hotline", "vip"} {
		sg, err := e.store.GetGate(ctx, id)
		if err != nil || sg.Identification.StaticPIN == nil {
			t.Fatalf("gate %s: %v, static PIN %v", id, err, sg)
		}
		secrets = append(secrets, sg.Identification.StaticPIN.String())
	}
	se, err := e.store.GetEntry(ctx, "vip", ent.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !e.hasher.Check(se.PIN, newPIN) {
		t.Fatal("the PIN update did not reach the store")
	}
	secrets = append(secrets, se.PIN.String())
	for _, tok := range e.tokens {
		secrets = append(secrets, tok, tok[16:])
	}
	e.mu.Lock()
	bodies := append([]string{e.logs.String()}, e.bodies...)
	e.mu.Unlock()
	if len(bodies) < 20 {
		t.Fatalf("only %d responses recorded", len(bodies))
	}
	for _, b := range bodies {
		for _, s := range secrets {
			if strings.Contains(b, s) {
				t.Errorf("secret %.6s… appears in %.300s", s, b)
			}
		}
		if strings.Contains(b, "static_pin_hash") || strings.Contains(b, `"pin":`) || strings.Contains(b, `"static_pin":`) {
			t.Errorf("a PIN field appears in %.300s", b)
		}
	}
}
