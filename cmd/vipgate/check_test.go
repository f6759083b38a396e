package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vipgate/vipgate/admin"
	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/gate/gatetest"
	"github.com/vipgate/vipgate/storage/sqlite"
)

// checkInstance is a running vipgate as far as "vipgate check" sees it:
// the real admin API over a SQLite store, with calls run through
// gate.Flow into the same store and metrics that serve does.
type checkInstance struct {
	t       *testing.T
	srv     *httptest.Server
	store   *sqlite.Store
	metrics *admin.Metrics
	flow    *gate.Flow
	viewer  string // a viewer token in a file
	admin   string // a clear admin token

	mu  sync.Mutex
	now time.Time
}

// failingCRM is a webhook that is down: every webhook decision fails.
type failingCRM struct{}

func (failingCRM) Authorize(ctx context.Context, g *gate.Gate, req gate.AuthRequest) (gate.AuthAnswer, error) {
	return gate.AuthAnswer{}, errors.New("crm: connection refused")
}

func newCheckInstance(t *testing.T) *checkInstance {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "vipgate.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	h, err := gate.NewHasher([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	in := &checkInstance{t: t, store: st, metrics: admin.NewMetrics(), now: time.Now().UTC().Truncate(time.Second)}
	clock := func() time.Time {
		in.mu.Lock()
		defer in.mu.Unlock()
		return in.now
	}
	eng := gate.NewEngine(gate.EngineConfig{Store: st, Hasher: h, Authorizer: failingCRM{}, Region: "DE"})
	in.flow = gate.NewFlow(eng, gate.FlowConfig{Log: st, Counters: st, Observer: in.metrics, Now: clock})
	in.srv = httptest.NewServer(admin.NewServer(admin.Deps{Store: st, Engine: eng, Hasher: h, Metrics: in.metrics, Region: "DE", Now: clock}))
	t.Cleanup(in.srv.Close)
	for _, role := range []gate.Role{gate.RoleViewer, gate.RoleAdmin} {
		clear, tok, err := admin.NewToken(role, "check test")
		if err != nil {
			t.Fatal(err)
		}
		tok.CreatedAt = in.now
		if err := st.CreateToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
		if role == gate.RoleAdmin {
			in.admin = clear
			continue
		}
		in.viewer = filepath.Join(t.TempDir(), "token")
		if err := os.WriteFile(in.viewer, []byte(clear+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// Two gates written through the API: a static PIN and a webhook
	// whose CRM is down.
	base := func(id, number string) map[string]any {
		return map[string]any{"id": id, "name": id, "enabled": true,
			"match":      map[string]any{"numbers": []string{number}},
			"activation": map[string]any{"mode": "always"},
			"dialogue":   map[string]any{"max_retries": 3, "min_digits": 4, "max_digits": 8},
			"routes":     map[string]any{"forward_context": "from-internal"},
			"failure":    map[string]any{"action": "reject"},
			"lockout":    map[string]any{"max_failures": 1, "window": "1h", "duration": "1h"}}
	}
	static := base("hotline", "+4930123456")
	static["identification"] = map[string]any{"mode": "static", "static_pin": "8642"}
	crm := base("crm", "+4930999000")
	crm["identification"] = map[string]any{"mode": "webhook", "webhook": map[string]any{"url": "https://crm.example/check?c=###CALLER_NUMBER###"}}
	for _, g := range []map[string]any{static, crm} {
		b, _ := json.Marshal(g)
		req, _ := http.NewRequest("POST", in.srv.URL+"/api/v1/gates", bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+in.admin)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusCreated {
			t.Fatalf("create gate %s: %s", g["id"], res.Status)
		}
	}
	in.metrics.SourceState("ari", "pbx1", true)
	in.metrics.SourceState("agi", "127.0.0.1:4573", true)
	return in
}

func (in *checkInstance) advance(d time.Duration) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.now = in.now.Add(d)
}

// call runs one call from caller to called with the digits the caller
// types and returns its outcome.
func (in *checkInstance) call(caller, called string, pins ...string) gate.Outcome {
	in.t.Helper()
	var steps []gatetest.Step
	for _, p := range pins {
		steps = append(steps, gatetest.Step{Digits: p, Terminated: true})
	}
	c := &gatetest.Call{CallInfo: gate.CallInfo{ID: "c", Source: "agi", Caller: caller, Called: called}, Steps: steps}
	return in.flow.Run(context.Background(), c).Outcome
}

// check runs "vipgate check" against the instance.
func (in *checkInstance) check(args ...string) (string, int) {
	in.t.Helper()
	c := newCLI(in.t)
	out, errOut, err := c.run(append([]string{"check", "--url", in.srv.URL, "--token-file", in.viewer}, args...)...)
	code := 0
	if err != nil {
		code = exitCode(err)
		var pe pluginExit
		if !errors.As(err, &pe) {
			in.t.Errorf("check returned %v, not a plugin state", err)
		}
	}
	// Only a command-line mistake adds the flags' usage on stderr.
	if errOut != "" && code != 3 {
		in.t.Errorf("check wrote to stderr: %s", errOut)
	}
	if n := strings.Count(out, "\n"); n != 1 || !strings.HasPrefix(out, "VIPGATE ") {
		in.t.Errorf("check printed %q, want one VIPGATE line", out)
	}
	return strings.TrimSpace(out), code
}

// perf returns the performance data of a plugin line by label.
func perf(t *testing.T, line string) map[string]string {
	t.Helper()
	_, data, ok := strings.Cut(line, " | ")
	if !ok {
		t.Fatalf("no performance data in %q", line)
	}
	out := map[string]string{}
	for _, item := range strings.Fields(data) {
		k, v, ok := strings.Cut(item, "=")
		if !ok {
			t.Fatalf("bad performance item %q", item)
		}
		out[k] = v
	}
	return out
}

// TestCheckExitCodes runs "vipgate check" against a live instance through
// each state it can report.
func TestCheckExitCodes(t *testing.T) {
	in := newCheckInstance(t)

	// A fresh instance with both sources connected and no call yet.
	line, code := in.check()
	if code != 0 || !strings.HasPrefix(line, "VIPGATE OK - ") {
		t.Fatalf("fresh instance: %d %q, want OK", code, line)
	}
	p := perf(t, line)
	for k, want := range map[string]string{"calls": "0;;;0", "failed": "0;0;;0", "store": "1;;;0;1", "sources_up": "2;;;0", "sources_down": "0;;;0"} {
		if p[k] != want {
			t.Errorf("fresh perf %s=%q, want %q (line %q)", k, p[k], want, line)
		}
	}

	// Good calls: still OK, and counted.
	if o := in.call("+4917611111111", "+4930123456", "8642"); o != gate.OutcomePINOK {
		t.Fatalf("good call: %s", o)
	}
	if o := in.call("+4917611111111", "+4930123456", "1111", "8642"); o != gate.OutcomePINOK {
		t.Fatalf("second good call: %s", o)
	}
	in.advance(30 * time.Second)
	line, code = in.check()
	p = perf(t, line)
	if code != 0 || p["calls"] != "2;;;0" || p["calls_total"] != "2c;;;0" || p["pin_failures_total"] != "1c;;;0" || p["last_decision_age"] != "30s;;;0" {
		t.Errorf("after good calls: %d %q", code, line)
	}

	// The webhook is down: one failed decision is a WARNING by default,
	// three are CRITICAL with --critical-failed 2.
	for range 3 {
		if o := in.call("+4917622222222", "+4930999000"); o != gate.OutcomeFailed {
			t.Fatalf("webhook call: %s, want failed", o)
		}
	}
	line, code = in.check()
	if code != 1 || !strings.Contains(line, "3 failed decisions in 15m0s") {
		t.Errorf("failed decisions: %d %q, want WARNING", code, line)
	}
	line, code = in.check("--critical-failed", "2")
	if code != 2 || perf(t, line)["failed"] != "3;0;2;0" {
		t.Errorf("failed decisions over --critical-failed: %d %q, want CRITICAL", code, line)
	}
	if _, code = in.check("--warning-failed", "5"); code != 0 {
		t.Errorf("--warning-failed 5 with 3 failures: %d, want OK", code)
	}
	// Outside the window the failures no longer count.
	in.advance(20 * time.Minute)
	if line, code = in.check(); code != 0 {
		t.Errorf("failures older than the window: %d %q, want OK", code, line)
	}
	if line, code = in.check("--window", "1h"); code != 1 {
		t.Errorf("failures inside --window 1h: %d %q, want WARNING", code, line)
	}

	// The last decision is 20m old.
	if line, code = in.check("--warning-age", "10m"); code != 1 || !strings.Contains(line, "last decision 20m") {
		t.Errorf("--warning-age 10m: %d %q, want WARNING", code, line)
	}
	if line, code = in.check("--warning-age", "10m", "--critical-age", "15m"); code != 2 || perf(t, line)["last_decision_age"] != "1200s;600;900;0" {
		t.Errorf("--critical-age 15m: %d %q, want CRITICAL", code, line)
	}

	// A brute-forcer is locked out: --warning-lockouts 0 warns.
	in.call("+4917633333333", "+4930123456", "1111", "2222", "3333")
	if o := in.call("+4917633333333", "+4930123456"); o != gate.OutcomeLockedOut {
		t.Fatalf("brute-forcer: %s, want locked_out", o)
	}
	if line, code = in.check("--warning-lockouts", "0"); code != 1 || !strings.Contains(line, "1 lockouts in 15m0s") {
		t.Errorf("--warning-lockouts 0: %d %q, want WARNING", code, line)
	}
	if _, code = in.check("--warning-lockouts", "0", "--critical-lockouts", "@1:5"); code != 2 {
		t.Errorf("--critical-lockouts @1:5: %d, want CRITICAL", code)
	}

	// An ARI server drops: CRITICAL, or WARNING with --sources-down warning.
	in.metrics.SourceState("ari", "pbx1", false)
	if line, code = in.check(); code != 2 || !strings.Contains(line, "ari pbx1 not connected") {
		t.Errorf("ARI down: %d %q, want CRITICAL", code, line)
	}
	if _, code = in.check("--sources-down", "warning"); code != 1 {
		t.Errorf("ARI down with --sources-down warning: %d, want WARNING", code)
	}
	if _, code = in.check("--sources-down", "ignore"); code != 0 {
		t.Errorf("ARI down with --sources-down ignore: %d, want OK", code)
	}
	in.metrics.SourceState("ari", "pbx1", true)

	// Usage mistakes and a refused token are UNKNOWN.
	if line, code = in.check("--warning-failed", "ten"); code != 3 || !strings.Contains(line, "--warning-failed") {
		t.Errorf("bad range: %d %q, want UNKNOWN naming the flag", code, line)
	}
	if _, code = in.check("--no-such-flag"); code != 3 {
		t.Errorf("unknown flag: %d, want UNKNOWN", code)
	}
	bad := filepath.Join(t.TempDir(), "bad")
	if err := os.WriteFile(bad, []byte("vg_aaaaaaaaaaaa_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), 0o600); err != nil {
		t.Fatal(err)
	}
	if line, code = in.check("--token-file", bad); code != 3 || !strings.Contains(line, "401") {
		t.Errorf("unknown token: %d %q, want UNKNOWN", code, line)
	}

	// The store goes away: CRITICAL.
	if err := in.store.Close(); err != nil {
		t.Fatal(err)
	}
	if line, code = in.check(); code != 2 || !strings.Contains(line, "store ") || perf(t, line)["store"] != "0;;;0;1" {
		t.Errorf("store closed: %d %q, want CRITICAL", code, line)
	}

	// The instance stops answering: CRITICAL.
	in.srv.Close()
	if line, code = in.check(); code != 2 || !strings.Contains(line, "cannot reach") {
		t.Errorf("instance down: %d %q, want CRITICAL", code, line)
	}
}

// TestCheckNeedsToken: without a token the check is UNKNOWN and says how
// to give one.
func TestCheckNeedsToken(t *testing.T) {
	c := newCLI(t)
	out, _, err := c.run("check", "--url", "http://127.0.0.1:1")
	if exitCode(err) != 3 || !strings.Contains(out, "VIPGATE_CHECK_TOKEN") {
		t.Errorf("no token: %v %q, want UNKNOWN naming VIPGATE_CHECK_TOKEN", err, out)
	}
}

func TestParseRange(t *testing.T) {
	inf := math.Inf(1)
	tests := []struct {
		in      string
		alerts  []float64
		silent  []float64
		wantErr bool
	}{
		{in: "", silent: []float64{-1, 0, 1e9}},
		{in: "0", alerts: []float64{1, -1}, silent: []float64{0}},
		{in: "10", alerts: []float64{11, -0.5}, silent: []float64{0, 10}},
		{in: "10:", alerts: []float64{9.9}, silent: []float64{10, inf}},
		{in: "~:10", alerts: []float64{10.1}, silent: []float64{-1e9, 10}},
		{in: "10:20", alerts: []float64{9, 21}, silent: []float64{10, 20}},
		{in: "@10:20", alerts: []float64{10, 15, 20}, silent: []float64{9, 21}},
		{in: "ten", wantErr: true},
		{in: "20:10", wantErr: true},
		{in: "1:~", wantErr: true},
		{in: "~", wantErr: true},
	}
	for _, tt := range tests {
		r, err := parseRange(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("parseRange(%q): err %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		for _, v := range tt.alerts {
			if !r.alerts(v) {
				t.Errorf("%q does not alert on %v", tt.in, v)
			}
		}
		for _, v := range tt.silent {
			if r.alerts(v) {
				t.Errorf("%q alerts on %v", tt.in, v)
			}
		}
	}
}

func TestDialAddr(t *testing.T) {
	for in, want := range map[string]string{":8080": "127.0.0.1:8080", "0.0.0.0:80": "127.0.0.1:80", "[::]:8080": "[::1]:8080", "10.0.0.1:8080": "10.0.0.1:8080"} {
		if got := dialAddr(in); got != want {
			t.Errorf("dialAddr(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestCheckOverHTTPS checks an instance whose admin API is behind TLS: the
// certificate is refused without --ca-file (CRITICAL: the check cannot
// talk to it) and trusted with it.
func TestCheckOverHTTPS(t *testing.T) {
	in := newCheckInstance(t)
	tlsSrv := httptest.NewTLSServer(in.srv.Config.Handler)
	defer tlsSrv.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: tlsSrv.Certificate().Raw})
	if err := os.WriteFile(ca, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	c := newCLI(t)
	out, _, err := c.run("check", "--url", tlsSrv.URL, "--token-file", in.viewer)
	if exitCode(err) != 2 || !strings.Contains(out, "certificate") {
		t.Errorf("untrusted certificate: %v %q, want CRITICAL naming the certificate", err, out)
	}
	out, _, err = c.run("check", "--url", tlsSrv.URL, "--token-file", in.viewer, "--ca-file", ca)
	if err != nil || !strings.HasPrefix(out, "VIPGATE OK - ") {
		t.Errorf("with --ca-file: %v %q, want OK", err, out)
	}
	out, _, err = c.run("check", "--url", tlsSrv.URL, "--token-file", in.viewer, "--ca-file", in.viewer)
	if exitCode(err) != 3 || !strings.Contains(out, "--ca-file") {
		t.Errorf("--ca-file without a certificate: %v %q, want UNKNOWN", err, out)
	}
}
