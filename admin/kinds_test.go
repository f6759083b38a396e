package admin_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

type kindEntryJSON struct {
	ID       int64  `json:"id"`
	Caller   string `json:"caller"`
	Kind     string `json:"kind"`
	Label    string `json:"label"`
	Priority int    `json:"priority"`
	Target   string `json:"target"`
}

// TestPinsKinds checks allow and deny entries over the API: created
// without a PIN, shown with kind, priority and target, validated by
// field, and judged by explain deny before allow before pin.
func TestPinsKinds(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mustStatus(t, e.admin("POST", "/api/v1/gates", tableGate("vip")), http.StatusCreated)
	op := e.tokens["operator"]

	create := func(body map[string]any) kindEntryJSON {
		t.Helper()
		r := e.do(op, "POST", "/api/v1/gates/vip/pins", body)
		mustStatus(t, r, http.StatusCreated)
		var ent kindEntryJSON
		r.json(t, &ent)
		return ent
	}
	deny := create(map[string]any{"caller": "0711*", "kind": "deny", "label": "blocked"})
	allow := create(map[string]any{"caller": "0711 555", "kind": "allow", "label": "Anna", "priority": 10, "target": "200"})
	vip := create(map[string]any{"caller": "0176 12345678", "kind": "allow", "label": "Bob", "priority": 5})
	pin := create(map[string]any{"caller": "030 123", "pin": "8642"})
	if deny.Kind != "deny" || allow.Kind != "allow" || pin.Kind != "pin" {
		t.Errorf("kinds %q %q %q, want deny allow pin", deny.Kind, allow.Kind, pin.Kind)
	}
	if allow.Priority != 10 || allow.Target != "200" || allow.Label != "Anna" {
		t.Errorf("allow entry shown as %+v", allow)
	}

	// Bad input names the field.
	for _, tt := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"caller": "+4911", "kind": "vip"}, "kind"},
		{map[string]any{"caller": "+4912", "kind": "allow", "pin": "8642"}, "pin"},
		{map[string]any{"caller": "+4913", "kind": "deny", "target": "200"}, "target"},
		{map[string]any{"caller": "+4914", "kind": "allow", "target": "a,b"}, "target"},
		{map[string]any{"caller": "+4915", "kind": "allow", "priority": 1001}, "priority"},
		{map[string]any{"caller": "+4916", "kind": "pin"}, "pin"},
	} {
		r := e.do(op, "POST", "/api/v1/gates/vip/pins", tt.body)
		mustStatus(t, r, http.StatusUnprocessableEntity)
		if f := r.fields(t); !slices.Contains(f, tt.field) {
			t.Errorf("%v: fields %v, want %s", tt.body, f, tt.field)
		}
	}

	// A PIN entry becomes an allow entry without a PIN, and back only
	// with a new PIN.
	path := "/api/v1/gates/vip/pins/" + itoa(int(pin.ID))
	r := e.do(op, "PUT", path, map[string]any{"caller": "030 123", "kind": "allow"})
	mustStatus(t, r, http.StatusOK)
	r = e.do(op, "PUT", path, map[string]any{"caller": "030 123", "kind": "pin"})
	mustStatus(t, r, http.StatusUnprocessableEntity)
	if f := r.fields(t); !slices.Contains(f, "pin") {
		t.Errorf("allow → pin without a PIN: fields %v, want pin", f)
	}
	mustStatus(t, e.do(op, "PUT", path, map[string]any{"caller": "030 123", "kind": "pin", "pin": "9753"}), http.StatusOK)

	// Explain: the deny prefix beats the longer allow entry.
	type explain struct {
		Verdict string `json:"verdict"`
		Target  string `json:"target"`
		Denied  bool   `json:"denied"`
		Entry   *struct {
			ID       int64  `json:"id"`
			Kind     string `json:"kind"`
			Priority int    `json:"priority"`
		} `json:"entry"`
	}
	for _, tt := range []struct {
		caller, verdict string
		entry           int64
		denied          bool
	}{
		{"0711 555", "reject", deny.ID, true},
		{"0176 12345678", "pass", vip.ID, false},
		{"030 123", "ask_pin", pin.ID, false},
	} {
		r := e.do(e.tokens["viewer"], "POST", "/api/v1/explain", map[string]any{"caller": tt.caller, "called": "+49309990"})
		mustStatus(t, r, http.StatusOK)
		var x explain
		r.json(t, &x)
		if x.Verdict != tt.verdict || x.Entry == nil || x.Entry.ID != tt.entry || x.Denied != tt.denied {
			t.Errorf("explain %s: %s", tt.caller, r.body)
		}
	}
	// The call log filter knows the denied outcome.
	mustStatus(t, e.do(e.tokens["viewer"], "GET", "/api/v1/calls?outcome=denied", nil), http.StatusOK)
}

