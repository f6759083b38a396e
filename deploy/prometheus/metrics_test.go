package prometheus_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/vipgate/vipgate/admin"
	"github.com/vipgate/vipgate/events"
	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/gate/gatetest"
)

// registryNames returns every series name vipgate's registry exports,
// after exercising each observer so that every vector has a series
// (histograms also by their _bucket, _sum and _count names).
func registryNames(t *testing.T) map[string]bool {
	t.Helper()
	m := admin.NewMetrics()
	st := gatetest.NewStore()
	ctx := context.Background()
	g := &gate.Gate{ID: "vip", Lockout: gate.LockoutPolicy{GateMaxFailures: 3}}
	if err := st.CreateGate(ctx, g); err != nil {
		t.Fatal(err)
	}
	m.WatchGateLockouts(st, time.Now)
	m.WatchEvents(events.NewHub(events.Config{}))
	m.CallStarted("agi")
	m.CallFinished(&gate.CallRecord{GateID: "vip", Outcome: gate.OutcomeLockedOut, Attempts: 2, DecisionLatency: time.Millisecond})
	m.CallFinished(&gate.CallRecord{GateID: "vip", Outcome: gate.OutcomePINFailed, Attempts: 3, DecisionLatency: time.Millisecond})
	m.WebhookRequest("vip", time.Millisecond, "timeout")
	m.WebhookBreaker("vip", true)
	m.WebhookCache("vip", true)
	m.SourceState("ari", "pbx1", true)
	m.StoreState(true)
	m.AGIRefused("peer")
	m.CallsPruned(1)
	// An admin request with a wrong token counts an auth failure.
	h, err := gate.NewHasher([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	srv := admin.NewServer(admin.Deps{Store: st, Hasher: h, Metrics: m})
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/api/v1/gates", nil)
	req.Header.Set("Authorization", "Bearer nonsense")
	srv.ServeHTTP(rec, req)
	if rec.Code != http.StatusUnauthorized {
		t.Fatalf("wrong token: %d", rec.Code)
	}

	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, f := range fams {
		names[f.GetName()] = true
		if f.GetType().String() == "HISTOGRAM" {
			for _, s := range []string{"_bucket", "_sum", "_count"} {
				names[f.GetName()+s] = true
			}
		}
	}
	return names
}

// prometheusOwn are series Prometheus itself makes for every target.
var prometheusOwn = map[string]bool{"up": true}

var metricName = regexp.MustCompile(`\b(vipgate_[a-z0-9_]+|up)\b`)

// namesIn returns the metric names a PromQL expression uses (vipgate's
// and Prometheus's "up").
func namesIn(expr string) []string {
	return metricName.FindAllString(expr, -1)
}

type rulesFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Expr        string            `yaml:"expr"`
			For         string            `yaml:"for"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

// TestAlertRulesNameRealMetrics checks that every alert rule uses only
// metrics vipgate exports, has a severity and a summary, and that the
// rules cover a failing gate, a lockout storm, ARI down and an open
// webhook breaker.
func TestAlertRulesNameRealMetrics(t *testing.T) {
	names := registryNames(t)
	b, err := os.ReadFile("alerts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var rf rulesFile
	if err := yaml.Unmarshal(b, &rf); err != nil {
		t.Fatal(err)
	}
	var alerts []string
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			alerts = append(alerts, r.Alert)
			used := namesIn(r.Expr)
			if len(used) == 0 {
				t.Errorf("%s: expression %q names no metric", r.Alert, r.Expr)
			}
			for _, n := range used {
				if !names[n] && !prometheusOwn[n] {
					t.Errorf("%s: metric %s is not in vipgate's registry", r.Alert, n)
				}
			}
			if s := r.Labels["severity"]; s != "critical" && s != "warning" {
				t.Errorf("%s: severity %q", r.Alert, s)
			}
			if r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
				t.Errorf("%s: no summary or description", r.Alert)
			}
		}
	}
	for _, want := range []string{"VipgateGateFailing", "VipgateLockoutStorm", "VipgateARIDown", "VipgateWebhookBreakerOpen"} {
		if !slices.Contains(alerts, want) {
			t.Errorf("no alert %s (have %v)", want, alerts)
		}
	}
}

type dashboard struct {
	Title  string  `json:"title"`
	UID    string  `json:"uid"`
	Panels []panel `json:"panels"`
}

type panel struct {
	ID      int    `json:"id"`
	Type    string `json:"type"`
	Title   string `json:"title"`
	Targets []struct {
		Expr string `json:"expr"`
	} `json:"targets"`
	Panels []panel `json:"panels"`
}

// TestDashboardNamesRealMetrics checks that every query of the Grafana
// dashboard names only metrics vipgate exports, and that every metric of
// vipgate's own appears in the dashboard or the alert rules.
func TestDashboardNamesRealMetrics(t *testing.T) {
	names := registryNames(t)
	b, err := os.ReadFile(filepath.Join("..", "grafana", "vipgate.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	if d.Title == "" || d.UID == "" {
		t.Errorf("dashboard title %q uid %q", d.Title, d.UID)
	}
	used := map[string]bool{}
	ids := map[int]bool{}
	var walk func(ps []panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			if ids[p.ID] {
				t.Errorf("panel id %d is used twice", p.ID)
			}
			ids[p.ID] = true
			walk(p.Panels)
			if p.Type == "row" {
				continue
			}
			if len(p.Targets) == 0 {
				t.Errorf("panel %q has no query", p.Title)
			}
			for _, tg := range p.Targets {
				ns := namesIn(tg.Expr)
				if len(ns) == 0 {
					t.Errorf("panel %q: query %q names no metric", p.Title, tg.Expr)
				}
				for _, n := range ns {
					used[n] = true
					if !names[n] {
						t.Errorf("panel %q: metric %s is not in vipgate's registry", p.Title, n)
					}
				}
			}
		}
	}
	walk(d.Panels)
	rules, err := os.ReadFile("alerts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range namesIn(string(rules)) {
		used[n] = true
	}
	// Every vipgate series (a histogram by any of its names) is shown or
	// alerted on, except the retention counter, which is for logs.
	for n := range names {
		if !strings.HasPrefix(n, "vipgate_") || n == "vipgate_calls_pruned_total" {
			continue
		}
		base := n
		for _, s := range []string{"_bucket", "_sum", "_count"} {
			if b, ok := strings.CutSuffix(n, s); ok && names[b] {
				base = b
			}
		}
		if !used[base] && !used[base+"_bucket"] && !used[n] {
			t.Errorf("metric %s is neither in the dashboard nor in the alert rules", n)
		}
	}
}

// TestPromtool runs promtool's own checks of the rules when promtool is
// installed (CI installs it from Debian's prometheus package).
func TestPromtool(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool is not installed (Debian: apt-get install prometheus); the rules are checked by the other tests only")
	}
	for _, args := range [][]string{{"check", "rules", "alerts.yaml"}, {"test", "rules", "alerts_test.yaml"}} {
		out, err := exec.Command(promtool, args...).CombinedOutput()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}
