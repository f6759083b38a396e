package gatetest_test

import (
	"testing"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/gate/gatetest"
	"github.com/vipgate/vipgate/storage/storagetest"
)

// TestStoreConformance holds the in-memory fake to the contract the real
// stores pass, so tests that use it mean what they say.
func TestStoreConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) gate.Store { return gatetest.NewStore() })
}

// TestStoreParallelGuessing holds the in-memory fake's guess counters to
// the lockout budget under parallel calls, as the real stores are held.
func TestStoreParallelGuessing(t *testing.T) {
	storagetest.ParallelGuessing(t, func(t *testing.T) []gate.Store { return []gate.Store{gatetest.NewStore()} }, 30, 3)
}
