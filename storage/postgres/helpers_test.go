package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vipgate/vipgate/gate"
)

// testDSN returns the test database's DSN or skips the test.
func testDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv("VIPGATE_TEST_POSTGRES_DSN")
	if dsn == "" {
		t.Skip("set VIPGATE_TEST_POSTGRES_DSN to a PostgreSQL database to run this test (.ci/postgres.sh starts one)")
	}
	return dsn
}

// freshSchema creates an empty schema in the test database, drops it when
// the test ends, and returns a DSN whose search_path selects it.
func freshSchema(t testing.TB) string {
	t.Helper()
	dsn := testDSN(t)
	b := make([]byte, 6)
	rand.Read(b)
	name := "vipgate_test_" + hex.EncodeToString(b)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect to the test database: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Logf("drop schema %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP SCHEMA `+pgx.Identifier{name}.Sanitize()+` CASCADE`); err != nil {
			t.Logf("drop schema %s: %v", name, err)
		}
	})
	return withSearchPath(t, dsn, name)
}

// withSearchPath adds a search_path parameter to a URL or key=value DSN.
func withSearchPath(t testing.TB, dsn, schema string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatalf("parse test DSN: %v", err)
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return u.String()
	}
	return dsn + " search_path=" + schema
}

// openStore opens a Store on dsn and closes it when the test ends.
func openStore(t testing.TB, dsn string, opts Options) *Store {
	t.Helper()
	s, err := Open(context.Background(), dsn, opts)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s
}

// waitLive waits until the store's change listener is subscribed.
func waitLive(t testing.TB, s *Store) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !s.gates.fresh() {
		if time.Now().After(deadline) {
			t.Fatal("change listener did not subscribe within 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// eventually polls cond until it holds or within runs out.
func eventually(t testing.TB, within time.Duration, what string, cond func() (bool, string)) time.Duration {
	t.Helper()
	start := time.Now()
	deadline := start.Add(within)
	for {
		ok, state := cond()
		if ok {
			return time.Since(start)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v (last: %s)", what, within, state)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

var testKey = []byte("vipgate-postgres-test-key-0123456789")

func testHasher(t testing.TB) *gate.Hasher {
	t.Helper()
	h, err := gate.NewHasher(testKey)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func tableGate(id string) *gate.Gate {
	return &gate.Gate{
		ID:             id,
		Name:           "Table " + id,
		Enabled:        true,
		Match:          gate.Match{Names: []string{id}},
		Activation:     gate.Activation{Mode: gate.ActiveAlways},
		Identification: gate.Identification{Mode: gate.IdentTable, UnknownCaller: gate.UnknownReject, Region: "DE"},
	}
}
