package e2e_test

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vipgate/vipgate/agi"
	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/internal/e2e"
)

// agiSnippet returns the shipped FastAGI snippet
// (deploy/asterisk/extensions-agi.conf) as dialplan for the test Asterisk.
func agiSnippet(t *testing.T) string {
	t.Helper()
	snippet, err := os.ReadFile("../../deploy/asterisk/extensions-agi.conf")
	if err != nil {
		t.Fatal(err)
	}
	dp, err := e2e.AGIDialplan(string(snippet))
	if err != nil {
		t.Fatal(err)
	}
	return dp
}

// addAGISnippet adds the shipped FastAGI snippet and the modules it needs
// to cfg.
func addAGISnippet(t *testing.T, cfg *e2e.Config) {
	t.Helper()
	cfg.Dialplan += agiSnippet(t)
	cfg.Modules = append(cfg.Modules, e2e.AGIModules...)
}

// startAGIAsterisk starts Asterisk with the FastAGI contexts of the shipped
// snippet (deploy/asterisk/extensions-agi.conf) and the long barge-in
// prompt of TestE2EARI.
func startAGIAsterisk(t *testing.T) *e2e.Asterisk {
	t.Helper()
	cfg := e2e.ConfigFromEnv(t)
	addAGISnippet(t, &cfg)
	ast := e2e.Start(t, cfg)
	// Without res_agi every call would only end in "No application 'AGI'".
	if out, err := ast.CLI("module show like res_agi.so"); err != nil || !strings.Contains(out, "Running") {
		t.Fatalf("res_agi.so is not running (%v):\n%s", err, out)
	}
	if err := ast.WritePrompt("closed-holiday", 500*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if err := ast.WritePrompt("long-ask", 25*time.Second); err != nil {
		t.Fatal(err)
	}
	return ast
}

// TestAGIDialplan checks, without Asterisk, that the shipped snippet
// still has what the FastAGI tests build on.
func TestAGIDialplan(t *testing.T) {
	snippet, err := os.ReadFile("../../deploy/asterisk/extensions-agi.conf")
	if err != nil {
		t.Fatal(err)
	}
	dp, err := e2e.AGIDialplan(string(snippet))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"[vipgate-agi-in]\n", "[vipgate-agi-in-closed]\n", "[vipgate-agi-refuse]\n", "[vipgate-agi-route]\n",
		"AGI(" + e2e.AGIURL + ",${EXTEN})",
		`GotoIf($["${VIPGATE_RESULT}" = ""]?unscreened)`,
		`GotoIf($["${VIPGATE_RESULT}" = ""]?vipgate-agi-refuse,s,1)`,
	} {
		if !strings.Contains(dp, want) {
			t.Errorf("test dialplan lacks %q:\n%s", want, dp)
		}
	}
	if strings.Count(dp, "exten => h,1,") != 4 || strings.Contains(dp, ":4573") || strings.Contains(dp, "PJSIP/") {
		t.Errorf("want one h extension per context and no shipped address or PJSIP target:\n%s", dp)
	}
	if _, err := e2e.AGIDialplan("[vipgate-agi-in]\nexten => _X.,1,NoOp()\n"); err == nil {
		t.Error("a snippet without AGI() was accepted")
	}
}

// noChannels matches the output of "core show channels count" when no
// channel is left ("10 active channels" must not match).
var noChannels = regexp.MustCompile(`(?m)^\s*0 active channels?$`)

// hasPrefix reports whether a command in cmds starts with prefix.
func hasPrefix(cmds []string, prefix string) bool {
	return slices.ContainsFunc(cmds, func(c string) bool { return strings.HasPrefix(c, prefix) })
}

// placedCall is what became of a call placed by placeAGICall.
type placedCall struct {
	result e2e.Result
	rec    *gate.CallRecord
	err    error
}

// placeAGICall places c and waits for its first dialplan result and its
// call-log row (the row whose raw caller is c.Caller).
func placeAGICall(ctx context.Context, ast *e2e.Asterisk, vg *e2e.VipgateAGI, c e2e.AGICall) placedCall {
	var p placedCall
	if _, p.err = ast.OriginateAGI(ctx, c); p.err != nil {
		return p
	}
	if p.result, p.err = ast.WaitResult(ctx, c.ID); p.err != nil {
		return p
	}
	p.rec, p.err = vg.WaitCall(ctx, func(r *gate.CallRecord) bool { return r.CallerRaw == c.Caller })
	if p.err != nil {
		p.err = fmt.Errorf("no call-log row for %s (dialplan: %s): %w", c.ID, p.result.Line, p.err)
	}
	return p
}

