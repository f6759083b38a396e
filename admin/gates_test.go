package admin_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
)

func TestGatesCRUD(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.admin("POST", "/api/v1/gates", staticGate("hotline", "4711"))
	mustStatus(t, r, http.StatusCreated)
	if loc := r.header.Get("Location"); loc != "/api/v1/gates/hotline" {
		t.Errorf("Location %q", loc)
	}
	var g struct {
		ID             string `json:"id"`
		Name           string `json:"name"`
		Identification map[string]any
	}
	r.json(t, &g)
	if g.ID != "hotline" || g.Identification["static_pin_set"] != true {
		t.Errorf("created gate %s", r.body)
	}
	if _, ok := g.Identification["static_pin_hash"]; ok {
		t.Errorf("response holds the PIN hash: %s", r.body)
	}

	r = e.admin("POST", "/api/v1/gates", staticGate("hotline", "4711"))
	mustStatus(t, r, http.StatusConflict)
	r.fields(t)

	r = e.do(e.tokens["viewer"], "GET", "/api/v1/gates", nil)
	mustStatus(t, r, http.StatusOK)
	var list struct{ Items []map[string]any }
	r.json(t, &list)
	if len(list.Items) != 1 || list.Items[0]["id"] != "hotline" {
		t.Errorf("list %s", r.body)
	}

	// Update without static_pin keeps the PIN; the name changes.
	upd := staticGate("hotline", "")
	delete(upd["identification"].(map[string]any), "static_pin")
	upd["name"] = "Renamed"
	r = e.admin("PUT", "/api/v1/gates/hotline", upd)
	mustStatus(t, r, http.StatusOK)
	r = e.admin("GET", "/api/v1/gates/hotline", nil)
	mustStatus(t, r, http.StatusOK)
	r.json(t, &g)
	if g.Name != "Renamed" || g.Identification["static_pin_set"] != true {
		t.Errorf("after update: %s", r.body)
	}

	// The ID in the body cannot differ from the URL.
	r = e.admin("PUT", "/api/v1/gates/hotline", staticGate("other", "4711"))
	mustStatus(t, r, http.StatusUnprocessableEntity)
	if f := r.fields(t); !slices.Contains(f, "id") {
		t.Errorf("fields %v", f)
	}

	mustStatus(t, e.admin("DELETE", "/api/v1/gates/hotline", nil), http.StatusNoContent)
	r = e.admin("GET", "/api/v1/gates/hotline", nil)
	mustStatus(t, r, http.StatusNotFound)
	r.fields(t)
	mustStatus(t, e.admin("DELETE", "/api/v1/gates/hotline", nil), http.StatusNotFound)
	mustStatus(t, e.admin("PUT", "/api/v1/gates/hotline", staticGate("hotline", "4711")), http.StatusNotFound)
}

func TestGateValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		body   any
		status int
		fields []string
	}{
		{"bad id", staticGate("Bad ID!", "4711"), 422, []string{"id"}},
		{"PIN with letters", staticGate("g1", "47a1"), 422, []string{"identification.static_pin"}},
		{"PIN too short for the gate", staticGate("g1", "12"), 422, []string{"identification.static_pin"}},
		{"weak PIN refused", func() any {
			g := staticGate("g1", "1234")
			g["dialogue"].(map[string]any)["reject_weak"] = true
			return g
		}(), 422, []string{"identification.static_pin"}},
		{"unknown field", func() any {
			g := staticGate("g1", "4711")
			g["colour"] = "red"
			return g
		}(), 400, []string{"colour"}},
		{"hash cannot be written", func() any {
			g := staticGate("g1", "4711")
			g["identification"].(map[string]any)["static_pin_hash"] = "v1$AAAA$BBBB"
			return g
		}(), 400, []string{"identification.static_pin_hash"}},
		{"override is not part of the gate", func() any {
			g := staticGate("g1", "4711")
			g["override"] = map[string]any{"active": true}
			return g
		}(), 400, []string{"override"}},
		{"wrong type", func() any {
			g := staticGate("g1", "4711")
			g["dialogue"].(map[string]any)["max_retries"] = "three"
			return g
		}(), 400, []string{"dialogue.max_retries"}},
		{"internal_max_length too long", func() any {
			g := staticGate("g1", "4711")
			g["numbers"] = map[string]any{"internal_max_length": 16}
			return g
		}(), 422, []string{"numbers.internal_max_length"}},
		{"internal_pattern not a regexp", func() any {
			g := staticGate("g1", "4711")
			g["numbers"] = map[string]any{"internal_pattern": "9[0-9"}
			return g
		}(), 422, []string{"numbers.internal_pattern"}},
		{"malformed JSON", `{"id": "g1",`, 400, []string{"body"}},
		{"trailing data", `{"id": "g1"} {}`, 400, []string{"body"}},
		{"empty body", ``, 400, []string{"body"}},
		{"too large", `{"name": "` + strings.Repeat("x", 70<<10) + `"}`, 413, []string{"body"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			r := e.admin("POST", "/api/v1/gates", tt.body)
			mustStatus(t, r, tt.status)
			got := r.fields(t)
			for _, f := range tt.fields {
				if !slices.Contains(got, f) {
					t.Errorf("fields %v lack %q; body %s", got, f, r.body)
				}
			}
		})
	}
}

