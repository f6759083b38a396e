package agi

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/gate/gatetest"
)

// TestParallelGuessingOverFastAGI is the parallel-guessing attack over
// real FastAGI sessions against one Server: 30 calls from one number, all
// held at their first GET DATA (past the lockout check) until every
// call has got there, each then typing 2 wrong PINs; after them a call
// that types a wrong PIN and then the right one. The lockout's budget (3
// failures × 2 attempts) must hold over all sessions. With the default
// cap on parallel dialogues per caller (2), the sessions over it are
// rejected before any PIN prompt.
func TestParallelGuessingOverFastAGI(t *testing.T) {
	for _, tt := range []struct {
		name        string
		maxParallel int
	}{{"no cap", 100}, {"default cap", 0}} {
		t.Run(tt.name, func(t *testing.T) { testParallelGuessingOverFastAGI(t, tt.maxParallel) })
	}
}

func testParallelGuessingOverFastAGI(t *testing.T, maxParallel int) {
	j := &gatetest.Judgements{}
	flow, _ := newFlow(t, func(h *gate.Hasher) []*gate.Gate {
		g := staticPINGate(t, h, false)
		g.Lockout = gate.LockoutPolicy{MaxFailures: 3, Window: gate.Duration(time.Hour), Duration: gate.Duration(time.Hour),
			MaxParallel: maxParallel}
		return []*gate.Gate{g}
	}, slog.New(j))
	_, addr, _, _ := startServer(t, Config{MaxSessions: 100, Handler: func(ctx context.Context, c gate.Call) { flow.Run(ctx, c) }})

	const calls = 30
	var arrived sync.WaitGroup
	arrived.Add(calls + 1)
	release, lastGo := make(chan struct{}), make(chan struct{})
	var prompted atomic.Int64 // sessions that got to a PIN prompt
	// call plays one session typing digits; it holds at the first GET
	// DATA until hold is closed and returns VIPGATE_RESULT.
	call := func(i int, digits string, hold <-chan struct{}) string {
		var once sync.Once
		done := func() { once.Do(arrived.Done) }
		defer done()
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Error(err)
			return ""
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(30 * time.Second)) // a hang guard
		if _, err := io.WriteString(c, loadHeader(i)); err != nil {
			t.Error(err)
			return ""
		}
		var result string
		waited := false
		p := &peer{r: bufio.NewReader(c), w: c, digits: digits, onCommand: func(cmd string) {
			if strings.HasPrefix(cmd, "GET DATA") && !waited {
				waited = true
				prompted.Add(1)
				done()
				<-hold
			}
			if v, ok := strings.CutPrefix(cmd, "SET VARIABLE VIPGATE_RESULT "); ok {
				result = strings.Trim(v, `"`)
			}
		}}
		if err := p.serve(); err != nil {
			t.Error(err)
		}
		return result
	}
	var wg sync.WaitGroup
	var rejected atomic.Int64
	for i := range calls {
		wg.Go(func() {
			if call(i, "1111#2222#", release) == string(gate.OutcomeRejected) {
				rejected.Add(1)
			}
		})
	}
	lastResult := make(chan string, 1)
	go func() { lastResult <- call(calls, "1111#"+flowPIN+"#", lastGo) }()
	arrived.Wait()
	close(release)
	wg.Wait()
	close(lastGo)
	last := <-lastResult
	if maxParallel == 0 {
		if n := prompted.Load(); n > gate.DefaultMaxParallel {
			t.Errorf("%d sessions of one caller got to a PIN prompt at once, want at most %d", n, gate.DefaultMaxParallel)
		}
		if n := rejected.Load(); n < calls-gate.DefaultMaxParallel {
			t.Errorf("%d sessions rejected, want at least %d", n, calls-gate.DefaultMaxParallel)
		}
		if n := j.Wrong(); n > 6 {
			t.Errorf("%d wrong guesses judged, want at most 6", n)
		}
		return
	}
	if n := j.Wrong(); n != 6 {
		t.Errorf("%d wrong guesses judged over %d sessions, want exactly the budget of 6", n, calls+1)
	}
	if last != string(gate.OutcomeLockedOut) {
		t.Errorf("the right PIN after %d wrong guesses: VIPGATE_RESULT %q, want %s", j.Wrong(), last, gate.OutcomeLockedOut)
	}
}
