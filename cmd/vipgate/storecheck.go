package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/vipgate/vipgate/gate"
)

// storeCheckEvery is how often serve checks the store (a variable for
// tests).
var storeCheckEvery = 5 * time.Second

// storeErrorRepeat is how often a store check that goes on failing is
// logged again.
const storeErrorRepeat = time.Minute

// gatesMarkerName is the file beside the key file that remembers that this
// installation had gates in its database. The database cannot tell that
// itself: a deleted or replaced database is simply empty.
const gatesMarkerName = "vipgate.gates"

// gatesMarker is the content of the marker file.
type gatesMarker struct {
	// Database identifies the database (an SQLite path, or a hash of a
	// PostgreSQL connection string, which may hold a password).
	Database string    `json:"database"`
	Gates    int       `json:"gates"`
	SeenAt   time.Time `json:"seen_at"`
}

// databaseID identifies db in the marker file.
func databaseID(db string) string {
	if isPostgres(db) {
		sum := sha256.Sum256([]byte(db))
		return "postgres:" + hex.EncodeToString(sum[:8])
	}
	if abs, err := filepath.Abs(db); err == nil {
		return abs
	}
	return db
}

// storeWatch checks the store periodically while serve runs: that it
// answers and that its database file is still the one opened (see the
// stores' Ping), and how many gates it holds. A failure is logged at
// Error (again every minute while it lasts), sets vipgate_store_ok to 0
// and makes /readyz answer 503 (through Ping). A database without gates
// in an installation that had gates is logged at Error; with
// requireGates it stops serve.
type storeWatch struct {
	store        gate.Store
	log          *slog.Logger
	state        func(ok bool)
	marker       string // path of the gates marker
	dbID         string
	requireGates bool
	now          func() time.Time

	failing  bool
	loggedAt time.Time
	noGates  bool
	markWarn bool
}

// check runs one round. It returns an error only when the store holds no
// gates and requireGates is set: then vipgate must not serve.
func (w *storeWatch) check(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := w.store.Ping(ctx); err != nil {
		if ctx.Err() != nil && context.Cause(ctx) == context.Canceled {
			return nil // shutting down
		}
		if !w.failing || w.now().Sub(w.loggedAt) >= storeErrorRepeat {
			w.log.Error("store check failed: not ready; calls are still screened with the gates in memory, but call-log rows, counters and changes may be lost", "err", err)
			w.loggedAt = w.now()
		}
		w.failing = true
		w.state(false)
		return nil
	}
	if w.failing {
		w.log.Info("store check passes again")
	}
	w.failing = false
	w.state(true)
	gates, err := w.store.ListGates(ctx)
	if err != nil {
		return nil // a passing failure: Ping answered a moment ago
	}
	return w.gates(len(gates))
}

// gates records how many gates the store holds: in the marker when there
// are some, loudly when there are none.
func (w *storeWatch) gates(n int) error {
	m, _ := readGatesMarker(w.marker)
	if n > 0 {
		w.noGates = false
		if m == nil || m.Database != w.dbID || m.Gates != n {
			if err := writeGatesMarker(w.marker, gatesMarker{Database: w.dbID, Gates: n, SeenAt: w.now().UTC().Truncate(time.Second)}); err != nil && !w.markWarn {
				w.log.Warn("cannot write the gates marker; a database that loses its gates will not be noticed at the next start", "err", err)
				w.markWarn = true
			}
		}
		return nil
	}
	had := m != nil && m.Database == w.dbID && m.Gates > 0
	if w.requireGates {
		if had {
			return fmt.Errorf("refusing to serve (--require-gates): the database has no gates, but it had %d on %s (see %s): it was deleted, replaced or emptied; restore a backup or import the gates", m.Gates, m.SeenAt.Format(time.RFC3339), w.marker)
		}
		return errors.New("refusing to serve (--require-gates): the database has no gates; import them first (vipgate gates import)")
	}
	if !w.noGates {
		if had {
			w.log.Error("the database has no gates, but this installation had gates in it: it was deleted, replaced or emptied; every call passes unscreened until gates are restored (restore a backup or import the gates; delete the marker if this is intended; --require-gates refuses to serve instead)",
				"gates_before", m.Gates, "seen_at", m.SeenAt, "marker", w.marker)
		} else {
			w.log.Warn("the database has no gates: every call passes unscreened (--require-gates refuses to serve instead)")
		}
	}
	w.noGates = true
	return nil
}

// run checks every storeCheckEvery until ctx is done; it returns the
// error of a check that says vipgate must not serve.
func (w *storeWatch) run(ctx context.Context) error {
	t := time.NewTicker(storeCheckEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if err := w.check(ctx); err != nil {
				return err
			}
		}
	}
}

func readGatesMarker(path string) (*gatesMarker, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var m gatesMarker
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("gates marker %s: %w", path, err)
	}
	return &m, nil
}

// writeGatesMarker replaces the marker file atomically (mode 0600).
func writeGatesMarker(path string, m gatesMarker) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".vipgate-gates-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
