package gate_test

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/gate/gatetest"
)

// newGuardedEnv is newEnv with the Flow logging to log (if set) and the
// engine's store time set to storeTime (if set); the call log goes to a
// store of its own, so that a broken st does not hold up the end of a
// call.
func newGuardedEnv(t *testing.T, log slog.Handler, storeTime time.Duration, gates ...*gate.Gate) *env {
	t.Helper()
	st := gatetest.NewStore()
	for _, g := range gates {
		if err := st.CreateGate(context.Background(), g); err != nil {
			t.Fatal(err)
		}
	}
	h := mustHasher(t)
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	e := gate.NewEngine(gate.EngineConfig{Store: st, Hasher: h, Region: "DE", StoreTimeout: storeTime})
	cfg := gate.FlowConfig{Log: gatetest.NewStore(), Counters: st, Now: func() time.Time { return now }}
	if log != nil {
		cfg.Logger = slog.New(log)
	}
	return &env{store: st, flow: gate.NewFlow(e, cfg), h: h, now: now}
}

func numbers(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("+49176100000%02d", i)
	}
	return out
}

// TestFlowParallelCallsShareTheGuessBudget runs 30 calls at once that all
// pass the lockout check at the start before any guess is judged, then a
// call that types the right PIN on its third try: the lockout must hold
// the wrong guesses to its budget and refuse the late right one, by one
// number and spread over many.
func TestFlowParallelCallsShareTheGuessBudget(t *testing.T) {
	h := mustHasher(t)
	tests := []struct {
		name    string
		lockout gate.LockoutPolicy
		callers []string
		budget  int
	}{
		{"one caller", gate.LockoutPolicy{MaxFailures: 3}, numbers(1), 9},
		{"many callers, gate-wide", gate.LockoutPolicy{MaxFailures: 100, GateMaxFailures: 3}, numbers(30), 9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := staticGate(h, "4711")
			g.Lockout = tt.lockout
			g.Lockout.Window, g.Lockout.Duration = gate.Duration(time.Hour), gate.Duration(30*time.Minute)
			// No cap on parallel dialogues here: the budget alone must hold.
			g.Lockout.MaxParallel, g.Lockout.GateMaxParallel = 100, 100
			j := &gatetest.Judgements{}
			e := newGuardedEnv(t, j, 0, g)
			attack := gatetest.Guessing{Calls: 30, Callers: tt.callers, Wrong: []string{"1111", "2222", "3333"}, Right: "4711", Called: "1000"}
			last, _ := attack.Run(func(c *gatetest.Call) *gate.CallRecord { return e.flow.Run(context.Background(), c) })
			if n := j.Wrong(); n != tt.budget {
				t.Errorf("%d wrong guesses judged, want exactly the budget of %d", n, tt.budget)
			}
			if last.Outcome != gate.OutcomeLockedOut {
				t.Errorf("the right PIN after %d wrong guesses: outcome %s, want locked_out", j.Wrong(), last.Outcome)
			}
		})
	}
}

// TestFlowParallelDialoguesAreCapped holds PIN dialogues open and checks
// that no more than the cap run at once, per caller and per gate; the
// calls over the cap are rejected without being answered.
func TestFlowParallelDialoguesAreCapped(t *testing.T) {
	h := mustHasher(t)
	tests := []struct {
		name    string
		lockout gate.LockoutPolicy
		callers []string
		allowed int
	}{
		{"per caller, default", gate.LockoutPolicy{MaxFailures: 3}, numbers(1), gate.DefaultMaxParallel},
		{"per gate", gate.LockoutPolicy{MaxFailures: 3, GateMaxFailures: 10, GateMaxParallel: 3}, numbers(6), 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := staticGate(h, "4711")
			g.Lockout = tt.lockout
			g.Lockout.Window, g.Lockout.Duration = gate.Duration(time.Hour), gate.Duration(time.Hour)
			e := newEnv(t, g)
			const calls = 6
			release := make(chan struct{})
			var releaseOnce sync.Once
			defer releaseOnce.Do(func() { close(release) })
			arrived := make(chan struct{}, calls)
			type result struct {
				c   *gatetest.Call
				rec *gate.CallRecord
			}
			done := make(chan result, calls)
			for i := range calls {
				c := call(tt.callers[i%len(tt.callers)], typed("4711"))
				c.OnCollect = func(int) { arrived <- struct{}{}; <-release }
				go func() { done <- result{c, e.flow.Run(context.Background(), c)} }()
			}
			// The calls over the cap finish while the others are held.
			for range calls - tt.allowed {
				select {
				case r := <-done:
					if r.rec.Outcome != gate.OutcomeRejected || r.c.Answered() != 0 {
						t.Errorf("call over the cap: outcome %s, answered %d; want rejected, unanswered", r.rec.Outcome, r.c.Answered())
					}
				case <-time.After(10 * time.Second): // a hang guard, not a speed target
					t.Fatalf("calls over the cap of %d parallel dialogues were not turned away", tt.allowed)
				}
			}
			for range tt.allowed {
				<-arrived
			}
			if n := len(arrived); n != 0 {
				t.Errorf("%d more dialogues than the cap of %d started", n, tt.allowed)
			}
			releaseOnce.Do(func() { close(release) })
			for range tt.allowed {
				if r := <-done; r.rec.Outcome != gate.OutcomePINOK {
					t.Errorf("call within the cap: %s, want pin_ok", r.rec.Outcome)
				}
			}
		})
	}
}

