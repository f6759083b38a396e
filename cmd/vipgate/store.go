package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/storage/postgres"
	"github.com/vipgate/vipgate/storage/sqlite"
)

// deps are what most commands need: the store, the hasher, the logger.
type deps struct {
	store  gate.Store
	hasher *gate.Hasher
	log    *slog.Logger
	region string
	dbDesc string
}

func (d *deps) Close() error { return d.store.Close() }

// open opens the store and the key file named by c. The key file is created
// when it does not exist and createKey is set (serve, imports).
func (c *common) open(ctx context.Context, e *env, createKey bool) (*deps, error) {
	log, err := c.logger(e.stderr)
	if err != nil {
		return nil, err
	}
	db, keyPath, err := c.paths(e)
	if err != nil {
		return nil, err
	}
	key, created, err := loadKey(keyPath, createKey)
	if err != nil {
		return nil, err
	}
	if created {
		log.Info("created the installation key file; back it up, every instance sharing the database needs it", "path", keyPath)
	}
	if msg := keyFileMode(keyPath); msg != "" {
		log.Warn(msg)
	}
	hasher, err := gate.NewHasher(key)
	if err != nil {
		return nil, err
	}
	var st gate.Store
	desc := db
	if isPostgres(db) {
		st, err = postgres.Open(ctx, db, postgres.Options{Logger: log})
		desc = "postgres"
	} else {
		if err := os.MkdirAll(filepath.Dir(db), 0o700); err != nil {
			return nil, fmt.Errorf("database directory: %w", err)
		}
		st, err = sqlite.Open(ctx, db, sqlite.Options{Logger: log})
	}
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	return &deps{store: st, hasher: hasher, log: log, region: *c.region, dbDesc: desc}, nil
}

func cmdMigrate(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "migrate", "[flags]")
	c := f.common()
	if err := f.parse(args); err != nil {
		return err
	}
	db, _, err := c.paths(e)
	if err != nil {
		return err
	}
	if isPostgres(db) {
		if err := postgres.Migrate(ctx, db); err != nil {
			return err
		}
	} else {
		st, err := sqlite.Open(ctx, db, sqlite.Options{})
		if err != nil {
			return err
		}
		if err := st.Close(); err != nil {
			return err
		}
	}
	fmt.Fprintln(e.stdout, "migrations applied")
	return nil
}