// TestE2EAGI runs the scenarios of TestE2EARI through vipgate's FastAGI
// server: the dialplan is the shipped snippet's [vipgate-agi-in] with its
// VIPGATE_RESULT fallback, the URL path names the gate, and vipgate runs
// gate.Flow over a SQLite store in the test process.
func TestE2EAGI(t *testing.T) {
	ast := startAGIAsterisk(t)
	h, err := gate.NewHasher(e2e.HasherKey)
	if err != nil {
		t.Fatal(err)
	}
	vg := e2e.StartVipgateAGI(t, testGates(h), kindEntries(h, "3"), nil)

	tests := []struct {
		name     string
		gate     string // named in the URL path
		call     e2e.CallSpec
		kind     string // first dialplan result
		arg      string // extension for continue/forward
		fields   map[string]string
		outcome  gate.Outcome
		attempts int
		answered bool
		commands []string // command prefixes vipgate must have sent
	}{
		{"static PIN right", "static", e2e.CallSpec{ID: "301", Caller: "5550301", Exten: "1000", DTMF: "4711#"},
			"continue", "1000", map[string]string{"status": "SUCCESS", "result": "pin_ok", "gate": "static"}, gate.OutcomePINOK, 1, true,
			[]string{"GET DATA vipgate/ask-pin ", "SET VARIABLE VIPGATE_RESULT "}},
		{"static PIN wrong then right", "static", e2e.CallSpec{ID: "302", Caller: "5550302", Exten: "1000", DTMF: "1111#wwww4711#"},
			"continue", "1000", map[string]string{"status": "SUCCESS", "result": "pin_ok"}, gate.OutcomePINOK, 2, true,
			[]string{"GET DATA vipgate/wrong-pin "}},
		{"static PIN all wrong", "static", e2e.CallSpec{ID: "303", Caller: "5550303", Exten: "1000", DTMF: "1111#ww2222#ww3333#"},
			"hangup", "", map[string]string{"cause": "17", "result": "pin_failed"}, gate.OutcomePINFailed, 3, true,
			[]string{`EXEC Hangup "17"`}},
		{"table known caller, national format", "table", e2e.CallSpec{ID: "304", Caller: "017612345678", Exten: "2000", DTMF: "2580#"},
			"continue", "2000", map[string]string{"status": "SUCCESS", "result": "pin_ok", "gate": "table"}, gate.OutcomePINOK, 1, true, nil},
		{"table unknown caller rejected busy", "table", e2e.CallSpec{ID: "305", Caller: "+4915100000305", Exten: "2000"},
			"hangup", "", map[string]string{"cause": "17", "result": "rejected"}, gate.OutcomeRejected, 0, false,
			[]string{`EXEC Hangup "17"`}},
		{"inactive gate passes unanswered", "inactive", e2e.CallSpec{ID: "306", Caller: "5550306", Exten: "3000"},
			"continue", "3000", map[string]string{"status": "SUCCESS", "result": "passed"}, gate.OutcomePassed, 0, false, nil},
		{"forward to target extension", "forward", e2e.CallSpec{ID: "307", Caller: "5550307", Exten: "4000", DTMF: "4711#"},
			"forward", "9000", map[string]string{"result": "pin_ok"}, gate.OutcomePINOK, 1, true,
			[]string{"SET CONTEXT staff", "SET EXTENSION 9000", "SET PRIORITY 1"}},
		{"caller hangs up while typing", "static", e2e.CallSpec{ID: "308", Caller: "5550308", Exten: "1000", DTMF: "47", Hold: time.Second},
			"hangup", "", map[string]string{"cause": "16"}, gate.OutcomeAbandoned, 1, true, nil},
		{"digits typed during the prompt", "barge", e2e.CallSpec{ID: "309", Caller: "5550309", Exten: "5000", DTMF: "4711#", PreWait: 1500 * time.Millisecond},
			"continue", "5000", map[string]string{"status": "SUCCESS", "result": "pin_ok", "gate": "barge"}, gate.OutcomePINOK, 1, true,
			[]string{"GET DATA vipgate/long-ask "}},
		{"closure announcement and route", "closed", e2e.CallSpec{ID: "311", Caller: "5550311", Exten: "6000"},
			"forward", "9000", map[string]string{"result": "forwarded"}, gate.OutcomeForwarded, 0, true,
			[]string{"STREAM FILE vipgate/closed-holiday ", "SET CONTEXT staff", "SET EXTENSION 9000"}},
		// The gate is selected by the called number when the path names
		// none, as with AGI(agi://host:port/,${EXTEN}).
		{"no gate in the path: selected by called number", "", e2e.CallSpec{ID: "310", Caller: "5550310", Exten: "1000", DTMF: "4711#"},
			"continue", "1000", map[string]string{"status": "SUCCESS", "result": "pin_ok", "gate": "static"}, gate.OutcomePINOK, 1, true, nil},
		// Entry kinds, as in TestE2EARI.
		{"deny entry rejects without a PIN", "table", e2e.CallSpec{ID: "321", Caller: "+4915100031999", Exten: "2000"},
			"hangup", "", map[string]string{"cause": "17", "result": "denied"}, gate.OutcomeDenied, 0, false,
			[]string{`EXEC Hangup "17"`}},
		{"deny prefix beats a longer allow entry", "table", e2e.CallSpec{ID: "322", Caller: "+4915100031200", Exten: "2000"},
			"hangup", "", map[string]string{"cause": "17", "result": "denied"}, gate.OutcomeDenied, 0, false, nil},
		{"allow entry passes with label and priority", "table", e2e.CallSpec{ID: "323", Caller: "+4915100034000", Exten: "2000"},
			"continue", "2000", map[string]string{"status": "SUCCESS", "result": "passed", "label": "Anna", "prio": "7"}, gate.OutcomePassed, 0, false,
			[]string{"SET VARIABLE VIPGATE_LABEL ", "SET VARIABLE VIPGATE_PRIORITY "}},
		{"allow entry to its own target", "table", e2e.CallSpec{ID: "324", Caller: "+4915100032555", Exten: "2000"},
			"forward", "9000", map[string]string{"result": "forwarded", "label": "Desk"}, gate.OutcomeForwarded, 0, false,
			[]string{"SET CONTEXT staff", "SET EXTENSION 9000"}},
		{"deny entry on a static gate", "static", e2e.CallSpec{ID: "325", Caller: "+4915100033555", Exten: "1000", DTMF: "4711#"},
			"hangup", "", map[string]string{"cause": "17", "result": "denied"}, gate.OutcomeDenied, 0, false, nil},
		{"PIN set: this month's code", "static", e2e.CallSpec{ID: "326", Caller: "5550316", Exten: "1000", DTMF: "8642#"},
			"continue", "1000", map[string]string{"status": "SUCCESS", "result": "pin_ok", "label": "Monthly", "acct": "ACC7"}, gate.OutcomePINOK, 1, true,
			[]string{"SET VARIABLE VIPGATE_ACCOUNT "}},
		{"PIN set: an expired code is wrong", "static", e2e.CallSpec{ID: "327", Caller: "5550317", Exten: "1000", DTMF: "9753#ww9753#ww9753#"},
			"hangup", "", map[string]string{"cause": "17", "result": "pin_failed"}, gate.OutcomePINFailed, 3, true, nil},
	}
	// All calls are placed at once, not from t.Parallel subtests, which
	// -parallel (GOMAXPROCS by default) would run a few at a time: the
	// suite takes as long as its longest call. 20s is well below the 25s
	// barge-in prompt and the 30s hold.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	placed := make([]chan placedCall, len(tests))
	for i, tt := range tests {
		placed[i] = make(chan placedCall, 1)
		go func() {
			placed[i] <- placeAGICall(ctx, ast, vg, e2e.AGICall{CallSpec: tt.call, Addr: vg.Addr, Gate: tt.gate})
		}()
	}
	t.Run("calls", func(t *testing.T) {
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				p := <-placed[i]
				if p.err != nil {
					t.Fatal(p.err)
				}
				r, rec := p.result, p.rec
				if r.Kind != tt.kind || r.Arg != tt.arg {
					t.Errorf("ended %q (%s), want %s %s", r.Kind, r.Line, tt.kind, tt.arg)
				}
				for k, v := range tt.fields {
					if r.Fields[k] != v {
						t.Errorf("%s = %q, want %q (%s)", k, r.Fields[k], v, r.Line)
					}
				}
				wantGate := tt.gate
				if wantGate == "" {
					wantGate = "static"
				}
				if rec.Outcome != tt.outcome || rec.Attempts != tt.attempts || rec.Source != "agi" || rec.Called != tt.call.Exten || rec.GateID != wantGate {
					t.Errorf("call log: outcome %s attempts %d source %s called %s gate %s; want %s %d agi %s %s",
						rec.Outcome, rec.Attempts, rec.Source, rec.Called, rec.GateID, tt.outcome, tt.attempts, tt.call.Exten, wantGate)
				}
				if wantClosure := closureOf(tt.call.Exten); rec.Closure != wantClosure {
					t.Errorf("call log closure %q, want %q", rec.Closure, wantClosure)
				}
				if uid := r.Fields["uid"]; uid != "" && rec.ChannelID != uid {
					t.Errorf("call log channel %q, dialplan UNIQUEID %q", rec.ChannelID, uid)
				}
				// What vipgate sent on the wire for this call.
				cmds := vg.Commands.Of(rec.ChannelID)
				if len(cmds) == 0 {
					t.Fatalf("no AGI commands recorded for channel %q", rec.ChannelID)
				}
				if got := hasPrefix(cmds, "ANSWER"); got != tt.answered {
					t.Errorf("ANSWER sent: %v, want %v (commands %q)", got, tt.answered, cmds)
				}
				for _, want := range tt.commands {
					if !hasPrefix(cmds, want) {
						t.Errorf("no command %q among %q", want, cmds)
					}
				}
				for _, c := range cmds {
					for _, pin := range []string{"4711", "2580", "8642", "9753"} {
						if strings.Contains(c, pin) {
							t.Errorf("command %q carries a PIN", c)
						}
					}
				}
			})
		}
	})
	t.Run("no session left", func(t *testing.T) {
		// Runs after every call above has finished.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for {
			out, err := ast.CLI("core show channels count")
			if err != nil {
				t.Fatal(err)
			}
			if vg.Server.Sessions() == 0 && noChannels.MatchString(out) {
				break
			}
			if ctx.Err() != nil {
				t.Fatalf("%d FastAGI sessions still open; Asterisk:\n%s", vg.Server.Sessions(), out)
			}
			time.Sleep(100 * time.Millisecond)
		}
		if n := vg.Server.Refused(); n != 0 {
			t.Errorf("%d connections refused", n)
		}
	})
}

