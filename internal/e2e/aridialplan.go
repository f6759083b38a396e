package e2e

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/vipgate/vipgate/ari"
)

// ARIModules are the modules the shipped ARI dialplan needs besides the ARI
// set: Playback() of the fail-closed branch, CALLERID() of its NoOp lines,
// and CHANNEL(state), which ARIDialplan's result lines record.
var ARIModules = []string{"app_playback.so", "func_callerid.so", "func_channel.so"}

// Contexts of the shipped ARI dialplan (deploy/asterisk/extensions-ari.conf).
const (
	// ARIContext screens with a fail-open fallback ([vipgate-in]).
	ARIContext = "vipgate-in"
	// ARIContextClosed screens with a fail-closed fallback
	// ([vipgate-in-closed]).
	ARIContextClosed = "vipgate-in-closed"
	// ARIContextNamed screens with the gate named in Stasis()
	// ([vipgate-in-named]).
	ARIContextNamed = "vipgate-in-named"
	// ARIRoute is the original destination of screened calls.
	ARIRoute = "vipgate-route"
	// ARIForward holds the forward targets of gates whose forward_context
	// is vipgate-forward.
	ARIForward = "vipgate-forward"
)

// ariScreening are the contexts ARIDialplan keeps as shipped, apart from
// their h extensions.
var ariScreening = []string{ARIContext, ARIContextClosed, ARIContextNamed}

// shippedStasis is how every screening context hands the call to vipgate.
const shippedStasis = "Stasis(vipgate,"

// ARIDialplan turns the shipped snippet (deploy/asterisk/extensions-ari.conf)
// into test contexts. It keeps [vipgate-in], [vipgate-in-closed] and
// [vipgate-in-named] as shipped except for their h extensions, which record
// "hangup cause=HANGUPCAUSE status=STASISSTATUS result=VIPGATE_RESULT
// playback=PLAYBACKSTATUS uid=UNIQUEID" in the results file
// (PLAYBACKSTATUS is set only by the Playback() of the fail-closed
// refusal). [vipgate-route] and [vipgate-forward], which Dial PJSIP
// endpoints the test Asterisk has no driver for, become contexts that
// record "continue <exten> ..." and "forward <exten> ..." with
// STASISSTATUS, VIPGATE_RESULT, VIPGATE_GATE, VIPGATE_TARGET, the channel
// state (Ring for a call nobody answered) and UNIQUEID, and hang up.
//
// It fails when the snippet no longer has what the tests rely on: each
// screening context, with exactly one Stasis(vipgate,...) and no Dial()
// of its own; the route and forward contexts; and no Goto() from a
// screening context into a context the test dialplan does not have.
func ARIDialplan(snippet string) (string, error) {
	sections, _ := splitContexts(snippet)
	for _, name := range append(slices.Clone(ariScreening), ARIRoute, ARIForward) {
		if _, ok := sections[name]; !ok {
			return "", fmt.Errorf("e2e: ari dialplan: the snippet has no [%s]", name)
		}
	}
	have := append(slices.Clone(ariScreening), ARIRoute, ARIForward)
	var b strings.Builder
	for _, name := range ariScreening {
		lines := sections[name]
		n := 0
		for _, l := range lines {
			n += strings.Count(l, shippedStasis)
			if strings.Contains(l, "Dial(") {
				return "", fmt.Errorf("e2e: ari dialplan: [%s] dials itself (%s); the test expects it to go to [%s]", name, strings.TrimSpace(l), ARIRoute)
			}
			for _, c := range gotoContexts(l) {
				if !slices.Contains(have, c) {
					return "", fmt.Errorf("e2e: ari dialplan: [%s] goes to [%s], which the test dialplan does not have (%s)", name, c, strings.TrimSpace(l))
				}
			}
		}
		if n != 1 {
			return "", fmt.Errorf("e2e: ari dialplan: [%s] has %d %s...) calls, want 1", name, n, shippedStasis)
		}
		lines = setH(lines, `exten => h,1,Set(FILE(${RESULTS},,,al,u)=${TESTID} hangup cause=${HANGUPCAUSE} status=${STASISSTATUS} result=${VIPGATE_RESULT} playback=${PLAYBACKSTATUS} uid=${UNIQUEID})`)
		fmt.Fprintf(&b, "[%s]\n%s\n\n", name, strings.Join(lines, "\n"))
	}
	const fields = `status=${STASISSTATUS} result=${VIPGATE_RESULT} gate=${VIPGATE_GATE} target=${VIPGATE_TARGET} state=${CHANNEL(state)} uid=${UNIQUEID}`
	fmt.Fprintf(&b, `[%s]
exten => _X.,1,Set(FILE(${RESULTS},,,al,u)=${TESTID} continue ${EXTEN} %[2]s)
 same => n,Hangup()
exten => h,1,NoOp()

[%[3]s]
exten => _X.,1,Set(FILE(${RESULTS},,,al,u)=${TESTID} forward ${EXTEN} %[2]s)
 same => n,Hangup()
exten => h,1,NoOp()
`, ARIRoute, fields, ARIForward)
	return b.String(), nil
}

