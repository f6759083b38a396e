package e2e_test

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vipgate/vipgate/ari"
	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/internal/e2e"
)

// skipUnlessPerf skips the measurements unless VIPGATE_E2E_PERF is set:
// they take minutes and report figures for BENCHMARKS.md.
func skipUnlessPerf(t *testing.T) {
	if os.Getenv("VIPGATE_E2E_PERF") == "" {
		t.Skip("performance measurement skipped: set VIPGATE_E2E_PERF=1 (and VIPGATE_TEST_ASTERISK)")
	}
}

// envInt reads a positive integer knob, or def.
func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// selfCPU is the user and system CPU time of the test process so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// nativeDialplan is Asterisk's own PIN dialogue: Authenticate() plays
// agent-pass, reads digits up to #, and plays auth-thankyou when they are
// right; then the call goes on as after vipgate.
const nativeDialplan = `
[native-auth]
exten => _X.,1,Authenticate(4711)
 same => n,Set(FILE(${RESULTS},,,al,u)=${TESTID} continue ${EXTEN} result=pin_ok)
 same => n,Hangup()
exten => h,1,Set(FILE(${RESULTS},,,al,u)=${TESTID} hangup cause=${HANGUPCAUSE})
`

// perfGate is a static-PIN gate whose dialogue plays the same files as
// Authenticate(): agent-pass to ask, auth-thankyou when the PIN is right.
func perfGate(h *gate.Hasher) *gate.Gate {
	pin := h.Hash("4711")
	r := routes()
	r.Connecting = true
	return &gate.Gate{
		ID: "perf", Enabled: true, Match: gate.Match{Numbers: []string{"7000"}},
		Activation:     gate.Activation{Mode: gate.ActiveAlways},
		Identification: gate.Identification{Mode: gate.IdentStatic, StaticPIN: &pin, Region: "DE"},
		Dialogue:       dialogue(), Routes: r,
		Prompts: gate.Prompts{gate.PromptAskPIN: "agent-pass", gate.PromptConnecting: "auth-thankyou"},
		Failure: gate.FailurePolicy{Action: gate.FailReject},
	}
}