// TestFlowScreensDuringStoreOutage: a static gate needs nothing but the
// gate it already read; with the store down it keeps asking for the PIN
// (the failure policy, here pass, is not used), and wrong guesses are
// counted by the instance, so that guessing stays limited.
func TestFlowScreensDuringStoreOutage(t *testing.T) {
	h := mustHasher(t)
	g := staticGate(h, "4711")
	g.Failure = gate.FailurePolicy{Action: gate.FailPass}
	g.Lockout = gate.LockoutPolicy{MaxFailures: 2, GateMaxFailures: 5, Window: gate.Duration(time.Hour), Duration: gate.Duration(time.Hour)}
	j := &gatetest.Judgements{}
	e := newGuardedEnv(t, j, 0, g)
	e.flow.Run(context.Background(), call("+4917600000000", typed("4711"))) // the engine reads the gates
	e.store.SetErr(fmt.Errorf("connection refused: %w", gate.ErrUnavailable))

	t.Run("no PIN, no entry", func(t *testing.T) {
		c := call("+4917612345678")
		rec := e.flow.Run(context.Background(), c)
		if _, passed := c.Destination(); passed || rec.Outcome != gate.OutcomePINFailed {
			t.Fatalf("caller without a PIN during the outage: outcome %s, continued %v; want pin_failed", rec.Outcome, passed)
		}
	})
	t.Run("right PIN", func(t *testing.T) {
		if rec := e.flow.Run(context.Background(), call("+4917612345678", typed("4711"))); rec.Outcome != gate.OutcomePINOK {
			t.Fatalf("right PIN during the outage: %s, want pin_ok", rec.Outcome)
		}
	})
	t.Run("guessing is limited", func(t *testing.T) {
		before := j.Wrong()
		var last *gate.CallRecord
		var c *gatetest.Call
		for range 5 {
			c = call("+4917699999999", typed("1111"), typed("2222"), typed("3333"))
			last = e.flow.Run(context.Background(), c)
		}
		if n := j.Wrong() - before; n > 6 {
			t.Errorf("%d wrong guesses judged during the outage, want at most 6 (2 failures × 3 attempts)", n)
		}
		if last.Outcome != gate.OutcomeLockedOut || c.Answered() != 0 {
			t.Errorf("after the budget: outcome %s, answered %d; want locked_out before answering", last.Outcome, c.Answered())
		}
		// The gate-wide limit (15 guesses) is counted in memory too.
		for i := range 5 {
			e.flow.Run(context.Background(), call(fmt.Sprintf("+491760000010%d", i), typed("1111"), typed("2222"), typed("3333")))
		}
		if n := j.Wrong() - before; n > 15 {
			t.Errorf("%d wrong guesses judged at the gate during the outage, want at most 15", n)
		}
	})
}

// TestFlowStoreTimeIsPerCall: with a store that does not answer, all
// store steps of a call share one deadline; the first step that blocks
// uses it up and the call goes on with what is in memory.
func TestFlowStoreTimeIsPerCall(t *testing.T) {
	h := mustHasher(t)
	g := staticGate(h, "4711")
	g.Lockout = gate.LockoutPolicy{MaxFailures: 2, GateMaxFailures: 5, Window: gate.Duration(time.Hour), Duration: gate.Duration(time.Hour)}
	const storeTime = 50 * time.Millisecond
	e := newGuardedEnv(t, nil, storeTime, g)
	e.flow.Run(context.Background(), call("+4917600000000", typed("4711")))
	e.store.SetBlocking(true)
	rec := e.flow.Run(context.Background(), call("+4917612345678", typed("1111"), typed("2222"), typed("4711")))
	if rec.Outcome != gate.OutcomePINOK {
		t.Errorf("outcome %s, want pin_ok (screened from memory)", rec.Outcome)
	}
	blocked := e.store.Blocked()
	if len(blocked) != 1 {
		t.Fatalf("%d store calls blocked (%v), want 1: the first uses up the call's store time", len(blocked), blocked)
	}
	if blocked[0].Allowed <= 0 || blocked[0].Allowed > storeTime {
		t.Errorf("the blocked store call was allowed %s, want at most the call's %s", blocked[0].Allowed, storeTime)
	}
}

