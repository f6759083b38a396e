package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func databaseGateYAML(dsn string) string {
	return `id: crm-db
name: CRM database
enabled: true
match: {numbers: ["+4940822241"]}
activation: {mode: always}
identification:
  mode: database
  region: DE
  database:
    dsn: "` + dsn + `"
    query: |
      SELECT 'askForPin' AS action, '97531' AS pin, 'Ada' AS label
      WHERE :caller_e164 = '+4917612345678'
    timeout: 2s
routes: {}
failure: {action: reject}
lockout: {}
`
}

// TestGatesDatabase: a database gate imports from a gates file, exports
// with its DSN redacted (and in clear with --include-secrets), imports
// again as exported without losing the DSN, is stored without the DSN in
// clear, and is refused in another installation when only the redacted
// export is at hand. With the test PostgreSQL, explain shows the query's
// verdict without the PIN.
func TestGatesDatabase(t *testing.T) {
	const password = "pw-27182818"
	dsn := "postgres://crm:" + password + "@db.example:5432/crm"
	if real := os.Getenv("VIPGATE_TEST_POSTGRES_DSN"); real != "" {
		dsn = real
	}
	c := newCLI(t)
	c.importGates("crm-db.yaml", databaseGateYAML(dsn))
	out := c.must("gates", "export")
	if strings.Contains(out, dsn) || strings.Contains(out, password) || !strings.Contains(out, "[redacted]") || !strings.Contains(out, ":caller_e164") {
		t.Errorf("gates export: want the DSN redacted and the query shown:\n%s", out)
	}
	c.importGates("redacted.yaml", out)
	if full := c.must("gates", "export", "--include-secrets"); !strings.Contains(full, dsn) {
		t.Errorf("after importing the redacted export, --include-secrets lacks the DSN:\n%s", full)
	}
	files, _ := filepath.Glob(filepath.Join(c.dir, "vipgate", "vipgate.db*"))
	if len(files) == 0 {
		t.Fatal("no database files")
	}
	for _, f := range files {
		b, _ := os.ReadFile(f)
		if bytes.Contains(b, []byte(dsn)) {
			t.Errorf("%s holds the DSN in clear", filepath.Base(f))
		}
	}
	other := newCLI(t)
	if _, _, err := other.run("gates", "import", filepath.Join(c.dir, "redacted.yaml")); err == nil || !strings.Contains(err.Error(), "identification.database.dsn") {
		t.Errorf("redacted export into an empty database: %v, want an error naming the DSN", err)
	}
	bad := filepath.Join(c.dir, "bad.yaml")
	os.WriteFile(bad, []byte(strings.Replace(databaseGateYAML(dsn), "SELECT 'askForPin'", "DELETE FROM x; SELECT 'askForPin'", 1)), 0o600)
	if _, _, err := c.run("gates", "import", bad); err == nil || !strings.Contains(err.Error(), "identification.database.query") {
		t.Errorf("a write statement: %v, want an error naming the query", err)
	}

	if os.Getenv("VIPGATE_TEST_POSTGRES_DSN") == "" {
		t.Log("explain against a real query skipped: set VIPGATE_TEST_POSTGRES_DSN")
		return
	}
	ex := c.must("explain", "--gate", "crm-db", "--caller", "017612345678", "--json")
	if !strings.Contains(ex, `"verdict": "ask_pin"`) || !strings.Contains(ex, `answered askForPin for \"Ada\"`) || strings.Contains(ex, "97531") {
		t.Errorf("explain: want the query's verdict without the PIN:\n%s", ex)
	}
	ex = c.must("explain", "--gate", "crm-db", "--caller", "+4930111")
	if !strings.Contains(ex, "reject") || !strings.Contains(ex, "unknown_caller=reject") {
		t.Errorf("explain of a caller without a row: want unknown_caller's reject:\n%s", ex)
	}
}
