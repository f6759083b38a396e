package gate_test

import (
	"testing"

	"github.com/vipgate/vipgate/gate"
)

type countObserver struct {
	started, finished int
	last              *gate.CallRecord
}

func (c *countObserver) CallStarted(string) { c.started++ }
func (c *countObserver) CallFinished(r *gate.CallRecord) {
	c.finished++
	c.last = r
}

func TestObserversTellEach(t *testing.T) {
	a, b := &countObserver{}, &countObserver{}
	o := gate.Observers{a, b}
	o.CallStarted("agi")
	r := &gate.CallRecord{GateID: "vip"}
	o.CallFinished(r)
	for i, c := range []*countObserver{a, b} {
		if c.started != 1 || c.finished != 1 || c.last != r {
			t.Errorf("observer %d: %+v", i, c)
		}
	}
}
