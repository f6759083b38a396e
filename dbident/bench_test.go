package dbident_test

import (
	"context"
	"testing"
	"time"

	"github.com/vipgate/vipgate/dbident"
	"github.com/vipgate/vipgate/gate"
)

// BenchmarkAuthorize measures one database lookup against the test
// PostgreSQL over loopback (pool warm: read-only transaction, query,
// first row, rollback), and one answered from the cache.
func BenchmarkAuthorize(b *testing.B) {
	for _, cached := range []bool{false, true} {
		name := "query"
		if cached {
			name = "cached"
		}
		b.Run(name, func(b *testing.B) {
			dsn, conn := testDB(b)
			insert(b, conn, dsn, "+491", "reject", "", "", "", "")
			a := dbident.New(dbident.Config{})
			defer a.Close()
			g := dbGate(dsn, lookup)
			if cached {
				g.Identification.Database.CacheTTL = gate.Duration(time.Hour)
			}
			ctx := context.Background()
			if _, err := a.Authorize(ctx, g, req("+491")); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if ans, err := a.Authorize(ctx, g, req("+491")); err != nil || ans.Kind != gate.AnswerReject {
					b.Fatalf("%+v %v", ans, err)
				}
			}
		})
	}
}