// gotoArgs matches the arguments of a Goto() or GotoIf() application.
var gotoArgs = regexp.MustCompile(`\bGoto(?:If)?\(([^)]*)\)`)

// gotoContexts returns the contexts that the Goto() and GotoIf() calls on
// a dialplan line name (a label or extension alone stays in the context).
func gotoContexts(line string) []string {
	var out []string
	for _, m := range gotoArgs.FindAllStringSubmatch(line, -1) {
		args := m[1]
		if strings.HasPrefix(m[0], "GotoIf") {
			_, branches, ok := strings.Cut(args, "?")
			if !ok {
				continue
			}
			args = branches
		}
		for dest := range strings.SplitSeq(args, ":") {
			if parts := strings.Split(dest, ","); len(parts) == 3 {
				out = append(out, strings.TrimSpace(parts[0]))
			}
		}
	}
	return out
}

// ARICall is a test call into the shipped ARI dialplan.
type ARICall struct {
	CallSpec
	// Context is where the call enters (ARIContext when empty).
	Context string
}

// ScreenedID returns the channel id of the half of call id that runs the
// screening context: the id vipgate sees and logs, and UNIQUEID in the
// result lines.
func ScreenedID(id string) string { return "e2e-" + id + "-in" }

// OriginateARI places c the way a real inbound call arrives: the channel
// that enters c.Context at c.Exten (ScreenedID(c.ID), caller ID c.Caller)
// is ringing, not answered. It is the ;2 half of
// Local/<exten>@<context>/n; the ;1 half runs [test-caller] only once the
// ;2 half is answered (by vipgate for a PIN, or by the dialplan), and then
// sends c.DTMF after c.PreWait as in Originate. Nobody answers a call that
// is passed unanswered: the ;1 half gives up after 10 s, so the
// destination must record and hang up before then. It returns
// ScreenedID(c.ID).
func (a *Asterisk) OriginateARI(ctx context.Context, c ARICall) (string, error) {
	if c.Context == "" {
		c.Context = ARIContext
	}
	c.CallSpec = c.CallSpec.withDefaults()
	_, err := a.Client.Originate(ctx, ari.OriginateRequest{
		Endpoint:       "Local/" + c.Exten + "@" + c.Context + "/n",
		Context:        "test-caller",
		Extension:      c.ID,
		Priority:       1,
		CallerID:       c.Caller,
		Timeout:        10,
		ChannelID:      "e2e-" + c.ID + "-caller",
		OtherChannelID: ScreenedID(c.ID),
		Variables:      c.vars(),
	})
	if err != nil {
		return "", fmt.Errorf("e2e: originate %s into [%s]: %w", c.ID, c.Context, err)
	}
	return ScreenedID(c.ID), nil
}
