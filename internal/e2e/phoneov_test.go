package e2e_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vipgate/vipgate/internal/e2e"
)

// phoneOverrideDialplan is the override extension as docs/asterisk.md
// shows it, over ARI (*55) and FastAGI (*56, vipgate's address in
// VG_AGI), with the BLF hint, and result lines for the test.
const phoneOverrideDialplan = `
[phone-override]
exten => *55,hint,Custom:vipgate-ovgate
exten => *55,1,Stasis(vipgate,override,ovgate,toggle)
 same => n,Set(FILE(${RESULTS},,,al,u)=${TESTID} continue ${EXTEN} result=${VIPGATE_RESULT})
 same => n,Hangup()
exten => *56,1,AGI(agi://${VG_AGI}/override?gate=ovgate&action=on)
 same => n,Set(FILE(${RESULTS},,,al,u)=${TESTID} continue ${EXTEN} result=${VIPGATE_RESULT})
 same => n,Hangup()
exten => h,1,Set(FILE(${RESULTS},,,al,u)=${TESTID} hangup cause=${HANGUPCAUSE} result=${VIPGATE_RESULT})
`

const ovGate = `id: ovgate
name: phone override
enabled: true
match: {numbers: ["6900"]}
activation: {mode: always}
identification: {mode: static, static_pin: "2468", region: DE}
dialogue: {max_retries: 1, min_digits: 4, max_digits: 8, first_digit_timeout: 5s, inter_digit_timeout: 3s}
phone_override: {pin: "4711"}
`

// TestE2EPhoneOverride calls the override extension of a real Asterisk
// over ARI and over FastAGI, served by the real vipgate binary: the
// caller types the override PIN with SendDTMF; the gate's override is
// read back through the admin API, the device state through ARI (GET
// /deviceStates/Custom:vipgate-ovgate) and the BLF hint with "core show
// hints"; a change through the admin API reaches the device too.
func TestE2EPhoneOverride(t *testing.T) {
	cfg := e2e.ConfigFromEnv(t)
	bin := e2e.BuildVipgate(t)
	cfg.Dialplan = phoneOverrideDialplan
	cfg.Modules = append(append(cfg.Modules, e2e.AGIModules...), "func_devstate.so", "res_ari_device_states.so", "res_stasis_device_state.so")
	ast := e2e.Start(t, cfg)
	vg := e2e.NewServe(t, bin, ast, "")
	if err := vg.ImportGate("ovgate", ovGate); err != nil {
		t.Fatal(err)
	}
	if err := vg.CreateToken(); err != nil {
		t.Fatal(err)
	}
	if err := vg.Start(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const device = "Custom:vipgate-ovgate"
	waitDevice := func(want string) {
		t.Helper()
		var got string
		for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
			var err error
			if got, err = ast.Client.DeviceState(ctx, device); err == nil && got == want {
				return
			}
		}
		t.Fatalf("device %s is %q, want %q", device, got, want)
	}
	override := func() map[string]any {
		t.Helper()
		code, body, err := vg.API(http.MethodGet, "/api/v1/gates/ovgate", "", nil)
		if err != nil || code != http.StatusOK {
			t.Fatalf("GET gate: %d %v %s", code, err, body)
		}
		var g struct {
			Override      map[string]any `json:"override"`
			PhoneOverride map[string]any `json:"phone_override"`
		}
		if err := json.Unmarshal([]byte(body), &g); err != nil {
			t.Fatal(err)
		}
		if g.PhoneOverride["pin_set"] != true || strings.Contains(body, "4711") {
			t.Fatalf("gate shows phone_override %v (body %s)", g.PhoneOverride, body)
		}
		return g.Override
	}
	call := func(id, exten, dtmf string) e2e.Result {
		t.Helper()
		if _, err := ast.OriginateAGI(ctx, e2e.AGICall{CallSpec: e2e.CallSpec{ID: id, Caller: "201", Exten: exten, DTMF: dtmf, Hold: 15 * time.Second},
			Context: "phone-override", Addr: vg.AGIAddr}); err != nil {
			t.Fatal(err)
		}
		r, err := ast.WaitResult(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}

	// At start-up the gate's device shows the schedule.
	waitDevice("NOT_INUSE")

	// ARI: toggle an always-active gate: forced off.
	r := call("71", "*55", "4711#")
	if r.Kind != "hangup" || r.Fields["result"] != "override_off" || r.Fields["cause"] != "16" {
		t.Errorf("ARI toggle: %s, want hangup cause=16 result=override_off", r.Line)
	}
	if o := override(); o == nil || o["active"] != false {
		t.Errorf("after the ARI toggle: override %v, want forced off", o)
	}
	waitDevice("ONHOLD")
	if log, _ := ast.LogFile("messages"); !strings.Contains(log, "Playing 'de-activated.") {
		t.Errorf("the confirmation de-activated was not played (log has no \"Playing 'de-activated.\")")
	}

	// A wrong PIN changes nothing.
	r = call("72", "*55", "1111#")
	if r.Fields["result"] != "override_pin_failed" {
		t.Errorf("wrong PIN: %s, want result=override_pin_failed", r.Line)
	}
	if o := override(); o == nil || o["active"] != false {
		t.Errorf("after a wrong PIN: override %v, want still forced off", o)
	}

	// FastAGI: action=on: forced on.
	r = call("73", "*56", "4711#")
	if r.Kind != "hangup" || r.Fields["result"] != "override_on" {
		t.Errorf("AGI on: %s, want hangup result=override_on", r.Line)
	}
	if o := override(); o == nil || o["active"] != true {
		t.Errorf("after the AGI call: override %v, want forced on", o)
	}
	waitDevice("INUSE")
	if out, err := ast.CLI("core show hints"); err != nil || !strings.Contains(out, device) || !strings.Contains(out, "InUse") {
		t.Errorf("hint *55: %v\n%s", err, out)
	}

	// The audit log names the phone.
	code, body, err := vg.API(http.MethodGet, "/api/v1/audit?gate=ovgate", "", nil)
	if err != nil || code != http.StatusOK || strings.Count(body, `"phone:201"`) != 2 {
		t.Errorf("audit: %d %v: want two entries by phone:201\n%s", code, err, body)
	}

	// The admin API clears the override; the device follows.
	if code, body, err := vg.API(http.MethodDelete, "/api/v1/gates/ovgate/override", "", nil); err != nil || code != http.StatusNoContent {
		t.Fatalf("DELETE override: %d %v %s", code, err, body)
	}
	waitDevice("NOT_INUSE")
	// And the command line (another process) sets it.
	if _, err := vg.Run("override", "set", "--gate", "ovgate", "--active", "off"); err != nil {
		t.Fatal(err)
	}
	waitDevice("ONHOLD")
}
