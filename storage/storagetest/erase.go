package storagetest

import (
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
)

// testEraseCaller checks EraseCaller: at one gate it deletes the caller's
// rows, exact entry, lockout and counters there and nothing of other
// callers, prefix entries or other gates; rows just logged are erased
// too; with gate "" it erases the rest; an unknown gate is ErrNotFound
// and shared keys are ErrInvalid.
func testEraseCaller(t *testing.T, s gate.Store) {
	const who, other = "+4971112345", "+4971199999"
	for _, id := range []string{"a", "b"} {
		mustCreate(t, s, tableGate(id))
		for _, p := range []string{who, other, "+49711*"} {
			if err := s.PutEntry(ctx(t), entry(t, id, p, "1234")); err != nil {
				t.Fatalf("put entry %s at %s: %v", p, id, err)
			}
		}
		for _, c := range []string{who, other, who} {
			if err := s.LogCall(ctx(t), &gate.CallRecord{At: t0, Source: "agi", GateID: id, CallerRaw: c, Caller: c, Outcome: gate.OutcomePINFailed}); err != nil {
				t.Fatalf("log call: %v", err)
			}
		}
		for _, c := range []string{who, other, gate.AnyCaller} {
			if _, err := s.AddFailure(ctx(t), id, c, t0, time.Hour); err != nil {
				t.Fatalf("add failure: %v", err)
			}
			if err := s.SetLockout(ctx(t), &gate.Lockout{GateID: id, Caller: c, Until: t0.Add(time.Hour), Failures: 1, At: t0}); err != nil {
				t.Fatalf("set lockout: %v", err)
			}
		}
	}
	calls := func(t *testing.T, gateID, caller string) int {
		t.Helper()
		_, n, err := s.ListCalls(ctx(t), gate.CallFilter{GateID: gateID, Caller: caller})
		if err != nil {
			t.Fatalf("list calls: %v", err)
		}
		return n
	}
	// failures reserves a guess and returns the count; with an ok
	// reservation (the key held none) it counts only that guess.
	failures := func(t *testing.T, gateID, caller string) int {
		t.Helper()
		counts, _, err := s.ReserveGuess(ctx(t), gateID, []gate.GuessKey{{Caller: caller, Limit: 1}}, t0, time.Hour)
		if err != nil {
			t.Fatalf("reserve guess: %v", err)
		}
		return counts[0]
	}
	locked := func(t *testing.T, gateID, caller string) bool {
		t.Helper()
		_, err := s.GetLockout(ctx(t), gateID, caller, t0)
		return err == nil
	}
	entries := func(t *testing.T, gateID string) int {
		t.Helper()
		_, n, err := s.ListEntries(ctx(t), gateID, gate.EntryFilter{})
		if err != nil {
			t.Fatalf("list entries: %v", err)
		}
		return n
	}

	got, err := s.EraseCaller(ctx(t), "a", who)
	if err != nil {
		t.Fatalf("erase at a: %v", err)
	}
	if want := (gate.Erasure{Calls: 2, Entries: 1, Lockouts: 1, Counters: 1}); got != want {
		t.Errorf("erase at a = %+v, want %+v", got, want)
	}
	if n, l, f := calls(t, "a", who), locked(t, "a", who), failures(t, "a", who); n != 0 || l || f != 1 {
		t.Errorf("erase at a left %d rows, lockout %v, %d failures of the caller at a", n, l, f-1)
	}
	if _, err := s.LookupEntry(ctx(t), "a", who, t0); err != nil {
		t.Errorf("the prefix entry should still match the erased number: %v", err)
	}
	if e, _ := s.LookupEntry(ctx(t), "a", who, t0); e != nil && e.Pattern == who {
		t.Error("the exact entry of the caller is still there")
	}
	if entries(t, "a") != 2 || calls(t, "a", other) != 1 || !locked(t, "a", other) || !locked(t, "a", gate.AnyCaller) || failures(t, "a", other) == 0 {
		t.Error("erase at a touched another caller, the prefix entry or the gate-wide key")
	}
	if calls(t, "b", who) != 2 || !locked(t, "b", who) || entries(t, "b") != 3 {
		t.Error("erase at a touched gate b")
	}

	// A row just logged (maybe still buffered) is erased too.
	if err := s.LogCall(ctx(t), &gate.CallRecord{At: t0, Source: "ari", GateID: "b", Caller: who, Outcome: gate.OutcomePassed}); err != nil {
		t.Fatalf("log call: %v", err)
	}
	got, err = s.EraseCaller(ctx(t), "", who)
	if err != nil {
		t.Fatalf("erase everywhere: %v", err)
	}
	// Counters: b's, and the one the guess reserved above made at a.
	if want := (gate.Erasure{Calls: 3, Entries: 1, Lockouts: 1, Counters: 2}); got != want {
		t.Errorf("erase everywhere = %+v, want %+v", got, want)
	}
	if calls(t, "", who) != 0 || calls(t, "", other) != 2 {
		t.Error("erase everywhere: wrong rows left")
	}
	if got, err := s.EraseCaller(ctx(t), "", who); err != nil || got != (gate.Erasure{}) {
		t.Errorf("second erase = %+v, %v; want zero counts, no error", got, err)
	}
	_, err = s.EraseCaller(ctx(t), "missing", who)
	wantErr(t, "erase at a missing gate", err, gate.ErrNotFound)
	for _, k := range []string{"", gate.AnyCaller, gate.AnonymousCaller} {
		_, err := s.EraseCaller(ctx(t), "a", k)
		wantErr(t, "erase "+k, err, gate.ErrInvalid)
	}
	if !locked(t, "a", gate.AnyCaller) {
		t.Error("a refused erasure removed the gate-wide lockout")
	}
}

