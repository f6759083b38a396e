package ari_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/vipgate/vipgate/ari"
	"github.com/vipgate/vipgate/ari/arifake"
	"github.com/vipgate/vipgate/gate"
)

func pinOpts(first time.Duration) gate.CollectOptions {
	return gate.CollectOptions{MaxDigits: len(testPIN), FirstDigit: first, InterDigit: first, Terminator: "#"}
}

func TestBargeInStopsLongPromptBeforeContinue(t *testing.T) {
	// The prompt would play for an hour: the call can only continue in time
	// if the first digit stopped it.
	f := newFake(t, arifake.Config{PlaybackDuration: func(string) time.Duration { return time.Hour }})
	h := newPINHandler(pinOpts(5 * time.Second))
	startApp(t, h.handle, nil, f)
	id, err := f.Call(arifake.CallSpec{Caller: "100"})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "prompt", playing(f, id, "sound:vipgate/ask-pin"))
	_ = f.SendDTMF(id, testPIN, 10*time.Millisecond)
	r := result(t, f, id)
	if r.Kind != "continue" || len(r.Plays) != 1 || r.Plays[0].State != "stopped" {
		t.Errorf("result %+v, want continue after the prompt was stopped", r)
	}
	if o := h.wait(t, id); o.err != nil || len(o.inputs) != 1 || o.inputs[0].Digits != testPIN {
		t.Errorf("handler: err %v, %d inputs", o.err, len(o.inputs))
	}
}

func TestFakeQueuesContinueBehindPlayback(t *testing.T) {
	// The fake must behave like Asterisk here, or the test above proves
	// nothing: a continue sent during a playback waits for it.
	f := newFake(t, arifake.Config{PlaybackDuration: func(string) time.Duration { return time.Hour }})
	parked := make(chan gate.Call, 1)
	startApp(t, func(ctx context.Context, c gate.Call) { parked <- c; <-ctx.Done() }, nil, f)
	id, err := f.Call(arifake.CallSpec{State: "Up"})
	if err != nil {
		t.Fatal(err)
	}
	<-parked
	c := newClient(t, strings.TrimSuffix(f.URL(), "/ari"), nil)
	ctx := context.Background()
	if _, err := c.Play(ctx, id, "long-1", []string{"sound:long"}, ""); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "prompt", playing(f, id, "sound:long"))
	if err := c.Continue(ctx, id, "", "", 0, ""); err != nil {
		t.Fatal(err)
	}
	_ = f.SendDTMF(id, "5", 0) // DTMF does not stop it either
	time.Sleep(100 * time.Millisecond)
	if p := f.Parked(ari.DefaultApp); len(p) != 1 {
		t.Fatalf("channel left Stasis during the playback: parked %v", p)
	}
	if err := c.StopPlayback(ctx, "long-1"); err != nil {
		t.Fatal(err)
	}
	if r := result(t, f, id); r.Kind != "continue" {
		t.Errorf("result %+v", r)
	}
}

func TestPlaybackEndings(t *testing.T) {
	tests := []struct {
		name   string
		media  string
		state  string
		config func(*ari.AppConfig)
	}{
		{"missing file fails", "vipgate/missing", "failed", nil},
		// A recording: that does not exist starts and never finishes.
		{"started never finished", "recording:unsupported", "unsupported", nil},
		{"never ends, stopped by the limit", "tone:ring", "stopped", func(c *ari.AppConfig) { c.MaxPlayback = 300 * time.Millisecond }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t, arifake.Config{
				Missing:     func(m string) bool { return strings.Contains(m, "missing") },
				Unsupported: func(m string) bool { return strings.Contains(m, "unsupported") },
			})
			errs := make(chan error, 2)
			e := startApp(t, func(ctx context.Context, c gate.Call) {
				errs <- c.Play(ctx, gate.Prompt{Key: gate.PromptWelcome, Name: tt.media})
				errs <- c.Continue(ctx, gate.Continue)
			}, tt.config, f)
			id, err := f.Call(arifake.CallSpec{State: "Up"})
			if err != nil {
				t.Fatal(err)
			}
			r := result(t, f, id)
			if err := <-errs; err != nil {
				t.Errorf("Play = %v, want nil", err)
			}
			if err := <-errs; err != nil {
				t.Errorf("Continue = %v", err)
			}
			if r.Kind != "continue" || len(r.Plays) != 1 || r.Plays[0].State != tt.state {
				t.Errorf("result %+v, want continue after a %s playback", r, tt.state)
			}
			e.stop()
			checkLogs(t, e.logs.String())
		})
	}
}

