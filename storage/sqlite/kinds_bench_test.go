package sqlite_test

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/storage/sqlite"
)

// mixKinds turns the entries of t into a mix of kinds by position: of
// every ten, seven PIN entries, two allow entries (one of them with its
// own target) and one deny entry; the prefix entries (every 100th) are
// deny entries. It returns the verdict each exact hit must get.
func mixKinds(t *table) map[string]gate.Verdict {
	want := make(map[string]gate.Verdict, len(t.hits))
	for i, e := range t.entries {
		switch i % 10 {
		case 7:
			e.Kind, e.PIN, e.Priority = gate.EntryAllow, gate.PINHash{}, 5
		case 8:
			e.Kind, e.PIN, e.Target = gate.EntryAllow, gate.PINHash{}, gate.Target{Kind: gate.TargetExtension, Exten: "200", Priority: 1}
		case 9:
			e.Kind, e.PIN = gate.EntryDeny, gate.PINHash{}
		default:
			e.Kind = gate.EntryPIN
		}
		if !e.IsPrefix() {
			want[e.Pattern] = map[gate.EntryKind]gate.Verdict{gate.EntryPIN: gate.VerdictAskPIN, gate.EntryDeny: gate.VerdictReject}[e.Kind]
			if e.Kind == gate.EntryAllow {
				want[e.Pattern] = gate.VerdictPass
				if !e.Target.IsZero() {
					want[e.Pattern] = gate.VerdictForward
				}
			}
		}
	}
	return want
}

// BenchmarkDecideKinds1M is BenchmarkDecide1M over a table of 1,000,000
// entries of every kind (70 % PIN, 20 % allow, 10 % deny; the 1 % prefix
// entries deny): listed callers, callers under a deny prefix and unknown
// callers (target: p99 ≤ 1 ms).
func BenchmarkDecideKinds1M(b *testing.B) {
	const n = 1_000_000
	t := makeTable(b, n, 43)
	want := mixKinds(t)
	path := benchPath(b, "kinds-1m.db")
	ctx := context.Background()
	s, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	g := &gate.Gate{ID: "bench", Name: "bench", Enabled: true, Identification: gate.Identification{Mode: gate.IdentTable}}
	if err := s.CreateGate(ctx, g); err != nil {
		b.Fatal(err)
	}
	if _, err := s.ImportEntries(ctx, "bench", t.entries, gate.ImportOptions{}); err != nil {
		b.Fatal(err)
	}
	t.entries = nil
	e := gate.NewEngine(gate.EngineConfig{Store: s, Hasher: benchHasher(b), Region: "DE"})
	r := rand.New(rand.NewPCG(9, 9))
	at := time.Now()
	lat := make([]time.Duration, 0, 1<<16)
	counts := map[gate.Verdict]int{}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		var num string
		var v gate.Verdict
		switch k := r.IntN(8); {
		case k < 6:
			num = t.hits[r.IntN(len(t.hits))]
			v = want[num]
		case k == 6:
			num, v = t.prefix[r.IntN(len(t.prefix))], gate.VerdictReject
		default:
			num, v = t.misses[r.IntN(len(t.misses))], gate.VerdictReject
		}
		start := time.Now()
		d := e.Decide(ctx, gate.CallInfo{Caller: num, Called: "1000", GateName: "bench"}, at)
		lat = append(lat, time.Since(start))
		if d.Verdict != v {
			b.Fatalf("decide %s: %s, want %s; trace %v", num, d.Verdict, v, d.Trace)
		}
		counts[v]++
	}
	b.StopTimer()
	slices.Sort(lat)
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Nanoseconds()) }
	b.ReportMetric(q(0.50), "p50-ns")
	b.ReportMetric(q(0.99), "p99-ns")
	b.Logf("verdicts: %v", counts)
}
