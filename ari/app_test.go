package ari_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vipgate/vipgate/ari"
	"github.com/vipgate/vipgate/ari/arifake"
	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/gate/gatetest"
)

const (
	testUser = "vipgate"
	testPass = "pw-Zq7-not-in-logs"
	testPIN  = "8642"
)

var askPIN = gate.Prompt{Key: gate.PromptAskPIN, Name: "vipgate/ask-pin"}

// outcome is what the scripted handler saw on one call.
type outcome struct {
	info     gate.CallInfo
	attempts int
	inputs   []gate.Input
	err      error // the error that ended the dialogue, if any
	cause    error // context.Cause of the call context when the handler returned
}

// pinHandler is a small PIN dialogue like gate.Flow's: answer, ask up to
// three times, continue on the right PIN, hang up busy otherwise.
type pinHandler struct {
	opts gate.CollectOptions
	mu   sync.Mutex
	out  map[string]*outcome
	done map[string]chan struct{}
}

func newPINHandler(opts gate.CollectOptions) *pinHandler {
	return &pinHandler{opts: opts, out: map[string]*outcome{}, done: map[string]chan struct{}{}}
}

func (h *pinHandler) doneCh(id string) chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.done[id] == nil {
		h.done[id] = make(chan struct{})
	}
	return h.done[id]
}

func (h *pinHandler) handle(ctx context.Context, c gate.Call) {
	info := c.Info()
	o := &outcome{info: info}
	defer func() {
		o.cause = context.Cause(ctx)
		h.mu.Lock()
		h.out[info.ID] = o
		h.mu.Unlock()
		close(h.doneCh(info.ID))
	}()
	if o.err = c.Answer(ctx); o.err != nil {
		return
	}
	for o.attempts < 3 {
		o.attempts++
		in, err := c.Collect(ctx, askPIN, h.opts)
		if err != nil {
			o.err = err
			return
		}
		o.inputs = append(o.inputs, in)
		if in.Digits == testPIN {
			o.err = c.Continue(ctx, gate.Continue)
			return
		}
	}
	o.err = c.Continue(ctx, gate.Hangup(gate.CauseBusy))
}