// TestNoPollWhileEventsFlow: a sound: prompt that plays longer than the
// playback poll is not polled while the event connection that carried its
// start stays up (its PlaybackFinished will come); a prompt that may
// never report its end is.
func TestNoPollWhileEventsFlow(t *testing.T) {
	tests := []struct {
		media string
		polls bool
	}{
		{"vipgate/long", false},
		{"recording:long", true},
	}
	for _, tt := range tests {
		t.Run(tt.media, func(t *testing.T) {
			f := newFake(t, arifake.Config{PlaybackDuration: func(string) time.Duration { return 400 * time.Millisecond }})
			errs := make(chan error, 1)
			startApp(t, func(ctx context.Context, c gate.Call) {
				errs <- c.Play(ctx, gate.Prompt{Key: gate.PromptWelcome, Name: tt.media})
				_ = c.Continue(ctx, gate.Continue)
			}, nil, f)
			id, err := f.Call(arifake.CallSpec{State: "Up"})
			if err != nil {
				t.Fatal(err)
			}
			if r := result(t, f, id); r.Kind != "continue" {
				t.Fatalf("result %+v", r)
			}
			if err := <-errs; err != nil {
				t.Fatalf("Play = %v", err)
			}
			polls := 0
			for _, r := range f.Requests() {
				if r.Method == "GET" && strings.HasPrefix(r.Path, "/ari/playbacks/") {
					polls++
				}
			}
			if (polls > 0) != tt.polls {
				t.Errorf("%d playback polls during a 400ms prompt (poll every 50ms), want polls: %v", polls, tt.polls)
			}
		})
	}
}

func TestUnroutedCalls(t *testing.T) {
	tests := []struct {
		name     string
		handler  func(ctx context.Context, c gate.Call)
		fallback func(ctx context.Context, c gate.Call)
		kind     string
		reason   string
	}{
		{"handler returns: continue", func(context.Context, gate.Call) {}, nil, "continue", ""},
		{"handler panics: continue", func(context.Context, gate.Call) { panic("boom") }, nil, "continue", ""},
		{"fallback rejects", func(context.Context, gate.Call) {}, func(ctx context.Context, c gate.Call) { _ = c.Hangup(ctx, gate.CauseRejected) }, "hangup", "rejected"},
		{"fallback does nothing: continue", func(context.Context, gate.Call) {}, func(context.Context, gate.Call) {}, "continue", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, arifake.Config{})
			e := startApp(t, tt.handler, func(c *ari.AppConfig) { c.Fallback = tt.fallback }, f)
			id, err := f.Call(arifake.CallSpec{})
			if err != nil {
				t.Fatal(err)
			}
			r := result(t, f, id)
			if r.Kind != tt.kind || r.Reason != tt.reason {
				t.Errorf("result %s/%s, want %s/%s", r.Kind, r.Reason, tt.kind, tt.reason)
			}
			if r.Kind == "continue" && r.Vars[gate.VarResult] != gate.ResultFallback {
				t.Errorf("%s = %q, want %q on a call vipgate did not decide", gate.VarResult, r.Vars[gate.VarResult], gate.ResultFallback)
			}
			if r := result(t, f, id); r.Answered {
				t.Error("an unrouted call was answered")
			}
			e.stop()
		})
	}
}

func TestShutdownRoutesRunningCalls(t *testing.T) {
	f := newFake(t, arifake.Config{})
	started := make(chan struct{}, 3)
	causes := make(chan error, 3)
	e := startApp(t, func(ctx context.Context, c gate.Call) {
		started <- struct{}{}
		<-ctx.Done()
		causes <- context.Cause(ctx)
	}, nil, f)
	var ids []string
	for range 3 {
		id, err := f.Call(arifake.CallSpec{})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
		<-started
	}
	e.stop()
	for _, id := range ids {
		if r := result(t, f, id); r.Kind != "continue" || r.Vars[gate.VarResult] != gate.ResultFallback {
			t.Errorf("%s: %+v, want continue marked %q at shutdown", id, r, gate.ResultFallback)
		}
	}
	for range 3 {
		if c := <-causes; !errors.Is(c, context.Canceled) {
			t.Errorf("cause %v", c)
		}
	}
}

// waitState waits for an OnState report.
func (e *env) waitState(want string) {
	e.t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case s := <-e.states:
			if s == want {
				return
			}
		case <-timeout:
			e.t.Fatalf("no OnState %s", want)
		}
	}
}

