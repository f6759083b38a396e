package e2e_test

import (
	"strings"
	"testing"
	"time"

	"github.com/vipgate/vipgate/ari"
	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/internal/e2e"
)

// TestE2EReadyzFollowsAsterisk connects vipgate to a real Asterisk through
// one server without a name, as --ari-url configures it. Expected: /readyz
// answers 200 once connected, 503 naming the server while Asterisk is
// down, and 200 again after Asterisk is back.
func TestE2EReadyzFollowsAsterisk(t *testing.T) {
	cfg := e2e.ConfigFromEnv(t)
	ast := e2e.Start(t, cfg)
	h, err := gate.NewHasher(e2e.HasherKey)
	if err != nil {
		t.Fatal(err)
	}
	vg := e2e.StartVipgate(t, ast, testGates(h), nil, func(c *ari.AppConfig) {
		c.Servers[0].Name = "" // as --ari-url: named by host:port
		c.MinBackoff, c.MaxBackoff = 200*time.Millisecond, 2*time.Second
	})
	name := vg.App.ServerNames()[0]
	waitReadyz := func(want int, within time.Duration) string {
		t.Helper()
		deadline := time.Now().Add(within)
		for {
			code, body := vg.Readyz()
			if code == want {
				return body
			}
			if time.Now().After(deadline) {
				t.Fatalf("/readyz answers %d %s, want %d", code, body, want)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	waitReadyz(200, 10*time.Second)

	t.Log("Asterisk stops")
	ast.Stop()
	body := waitReadyz(503, 15*time.Second)
	if want := "not connected: ari " + name; !strings.Contains(body, want) {
		t.Errorf("/readyz while Asterisk is down: %s, want it to say %q", body, want)
	}

	t.Log("Asterisk starts again")
	ast.Restart(t)
	waitReadyz(200, 30*time.Second)
}
