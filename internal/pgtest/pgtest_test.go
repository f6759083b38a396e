package pgtest_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/vipgate/vipgate/internal/pgtest"
)

func TestWithSearchPath(t *testing.T) {
	for _, tt := range []struct{ dsn, want string }{
		{"postgres://u@h:5432/db?sslmode=disable", "postgres://u@h:5432/db?search_path=s&sslmode=disable"},
		{"postgresql://u@h/db", "postgresql://u@h/db?search_path=s"},
		{"host=h dbname=db", "host=h dbname=db search_path=s"},
	} {
		got, err := pgtest.WithSearchPath(tt.dsn, "s")
		if err != nil || got != tt.want {
			t.Errorf("WithSearchPath(%q) = %q, %v; want %q", tt.dsn, got, err, tt.want)
		}
	}
	if _, err := pgtest.WithSearchPath("postgres://h:bad port/db", "s"); err == nil {
		t.Error("a DSN that does not parse: no error")
	}
}

// TestSchema creates a schema, writes a table into it through the DSN it
// returns, and checks that the schema is gone after the subtest's cleanup.
func TestSchema(t *testing.T) {
	dsn := pgtest.DSN(t)
	ctx := context.Background()
	var name string
	t.Run("fresh", func(t *testing.T) {
		sdsn := pgtest.Schema(t, dsn, "vipgate_pgtest_")
		conn, err := pgx.Connect(ctx, sdsn)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		if err := conn.QueryRow(ctx, `SELECT current_schema()`).Scan(&name); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(name, "vipgate_pgtest_") {
			t.Fatalf("current schema %q, want the fresh one", name)
		}
		if _, err := conn.Exec(ctx, `CREATE TABLE t (x int)`); err != nil {
			t.Fatal(err)
		}
	})
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM information_schema.schemata WHERE schema_name = $1`, name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("schema %s is still there after the test", name)
	}
}