// resultsOf waits until every call in ids has a first result line and
// returns them, reading the results file once per poll.
func resultsOf(ctx context.Context, path string, ids []string) (map[string]string, error) {
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	for {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		got := map[string]string{}
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.Fields(line)
			if len(f) >= 2 && want[f[0]] {
				if _, ok := got[f[0]]; !ok {
					got[f[0]] = line
				}
			}
		}
		if len(got) == len(want) {
			return got, nil
		}
		select {
		case <-ctx.Done():
			return got, fmt.Errorf("%d of %d calls ended: %w", len(got), len(want), ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// TestE2EPerfCPU compares the CPU time of one gated call (prompt, a
// 4-digit PIN and #, a thank-you) done by Asterisk's own Authenticate()
// with the same dialogue done by vipgate over ARI and over FastAGI, in
// alternating rounds on one Asterisk, all callers typing the same digits
// with the same timing. Asterisk's CPU is read from /proc/<pid>/stat;
// vipgate runs in the test process, so its CPU is the process's in a
// vipgate round minus the process's in the native round of the same
// cycle (the harness alone: originating, reading the results file). It
// also counts the REST requests and playbacks of an ARI call and the
// commands of a FastAGI call.
//
//	VIPGATE_E2E_PERF=1 VIPGATE_TEST_ASTERISK=/opt/asterisk/sbin/asterisk \
//	  go test -run TestE2EPerfCPU -v -timeout 20m ./internal/e2e/
//
// Knobs: VIPGATE_E2E_PERF_ROUNDS (default 3), VIPGATE_E2E_PERF_CALLS
// (calls per mode and round, default 10).
func TestE2EPerfCPU(t *testing.T) {
	skipUnlessPerf(t)
	cfg := e2e.ConfigFromEnv(t)
	dp := agiSnippet(t)
	cfg.Dialplan += dp + nativeDialplan
	cfg.Modules = append(cfg.Modules, e2e.AGIModules...)
	cfg.Modules = append(cfg.Modules, "app_authenticate.so")
	ast := e2e.Start(t, cfg)
	if out, err := ast.CLI("module show like app_authenticate.so"); err != nil || !strings.Contains(out, "Running") {
		t.Fatalf("app_authenticate.so is not running (%v):\n%s", err, out)
	}
	h, err := gate.NewHasher(e2e.HasherKey)
	if err != nil {
		t.Fatal(err)
	}
	vgARI := e2e.StartVipgate(t, ast, []*gate.Gate{perfGate(h)}, nil, nil)
	vgAGI := e2e.StartVipgateAGI(t, []*gate.Gate{perfGate(h)}, nil, nil)

	place := perfPlace(ast, e2e.AGICall{Addr: vgAGI.Addr, Gate: "perf"})
	// vipgate runs in the test process: its CPU is the process's in a
	// vipgate round minus the process's in the native round (the harness
	// alone).
	totals := perfCycles(t, ast, place, func() (time.Duration, error) { return selfCPU(), nil })
	ariCalls := totals["ari"].calls
	// What one call cost in requests: the ARI requests of the last ARI
	// call, the FastAGI commands of the last FastAGI call.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rec, err := vgAGI.WaitCall(ctx, func(r *gate.CallRecord) bool { return r.Outcome == gate.OutcomePINOK })
	if err != nil {
		t.Fatal(err)
	}
	cmds := vgAGI.Commands.Of(rec.ChannelID)
	t.Logf("FastAGI commands of one call (%d): %s", len(cmds), strings.Join(verbs(cmds), ", "))
	reqs := vgARI.Requests.All()
	plays := 0
	for _, r := range reqs {
		if strings.HasPrefix(r, "POST ") && strings.Contains(r, "/play/") {
			plays++
		}
	}
	t.Logf("ARI: %d REST requests for %d calls (%.1f per call), %d playbacks (%.1f per call): %s",
		len(reqs), ariCalls, float64(len(reqs))/float64(ariCalls), plays, float64(plays)/float64(ariCalls), strings.Join(shapes(reqs), ", "))
	// The dialogue needs two playbacks (the prompt and the thank-you).
	if plays != 2*ariCalls {
		t.Errorf("%d playbacks for %d ARI calls, want 2 per call", plays, ariCalls)
	}
}

// perfTotal is what one mode's calls cost in all cycles.
type perfTotal struct {
	ast, vg time.Duration
	calls   int
}

// perfPlace returns how perfCycles places a call of each mode: native
// Authenticate(), vipgate over ARI, or vipgate over FastAGI at agi's
// address (and gate, if named).
func perfPlace(ast *e2e.Asterisk, agi e2e.AGICall) func(ctx context.Context, mode string, spec e2e.CallSpec) error {
	return func(ctx context.Context, mode string, spec e2e.CallSpec) error {
		var err error
		switch mode {
		case "native":
			_, err = ast.OriginateAGI(ctx, e2e.AGICall{CallSpec: spec, Context: "native-auth"})
		case "ari":
			_, err = ast.Originate(ctx, spec)
		case "agi":
			call := agi
			call.CallSpec = spec
			_, err = ast.OriginateAGI(ctx, call)
		default:
			err = fmt.Errorf("unknown mode %q", mode)
		}
		return err
	}
}

// perfCycles runs VIPGATE_E2E_PERF_ROUNDS cycles (default 3) of
// VIPGATE_E2E_PERF_CALLS calls (default 10) per mode — native, ari, agi,
// the order rotated each cycle — placed by place with identical callers
// (PIN 4711#), checks that each was let through, and logs Asterisk's CPU
// and vipgate's own per call: cpu's growth in a vipgate round minus its
// growth in the native round of the same cycle.
func perfCycles(t *testing.T, ast *e2e.Asterisk, place func(ctx context.Context, mode string, spec e2e.CallSpec) error, cpu func() (time.Duration, error)) map[string]*perfTotal {
	t.Helper()
	mustVG := func() time.Duration {
		d, err := cpu()
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	rounds, calls := envInt("VIPGATE_E2E_PERF_ROUNDS", 3), envInt("VIPGATE_E2E_PERF_CALLS", 10)
	modes := []string{"native", "ari", "agi"}
	totals := map[string]*perfTotal{}
	for _, m := range modes {
		totals[m] = &perfTotal{}
	}
	perCycle := map[string][]float64{} // vipgate's own CPU per call, per cycle
	next := 0
	for cycle := range rounds {
		// Rotate the order, so that no mode always runs first.
		order := append(slices.Clone(modes[cycle%3:]), modes[:cycle%3]...)
		used := map[string]time.Duration{}
		for _, mode := range order {
			ids := make([]string, calls)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			a0, v0 := mustCPU(t, ast), mustVG()
			for i := range ids {
				next++
				ids[i] = strconv.Itoa(20000 + next)
				spec := e2e.CallSpec{ID: ids[i], Caller: "55570" + ids[i], Exten: "7000", DTMF: "4711#", PreWait: 3500 * time.Millisecond, Hold: 10 * time.Second}
				if err := place(ctx, mode, spec); err != nil {
					t.Fatal(err)
				}
			}
			got, err := resultsOf(ctx, ast.Results, ids)
			if err != nil {
				t.Fatalf("%s round: %v", mode, err)
			}
			for id, line := range got {
				if !strings.Contains(line, " continue 7000") || !strings.Contains(line, "result=pin_ok") {
					t.Errorf("%s call %s: %s", mode, id, line)
				}
			}
			// Let the hang-ups and the call-log writes finish.
			time.Sleep(time.Second)
			cancel()
			da, dv := mustCPU(t, ast)-a0, mustVG()-v0
			totals[mode].ast += da
			totals[mode].vg += dv
			totals[mode].calls += calls
			used[mode] = dv
			t.Logf("cycle %d %-6s: Asterisk %6.2f ms/call, vipgate's measure %6.2f ms/call", cycle, mode, ms(da)/float64(calls), ms(dv)/float64(calls))
		}
		for _, m := range []string{"ari", "agi"} {
			perCycle[m] = append(perCycle[m], ms(used[m]-used["native"])/float64(calls))
		}
	}
	per := func(m string) (astMS, vgMS float64) {
		return ms(totals[m].ast) / float64(totals[m].calls), ms(totals[m].vg) / float64(totals[m].calls)
	}
	nAst, nVG := per("native")
	t.Logf("%d rounds of %d calls per mode; CPU per call (Asterisk from /proc/<pid>/stat in 10 ms ticks):", rounds, calls)
	t.Logf("native Authenticate(): Asterisk %.2f ms", nAst)
	for _, m := range []string{"ari", "agi"} {
		a, v := per(m)
		own := v - nVG
		t.Logf("vipgate over %s: Asterisk %.2f ms (%.2f× native), vipgate %.2f ms (per cycle %s), total %.2f ms = %.2f× native",
			strings.ToUpper(m), a, a/nAst, own, fmtList(perCycle[m]), a+own, (a+own)/nAst)
	}
	return totals
}

// TestE2EPerfCPUServe is TestE2EPerfCPU with the real `vipgate serve`
// binary, as an administrator runs it (SQLite, log level info, the gate
// imported from a file), serving both ARI and FastAGI. vipgate's own CPU
// is then its process's alone: the CPU time of its threads
// (/proc/<pid>/task/*/schedstat, in ns) in a vipgate round minus that in
// the native round of the same cycle.
//
//	VIPGATE_E2E_PERF=1 VIPGATE_TEST_ASTERISK=/opt/asterisk/sbin/asterisk \
//	  go test -run TestE2EPerfCPUServe -v -timeout 20m ./internal/e2e/
//
// Same knobs as TestE2EPerfCPU.
func TestE2EPerfCPUServe(t *testing.T) {
	skipUnlessPerf(t)
	bin := e2e.BuildVipgate(t)
	cfg := e2e.ConfigFromEnv(t)
	addAGISnippet(t, &cfg)
	cfg.Dialplan += nativeDialplan
	cfg.Modules = append(cfg.Modules, "app_authenticate.so")
	// No test prompts under vipgate/: an installed vipgate/welcome would
	// be played before the PIN prompt, a step Authenticate() lacks.
	cfg.Prompts = []string{}
	ast := e2e.Start(t, cfg)
	vg := e2e.NewServe(t, bin, ast, "")
	vg.LogLevel = cmp.Or(os.Getenv("VIPGATE_E2E_PERF_LOG_LEVEL"), "info")
	gateFile := `id: perf
name: perf
enabled: true
match: {numbers: ["7000"]}
activation: {mode: always}
identification: {mode: static, static_pin: "4711", region: DE}
dialogue: {max_retries: 3, min_digits: 4, max_digits: 8, first_digit_timeout: 4s, inter_digit_timeout: 3s}
routes: {forward_context: staff, on_correct: continue, on_incorrect: "hangup:busy", reject: {cause: busy}, connecting: true}
prompts: {ask-pin: agent-pass, connecting: auth-thankyou}
failure: {action: reject}
`
	if err := vg.ImportGate("perf", gateFile); err != nil {
		t.Fatal(err)
	}
	if err := vg.CreateToken(); err != nil {
		t.Fatal(err)
	}
	if err := vg.Start(); err != nil {
		t.Fatal(err)
	}
	// The shipped FastAGI context: the gate by the called number.
	place := perfPlace(ast, e2e.AGICall{Addr: vg.AGIAddr})
	totals := perfCycles(t, ast, place, func() (time.Duration, error) { return e2e.TasksCPU(vg.Pid()) })
	calls, err := vg.Calls()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range calls {
		if c.GateID == "perf" && c.Outcome == gate.OutcomePINOK {
			n++
		}
	}
	if want := totals["ari"].calls + totals["agi"].calls; n != want {
		t.Errorf("%d pin_ok rows in serve's call log, want %d", n, want)
	}
	if os.Getenv("VIPGATE_E2E_PERF_KEEP_LOG") != "" {
		b, _ := os.ReadFile(vg.Log)
		_ = os.WriteFile(os.Getenv("VIPGATE_E2E_PERF_KEEP_LOG"), b, 0o600)
	}
}

// TestE2EPerfLatency measures the time from StasisStart to vipgate's first
// command from outside vipgate: a proxy between vipgate and Asterisk's
// HTTP server notes when each StasisStart event is handed to vipgate and
// when vipgate's first REST request about that channel arrives. Calls
// alternate between a gated call (the caller hangs up during the prompt)
// and an inactive gate (continued at once), originated at a steady rate.
//
//	VIPGATE_E2E_PERF=1 VIPGATE_TEST_ASTERISK=/opt/asterisk/sbin/asterisk \
//	  go test -run TestE2EPerfLatency -v -timeout 20m ./internal/e2e/
//
// Knobs: VIPGATE_E2E_PERF_LATENCY_CALLS (default 1000),
// VIPGATE_E2E_PERF_RATE (calls per second, default 50).
func TestE2EPerfLatency(t *testing.T) {
	skipUnlessPerf(t)
	ast := e2e.Start(t, e2e.ConfigFromEnv(t))
	h, err := gate.NewHasher(e2e.HasherKey)
	if err != nil {
		t.Fatal(err)
	}
	proxy := e2e.StartARIProxy(t, ast)
	e2e.StartVipgate(t, ast, testGates(h), nil, func(c *ari.AppConfig) { c.Servers[0].BaseURL = proxy.URL })
	n, rate := envInt("VIPGATE_E2E_PERF_LATENCY_CALLS", 1000), envInt("VIPGATE_E2E_PERF_RATE", 50)
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(n/rate+120)*time.Second)
	defer cancel()
	kind := map[string]string{}
	var ids []string
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	for i := range n {
		<-tick.C
		id := strconv.Itoa(40000 + i)
		spec := e2e.CallSpec{ID: id, Caller: "5558" + id, Exten: "1000", PreWait: 100 * time.Millisecond, Hold: 500 * time.Millisecond}
		if i%2 == 1 {
			spec.Exten = "3000" // inactive: continued unanswered
		}
		if _, err := ast.Originate(ctx, spec); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
		kind[id] = spec.Exten
	}
	if _, err := resultsOf(ctx, ast.Results, ids); err != nil {
		t.Fatal(err)
	}
	lat := proxy.Latencies()
	if len(lat) < n || proxy.StasisStarts() < n {
		t.Fatalf("%d calls, %d StasisStarts, %d with a command", n, proxy.StasisStarts(), len(lat))
	}
	byReq := map[string][]time.Duration{}
	var all []time.Duration
	for _, l := range lat {
		byReq[l.Request] = append(byReq[l.Request], l.Added)
		all = append(all, l.Added)
	}
	report := func(what string, d []time.Duration) {
		slices.Sort(d)
		t.Logf("%-40s %4d calls: p50 %.3f ms, p99 %.3f ms, max %.3f ms", what, len(d), ms(percentile(d, 0.50)), ms(percentile(d, 0.99)), ms(d[len(d)-1]))
	}
	report("all", all)
	for r, d := range byReq {
		report("first command "+r, d)
	}
}

func mustCPU(t *testing.T, a *e2e.Asterisk) time.Duration {
	t.Helper()
	d, err := a.CPU()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func fmtList(v []float64) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprintf("%.2f", x)
	}
	return strings.Join(s, "/")
}

// verbs returns the AGI command words of cmds (no arguments).
func verbs(cmds []string) []string {
	out := make([]string, len(cmds))
	for i, c := range cmds {
		f := strings.Fields(c)
		out[i] = strings.Join(f[:min(2, len(f))], " ")
	}
	return out
}

// shapes counts the ARI requests by method and path with the IDs taken
// out.
func shapes(reqs []string) []string {
	count := map[string]int{}
	for _, r := range reqs {
		parts := strings.Split(r, "/")
		for i := range parts {
			if i > 0 && (parts[i-1] == "channels" || parts[i-1] == "play" || parts[i-1] == "playbacks") {
				parts[i] = "{id}"
			}
		}
		count[strings.Join(parts, "/")]++
	}
	var out []string
	for k, v := range count {
		out = append(out, fmt.Sprintf("%s ×%d", k, v))
	}
	slices.Sort(out)
	return out
}
