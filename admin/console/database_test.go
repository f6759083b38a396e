package console_test

import (
	"strings"
	"testing"

	"github.com/vipgate/vipgate/gate"
)

// TestGateEditorKeepsDatabaseGates: the editor offers the database mode
// and selects it for a database gate, shows no DSN, and a save from the
// editor keeps the mode, the query and the stored DSN (before, the mode
// list had no "database", so the browser sent the first mode, static).
func TestGateEditorKeepsDatabaseGates(t *testing.T) {
	const dsn = "postgres://crm:db-pw-1618@db.example/crm"
	const query = "SELECT action, pin FROM vip WHERE number = :caller_e164"
	body, got := saveFromEditor(t, gate.Identification{Mode: gate.IdentDatabase, Database: &gate.DatabaseConfig{DSN: dsn, Query: query}})
	if strings.Contains(body, "db-pw-1618") || strings.Contains(body, "db.example") {
		t.Errorf("the editor shows the DSN:\n%s", excerpt(body, "db."))
	}
	if got.Name != "G renamed" || got.Identification.Mode != gate.IdentDatabase || got.Identification.Database == nil ||
		got.Identification.Database.DSN != dsn || got.Identification.Database.Query != query {
		t.Errorf("stored after the save: %+v %+v", got.Identification, got.Identification.Database)
	}
}
