package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// migration is one numbered SQL file of migrations/.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the embedded migrations in order.
func migrations() ([]migration, error) {
	files, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, f := range files {
		base := path.Base(f)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must start with a positive number and '_'", base)
		}
		b, err := migrationFS.ReadFile(f)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: base, sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i := 1; i < len(ms); i++ {
		if ms[i].version == ms[i-1].version {
			return nil, fmt.Errorf("migrations %s and %s share a version", ms[i-1].name, ms[i].name)
		}
	}
	return ms, nil
}

// Migrate brings the database named by dsn up to the schema this vipgate
// needs and returns. It applies every embedded migration that the
// schema_migrations table does not list, each in its own transaction.
// Open calls it too; `vipgate migrate` runs it alone.
//
// Migrate is safe when several instances start at once: it holds a
// PostgreSQL advisory lock (per schema) while it works, so one instance
// migrates and the others wait, then find nothing left to do. A database
// that is newer than this vipgate (it lists migrations we do not know) is
// left alone; that is logged by Open, not an error, so that old instances
// keep running during a rolling upgrade.
func Migrate(ctx context.Context, dsn string) error {
	// Parse as the pool does, so that pool settings in the DSN
	// (pool_max_conns) are understood rather than sent to the server.
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	conn, err := pgx.ConnectConfig(ctx, cfg.ConnConfig)
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", classify(err))
	}
	defer conn.Close(context.Background())
	return migrate(ctx, conn, nil)
}

// migrate runs the migrations on conn under the advisory lock.
func migrate(ctx context.Context, conn *pgx.Conn, log *slog.Logger) error {
	ms, err := migrations()
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	var schema *string
	if err := conn.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return wrap("migrate", err)
	}
	if schema == nil {
		return fmt.Errorf("postgres: migrate: the search_path names no existing schema")
	}
	key := "vipgate.migrate:" + *schema
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(hashtext($1))`, key); err != nil {
		return wrap("migrate: lock", err)
	}
	defer func() {
		// A broken connection releases the lock on the server by itself.
		uctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, _ = conn.Exec(uctx, `SELECT pg_advisory_unlock(hashtext($1))`, key)
	}()

	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    integer PRIMARY KEY,
		name       text NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return wrap("migrate: create schema_migrations", err)
	}
	applied := map[int]bool{}
	rows, err := conn.Query(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return wrap("migrate: read schema_migrations", err)
	}
	versions, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return wrap("migrate: read schema_migrations", err)
	}
	newest := 0
	for _, v := range versions {
		applied[int(v)] = true
		newest = max(newest, int(v))
	}
	for _, m := range ms {
		if applied[m.version] {
			continue
		}
		if err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, m.sql); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.version, m.name)
			return err
		}); err != nil {
			return wrap("migrate: "+m.name, err)
		}
		if log != nil {
			log.Info("postgres: migration applied", "migration", m.name, "schema", *schema)
		}
	}
	if len(ms) > 0 && newest > ms[len(ms)-1].version && log != nil {
		log.Warn("postgres: the database schema is newer than this vipgate",
			"database_version", newest, "known_version", ms[len(ms)-1].version)
	}
	return nil
}
