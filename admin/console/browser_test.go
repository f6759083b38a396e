package console_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
)

// TestBrowser runs browsertest/console.test.mjs: a real headless Chromium
// (Debian's chromium package) driven by playwright-core logs in, creates a
// gate with a schedule (ranges typed into the week grid with the keyboard),
// imports a CSV with a bad row and sees its error,
// sets an override, runs the simulator, finds a call in the log and logs
// out, with axe-core on every page (no serious or critical violations).
// It skips, saying why, without node, chromium or browsertest/node_modules
// (`npm ci` in admin/console/browsertest). Screenshots go to
// VIPGATE_SCREENSHOTS (docs/console to refresh the README's) or a
// temporary directory.
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the browser test takes a few seconds")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not on PATH; the browser test needs Node.js (apt-get install -y nodejs)")
	}
	chromium := os.Getenv("VIPGATE_CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		t.Skipf("no Chromium at %s (apt-get install -y chromium, or set VIPGATE_CHROMIUM)", chromium)
	}
	if _, err := os.Stat(filepath.Join("browsertest", "node_modules", "playwright-core")); err != nil {
		t.Skip("browsertest/node_modules is missing; run `npm ci` in admin/console/browsertest")
	}
	shots := os.Getenv("VIPGATE_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	} else if shots, err = filepath.Abs(shots); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t)
	// A call to find in the log.
	if err := e.store.LogCall(context.Background(), &gate.CallRecord{At: e.now().Add(-10 * time.Minute), Source: "ari", GateID: "hotline",
		CallerRaw: "0176 9999 0000", Caller: "+4917699990000", Called: "+4930901820", Active: true, Mode: gate.IdentTable,
		Verdict: gate.VerdictReject, Outcome: gate.OutcomeRejected, Target: "hangup:busy"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "console.test.mjs")
	cmd.Dir = "browsertest"
	cmd.Env = append(os.Environ(), "VIPGATE_URL="+e.srv.URL, "VIPGATE_TOKEN="+e.tokens[gate.RoleAdmin],
		"VIPGATE_CHROMIUM="+chromium, "VIPGATE_SHOTS="+shots)
	out, err := cmd.CombinedOutput()
	t.Logf("browser test output:\n%s", out)
	if err != nil {
		t.Fatalf("browser test: %v (screenshots in %s)", err, shots)
	}
}
