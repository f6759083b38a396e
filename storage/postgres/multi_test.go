package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vipgate/vipgate/gate"
)

// TestMigrateConcurrent starts several migrations of one empty schema at
// once: the advisory lock lets one apply each migration exactly once.
func TestMigrateConcurrent(t *testing.T) {
	testDSN(t)
	t.Parallel()
	dsn := freshSchema(t)
	const n = 6
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { errs[i] = Migrate(t.Context(), dsn) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("migrate %d: %v", i, err)
		}
	}
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var applied, distinct int
	if err := conn.QueryRow(t.Context(), `SELECT count(*), count(DISTINCT version) FROM schema_migrations`).Scan(&applied, &distinct); err != nil {
		t.Fatal(err)
	}
	if applied != len(ms) || distinct != len(ms) {
		t.Errorf("schema_migrations has %d rows (%d versions), want %d", applied, distinct, len(ms))
	}
	// A store opens on the migrated schema and a later Migrate is a no-op.
	s := openStore(t, dsn, Options{})
	if err := s.Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := Migrate(t.Context(), dsn); err != nil {
		t.Errorf("migrate again: %v", err)
	}
	// Pool settings in the DSN are for the pool, not the server.
	if !strings.Contains(dsn, "://") {
		return
	}
	if err := Migrate(t.Context(), dsn+"&pool_max_conns=3"); err != nil {
		t.Errorf("migrate with pool_max_conns in the DSN: %v", err)
	}
	s2 := openStore(t, dsn+"&pool_max_conns=3", Options{})
	if got := s2.pool.Config().MaxConns; got != 3 {
		t.Errorf("pool_max_conns=3 gave a pool of %d", got)
	}
}

// TestCrossInstance changes gates through one store and polls another on
// the same database: each change must be visible there within 1 s.
func TestCrossInstance(t *testing.T) {
	testDSN(t)
	t.Parallel()
	dsn := freshSchema(t)
	a := openStore(t, dsn, Options{})
	b := openStore(t, dsn, Options{})
	waitLive(t, a)
	waitLive(t, b)
	ctx := t.Context()
	steps := []struct {
		name  string
		write func() error
		// seen reports whether b shows the change.
		seen func() (bool, string)
	}{
		{"create", func() error { return a.CreateGate(ctx, tableGate("hotline")) }, func() (bool, string) {
			g, err := b.GetGate(ctx, "hotline")
			return err == nil && g.Name == "Table hotline", fmt.Sprint(g, err)
		}},
		{"update", func() error {
			g := tableGate("hotline")
			g.Name = "renamed"
			return a.UpdateGate(ctx, g)
		}, func() (bool, string) {
			g, err := b.GetGate(ctx, "hotline")
			return err == nil && g.Name == "renamed", fmt.Sprint(g, err)
		}},
		{"override", func() error {
			return a.SetOverride(ctx, "hotline", &gate.Override{Active: true, Reason: "storm"})
		}, func() (bool, string) {
			gs, err := b.ListGates(ctx)
			ok := err == nil && len(gs) == 1 && gs[0].Override != nil && gs[0].Override.Reason == "storm"
			return ok, fmt.Sprint(gs, err)
		}},
		{"update through b, seen by a", func() error {
			g := tableGate("hotline")
			g.Name = "from b"
			return b.UpdateGate(ctx, g)
		}, func() (bool, string) {
			g, err := a.GetGate(ctx, "hotline")
			return err == nil && g.Name == "from b" && g.Override != nil, fmt.Sprint(g, err)
		}},
		{"delete", func() error { return a.DeleteGate(ctx, "hotline") }, func() (bool, string) {
			_, err := b.GetGate(ctx, "hotline")
			return errors.Is(err, gate.ErrNotFound), fmt.Sprint(err)
		}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if err := st.write(); err != nil {
				t.Fatalf("write: %v", err)
			}
			took := eventually(t, time.Second, "change seen by the other instance", st.seen)
			t.Logf("seen after %v", took)
		})
	}
	// Both stores must still answer from their caches.
	if !a.gates.fresh() || !b.gates.fresh() {
		t.Error("a listener dropped out during the test")
	}
}

