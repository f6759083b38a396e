package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const secretGateYAML = `id: crm
name: CRM
enabled: true
match: {numbers: ["+4940822240"]}
activation: {mode: always}
identification:
  mode: webhook
  webhook:
    url: "https://crm.example/decide?caller=###CALLER_NUMBER###&api_key=k3y-in-url"
    headers:
      Authorization: "Bearer s3cr3t-bearer"
      Accept: application/json
routes: {}
failure: {action: reject}
lockout: {}
`

// TestGatesExportSecrets stores a webhook gate with credentials: the
// database files never hold them, "gates export" prints them redacted
// (before, it printed them in clear), an import of that export keeps the
// stored secrets, and --include-secrets prints them for a move to another
// installation. A redacted export cannot silently lose a secret there.
func TestGatesExportSecrets(t *testing.T) {
	c := newCLI(t)
	c.importGates("crm.yaml", secretGateYAML)
	secrets := []string{"s3cr3t-bearer", "k3y-in-url"}

	out := c.must("gates", "export")
	for _, s := range secrets {
		if strings.Contains(out, s) {
			t.Errorf("gates export prints %q:\n%s", s, out)
		}
	}
	if !strings.Contains(out, "Authorization: '[redacted]'") && !strings.Contains(out, `Authorization: "[redacted]"`) || !strings.Contains(out, "api_key=[redacted]") || !strings.Contains(out, "Accept: application/json") {
		t.Errorf("gates export does not mark the redacted values:\n%s", out)
	}

	// The redacted export imports again without losing the secrets.
	c.importGates("redacted.yaml", out)
	full := c.must("gates", "export", "--include-secrets")
	for _, s := range secrets {
		if !strings.Contains(full, s) {
			t.Errorf("after importing the redacted export, --include-secrets lacks %q:\n%s", s, full)
		}
	}

	// Nothing in the database files is clear.
	dbDir := filepath.Join(c.dir, "vipgate")
	files, _ := filepath.Glob(filepath.Join(dbDir, "vipgate.db*"))
	if len(files) == 0 {
		t.Fatal("no database files")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range secrets {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s holds %q in clear", filepath.Base(f), s)
			}
		}
	}

	// Another installation: the full export carries the secrets, the
	// redacted one is refused, naming the field.
	other := newCLI(t)
	if _, _, err := other.run("gates", "import", filepath.Join(c.dir, "redacted.yaml")); err == nil || !strings.Contains(err.Error(), "identification.webhook.headers.Authorization") || !strings.Contains(err.Error(), "--include-secrets") {
		t.Errorf("redacted export into an empty database: %v, want an error naming the header", err)
	}
	fullFile := filepath.Join(c.dir, "full.yaml")
	if err := os.WriteFile(fullFile, []byte(full), 0o600); err != nil {
		t.Fatal(err)
	}
	other.must("gates", "import", fullFile)
	if got := other.must("gates", "export", "--include-secrets"); !strings.Contains(got, "s3cr3t-bearer") {
		t.Errorf("the moved gate lost its secret:\n%s", got)
	}
}