// testPruneGateCalls checks PruneGateCalls: only the old rows of the
// gates in scope go, or with Except those of every other gate (rows
// without a gate included), and an empty scope deletes nothing.
func testPruneGateCalls(t *testing.T, s gate.Store) {
	for _, g := range []string{"a", "b", "c", ""} {
		for _, at := range []time.Time{t0.Add(-48 * time.Hour), t0} {
			if err := s.LogCall(ctx(t), &gate.CallRecord{At: at, Source: "agi", GateID: g, Outcome: gate.OutcomePassed}); err != nil {
				t.Fatalf("log call: %v", err)
			}
		}
	}
	left := func(t *testing.T, g string) int {
		t.Helper()
		rs, _, err := s.ListCalls(ctx(t), gate.CallFilter{Limit: 100})
		if err != nil {
			t.Fatalf("list calls: %v", err)
		}
		n := 0
		for _, r := range rs {
			if r.GateID == g {
				n++
			}
		}
		return n
	}
	if n, err := s.PruneGateCalls(ctx(t), t0, gate.PruneScope{}); err != nil || n != 0 {
		t.Fatalf("empty scope = %d, %v; want 0, nil", n, err)
	}
	if n, err := s.PruneGateCalls(ctx(t), t0, gate.PruneScope{GateIDs: []string{"a"}}); err != nil || n != 1 {
		t.Fatalf("prune a = %d, %v; want 1", n, err)
	}
	if left(t, "a") != 1 || left(t, "b") != 2 || left(t, "c") != 2 || left(t, "") != 2 {
		t.Fatal("prune of gate a touched other gates or kept a's old row")
	}
	if n, err := s.PruneGateCalls(ctx(t), t0, gate.PruneScope{GateIDs: []string{"b"}, Except: true}); err != nil || n != 2 {
		t.Fatalf("prune all but b = %d, %v; want 2 (c and no gate; a's old row is gone)", n, err)
	}
	if left(t, "a") != 1 || left(t, "b") != 2 || left(t, "c") != 1 || left(t, "") != 1 {
		t.Fatal("prune of every gate but b: wrong rows left")
	}
}
