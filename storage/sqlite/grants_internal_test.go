package sqlite

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
)

// TestReadCallSkipsGatesWithoutGrants checks that ReadCall of a gate
// without grants reads no grants (the set of gates with grants says so),
// and that a grant made by another process on the same file (the CLI
// beside serve) is read once the gate cache has seen its gate_version.
func TestReadCallSkipsGatesWithoutGrants(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "vipgate.db")
	open := func() *Store {
		s, err := Open(ctx, path, Options{GateRecheck: -1})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	serve, cli := open(), open()
	for _, id := range []string{"a", "b"} {
		if err := cli.CreateGate(ctx, &gate.Gate{ID: id, Name: id, Identification: gate.Identification{Mode: gate.IdentStatic}}); err != nil {
			t.Fatal(err)
		}
	}
	h, _ := gate.NewHasher([]byte("0123456789abcdef0123456789abcdef"))
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	if err := cli.CreateGrant(ctx, &gate.Grant{GateID: "a", Caller: gate.AnyCaller, PIN: h.Hash("12345678"), MaxUses: 1, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if _, err := serve.ListGates(ctx); err != nil {
		t.Fatal(err)
	}
	read := func(gateID string) int {
		t.Helper()
		st, err := serve.ReadCall(ctx, gateID, nil, "+4971112345", now)
		if err != nil {
			t.Fatal(err)
		}
		return len(st.Grants)
	}
	if read("a") != 1 || read("b") != 0 {
		t.Fatalf("grants of a and b: %d %d, want 1 and 0", read("a"), read("b"))
	}
	serve.granted.mu.Lock()
	valid, has := serve.granted.valid, serve.granted.gates
	serve.granted.mu.Unlock()
	if !valid || !has["a"] || has["b"] {
		t.Fatalf("gates with grants %v (valid %v), want a only", has, valid)
	}
	// The CLI grants at b: the serve sees it after its next gate check.
	if err := cli.CreateGrant(ctx, &gate.Grant{GateID: "b", Caller: gate.AnyCaller, PIN: h.Hash("87654321"), MaxUses: 1, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if _, err := serve.ListGates(ctx); err != nil {
		t.Fatal(err)
	}
	if n := read("b"); n != 1 {
		t.Fatalf("grants of b after the CLI granted one: %d, want 1", n)
	}
	// And a revoke through the CLI empties it again.
	gs, _ := cli.ListGrants(ctx, "b")
	if err := cli.DeleteGrant(ctx, "b", gs[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := serve.ListGates(ctx); err != nil {
		t.Fatal(err)
	}
	if n := read("b"); n != 0 {
		t.Fatalf("grants of b after the revoke: %d, want 0", n)
	}
}
