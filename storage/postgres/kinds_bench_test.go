package postgres

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/storage/storagetest"
)

// BenchmarkDecideKinds runs Engine.Decide over benchRows entries of every
// kind: of every ten rows seven PIN entries, two allow entries (one with
// its own target) and one deny entry; the 1 % prefix rows are deny
// entries. Callers are listed numbers, numbers under a deny prefix and
// unknown numbers (target: p99 ≤ 1 ms). Run it with -benchtime=5000x.
func BenchmarkDecideKinds(b *testing.B) {
	dsn := freshSchema(b)
	s := openStore(b, dsn, Options{})
	h := testHasher(b)
	ctx := context.Background()
	if err := s.CreateGate(ctx, tableGate("bench")); err != nil {
		b.Fatal(err)
	}
	rows := benchTable()
	entries := hashRows(h, "bench", rows)
	want := make(map[string]gate.Verdict, len(rows))
	var prefixes []string
	for i, e := range entries {
		switch i % 10 {
		case 7:
			e.Kind, e.PIN, e.Priority = gate.EntryAllow, gate.PINHash{}, 5
		case 8:
			e.Kind, e.PIN, e.Target = gate.EntryAllow, gate.PINHash{}, gate.Target{Kind: gate.TargetExtension, Exten: "200", Priority: 1}
		case 9:
			e.Kind, e.PIN = gate.EntryDeny, gate.PINHash{}
		}
		if e.IsPrefix() {
			prefixes = append(prefixes, e.Pattern[:len(e.Pattern)-1]+"77")
			continue
		}
		switch {
		case e.Kind == gate.EntryDeny:
			want[e.Pattern] = gate.VerdictReject
		case e.Kind == gate.EntryAllow && e.Target.IsZero():
			want[e.Pattern] = gate.VerdictPass
		case e.Kind == gate.EntryAllow:
			want[e.Pattern] = gate.VerdictForward
		default:
			want[e.Pattern] = gate.VerdictAskPIN
		}
	}
	if _, err := s.ImportEntries(ctx, "bench", entries, gate.ImportOptions{}); err != nil {
		b.Fatal(err)
	}
	if _, err := s.pool.Exec(ctx, `VACUUM ANALYZE entries`); err != nil {
		b.Fatal(err)
	}
	waitLive(b, s)
	rng := rand.New(rand.NewPCG(3, 4))
	type call struct {
		caller string
		want   gate.Verdict
	}
	calls := make([]call, 0, 4096)
	for len(calls) < cap(calls) {
		switch k := rng.IntN(8); {
		case k < 6:
			r := rows[rng.IntN(len(rows))]
			if v, ok := want[r.pattern]; ok {
				calls = append(calls, call{r.pattern, v})
			}
		case k == 6:
			calls = append(calls, call{prefixes[rng.IntN(len(prefixes))], gate.VerdictReject})
		default:
			calls = append(calls, call{fmt.Sprintf("+4917%09d", rng.IntN(1_000_000_000)), gate.VerdictReject})
		}
	}
	rows, entries, want = nil, nil, nil
	runtime.GC()
	e := gate.NewEngine(gate.EngineConfig{Store: s, Hasher: h, Region: "DE"})
	now := time.Now()
	var lat []time.Duration
	i := 0
	for b.Loop() {
		c := calls[i%len(calls)]
		info := gate.CallInfo{ID: fmt.Sprint(i), Source: "ari", Caller: c.caller, Called: "+4971199900", GateName: "bench"}
		start := time.Now()
		d := e.Decide(ctx, info, now)
		lat = append(lat, time.Since(start))
		if d.Verdict != c.want {
			b.Fatalf("decide %s: verdict %s, want %s, err %v", c.caller, d.Verdict, c.want, d.Err)
		}
		i++
	}
	storagetest.ReportLatency(b, lat)
}
