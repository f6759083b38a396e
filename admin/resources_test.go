package admin_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
)

func TestOverride(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mustStatus(t, e.admin("POST", "/api/v1/gates", staticGate("hotline", "4711")), http.StatusCreated)
	op := e.tokens[gate.RoleOperator]
	until := now.Add(48 * time.Hour).Format(time.RFC3339)
	r := e.do(op, "PUT", "/api/v1/gates/hotline/override", map[string]any{"active": false, "until": until, "reason": "holiday"})
	mustStatus(t, r, http.StatusOK)
	var g struct{ Override *gate.Override }
	r = e.do(op, "GET", "/api/v1/gates/hotline", nil)
	r.json(t, &g)
	if g.Override == nil || g.Override.Active || g.Override.Reason != "holiday" || g.Override.Until.Format(time.RFC3339) != until || !g.Override.SetAt.Equal(now) {
		t.Fatalf("override not stored: %s", r.body)
	}
	// The change applies to the next decision without a restart.
	r = e.do(op, "POST", "/api/v1/explain", map[string]any{"gate": "hotline", "caller": "+4917600000000", "called": "+4930123456"})
	mustStatus(t, r, http.StatusOK)
	var d struct {
		Verdict string
		Active  bool
	}
	r.json(t, &d)
	if d.Verdict != "pass" || d.Active {
		t.Errorf("explain with override off: %s", r.body)
	}

	tests := []struct {
		name   string
		body   any
		status int
		fields []string
	}{
		{"active missing", map[string]any{"reason": "x"}, 422, []string{"active"}},
		{"until in the past", map[string]any{"active": true, "until": now.Add(-time.Hour).Format(time.RFC3339)}, 422, []string{"until"}},
		{"reason too long", map[string]any{"active": true, "reason": strings.Repeat("r", 201)}, 422, []string{"reason"}},
		{"until not a time", map[string]any{"active": true, "until": "monday"}, 400, []string{"body"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(op, "PUT", "/api/v1/gates/hotline/override", tt.body)
			mustStatus(t, r, tt.status)
			got := r.fields(t)
			for _, f := range tt.fields {
				if !slices.Contains(got, f) {
					t.Errorf("fields %v lack %q", got, f)
				}
			}
		})
	}
	mustStatus(t, e.do(op, "DELETE", "/api/v1/gates/hotline/override", nil), http.StatusNoContent)
	r = e.do(op, "GET", "/api/v1/gates/hotline", nil)
	if strings.Contains(string(r.body), `"override"`) {
		t.Errorf("override not cleared: %s", r.body)
	}
	mustStatus(t, e.do(op, "PUT", "/api/v1/gates/nope/override", map[string]any{"active": true}), http.StatusNotFound)
}

// TestOverrideUntilChange checks an override that lasts until the
// gate's schedule next changes by itself: the API computes the end, and
// explain names it.
func TestOverrideUntilChange(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g := staticGate("hotline", "4711")
	g["activation"] = map[string]any{"mode": "schedule", "schedule": map[string]any{
		"time_zone": "Europe/Berlin", "active": "outside", "holidays": []string{"de"},
		"windows": []any{map[string]any{"days": []string{"mon-fri"}, "from": "08:00", "to": "18:00"}},
	}}
	mustStatus(t, e.admin("POST", "/api/v1/gates", g), http.StatusCreated)
	always := staticGate("always", "4711")
	always["match"] = map[string]any{"numbers": []string{"+4930999"}}
	mustStatus(t, e.admin("POST", "/api/v1/gates", always), http.StatusCreated)
	op := e.tokens[gate.RoleOperator]
	// now is Monday 11:00 in Berlin, inside office hours: forced on
	// until the schedule turns the gate on itself, at 18:00.
	r := e.do(op, "PUT", "/api/v1/gates/hotline/override", map[string]any{"active": true, "until_change": true})
	mustStatus(t, r, http.StatusOK)
	var o gate.Override
	r.json(t, &o)
	if want := time.Date(2026, 3, 2, 17, 0, 0, 0, time.UTC); !o.Until.Equal(want) || !o.UntilChange || !o.Active {
		t.Fatalf("override = %s, want active until %s (the next change)", r.body, want)
	}
	r = e.do(op, "POST", "/api/v1/explain", map[string]any{"gate": "hotline", "caller": "+4917600000000", "called": "+4930123456"})
	mustStatus(t, r, http.StatusOK)
	if !strings.Contains(string(r.body), "until 2026-03-02T18:00:00+01:00, the schedule's next change") {
		t.Errorf("explain does not name the next change: %s", r.body)
	}
	for _, tt := range []struct {
		name, gate string
		body       map[string]any
		problem    string
	}{
		{"with until", "hotline", map[string]any{"active": true, "until_change": true, "until": now.Add(time.Hour).Format(time.RFC3339)}, "cannot be combined"},
		{"always mode", "always", map[string]any{"active": false, "until_change": true}, "never changes by itself"},
	} {
		r := e.do(op, "PUT", "/api/v1/gates/"+tt.gate+"/override", tt.body)
		mustStatus(t, r, 422)
		if !slices.Contains(r.fields(t), "until_change") || !strings.Contains(string(r.body), tt.problem) {
			t.Errorf("%s: %s, want until_change: %s", tt.name, r.body, tt.problem)
		}
	}
}

