package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/storage/sqlite"
	"github.com/vipgate/vipgate/storage/storagetest"
)

// MustOpen opens a store in a fresh temporary directory and closes it when
// the test ends.
func MustOpen(tb testing.TB, opts sqlite.Options) *sqlite.Store {
	tb.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "vipgate.db"), opts)
	if err != nil {
		tb.Fatalf("open: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) gate.Store { return MustOpen(t, sqlite.Options{}) })
}

func TestOpenRejects(t *testing.T) {
	for _, path := range []string{"", ":memory:", "file:x.db?mode=memory", filepath.Join(t.TempDir(), "what?.db")} {
		if s, err := sqlite.Open(context.Background(), path, sqlite.Options{}); err == nil {
			s.Close()
			t.Errorf("open %q: no error", path)
		}
	}
	if _, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "x.db"), sqlite.Options{Synchronous: "OFF"}); err == nil {
		t.Error("open with synchronous OFF: no error")
	}
}

func TestReopenKeepsDataAndSchema(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "odd #dir% 20")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "vipgate.db")
	s, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h, _ := gate.NewHasher([]byte("0123456789abcdef0123456789abcdef"))
	if err := s.CreateGate(ctx, &gate.Gate{ID: "a", Name: "A"}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutEntry(ctx, &gate.Entry{GateID: "a", Pattern: "+4971112345", PIN: h.Hash("4711")}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	for i := range 2 {
		s, err = sqlite.Open(ctx, path, sqlite.Options{})
		if err != nil {
			t.Fatalf("reopen %d: %v", i, err)
		}
		e, err := s.LookupEntry(ctx, "a", "+4971112345", time.Now())
		if err != nil || !h.Check(e.PIN, "4711") {
			t.Fatalf("reopen %d: lookup = %v, %v", i, e, err)
		}
		s.Close()
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database not at the given path: %v", err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n, v int
	if err := db.QueryRow(`SELECT count(*), max(version) FROM schema_migrations`).Scan(&n, &v); err != nil {
		t.Fatal(err)
	}
	// Numbers are handed out ahead of merging, so a number may be missing
	// for a while: one row per migration file, the last one's number the
	// highest.
	embedded, err := filepath.Glob(filepath.Join("migrations", "*.sql"))
	if err != nil || len(embedded) == 0 {
		t.Fatalf("migration files: %v", err)
	}
	last, _, _ := strings.Cut(filepath.Base(embedded[len(embedded)-1]), "_")
	if n != len(embedded) || n < 1 || strconv.Itoa(v) != strings.TrimLeft(last, "0") {
		t.Errorf("schema_migrations: %d rows, max version %d; want one row per embedded migration (%d, the last %s)", n, v, len(embedded), last)
	}
	// A database from a newer vipgate is refused, not damaged.
	if _, err := db.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, '9999_future.sql', 0)`); err != nil {
		t.Fatal(err)
	}
	if s, err := sqlite.Open(ctx, path, sqlite.Options{}); err == nil {
		s.Close()
		t.Fatal("open of a newer schema: no error")
	} else if !strings.Contains(err.Error(), "newer") {
		t.Errorf("open of a newer schema: %v", err)
	}
}

func TestPragmas(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vipgate.db")
	s, err := sqlite.Open(context.Background(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var mode string
	if err := db.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", mode, err)
	}
}

func TestErrorsNameTheOperation(t *testing.T) {
	s := MustOpen(t, sqlite.Options{})
	ctx := context.Background()
	h, _ := gate.NewHasher([]byte("0123456789abcdef0123456789abcdef"))
	if err := s.CreateGate(ctx, &gate.Gate{ID: "a"}); err != nil {
		t.Fatal(err)
	}
	e := &gate.Entry{GateID: "a", Pattern: "+4971112345", PIN: h.Hash("4711")}
	if err := s.PutEntry(ctx, e); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		err    error
		prefix string
		is     error
	}{
		{"duplicate entry", s.PutEntry(ctx, &gate.Entry{GateID: "a", Pattern: "+4971112345", PIN: h.Hash("1")}), "sqlite: put entry: ", gate.ErrConflict},
		{"entry without gate", s.PutEntry(ctx, &gate.Entry{GateID: "b", Pattern: "+4971112345", PIN: h.Hash("1")}), "sqlite: put entry: ", gate.ErrNotFound},
		{"entry without PIN", s.PutEntry(ctx, &gate.Entry{GateID: "a", Pattern: "+4971112346"}), "sqlite: put entry: ", gate.ErrInvalid},
		{"bad gate ID", s.CreateGate(ctx, &gate.Gate{ID: "Not Valid"}), "sqlite: create gate: ", gate.ErrInvalid},
		{"missing gate", func() error { _, err := s.GetGate(ctx, "zz"); return err }(), "sqlite: get gate zz: ", gate.ErrNotFound},
		{"missing token", func() error { _, err := s.GetToken(ctx, "t"); return err }(), "sqlite: get token t: ", gate.ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !errors.Is(tc.err, tc.is) || !strings.HasPrefix(fmt.Sprint(tc.err), tc.prefix) {
				t.Errorf("err = %v, want %q… matching %v", tc.err, tc.prefix, tc.is)
			}
		})
	}
	s.Close()
	if err := s.Ping(ctx); !errors.Is(err, gate.ErrUnavailable) {
		t.Errorf("ping of a closed store = %v, want unavailable", err)
	}
}

func TestClockStampsTimes(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 123456789, time.UTC)
	s := MustOpen(t, sqlite.Options{Now: func() time.Time { return now }})
	ctx := context.Background()
	g := &gate.Gate{ID: "a"}
	if err := s.CreateGate(ctx, g); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetGate(ctx, "a")
	if err != nil || !got.CreatedAt.Equal(now) || !got.UpdatedAt.Equal(now) || !g.CreatedAt.Equal(now) {
		t.Errorf("created_at = %v / %v (%v), want %v", got.CreatedAt, g.CreatedAt, err, now)
	}
}

// TestGateCacheConcurrent reads gates while they change; run with -race.
func TestGateCacheConcurrent(t *testing.T) {
	s := MustOpen(t, sqlite.Options{})
	ctx := context.Background()
	if err := s.CreateGate(ctx, &gate.Gate{ID: "a", Name: "v0"}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for r := range 4 {
		wg.Go(func() {
			for range 50 {
				g, err := s.GetGate(ctx, "a")
				if err != nil {
					t.Errorf("reader %d: %v", r, err)
					return
				}
				g.Name = "scribbled" // must not reach the cache
			}
		})
	}
	for i := range 20 {
		if err := s.UpdateGate(ctx, &gate.Gate{ID: "a", Name: fmt.Sprintf("v%d", i+1)}); err != nil {
			t.Fatal(err)
		}
		g, err := s.GetGate(ctx, "a")
		if err != nil || g.Name != fmt.Sprintf("v%d", i+1) {
			t.Fatalf("after update %d: name %q, %v", i+1, g.Name, err)
		}
	}
	wg.Wait()
}

// TestGateCacheSeesOtherProcess opens one file twice, as the vipgate
// daemon and CLI do, and checks that gate changes made through one Store
// reach the other's cache after the recheck interval.
func TestGateCacheSeesOtherProcess(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "vipgate.db")
	open := func(recheck time.Duration) *sqlite.Store {
		s, err := sqlite.Open(ctx, path, sqlite.Options{GateRecheck: recheck})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	daemon, cli := open(-1), open(time.Hour) // -1: the daemon asks on every read
	if err := cli.CreateGate(ctx, &gate.Gate{ID: "a", Name: "v1"}); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name   string
		change func() error
		want   string // gate a's name in the daemon, "" = gone
	}{
		{"created", func() error { return nil }, "v1"},
		{"updated", func() error { return cli.UpdateGate(ctx, &gate.Gate{ID: "a", Name: "v2"}) }, "v2"},
		{"override", func() error { return cli.SetOverride(ctx, "a", &gate.Override{Active: true}) }, "v2"},
		{"deleted", func() error { return cli.DeleteGate(ctx, "a") }, ""},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if err := st.change(); err != nil {
				t.Fatal(err)
			}
			g, err := daemon.GetGate(ctx, "a")
			switch {
			case st.want == "" && !errors.Is(err, gate.ErrNotFound):
				t.Errorf("daemon still sees the deleted gate: %v, %v", g, err)
			case st.want != "" && (err != nil || g.Name != st.want):
				t.Errorf("daemon sees %v, %v; want name %s", g, err, st.want)
			case st.name == "override" && g.Override == nil:
				t.Error("daemon does not see the override")
			}
		})
	}
	// With a long recheck interval, the CLI keeps its cache until it
	// writes itself.
	if err := daemon.CreateGate(ctx, &gate.Gate{ID: "b"}); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.GetGate(ctx, "b"); err != nil && !errors.Is(err, gate.ErrNotFound) {
		t.Fatal(err)
	}
	if err := cli.CreateGate(ctx, &gate.Gate{ID: "c"}); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.GetGate(ctx, "b"); err != nil {
		t.Errorf("after its own write the CLI must reload: %v", err)
	}
}
