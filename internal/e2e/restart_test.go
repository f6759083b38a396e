package e2e_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/vipgate/vipgate/ari"
	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/internal/e2e"
)

// TestE2EARIAsteriskRestart stops Asterisk under a connected vipgate and
// starts it again on the same configuration. Expected: vipgate reports the
// server down and keeps retrying without Run returning; it reconnects by
// itself once Asterisk is back and gates new calls as before. A call that
// was in the PIN dialogue goes with the old Asterisk: its call goroutine
// ends (a call-log row is written, not pin_ok) and none is left over when
// vipgate stops.
func TestE2EARIAsteriskRestart(t *testing.T) {
	cfg := e2e.ConfigFromEnv(t)
	ast := e2e.Start(t, cfg)
	// A prompt long enough to keep a call in the PIN dialogue while
	// Asterisk stops.
	if err := ast.WritePrompt("long-ask", 25*time.Second); err != nil {
		t.Fatal(err)
	}
	h, err := gate.NewHasher(e2e.HasherKey)
	if err != nil {
		t.Fatal(err)
	}
	states := make(chan bool, 64)
	vg := e2e.StartVipgate(t, ast, testGates(h), nil, func(c *ari.AppConfig) {
		// A short backoff keeps the test quick; the reconnect is still
		// bounded by the deadline below, not by these values.
		c.MinBackoff, c.MaxBackoff = 200*time.Millisecond, 2*time.Second
		next := c.OnState
		c.OnState = func(s string, up bool) {
			next(s, up)
			select {
			case states <- up:
			default: // OnState must not block; 64 is plenty here
			}
		}
	})
	waitState(t, states, true, 10*time.Second)

	t.Log("before the restart: a call is gated")
	gated(t, ast, vg, e2e.CallSpec{ID: "301", Caller: "5550301", Exten: "1000", DTMF: "4711#"})

	// A call in the PIN dialogue (the long prompt playing, no digits yet)
	// when Asterisk stops.
	inDialogue := e2e.CallSpec{ID: "302", Caller: "5550302", Exten: "5000", DTMF: "4711#", PreWait: 20 * time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	chID, err := ast.Originate(ctx, inDialogue)
	if err != nil {
		t.Fatal(err)
	}
	play := "POST /ari/channels/" + chID + "/play"
	for !hasRequest(vg.Requests.All(), play) {
		if ctx.Err() != nil {
			t.Fatalf("call %s: vipgate never started the prompt (%s)", inDialogue.ID, play)
		}
		time.Sleep(50 * time.Millisecond)
	}

	t.Log("Asterisk stops")
	ast.Stop()
	waitState(t, states, false, 15*time.Second)
	dials := func() int { return countRequests(vg.Requests.All(), "GET /ari/events") }
	before := dials()
	ctx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for dials() < before+2 {
		if ctx.Err() != nil {
			t.Fatalf("vipgate tried to reconnect %d times in 10s while Asterisk was down, want at least 2", dials()-before)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !vg.Running() {
		t.Fatal("vipgate's Run returned while Asterisk was down")
	}

	t.Log("Asterisk starts again")
	restarted := time.Now()
	ast.Restart(t)
	waitState(t, states, true, 30*time.Second)
	t.Logf("vipgate reconnected %v after the restart began", time.Since(restarted).Round(time.Millisecond))

	t.Log("after the restart: a new call is gated")
	gated(t, ast, vg, e2e.CallSpec{ID: "303", Caller: "5550303", Exten: "1000", DTMF: "4711#"})

	t.Log("the call that was in the PIN dialogue is gone")
	ctx, cancel = context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	rec, err := vg.WaitCall(ctx, func(r *gate.CallRecord) bool { return r.CallerRaw == inDialogue.Caller })
	if err != nil {
		t.Fatalf("call %s: no call-log row, its call goroutine is still running: %v", inDialogue.ID, err)
	}
	t.Logf("call %s ended %s", inDialogue.ID, rec.Outcome)
	if rec.Outcome != gate.OutcomeAbandoned && rec.Outcome != gate.OutcomeFailed {
		t.Errorf("call %s in the dialogue when Asterisk stopped: outcome %s, want %s or %s", inDialogue.ID, rec.Outcome, gate.OutcomeAbandoned, gate.OutcomeFailed)
	}
	app, err := ast.Client.GetApplication(ctx, "vipgate")
	if err != nil {
		t.Fatal(err)
	}
	if len(app.ChannelIDs) != 0 {
		t.Errorf("channels still in Stasis: %v", app.ChannelIDs)
	}

	// Run returns only after every call goroutine has ended.
	stopped := make(chan struct{})
	go func() { vg.Stop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(15 * time.Second):
		t.Fatal("vipgate's Run did not return within 15s of Stop: a call goroutine is left")
	}
}

// gated places c (a right static PIN) and checks that it is let through:
// the dialplan continues with pin_ok and the call log has its row.
func gated(t *testing.T, ast *e2e.Asterisk, vg *e2e.Vipgate, c e2e.CallSpec) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := ast.Originate(ctx, c); err != nil {
		t.Fatal(err)
	}
	r, err := ast.WaitResult(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if r.Kind != "continue" || r.Arg != c.Exten || r.Fields["result"] != "pin_ok" {
		t.Errorf("call %s ended %s, want continue %s with result=pin_ok", c.ID, r.Line, c.Exten)
	}
	rec, err := vg.WaitCall(ctx, func(r *gate.CallRecord) bool { return r.CallerRaw == c.Caller })
	if err != nil {
		t.Fatalf("call %s: no call-log row: %v", c.ID, err)
	}
	if rec.Outcome != gate.OutcomePINOK || rec.Attempts != 1 || rec.Source != "ari" {
		t.Errorf("call %s log: outcome %s attempts %d source %s; want pin_ok 1 ari", c.ID, rec.Outcome, rec.Attempts, rec.Source)
	}
}

// waitState waits for the next OnState report and fails unless it is want.
func waitState(t *testing.T, states <-chan bool, want bool, within time.Duration) {
	t.Helper()
	timer := time.NewTimer(within)
	defer timer.Stop()
	select {
	case up := <-states:
		if up != want {
			t.Fatalf("OnState reported up=%v, want up=%v", up, want)
		}
	case <-timer.C:
		t.Fatalf("OnState did not report up=%v within %v", want, within)
	}
}

func hasRequest(reqs []string, prefix string) bool {
	return countRequests(reqs, prefix) > 0
}

func countRequests(reqs []string, prefix string) int {
	n := 0
	for _, r := range reqs {
		if strings.HasPrefix(r, prefix) {
			n++
		}
	}
	return n
}
