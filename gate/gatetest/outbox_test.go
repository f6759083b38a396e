package gatetest_test

import (
	"testing"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/gate/gatetest"
	"github.com/vipgate/vipgate/storage/storagetest"
)

// TestOutboxConformance holds the fake to the stores' contract.
func TestOutboxConformance(t *testing.T) {
	storagetest.RunOutbox(t, func(t *testing.T) (gate.Outbox, gate.Outbox) {
		o := gatetest.NewOutbox()
		return o, o
	})
}