// TestE2EAGIFallback checks the dialplan fallback of the shipped snippet
// when vipgate's FastAGI server is not there: AGI() fails to connect and
// VIPGATE_RESULT stays empty, so [vipgate-agi-in] lets the call through
// (fail open) and [vipgate-agi-in-closed] refuses it (fail closed).
func TestE2EAGIFallback(t *testing.T) {
	ast := startAGIAsterisk(t)
	h, err := gate.NewHasher(e2e.HasherKey)
	if err != nil {
		t.Fatal(err)
	}
	// A vipgate that takes one call at a time. It is started before the
	// next one is stopped, so that it cannot get the stopped one's port.
	full := e2e.StartVipgateAGI(t, testGates(h), nil, func(c *agi.Config) { c.MaxSessions = 1 })
	// A vipgate that has been stopped: its port is closed.
	down := e2e.StartVipgateAGI(t, nil, nil, nil)
	if err := down.Stop(); err != nil {
		t.Fatal(err)
	}

	t.Run("fail open", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		call := e2e.AGICall{CallSpec: e2e.CallSpec{ID: "401", Caller: "5550401", Exten: "1000", DTMF: "4711#"}, Addr: down.Addr, Gate: "static"}
		if _, err := ast.OriginateAGI(ctx, call); err != nil {
			t.Fatal(err)
		}
		r, err := ast.WaitResult(ctx, call.ID)
		if err != nil {
			t.Fatal(err)
		}
		res, ok := r.Fields["result"]
		if r.Kind != "continue" || r.Arg != "1000" || r.Fields["status"] != "FAILURE" || !ok || res != "" {
			t.Fatalf("ended %s; want continue 1000 status=FAILURE result= (the original destination, unscreened)", r.Line)
		}
		// The unscreened branch, not the normal one, sent it there.
		if err := ast.WaitLog(ctx, "vipgate gave no decision (AGISTATUS=FAILURE): fail open"); err != nil {
			t.Error(err)
		}
	})
	t.Run("fail open at the session limit", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		// The one session: a caller who listens to the 25s prompt.
		park := e2e.AGICall{CallSpec: e2e.CallSpec{ID: "403", Caller: "5550403", Exten: "5000", PreWait: 25 * time.Second}, Addr: full.Addr, Gate: "barge"}
		chID, err := ast.OriginateAGI(ctx, park)
		if err != nil {
			t.Fatal(err)
		}
		for full.Server.Sessions() != 1 {
			if ctx.Err() != nil {
				t.Fatal("the first call never reached vipgate")
			}
			time.Sleep(20 * time.Millisecond)
		}
		call := e2e.AGICall{CallSpec: e2e.CallSpec{ID: "404", Caller: "5550404", Exten: "1000", DTMF: "4711#"}, Addr: full.Addr, Gate: "static"}
		if _, err := ast.OriginateAGI(ctx, call); err != nil {
			t.Fatal(err)
		}
		r, err := ast.WaitResult(ctx, call.ID)
		if err != nil {
			t.Fatal(err)
		}
		res, ok := r.Fields["result"]
		if r.Kind != "continue" || r.Arg != "1000" || r.Fields["status"] != "SUCCESS" || !ok || res != "" {
			t.Fatalf("ended %s; want continue 1000 status=SUCCESS result= (connection closed at once, unscreened)", r.Line)
		}
		if n := full.Server.Refused(); n != 1 {
			t.Errorf("refused %d connections, want 1", n)
		}
		if err := ast.WaitLog(ctx, "vipgate gave no decision (AGISTATUS=SUCCESS): fail open"); err != nil {
			t.Error(err)
		}
		// The parked call is unharmed: it ends when its caller hangs up.
		if err := ast.Client.Hangup(ctx, chID, "normal"); err != nil {
			t.Fatal(err)
		}
		pr, err := ast.WaitResult(ctx, park.ID)
		if err != nil {
			t.Fatal(err)
		}
		if pr.Kind != "hangup" {
			t.Errorf("parked call ended %s, want hangup", pr.Line)
		}
		rec, err := full.WaitCall(ctx, func(r *gate.CallRecord) bool { return r.CallerRaw == park.Caller })
		if err != nil || rec.Outcome != gate.OutcomeAbandoned {
			t.Errorf("parked call's row %+v, %v; want abandoned", rec, err)
		}
	})
	t.Run("fail closed", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		call := e2e.AGICall{CallSpec: e2e.CallSpec{ID: "402", Caller: "5550402", Exten: "1000", DTMF: "4711#"}, Addr: down.Addr, Gate: "static", Context: e2e.AGIContextClosed}
		if _, err := ast.OriginateAGI(ctx, call); err != nil {
			t.Fatal(err)
		}
		r, err := ast.WaitResult(ctx, call.ID)
		if err != nil {
			t.Fatal(err)
		}
		if r.Kind != "refused" || r.Fields["cause"] != "17" || r.Fields["result"] != "" {
			t.Fatalf("ended %s; want refused cause=17 result=", r.Line)
		}
		if err := ast.WaitLog(ctx, "vipgate gave no decision (AGISTATUS=FAILURE): fail closed"); err != nil {
			t.Error(err)
		}
	})
}