// wait returns the outcome of call id once its handler has returned.
func (h *pinHandler) wait(t *testing.T, id string) *outcome {
	t.Helper()
	select {
	case <-h.doneCh(id):
	case <-time.After(10 * time.Second):
		t.Fatalf("handler for %s did not return", id)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.out[id]
}

type env struct {
	t      *testing.T
	fake   *arifake.Server
	app    *ari.App
	logs   *syncBuffer
	cancel context.CancelFunc
	done   chan error
	states chan string
}

// syncBuffer is a log sink safe for concurrent writers.
type syncBuffer = gatetest.Logs

func fastConfig(cfg *ari.AppConfig) {
	cfg.PlaybackPoll = 50 * time.Millisecond
	cfg.MinBackoff = 20 * time.Millisecond
	cfg.MaxBackoff = 200 * time.Millisecond
	cfg.RequestTimeout = 2 * time.Second
	// Tests that want the drain set it; the others stop at once.
	cfg.DrainTimeout = gate.NoDrain
}

func newFake(t *testing.T, cfg arifake.Config) *arifake.Server {
	cfg.User, cfg.Password = testUser, testPass
	f := arifake.New(cfg)
	t.Cleanup(f.Close)
	return f
}

// startApp runs an App against the fakes until the test ends, and waits
// until every server is connected.
func startApp(t *testing.T, handler func(context.Context, gate.Call), tweak func(*ari.AppConfig), fakes ...*arifake.Server) *env {
	t.Helper()
	logs := &syncBuffer{}
	cfg := ari.AppConfig{
		Handler: handler,
		Logger:  slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	e := &env{t: t, logs: logs, done: make(chan error, 1), states: make(chan string, 64)}
	cfg.OnState = func(server string, up bool) { e.states <- fmt.Sprintf("%s:%v", server, up) }
	for i, f := range fakes {
		cfg.Servers = append(cfg.Servers, ari.ServerConfig{Name: fmt.Sprintf("pbx%d", i+1), BaseURL: f.URL(), User: testUser, Password: testPass})
	}
	fastConfig(&cfg)
	if tweak != nil {
		tweak(&cfg)
	}
	app, err := ari.NewApp(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e.app, e.cancel = app, cancel
	if len(fakes) > 0 {
		e.fake = fakes[0]
	}
	go func() { e.done <- app.Run(ctx) }()
	t.Cleanup(func() {
		e.stop()
		if t.Failed() {
			t.Log(e.logs.String())
		}
	})
	for _, f := range fakes {
		waitFor(t, "app connected", func() bool { return f.Connected(ari.DefaultApp) })
	}
	return e
}

// stop cancels Run and checks that it returns, which means every call
// goroutine has finished.
func (e *env) stop() {
	e.cancel()
	select {
	case err := <-e.done:
		if err != nil {
			e.t.Errorf("Run: %v", err)
		}
		e.done <- nil
	case <-time.After(10 * time.Second):
		e.t.Error("Run did not return after cancel: a call goroutine is left")
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// playing reports whether channel id is playing media right now.
func playing(f *arifake.Server, id, media string) func() bool {
	return func() bool {
		for _, p := range f.Plays(id) {
			if p.Media == media && p.State == "playing" {
				return true
			}
		}
		return false
	}
}

func result(t *testing.T, f *arifake.Server, id string) arifake.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := f.WaitResult(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestPINDialogue(t *testing.T) {
	const prompt = "sound:vipgate/ask-pin"
	type step struct {
		digits      string
		duringPromt bool // type while the prompt plays (else after it)
	}
	tests := []struct {
		name       string
		steps      []step
		hangupAt   string // "prompt", "collect" or ""
		wantKind   string
		wantReason string
		attempts   int
		stopped    int // prompts cut short by barge-in
		timedOut   int
		wantErr    error
	}{
		{name: "right PIN after prompt", steps: []step{{testPIN + "#", false}}, wantKind: "continue", attempts: 1},
		{name: "right PIN during prompt", steps: []step{{testPIN + "#", true}}, wantKind: "continue", attempts: 1, stopped: 1},
		{name: "max digits without terminator", steps: []step{{testPIN, false}}, wantKind: "continue", attempts: 1},
		{name: "wrong then right", steps: []step{{"1111#", true}, {testPIN + "#", false}}, wantKind: "continue", attempts: 2, stopped: 1},
		{name: "all wrong", steps: []step{{"1#", false}, {"22#", true}, {"333#", false}}, wantKind: "hangup", wantReason: "busy", attempts: 3, stopped: 1},
		{name: "silence times out", wantKind: "hangup", wantReason: "busy", attempts: 3, timedOut: 3},
		{name: "partial PIN times out", steps: []step{{"86", false}}, wantKind: "hangup", wantReason: "busy", attempts: 3, timedOut: 3},
		{name: "hangup during prompt", hangupAt: "prompt", wantKind: "caller-hangup", attempts: 1, wantErr: gate.ErrHangup},
		{name: "hangup during collection", steps: []step{{"86", false}}, hangupAt: "collect", wantKind: "caller-hangup", attempts: 1, wantErr: gate.ErrHangup},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// A prompt the caller types into plays "forever", so that the
			// digits surely arrive during it however slow the machine is;
			// the others are short.
			var played atomic.Int32
			f := newFake(t, arifake.Config{PlaybackDuration: func(string) time.Duration {
				i := int(played.Add(1)) - 1
				if i < len(tt.steps) && tt.steps[i].duringPromt || i == 0 && tt.hangupAt == "prompt" {
					return time.Hour
				}
				return 100 * time.Millisecond
			}})
			h := newPINHandler(gate.CollectOptions{MaxDigits: len(testPIN), FirstDigit: 1500 * time.Millisecond, InterDigit: 3 * time.Second, Terminator: "#"})
			e := startApp(t, h.handle, nil, f)
			id, err := f.Call(arifake.CallSpec{Caller: "+4917612345678", Exten: "4930123456", Args: []string{"hotline"}})
			if err != nil {
				t.Fatal(err)
			}
			for i, s := range tt.steps {
				// Wait for the i-th prompt to play.
				waitFor(t, "prompt", func() bool { return len(f.Plays(id)) > i && f.Plays(id)[i].State == "playing" })
				if !s.duringPromt {
					waitFor(t, "prompt end", func() bool { return f.Plays(id)[i].State != "playing" })
				}
				if err := f.SendDTMF(id, s.digits, 20*time.Millisecond); err != nil {
					t.Fatal(err)
				}
			}
			switch tt.hangupAt {
			case "prompt":
				waitFor(t, "prompt", playing(f, id, prompt))
				_ = f.CallerHangup(id)
			case "collect":
				waitFor(t, "prompt end", func() bool { p := f.Plays(id); return len(p) > 0 && p[0].State == "done" })
				time.Sleep(50 * time.Millisecond)
				_ = f.CallerHangup(id)
			}
			r := result(t, f, id)
			o := h.wait(t, id)
			if r.Kind != tt.wantKind || r.Reason != tt.wantReason {
				t.Errorf("result %s/%s, want %s/%s", r.Kind, r.Reason, tt.wantKind, tt.wantReason)
			}
			if tt.wantKind == "continue" && (r.Context != "from-external" || r.Exten != "4930123456" || r.Priority != 3) {
				t.Errorf("continued to %s,%s,%d; want the priority after Stasis()", r.Context, r.Exten, r.Priority)
			}
			if !r.Answered {
				t.Error("channel was not answered")
			}
			if o.attempts != tt.attempts {
				t.Errorf("attempts = %d, want %d", o.attempts, tt.attempts)
			}
			stopped, timedOut := 0, 0
			for _, p := range r.Plays {
				if p.State == "stopped" {
					stopped++
				}
			}
			for _, in := range o.inputs {
				if in.TimedOut {
					timedOut++
				}
			}
			if stopped != tt.stopped || timedOut != tt.timedOut {
				t.Errorf("stopped prompts %d timed-out inputs %d, want %d %d", stopped, timedOut, tt.stopped, tt.timedOut)
			}
			if tt.wantErr != nil {
				if !errors.Is(o.err, tt.wantErr) {
					t.Errorf("handler error %v, want %v", o.err, tt.wantErr)
				}
				if !errors.Is(o.cause, gate.ErrHangup) {
					t.Errorf("context cause %v, want gate.ErrHangup", o.cause)
				}
			} else if o.err != nil {
				t.Errorf("handler error %v", o.err)
			}
			if o.info.Called != "4930123456" || o.info.GateName != "hotline" || o.info.Caller != "+4917612345678" || o.info.Source != "ari" {
				t.Errorf("info = %+v", o.info)
			}
			e.stop()
			checkLogs(t, e.logs.String())
		})
	}
}

// checkLogs fails if the logs hold a secret, the PIN or a typed digit.
func checkLogs(t *testing.T, logs string) {
	t.Helper()
	if logs == "" {
		t.Fatal("no logs were written; the check would prove nothing")
	}
	for _, bad := range []string{testPass, `"` + testPIN, testPIN + `"`, `"digit"`, `"digits"`, "api_key"} {
		if strings.Contains(logs, bad) {
			t.Errorf("logs contain %q", bad)
		}
	}
}

// TestServerNamesAreTheOnStateNames checks that a server without a Name
// (as --ari-url configures it) is reported by OnState under the name
// ServerNames gives, so state can be registered and updated under one name.
func TestServerNamesAreTheOnStateNames(t *testing.T) {
	f := newFake(t, arifake.Config{})
	e := startApp(t, func(ctx context.Context, c gate.Call) {}, func(cfg *ari.AppConfig) {
		cfg.Servers = []ari.ServerConfig{{BaseURL: f.URL(), User: testUser, Password: testPass}}
	}, f)
	names := e.app.ServerNames()
	u, _ := url.Parse(f.URL())
	if len(names) != 1 || names[0] != u.Host {
		t.Fatalf("ServerNames = %q, want [%q]", names, u.Host)
	}
	select {
	case got := <-e.states:
		if want := names[0] + ":true"; got != want {
			t.Errorf("OnState reported %q, want %q", got, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no OnState report")
	}
}

// TestAppFiltersEvents: on each connection the application asks Asterisk
// for the events vipgate uses only, so that the ChannelVarset of each
// variable it sets and the PlaybackStarted of each prompt are not sent at
// all.
func TestAppFiltersEvents(t *testing.T) {
	f := newFake(t, arifake.Config{})
	handler := func(ctx context.Context, c gate.Call) {
		_ = c.Play(ctx, gate.Prompt{Key: gate.PromptConnecting, Name: "auth-thankyou"})
		_ = c.SetVars(ctx, gate.Var{Name: gate.VarResult, Value: "passed"}, gate.Var{Name: gate.VarGate, Value: "hotline"})
		_ = c.Continue(ctx, gate.Continue)
	}
	e := startApp(t, handler, nil, f)
	c := newClient(t, strings.TrimSuffix(f.URL(), "/ari"), nil)
	filtered := func() bool {
		a, err := c.GetApplication(context.Background(), ari.DefaultApp)
		if err != nil {
			return false
		}
		var types []string
		for _, et := range a.EventsAllowed {
			types = append(types, et.Type)
		}
		return slices.Contains(types, "StasisStart") && slices.Contains(types, "ChannelDtmfReceived") &&
			slices.Contains(types, "PlaybackFinished") && slices.Contains(types, "ApplicationReplaced") &&
			!slices.Contains(types, "ChannelVarset") && !slices.Contains(types, "PlaybackStarted")
	}
	for round := range 2 {
		waitFor(t, "event filter", filtered)
		before := f.Filtered()
		id, err := f.Call(arifake.CallSpec{Caller: "100"})
		if err != nil {
			t.Fatal(err)
		}
		r := result(t, f, id)
		if r.Kind != "continue" || r.Vars[gate.VarResult] != "passed" || r.Vars[gate.VarGate] != "hotline" {
			t.Fatalf("round %d: result %+v", round, r)
		}
		if n := f.Filtered() - before; n < 3 {
			t.Errorf("round %d: %d events filtered, want at least the two ChannelVarset and the PlaybackStarted", round, n)
		}
		// The fake forgets the filter with the connection; vipgate sets
		// it again on the next one.
		f.Drop(ari.DefaultApp)
		e.waitState("pbx1:false")
		e.waitState("pbx1:true")
	}
}
