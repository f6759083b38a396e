package storagetest

import (
	"errors"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
)

func testGateCreateGetList(t *testing.T, s gate.Store) {
	gates, err := s.ListGates(ctx(t))
	if err != nil || len(gates) != 0 {
		t.Fatalf("list gates of an empty store = %d gates, %v; want 0, nil", len(gates), err)
	}
	ids := []string{"zulu", "alpha", "mike", "bravo-2", "bravo_1"}
	for _, id := range ids {
		before := time.Now().Add(-time.Second)
		g := tableGate(id)
		mustCreate(t, s, g)
		if g.CreatedAt.Before(before) || g.UpdatedAt.Before(g.CreatedAt) {
			t.Errorf("create %s: created_at %v updated_at %v, want set to now", id, g.CreatedAt, g.UpdatedAt)
		}
	}
	gates, err = s.ListGates(ctx(t))
	if err != nil {
		t.Fatalf("list gates: %v", err)
	}
	want := []string{"alpha", "bravo-2", "bravo_1", "mike", "zulu"}
	if len(gates) != len(want) {
		t.Fatalf("list gates: %d gates, want %d", len(gates), len(want))
	}
	for i, g := range gates {
		if g.ID != want[i] {
			t.Errorf("gates[%d] = %s, want %s (ordered by ID)", i, g.ID, want[i])
		}
		checkGate(t, g, tableGate(want[i]))
		if g.CreatedAt.IsZero() || g.UpdatedAt.IsZero() {
			t.Errorf("gate %s: created_at/updated_at not returned", g.ID)
		}
	}
	for _, id := range ids {
		g, err := s.GetGate(ctx(t), id)
		if err != nil {
			t.Fatalf("get gate %s: %v", id, err)
		}
		checkGate(t, g, tableGate(id))
	}
}

func testGateRoundTrip(t *testing.T, s gate.Store) {
	want := fullGate(t, "hotline")
	want.Override = &gate.Override{Active: true, Until: t0.Add(48 * time.Hour), Reason: "holiday", SetAt: t0}
	mustCreate(t, s, want)
	got, err := s.GetGate(ctx(t), "hotline")
	if err != nil {
		t.Fatalf("get gate: %v", err)
	}
	checkGate(t, got, want)
	checkTime(t, "created_at", got.CreatedAt, want.CreatedAt)
	if !hasher(t).Check(*got.Identification.StaticPIN, "4711") {
		t.Error("static PIN hash does not check after the round trip")
	}
	if set := got.Identification.PINSet; len(set) != 2 || !hasher(t).Check(set[0].PIN, "1111") || set[0].Account != "ACC-11" ||
		!set[0].ValidFrom.Equal(t0) || got.Identification.Withheld != gate.WithheldStatic {
		t.Errorf("PIN set or withheld rule after the round trip: %+v, %q", set, got.Identification.Withheld)
	}
	list, err := s.ListGates(ctx(t))
	if err != nil || len(list) != 1 {
		t.Fatalf("list gates = %d gates, %v; want 1", len(list), err)
	}
	checkGate(t, list[0], want)
}

func testGateErrors(t *testing.T, s gate.Store) {
	mustCreate(t, s, tableGate("a"))
	tests := []struct {
		name string
		op   func() error
		want error
	}{
		{"create duplicate", func() error { return s.CreateGate(ctx(t), tableGate("a")) }, gate.ErrConflict},
		{"get missing", func() error { _, err := s.GetGate(ctx(t), "missing"); return err }, gate.ErrNotFound},
		{"update missing", func() error { return s.UpdateGate(ctx(t), tableGate("missing")) }, gate.ErrNotFound},
		{"delete missing", func() error { return s.DeleteGate(ctx(t), "missing") }, gate.ErrNotFound},
		{"override missing", func() error {
			return s.SetOverride(ctx(t), "missing", &gate.Override{Active: true})
		}, gate.ErrNotFound},
		{"clear override missing", func() error { return s.SetOverride(ctx(t), "missing", nil) }, gate.ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { wantErr(t, tc.name, tc.op(), tc.want) })
	}
	wantConflictField(t, "create duplicate", s.CreateGate(ctx(t), tableGate("a")), "id")
	g, err := s.GetGate(ctx(t), "a")
	if err != nil {
		t.Fatalf("get gate after failed create: %v", err)
	}
	checkGate(t, g, tableGate("a"))
}

func testGateUpdateKeepsOverride(t *testing.T, s gate.Store) {
	orig := tableGate("a")
	mustCreate(t, s, orig)
	ov := &gate.Override{Active: false, Until: t0.Add(time.Hour), Reason: "maintenance", SetAt: t0}
	if err := s.SetOverride(ctx(t), "a", ov); err != nil {
		t.Fatalf("set override: %v", err)
	}
	tests := []struct {
		name     string
		override *gate.Override
	}{
		{"override nil in update", nil},
		{"other override in update", &gate.Override{Active: true, Reason: "ignored"}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			upd := fullGate(t, "a")
			upd.Name = "renamed " + tc.name
			upd.Override = tc.override
			if err := s.UpdateGate(ctx(t), upd); err != nil {
				t.Fatalf("update gate: %v", err)
			}
			got, err := s.GetGate(ctx(t), "a")
			if err != nil {
				t.Fatalf("get gate: %v", err)
			}
			want := fullGate(t, "a")
			want.Name = upd.Name
			want.Identification.StaticPIN = upd.Identification.StaticPIN
			want.Identification.PINSet = upd.Identification.PINSet
			want.Override = ov
			checkGate(t, got, want)
			checkTime(t, "created_at", got.CreatedAt, orig.CreatedAt)
			if got.UpdatedAt.Before(orig.UpdatedAt) {
				t.Errorf("update %d: updated_at %v before created %v", i, got.UpdatedAt, orig.UpdatedAt)
			}
		})
	}
}

