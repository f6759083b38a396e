package e2e_test

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/internal/e2e"
)

// shippedARISnippet reads deploy/asterisk/extensions-ari.conf.
func shippedARISnippet(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../deploy/asterisk/extensions-ari.conf")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestARIDialplan checks, without Asterisk, that the shipped ARI snippet
// still has what TestE2EShippedARIDialplan builds on, and that
// ARIDialplan refuses a snippet that lost it.
func TestARIDialplan(t *testing.T) {
	snippet := shippedARISnippet(t)
	dp, err := e2e.ARIDialplan(snippet)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"[vipgate-in]\n", "[vipgate-in-closed]\n", "[vipgate-in-named]\n", "[vipgate-route]\n", "[vipgate-forward]\n",
		"Stasis(vipgate,${EXTEN})", "Stasis(vipgate,hotline,${EXTEN})",
		`GotoIf($["${STASISSTATUS}" = "FAILED"]?unscreened)`,
		`GotoIf($["${STASISSTATUS}" = "FAILED"]?refuse)`,
		"Hangup(17)",
	} {
		if !strings.Contains(dp, want) {
			t.Errorf("test dialplan lacks %q:\n%s", want, dp)
		}
	}
	if strings.Count(dp, "exten => h,1,") != 5 || strings.Contains(dp, "PJSIP/") || strings.Contains(dp, "Dial(") {
		t.Errorf("want one h extension per context and no Dial():\n%s", dp)
	}
	broken := []struct {
		name, from, to, want string
	}{
		{"no route context", "\n[vipgate-route]", "\n[somewhere-else]", "has no [vipgate-route]"},
		{"no named context", "\n[vipgate-in-named]", "\n[vipgate-in-other]", "has no [vipgate-in-named]"},
		{"no Stasis", "Stasis(vipgate,hotline,${EXTEN})", "NoOp(hotline)", "[vipgate-in-named] has 0 Stasis"},
		{"goes to an unknown context", "n,Goto(vipgate-route,${EXTEN},1)\n", "n,Goto(vipgate-elsewhere,${EXTEN},1)\n", "goes to [vipgate-elsewhere]"},
		{"dials in a screening context", " same => n,Hangup(17) ", " same => n,Dial(PJSIP/${EXTEN})\n same => n,Hangup(17) ", "[vipgate-in-closed] dials itself"},
	}
	for _, tt := range broken {
		t.Run(tt.name, func(t *testing.T) {
			s := strings.Replace(snippet, tt.from, tt.to, 1)
			if s == snippet {
				t.Fatalf("the snippet has no %q to break", tt.from)
			}
			_, err := e2e.ARIDialplan(s)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error %v, want one with %q", err, tt.want)
			}
		})
	}
}

