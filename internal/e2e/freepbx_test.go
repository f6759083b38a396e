package e2e_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/vipgate/vipgate/ari"
	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/internal/e2e"
)

// freePBXFile reads a file of deploy/freepbx/.
func freePBXFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("../../deploy/freepbx/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// freePBXARIConf is ari.conf as FreePBX generates it: nothing of its own,
// the general settings of Advanced Settings and ours, then the users of
// the GUI and ours.
const freePBXARIConf = `[general]
#include ari_general_additional.conf
#include ari_general_custom.conf

#include ari_additional.conf
#include ari_additional_custom.conf
`

// freePBXDest is one Custom Destination of the test: its FreePBX id, the
// shipped context it runs as a subroutine, and the DIDs (inbound routes)
// that lead to it, one per gate.
type freePBXDest struct {
	id      int
	context string
}

var freePBXDests = []freePBXDest{{1, "vipgate-ari"}, {2, "vipgate-ari-closed"}, {3, "vipgate-agi"}, {4, "vipgate-agi-closed"}}

// did is the DID of destination d's inbound route for gate g (1 static
// PIN, 2 inactive).
func (d freePBXDest) did(g int) string { return fmt.Sprintf("49301000%d%d", d.id, g) }

// freePBXAdditional is what FreePBX would generate into
// extensions_additional.conf for the test's inbound routes and Custom
// Destinations: [from-trunk] reaches [ext-did], whose route for each DID
// sets FROM_DID and goes to the Custom Destination; [customdests] runs the
// target as a subroutine (Return: yes) and then goes to the destination,
// here [freepbx-dest], which records "continue <DID> ...". The hangup
// handler each route pushes (test only) records "hangup cause=...".
func freePBXAdditional() string {
	var b strings.Builder
	b.WriteString("[from-trunk]\ninclude => from-pstn\n\n[from-pstn]\ninclude => ext-did\n\n[ext-did]\n")
	for _, d := range freePBXDests {
		for g := 1; g <= 2; g++ {
			fmt.Fprintf(&b, "exten => %s,1,Set(__FROM_DID=${EXTEN})\n", d.did(g))
			b.WriteString(" same => n,Set(CHANNEL(hangup_handler_push)=freepbx-hangup,s,1)\n")
			fmt.Fprintf(&b, " same => n,Goto(customdests,dest-%d,1)\n", d.id)
		}
	}
	b.WriteString("\n[customdests]\n")
	for _, d := range freePBXDests {
		fmt.Fprintf(&b, "exten => dest-%d,1,Noop(Entering Custom Destination %s)\n", d.id, d.context)
		fmt.Fprintf(&b, " same => n,Gosub(%s,s,1())\n", d.context)
		fmt.Fprintf(&b, " same => n,Noop(Returned from Custom Destination %s)\n", d.context)
		b.WriteString(" same => n,Goto(freepbx-dest,${FROM_DID},1)\n")
	}
	b.WriteString(`
[freepbx-dest]
exten => _X.,1,Set(FILE(${RESULTS},,,al,u)=${TESTID} continue ${EXTEN} status=${STASISSTATUS} agistatus=${AGISTATUS} result=${VIPGATE_RESULT} gate=${VIPGATE_GATE} state=${CHANNEL(state)} uid=${UNIQUEID})
 same => n,Hangup()

[freepbx-hangup]
exten => s,1,Set(FILE(${RESULTS},,,al,u)=${TESTID} hangup cause=${HANGUPCAUSE} result=${VIPGATE_RESULT} uid=${UNIQUEID})
 same => n,Return()
`)
	return b.String()
}

// TestE2EFreePBX loads the files of deploy/freepbx/ into a real Asterisk
// the way FreePBX does (#include from a generated ari.conf and
// extensions.conf, with ARI switched off in the generated general
// settings, so only the shipped ari_general_custom.conf turns it on), and
// vipgate logs in with the shipped ARI user. Calls enter as from a trunk,
// go through an inbound route to a Custom Destination whose target is one
// of the four shipped contexts (Return: yes), and must end where the
// Custom Destination's destination is, or hung up:
//
//   - vipgate not connected: the ARI contexts fail open (unscreened,
//     unanswered) and closed (cause 17);
//   - vipgate on ARI and FastAGI: in each context, the right PIN returns
//     to the destination with VIPGATE_RESULT=pin_ok, a wrong PIN is hung
//     up with the gate's cause 21, an inactive gate returns unanswered;
//   - vipgate's FastAGI stopped: the AGI contexts fail open and closed.
func TestE2EFreePBX(t *testing.T) {
	cfg := e2e.ConfigFromEnv(t)
	password := ari.Secret(fmt.Sprintf("freepbx-%d", time.Now().UnixNano()))
	users := freePBXFile(t, "ari_additional_custom.conf")
	const shippedPassword = "password=CHANGE-ME-to-a-long-random-secret"
	if strings.Count(users, shippedPassword) != 1 || !strings.Contains(users, "[vipgate]") {
		t.Fatalf("ari_additional_custom.conf has no [vipgate] user with %q", shippedPassword)
	}
	h, err := gate.NewHasher(e2e.HasherKey)
	if err != nil {
		t.Fatal(err)
	}
	pin := h.Hash("4711")
	gates := []*gate.Gate{
		{ID: "static", Enabled: true, Activation: gate.Activation{Mode: gate.ActiveAlways}},
		{ID: "inactive", Enabled: true, Activation: gate.Activation{Mode: gate.ActiveNever}},
	}
	for i, g := range gates {
		for _, d := range freePBXDests {
			g.Match.Numbers = append(g.Match.Numbers, d.did(i+1))
		}
		g.Identification = gate.Identification{Mode: gate.IdentStatic, StaticPIN: &pin, Region: "DE"}
		g.Dialogue = gate.Dialogue{MaxRetries: 1, MinDigits: 4, MaxDigits: 8, FirstDigitTimeout: gate.Duration(4 * time.Second), InterDigitTimeout: gate.Duration(3 * time.Second)}
		g.Routes = gate.Routes{ForwardContext: "from-internal", OnCorrect: gate.Continue, OnIncorrect: gate.Hangup(gate.CauseRejected), Reject: gate.RejectStyle{Cause: gate.CauseRejected}}
		g.Failure = gate.FailurePolicy{Action: gate.FailReject}
	}
	// FastAGI runs before Asterisk starts: the shipped URL's address
	// becomes this server's.
	agiVG := e2e.StartVipgateAGI(t, gates, nil, nil)
	dialplan := freePBXFile(t, "extensions_custom.conf")
	const shippedURL = "agi://127.0.0.1:4573,"
	if n := strings.Count(dialplan, shippedURL); n != 2 {
		t.Fatalf("extensions_custom.conf has %d %q, want 2 (vipgate-agi, vipgate-agi-closed)", n, shippedURL)
	}
	dialplan = strings.ReplaceAll(dialplan, shippedURL, "agi://"+agiVG.Addr+",")

	cfg.ARIPassword = password
	cfg.Files = map[string]string{
		"ari.conf":                    freePBXARIConf,
		"ari_general_additional.conf": "enabled=no\n", // ARI off in Advanced Settings
		"ari_general_custom.conf":     freePBXFile(t, "ari_general_custom.conf"),
		"ari_additional.conf":         "", // no user made in the GUI
		"ari_additional_custom.conf":  strings.Replace(users, shippedPassword, "password="+password.Reveal(), 1),
		"extensions_additional.conf":  freePBXAdditional(),
		"extensions_custom.conf":      dialplan,
	}
	cfg.Dialplan += "#include extensions_additional.conf\n#include extensions_custom.conf\n"
	cfg.Modules = append(cfg.Modules, "app_stack.so")
	cfg.Modules = append(cfg.Modules, e2e.ARIModules...)
	cfg.Modules = append(cfg.Modules, e2e.AGIModules...)
	ast := e2e.Start(t, cfg) // returns once the shipped user gets an ARI answer
	for _, c := range freePBXDests {
		out, err := ast.CLI("dialplan show " + c.context)
		if err != nil || !strings.Contains(out, "Return()") {
			t.Fatalf("dialplan show %s (%v):\n%s", c.context, err, out)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	type call struct {
		name   string
		dest   freePBXDest
		gate   int // 1 static, 2 inactive
		dtmf   string
		kind   string            // first result line: continue or hangup
		fields map[string]string // the result line must have
		// outcome is the call-log row's outcome; "" when vipgate never
		// saw the call.
		outcome gate.Outcome
	}
	n := 0
	run := func(t *testing.T, calls []call, log func(context.Context, func(*gate.CallRecord) bool) (*gate.CallRecord, error)) {
		t.Helper()
		type placed struct {
			c      call
			caller string
			id     string
			err    error
		}
		var ps []placed
		for _, c := range calls {
			n++
			p := placed{c: c, caller: fmt.Sprintf("55509%02d", n), id: fmt.Sprintf("7%02d", n)}
			_, p.err = ast.OriginateARI(ctx, e2e.ARICall{
				CallSpec: e2e.CallSpec{ID: p.id, Caller: p.caller, Exten: c.dest.did(c.gate), DTMF: c.dtmf},
				Context:  "from-trunk",
			})
			ps = append(ps, p)
		}
		for _, p := range ps {
			t.Run(p.c.name, func(t *testing.T) {
				if p.err != nil {
					t.Fatal(p.err)
				}
				r, err := ast.WaitResult(ctx, p.id)
				if err != nil {
					t.Fatal(err)
				}
				if r.Kind != p.c.kind {
					t.Errorf("ended %s (%s), want %s", r.Kind, r.Line, p.c.kind)
				}
				if p.c.kind == "continue" && r.Arg != p.c.dest.did(p.c.gate) {
					t.Errorf("arrived at %q, want the DID %s (%s)", r.Arg, p.c.dest.did(p.c.gate), r.Line)
				}
				for k, v := range p.c.fields {
					if got := r.Fields[k]; got != v {
						t.Errorf("%s = %q, want %q (%s)", k, got, v, r.Line)
					}
				}
				if r.Fields["uid"] != e2e.ScreenedID(p.id) {
					t.Errorf("the result is from channel %q, want %q", r.Fields["uid"], e2e.ScreenedID(p.id))
				}
				if p.c.outcome == "" {
					return
				}
				rec, err := log(ctx, func(r *gate.CallRecord) bool { return r.CallerRaw == p.caller })
				if err != nil {
					t.Fatalf("no call-log row: %v", err)
				}
				if want := []string{"static", "inactive"}[p.c.gate-1]; rec.Outcome != p.c.outcome || rec.GateID != want {
					t.Errorf("call log: outcome %s gate %s, want %s %s", rec.Outcome, rec.GateID, p.c.outcome, want)
				}
			})
		}
	}
	ariOpen, ariClosed, agiOpen, agiClosed := freePBXDests[0], freePBXDests[1], freePBXDests[2], freePBXDests[3]

	t.Run("ari not connected", func(t *testing.T) {
		run(t, []call{
			{"fail open", ariOpen, 1, "4711#", "continue", map[string]string{"status": "FAILED", "result": "", "state": "Ring"}, ""},
			{"fail closed", ariClosed, 1, "4711#", "hangup", map[string]string{"cause": "17", "result": ""}, ""},
		}, nil)
	})

	vg := e2e.StartVipgate(t, ast, gates, nil, nil)
	screened := func(d freePBXDest) []call {
		return []call{
			{d.context + ": right PIN", d, 1, "4711#", "continue", map[string]string{"result": "pin_ok", "gate": "static"}, gate.OutcomePINOK},
			{d.context + ": wrong PIN", d, 1, "1234#", "hangup", map[string]string{"cause": "21", "result": "pin_failed"}, gate.OutcomePINFailed},
			{d.context + ": inactive gate", d, 2, "", "continue", map[string]string{"result": "passed", "state": "Ring"}, gate.OutcomePassed},
		}
	}
	t.Run("ari", func(t *testing.T) { run(t, append(screened(ariOpen), screened(ariClosed)...), vg.WaitCall) })
	t.Run("fastagi", func(t *testing.T) { run(t, append(screened(agiOpen), screened(agiClosed)...), agiVG.WaitCall) })

	if err := agiVG.Stop(); err != nil {
		t.Fatal(err)
	}
	t.Run("fastagi stopped", func(t *testing.T) {
		run(t, []call{
			{"fail open", agiOpen, 1, "4711#", "continue", map[string]string{"agistatus": "FAILURE", "result": "", "state": "Ring"}, ""},
			{"fail closed", agiClosed, 1, "4711#", "hangup", map[string]string{"cause": "17", "result": ""}, ""},
		}, nil)
	})
}
