// Package pgtest is the PostgreSQL test support that the store's tests
// and the end-to-end harness share: the variable that names the test
// database and a fresh schema of its own for each test.
//
// It is for tests only; it imports pgx and no vipgate package.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Env names the PostgreSQL database the tests that need one run against.
const Env = "VIPGATE_TEST_POSTGRES_DSN"

// DSN returns the DSN Env names, or skips the test when it is unset.
func DSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(Env)
	if dsn == "" {
		t.Skipf("set %s to a PostgreSQL database to run this test (.ci/postgres.sh starts one)", Env)
	}
	return dsn
}

// Schema creates an empty schema, named prefix and random hex digits, in
// the database dsn names, drops it (with all in it) when the test ends,
// and returns a DSN whose search_path selects it.
func Schema(t testing.TB, dsn, prefix string) string {
	t.Helper()
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("schema name: %v", err)
	}
	name := prefix + hex.EncodeToString(b)
	schemaDSN, err := WithSearchPath(dsn, name)
	if err != nil {
		t.Fatalf("test DSN: %v", err)
	}
	exec := func(timeout time.Duration, sql string) error {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			return fmt.Errorf("connect to the test database (%s): %w", Env, err)
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, sql)
		return err
	}
	if err := exec(10*time.Second, `CREATE SCHEMA `+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("create schema %s: %v", name, err)
	}
	t.Cleanup(func() {
		if err := exec(30*time.Second, `DROP SCHEMA `+pgx.Identifier{name}.Sanitize()+` CASCADE`); err != nil {
			t.Logf("drop schema %s: %v", name, err)
		}
	})
	return schemaDSN
}

// WithSearchPath adds a search_path parameter to a URL DSN
// (postgres://…, postgresql://…) or a key=value one.
func WithSearchPath(dsn, schema string) (string, error) {
	if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
		return dsn + " search_path=" + schema, nil
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "", fmt.Errorf("parse %s: %w", Env, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), nil
}
