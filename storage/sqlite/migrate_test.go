package sqlite

import (
	"context"
	"database/sql"
	"io/fs"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestMigrationCallsAutoincrement upgrades a database at schema version 2
// with call-log rows and checks that 0003 keeps every row and id, and that
// ids are not given out again after the call log was emptied.
func TestMigrationCallsAutoincrement(t *testing.T) {
	ctx := context.Background()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "old.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, `CREATE TABLE schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT`); err != nil {
		t.Fatal(err)
	}
	for v, name := range []string{"0001_init.sql", "0002_gate_version.sql"} {
		body, err := migrations.ReadFile("migrations/" + name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, string(body)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO schema_migrations VALUES (?, ?, 0)`, v+1, name); err != nil {
			t.Fatal(err)
		}
	}
	insert := func(id any, at int64) {
		t.Helper()
		if _, err := db.ExecContext(ctx, `INSERT INTO calls (id, at, source, channel_id, gate_id, caller_raw, caller, called, active, mode,
			verdict, attempts, outcome, target, entry_id, decision_latency_ns, duration_ns, webhook_latency_ns, error_class)
			VALUES (?, ?, 'agi', 'c', 'hotline', '0176', '+49176', '100', 1, 'static', 'ask_pin', 1, 'pin_ok', 'continue', 0, 1, 2, 0, '')`, id, at); err != nil {
			t.Fatal(err)
		}
	}
	insert(7, 100)
	insert(9, 200)
	insert(12, 300)

	if err := migrate(ctx, db, time.Now); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	rows, err := db.QueryContext(ctx, `SELECT id, at FROM calls ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	var got [][2]int64
	for rows.Next() {
		var r [2]int64
		if err := rows.Scan(&r[0], &r[1]); err != nil {
			t.Fatal(err)
		}
		got = append(got, r)
	}
	rows.Close()
	if want := [][2]int64{{7, 100}, {9, 200}, {12, 300}}; len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("rows after the migration %v, want %v", got, want)
	}
	var indexes int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'calls' AND name LIKE 'calls_%'`).Scan(&indexes); err != nil || indexes != 3 {
		t.Fatalf("%d indexes on calls (%v), want 3", indexes, err)
	}
	if _, err := db.ExecContext(ctx, `DELETE FROM calls`); err != nil {
		t.Fatal(err)
	}
	insert(nil, 400)
	var id int64
	if err := db.QueryRowContext(ctx, `SELECT id FROM calls`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	if id <= 12 {
		t.Errorf("first id after emptying the call log is %d, want above 12", id)
	}
}

// TestMigrateAppliesSkippedMigration opens a database that has every
// migration but one below the newest (as a database made before a
// lower-numbered migration was merged would) and checks that migrate
// applies the missing one instead of going by the highest number.
func TestMigrateAppliesSkippedMigration(t *testing.T) {
	ctx := context.Background()
	files, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil || len(files) < 2 {
		t.Fatalf("migrations: %v (%d files)", err, len(files))
	}
	sort.Strings(files)
	skipped := files[len(files)-2]
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "gap.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, `CREATE TABLE schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT`); err != nil {
		t.Fatal(err)
	}
	version := func(f string) int {
		v, err := strconv.Atoi(strings.SplitN(path.Base(f), "_", 2)[0])
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, f := range files {
		if f == skipped {
			continue
		}
		body, err := migrations.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, string(body)); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO schema_migrations VALUES (?, ?, 0)`, version(f), path.Base(f)); err != nil {
			t.Fatal(err)
		}
	}
	if err := migrate(ctx, db, time.Now); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, version(skipped)).Scan(&n); err != nil || n != 1 {
		t.Fatalf("%s recorded %d times (%v), want once: a migration below the newest applied one was skipped", path.Base(skipped), n, err)
	}
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil || n != len(files) {
		t.Fatalf("%d migrations recorded (%v), want %d", n, err, len(files))
	}
}