func TestGateContentType(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.admin("POST", "/api/v1/gates", []byte(`{"id":"x"}`), "Content-Type", "text/plain")
	mustStatus(t, r, http.StatusBadRequest)
	if f := r.fields(t); !slices.Contains(f, "body") {
		t.Errorf("fields %v", f)
	}
}

// TestWebhookSecretsRedacted checks that webhook credentials are not
// shown, and that writing a gate back as shown keeps them.
func TestWebhookSecretsRedacted(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g := staticGate("crm", "")
	g["identification"] = map[string]any{"mode": "webhook", "webhook": map[string]any{
		"url":     "https://crm.example/check?caller=###CALLER_NUMBER###&api_key=q-789&v=2",
		"headers": map[string]string{"Authorization": "Bearer crm-tok-123", "X-Api-Key": "k-456", "Accept": "application/json"},
	}}
	mustStatus(t, e.admin("POST", "/api/v1/gates", g), http.StatusCreated)
	r := e.do(e.tokens["viewer"], "GET", "/api/v1/gates/crm", nil)
	mustStatus(t, r, http.StatusOK)
	for _, secret := range []string{"crm-tok-123", "k-456", "q-789"} {
		if strings.Contains(string(r.body), secret) {
			t.Errorf("gate answer holds %q: %s", secret, r.body)
		}
	}
	if !strings.Contains(string(r.body), "application/json") || !strings.Contains(string(r.body), "https://crm.example/check") ||
		!strings.Contains(string(r.body), `?caller=###CALLER_NUMBER###\u0026api_key=[redacted]\u0026v=2`) {
		t.Errorf("non-secret parts missing: %s", r.body)
	}
	// Write back what was read: the stored secrets stay.
	var shown map[string]any
	r.json(t, &shown)
	ident := shown["identification"].(map[string]any)
	delete(ident, "static_pin_set")
	for _, k := range []string{"override", "created_at", "updated_at"} {
		delete(shown, k)
	}
	mustStatus(t, e.admin("PUT", "/api/v1/gates/crm", shown), http.StatusOK)
	sg, err := e.store.GetGate(context.Background(), "crm")
	if err != nil {
		t.Fatal(err)
	}
	wh := sg.Identification.Webhook
	if wh.Headers["Authorization"] != "Bearer crm-tok-123" || wh.Headers["X-Api-Key"] != "k-456" || !strings.Contains(wh.URL, "api_key=q-789") {
		t.Errorf("secrets lost on write-back: %+v", wh)
	}
}

// TestDuplicateKeysRefused sends bodies in which one key appears twice in
// an object: encoding/json would keep the last value, so a reviewer who
// reads the first one is misled. Every JSON handler refuses them, naming
// the key, and changes nothing.
func TestDuplicateKeysRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mustStatus(t, e.admin("POST", "/api/v1/gates", tableGate("vip")), http.StatusCreated)
	tests := []struct {
		name, method, path, body, field string
	}{
		{"gate id twice", "POST", "/api/v1/gates",
			`{"id":"g1","id":"g2","name":"x","enabled":true,"match":{"numbers":["+4971112345"]},"activation":{"mode":"always"},"identification":{"mode":"static","static_pin":"4711"},"dialogue":{},"routes":{},"failure":{},"lockout":{}}`, "id"},
		{"nested key twice", "PUT", "/api/v1/gates/vip",
			`{"id":"vip","name":"x","enabled":true,"match":{"numbers":["+4971112345"]},"activation":{"mode":"always"},"identification":{"mode":"table","mode":"static","static_pin":"4711"},"dialogue":{},"routes":{},"failure":{},"lockout":{}}`, "identification.mode"},
		{"key twice in a list element", "PUT", "/api/v1/gates/vip",
			`{"id":"vip","name":"x","enabled":true,"match":{"numbers":["+4971112345"]},"activation":{"mode":"schedule","schedule":{"time_zone":"Europe/Berlin","active":"outside","windows":[{"days":["mon"],"days":["sun"],"from":"08:00","to":"17:00"}]}},"identification":{"mode":"table"},"dialogue":{},"routes":{},"failure":{},"lockout":{}}`, "activation.schedule.windows[0].days"},
		{"PIN entry", "POST", "/api/v1/gates/vip/pins", `{"caller":"+4917612345678","pin":"8642","pin":"9753"}`, "pin"},
		{"override", "PUT", "/api/v1/gates/vip/override", `{"active":false,"active":true}`, "active"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.admin(tt.method, tt.path, tt.body)
			mustStatus(t, r, http.StatusBadRequest)
			if got := r.fields(t); !slices.Contains(got, tt.field) {
				t.Errorf("fields %v lack %q; body %s", got, tt.field, r.body)
			}
		})
	}
	r := e.admin("GET", "/api/v1/gates/vip", nil)
	mustStatus(t, r, http.StatusOK)
	var g struct {
		Identification struct{ Mode string } `json:"identification"`
		Override       any                   `json:"override"`
	}
	r.json(t, &g)
	if g.Identification.Mode != "table" || g.Override != nil {
		t.Errorf("a refused body changed the gate: %s", r.body)
	}
}
