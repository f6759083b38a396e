package gate_test

import (
	"context"
	"testing"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/gate/gatetest"
)

// TestFlowHandler checks that Flow.Handler runs the Flow: the call is
// decided, routed and logged.
func TestFlowHandler(t *testing.T) {
	e := newEnv(t, staticGate(mustHasher(t), "4711"))
	c := &gatetest.Call{CallInfo: gate.CallInfo{ID: "c1", Source: "test", Caller: "100", Called: "1000"}, Steps: []gatetest.Step{{Digits: "4711", Terminated: true}}}
	var h gate.Handler = e.flow.Handler()
	h(context.Background(), c)
	if dst, ok := c.Destination(); !ok || dst != gate.Continue || c.Var(gate.VarResult) != string(gate.OutcomePINOK) {
		t.Errorf("destination %+v %v, %s=%q; want continue pin_ok", dst, ok, gate.VarResult, c.Var(gate.VarResult))
	}
	if n := len(e.store.Calls()); n != 1 {
		t.Errorf("%d call-log rows, want 1", n)
	}
}