// TestInstancesShareCounters hammers one failure counter and the call log
// through two stores at once: every failure is counted once, and every
// logged call is written (Close flushes).
func TestInstancesShareCounters(t *testing.T) {
	testDSN(t)
	t.Parallel()
	dsn := freshSchema(t)
	a := openStore(t, dsn, Options{})
	b, err := Open(t.Context(), dsn, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := a.CreateGate(t.Context(), tableGate("g")); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	const workers, each = 8, 20
	var wg sync.WaitGroup
	counts := make(chan int, workers*each)
	for w := range workers {
		s := a
		if w%2 == 1 {
			s = b
		}
		wg.Go(func() {
			for range each {
				// All at one instant, so that every count covers every
				// failure recorded before it.
				n, err := s.AddFailure(t.Context(), "g", "+4971112345", t0, time.Hour)
				if err != nil {
					t.Errorf("add failure: %v", err)
					return
				}
				counts <- n
				if err := s.LogCall(t.Context(), &gate.CallRecord{At: t0, Source: "ari", GateID: "g", Outcome: gate.OutcomePINFailed}); err != nil {
					t.Errorf("log call: %v", err)
				}
			}
		})
	}
	wg.Wait()
	close(counts)
	seen := map[int]bool{}
	for n := range counts {
		if seen[n] {
			t.Errorf("two AddFailure calls returned count %d (not atomic)", n)
		}
		seen[n] = true
	}
	for n := 1; n <= workers*each; n++ {
		if !seen[n] {
			t.Errorf("no AddFailure returned count %d", n)
		}
	}
	if err := b.Close(); err != nil {
		t.Fatalf("close b: %v", err)
	}
	if _, n, err := a.ListCalls(t.Context(), gate.CallFilter{GateID: "g"}); err != nil || n != workers*each {
		t.Errorf("calls logged through both stores = %d, %v; want %d", n, err, workers*each)
	}
	if err := b.LogCall(t.Context(), &gate.CallRecord{At: t0}); !errors.Is(err, gate.ErrUnavailable) {
		t.Errorf("LogCall after Close = %v, want unavailable", err)
	}
}

// TestListenerReconnect terminates the server process of a store's change
// listener: the store must subscribe again on a new connection and still
// see a change made by another store meanwhile within 1 s.
func TestListenerReconnect(t *testing.T) {
	testDSN(t)
	t.Parallel()
	dsn := freshSchema(t)
	a := openStore(t, dsn, Options{})
	b := openStore(t, dsn, Options{})
	ctx := t.Context()
	if err := b.CreateGate(ctx, tableGate("hotline")); err != nil {
		t.Fatal(err)
	}
	waitLive(t, a)
	old := a.listenerPID.Load()
	if old == 0 {
		t.Fatal("listener has no server process")
	}
	var ok bool
	if err := b.pool.QueryRow(ctx, `SELECT pg_terminate_backend($1)`, int32(old)).Scan(&ok); err != nil || !ok {
		t.Fatalf("terminate listener backend %d: %v, %v", old, ok, err)
	}
	g := tableGate("hotline")
	g.Name = "changed while the listener was away"
	if err := b.UpdateGate(ctx, g); err != nil {
		t.Fatal(err)
	}
	eventually(t, time.Second, "change seen across the listener's reconnect", func() (bool, string) {
		g, err := a.GetGate(ctx, "hotline")
		return err == nil && g.Name == "changed while the listener was away", fmt.Sprint(g, err)
	})
	eventually(t, 10*time.Second, "listener subscribed on a new connection", func() (bool, string) {
		pid := a.listenerPID.Load()
		return pid != 0 && pid != old && a.gates.fresh(), fmt.Sprintf("pid %d (old %d), live %v", pid, old, a.gates.fresh())
	})
	g.Name = "changed after the reconnect"
	if err := b.UpdateGate(ctx, g); err != nil {
		t.Fatal(err)
	}
	eventually(t, time.Second, "change seen through the new subscription", func() (bool, string) {
		g, err := a.GetGate(ctx, "hotline")
		return err == nil && g.Name == "changed after the reconnect", fmt.Sprint(g, err)
	})
}
