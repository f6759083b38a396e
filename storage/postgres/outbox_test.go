package postgres

import (
	"testing"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/storage/storagetest"
)

// TestOutboxConformance runs the outbox suite; the second handle is a
// second Store on the same schema (another instance), so the concurrent
// claims go through FOR UPDATE SKIP LOCKED on two connection pools.
func TestOutboxConformance(t *testing.T) {
	testDSN(t)
	t.Parallel()
	storagetest.RunOutbox(t, func(t *testing.T) (gate.Outbox, gate.Outbox) {
		dsn := freshSchema(t)
		return openStore(t, dsn, Options{}), openStore(t, dsn, Options{})
	})
}
