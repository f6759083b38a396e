package admin_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
)

type grantJSON struct {
	ID         int64     `json:"id"`
	Caller     string    `json:"caller"`
	Label      string    `json:"label"`
	MaxUses    int       `json:"max_uses"`
	Uses       int       `json:"uses"`
	State      string    `json:"state"`
	ValidUntil time.Time `json:"valid_until"`
	CreatedBy  string    `json:"created_by"`
	PIN        string    `json:"pin"`
}

func TestGrantsAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mustStatus(t, e.admin("POST", "/api/v1/gates", tableGate("vip")), http.StatusCreated)
	op, viewer := e.tokens["operator"], e.tokens["viewer"]

	mustStatus(t, e.do(viewer, "POST", "/api/v1/gates/vip/grants", map[string]any{"max_uses": 1}), http.StatusForbidden)
	r := e.do(op, "POST", "/api/v1/gates/vip/grants", map[string]any{"caller": "0176 12345678", "max_uses": 1, "valid_for": "24h", "label": "visitor"})
	mustStatus(t, r, http.StatusCreated)
	if r.header.Get("Cache-Control") != "no-store" || !strings.HasPrefix(r.header.Get("Location"), "/api/v1/gates/vip/grants/") {
		t.Errorf("headers %v", r.header)
	}
	var g grantJSON
	r.json(t, &g)
	if len(g.PIN) != 8 || strings.Trim(g.PIN, "0123456789") != "" {
		t.Fatalf("created grant's PIN has %d characters, want 8 digits", len(g.PIN))
	}
	if g.Caller != "+4917612345678" || g.MaxUses != 1 || g.State != "usable" || !g.ValidUntil.Equal(now.Add(24*time.Hour)) ||
		g.Label != "visitor" || !strings.HasPrefix(g.CreatedBy, "token:") {
		t.Errorf("created %s", r.body)
	}
	pin := g.PIN
	// The PIN is the one the call path checks.
	st, err := e.store.ReadCall(context.Background(), "vip", nil, "+4917612345678", now)
	if err != nil || len(st.Grants) != 1 || !e.hasher.Check(st.Grants[0].PIN, pin) {
		t.Fatalf("stored grant does not hold the returned PIN: %v %v", st.Grants, err)
	}
	// explain counts the grants, never shows them: the unknown caller
	// of this table gate is asked for a granted PIN instead of rejected.
	r = e.do(viewer, "POST", "/api/v1/explain", map[string]any{"gate": "vip", "caller": "+4917612345678", "called": "1000", "at": now.Format(time.RFC3339)})
	mustStatus(t, r, http.StatusOK)
	var x struct {
		Verdict string `json:"verdict"`
		AskPIN  struct {
			Expects string `json:"expects"`
			Grants  int    `json:"grants"`
		} `json:"ask_pin"`
	}
	r.json(t, &x)
	if x.Verdict != "ask_pin" || x.AskPIN.Grants != 1 || x.AskPIN.Expects != "a granted PIN" || strings.Contains(string(r.body), pin) {
		t.Errorf("explain: %s", r.body)
	}
	r = e.do(op, "POST", "/api/v1/gates/vip/grants", map[string]any{"valid_until": "2026-03-09"})
	mustStatus(t, r, http.StatusCreated)
	var anyone grantJSON
	r.json(t, &anyone)
	if anyone.Caller != "*" || anyone.MaxUses != 0 {
		t.Errorf("anyone's grant: %s", r.body)
	}

	r = e.do(viewer, "GET", "/api/v1/gates/vip/grants", nil)
	mustStatus(t, r, http.StatusOK)
	var list struct {
		Items []grantJSON `json:"items"`
		Total int         `json:"total"`
	}
	r.json(t, &list)
	if list.Total != 2 || list.Items[0].ID != g.ID || list.Items[1].ID != anyone.ID {
		t.Errorf("list %s", r.body)
	}
	if strings.Contains(string(r.body), pin) || strings.Contains(string(r.body), `"pin`) || strings.Contains(string(r.body), "v1$") {
		t.Errorf("list shows a PIN or hash: %s", r.body)
	}
	mustStatus(t, e.do(op, "DELETE", "/api/v1/gates/vip/grants/"+itoa(int(g.ID)), nil), http.StatusNoContent)
	mustStatus(t, e.do(op, "DELETE", "/api/v1/gates/vip/grants/"+itoa(int(g.ID)), nil), http.StatusNotFound)
	mustStatus(t, e.do(op, "DELETE", "/api/v1/gates/vip/grants/x", nil), http.StatusNotFound)
	mustStatus(t, e.do(op, "POST", "/api/v1/gates/nope/grants", map[string]any{"max_uses": 1}), http.StatusNotFound)

	// The audit log has the grant, who made it, and no PIN.
	r = e.admin("GET", "/api/v1/audit?gate=vip", nil)
	mustStatus(t, r, http.StatusOK)
	for _, want := range []string{"grant.create", "grant.delete", "+4917612345678", "visitor"} {
		if !strings.Contains(string(r.body), want) {
			t.Errorf("audit lacks %s: %s", want, r.body)
		}
	}
	if strings.Contains(string(r.body), pin) || strings.Contains(e.logs.String(), pin) {
		t.Errorf("the PIN reached the audit log or the logs")
	}
}

func TestGrantsValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mustStatus(t, e.admin("POST", "/api/v1/gates", tableGate("vip")), http.StatusCreated)
	op := e.tokens["operator"]
	tests := []struct {
		body   map[string]any
		fields []string
	}{
		{map[string]any{}, []string{"max_uses"}},
		{map[string]any{"max_uses": -2, "caller": "+49711*"}, []string{"caller", "max_uses"}},
		{map[string]any{"valid_for": "forever"}, []string{"valid_for"}},
		{map[string]any{"valid_for": "1h", "valid_until": "2026-04-01"}, []string{"valid_for"}},
		{map[string]any{"valid_until": "2026-03-01"}, []string{"valid_until"}},
		{map[string]any{"valid_from": "soon", "max_uses": 1}, []string{"valid_from"}},
	}
	for _, tt := range tests {
		r := e.do(op, "POST", "/api/v1/gates/vip/grants", tt.body)
		mustStatus(t, r, http.StatusUnprocessableEntity)
		if got := r.fields(t); !slices.Equal(got, tt.fields) {
			t.Errorf("%v: fields %v, want %v", tt.body, got, tt.fields)
		}
	}
	mustStatus(t, e.do(op, "POST", "/api/v1/gates/vip/grants", `{"max_uses": 1, "pin": "1234"}`), http.StatusBadRequest)
	// The gate takes gate.MaxGrants usable grants, then 409.
	for range gate.MaxGrants {
		mustStatus(t, e.do(op, "POST", "/api/v1/gates/vip/grants", map[string]any{"max_uses": 1}), http.StatusCreated)
	}
	mustStatus(t, e.do(op, "POST", "/api/v1/gates/vip/grants", map[string]any{"max_uses": 1}), http.StatusConflict)
}