// TestGateWithheldRule checks identification.withheld over the API: shown
// back, validated by field, and applied by explain to a withheld caller.
func TestGateWithheldRule(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g := tableGate("vip")
	g["identification"] = map[string]any{"mode": "table", "unknown_caller": "pass", "withheld": "reject", "region": "DE"}
	r := e.admin("POST", "/api/v1/gates", g)
	mustStatus(t, r, http.StatusCreated)
	var out struct {
		Identification struct {
			Withheld string `json:"withheld"`
		} `json:"identification"`
	}
	r.json(t, &out)
	if out.Identification.Withheld != "reject" {
		t.Errorf("withheld shown as %q: %s", out.Identification.Withheld, r.body)
	}
	var x struct {
		Verdict string `json:"verdict"`
	}
	r = e.do(e.tokens["viewer"], "POST", "/api/v1/explain", map[string]any{"caller": "anonymous", "called": "+49309990"})
	mustStatus(t, r, http.StatusOK)
	r.json(t, &x)
	if x.Verdict != "reject" {
		t.Errorf("withheld caller: %s", r.body)
	}
	r = e.do(e.tokens["viewer"], "POST", "/api/v1/explain", map[string]any{"caller": "+4930555555", "called": "+49309990"})
	r.json(t, &x)
	if x.Verdict != "pass" {
		t.Errorf("caller with a number (unknown_caller pass): %s", r.body)
	}
	for _, ident := range []map[string]any{
		{"mode": "table", "withheld": "callback"},
		{"mode": "table", "withheld": "static"}, // no static PIN
	} {
		g := tableGate("bad")
		g["identification"] = ident
		r := e.admin("POST", "/api/v1/gates", g)
		mustStatus(t, r, http.StatusUnprocessableEntity)
		if f := r.fields(t); !slices.Contains(f, "identification.withheld") {
			t.Errorf("%v: fields %v", ident, f)
		}
	}
}

// TestGatePINSet checks a gate's PIN set over the API: PINs write-only,
// labels and dates shown, kept on an update that omits the set, replaced
// by one that gives it, validated by field, and honoured by explain's
// dialogue setup.
func TestGatePINSet(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g := staticGate("rot", "")
	g["identification"] = map[string]any{"mode": "static", "pin_set": []map[string]any{
		{"label": "November", "pin": "80417", "account": "ACC-11", "valid_from": "2026-11-01", "valid_until": "2026-11-30"},
		{"label": "December", "pin": "90528", "valid_from": "2026-12-01"},
	}}
	r := e.admin("POST", "/api/v1/gates", g)
	mustStatus(t, r, http.StatusCreated)
	for _, pin := range []string{"80417", "90528", "pin_hash"} {
		if strings.Contains(string(r.body), pin) {
			t.Errorf("gate shown with %q: %s", pin, r.body)
		}
	}
	var out struct {
		Identification struct {
			PINSet []struct {
				Label   string `json:"label"`
				Account string `json:"account"`
			} `json:"pin_set"`
		} `json:"identification"`
	}
	r.json(t, &out)
	if len(out.Identification.PINSet) != 2 || out.Identification.PINSet[0].Account != "ACC-11" {
		t.Fatalf("pin set shown as %s", r.body)
	}
	// An update without pin_set keeps it; the gate stays valid without a
	// static PIN.
	g["identification"] = map[string]any{"mode": "static"}
	mustStatus(t, e.admin("PUT", "/api/v1/gates/rot", g), http.StatusOK)
	r = e.admin("GET", "/api/v1/gates/rot", nil)
	r.json(t, &out)
	if len(out.Identification.PINSet) != 2 {
		t.Fatalf("update without pin_set dropped it: %s", r.body)
	}
	// Bad PINs name the field and are not repeated.
	g["identification"] = map[string]any{"mode": "static", "pin_set": []map[string]any{{"label": "x", "pin": "12"}, {"label": "x", "pin": "55555"}}}
	r = e.admin("PUT", "/api/v1/gates/rot", g)
	mustStatus(t, r, http.StatusUnprocessableEntity)
	if f := r.fields(t); !slices.Contains(f, "identification.pin_set[0].pin") {
		t.Errorf("fields %v", f)
	}
	// [] removes the set: a static gate without any PIN is refused.
	g["identification"] = map[string]any{"mode": "static", "pin_set": []map[string]any{}}
	mustStatus(t, e.admin("PUT", "/api/v1/gates/rot", g), http.StatusUnprocessableEntity)
}
