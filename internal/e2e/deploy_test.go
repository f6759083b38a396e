package e2e_test

import (
	"os"
	"strings"
	"testing"

	"github.com/vipgate/vipgate/internal/e2e"
)

// TestE2EDeployDialplan loads deploy/asterisk/extensions-ari.conf into a
// real Asterisk and checks that every context parses with the Stasis route
// and its fallback branches.
func TestE2EDeployDialplan(t *testing.T) {
	cfg := e2e.ConfigFromEnv(t)
	b, err := os.ReadFile("../../deploy/asterisk/extensions-ari.conf")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Dialplan = string(b)
	ast := e2e.Start(t, cfg)
	tests := []struct {
		context string
		want    []string
	}{
		{"vipgate-in", []string{"Stasis(vipgate,${EXTEN})", `GotoIf($["${STASISSTATUS}" = "FAILED"]?unscreened)`, "[unscreened]"}},
		{"vipgate-in-closed", []string{"Stasis(vipgate,${EXTEN})", `"${VIPGATE_RESULT}" = "pin_ok"`, "[refuse]", "Hangup(17)"}},
		{"vipgate-in-named", []string{"Stasis(vipgate,hotline,${EXTEN})"}},
		{"vipgate-route", []string{"Dial(PJSIP/${EXTEN},30)"}},
		{"vipgate-forward", []string{"'9000'"}},
	}
	for _, tt := range tests {
		t.Run(tt.context, func(t *testing.T) {
			out, err := ast.CLI("dialplan show " + tt.context)
			if err != nil {
				t.Fatalf("CLI: %v: %s", err, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("dialplan show %s lacks %q:\n%s", tt.context, w, out)
				}
			}
		})
	}
}
