package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
)

// cli runs vipgate in-process with a private state directory.
type cli struct {
	t   *testing.T
	dir string
	env map[string]string
}

func newCLI(t *testing.T) *cli {
	dir := t.TempDir()
	return &cli{t: t, dir: dir, env: map[string]string{"XDG_STATE_HOME": dir, "HOME": dir}}
}

func (c *cli) run(args ...string) (stdout, stderr string, err error) {
	c.t.Helper()
	var out, errb bytes.Buffer
	// An empty root: the tests never see this host's /etc/vipgate.
	err = runOn(context.Background(), system{root: filepath.Join(c.dir, "root")}, append([]string{"vipgate"}, args...), func(k string) string { return c.env[k] }, &out, &errb)
	return out.String(), errb.String(), err
}

func (c *cli) must(args ...string) string {
	c.t.Helper()
	out, errOut, err := c.run(args...)
	if err != nil {
		c.t.Fatalf("vipgate %s: %v\nstderr: %s", strings.Join(args, " "), err, errOut)
	}
	return out
}

// importGates writes doc to the file name in the test's directory and
// imports it with vipgate gates import.
func (c *cli) importGates(name, doc string) string {
	c.t.Helper()
	path := filepath.Join(c.dir, name)
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		c.t.Fatal(err)
	}
	return c.must("gates", "import", path)
}

func example(name string) string { return filepath.Join("..", "..", "deploy", "examples", name) }

func TestExplainAfterHoursExample(t *testing.T) {
	c := newCLI(t)
	c.must("gates", "import", example("after-hours.yaml"))
	tests := []struct {
		at, verdict string
		active      bool
	}{
		{"2026-12-01T10:00:00+01:00", "pass", false},   // Tuesday, business hours
		{"2026-12-01T20:00:00+01:00", "ask_pin", true}, // Tuesday evening
		{"2026-12-05T10:00:00+01:00", "ask_pin", true}, // Saturday
		{"2026-12-24T11:00:00+01:00", "pass", false},   // Christmas Eve morning
		{"2026-12-24T13:00:00+01:00", "ask_pin", true}, // Christmas Eve from 12:00
		{"2026-12-25T10:00:00+01:00", "ask_pin", true}, // Christmas Day (a Friday)
		{"2026-03-30T07:59:00+02:00", "ask_pin", true}, // Monday after DST change, before 08:00
		{"2026-03-30T08:00:00+02:00", "pass", false},   // 08:00 CEST
	}
	for _, tt := range tests {
		t.Run(tt.at, func(t *testing.T) {
			out := c.must("explain", "--called", "030901820", "--caller", "0176 1234 5678", "--at", tt.at, "--json")
			var x explained
			if err := json.Unmarshal([]byte(out), &x); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if x.Gate != "after-hours" || string(x.Verdict) != tt.verdict || x.Active != tt.active {
				t.Fatalf("gate %q verdict %s active %v, want after-hours %s %v\n%s", x.Gate, x.Verdict, x.Active, tt.verdict, tt.active, out)
			}
			if strings.Contains(out, "739146") {
				t.Fatal("explain output reveals the static PIN")
			}
		})
	}
	text := c.must("explain", "--called", "+4930901820", "--caller", "004917612345678", "--at", "2026-12-01T20:00:00+01:00")
	for _, want := range []string{"after-hours", "→ +4917612345678", "ask for the PIN"} {
		if !strings.Contains(text, want) {
			t.Errorf("text output lacks %q:\n%s", want, text)
		}
	}
}

