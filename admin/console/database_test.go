package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/vipgate/vipgate/gate"
)

// TestGateEditorKeepsDatabaseGates: the editor offers the database mode
// and selects it for a database gate, shows no DSN, and a save from the
// editor keeps the mode, the query and the stored DSN (before, the mode
// list had no "database", so the browser sent the first mode, static).
func TestGateEditorKeepsDatabaseGates(t *testing.T) {
	e := newEnv(t)
	b := e.as(gate.RoleAdmin)
	const dsn = "postgres://crm:db-pw-1618@db.example/crm"
	g := &gate.Gate{ID: "g1", Name: "G", Enabled: true, Match: gate.Match{Numbers: []string{"+4930901820"}},
		Activation: gate.Activation{Mode: gate.ActiveAlways},
		Identification: gate.Identification{Mode: gate.IdentDatabase, Database: &gate.DatabaseConfig{DSN: dsn,
			Query: "SELECT action, pin FROM vip WHERE number = :caller_e164"}}}
	g.Normalize()
	if err := e.store.CreateGate(context.Background(), g); err != nil {
		t.Fatal(err)
	}
	_, body := b.get("/gates/g1")
	if !strings.Contains(body, `<option value="database" selected>`) {
		t.Errorf("the editor does not select the database mode:\n%s", excerpt(body, `name="identification.mode"`))
	}
	if strings.Contains(body, "db-pw-1618") || strings.Contains(body, "db.example") {
		t.Errorf("the editor shows the DSN:\n%s", excerpt(body, "db."))
	}
	resp, body := b.post("/gates/g1", url.Values{"id": {"g1"}, "name": {"G renamed"}, "enabled": {"on"}, "match.numbers": {"+4930901820"},
		"activation.mode": {"always"}, "identification.mode": {"database"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d\n%s", resp.StatusCode, body)
	}
	got, err := e.store.GetGate(context.Background(), "g1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "G renamed" || got.Identification.Mode != gate.IdentDatabase || got.Identification.Database == nil ||
		got.Identification.Database.DSN != dsn || got.Identification.Database.Query != g.Identification.Database.Query {
		t.Errorf("stored after the save: %+v %+v", got.Identification, got.Identification.Database)
	}
}
