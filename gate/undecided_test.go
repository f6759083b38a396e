package gate_test

import (
	"context"
	"errors"
	"testing"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/gate/gatetest"
)

func TestRouteUndecided(t *testing.T) {
	ctx := context.Background()
	c := &gatetest.Call{}
	if err := gate.RouteUndecided(ctx, c); err != nil {
		t.Fatal(err)
	}
	if v := c.Var(gate.VarResult); v != gate.ResultFallback {
		t.Errorf("%s = %q, want %q", gate.VarResult, v, gate.ResultFallback)
	}
	if dst, ok := c.Destination(); !ok || dst != gate.Continue {
		t.Errorf("destination %+v %v, want continue", dst, ok)
	}
	// A variable that cannot be set does not keep the call parked.
	c = &gatetest.Call{FailOn: map[string]error{"setvar": gate.ErrInvalid}}
	if err := gate.RouteUndecided(ctx, c); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Destination(); !ok {
		t.Error("not continued after a failed set variable")
	}
	// A channel that is gone is not continued.
	c = &gatetest.Call{FailOn: map[string]error{"setvar": gate.ErrHangup}}
	if err := gate.RouteUndecided(ctx, c); !errors.Is(err, gate.ErrHangup) {
		t.Errorf("err = %v, want ErrHangup", err)
	}
}
