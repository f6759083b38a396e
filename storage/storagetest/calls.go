package storagetest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
)

func fullCall() *gate.CallRecord {
	return &gate.CallRecord{
		At:              t0.Add(1234 * time.Millisecond),
		Source:          "ari",
		ChannelID:       "1709371800.42",
		GateID:          "hotline",
		CallerRaw:       "0711 123-45",
		Caller:          "+4971112345",
		Called:          "+4971199900",
		Active:          true,
		Mode:            gate.IdentTable,
		Verdict:         gate.VerdictAskPIN,
		Attempts:        2,
		Outcome:         gate.OutcomePINOK,
		Target:          "from-vipgate,200,1",
		EntryID:         77,
		DecisionLatency: 1234567 * time.Nanosecond,
		Duration:        9*time.Second + 876543210*time.Nanosecond,
		WebhookLatency:  98765432 * time.Nanosecond,
		ErrorClass:      "webhook_timeout",
		Closure:         `holiday "Karfreitag" (de-by)`,
	}
}

func testCallRoundTrip(t *testing.T, s gate.Store) {
	tests := []struct {
		name string
		rec  *gate.CallRecord
	}{
		{"every field", fullCall()},
		{"minimal", &gate.CallRecord{At: t0.Add(-time.Hour), Source: "agi", CallerRaw: "anonymous", Outcome: gate.OutcomePassed}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := *tc.rec
			if err := s.LogCall(ctx(t), tc.rec); err != nil {
				t.Fatalf("log call: %v", err)
			}
			got, total, err := s.ListCalls(ctx(t), gate.CallFilter{From: want.At, To: want.At.Add(time.Millisecond)})
			if err != nil {
				t.Fatalf("list calls: %v", err)
			}
			if total != 1 || len(got) != 1 {
				t.Fatalf("list calls: %d rows (total %d), want 1", len(got), total)
			}
			checkTime(t, "at", got[0].At, want.At)
			if got[0].ID == 0 {
				t.Error("listed call has no ID")
			}
			if tc.rec.ID != 0 && tc.rec.ID != got[0].ID {
				t.Errorf("LogCall set ID %d, listed row has %d", tc.rec.ID, got[0].ID)
			}
			g := *got[0]
			g.ID, g.At, want.ID, want.At = 0, time.Time{}, 0, time.Time{}
			if g != want {
				t.Errorf("call record = %+v\nwant %+v", g, want)
			}
		})
	}
}

// callFixture returns 40 call records spread over gates, callers, outcomes
// and two hours.
func callFixture() []*gate.CallRecord {
	gates := []string{"a", "b", ""}
	callers := []string{"+4971112345", "+4930123456", "+12125550100", ""}
	outcomes := []gate.Outcome{gate.OutcomePassed, gate.OutcomePINOK, gate.OutcomePINFailed, gate.OutcomeRejected, gate.OutcomeLockedOut}
	var out []*gate.CallRecord
	for i := range 40 {
		out = append(out, &gate.CallRecord{
			At:       t0.Add(time.Duration((i*37)%40) * 3 * time.Minute),
			Source:   []string{"ari", "agi"}[i%2],
			GateID:   gates[i%len(gates)],
			Caller:   callers[i%len(callers)],
			Called:   "+4971199900",
			Outcome:  outcomes[i%len(outcomes)],
			Attempts: i % 4,
			Duration: time.Duration(i) * time.Second,
		})
	}
	return out
}

