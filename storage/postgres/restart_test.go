package postgres

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vipgate/vipgate/gate"
)

// pgctl runs the pg_ctl command line from VIPGATE_TEST_POSTGRES_CTL with
// args. Its output (and the server's early output, which the server
// inherits) goes to a file, so that no pipe stays open.
func pgctl(t testing.TB, ctl string, args ...string) {
	t.Helper()
	f, err := os.Create(filepath.Join(t.TempDir(), "pg_ctl.out"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	words := append(strings.Fields(ctl), args...)
	cmd := exec.Command(words[0], words[1:]...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Run(); err != nil {
		out, _ := os.ReadFile(f.Name())
		t.Fatalf("pg_ctl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// TestRestart stops the PostgreSQL server under a running store and starts
// it again. It must not run beside other tests of this package (it is not
// parallel, so it runs before the parallel ones resume).
func TestRestart(t *testing.T) {
	dsn := freshSchema(t)
	ctl := os.Getenv("VIPGATE_TEST_POSTGRES_CTL")
	if ctl == "" {
		t.Skip("set VIPGATE_TEST_POSTGRES_CTL to the pg_ctl command of the test server (.ci/postgres.sh prints it) to run the restart test")
	}
	const bound = 500 * time.Millisecond
	// slack absorbs scheduling delays on a busy machine; without the bound
	// these operations would wait for the server to come back.
	const slack = time.Second
	ctx := t.Context()
	h := testHasher(t)
	setup := openStore(t, dsn, Options{})
	if err := setup.CreateGate(ctx, tableGate("hotline")); err != nil {
		t.Fatal(err)
	}
	if err := setup.PutEntry(ctx, &gate.Entry{GateID: "hotline", Pattern: "+4971112345", PIN: h.Hash("4711")}); err != nil {
		t.Fatal(err)
	}
	s := openStore(t, dsn, Options{StoreTimeout: bound, LogBuffer: 2, LogBatch: 2})
	waitLive(t, s)
	now := time.Now()

	pgctl(t, ctl, "stop", "-m", "fast", "-w")
	running := false
	t.Cleanup(func() {
		if !running {
			pgctl(t, ctl, "start", "-w", "-t", "60")
		}
	})

	t.Run("call path fails within the bound", func(t *testing.T) {
		ops := []struct {
			name string
			op   func() error
		}{
			{"lookup entry", func() error { _, err := s.LookupEntry(ctx, "hotline", "+4971112345", now); return err }},
			{"get lockout", func() error { _, err := s.GetLockout(ctx, "hotline", "+4971112345", now); return err }},
			{"add failure", func() error { _, err := s.AddFailure(ctx, "hotline", "+4971112345", now, time.Minute); return err }},
			{"ping", func() error { return s.Ping(ctx) }},
		}
		for _, op := range ops {
			t.Run(op.name, func(t *testing.T) {
				start := time.Now()
				err := op.op()
				took := time.Since(start)
				if !errors.Is(err, gate.ErrUnavailable) {
					t.Errorf("error %v, want ErrUnavailable", err)
				}
				if took > bound+slack {
					t.Errorf("took %v, want at most StoreTimeout %v", took, bound)
				}
			})
		}
	})

	t.Run("gates from the last-known-good cache", func(t *testing.T) {
		g, err := s.GetGate(ctx, "hotline")
		if err != nil || g.Name != "Table hotline" {
			t.Errorf("get gate = %v, %v; want the cached gate", g, err)
		}
		gs, err := s.ListGates(ctx)
		if err != nil || len(gs) != 1 {
			t.Errorf("list gates = %d gates, %v; want 1", len(gs), err)
		}
		if _, err := s.GetGate(ctx, "missing"); !errors.Is(err, gate.ErrNotFound) {
			t.Errorf("get unknown gate: %v, want ErrNotFound", err)
		}
	})

	accepted := 0
	t.Run("call log buffers, then refuses within the bound", func(t *testing.T) {
		for i := range 20 {
			start := time.Now()
			err := s.LogCall(ctx, &gate.CallRecord{At: now, Source: "ari", GateID: "hotline", ChannelID: fmt.Sprint(i), Outcome: gate.OutcomeFailed})
			took := time.Since(start)
			if took > bound+slack {
				t.Errorf("log call %d took %v, want at most %v", i, took, bound)
			}
			if err == nil {
				accepted++
				continue
			}
			if !errors.Is(err, gate.ErrUnavailable) {
				t.Errorf("log call %d: %v, want ErrUnavailable", i, err)
			}
			break
		}
		if accepted == 0 || accepted == 20 {
			t.Errorf("%d of 20 calls accepted; want the buffer to take some and then refuse", accepted)
		}
	})

	pgctl(t, ctl, "start", "-w", "-t", "60")
	running = true

	t.Run("recovers", func(t *testing.T) {
		eventually(t, 15*time.Second, "lookup after restart", func() (bool, string) {
			e, err := s.LookupEntry(ctx, "hotline", "+4971112345", now)
			return err == nil && e.Pattern == "+4971112345", fmt.Sprint(err)
		})
		eventually(t, 15*time.Second, "listener subscribed again", func() (bool, string) {
			return s.gates.fresh(), "not subscribed"
		})
		other := openStore(t, dsn, Options{})
		g := tableGate("hotline")
		g.Name = "changed after restart"
		if err := other.UpdateGate(ctx, g); err != nil {
			t.Fatal(err)
		}
		eventually(t, time.Second, "change seen after restart", func() (bool, string) {
			g, err := s.GetGate(ctx, "hotline")
			return err == nil && g.Name == "changed after restart", fmt.Sprint(g, err)
		})
		eventually(t, 5*time.Second, "buffered calls written", func() (bool, string) {
			_, n, err := s.ListCalls(ctx, gate.CallFilter{GateID: "hotline"})
			return err == nil && n == accepted, fmt.Sprintf("%d rows, %v; want %d", n, err, accepted)
		})
	})
}

// TestSlowDatabase holds a lock that blocks the caller table: lookups give
// up after StoreTimeout with ErrUnavailable, and gate reads are served
// from memory meanwhile.
func TestSlowDatabase(t *testing.T) {
	dsn := freshSchema(t)
	t.Parallel()
	const bound = 300 * time.Millisecond
	const slack = time.Second // scheduling delays on a busy machine
	ctx := t.Context()
	if err := openStore(t, dsn, Options{}).CreateGate(ctx, tableGate("hotline")); err != nil {
		t.Fatal(err)
	}
	s := openStore(t, dsn, Options{StoreTimeout: bound})
	waitLive(t, s)
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(ctx, `LOCK TABLE entries, gates IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		op      func() error
		wantErr error
	}{
		{"lookup entry gives up", func() error { _, err := s.LookupEntry(ctx, "hotline", "+4971112345", time.Now()); return err }, gate.ErrUnavailable},
		{"get gate from memory", func() error { _, err := s.GetGate(ctx, "hotline"); return err }, nil},
		{"list gates from memory", func() error { _, err := s.ListGates(ctx); return err }, nil},
		{"log call does not wait", func() error {
			return s.LogCall(ctx, &gate.CallRecord{At: time.Now(), Source: "ari", GateID: "hotline", Outcome: gate.OutcomePassed})
		}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			err := tc.op()
			took := time.Since(start)
			if tc.wantErr == nil && err != nil || tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("error %v, want %v", err, tc.wantErr)
			}
			if took > bound+slack {
				t.Errorf("took %v, want at most StoreTimeout %v", took, bound)
			}
		})
	}
}
