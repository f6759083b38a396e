package postgres

import (
	"testing"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/storage/storagetest"
)

// TestConformance runs the store suite; every subtest gets a schema of its
// own, so subtests are isolated and may run beside other tests.
func TestConformance(t *testing.T) {
	testDSN(t)
	t.Parallel()
	storagetest.Run(t, func(t *testing.T) gate.Store {
		return openStore(t, freshSchema(t), Options{})
	})
}
