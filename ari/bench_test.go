package ari_test

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/vipgate/vipgate/ari"
	"github.com/vipgate/vipgate/ari/arifake"
	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/gate/gatetest"
)

// latencies collects, per call, the time from StasisStart to vipgate's
// first command.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) hook(_ string, started, sent time.Time) {
	l.mu.Lock()
	l.d = append(l.d, sent.Sub(started))
	l.mu.Unlock()
}

func (l *latencies) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.d)
}

func (l *latencies) report(b *testing.B, prefix string) {
	l.mu.Lock()
	d := slices.Clone(l.d)
	l.mu.Unlock()
	if len(d) == 0 {
		b.Fatal("no latencies measured")
	}
	slices.Sort(d)
	q := func(p float64) time.Duration { return d[min(len(d)-1, int(p*float64(len(d))))] }
	b.ReportMetric(float64(q(0.50).Microseconds()), prefix+"p50-µs")
	b.ReportMetric(float64(q(0.99).Microseconds()), prefix+"p99-µs")
	b.ReportMetric(float64(d[len(d)-1].Microseconds()), prefix+"max-µs")
}

// benchGates are an always-active static gate on 1000 (the call waits in
// the PIN dialogue) and an inactive one on 2000 (first command: continue).
func benchGates(b *testing.B) (*gatetest.Store, *gate.Hasher) {
	h, err := gate.NewHasher([]byte("bench-key-0123456789abcdef012345"))
	if err != nil {
		b.Fatal(err)
	}
	pin := h.Hash(testPIN)
	st := gatetest.NewStore()
	for _, g := range []*gate.Gate{
		{ID: "gated", Enabled: true, Match: gate.Match{Numbers: []string{"1000"}}, Activation: gate.Activation{Mode: gate.ActiveAlways},
			Identification: gate.Identification{Mode: gate.IdentStatic, StaticPIN: &pin},
			Dialogue:       gate.Dialogue{MaxRetries: 3, MinDigits: 4, MaxDigits: 8, FirstDigitTimeout: gate.Duration(time.Minute), InterDigitTimeout: gate.Duration(time.Minute)},
			Routes:         gate.Routes{OnCorrect: gate.Continue, OnIncorrect: gate.Hangup(gate.CauseBusy)}, Failure: gate.FailurePolicy{Action: gate.FailReject}},
		{ID: "open", Enabled: true, Match: gate.Match{Numbers: []string{"2000"}}, Activation: gate.Activation{Mode: gate.ActiveNever},
			Identification: gate.Identification{Mode: gate.IdentStatic, StaticPIN: &pin}, Failure: gate.FailurePolicy{Action: gate.FailPass}},
	} {
		if err := st.CreateGate(context.Background(), g); err != nil {
			b.Fatal(err)
		}
	}
	return st, h
}

func heap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkCallsFake runs rounds of 200 concurrent calls through gate.Flow
// and the ARI transport against the in-process fake Asterisk: gated calls
// wait in the PIN dialogue (memory and goroutines per call in flight), then
// hang up; ungated calls are continued at once. The fake shares the
// process, so the memory figure includes its per-channel state.
func BenchmarkCallsFake(b *testing.B) {
	const calls = 200
	st, h := benchGates(b)
	flow := gate.NewFlow(gate.NewEngine(gate.EngineConfig{Store: st, Hasher: h}), gate.FlowConfig{Log: st, Counters: st})
	f := arifake.New(arifake.Config{User: testUser, Password: testPass, PlaybackDuration: func(string) time.Duration { return 20 * time.Millisecond }})
	defer f.Close()
	var lat latencies
	defer ari.SetFirstCommandHook(lat.hook)()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	app, err := ari.NewApp(ari.AppConfig{
		Servers:    []ari.ServerConfig{{Name: "fake", BaseURL: f.URL(), User: testUser, Password: testPass}},
		Handler:    func(ctx context.Context, c gate.Call) { flow.Run(ctx, c) },
		HTTPClient: &http.Client{Transport: tr},
	})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = app.Run(ctx) }()
	defer func() { cancel(); <-done }()
	for !f.Connected(ari.DefaultApp) {
		time.Sleep(time.Millisecond)
	}
	waitN := func(what string, cond func() bool) {
		deadline := time.Now().Add(30 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				b.Fatalf("timed out: %s", what)
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
	time.Sleep(100 * time.Millisecond) // let the connection settle
	baseG, baseHeap := runtime.NumGoroutine(), heap()
	var perCallHeap, perCallG float64
	b.ResetTimer()
	for range b.N {
		ids := make([]string, 0, calls)
		for range calls {
			id, err := f.Call(arifake.CallSpec{Caller: "5550000", Exten: "1000"})
			if err != nil {
				b.Fatal(err)
			}
			ids = append(ids, id)
		}
		waitN("all gated calls in the PIN dialogue", func() bool {
			for _, id := range ids {
				p := f.Plays(id)
				if len(p) == 0 || p[len(p)-1].State != "done" {
					return false
				}
			}
			return true
		})
		b.StopTimer()
		perCallHeap += float64(int64(heap())-int64(baseHeap)) / calls / 1024
		perCallG += float64(runtime.NumGoroutine()-baseG) / calls
		b.StartTimer()
		for _, id := range ids {
			_ = f.CallerHangup(id)
		}
		for range calls {
			if _, err := f.Call(arifake.CallSpec{Caller: "5550001", Exten: "2000"}); err != nil {
				b.Fatal(err)
			}
		}
		waitN("calls finished", func() bool { return len(f.Parked(ari.DefaultApp)) == 0 && lat.count() >= 2*calls })
	}
	b.StopTimer()
	// Idle keep-alive connections hold goroutines of their own; only call
	// goroutines matter here.
	waitN(fmt.Sprintf("goroutines back to baseline %d", baseG), func() bool {
		tr.CloseIdleConnections()
		return runtime.NumGoroutine() <= baseG+2
	})
	lat.report(b, "first-cmd-")
	b.ReportMetric(perCallHeap/float64(b.N), "KiB/call-in-flight")
	b.ReportMetric(perCallG/float64(b.N), "goroutines/call")
	for _, r := range st.Calls() {
		if r.ErrorClass != "" {
			b.Fatalf("call %s failed: %s", r.ChannelID, r.ErrorClass)
		}
	}
}
