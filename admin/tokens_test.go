package admin_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/vipgate/vipgate/gate"
)

type createdToken struct {
	ID    string    `json:"id"`
	Name  string    `json:"name"`
	Role  gate.Role `json:"role"`
	Token string    `json:"token"`
}

// TestTokenEndpoints creates, lists and revokes a token through the API:
// only admins may, the secret is in the create answer only (never in the
// list, the logs or the store), and a revoked token is refused at once.
func TestTokenEndpoints(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	body := map[string]any{"role": "operator", "name": "back office"}
	for _, role := range []gate.Role{gate.RoleViewer, gate.RoleOperator} {
		tok := e.tokens[role]
		mustStatus(t, e.do(tok, "POST", "/api/v1/tokens", body), http.StatusForbidden)
		mustStatus(t, e.do(tok, "GET", "/api/v1/tokens", nil), http.StatusForbidden)
		mustStatus(t, e.do(tok, "DELETE", "/api/v1/tokens/"+tokenID(e.tokens[gate.RoleViewer]), nil), http.StatusForbidden)
	}

	r := e.admin("POST", "/api/v1/tokens", body)
	mustStatus(t, r, http.StatusCreated)
	var c createdToken
	r.json(t, &c)
	if c.Role != gate.RoleOperator || c.Name != "back office" || c.ID == "" || !strings.HasPrefix(c.Token, "vg_"+c.ID+"_") {
		t.Fatalf("created %+v", c)
	}
	if got := r.header.Get("Location"); got != "/api/v1/tokens/"+c.ID {
		t.Errorf("Location %q", got)
	}
	if got := r.header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", got)
	}
	secret := c.Token[len("vg_"+c.ID+"_"):]

	// The new token works, with its role.
	mustStatus(t, e.do(c.Token, "GET", "/api/v1/gates", nil), http.StatusOK)
	mustStatus(t, e.do(c.Token, "PUT", "/api/v1/gates/x/override", map[string]any{"active": true}), http.StatusNotFound)
	mustStatus(t, e.do(c.Token, "POST", "/api/v1/gates", staticGate("g", "4711")), http.StatusForbidden)

	r = e.admin("GET", "/api/v1/tokens", nil)
	mustStatus(t, r, http.StatusOK)
	var list struct {
		Items []map[string]any `json:"items"`
	}
	r.json(t, &list)
	if !slices.ContainsFunc(list.Items, func(m map[string]any) bool { return m["id"] == c.ID && m["role"] == "operator" }) {
		t.Errorf("list lacks %s: %s", c.ID, r.body)
	}
	if strings.Contains(string(r.body), secret) {
		t.Error("the token list shows the secret")
	}
	for _, m := range list.Items {
		for _, k := range []string{"token", "hash", "secret"} {
			if _, ok := m[k]; ok {
				t.Errorf("list item has %q: %v", k, m)
			}
		}
	}

	mustStatus(t, e.admin("DELETE", "/api/v1/tokens/"+c.ID, nil), http.StatusNoContent)
	mustStatus(t, e.do(c.Token, "GET", "/api/v1/gates", nil), http.StatusUnauthorized)
	mustStatus(t, e.admin("DELETE", "/api/v1/tokens/nosuchtoken1", nil), http.StatusNotFound)

	if logs := e.logs.String(); strings.Contains(logs, secret) || strings.Contains(logs, c.Token) {
		t.Errorf("the logs show the secret:\n%s", logs)
	}
	stored, err := e.store.GetToken(t.Context(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(stored.Hash), secret) || stored.RevokedAt.IsZero() {
		t.Errorf("stored token %+v", stored)
	}
}

// TestCreateTokenValidation checks that a bad body names the field.
func TestCreateTokenValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tests := []struct {
		body  any
		want  int
		field string
	}{
		{map[string]any{}, http.StatusUnprocessableEntity, "role"},
		{map[string]any{"role": "root"}, http.StatusUnprocessableEntity, "role"},
		{map[string]any{"role": "viewer", "name": strings.Repeat("n", 201)}, http.StatusUnprocessableEntity, "name"},
		{map[string]any{"role": "viewer", "secret": "x"}, http.StatusBadRequest, ""},
	}
	for _, tt := range tests {
		r := e.admin("POST", "/api/v1/tokens", tt.body)
		mustStatus(t, r, tt.want)
		if tt.field != "" && !slices.Contains(r.fields(t), tt.field) {
			t.Errorf("%v: fields %v, want %s", tt.body, r.fields(t), tt.field)
		}
	}
}

// tokenID is the id part of a clear token.
func tokenID(clear string) string { return clear[len("vg_") : len("vg_")+12] }
