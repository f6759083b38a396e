package gate_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/gate/gatetest"
)

// BenchmarkDecideTable measures one Decide for a table gate on the
// in-memory store: the engine's own cost and allocations, without I/O,
// for a caller written nationally and internationally.
func BenchmarkDecideTable(b *testing.B) {
	h := mustHasher(b)
	st := gatetest.NewStore()
	g := staticGate(h, "4711")
	g.Identification.Mode = gate.IdentTable
	ctx := context.Background()
	if err := st.CreateGate(ctx, g); err != nil {
		b.Fatal(err)
	}
	var entries []*gate.Entry
	for i := range 10000 {
		entries = append(entries, &gate.Entry{Pattern: fmt.Sprintf("+491761%07d", i), PIN: h.Hash("4711")})
	}
	if _, err := st.ImportEntries(ctx, g.ID, entries, gate.ImportOptions{}); err != nil {
		b.Fatal(err)
	}
	e := gate.NewEngine(gate.EngineConfig{Store: st, Hasher: h, Region: "DE"})
	now := time.Now()
	for _, form := range []struct{ name, caller string }{{"national", "01761 0004242"}, {"international", "+4917610004242"}} {
		b.Run(form.name, func(b *testing.B) {
			info := gate.CallInfo{Caller: form.caller, Called: "1000"}
			b.ReportAllocs()
			for b.Loop() {
				if d := e.Decide(ctx, info, now); d.Verdict != gate.VerdictAskPIN {
					b.Fatal(d.Verdict, d.Trace)
				}
			}
		})
	}
}

// BenchmarkDecideManyGates measures gate selection among 50 enabled gates
// with three match numbers each (national, international and prefix
// forms): the patterns are prepared once per gate, not per call.
func BenchmarkDecideManyGates(b *testing.B) {
	h := mustHasher(b)
	st := gatetest.NewStore()
	ctx := context.Background()
	for i := range 50 {
		g := staticGate(h, "4711")
		g.ID = fmt.Sprintf("g%02d", i)
		g.Match.Numbers = []string{fmt.Sprintf("0711 555 %04d", i), fmt.Sprintf("+49 30 555 %04d", i), fmt.Sprintf("0221 77%02d*", i)}
		if err := st.CreateGate(ctx, g); err != nil {
			b.Fatal(err)
		}
	}
	e := gate.NewEngine(gate.EngineConfig{Store: st, Hasher: h, Region: "DE"})
	info := gate.CallInfo{Caller: "+4917612345678", Called: "+49305550042"}
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		if d := e.Decide(ctx, info, now); d.Gate == nil || d.Gate.ID != "g42" {
			b.Fatal(d.Trace)
		}
	}
}
