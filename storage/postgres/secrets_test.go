package postgres

import (
	"context"
	"strings"
	"testing"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/internal/secretbox"
	"github.com/vipgate/vipgate/storage/storagetest"
)

// storedDoc reads a gate's document as the database holds it.
func storedDoc(t *testing.T, s *Store, id string) string {
	t.Helper()
	var doc string
	if err := s.pool.QueryRow(context.Background(), `SELECT doc::text FROM gates WHERE id = $1`, id).Scan(&doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

func checkClear(t *testing.T, g *gate.Gate) {
	t.Helper()
	want := storagetest.SecretGate().Identification.Webhook
	got := g.Identification.Webhook
	if got.URL != want.URL || got.Headers["Authorization"] != want.Headers["Authorization"] || got.Headers["X-Custom"] != want.Headers["X-Custom"] {
		t.Errorf("webhook read back as %+v, want the clear values %+v", got, want)
	}
}

// TestSecretsSealedAtRest writes a webhook gate with credentials: another
// instance reads them in clear, the database holds them sealed.
func TestSecretsSealedAtRest(t *testing.T) {
	dsn := freshSchema(t)
	t.Parallel()
	ctx := context.Background()
	a := openStore(t, dsn, Options{Secrets: storagetest.TestBox(t)})
	b := openStore(t, dsn, Options{Secrets: storagetest.TestBox(t)})
	g := storagetest.SecretGate()
	if err := a.CreateGate(ctx, g); err != nil {
		t.Fatal(err)
	}
	g.Name = "CRM v2"
	if err := a.UpdateGate(ctx, g); err != nil {
		t.Fatal(err)
	}
	if err := a.SetOverride(ctx, "crm", &gate.Override{Active: true}); err != nil {
		t.Fatal(err)
	}
	for _, s := range []*Store{a, b} {
		got, err := s.GetGate(ctx, "crm")
		if err != nil {
			t.Fatal(err)
		}
		checkClear(t, got)
	}
	doc := storedDoc(t, a, "crm")
	for _, w := range storagetest.SecretWords {
		if strings.Contains(doc, w) {
			t.Errorf("the stored document holds %q in clear: %s", w, doc)
		}
	}
	if !strings.Contains(doc, secretbox.Prefix) {
		t.Errorf("the stored document holds no sealed value: %s", doc)
	}
}

// TestClearSecretsSealedOnOpen opens a database with a webhook gate
// written in clear: Open seals it, the gate reads back in clear.
func TestClearSecretsSealedOnOpen(t *testing.T) {
	dsn := freshSchema(t)
	t.Parallel()
	ctx := context.Background()
	old := openStore(t, dsn, Options{})
	if err := old.CreateGate(ctx, storagetest.SecretGate()); err != nil {
		t.Fatal(err)
	}
	before, _ := old.GetGate(ctx, "crm")
	if !strings.Contains(storedDoc(t, old, "crm"), "s3cr3t-bearer") {
		t.Fatal("the old-style document does not hold the secret in clear; the test checks nothing")
	}
	s := openStore(t, dsn, Options{Secrets: storagetest.TestBox(t)})
	got, err := s.GetGate(ctx, "crm")
	if err != nil {
		t.Fatal(err)
	}
	checkClear(t, got)
	if !got.UpdatedAt.Equal(before.UpdatedAt) {
		t.Errorf("sealing changed updated_at from %v to %v", before.UpdatedAt, got.UpdatedAt)
	}
	doc := storedDoc(t, s, "crm")
	for _, w := range storagetest.SecretWords {
		if strings.Contains(doc, w) {
			t.Errorf("after Open the stored document still holds %q: %s", w, doc)
		}
	}
}

// TestConformanceSealed runs the conformance suite with secrets sealed.
func TestConformanceSealed(t *testing.T) {
	testDSN(t)
	t.Parallel()
	box := storagetest.TestBox(t)
	storagetest.Run(t, func(t *testing.T) gate.Store {
		return openStore(t, freshSchema(t), Options{Secrets: box})
	})
}
