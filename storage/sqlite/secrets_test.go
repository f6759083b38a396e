package sqlite_test

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/internal/secretbox"
	"github.com/vipgate/vipgate/storage/sqlite"
	"github.com/vipgate/vipgate/storage/storagetest"
)

// dbBytes reads the database files (main, WAL).
func dbBytes(t *testing.T, path string) []byte {
	t.Helper()
	var all []byte
	for _, name := range []string{path, path + "-wal"} {
		b, err := os.ReadFile(name)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	return all
}

func checkClear(t *testing.T, g *gate.Gate) {
	t.Helper()
	want := storagetest.SecretGate().Identification.Webhook
	got := g.Identification.Webhook
	if got.URL != want.URL || got.Headers["Authorization"] != want.Headers["Authorization"] || got.Headers["X-Custom"] != want.Headers["X-Custom"] {
		t.Errorf("webhook read back as %+v, want the clear values %+v", got, want)
	}
}

// TestSecretsSealedAtRest writes a webhook gate with credentials in its
// headers and URL: the store hands them back in clear, and the database
// files never hold them (before, the document held them as written).
func TestSecretsSealedAtRest(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "vg.db")
	s, err := sqlite.Open(ctx, path, sqlite.Options{Secrets: storagetest.TestBox(t)})
	if err != nil {
		t.Fatal(err)
	}
	g := storagetest.SecretGate()
	if err := s.CreateGate(ctx, g); err != nil {
		t.Fatal(err)
	}
	g.Name = "CRM v2"
	if err := s.UpdateGate(ctx, g); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetGate(ctx, "crm")
	if err != nil {
		t.Fatal(err)
	}
	checkClear(t, got)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	raw := dbBytes(t, path)
	for _, w := range storagetest.SecretWords {
		if bytes.Contains(raw, []byte(w)) {
			t.Errorf("the database files hold %q in clear", w)
		}
	}
	if !bytes.Contains(raw, []byte(secretbox.Prefix)) {
		t.Error("the database holds no sealed value")
	}
	s, err = sqlite.Open(ctx, path, sqlite.Options{Secrets: storagetest.TestBox(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err = s.GetGate(ctx, "crm")
	if err != nil {
		t.Fatal(err)
	}
	checkClear(t, got)
}

// TestClearSecretsSealedOnOpen opens a database whose webhook gate was
// written in clear (by an older vipgate): the gate reads back in clear,
// and Open has sealed it in the database, leaving no clear copy in the
// files.
func TestClearSecretsSealedOnOpen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "vg.db")
	old, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := old.CreateGate(ctx, storagetest.SecretGate()); err != nil {
		t.Fatal(err)
	}
	before, err := old.GetGate(ctx, "crm")
	if err != nil {
		t.Fatal(err)
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(dbBytes(t, path), []byte("s3cr3t-bearer")) {
		t.Fatal("the old-style database does not hold the secret in clear; the test checks nothing")
	}

	s, err := sqlite.Open(ctx, path, sqlite.Options{Secrets: storagetest.TestBox(t)})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.GetGate(ctx, "crm")
	if err != nil {
		t.Fatal(err)
	}
	checkClear(t, got)
	if !got.UpdatedAt.Equal(before.UpdatedAt) {
		t.Errorf("sealing changed updated_at from %v to %v", before.UpdatedAt, got.UpdatedAt)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var doc string
	if err := db.QueryRow(`SELECT doc FROM gates WHERE id = 'crm'`).Scan(&doc); err != nil {
		t.Fatal(err)
	}
	db.Close()
	for _, w := range storagetest.SecretWords {
		if strings.Contains(doc, w) {
			t.Errorf("the stored document still holds %q: %s", w, doc)
		}
		if bytes.Contains(dbBytes(t, path), []byte(w)) {
			t.Errorf("the database files still hold %q (a free page or the WAL)", w)
		}
	}
}

// TestConformanceSealed runs the conformance suite with secrets sealed:
// sealing is invisible to the store's users.
func TestConformanceSealed(t *testing.T) {
	box := storagetest.TestBox(t)
	storagetest.Run(t, func(t *testing.T) gate.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "vipgate.db"), sqlite.Options{Secrets: box})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}
