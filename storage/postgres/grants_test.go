package postgres

import (
	"testing"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/storage/storagetest"
)

// TestUseGrantTwoInstances uses a one-use and a three-use grant from
// goroutines spread over two stores on one database, as two vipgate
// instances would: exactly one use and exactly three succeed.
func TestUseGrantTwoInstances(t *testing.T) {
	testDSN(t)
	t.Parallel()
	dsn := freshSchema(t)
	a, b := openStore(t, dsn, Options{}), openStore(t, dsn, Options{})
	storagetest.UseGrantRace(t, []gate.Store{a, b})
}
