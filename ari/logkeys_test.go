package ari_test

import (
	"context"
	"testing"
	"time"

	"github.com/vipgate/vipgate/ari/arifake"
	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/gate/gatetest"
)

// TestLogKeys checks that the ARI adapter logs a call's id under
// gate.LogCall, with gate.LogSource, as the FastAGI adapter and the Flow
// do, and never under another key.
func TestLogKeys(t *testing.T) {
	f := newFake(t, arifake.Config{})
	done := make(chan struct{})
	e := startApp(t, func(ctx context.Context, c gate.Call) {
		defer close(done)
		_ = c.Answer(ctx)
		_, _ = c.Collect(ctx, askPIN, pinOpts(2*time.Second))
		_ = c.Continue(ctx, gate.Continue)
	}, nil, f)
	id, err := f.Call(arifake.CallSpec{})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "prompt", playing(f, id, "sound:vipgate/ask-pin"))
	if err := f.SendDTMF(id, testPIN+"#", 0); err != nil {
		t.Fatal(err)
	}
	<-done
	result(t, f, id)
	gatetest.CheckCallLogKeys(t, e.logs.String(), id, "ari", 3)
}
