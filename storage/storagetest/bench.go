package storagetest

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
)

// DecideGate returns the table gate that the Decide benchmarks of every
// store decide for: always active, unknown callers rejected, and a lockout
// policy for the caller and for the whole gate, so that each Decide reads
// both lockout keys and the caller's entry, as on a production gate.
func DecideGate(id string) *gate.Gate {
	g := tableGate(id)
	g.Lockout = gate.LockoutPolicy{MaxFailures: 5, Window: gate.Duration(10 * time.Minute), Duration: gate.Duration(time.Hour), GateMaxFailures: 100}
	return g
}

// BenchDecide measures a whole Engine.Decide on s for the DecideGate gate
// gateID, one call at a time: gate selection by name from the store's
// gate list, activation, caller normalisation, the lockouts of both keys
// and the caller lookup. Callers are drawn so that every store does the
// same work: half are listed numbers as given (E.164), a quarter listed
// numbers in national form, a quarter unlisted numbers (rejected).
// listed must be German numbers (+49) with an entry, some of them valid
// in national form, unlisted numbers without one. It reports the latency percentiles p50-µs and p99-µs and
// cpu-µs/op, the CPU time of this process per Decide (which load from
// other processes does not inflate).
func BenchDecide(b *testing.B, s gate.Store, h *gate.Hasher, gateID string, listed, unlisted []string) {
	// National forms of the listed numbers that read back as the listed
	// number (an invalid national number is kept as dialled).
	var national []string
	for _, n := range listed {
		nat := "0" + n[3:]
		if v, err := gate.NormalizeNumber(nat, "DE"); err == nil && v == n {
			national = append(national, nat)
		}
	}
	if len(national) == 0 {
		b.Fatal("no listed number has a valid national form")
	}
	ctx := context.Background()
	e := gate.NewEngine(gate.EngineConfig{Store: s, Hasher: h, Region: "DE"})
	r := rand.New(rand.NewPCG(9, 9))
	at := time.Now()
	lat := make([]time.Duration, 0, 1<<16)
	b.ReportAllocs()
	b.ResetTimer()
	c0 := cpuTime()
	for b.Loop() {
		num, want := listed[r.IntN(len(listed))], gate.VerdictAskPIN
		switch r.IntN(4) {
		case 0:
			num = national[r.IntN(len(national))]
		case 1:
			num, want = unlisted[r.IntN(len(unlisted))], gate.VerdictReject
		}
		start := time.Now()
		d := e.Decide(ctx, gate.CallInfo{Caller: num, Called: "1000", GateName: gateID}, at)
		lat = append(lat, time.Since(start))
		if d.Verdict != want || (want == gate.VerdictAskPIN && d.Entry == nil) {
			b.Fatalf("decide %s: %s, want %s; err %v; trace %v", num, d.Verdict, want, d.Err, d.Trace)
		}
	}
	b.StopTimer()
	cpu := cpuTime() - c0
	ReportLatency(b, lat)
	b.ReportMetric(float64(cpu.Nanoseconds())/1e3/float64(len(lat)), "cpu-µs/op")
}

// ReportLatency reports the p50 and p99 of lat as p50-µs and p99-µs.
func ReportLatency(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Nanoseconds()) / 1e3 }
	b.ReportMetric(q(0.50), "p50-µs")
	b.ReportMetric(q(0.99), "p99-µs")
}
