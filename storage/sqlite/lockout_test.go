package sqlite_test

import (
	"testing"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/storage/sqlite"
	"github.com/vipgate/vipgate/storage/storagetest"
)

// TestParallelGuessingThroughFlow runs 30 calls at once through a Flow on
// the SQLite store (storagetest.ParallelGuessing): the store's guess
// counters hold the wrong guesses to the lockout's budget (3 failures × 3
// attempts) and refuse a late call with the right PIN, for one number and
// spread over 30.
func TestParallelGuessingThroughFlow(t *testing.T) {
	storagetest.ParallelGuessing(t, func(t *testing.T) []gate.Store {
		return []gate.Store{MustOpen(t, sqlite.Options{})}
	}, 30, 3)
}