func TestReconnect(t *testing.T) {
	t.Run("running call survives a drop that loses PlaybackFinished", func(t *testing.T) {
		f := newFake(t, arifake.Config{PlaybackDuration: func(string) time.Duration { return 100 * time.Millisecond }})
		h := newPINHandler(pinOpts(20 * time.Second))
		e := startApp(t, h.handle, func(c *ari.AppConfig) { c.MinBackoff = 400 * time.Millisecond }, f)
		e.waitState("pbx1:true")
		id, err := f.Call(arifake.CallSpec{Caller: "100"})
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, "prompt", playing(f, id, "sound:vipgate/ask-pin"))
		f.Drop(ari.DefaultApp)
		e.waitState("pbx1:false")
		if _, err := f.Call(arifake.CallSpec{}); !errors.Is(err, arifake.ErrNotRegistered) {
			t.Errorf("a call while disconnected entered Stasis: %v", err)
		}
		e.waitState("pbx1:true")
		if f.Dropped() == 0 {
			t.Fatal("no event was lost; the test does not cover the gap")
		}
		_ = f.SendDTMF(id, testPIN+"#", 10*time.Millisecond)
		if r := result(t, f, id); r.Kind != "continue" {
			t.Errorf("result %+v", r)
		}
		if o := h.wait(t, id); o.err != nil || o.attempts != 1 {
			t.Errorf("handler: err %v attempts %d", o.err, o.attempts)
		}
	})

	t.Run("hang-up while disconnected ends the call", func(t *testing.T) {
		f := newFake(t, arifake.Config{PlaybackDuration: func(string) time.Duration { return 50 * time.Millisecond }})
		h := newPINHandler(pinOpts(30 * time.Second))
		e := startApp(t, h.handle, func(c *ari.AppConfig) { c.MinBackoff = 300 * time.Millisecond }, f)
		e.waitState("pbx1:true")
		id, err := f.Call(arifake.CallSpec{Caller: "100"})
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, "prompt end", func() bool { p := f.Plays(id); return len(p) == 1 && p[0].State == "done" })
		f.Drop(ari.DefaultApp)
		e.waitState("pbx1:false")
		_ = f.CallerHangup(id)
		o := h.wait(t, id)
		if !errors.Is(o.err, gate.ErrHangup) || !errors.Is(o.cause, gate.ErrHangup) || o.attempts != 1 {
			t.Errorf("handler: err %v cause %v attempts %d; want a hang-up in the first attempt", o.err, o.cause, o.attempts)
		}
	})

	t.Run("channel parked by a crashed instance is recovered", func(t *testing.T) {
		f := newFake(t, arifake.Config{PlaybackDuration: func(string) time.Duration { return 100 * time.Millisecond }})
		// A connection that takes a call and dies without routing it.
		ctx := context.Background()
		conn, _, err := websocket.Dial(ctx, strings.Replace(f.URL(), "http", "ws", 1)+"/events?app=vipgate&api_key="+testUser+":"+testPass, nil)
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, "raw connection", func() bool { return f.Connected(ari.DefaultApp) })
		id, err := f.Call(arifake.CallSpec{Caller: "+4917612345678", Exten: "s", Args: []string{"hotline", "4930999"}})
		if err != nil {
			t.Fatal(err)
		}
		_ = conn.CloseNow()
		waitFor(t, "app inactive", func() bool { return !f.Connected(ari.DefaultApp) })
		if p := f.Parked(ari.DefaultApp); len(p) != 1 || p[0] != id {
			t.Fatalf("parked = %v", p)
		}

		h := newPINHandler(pinOpts(10 * time.Second))
		startApp(t, h.handle, nil, f)
		waitFor(t, "recovered prompt", playing(f, id, "sound:vipgate/ask-pin"))
		_ = f.SendDTMF(id, testPIN+"#", 10*time.Millisecond)
		if r := result(t, f, id); r.Kind != "continue" || !r.Answered {
			t.Errorf("result %+v", r)
		}
		o := h.wait(t, id)
		if o.err != nil || o.info.Called != "4930999" || o.info.GateName != "hotline" || o.info.Caller != "+4917612345678" {
			t.Errorf("recovered call: err %v info %+v", o.err, o.info)
		}
	})
}

