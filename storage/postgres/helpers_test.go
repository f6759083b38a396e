package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/internal/pgtest"
)

// testDSN returns the test database's DSN or skips the test.
func testDSN(t testing.TB) string {
	t.Helper()
	return pgtest.DSN(t)
}

// freshSchema creates an empty schema in the test database, drops it when
// the test ends, and returns a DSN whose search_path selects it.
func freshSchema(t testing.TB) string {
	t.Helper()
	return pgtest.Schema(t, testDSN(t), "vipgate_test_")
}

// openStore opens a Store on dsn and closes it when the test ends.
func openStore(t testing.TB, dsn string, opts Options) *Store {
	t.Helper()
	s, err := Open(context.Background(), dsn, opts)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s
}

// waitLive waits until the store's change listener is subscribed.
func waitLive(t testing.TB, s *Store) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !s.gates.fresh() {
		if time.Now().After(deadline) {
			t.Fatal("change listener did not subscribe within 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// eventually polls cond until it holds or within runs out.
func eventually(t testing.TB, within time.Duration, what string, cond func() (bool, string)) time.Duration {
	t.Helper()
	start := time.Now()
	deadline := start.Add(within)
	for {
		ok, state := cond()
		if ok {
			return time.Since(start)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v (last: %s)", what, within, state)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

var testKey = []byte("vipgate-postgres-test-key-0123456789")

func testHasher(t testing.TB) *gate.Hasher {
	t.Helper()
	h, err := gate.NewHasher(testKey)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func tableGate(id string) *gate.Gate {
	return &gate.Gate{
		ID:             id,
		Name:           "Table " + id,
		Enabled:        true,
		Match:          gate.Match{Names: []string{id}},
		Activation:     gate.Activation{Mode: gate.ActiveAlways},
		Identification: gate.Identification{Mode: gate.IdentTable, UnknownCaller: gate.UnknownReject, Region: "DE"},
	}
}
