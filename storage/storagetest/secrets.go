package storagetest

import (
	"bytes"
	"testing"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/internal/secretbox"
)

// SecretWords are the secrets of SecretGate: a store that seals secrets
// must never hold one of them in clear.
var SecretWords = []string{"s3cr3t-bearer", "p4ssw0rd", "t0k3n-in-query", "x-key-value", "db-dsn-s3cr3t"}

// SecretGate returns a webhook gate whose URL and headers hold SecretWords,
// and whose database section's DSN holds one too.
func SecretGate() *gate.Gate {
	return &gate.Gate{ID: "crm", Name: "CRM", Enabled: true,
		Match:      gate.Match{Numbers: []string{"+4930123"}},
		Activation: gate.Activation{Mode: gate.ActiveAlways},
		Identification: gate.Identification{Mode: gate.IdentWebhook, Webhook: &gate.WebhookConfig{
			URL:     "https://vip:p4ssw0rd@crm.example/check?caller=###CALLER_NUMBER###&token=t0k3n-in-query",
			Headers: map[string]string{"Authorization": "Bearer s3cr3t-bearer", "X-Custom": "x-key-value"},
		}, Database: &gate.DatabaseConfig{DSN: "postgres://crm:db-dsn-s3cr3t@db.example/crm", Query: "SELECT 'pass' AS action"}},
	}
}

// TestBox returns a SecretBox under a fixed test key.
func TestBox(tb testing.TB) *secretbox.Box {
	tb.Helper()
	b, err := secretbox.New(bytes.Repeat([]byte{0x42}, 32))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}