func testGateSetOverride(t *testing.T, s gate.Store) {
	mustCreate(t, s, tableGate("a"))
	mustCreate(t, s, tableGate("b"))
	orig, err := s.GetGate(ctx(t), "a")
	if err != nil {
		t.Fatalf("get gate: %v", err)
	}
	steps := []struct {
		name string
		set  *gate.Override
	}{
		{"on with expiry", &gate.Override{Active: true, Until: t0.Add(72 * time.Hour), Reason: "until Monday 08:00", SetAt: t0}},
		{"off without expiry", &gate.Override{Active: false, SetAt: t0.Add(time.Minute)}},
		{"cleared", nil},
		{"on again", &gate.Override{Active: true, Reason: "storm", SetAt: t0.Add(2 * time.Minute)}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if err := s.SetOverride(ctx(t), "a", st.set); err != nil {
				t.Fatalf("set override: %v", err)
			}
			g, err := s.GetGate(ctx(t), "a")
			if err != nil {
				t.Fatalf("get gate: %v", err)
			}
			checkOverride(t, g.Override, st.set)
			// The override has its own SetAt; the gate's configuration,
			// and so its UpdatedAt, did not change.
			checkTime(t, "updated_at after set override", g.UpdatedAt, orig.UpdatedAt)
			gates, err := s.ListGates(ctx(t))
			if err != nil || len(gates) != 2 {
				t.Fatalf("list gates = %d, %v", len(gates), err)
			}
			checkOverride(t, gates[0].Override, st.set)
			if gates[1].Override != nil {
				t.Errorf("override leaked to gate b: %+v", gates[1].Override)
			}
		})
	}
}

func testGateDeleteCascades(t *testing.T, s gate.Store) {
	mustCreate(t, s, tableGate("a"))
	mustCreate(t, s, tableGate("b"))
	for _, id := range []string{"a", "b"} {
		mustPut(t, s, entry(t, id, "+4971112345", "4711"))
		mustPut(t, s, entry(t, id, "+49711*", "4712"))
		if err := s.PutPrompt(ctx(t), &gate.PromptFile{GateID: id, Lang: "en", Key: gate.PromptAskPIN, Data: []byte("RIFF....WAVE")}); err != nil {
			t.Fatalf("put prompt: %v", err)
		}
	}
	if err := s.DeleteGate(ctx(t), "a"); err != nil {
		t.Fatalf("delete gate: %v", err)
	}
	wantErr(t, "get deleted gate", func() error { _, err := s.GetGate(ctx(t), "a"); return err }(), gate.ErrNotFound)
	wantErr(t, "delete again", s.DeleteGate(ctx(t), "a"), gate.ErrNotFound)
	if gates, err := s.ListGates(ctx(t)); err != nil || len(gates) != 1 || gates[0].ID != "b" {
		t.Fatalf("list gates after delete = %v, %v; want [b]", gates, err)
	}
	// A new gate with the same ID starts empty.
	mustCreate(t, s, tableGate("a"))
	if _, n, err := s.ListEntries(ctx(t), "a", gate.EntryFilter{}); err != nil || n != 0 {
		t.Errorf("entries of re-created gate = %d, %v; want 0 (delete must cascade)", n, err)
	}
	if _, err := s.LookupEntry(ctx(t), "a", "+4971112345", t0); !isNotFound(err) {
		t.Errorf("lookup in re-created gate: %v, want not found", err)
	}
	if ps, err := s.ListPrompts(ctx(t), "a"); err != nil || len(ps) != 0 {
		t.Errorf("prompts of re-created gate = %d, %v; want 0 (delete must cascade)", len(ps), err)
	}
	// The other gate is untouched.
	if _, n, err := s.ListEntries(ctx(t), "b", gate.EntryFilter{}); err != nil || n != 2 {
		t.Errorf("entries of gate b = %d, %v; want 2", n, err)
	}
	if ps, err := s.ListPrompts(ctx(t), "b"); err != nil || len(ps) != 1 {
		t.Errorf("prompts of gate b = %d, %v; want 1", len(ps), err)
	}
}

func testGateReturnedCopies(t *testing.T, s gate.Store) {
	want := fullGate(t, "a")
	want.Override = &gate.Override{Active: true, Reason: "x", SetAt: t0}
	mustCreate(t, s, want)
	for range 2 {
		g, err := s.GetGate(ctx(t), "a")
		if err != nil {
			t.Fatalf("get gate: %v", err)
		}
		list, err := s.ListGates(ctx(t))
		if err != nil {
			t.Fatalf("list gates: %v", err)
		}
		checkGate(t, g, want)
		checkGate(t, list[0], want)
		for _, m := range []*gate.Gate{g, list[0]} {
			m.Name = "changed"
			m.Match.Numbers[0] = "changed"
			m.Activation.Schedule.Windows[0].Days[0] = "sun"
			m.Activation.Schedule.Closures[0].Date = "01-01"
			m.Identification.Webhook.Headers["X-Tenant"] = "changed"
			m.Identification.StaticPIN.Sum[0] ^= 0xff
			m.Prompts[gate.PromptAskPIN] = "changed"
			m.Override.Reason = "changed"
		}
	}
}

func isNotFound(err error) bool { return errors.Is(err, gate.ErrNotFound) }