func TestPremiumSupportExample(t *testing.T) {
	c := newCLI(t)
	c.must("gates", "import", example("premium-support.yaml"))
	out := c.must("pins", "import", "--gate", "premium-support", example("premium-support-pins.csv"))
	if !strings.Contains(out, "inserted") {
		t.Fatalf("pins import: %s", out)
	}
	exported := c.must("pins", "export", "--gate", "premium-support")
	if !strings.Contains(exported, "+49") {
		t.Fatalf("export lacks normalised callers:\n%s", exported)
	}
	// An unknown caller is rejected without a PIN dialogue.
	var x explained
	if err := json.Unmarshal([]byte(c.must("explain", "--gate", "premium-support", "--caller", "+15555550100", "--called", "1", "--json")), &x); err != nil {
		t.Fatal(err)
	}
	if x.Verdict != "reject" {
		t.Fatalf("unknown caller: verdict %s, want reject; trace %v", x.Verdict, x.Trace)
	}
}

func TestGatesRoundTrip(t *testing.T) {
	c := newCLI(t)
	c.must("gates", "import", example("after-hours.yaml"), example("premium-support.yaml"), example("webhook-gate.yaml"))
	first := c.must("gates", "export", "--format", "yaml")
	c.importGates("export.yaml", first)
	second := c.must("gates", "export", "--format", "yaml")
	strip := func(s string) string { // updated_at changes on re-import
		var keep []string
		for _, l := range strings.Split(s, "\n") {
			if !strings.Contains(l, "updated_at") {
				keep = append(keep, l)
			}
		}
		return strings.Join(keep, "\n")
	}
	if strip(first) != strip(second) {
		t.Fatalf("export → import → export differs:\n--- first\n%s\n--- second\n%s", first, second)
	}
	if strings.Contains(first, "739146") {
		t.Fatal("export contains the clear static PIN")
	}
	jsonOut := c.must("gates", "export", "--format", "json")
	if !json.Valid([]byte(jsonOut)) {
		t.Fatal("JSON export is not valid JSON")
	}
}