func TestCalls(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	recs := []gate.CallRecord{
		{At: now.Add(-3 * time.Hour), Source: "ari", GateID: "hotline", CallerRaw: "017612345678", Caller: "+4917612345678", Called: "100", Outcome: gate.OutcomePINOK, Attempts: 1},
		{At: now.Add(-2 * time.Hour), Source: "agi", GateID: "hotline", CallerRaw: "=cmd()", Caller: "", Called: "100", Outcome: gate.OutcomeRejected},
		{At: now.Add(-1 * time.Hour), Source: "ari", GateID: "other", CallerRaw: "+4917612345678", Caller: "+4917612345678", Called: "200", Outcome: gate.OutcomePassed},
	}
	for i := range recs {
		if err := e.store.LogCall(ctx, &recs[i]); err != nil {
			t.Fatal(err)
		}
	}
	type page struct {
		Items []gate.CallRecord
		Total int
	}
	tests := []struct {
		query string
		want  []gate.Outcome // newest first
	}{
		{"", []gate.Outcome{"passed", "rejected", "pin_ok"}},
		{"gate=hotline", []gate.Outcome{"rejected", "pin_ok"}},
		{"caller=" + url.QueryEscape("0176 12345678"), []gate.Outcome{"passed", "pin_ok"}},
		{"caller=004917612345678&gate=other", []gate.Outcome{"passed"}},
		{"outcome=rejected", []gate.Outcome{"rejected"}},
		{"from=" + url.QueryEscape(now.Add(-150*time.Minute).Format(time.RFC3339)), []gate.Outcome{"passed", "rejected"}},
		{"to=" + url.QueryEscape(now.Add(-150*time.Minute).Format(time.RFC3339)), []gate.Outcome{"pin_ok"}},
		{"limit=1&offset=1", []gate.Outcome{"rejected"}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			r := e.do(e.tokens[gate.RoleViewer], "GET", "/api/v1/calls?"+tt.query, nil)
			mustStatus(t, r, http.StatusOK)
			var p page
			r.json(t, &p)
			var got []gate.Outcome
			for _, it := range p.Items {
				got = append(got, it.Outcome)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("outcomes %v, want %v", got, tt.want)
			}
		})
	}
	for _, q := range []struct{ query, field string }{
		{"outcome=maybe", "outcome"}, {"from=yesterday", "from"}, {"caller=x1", "caller"}, {"format=xml", "format"},
		{"gate=Bad!", "gate"}, {"from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z", "to"}, {"limit=0", "limit"},
	} {
		r := e.do(e.tokens[gate.RoleViewer], "GET", "/api/v1/calls?"+q.query, nil)
		mustStatus(t, r, http.StatusUnprocessableEntity)
		if f := r.fields(t); !slices.Contains(f, q.field) {
			t.Errorf("%s: fields %v lack %s", q.query, f, q.field)
		}
	}

	// The summary counts the same filter's calls by outcome.
	for _, q := range []struct {
		query string
		want  map[gate.Outcome]int
		total int
	}{
		{"", map[gate.Outcome]int{"passed": 1, "rejected": 1, "pin_ok": 1}, 3},
		{"gate=hotline", map[gate.Outcome]int{"rejected": 1, "pin_ok": 1}, 2},
		{"from=" + url.QueryEscape(now.Add(-150*time.Minute).Format(time.RFC3339)), map[gate.Outcome]int{"passed": 1, "rejected": 1}, 2},
	} {
		r := e.do(e.tokens[gate.RoleViewer], "GET", "/api/v1/calls/summary?"+q.query, nil)
		mustStatus(t, r, http.StatusOK)
		var sum struct {
			Outcomes map[gate.Outcome]int
			Total    int
		}
		r.json(t, &sum)
		if _, ok := sum.Outcomes[gate.OutcomeAbandoned]; !ok || sum.Total != q.total {
			t.Errorf("summary %q: %s, want every outcome (0 when none) and total %d", q.query, r.body, q.total)
		}
		for o, n := range sum.Outcomes {
			if n != q.want[o] {
				t.Errorf("summary %q: %s = %d, want %d", q.query, o, n, q.want[o])
			}
		}
	}
	r := e.do(e.tokens[gate.RoleViewer], "GET", "/api/v1/calls/summary?outcome=maybe", nil)
	mustStatus(t, r, http.StatusUnprocessableEntity)

	r = e.do(e.tokens[gate.RoleViewer], "GET", "/api/v1/calls?format=csv&gate=hotline", nil)
	mustStatus(t, r, http.StatusOK)
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Errorf("Content-Type %q", ct)
	}
	rows, err := csv.NewReader(bytes.NewReader(r.body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[0][0] != "id" || rows[1][12] != "rejected" || rows[2][12] != "pin_ok" {
		t.Fatalf("csv rows %q", rows)
	}
	if rows[1][5] != "'=cmd()" {
		t.Errorf("formula not defused: %q", rows[1][5])
	}
}

func TestCallsCSVPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	const n = 2345
	for i := range n {
		if err := e.store.LogCall(ctx, &gate.CallRecord{At: now.Add(time.Duration(i) * time.Second), GateID: "g", Outcome: gate.OutcomePassed, CallerRaw: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	r := e.admin("GET", "/api/v1/calls?format=csv", nil)
	mustStatus(t, r, http.StatusOK)
	rows, err := csv.NewReader(bytes.NewReader(r.body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != n+1 {
		t.Errorf("%d rows, want %d", len(rows), n+1)
	}
	seen := map[string]bool{}
	for _, row := range rows[1:] {
		seen[row[5]] = true
	}
	if len(seen) != n {
		t.Errorf("%d distinct calls, want %d", len(seen), n)
	}
}

func TestExplain(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mustStatus(t, e.admin("POST", "/api/v1/gates", staticGate("hotline", "4711")), http.StatusCreated)
	mustStatus(t, e.admin("POST", "/api/v1/gates", tableGate("vip")), http.StatusCreated)
	r := e.admin("POST", "/api/v1/gates/vip/pins", map[string]any{"caller": "0176 12345678", "pin": "97531"})
	mustStatus(t, r, http.StatusCreated)
	var ent entryJSON
	r.json(t, &ent)

	type out struct {
		Verdict string
		Gate    string
		Active  bool
		Caller  string
		Entry   *entryJSON
		AskPIN  *struct {
			Expects    string
			MaxRetries int `json:"max_retries"`
		} `json:"ask_pin"`
		Trace []gate.TraceStep
	}
	tests := []struct {
		name    string
		in      map[string]any
		verdict string
		expects string
	}{
		{"static gate by name", map[string]any{"gate": "hotline", "caller": "+4915100000000", "called": "999"}, "ask_pin", "the gate's static PIN"},
		{"static gate by number", map[string]any{"caller": "+4915100000000", "called": "+4930123456"}, "ask_pin", "the gate's static PIN"},
		{"table gate, known caller", map[string]any{"gate": "vip", "caller": "004917612345678", "called": "1"}, "ask_pin", fmt.Sprintf("the PIN of caller entry #%d", ent.ID)},
		{"table gate, unknown caller", map[string]any{"gate": "vip", "caller": "+4915100000000", "called": "1"}, "reject", ""},
		{"no gate", map[string]any{"caller": "+4915100000000", "called": "+4940000000"}, "pass", ""},
		{"at a given time", map[string]any{"gate": "hotline", "caller": "1", "called": "2", "at": "2026-12-24T18:00:00+01:00"}, "ask_pin", "the gate's static PIN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(e.tokens[gate.RoleViewer], "POST", "/api/v1/explain", tt.in)
			mustStatus(t, r, http.StatusOK)
			var o out
			r.json(t, &o)
			if o.Verdict != tt.verdict || len(o.Trace) == 0 {
				t.Errorf("verdict %s, want %s: %s", o.Verdict, tt.verdict, r.body)
			}
			if tt.expects != "" && (o.AskPIN == nil || o.AskPIN.Expects != tt.expects || o.AskPIN.MaxRetries != 3) {
				t.Errorf("ask_pin %s, want expects %q", r.body, tt.expects)
			}
			for _, pin := range []string{"4711", "97531", "static_pin_hash", "v1$"} {
				if strings.Contains(string(r.body), pin) {
					t.Errorf("explain reveals %q: %s", pin, r.body)
				}
			}
		})
	}
	for _, bad := range []struct {
		in    any
		field string
	}{
		{map[string]any{"caller": "1"}, "called"},
		{map[string]any{"gate": "NO!", "caller": "1", "called": "2"}, "gate"},
		{map[string]any{"caller": "1", "called": "2", "pin": "4711"}, "pin"},
	} {
		r := e.do(e.tokens[gate.RoleViewer], "POST", "/api/v1/explain", bad.in)
		if r.status != 400 && r.status != 422 {
			t.Errorf("%v: status %d", bad.in, r.status)
		}
		if f := r.fields(t); !slices.Contains(f, bad.field) {
			t.Errorf("%v: fields %v lack %s", bad.in, f, bad.field)
		}
	}
}

func TestLockouts(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	mustStatus(t, e.admin("POST", "/api/v1/gates", tableGate("vip")), http.StatusCreated)
	mustStatus(t, e.admin("POST", "/api/v1/gates", tableGate("other")), http.StatusCreated)
	for _, l := range []*gate.Lockout{
		{GateID: "vip", Caller: "+4917612345678", Until: now.Add(time.Hour), Failures: 5, At: now},
		{GateID: "vip", Caller: gate.AnyCaller, Until: now.Add(time.Hour), Failures: 50, At: now},
		{GateID: "vip", Caller: gate.AnonymousCaller, Until: now.Add(time.Hour), Failures: 5, At: now},
		{GateID: "other", Caller: "+4917612345678", Until: now.Add(time.Hour), Failures: 5, At: now},
		{GateID: "other", Caller: "+4917600000000", Until: now.Add(-time.Minute), Failures: 5, At: now.Add(-time.Hour)},
	} {
		if err := e.store.SetLockout(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
	list := func(q string) []gate.Lockout {
		r := e.do(e.tokens[gate.RoleViewer], "GET", "/api/v1/lockouts"+q, nil)
		mustStatus(t, r, http.StatusOK)
		var p struct{ Items []gate.Lockout }
		r.json(t, &p)
		return p.Items
	}
	if got := list(""); len(got) != 4 {
		t.Errorf("all lockouts: %+v", got)
	}
	if got := list("?gate=vip"); len(got) != 3 {
		t.Errorf("vip lockouts: %+v", got)
	}
	op := e.tokens[gate.RoleOperator]
	// Any number format lifts the lockout.
	mustStatus(t, e.do(op, "DELETE", "/api/v1/gates/vip/lockouts/0176%2012345678", nil), http.StatusNoContent)
	mustStatus(t, e.do(op, "DELETE", "/api/v1/gates/vip/lockouts/0176%2012345678", nil), http.StatusNotFound)
	mustStatus(t, e.do(op, "DELETE", "/api/v1/gates/vip/lockouts/*", nil), http.StatusNoContent)
	// The shared lockout of callers without a number.
	mustStatus(t, e.do(op, "DELETE", "/api/v1/gates/vip/lockouts/anonymous", nil), http.StatusNoContent)
	if got := list("?gate=vip"); len(got) != 0 {
		t.Errorf("vip lockouts after clearing: %+v", got)
	}
	r := e.do(op, "DELETE", "/api/v1/gates/vip/lockouts/abc", nil)
	mustStatus(t, r, http.StatusUnprocessableEntity)
	if f := r.fields(t); !slices.Contains(f, "caller") {
		t.Errorf("fields %v", f)
	}
	r = e.do(op, "GET", "/api/v1/lockouts?gate=B!", nil)
	mustStatus(t, r, http.StatusUnprocessableEntity)
}

func TestHealth(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mustStatus(t, e.do("", "GET", "/healthz", nil), http.StatusOK)
	mustStatus(t, e.do("", "GET", "/readyz", nil), http.StatusOK)
	r := e.do("", "GET", "/metrics", nil)
	mustStatus(t, r, http.StatusOK)
	if !strings.Contains(string(r.body), "vipgate_calls_in_flight") {
		t.Errorf("metrics lack vipgate metrics")
	}
	r = e.do("", "GET", "/openapi.json", nil)
	mustStatus(t, r, http.StatusOK)
	r = e.admin("GET", "/api/v1/nothing", nil)
	mustStatus(t, r, http.StatusNotFound)
	r.fields(t)
}

// pinAuthorizer answers every call with askForPin and a fixed PIN, like a
// webhook that hands out time-limited PINs.
type pinAuthorizer struct{ pin string }

func (a pinAuthorizer) Authorize(ctx context.Context, g *gate.Gate, req gate.AuthRequest) (gate.AuthAnswer, error) {
	return gate.AuthAnswer{Kind: gate.AnswerAskPIN, PIN: gate.ClearPIN(a.pin), MaxRetries: 2, Latency: 3 * time.Millisecond}, nil
}

func TestExplainWebhookPIN(t *testing.T) {
	t.Parallel()
	const pin = "55443322"
	e := newEnvWith(t, pinAuthorizer{pin: pin})
	g := staticGate("crm", "")
	g["identification"] = map[string]any{"mode": "webhook", "webhook": map[string]any{"url": "https://crm.example/check?c=###CALLER_NUMBER###"}}
	mustStatus(t, e.admin("POST", "/api/v1/gates", g), http.StatusCreated)
	r := e.do(e.tokens[gate.RoleViewer], "POST", "/api/v1/explain", map[string]any{"gate": "crm", "caller": "+4917612345678", "called": "1"})
	mustStatus(t, r, http.StatusOK)
	var out struct {
		Verdict string
		AskPIN  struct {
			Expects    string
			MaxRetries int `json:"max_retries"`
		} `json:"ask_pin"`
		Webhook string `json:"webhook_latency"`
	}
	r.json(t, &out)
	if out.Verdict != "ask_pin" || out.AskPIN.Expects != "the PIN the webhook answered with" || out.AskPIN.MaxRetries != 2 || out.Webhook != "3ms" {
		t.Errorf("explain: %s", r.body)
	}
	if strings.Contains(string(r.body), pin) || strings.Contains(e.logs.String(), pin) {
		t.Errorf("the webhook's PIN leaked: %s", r.body)
	}
}

func TestMethodNotAllowedAndEntryUpdate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.admin("PATCH", "/api/v1/gates", map[string]any{})
	mustStatus(t, r, http.StatusMethodNotAllowed)
	r.fields(t)

	mustStatus(t, e.admin("POST", "/api/v1/gates", tableGate("vip")), http.StatusCreated)
	mustStatus(t, e.admin("POST", "/api/v1/gates/vip/pins", map[string]any{"caller": "+4917611111111", "pin": "8642"}), http.StatusCreated)
	r = e.admin("POST", "/api/v1/gates/vip/pins", map[string]any{"caller": "+4917622222222", "pin": "8642"})
	mustStatus(t, r, http.StatusCreated)
	var ent entryJSON
	r.json(t, &ent)
	path := fmt.Sprintf("/api/v1/gates/vip/pins/%d", ent.ID)
	for _, tt := range []struct {
		body   any
		status int
		field  string
	}{
		{map[string]any{"caller": "+4917622222222", "pin": "12"}, 422, "pin"},
		{map[string]any{"caller": "", "label": "x"}, 422, "caller"},
		{map[string]any{"caller": "+4917611111111"}, 409, ""},
		{map[string]any{"caller": "+4917622222222", "label": strings.Repeat("é", 201)}, 422, "label"},
	} {
		r := e.admin("PUT", path, tt.body)
		mustStatus(t, r, tt.status)
		if f := r.fields(t); tt.field != "" && !slices.Contains(f, tt.field) {
			t.Errorf("%v: fields %v lack %s", tt.body, f, tt.field)
		}
	}
	// A PIN change through PUT reaches the store.
	mustStatus(t, e.admin("PUT", path, map[string]any{"caller": "0176 22222222", "pin": "97531"}), http.StatusOK)
	se, err := e.store.GetEntry(context.Background(), "vip", ent.ID)
	if err != nil || !e.hasher.Check(se.PIN, "97531") {
		t.Errorf("PIN not changed: %v", err)
	}
	mustStatus(t, e.admin("PUT", "/api/v1/gates/vip/pins/99999", map[string]any{"caller": "+4917633333333"}), http.StatusNotFound)
	mustStatus(t, e.admin("DELETE", "/api/v1/gates/vip/pins/99999", nil), http.StatusNotFound)
}