// TestFlowGateLockoutSlow: with gate_action slow, the gate-wide lockout
// does not refuse callers; it delays each judgement instead, and a
// caller's own limit still applies.
func TestFlowGateLockoutSlow(t *testing.T) {
	h := mustHasher(t)
	g := staticGate(h, "4711")
	const delay = 30 * time.Millisecond
	g.Lockout = gate.LockoutPolicy{MaxFailures: 2, GateMaxFailures: 1, Window: gate.Duration(time.Hour), Duration: gate.Duration(time.Hour),
		GateAction: gate.GateSlow, SlowDelay: gate.Duration(delay)}
	e := newEnv(t, g)
	wrong := func(caller string) *gatetest.Call { return call(caller, typed("1111"), typed("2222"), typed("3333")) }
	if rec := e.flow.Run(context.Background(), wrong("+4917600000001")); rec.Outcome != gate.OutcomePINFailed {
		t.Fatalf("first guesser: %s", rec.Outcome)
	}
	if _, err := e.store.GetLockout(context.Background(), g.ID, gate.AnyCaller, e.now); err != nil {
		t.Fatalf("gate-wide lockout after 3 wrong guesses: %v", err)
	}
	start := time.Now()
	c := call("+4917612345678", typed("1111"), typed("4711"))
	rec := e.flow.Run(context.Background(), c)
	if rec.Outcome != gate.OutcomePINOK {
		t.Fatalf("caller during a slowed gate-wide lockout: %s, want pin_ok", rec.Outcome)
	}
	if took := time.Since(start); took < 2*delay {
		t.Errorf("two guesses judged in %s, want each after the slow delay of %s", took, delay)
	}
	// The caller's own budget (2 × 3 guesses) still refuses.
	for range 3 {
		rec = e.flow.Run(context.Background(), wrong("+4917600000002"))
	}
	if rec.Outcome != gate.OutcomeLockedOut {
		t.Errorf("guesser past the own budget during a slowed gate: %s, want locked_out", rec.Outcome)
	}
}

// TestFlowGateLockoutRefuseIsTheDefault keeps today's behaviour: the
// gate-wide lockout refuses every caller. Setting it is a warning in the
// log, for alerting.
func TestFlowGateLockoutRefuseIsTheDefault(t *testing.T) {
	h := mustHasher(t)
	g := staticGate(h, "4711")
	g.Lockout = gate.LockoutPolicy{MaxFailures: 5, GateMaxFailures: 1, Window: gate.Duration(time.Hour), Duration: gate.Duration(time.Hour)}
	logs := &warnings{}
	e := newGuardedEnv(t, logs, 0, g)
	e.flow.Run(context.Background(), call("+4917600000001", typed("1111"), typed("2222"), typed("3333")))
	if got := logs.messages(); !slices.Contains(got, "gate-wide lockout") {
		t.Errorf("warnings %q, want one about the gate-wide lockout", got)
	}
	c := call("+4917612345678", typed("4711"))
	if rec := e.flow.Run(context.Background(), c); rec.Outcome != gate.OutcomeLockedOut || c.Answered() != 0 {
		t.Errorf("caller during a gate-wide lockout: %s (answered %d), want locked_out unanswered", rec.Outcome, c.Answered())
	}
}

// warnings is a slog.Handler that keeps the messages of Warn records.
type warnings struct {
	mu   sync.Mutex
	msgs []string
}

func (w *warnings) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }
func (w *warnings) Handle(_ context.Context, r slog.Record) error {
	w.mu.Lock()
	w.msgs = append(w.msgs, r.Message)
	w.mu.Unlock()
	return nil
}
func (w *warnings) WithAttrs([]slog.Attr) slog.Handler { return w }
func (w *warnings) WithGroup(string) slog.Handler      { return w }

func (w *warnings) messages() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.msgs)
}