func TestGatesImportValidation(t *testing.T) {
	c := newCLI(t)
	bad := filepath.Join(c.dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("id: x\nidentification: {mode: static, static_pin: \"12\"}\ndialogue: {min_digits: 4}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err := c.run("gates", "import", bad)
	if err == nil || !strings.Contains(err.Error(), "identification.static_pin") || strings.Contains(err.Error(), `"12"`) {
		t.Fatalf("err = %v, want a static_pin field error without the PIN", err)
	}
	typo := filepath.Join(c.dir, "typo.yaml")
	if err := os.WriteFile(typo, []byte("id: x\nenabeld: true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.run("gates", "import", typo); err == nil || !strings.Contains(err.Error(), "enabeld") {
		t.Fatalf("err = %v, want the unknown field named", err)
	}
}

func TestKeyFileCreatedPrivate(t *testing.T) {
	c := newCLI(t)
	c.must("gates", "import", example("after-hours.yaml"))
	st, err := os.Stat(filepath.Join(c.dir, "vipgate", "vipgate.key"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, want 0600", st.Mode().Perm())
	}
}

func TestTokens(t *testing.T) {
	c := newCLI(t)
	tok := strings.TrimSpace(c.must("tokens", "create", "--role", "operator", "--name", "backoffice"))
	if !strings.HasPrefix(tok, "vg_") {
		t.Fatalf("token %q", tok)
	}
	list := c.must("tokens", "list")
	if strings.Contains(list, tok) || !strings.Contains(list, "operator") {
		t.Fatalf("list shows the secret or lacks the token:\n%s", list)
	}
	if _, _, err := c.run("tokens", "create", "--role", "root"); err == nil {
		t.Fatal("unknown role accepted")
	}
}

// TestTokenExpires creates a token with --expires and sees the expiry in
// the list; a lifetime that is not positive is a usage error.
func TestTokenExpires(t *testing.T) {
	c := newCLI(t)
	before := time.Now().UTC().Truncate(time.Second)
	_, errOut, err := c.run("tokens", "create", "--role", "viewer", "--name", "temp", "--expires", "30d")
	if err != nil {
		t.Fatalf("tokens create --expires 30d: %v\n%s", err, errOut)
	}
	list := c.must("tokens", "list")
	i := strings.Index(list, "active, expires ")
	if i < 0 {
		t.Fatalf("list lacks the expiry:\n%s", list)
	}
	at, err := time.Parse(time.RFC3339, strings.Fields(list[i+len("active, expires "):])[0])
	if err != nil {
		t.Fatal(err)
	}
	if d := at.Sub(before); d < 30*24*time.Hour || d > 30*24*time.Hour+time.Minute {
		t.Errorf("expires %v, want 30 days after %v", at, before)
	}
	for _, bad := range []string{"0d", "-1h", "soon", "1y"} {
		if _, _, err := c.run("tokens", "create", "--role", "viewer", "--expires", bad); exitCode(err) != 2 {
			t.Errorf("--expires %s: %v, want a usage error", bad, err)
		}
	}
}

func TestUsageAndConfig(t *testing.T) {
	c := newCLI(t)
	if _, _, err := c.run("frobnicate"); exitCode(err) != 2 {
		t.Fatalf("unknown command: exit %d", exitCode(err))
	}
	if out := c.must("version"); !strings.HasPrefix(out, "vipgate ") {
		t.Fatalf("version: %q", out)
	}
	if _, errOut, err := c.run("explain", "--help"); exitCode(err) != 0 || !strings.Contains(errOut, "VIPGATE_REGION") {
		t.Fatalf("explain --help: exit %d, %s", exitCode(err), errOut)
	}
	// Precedence: flag over environment over config file.
	cfg := filepath.Join(c.dir, "vipgate.yaml")
	if err := os.WriteFile(cfg, []byte("region: FR\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e := &env{getenv: func(k string) string { return map[string]string{"VIPGATE_REGION": "AT"}[k] }}
	for _, tt := range []struct {
		args []string
		env  bool
		want string
	}{
		{[]string{"--config", cfg}, false, "FR"},
		{[]string{"--config", cfg}, true, "AT"},
		{[]string{"--config", cfg, "--region", "CH"}, true, "CH"},
	} {
		ee := *e
		if !tt.env {
			ee.getenv = func(string) string { return "" }
		}
		ee.stderr = &bytes.Buffer{}
		f := newFlags(&ee, "x", "")
		co := f.common()
		if err := f.parse(tt.args); err != nil {
			t.Fatal(err)
		}
		if *co.region != tt.want {
			t.Errorf("%v env=%v: region %s, want %s", tt.args, tt.env, *co.region, tt.want)
		}
	}
}

func TestKeyFileConcurrentCreate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state", "vipgate.key")
	keys := make(chan string, 8)
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			k, _, err := loadKey(path, true)
			errs <- err
			keys <- string(k)
		}()
	}
	first := ""
	for i := range 8 {
		if err := <-errs; err != nil {
			t.Fatalf("instance %d: %v", i, err)
		}
		k := <-keys
		if i == 0 {
			first = k
		} else if k != first {
			t.Fatal("two instances got different installation keys")
		}
	}
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil || len(entries) != 1 {
		t.Fatalf("key directory holds %d files (%v), want only the key", len(entries), err)
	}
}

func TestPinsReplaceRefusesBadRows(t *testing.T) {
	c := newCLI(t)
	c.must("gates", "import", example("premium-support.yaml"))
	c.must("pins", "import", "--gate", "premium-support", example("premium-support-pins.csv"))
	before := c.must("pins", "export", "--gate", "premium-support")
	bad := filepath.Join(c.dir, "bad.csv")
	if err := os.WriteFile(bad, []byte("caller,pin\n+4917612345678,80417\nnot-a-number,55555\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.run("pins", "import", "--gate", "premium-support", "--replace", "--partial", bad); err == nil {
		t.Fatal("--replace with a bad row was accepted")
	}
	if after := c.must("pins", "export", "--gate", "premium-support"); after != before {
		t.Fatalf("a refused import changed the table:\n%s\nthen\n%s", before, after)
	}
}

func TestConfigFileRejectsUnknownKeys(t *testing.T) {
	c := newCLI(t)
	cfg := filepath.Join(c.dir, "vipgate.yaml")
	if err := os.WriteFile(cfg, []byte("dbb: /tmp/x.db\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.run("gates", "list", "--config", cfg); err == nil || !strings.Contains(err.Error(), `"dbb"`) {
		t.Fatalf("err = %v, want the unknown key named", err)
	}
}

func TestGatesFileKeepsTimestampsAsWritten(t *testing.T) {
	h, err := gate.NewHasher(bytes.Repeat([]byte{1}, 32))
	if err != nil {
		t.Fatal(err)
	}
	doc := "id: x\nenabled: true\nidentification: {mode: table}\noverride: {active: true, until: 2026-12-28T00:00:00Z}\n" +
		"activation:\n  mode: schedule\n  schedule: {time_zone: Europe/Berlin, active: outside, windows: [{days: [mon], from: \"08:00\", to: \"18:00\"}], closures: [{date: 2026-12-24, until: 2026-12-26}]}\n"
	gates, err := parseGatesFile([]byte(doc), h)
	if err != nil {
		t.Fatal(err)
	}
	g := gates[0]
	if !g.Override.Until.Equal(time.Date(2026, 12, 28, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("override until %v", g.Override.Until)
	}
	if c := g.Activation.Schedule.Closures[0]; c.Date != "2026-12-24" || c.Until != "2026-12-26" {
		t.Errorf("closure %+v", c)
	}
}

func TestServeStoreTimeout(t *testing.T) {
	c := newCLI(t)
	for _, v := range []string{"0", "-1s", "2", "5m"} {
		_, errOut, err := c.run("serve", "--store-timeout", v)
		if exitCode(err) != 2 || !strings.Contains(errOut+errString(err), "--store-timeout") {
			t.Errorf("serve --store-timeout %s: exit %d, %q; want a usage error naming the flag", v, exitCode(err), errOut)
		}
	}
	if _, errOut, err := c.run("serve", "--help"); exitCode(err) != 0 || !strings.Contains(errOut, "VIPGATE_STORE_TIMEOUT") {
		t.Errorf("serve --help: exit %d, no VIPGATE_STORE_TIMEOUT in %s", exitCode(err), errOut)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestInternalNumbers checks the command line with internal extensions:
// pins import and export keep them as dialled, apart from the E.164
// number with the same digits, and explain names the rule.
func TestInternalNumbers(t *testing.T) {
	c := newCLI(t)
	c.must("gates", "import", example("premium-support.yaml"))
	csvPath := filepath.Join(c.dir, "internal.csv")
	if err := os.WriteFile(csvPath, []byte("caller,pin,label\n201,864213,extension\n+49201,975391,outside\n5550805,864279,no area code\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.must("pins", "import", "--gate", "premium-support", csvPath)
	exported := c.must("pins", "export", "--gate", "premium-support")
	for _, want := range []string{"\n201,extension", "\n+49201,outside", "\n5550805,no area code"} {
		if !strings.Contains(exported, want) {
			t.Errorf("export lacks %q:\n%s", want, exported)
		}
	}
	text := c.must("explain", "--gate", "premium-support", "--caller", "0201", "--called", "1004")
	for _, want := range []string{`raw "0201" → 0201: internal (≤ 6 digits, kept as dialled)`, `raw "1004" → 1004: internal (≤ 6 digits, kept as dialled)`} {
		if !strings.Contains(text, want) {
			t.Errorf("explain lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "+490201") || strings.Contains(text, "+491004") {
		t.Errorf("explain mangles internal numbers into E.164:\n%s", text)
	}
	var x explained
	if err := json.Unmarshal([]byte(c.must("explain", "--gate", "premium-support", "--caller", "+49201", "--called", "1", "--json")), &x); err != nil {
		t.Fatal(err)
	}
	if x.Entry == nil || x.Entry.Label != "outside" || x.CallerRule != "E.164 (international)" {
		t.Fatalf("outside caller +49201: entry %+v rule %q, want the entry +49201", x.Entry, x.CallerRule)
	}
}

// TestExplainLocalTimeInGateZone checks that --at without an offset is the
// gate's local time (Europe/Berlin) and that a time the clocks skip is read
// as the instant they jump to, with a note.
func TestExplainLocalTimeInGateZone(t *testing.T) {
	c := newCLI(t)
	c.must("gates", "import", example("after-hours.yaml"))
	out := c.must("explain", "--called", "030901820", "--caller", "0176 1234 5678", "--at", "2026-12-01T20:00")
	if !strings.Contains(out, "2026-12-01T20:00:00+01:00") {
		t.Errorf("--at 2026-12-01T20:00 not read in Europe/Berlin:\n%s", out)
	}
	out = c.must("explain", "--called", "030901820", "--caller", "0176 1234 5678", "--at", "2027-03-28T02:30")
	want := "2027-03-28T03:00:00+02:00 (02:30 does not exist in Europe/Berlin on 2027-03-28; read as 03:00 CEST)"
	if !strings.Contains(out, want) {
		t.Errorf("at line lacks %q:\n%s", want, out)
	}
}

// TestPinsImportDateInGateZone checks that a bare valid_until date in a CSV
// import is the end of that day in the gate's zone.
func TestPinsImportDateInGateZone(t *testing.T) {
	c := newCLI(t)
	c.must("gates", "import", example("after-hours.yaml"))
	csv := filepath.Join(c.dir, "p.csv")
	if err := os.WriteFile(csv, []byte("caller,pin,valid_until\n+4917612345678,86429,2026-12-31\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.must("pins", "import", "--gate", "after-hours", csv)
	out := c.must("pins", "export", "--gate", "after-hours")
	if !strings.Contains(out, "2026-12-31T23:00:00Z") {
		t.Errorf("valid_until 2026-12-31 is not the end of that day in Europe/Berlin (2026-12-31T23:00:00Z):\n%s", out)
	}
}

// TestOverrideCommand checks "override set" with --until-change: the
// override ends at the schedule's next change, and explain names it.
func TestOverrideCommand(t *testing.T) {
	c := newCLI(t)
	c.must("gates", "import", example("after-hours.yaml"))
	out := c.must("override", "set", "--gate", "after-hours", "--active", "off", "--until-change", "--reason", "staff on site")
	if !strings.Contains(out, "forced inactive until") || !strings.Contains(out, "next change") {
		t.Fatalf("override set: %q", out)
	}
	exported, err := parseGatesFile([]byte(c.must("gates", "export", "--format", "json")), nil)
	if err != nil || len(exported) != 1 {
		t.Fatalf("export: %v", err)
	}
	g := exported[0]
	if g.Override == nil {
		t.Fatal("no override stored")
	}
	want, err := g.NextChange(g.Override.SetAt)
	if err != nil || !g.Override.UntilChange || g.Override.Active || !g.Override.Until.Equal(want) {
		t.Fatalf("stored override %+v, want inactive until %s (%v)", g.Override, want, err)
	}
	text := c.must("explain", "--called", "+4930901820", "--caller", "+4917612345678")
	if !strings.Contains(text, "the schedule's next change") {
		t.Errorf("explain: %s", text)
	}
	for _, args := range [][]string{
		{"override", "set", "--gate", "after-hours", "--active", "on", "--until-change", "--until", "2030-01-01"},
		{"override", "set", "--gate", "after-hours", "--active", "maybe"},
		{"override", "set", "--gate", "after-hours", "--active", "on", "--until", "2000-01-01"},
	} {
		if _, _, err := c.run(args...); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
	c.must("override", "clear", "--gate", "after-hours")
	if text := c.must("explain", "--called", "+4930901820", "--caller", "+4917612345678"); strings.Contains(text, "override") {
		t.Errorf("override not cleared: %s", text)
	}
}