// shippedGates are the gates of TestE2EShippedARIDialplan. Every PIN
// gate gives one attempt and rejects a wrong PIN with cause 21
// (rejected), which the dialplan's own refusal (17) never uses.
func shippedGates(h *gate.Hasher) []*gate.Gate {
	pin, hotlinePIN := h.Hash("4711"), h.Hash("2468")
	g := func(id, number string) *gate.Gate {
		return &gate.Gate{
			ID: id, Enabled: true, Match: gate.Match{Numbers: []string{number}},
			Activation:     gate.Activation{Mode: gate.ActiveAlways},
			Identification: gate.Identification{Mode: gate.IdentStatic, StaticPIN: &pin, Region: "DE"},
			Dialogue:       gate.Dialogue{MaxRetries: 1, MinDigits: 4, MaxDigits: 8, FirstDigitTimeout: gate.Duration(4 * time.Second), InterDigitTimeout: gate.Duration(3 * time.Second)},
			Routes:         gate.Routes{ForwardContext: e2e.ARIForward, OnCorrect: gate.Continue, OnIncorrect: gate.Hangup(gate.CauseRejected), Reject: gate.RejectStyle{Cause: gate.CauseRejected}},
			Failure:        gate.FailurePolicy{Action: gate.FailReject},
		}
	}
	inactive := g("inactive", "3000")
	inactive.Activation = gate.Activation{Mode: gate.ActiveNever}
	forward := g("forward", "4000")
	forward.Routes.OnCorrect = gate.Target{Kind: gate.TargetExtension, Exten: "9000", Priority: 1}
	// A prompt that outlasts the test: the caller is still in the PIN
	// dialogue when vipgate stops.
	long := g("long", "5000")
	long.Prompts = gate.Prompts{gate.PromptAskPIN: "vipgate/long-ask"}
	// No webhook is configured in the test's vipgate, so this gate always
	// fails to decide; its failure policy lets the call through.
	nohook := g("nohook", "6000")
	nohook.Identification = gate.Identification{Mode: gate.IdentWebhook, Webhook: &gate.WebhookConfig{URL: "http://127.0.0.1:9/auth"}, Region: "DE"}
	nohook.Failure = gate.FailurePolicy{Action: gate.FailPass}
	// Named in [vipgate-in-named]; its number is one no call dials, so
	// only the name can select it.
	hotline := g("hotline", "7000")
	hotline.Identification.StaticPIN = &hotlinePIN
	return []*gate.Gate{g("static", "1000"), inactive, forward, long, nohook, hotline}
}

// shippedCall is one call of TestE2EShippedARIDialplan and where it must
// end.
type shippedCall struct {
	name string
	call e2e.ARICall
	kind string // first result line: continue, forward or hangup
	arg  string // extension for continue/forward
	// fields the result line must have; "*" means any non-empty value.
	fields map[string]string
	// gateID, outcome: the call-log row's gate and outcome (empty when
	// vipgate never saw the call); answered says whether vipgate answered
	// it.
	gateID   string
	outcome  gate.Outcome
	answered bool
}

// check compares call c's first result line r with what c wants.
func (c shippedCall) check(t *testing.T, r e2e.Result) {
	t.Helper()
	if r.Kind != c.kind || r.Arg != c.arg {
		t.Errorf("ended %q %q (%s), want %s %s", r.Kind, r.Arg, r.Line, c.kind, c.arg)
	}
	for k, v := range c.fields {
		got, ok := r.Fields[k]
		switch {
		case !ok:
			t.Errorf("no %s in %s", k, r.Line)
		case v == "*" && got == "":
			t.Errorf("%s is empty, want a value (%s)", k, r.Line)
		case v != "*" && got != v:
			t.Errorf("%s = %q, want %q (%s)", k, got, v, r.Line)
		}
	}
	if uid := r.Fields["uid"]; uid != e2e.ScreenedID(c.call.ID) {
		t.Errorf("the result is from channel %q, want %q (%s)", uid, e2e.ScreenedID(c.call.ID), r.Line)
	}
}

