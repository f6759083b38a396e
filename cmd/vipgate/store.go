package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/user"
	"path/filepath"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/internal/secretbox"
	"github.com/vipgate/vipgate/pinsfile"
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
	// db is the database as configured (path or URL), keyPath the key
	// file's path.
	db      string
	keyPath string
	// outbox is the store's notification outbox (nil if it keeps none).
	outbox gate.Outbox
	// sessions keeps the web console's sessions (the store itself, not
	// behind the audit log).
	sessions gate.ConsoleSessions
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
	if msg := privateFileMode("key file", keyPath); msg != "" {
		log.Warn(msg)
	}
	hasher, err := gate.NewHasher(key)
	if err != nil {
		return nil, err
	}
	// Webhook credentials are kept sealed in the database under a key
	// derived from the installation key (not the bytes that key the PIN
	// hashes).
	box, err := secretbox.New(key)
	if err != nil {
		return nil, err
	}
	var st gate.Store
	desc := db
	if isPostgres(db) {
		st, err = postgres.Open(ctx, db, postgres.Options{Logger: log, Secrets: box})
		desc = "postgres"
	} else {
		if err := os.MkdirAll(filepath.Dir(db), 0o700); err != nil {
			return nil, fmt.Errorf("database directory: %w", err)
		}
		st, err = sqlite.Open(ctx, db, sqlite.Options{Logger: log, Secrets: box})
	}
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	if !isPostgres(db) {
		for _, name := range []string{db, db + "-wal", db + "-shm"} {
			if msg := privateFileMode("database file", name); msg != "" {
				log.Warn(msg)
			}
		}
	}
	outbox, _ := st.(gate.Outbox)
	sessions, _ := st.(gate.ConsoleSessions)
	st = gate.Audited(st, cliActor())
	return &deps{store: st, hasher: hasher, log: log, region: *c.region, dbDesc: desc, db: db, keyPath: keyPath, outbox: outbox, sessions: sessions}, nil
}

// cliActor names the user running the command in the audit log:
// "cli:<os user>".
func cliActor() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return "cli:" + u.Username
	}
	if u := os.Getenv("USER"); u != "" {
		return "cli:" + u
	}
	return "cli:unknown"
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

// openGate opens the store as open does and reads the gate gateID from
// it. The caller closes the deps it returns; on an error nothing is left
// open.
func (c *common) openGate(ctx context.Context, e *env, createKey bool, gateID string) (*deps, *gate.Gate, error) {
	d, err := c.open(ctx, e, createKey)
	if err != nil {
		return nil, nil, err
	}
	g, err := d.store.GetGate(ctx, gateID)
	if err != nil {
		d.Close()
		return nil, nil, err
	}
	return d, g, nil
}

// openInput opens the file named p for reading; "-" is standard input
// (which Close leaves open).
func openInput(p string) (io.ReadCloser, error) {
	if p == "-" {
		return io.NopCloser(os.Stdin), nil
	}
	return os.Open(p)
}

// createOutput creates (or truncates) the file named p, readable by its
// owner only, for writing; "" and "-" are stdout (which Close leaves
// open).
func createOutput(stdout io.Writer, p string) (io.WriteCloser, error) {
	if p == "" || p == "-" {
		return nopWriteCloser{stdout}, nil
	}
	return os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }

// printRowErrors writes an import's row errors to w, one a line, the first
// 50 of them.
func printRowErrors(w io.Writer, rowErrs []pinsfile.RowError) {
	for i, re := range rowErrs {
		if i == 50 {
			fmt.Fprintf(w, "… and %d more row errors\n", len(rowErrs)-50)
			break
		}
		fmt.Fprintf(w, "row %d: %s: %s\n", re.Row, re.Field, re.Problem)
	}
}
