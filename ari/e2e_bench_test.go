package ari_test

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vipgate/vipgate/ari"
	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/internal/e2e"
)

// phased collects first-command latencies under the current phase name.
type phased struct {
	mu    sync.Mutex
	phase string
	d     map[string][]time.Duration
}

func (p *phased) hook(_ string, started, sent time.Time) {
	p.mu.Lock()
	p.d[p.phase] = append(p.d[p.phase], sent.Sub(started))
	p.mu.Unlock()
}

func (p *phased) set(phase string) {
	p.mu.Lock()
	p.phase = phase
	p.mu.Unlock()
}

func (p *phased) count(phase string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.d[phase])
}

func (p *phased) report(b *testing.B, phase string) {
	p.mu.Lock()
	d := slices.Clone(p.d[phase])
	p.mu.Unlock()
	slices.Sort(d)
	q := func(f float64) time.Duration { return d[min(len(d)-1, int(f*float64(len(d))))] }
	b.ReportMetric(float64(q(0.5).Microseconds()), phase+"-p50-µs")
	b.ReportMetric(float64(q(0.99).Microseconds()), phase+"-p99-µs")
	b.Logf("%s: %d calls, first command p50 %v p99 %v max %v", phase, len(d), q(0.5), q(0.99), d[len(d)-1])
}

// BenchmarkE2ECalls drives a real Asterisk (VIPGATE_TEST_ASTERISK) with
// 200 gated calls originated at 50 calls/s, which then all wait in the PIN
// dialogue at once, then 200 calls to an inactive gate. It reports vipgate's added latency
// from StasisStart to its first command (answer, resp. continue), the heap
// per call in flight and goroutines per call, and fails on any call error
// or on goroutines that do not return to the baseline.
//
//	VIPGATE_TEST_ASTERISK=/opt/asterisk/sbin/asterisk go test -run XXX -bench E2ECalls -benchtime 1x ./ari/
func BenchmarkE2ECalls(b *testing.B) {
	const calls = 200
	cfg := e2e.ConfigFromEnv(b)
	ast := e2e.Start(b, cfg)
	st, h := benchGates(b)
	gates, err := st.ListGates(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	_ = h
	lat := &phased{d: map[string][]time.Duration{}}
	defer ari.SetFirstCommandHook(lat.hook)()
	vg := e2e.StartVipgate(b, ast, gates, nil, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	wait := func(what string, cond func() bool) {
		b.Helper()
		for !cond() {
			if ctx.Err() != nil {
				b.Fatalf("timed out: %s", what)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	originate := func(prefix, exten string, hold time.Duration) {
		var wg sync.WaitGroup
		ids := make(chan int)
		for range 8 {
			wg.Go(func() {
				for i := range ids {
					if _, err := ast.Originate(ctx, e2e.CallSpec{ID: fmt.Sprintf("%s%03d", prefix, i), Caller: "5550000", Exten: exten, PreWait: 100 * time.Millisecond, Hold: hold}); err != nil {
						b.Error(err)
					}
				}
			})
		}
		// Paced at 50 calls/s: a latency under queueing behind a burst
		// would measure the burst, not vipgate. The gated calls still all
		// wait in the dialogue at once.
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for i := range calls {
			<-tick.C
			ids <- i
		}
		close(ids)
		wg.Wait()
	}
	plays := func() int {
		n := 0
		for _, r := range vg.Requests.All() {
			if strings.Contains(r, "/play/") {
				n++
			}
		}
		return n
	}
	time.Sleep(500 * time.Millisecond)
	baseG, baseHeap := runtime.NumGoroutine(), heap()

	for range b.N {
		// Phase 1: gated calls, all waiting in the PIN dialogue.
		lat.set("answer")
		before := plays()
		originate("1", "1000", 120*time.Second)
		wait("gated calls answered", func() bool { return lat.count("answer") >= calls })
		// welcome + ask-pin per call
		wait("gated calls prompted", func() bool { return plays()-before >= 2*calls })
		app, err := ast.Client.GetApplication(ctx, ari.DefaultApp)
		if err != nil {
			b.Fatal(err)
		}
		if len(app.ChannelIDs) < calls {
			b.Fatalf("%d calls in Stasis, want %d", len(app.ChannelIDs), calls)
		}
		b.ReportMetric(float64(int64(heap())-int64(baseHeap))/calls/1024, "KiB/call-in-flight")
		b.ReportMetric(float64(runtime.NumGoroutine()-baseG)/calls, "goroutines/call")
		for _, id := range app.ChannelIDs {
			if err := ast.Client.Hangup(ctx, id, "normal"); err != nil {
				b.Error(err)
			}
		}
		wait("gated calls gone", func() bool {
			a, err := ast.Client.GetApplication(ctx, ari.DefaultApp)
			return err == nil && len(a.ChannelIDs) == 0
		})

		// Phase 2: inactive gate, continued unanswered.
		lat.set("continue")
		originate("2", "2000", 30*time.Second) // the dialplan hangs up after the continue
		wait("ungated calls continued", func() bool { return lat.count("continue") >= calls })
		wait("ungated calls gone", func() bool {
			a, err := ast.Client.GetApplication(ctx, ari.DefaultApp)
			return err == nil && len(a.ChannelIDs) == 0
		})
	}
	wait("call goroutines back to baseline", func() bool { return runtime.NumGoroutine() <= baseG+8 })
	lat.report(b, "answer")
	lat.report(b, "continue")
	wait("call log", func() bool { return len(vg.Store.Calls()) >= 2*calls*b.N })
	for _, r := range vg.Store.Calls() {
		if r.ErrorClass != "" {
			b.Errorf("call %s: error %s", r.ChannelID, r.ErrorClass)
		}
		if r.Called == "1000" && r.Outcome != gate.OutcomeAbandoned || r.Called == "2000" && r.Outcome != gate.OutcomePassed {
			b.Errorf("call %s to %s: outcome %s", r.ChannelID, r.Called, r.Outcome)
		}
	}
}