// TestE2EShippedARIDialplan places real calls through the screening
// contexts of deploy/asterisk/extensions-ari.conf as shipped (only the
// PJSIP destinations and the h extensions are replaced, see
// e2e.ARIDialplan). Each call enters ringing, as an inbound call does.
// Three phases on one Asterisk:
//
//   - vipgate not connected: Stasis() fails; [vipgate-in] and
//     [vipgate-in-named] send the call on unscreened and unanswered,
//     [vipgate-in-closed] refuses it with cause 17 after the announcement;
//   - vipgate connected: an inactive gate passes the call unanswered, the
//     right PIN passes it, a wrong PIN gets the gate's reject route (cause
//     21), a forward lands in [vipgate-forward], a gate that cannot decide
//     passes it by its failure policy, and [vipgate-in-named] selects the
//     gate by name;
//   - vipgate stopped while callers are in the PIN dialogue: their calls
//     come back with VIPGATE_RESULT=fallback, which [vipgate-in] lets
//     through and [vipgate-in-closed] refuses; calls placed afterwards
//     meet an inactive application and fail open or closed as in the
//     first phase.
func TestE2EShippedARIDialplan(t *testing.T) {
	cfg := e2e.ConfigFromEnv(t)
	dp, err := e2e.ARIDialplan(shippedARISnippet(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Dialplan += dp
	cfg.Modules = append(cfg.Modules, e2e.ARIModules...)
	ast := e2e.Start(t, cfg)
	for _, m := range []string{"app_playback.so", "func_channel.so"} {
		if out, err := ast.CLI("module show like " + m); err != nil || !strings.Contains(out, "Running") {
			t.Fatalf("%s is not running (%v):\n%s", m, err, out)
		}
	}
	if err := ast.WritePrompt("long-ask", 25*time.Second); err != nil {
		t.Fatal(err)
	}
	h, err := gate.NewHasher(e2e.HasherKey)
	if err != nil {
		t.Fatal(err)
	}

	// place originates c and waits for its first result line.
	place := func(ctx context.Context, c shippedCall) (e2e.Result, error) {
		if _, err := ast.OriginateARI(ctx, c.call); err != nil {
			return e2e.Result{}, err
		}
		return ast.WaitResult(ctx, c.call.ID)
	}
	// placeAll places every call at once; each channel gets the call's
	// first result line (or error).
	placeAll := func(ctx context.Context, calls []shippedCall) []chan placedARI {
		out := make([]chan placedARI, len(calls))
		for i, c := range calls {
			out[i] = make(chan placedARI, 1)
			go func() {
				r, err := place(ctx, c)
				out[i] <- placedARI{r, err}
			}()
		}
		return out
	}
	// One deadline for the whole test: the calls of the phases overlap.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var vg *e2e.Vipgate
	// expect checks each call's result line and, for calls vipgate saw,
	// its call-log row and whether vipgate answered it.
	expect := func(t *testing.T, calls []shippedCall, placed []chan placedARI) {
		for i, c := range calls {
			t.Run(c.name, func(t *testing.T) {
				p := <-placed[i]
				if p.err != nil {
					t.Fatal(p.err)
				}
				c.check(t, p.result)
				if c.outcome == "" {
					return
				}
				id := e2e.ScreenedID(c.call.ID)
				rec, err := vg.WaitCall(ctx, func(r *gate.CallRecord) bool { return r.ChannelID == id })
				if err != nil {
					t.Fatalf("no call-log row for channel %s: %v", id, err)
				}
				if rec.Outcome != c.outcome || rec.GateID != c.gateID || rec.Source != "ari" || rec.Called != c.call.Exten || rec.CallerRaw != c.call.Caller {
					t.Errorf("call log: outcome %s gate %s source %s called %s caller %s; want %s %s ari %s %s",
						rec.Outcome, rec.GateID, rec.Source, rec.Called, rec.CallerRaw, c.outcome, c.gateID, c.call.Exten, c.call.Caller)
				}
				// The call rang when it entered Stasis, so this is
				// vipgate's own answer, not a no-op on a channel that was
				// up already.
				if got := slices.Contains(vg.Requests.All(), "POST /ari/channels/"+id+"/answer"); got != c.answered {
					t.Errorf("vipgate answered: %v, want %v", got, c.answered)
				}
			})
		}
	}

	unconnected := []shippedCall{
		{"fail open: unscreened, unanswered", e2e.ARICall{CallSpec: e2e.CallSpec{ID: "501", Caller: "5550501", Exten: "1000", DTMF: "4711#"}, Context: e2e.ARIContext},
			"continue", "1000", map[string]string{"status": "FAILED", "result": "", "state": "Ring"}, "", "", false},
		{"fail closed: refused busy after the announcement", e2e.ARICall{CallSpec: e2e.CallSpec{ID: "502", Caller: "5550502", Exten: "1000", DTMF: "4711#"}, Context: e2e.ARIContextClosed},
			"hangup", "", map[string]string{"cause": "17", "status": "FAILED", "result": "", "playback": "*"}, "", "", false},
		{"named gate, fail open", e2e.ARICall{CallSpec: e2e.CallSpec{ID: "503", Caller: "5550503", Exten: "1000", DTMF: "2468#"}, Context: e2e.ARIContextNamed},
			"continue", "1000", map[string]string{"status": "FAILED", "result": "", "state": "Ring"}, "", "", false},
	}
	placedUnconnected := placeAll(ctx, unconnected)
	// vipgate connects once every call of this phase is past Stasis():
	// 501 and 503 at their destination, 502 in the refusal's
	// announcement. The log lines show that the shipped branches ran, not
	// only that the calls got somewhere.
	for _, id := range []string{"501", "503"} {
		if _, err := ast.WaitResult(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	// (Bounded apart: a dialplan that lost the refusal branch never logs
	// its line.)
	lctx, lcancel := context.WithTimeout(ctx, 10*time.Second)
	defer lcancel()
	for _, line := range []string{"vipgate not connected: fail open", "vipgate did not let the call through: fail closed"} {
		if err := ast.WaitLog(lctx, line); err != nil {
			t.Fatal(err)
		}
	}

	vg = e2e.StartVipgate(t, ast, shippedGates(h), nil, nil)
	// Callers who listen to the long prompt without typing until vipgate
	// is stopped (after every call of the connected phase has ended).
	stopping := []shippedCall{
		{"fail open: through with fallback", e2e.ARICall{CallSpec: e2e.CallSpec{ID: "531", Caller: "5550531", Exten: "5000", DTMF: "4711#", PreWait: 25 * time.Second}, Context: e2e.ARIContext},
			"continue", "5000", map[string]string{"status": "SUCCESS", "result": gate.ResultFallback, "state": "Up"}, "long", gate.OutcomeFailed, true},
		{"fail closed: refused busy", e2e.ARICall{CallSpec: e2e.CallSpec{ID: "532", Caller: "5550532", Exten: "5000", DTMF: "4711#", PreWait: 25 * time.Second}, Context: e2e.ARIContextClosed},
			"hangup", "", map[string]string{"cause": "17", "status": "SUCCESS", "result": gate.ResultFallback, "playback": "*"}, "long", gate.OutcomeFailed, true},
	}
	connected := []shippedCall{
		{"inactive gate: passed unanswered", e2e.ARICall{CallSpec: e2e.CallSpec{ID: "511", Caller: "5550511", Exten: "3000"}, Context: e2e.ARIContext},
			"continue", "3000", map[string]string{"status": "SUCCESS", "result": "passed", "gate": "inactive", "target": "continue", "state": "Ring"}, "inactive", gate.OutcomePassed, false},
		{"right PIN: passed", e2e.ARICall{CallSpec: e2e.CallSpec{ID: "512", Caller: "5550512", Exten: "1000", DTMF: "4711#"}, Context: e2e.ARIContext},
			"continue", "1000", map[string]string{"status": "SUCCESS", "result": "pin_ok", "gate": "static", "target": "continue", "state": "Up"}, "static", gate.OutcomePINOK, true},
		{"wrong PIN: the gate's reject route", e2e.ARICall{CallSpec: e2e.CallSpec{ID: "513", Caller: "5550513", Exten: "1000", DTMF: "1111#"}, Context: e2e.ARIContext},
			"hangup", "", map[string]string{"cause": "21", "result": "pin_failed", "playback": ""}, "static", gate.OutcomePINFailed, true},
		{"forward: to [vipgate-forward]", e2e.ARICall{CallSpec: e2e.CallSpec{ID: "514", Caller: "5550514", Exten: "4000", DTMF: "4711#"}, Context: e2e.ARIContext},
			"forward", "9000", map[string]string{"result": "pin_ok", "gate": "forward", "state": "Up"}, "forward", gate.OutcomePINOK, true},
		{"closed, inactive gate: passed unanswered", e2e.ARICall{CallSpec: e2e.CallSpec{ID: "521", Caller: "5550521", Exten: "3000"}, Context: e2e.ARIContextClosed},
			"continue", "3000", map[string]string{"status": "SUCCESS", "result": "passed", "gate": "inactive", "state": "Ring"}, "inactive", gate.OutcomePassed, false},
		{"closed, right PIN: passed", e2e.ARICall{CallSpec: e2e.CallSpec{ID: "522", Caller: "5550522", Exten: "1000", DTMF: "4711#"}, Context: e2e.ARIContextClosed},
			"continue", "1000", map[string]string{"status": "SUCCESS", "result": "pin_ok", "gate": "static", "state": "Up"}, "static", gate.OutcomePINOK, true},
		{"closed, wrong PIN: the gate's reject route", e2e.ARICall{CallSpec: e2e.CallSpec{ID: "523", Caller: "5550523", Exten: "1000", DTMF: "1111#"}, Context: e2e.ARIContextClosed},
			"hangup", "", map[string]string{"cause": "21", "result": "pin_failed", "playback": ""}, "static", gate.OutcomePINFailed, true},
		{"closed, gate cannot decide: its failure policy passes", e2e.ARICall{CallSpec: e2e.CallSpec{ID: "524", Caller: "5550524", Exten: "6000"}, Context: e2e.ARIContextClosed},
			"continue", "6000", map[string]string{"status": "SUCCESS", "result": "failed", "gate": "nohook", "state": "Ring"}, "nohook", gate.OutcomeFailed, false},
		{"named gate: selected by name, right PIN", e2e.ARICall{CallSpec: e2e.CallSpec{ID: "525", Caller: "5550525", Exten: "1000", DTMF: "2468#"}, Context: e2e.ARIContextNamed},
			"continue", "1000", map[string]string{"status": "SUCCESS", "result": "pin_ok", "gate": "hotline", "state": "Up"}, "hotline", gate.OutcomePINOK, true},
	}
	placedStopping := placeAll(ctx, stopping)
	placedConnected := placeAll(ctx, connected)

	t.Run("vipgate not connected", func(t *testing.T) { expect(t, unconnected, placedUnconnected) })
	t.Run("vipgate connected", func(t *testing.T) { expect(t, connected, placedConnected) })

	for _, c := range stopping {
		play := "POST /ari/channels/" + e2e.ScreenedID(c.call.ID) + "/play"
		for !hasRequest(vg.Requests.All(), play) {
			if ctx.Err() != nil {
				t.Fatalf("call %s: vipgate never started the prompt", c.call.ID)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	vg.Stop()
	// Asterisk still knows the application now, but it is inactive:
	// Stasis() fails as it did before vipgate ever connected.
	after := []shippedCall{
		{"fail open: unscreened, unanswered", e2e.ARICall{CallSpec: e2e.CallSpec{ID: "541", Caller: "5550541", Exten: "1000", DTMF: "4711#"}, Context: e2e.ARIContext},
			"continue", "1000", map[string]string{"status": "FAILED", "result": "", "state": "Ring"}, "", "", false},
		{"fail closed: refused busy", e2e.ARICall{CallSpec: e2e.CallSpec{ID: "542", Caller: "5550542", Exten: "1000", DTMF: "4711#"}, Context: e2e.ARIContextClosed},
			"hangup", "", map[string]string{"cause": "17", "status": "FAILED", "result": "", "playback": "*"}, "", "", false},
	}
	placedAfter := placeAll(ctx, after)
	t.Run("vipgate stopped during the PIN dialogue", func(t *testing.T) { expect(t, stopping, placedStopping) })
	t.Run("vipgate stopped: new calls", func(t *testing.T) { expect(t, after, placedAfter) })

	t.Run("no channel left", func(t *testing.T) {
		for {
			out, err := ast.CLI("core show channels count")
			if err != nil {
				t.Fatal(err)
			}
			if noChannels.MatchString(out) {
				break
			}
			if ctx.Err() != nil {
				t.Fatalf("channels left after every call ended:\n%s", out)
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
}

// placedARI is what became of a call of TestE2EShippedARIDialplan.
type placedARI struct {
	result e2e.Result
	err    error
}