func testCallList(t *testing.T, s gate.Store) {
	recs := callFixture()
	for _, r := range recs {
		if err := s.LogCall(ctx(t), r); err != nil {
			t.Fatalf("log call: %v", err)
		}
	}
	// model is what the filter should select, newest first.
	model := func(f gate.CallFilter) []*gate.CallRecord {
		var out []*gate.CallRecord
		for _, r := range recs {
			if f.GateID != "" && r.GateID != f.GateID ||
				f.Caller != "" && r.Caller != f.Caller ||
				f.Outcome != "" && r.Outcome != f.Outcome ||
				!f.From.IsZero() && r.At.Before(f.From) ||
				!f.To.IsZero() && !r.At.Before(f.To) {
				continue
			}
			out = append(out, r)
		}
		slices.SortStableFunc(out, func(a, b *gate.CallRecord) int { return b.At.Compare(a.At) })
		return out
	}
	tests := []struct {
		name string
		f    gate.CallFilter
	}{
		{"all", gate.CallFilter{}},
		{"gate", gate.CallFilter{GateID: "a"}},
		{"caller", gate.CallFilter{Caller: "+4930123456"}},
		{"outcome", gate.CallFilter{Outcome: gate.OutcomePINFailed}},
		{"from", gate.CallFilter{From: t0.Add(time.Hour)}},
		{"to", gate.CallFilter{To: t0.Add(30 * time.Minute)}},
		{"from to", gate.CallFilter{From: t0.Add(15 * time.Minute), To: t0.Add(45 * time.Minute)}},
		{"gate caller outcome", gate.CallFilter{GateID: "b", Caller: "+4971112345", Outcome: gate.OutcomePINFailed}},
		{"gate and window", gate.CallFilter{GateID: "a", From: t0.Add(20 * time.Minute), To: t0.Add(90 * time.Minute)}},
		{"no match", gate.CallFilter{GateID: "missing"}},
		{"page 1", gate.CallFilter{Limit: 7}},
		{"page 2", gate.CallFilter{Offset: 7, Limit: 7}},
		{"page past the end", gate.CallFilter{Offset: 100, Limit: 7}},
		{"filtered page", gate.CallFilter{GateID: "a", Offset: 2, Limit: 3}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			all := model(tc.f)
			limit := tc.f.Limit
			if limit == 0 {
				limit = 100
			}
			var want []*gate.CallRecord
			if tc.f.Offset < len(all) {
				want = all[tc.f.Offset:min(len(all), tc.f.Offset+limit)]
			}
			// CountCalls counts the same rows by outcome, whatever the page.
			counts, err := s.CountCalls(ctx(t), tc.f)
			if err != nil {
				t.Fatalf("count calls: %v", err)
			}
			wantCounts := map[gate.Outcome]int{}
			for _, r := range all {
				wantCounts[r.Outcome]++
			}
			if !maps.Equal(counts, wantCounts) {
				t.Errorf("count calls = %v, want %v", counts, wantCounts)
			}
			got, total, err := s.ListCalls(ctx(t), tc.f)
			if err != nil {
				t.Fatalf("list calls: %v", err)
			}
			if total != len(all) {
				t.Errorf("total = %d, want %d", total, len(all))
			}
			if len(got) != len(want) {
				t.Fatalf("got %d rows, want %d", len(got), len(want))
			}
			for i := range got {
				if !sameTime(got[i].At, want[i].At) || got[i].GateID != want[i].GateID ||
					got[i].Caller != want[i].Caller || got[i].Outcome != want[i].Outcome || got[i].Duration != want[i].Duration {
					t.Errorf("row %d = %s %s %s %s, want %s %s %s %s", i,
						got[i].At.Format(time.TimeOnly), got[i].GateID, got[i].Caller, got[i].Outcome,
						want[i].At.Format(time.TimeOnly), want[i].GateID, want[i].Caller, want[i].Outcome)
				}
			}
		})
	}
}

