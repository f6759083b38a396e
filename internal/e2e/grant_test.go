package e2e_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/internal/e2e"
)

// TestE2EGrantedPIN grants a one-use PIN at the static gate for one
// caller per transport — through the admin API for ARI, through `vipgate
// pins grant` for FastAGI — and places two calls that type it: the first
// gets through, the second is treated as a wrong PIN. The real serve
// decides both; the grant then counts one use, and neither the serve log
// nor the call log holds the PIN.
func TestE2EGrantedPIN(t *testing.T) {
	e2e.ConfigFromEnv(t)
	r := startRealbin(t, "")
	pins := map[string]string{}
	for i, tr := range transports {
		caller := fmt.Sprintf("55590%02d", i)
		var pin string
		if tr == "ari" {
			code, body, err := r.vg.API(http.MethodPost, "/api/v1/gates/static/grants", "application/json",
				[]byte(`{"caller": "`+caller+`", "max_uses": 1, "valid_for": "1h", "label": "e2e"}`))
			if err != nil || code != http.StatusCreated {
				t.Fatalf("POST grants: %d %s %v", code, body, err)
			}
			var out struct {
				PIN string `json:"pin"`
			}
			if err := json.Unmarshal([]byte(body), &out); err != nil {
				t.Fatal(err)
			}
			pin = out.PIN
		} else {
			out, err := r.vg.Run("pins", "grant", "--gate", "static", "--caller", caller, "--uses", "1", "--valid-for", "1h")
			if err != nil {
				t.Fatal(err)
			}
			m := regexp.MustCompile(`(?m)^PIN: (\d+)$`).FindStringSubmatch(out)
			if m == nil {
				t.Fatalf("pins grant printed no PIN:\n%s", out)
			}
			pin = m[1]
		}
		if len(pin) != 8 || pin == pinStatic {
			t.Fatalf("granted PIN of %d digits", len(pin))
		}
		pins[tr] = pin
		t.Run(tr, func(t *testing.T) {
			first := callCase{exten: "6100", dtmf: pin + "#", caller: caller, kind: "continue", arg: "6100", outcome: gate.OutcomePINOK}
			for _, b := range r.call(tr, first) {
				t.Errorf("first call: %s", b)
			}
			again := callCase{exten: "6100", dtmf: pin + "#", caller: caller, kind: "hangup", cause: "17", outcome: gate.OutcomePINFailed}
			for _, b := range r.call(tr, again) {
				t.Errorf("second call with the used PIN: %s", b)
			}
		})
	}
	code, body, err := r.vg.API(http.MethodGet, "/api/v1/gates/static/grants", "", nil)
	if err != nil || code != http.StatusOK {
		t.Fatalf("GET grants: %d %s %v", code, body, err)
	}
	if n := strings.Count(body, `"uses":1`); n != 2 || !strings.Contains(body, `"state":"used_up"`) {
		t.Errorf("grants after the calls (want two used up, one use each): %s", body)
	}
	serveLog, err := os.ReadFile(r.vg.Log)
	if err != nil {
		t.Fatal(err)
	}
	_, csv, err := r.vg.API(http.MethodGet, "/api/v1/calls?format=csv", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(serveLog), "granted PIN used") {
		t.Error("the serve log does not say that a granted PIN was used")
	}
	for tr, pin := range pins {
		if strings.Contains(string(serveLog), pin) || strings.Contains(csv, pin) || strings.Contains(body, pin) {
			t.Errorf("the %s call's granted PIN is in the serve log, the call log or the grant list", tr)
		}
	}
}