// vipgateGoroutines counts the goroutines running code of the agi or gate
// package (the server and its sessions).
func vipgateGoroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	count := 0
	for g := range strings.SplitSeq(string(buf), "\n\n") {
		if strings.Contains(g, "github.com/vipgate/vipgate/agi.") || strings.Contains(g, "github.com/vipgate/vipgate/gate.") {
			count++
		}
	}
	return count
}

// percentile returns the p-th percentile (0..1) of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(p*float64(len(sorted))))]
}

// TestE2EAGILoad places 100 calls at once through FastAGI (each one a
// static-PIN dialogue with the right PIN) and checks that every call is
// routed, that the sessions overlapped, and that vipgate's goroutines go
// back to the idle count afterwards. It logs the figures quoted in
// BENCHMARKS.md.
func TestE2EAGILoad(t *testing.T) {
	if testing.Short() {
		t.Skip("load check skipped in -short mode")
	}
	ast := startAGIAsterisk(t)
	h, err := gate.NewHasher(e2e.HasherKey)
	if err != nil {
		t.Fatal(err)
	}
	vg := e2e.StartVipgateAGI(t, testGates(h), nil, nil)
	const calls = 100
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	idle := vipgateGoroutines()

	// Sample the sessions and goroutines until the calls are done.
	var peakSessions, peakGoroutines int
	stop, sampled := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			peakSessions = max(peakSessions, vg.Server.Sessions())
			peakGoroutines = max(peakGoroutines, vipgateGoroutines())
		}
	}()

	// Originate from a few workers (Asterisk's HTTP server takes 100
	// sessions); every caller waits 3s before typing, so the dialogues
	// overlap.
	specs := make([]e2e.AGICall, calls)
	for i := range specs {
		specs[i] = e2e.AGICall{CallSpec: e2e.CallSpec{ID: strconv.Itoa(6000 + i), Caller: fmt.Sprintf("55560%04d", i), Exten: "1000", DTMF: "4711#", PreWait: 3 * time.Second},
			Addr: vg.Addr, Gate: "static"}
	}
	start := time.Now()
	errs := make(chan error, calls)
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for _, c := range specs {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			if _, err := ast.OriginateAGI(ctx, c); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	originated := time.Since(start)
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var durations, decisions []time.Duration
	failed := 0
	for _, c := range specs {
		r, err := ast.WaitResult(ctx, c.ID)
		if err != nil {
			close(stop)
			<-sampled
			t.Fatal(err)
		}
		if r.Kind != "continue" || r.Fields["result"] != "pin_ok" || r.Fields["status"] != "SUCCESS" {
			failed++
			t.Errorf("call %s ended %s", c.ID, r.Line)
		}
	}
	elapsed := time.Since(start)
	close(stop)
	<-sampled
	for _, c := range specs {
		rec, err := vg.WaitCall(ctx, func(r *gate.CallRecord) bool { return r.CallerRaw == c.Caller })
		if err != nil {
			t.Fatalf("call %s: no call-log row: %v", c.ID, err)
		}
		if rec.Outcome != gate.OutcomePINOK || rec.Attempts != 1 {
			t.Errorf("call %s: outcome %s after %d attempts", c.ID, rec.Outcome, rec.Attempts)
		}
		durations = append(durations, rec.Duration)
		decisions = append(decisions, rec.DecisionLatency)
	}
	slices.Sort(durations)
	slices.Sort(decisions)

	// Afterwards: no session, no channel, no goroutine left behind.
	after := vipgateGoroutines()
	for after > idle || vg.Server.Sessions() != 0 {
		if ctx.Err() != nil {
			t.Fatalf("vipgate goroutines %d after the calls, %d before; %d sessions open", after, idle, vg.Server.Sessions())
		}
		time.Sleep(50 * time.Millisecond)
		after = vipgateGoroutines()
	}
	if peakSessions < calls/2 {
		t.Errorf("at most %d sessions at once; the calls did not overlap", peakSessions)
	}
	t.Logf("%d calls (%d not routed as pin_ok): originated in %s, all routed after %s; peak %d sessions, vipgate goroutines %d idle / %d peak / %d after",
		calls, failed, originated.Round(time.Millisecond), elapsed.Round(time.Millisecond), peakSessions, idle, peakGoroutines, after)
	t.Logf("call duration in vipgate p50 %s p99 %s max %s; decision p50 %s p99 %s max %s",
		percentile(durations, 0.5).Round(time.Millisecond), percentile(durations, 0.99).Round(time.Millisecond), durations[len(durations)-1].Round(time.Millisecond),
		percentile(decisions, 0.5).Round(time.Microsecond), percentile(decisions, 0.99).Round(time.Microsecond), decisions[len(decisions)-1].Round(time.Microsecond))
}
