package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
)

// BenchmarkInsertCalls writes call-log rows the way the call-log writer
// does, one transaction per write: one row per write (calls that end far
// apart) and ten (a gathering under load). µs/row is the cost per row.
//
//	go test -run '^$' -bench BenchmarkInsertCalls -benchtime 2000x ./storage/sqlite/
func BenchmarkInsertCalls(b *testing.B) {
	for _, per := range []int{1, 10} {
		b.Run(fmt.Sprintf("rows=%d", per), func(b *testing.B) {
			s, err := Open(context.Background(), filepath.Join(b.TempDir(), "vipgate.db"), Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			rows := make([]gate.CallRecord, per)
			n := 0
			for b.Loop() {
				for j := range rows {
					n++
					rows[j] = gate.CallRecord{At: time.Now(), Source: "ari", ChannelID: "chan-" + strconv.Itoa(n), GateID: "perf", CallerRaw: "5557020001",
						Caller: "+495557020001", Called: "7000", Active: true, Mode: gate.IdentStatic, Verdict: gate.VerdictAskPIN, Attempts: 1, Outcome: gate.OutcomePINOK, Target: "7000"}
				}
				if err := s.insertCalls(context.Background(), rows); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(n), "µs/row")
		})
	}
}
