package admin_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/vipgate/vipgate/gate"
)

// dbAuth answers for database gates as a query would.
type dbAuth struct{ ans gate.AuthAnswer }

func (a dbAuth) Authorize(context.Context, *gate.Gate, gate.AuthRequest) (gate.AuthAnswer, error) {
	return a.ans, nil
}

func databaseGate(id string) map[string]any {
	g := staticGate(id, "")
	g["identification"] = map[string]any{"mode": "database", "region": "DE", "database": map[string]any{
		"dsn":   "postgres://crm:db-pw-3141@db.example:5432/crm",
		"query": "SELECT action, pin FROM vip WHERE number = :caller_e164",
	}}
	return g
}

// TestDatabaseGate: the API accepts database gates, never shows their DSN,
// keeps the stored DSN when "[redacted]" is written back, names the field
// of a bad query, and explain shows the query's verdict without the PIN.
func TestDatabaseGate(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, nil, dbAuth{gate.AuthAnswer{Kind: gate.AnswerAskPIN, PIN: "97531", Label: "Ada"}})
	mustStatus(t, e.admin("POST", "/api/v1/gates", databaseGate("crm-db")), http.StatusCreated)
	r := e.do(e.tokens["viewer"], "GET", "/api/v1/gates/crm-db", nil)
	mustStatus(t, r, http.StatusOK)
	for _, secret := range []string{"db-pw-3141", "db.example"} {
		if strings.Contains(string(r.body), secret) {
			t.Errorf("gate answer holds %q: %s", secret, r.body)
		}
	}
	if !strings.Contains(string(r.body), `"dsn":"[redacted]"`) || !strings.Contains(string(r.body), ":caller_e164") {
		t.Errorf("want the DSN redacted and the query shown: %s", r.body)
	}
	// Write back what was read: the stored DSN stays.
	var shown map[string]any
	r.json(t, &shown)
	delete(shown["identification"].(map[string]any), "static_pin_set")
	for _, k := range []string{"override", "created_at", "updated_at"} {
		delete(shown, k)
	}
	shown["identification"].(map[string]any)["database"].(map[string]any)["max_conns"] = 2
	mustStatus(t, e.admin("PUT", "/api/v1/gates/crm-db", shown), http.StatusOK)
	sg, err := e.store.GetGate(context.Background(), "crm-db")
	if err != nil {
		t.Fatal(err)
	}
	if db := sg.Identification.Database; db.DSN != "postgres://crm:db-pw-3141@db.example:5432/crm" || db.MaxConns != 2 {
		t.Errorf("stored %+v: want the DSN kept and max_conns changed", db)
	}
	// A new gate cannot be created with the placeholder.
	g := databaseGate("other")
	g["identification"].(map[string]any)["database"].(map[string]any)["dsn"] = gate.Redacted
	r = e.admin("POST", "/api/v1/gates", g)
	mustStatus(t, r, http.StatusUnprocessableEntity)
	if !strings.Contains(string(r.body), "identification.database.dsn") {
		t.Errorf("error %s does not name the DSN", r.body)
	}
	g = databaseGate("other")
	g["identification"].(map[string]any)["database"].(map[string]any)["query"] = "DELETE FROM vip WHERE number = :caller"
	r = e.admin("POST", "/api/v1/gates", g)
	mustStatus(t, r, http.StatusUnprocessableEntity)
	if !strings.Contains(string(r.body), "identification.database.query") || strings.Contains(string(r.body), "db-pw-3141") {
		t.Errorf("error %s: want the query named, no DSN password", r.body)
	}

	r = e.do(e.tokens["viewer"], "POST", "/api/v1/explain", map[string]any{"caller": "+4917600000000", "called": "+4930123456"})
	mustStatus(t, r, http.StatusOK)
	var x struct {
		Verdict string `json:"verdict"`
		Mode    string `json:"mode"`
		AskPIN  struct {
			Expects string `json:"expects"`
		} `json:"ask_pin"`
	}
	r.json(t, &x)
	if x.Verdict != "ask_pin" || x.Mode != "database" || x.AskPIN.Expects != "the PIN the database query answered with" ||
		!strings.Contains(string(r.body), `"step":"database","detail":"answered askForPin for \"Ada\"`) {
		t.Errorf("explain %s", r.body)
	}
	if strings.Contains(string(r.body), "97531") {
		t.Errorf("explain shows the PIN: %s", r.body)
	}
	if strings.Contains(e.logs.String(), "db-pw-3141") || strings.Contains(e.logs.String(), "97531") {
		t.Errorf("the log holds the DSN password or the PIN:\n%s", e.logs.String())
	}
}
