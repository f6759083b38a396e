package gate_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/gate/gatetest"
)

// readCounter counts the call-path reads that reach the store.
type readCounter struct {
	*gatetest.Store
	reads atomic.Int64
}

func (c *readCounter) GetLockout(ctx context.Context, gateID, caller string, now time.Time) (*gate.Lockout, error) {
	c.reads.Add(1)
	return c.Store.GetLockout(ctx, gateID, caller, now)
}

func (c *readCounter) LookupEntry(ctx context.Context, gateID, number string, at time.Time) (*gate.Entry, error) {
	c.reads.Add(1)
	return c.Store.LookupEntry(ctx, gateID, number, at)
}

func (c *readCounter) ReadCall(ctx context.Context, gateID string, keys []string, number string, now time.Time) (gate.CallState, error) {
	c.reads.Add(1)
	return c.Store.ReadCall(ctx, gateID, keys, number, now)
}

// TestDecideReadsStoreOnce: a table gate with caller and gate-wide
// lockouts is decided with one read of the store (one round trip to a
// database server), whatever the read finds, and a lockout found by that
// read still rejects the caller before the entry is used.
func TestDecideReadsStoreOnce(t *testing.T) {
	h := mustHasher(t)
	ctx := context.Background()
	now := time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC)
	st := &readCounter{Store: gatetest.NewStore()}
	g := staticGate(h, "4711")
	g.ID = "vip"
	g.Identification.Mode = gate.IdentTable
	g.Identification.UnknownCaller = gate.UnknownReject
	g.Lockout = gate.LockoutPolicy{MaxFailures: 5, GateMaxFailures: 100, Window: gate.Duration(10 * time.Minute), Duration: gate.Duration(time.Hour)}
	if err := st.CreateGate(ctx, g); err != nil {
		t.Fatal(err)
	}
	if err := st.PutEntry(ctx, &gate.Entry{GateID: "vip", Pattern: "+4917612345678", PIN: h.Hash("1234")}); err != nil {
		t.Fatal(err)
	}
	if err := st.SetLockout(ctx, &gate.Lockout{GateID: "vip", Caller: "+4917600000001", Until: now.Add(time.Hour), At: now}); err != nil {
		t.Fatal(err)
	}
	e := gate.NewEngine(gate.EngineConfig{Store: st, Hasher: h, Region: "DE"})
	tests := []struct {
		name, caller string
		want         gate.Verdict
		lockedOut    bool
	}{
		{"listed caller", "+4917612345678", gate.VerdictAskPIN, false},
		{"listed caller in national form", "017612345678", gate.VerdictAskPIN, false},
		{"unlisted caller", "+4917699999999", gate.VerdictReject, false},
		{"locked-out caller", "+4917600000001", gate.VerdictReject, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := st.reads.Load()
			d := e.Decide(ctx, gate.CallInfo{Caller: tc.caller, Called: "1000", GateName: "vip"}, now)
			if n := st.reads.Load() - before; n != 1 {
				t.Errorf("decide read the store %d times, want once", n)
			}
			if d.Verdict != tc.want || d.LockedOut != tc.lockedOut {
				t.Errorf("verdict %s, locked out %v; want %s, %v (trace %v)", d.Verdict, d.LockedOut, tc.want, tc.lockedOut, d.Trace)
			}
			if tc.lockedOut && d.Entry != nil {
				t.Errorf("a locked-out caller's decision carries entry %s", d.Entry.Pattern)
			}
		})
	}
}