func TestTwoServers(t *testing.T) {
	f1 := newFake(t, arifake.Config{})
	f2 := newFake(t, arifake.Config{})
	h := newPINHandler(pinOpts(3 * time.Second))
	e := startApp(t, h.handle, nil, f1, f2)
	got := map[string]bool{}
	for len(got) < 2 {
		select {
		case s := <-e.states:
			got[s] = true
		case <-time.After(10 * time.Second):
			t.Fatalf("states %v", got)
		}
	}
	if !got["pbx1:true"] || !got["pbx2:true"] {
		t.Errorf("states %v, want both servers up", got)
	}
	type call struct {
		f  *arifake.Server
		id string
	}
	var calls []call
	for _, f := range []*arifake.Server{f1, f2, f1, f2} {
		id, err := f.Call(arifake.CallSpec{Caller: "100"})
		if err != nil {
			t.Fatal(err)
		}
		calls = append(calls, call{f, id})
	}
	for i, c := range calls {
		waitFor(t, "prompt", func() bool { return len(c.f.Plays(c.id)) > 0 })
		digits := testPIN + "#"
		if i%2 == 1 {
			digits = "0000#"
		}
		_ = c.f.SendDTMF(c.id, digits, 5*time.Millisecond)
	}
	for i, c := range calls {
		r := result(t, c.f, c.id)
		want := "continue"
		if i%2 == 1 {
			want = "hangup" // the wrong PIN three times... or timeouts
		}
		if r.Kind != want {
			t.Errorf("call %d: %s, want %s", i, r.Kind, want)
		}
	}
}

func TestApplicationReplaced(t *testing.T) {
	f := newFake(t, arifake.Config{})
	first := startApp(t, func(ctx context.Context, c gate.Call) { _ = c.Continue(ctx, gate.Continue) }, func(c *ari.AppConfig) { c.MaxBackoff = time.Minute }, f)
	first.waitState("pbx1:true")
	served := make(chan string, 1)
	second := startApp(t, func(ctx context.Context, c gate.Call) {
		served <- c.Info().ID
		_ = c.Hangup(ctx, gate.CauseBusy)
	}, nil, f)
	second.waitState("pbx1:true")
	first.waitState("pbx1:false")
	id, err := f.Call(arifake.CallSpec{})
	if err != nil {
		t.Fatal(err)
	}
	if r := result(t, f, id); r.Kind != "hangup" || r.Reason != "busy" {
		t.Errorf("result %+v, want the second instance's hang-up", r)
	}
	if got := <-served; got != id {
		t.Errorf("second served %s", got)
	}
	if !strings.Contains(first.logs.String(), "another connection") {
		t.Error("the replaced instance did not log why it backs off")
	}
}

// TestShutdownDrains checks the drain: after Run's context is done, a
// running call keeps its context (and its events) and finishes by itself,
// while a new call is sent back to the dialplan at once, marked
// VIPGATE_RESULT=fallback. Without a DrainTimeout the default drain
// applies (gate.DefaultDrainTimeout, as over FastAGI).
func TestShutdownDrains(t *testing.T) {
	t.Run("10s", func(t *testing.T) { shutdownDrains(t, 10*time.Second) })
	t.Run("default", func(t *testing.T) { shutdownDrains(t, 0) })
}

func shutdownDrains(t *testing.T, drain time.Duration) {
	f := newFake(t, arifake.Config{})
	started := make(chan string, 2)
	release := make(chan struct{})
	e := startApp(t, func(ctx context.Context, c gate.Call) {
		started <- c.Info().ID
		select {
		case <-release:
			_ = c.SetVars(ctx, gate.Var{Name: gate.VarResult, Value: "pin_ok"})
			_ = c.Continue(ctx, gate.Continue)
		case <-ctx.Done():
		}
	}, func(c *ari.AppConfig) { c.DrainTimeout = drain }, f)
	running, err := f.Call(arifake.CallSpec{})
	if err != nil {
		t.Fatal(err)
	}
	if got := <-started; got != running {
		t.Fatalf("started %s, want %s", got, running)
	}
	e.cancel() // SIGTERM: start draining
	waitFor(t, "draining", func() bool { return strings.Contains(e.logs.String(), "ari draining") })
	// A call that arrives while draining is not screened: the fallback
	// sends it back to the dialplan at once.
	late, err := f.Call(arifake.CallSpec{})
	if err != nil {
		t.Fatalf("call while draining: %v (the application must stay registered)", err)
	}
	if r := result(t, f, late); r.Kind != "continue" || r.Vars[gate.VarResult] != gate.ResultFallback {
		t.Fatalf("call while draining: %+v, want continue marked %q", r, gate.ResultFallback)
	}
	select {
	case id := <-started:
		t.Fatalf("the handler ran for %s, a call that arrived while draining", id)
	default:
	}
	select {
	case <-e.done:
		t.Fatal("Run returned while a call was still running")
	default:
	}
	close(release)
	r := result(t, f, running)
	if r.Kind != "continue" || r.Vars[gate.VarResult] != "pin_ok" {
		t.Fatalf("running call: %+v, want it to finish its own dialogue during the drain", r)
	}
	select {
	case err := <-e.done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		e.done <- nil // for the cleanup's stop
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after the last call finished")
	}
}