// testNoClearPIN plants known PINs as a static PIN and as entry PINs and
// checks that nothing the store returns holds them.
func testNoClearPIN(t *testing.T, s gate.Store) {
	const static, personal, imported = "90817263", "7350917", "6048213"
	h := hasher(t)
	g := fullGate(t, "a")
	sp := h.Hash(static)
	g.Identification.StaticPIN = &sp
	mustCreate(t, s, g)
	e := mustPut(t, s, &gate.Entry{GateID: "a", Pattern: "+4971112345", PIN: h.Hash(personal), Label: "anna"})
	if _, err := s.ImportEntries(ctx(t), "a", []*gate.Entry{{Pattern: "+4930*", PIN: h.Hash(imported), Label: "berlin"}}, gate.ImportOptions{}); err != nil {
		t.Fatalf("import: %v", err)
	}
	rec := fullCall()
	rec.GateID, rec.EntryID = "a", e.ID
	if err := s.LogCall(ctx(t), rec); err != nil {
		t.Fatalf("log call: %v", err)
	}

	var got []any
	gg, err := s.GetGate(ctx(t), "a")
	if err != nil {
		t.Fatalf("get gate: %v", err)
	}
	gates, err := s.ListGates(ctx(t))
	if err != nil {
		t.Fatalf("list gates: %v", err)
	}
	ge, err := s.GetEntry(ctx(t), "a", e.ID)
	if err != nil {
		t.Fatalf("get entry: %v", err)
	}
	le, err := s.LookupEntry(ctx(t), "a", "+4930123", t0)
	if err != nil {
		t.Fatalf("lookup: %v", err)
	}
	list, _, err := s.ListEntries(ctx(t), "a", gate.EntryFilter{})
	if err != nil {
		t.Fatalf("list entries: %v", err)
	}
	calls, _, err := s.ListCalls(ctx(t), gate.CallFilter{})
	if err != nil {
		t.Fatalf("list calls: %v", err)
	}
	got = append(got, gg, gates, ge, le, list, calls)
	for _, pin := range []string{static, personal, imported} {
		for i, v := range got {
			assertNoSecret(t, fmt.Sprintf("result %d (%T)", i, v), v, pin)
		}
	}
	if !h.Check(*gg.Identification.StaticPIN, static) || !h.Check(ge.PIN, personal) || !h.Check(le.PIN, imported) {
		t.Error("stored hashes do not check their PINs")
	}
}

