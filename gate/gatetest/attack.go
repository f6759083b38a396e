package gatetest

import (
	"context"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/vipgate/vipgate/gate"
)

// Judgements is a slog.Handler that counts the PIN guesses a gate.Flow
// judged, right and wrong, from its Debug record "pin attempt" (which
// carries no digits, only whether the guess was correct). Give the Flow
// slog.New(j) as its logger. It is safe for concurrent use.
type Judgements struct {
	right, wrong atomic.Int64
}

// Enabled implements slog.Handler.
func (j *Judgements) Enabled(context.Context, slog.Level) bool { return true }

// Handle implements slog.Handler.
func (j *Judgements) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "pin attempt" {
		return nil
	}
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "correct" {
			if a.Value.Bool() {
				j.right.Add(1)
			} else {
				j.wrong.Add(1)
			}
			return false
		}
		return true
	})
	return nil
}

// WithAttrs implements slog.Handler.
func (j *Judgements) WithAttrs([]slog.Attr) slog.Handler { return j }

// WithGroup implements slog.Handler.
func (j *Judgements) WithGroup(string) slog.Handler { return j }

// Wrong returns the wrong guesses judged so far.
func (j *Judgements) Wrong() int { return int(j.wrong.Load()) }

// Right returns the right guesses judged so far.
func (j *Judgements) Right() int { return int(j.right.Load()) }

// Guessing is the parallel-guessing attack a lockout must stop.
type Guessing struct {
	// Calls is the number of parallel guessing calls.
	Calls int
	// Callers are the numbers the calls come from, in turn.
	Callers []string
	// Wrong are the PINs each guessing call types, one per attempt.
	Wrong []string
	// Right is the PIN of the gate: the last call, from Callers[0], types
	// Wrong[:len(Wrong)-1] and then Right.
	Right string
	// Called is the called number of every call.
	Called string
}

// Run runs g against run (one call through a Flow; run is called from
// many goroutines at once): every call, the last one included, is held
// at its first Collect until all have passed the lockout check at the
// start of the call; then the guessing calls go on, and when they have
// finished the last call types its PINs. Run returns the last call's
// record and the guessing calls' records.
func (g Guessing) Run(run func(c *Call) *gate.CallRecord) (last *gate.CallRecord, others []*gate.CallRecord) {
	var arrived sync.WaitGroup
	arrived.Add(g.Calls + 1)
	released, lastGo := make(chan struct{}), make(chan struct{})
	// A call rejected before its first Collect (a cap on parallel
	// dialogues) never arrives; count it when it finishes.
	hold := func(release <-chan struct{}) (onCollect func(int), done func()) {
		var once sync.Once
		done = func() { once.Do(arrived.Done) }
		return func(n int) {
			if n == 1 {
				done()
				<-release
			}
		}, done
	}
	steps := func(pins []string) []Step {
		out := make([]Step, len(pins))
		for i, p := range pins {
			out[i] = Step{Digits: p, Terminated: true}
		}
		return out
	}
	others = make([]*gate.CallRecord, g.Calls)
	var wg sync.WaitGroup
	for i := range g.Calls {
		onCollect, done := hold(released)
		c := &Call{CallInfo: gate.CallInfo{ID: "guess-" + strconv.Itoa(i), Source: "test", Caller: g.Callers[i%len(g.Callers)], Called: g.Called},
			Steps: steps(g.Wrong), OnCollect: onCollect}
		wg.Go(func() {
			others[i] = run(c)
			done()
		})
	}
	onCollect, done := hold(lastGo)
	lc := &Call{CallInfo: gate.CallInfo{ID: "right", Source: "test", Caller: g.Callers[0], Called: g.Called},
		Steps: steps(append(append([]string(nil), g.Wrong[:len(g.Wrong)-1]...), g.Right)), OnCollect: onCollect}
	lastDone := make(chan *gate.CallRecord, 1)
	go func() {
		r := run(lc)
		done()
		lastDone <- r
	}()
	arrived.Wait()
	close(released)
	wg.Wait()
	close(lastGo)
	return <-lastDone, others
}
