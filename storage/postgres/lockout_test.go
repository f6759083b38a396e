package postgres

import (
	"testing"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/storage/storagetest"
)

// TestTwoInstancesShareTheGuessBudget runs 40 calls at once, spread over
// two instances (a store, an engine and a flow each) on one database
// (storagetest.ParallelGuessing): the guesses of both instances count
// against one budget (3 failures × 2 attempts) and a late call with the
// right PIN is refused, for one number and over 40.
func TestTwoInstancesShareTheGuessBudget(t *testing.T) {
	testDSN(t)
	t.Parallel()
	storagetest.ParallelGuessing(t, func(t *testing.T) []gate.Store {
		dsn := freshSchema(t)
		return []gate.Store{openStore(t, dsn, Options{}), openStore(t, dsn, Options{})}
	}, 40, 2)
}