// testCallPrune checks PruneCalls: rows before the cut go, rows at and
// after it stay, the count is right, a second prune deletes nothing, rows
// just handed to LogCall (possibly still buffered) are pruned too, and
// the call log goes on working afterwards.
func testCallPrune(t *testing.T, s gate.Store) {
	cut := t0
	log := func(t *testing.T, at time.Time, gateID string) {
		t.Helper()
		if err := s.LogCall(ctx(t), &gate.CallRecord{At: at, Source: "agi", GateID: gateID, Caller: "+4971112345", Outcome: gate.OutcomePassed}); err != nil {
			t.Fatalf("log call at %v: %v", at, err)
		}
	}
	before := []time.Duration{-400 * 24 * time.Hour, -91 * 24 * time.Hour, -time.Hour, -time.Millisecond}
	after := []time.Duration{0, time.Millisecond, time.Hour, 24 * time.Hour}
	for i, d := range before {
		log(t, cut.Add(d), []string{"a", "b", ""}[i%3])
	}
	for i, d := range after {
		log(t, cut.Add(d), []string{"a", "b", ""}[i%3])
	}
	// remaining lists every row, oldest first, and checks the count.
	remaining := func(t *testing.T, want int) []*gate.CallRecord {
		t.Helper()
		got, total, err := s.ListCalls(ctx(t), gate.CallFilter{Limit: 1000})
		if err != nil {
			t.Fatalf("list calls: %v", err)
		}
		if total != want || len(got) != want {
			t.Fatalf("list calls: %d rows (total %d), want %d", len(got), total, want)
		}
		slices.Reverse(got)
		return got
	}

	t.Run("cancelled context", func(t *testing.T) {
		c, cancel := context.WithCancel(ctx(t))
		cancel()
		if _, err := s.PruneCalls(c, cut); err == nil {
			t.Error("prune with a cancelled context: no error")
		}
		remaining(t, len(before)+len(after))
	})
	t.Run("zero time prunes nothing", func(t *testing.T) {
		n, err := s.PruneCalls(ctx(t), time.Time{})
		if err != nil || n != 0 {
			t.Fatalf("prune before the zero time = %d, %v; want 0, nil", n, err)
		}
		remaining(t, len(before)+len(after))
	})
	t.Run("before the cut", func(t *testing.T) {
		n, err := s.PruneCalls(ctx(t), cut)
		if err != nil {
			t.Fatalf("prune: %v", err)
		}
		if n != int64(len(before)) {
			t.Errorf("prune deleted %d rows, want %d", n, len(before))
		}
		got := remaining(t, len(after))
		for i, r := range got {
			checkTime(t, fmt.Sprintf("kept row %d", i), r.At, cut.Add(after[i]))
		}
	})
	t.Run("again deletes nothing", func(t *testing.T) {
		n, err := s.PruneCalls(ctx(t), cut)
		if err != nil || n != 0 {
			t.Fatalf("second prune = %d, %v; want 0, nil", n, err)
		}
		remaining(t, len(after))
	})
	t.Run("rows just logged", func(t *testing.T) {
		log(t, cut.Add(-2*time.Hour), "a")
		log(t, cut.Add(-3*time.Hour), "b")
		log(t, cut.Add(2*time.Hour), "a")
		n, err := s.PruneCalls(ctx(t), cut)
		if err != nil || n != 2 {
			t.Fatalf("prune right after LogCall = %d, %v; want 2, nil", n, err)
		}
		remaining(t, len(after)+1)
	})
	t.Run("later cut", func(t *testing.T) {
		n, err := s.PruneCalls(ctx(t), cut.Add(time.Hour+time.Millisecond))
		if err != nil || n != 3 {
			t.Fatalf("prune to +1h = %d, %v; want 3 (at, +1ms, +1h), nil", n, err)
		}
		got := remaining(t, 2)
		checkTime(t, "first kept row", got[0].At, cut.Add(2*time.Hour))
		checkTime(t, "second kept row", got[1].At, cut.Add(24*time.Hour))
	})
	t.Run("log after prune", func(t *testing.T) {
		log(t, cut.Add(48*time.Hour), "b")
		got := remaining(t, 3)
		seen := map[int64]bool{}
		for _, r := range got {
			if r.ID == 0 || seen[r.ID] {
				t.Errorf("row at %v has ID %d, zero or taken", r.At, r.ID)
			}
			seen[r.ID] = true
		}
		checkTime(t, "new row", got[2].At, cut.Add(48*time.Hour))
	})
	t.Run("IDs are never reused", func(t *testing.T) {
		// Even when a prune empties the call log, a new row gets an ID
		// no row had before (exports of pruned months stay unambiguous).
		var maxID int64
		for _, r := range remaining(t, 3) {
			maxID = max(maxID, r.ID)
		}
		if _, err := s.PruneCalls(ctx(t), cut.Add(1000*24*time.Hour)); err != nil {
			t.Fatalf("prune all: %v", err)
		}
		remaining(t, 0)
		log(t, cut.Add(72*time.Hour), "a")
		if got := remaining(t, 1); got[0].ID <= maxID {
			t.Errorf("row logged after emptying the call log has ID %d, not above the earlier %d", got[0].ID, maxID)
		}
	})
}

// PruneInBatches checks, for a store that prunes the call log in batches,
// that a backlog larger than one batch is deleted in several and every row
// counted, and that a backlog of exactly a multiple of the batch ends. s
// must be empty; setBatch sets the store's batch size.
func PruneInBatches(t *testing.T, s gate.Store, setBatch func(n int)) {
	setBatch(3)
	cut := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for i := range 12 {
		at := cut.Add(time.Duration(i-10) * time.Hour) // 10 before the cut, 2 at or after it
		if err := s.LogCall(ctx(t), &gate.CallRecord{At: at, Source: "agi", Outcome: gate.OutcomePassed}); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.PruneCalls(ctx(t), cut)
	if err != nil || n != 10 {
		t.Fatalf("prune = %d, %v; want 10 (in batches of 3), nil", n, err)
	}
	got, total, err := s.ListCalls(ctx(t), gate.CallFilter{})
	if err != nil || total != 2 {
		t.Fatalf("after prune: %d rows, %v; want 2", total, err)
	}
	if !got[1].At.Equal(cut) {
		t.Errorf("oldest kept row at %v, want %v", got[1].At, cut)
	}
	// Exactly a multiple of the batch: the last, empty batch ends it.
	setBatch(1)
	if n, err := s.PruneCalls(ctx(t), cut.Add(2*time.Hour)); err != nil || n != 2 {
		t.Fatalf("prune the rest = %d, %v; want 2, nil", n, err)
	}
}
