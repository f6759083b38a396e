package admin_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestPinsInternalNumbers checks that the API stores, lists and searches
// internal extensions as dialled, apart from E.164 numbers with the same
// digits, by the gate's number rules, and that explain names the rule.
func TestPinsInternalNumbers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g := tableGate("vip")
	g["match"] = map[string]any{"numbers": []string{"1004"}}
	mustStatus(t, e.admin("POST", "/api/v1/gates", g), http.StatusCreated)
	var out struct {
		Numbers struct {
			InternalMaxLength *int `json:"internal_max_length"`
		} `json:"numbers"`
	}
	e.admin("GET", "/api/v1/gates/vip", nil).json(t, &out)
	if out.Numbers.InternalMaxLength == nil || *out.Numbers.InternalMaxLength != 6 {
		t.Errorf("gate shows internal_max_length %v, want the default 6", out.Numbers.InternalMaxLength)
	}
	op := e.tokens["operator"]
	for _, in := range []struct{ caller, want string }{
		{"201", "201"},
		{"0201", "0201"},
		{"5550805", "5550805"},
		{"+49201", "+49201"},
		{"0176 12345678", "+4917612345678"},
		{"2*", "2*"},
	} {
		r := e.do(op, "POST", "/api/v1/gates/vip/pins", map[string]any{"caller": in.caller, "pin": "8642"})
		mustStatus(t, r, http.StatusCreated)
		var ent entryJSON
		r.json(t, &ent)
		if ent.Caller != in.want {
			t.Errorf("create %q: stored %q, want %q", in.caller, ent.Caller, in.want)
		}
	}
	mustStatus(t, e.do(op, "POST", "/api/v1/gates/vip/pins", map[string]any{"caller": "20 1", "pin": "1357"}), http.StatusConflict)
	for q, want := range map[string]int{"201": 1, "+49201": 1, "0049201": 1, "2*": 2, "0201": 1} {
		var p entryPage
		r := e.do(op, "GET", "/api/v1/gates/vip/pins?caller="+url.QueryEscape(q), nil)
		mustStatus(t, r, http.StatusOK)
		r.json(t, &p)
		if p.Total != want {
			t.Errorf("search %q: %d entries, want %d: %s", q, p.Total, want, r.body)
		}
	}

	var x struct {
		Caller     string `json:"caller"`
		CallerRule string `json:"caller_rule"`
		Called     string `json:"called"`
		CalledRule string `json:"called_rule"`
		Entry      *struct {
			Caller string `json:"caller"`
		} `json:"entry"`
	}
	r := e.do(e.tokens["viewer"], "POST", "/api/v1/explain", map[string]any{"caller": "201", "called": "1004"})
	mustStatus(t, r, http.StatusOK)
	r.json(t, &x)
	if x.Caller != "201" || x.CallerRule != "internal (≤ 6 digits, kept as dialled)" || x.Called != "1004" ||
		!strings.HasPrefix(x.CalledRule, "internal") || x.Entry == nil || x.Entry.Caller != "201" {
		t.Errorf("explain internal caller: %s", r.body)
	}
	r = e.do(e.tokens["viewer"], "POST", "/api/v1/explain", map[string]any{"caller": "+49201", "called": "1004"})
	mustStatus(t, r, http.StatusOK)
	x.Entry = nil
	r.json(t, &x)
	if x.Caller != "+49201" || x.CallerRule != "E.164 (international)" || x.Entry == nil || x.Entry.Caller != "+49201" {
		t.Errorf("explain outside caller +49201 must match only the entry +49201: %s", r.body)
	}

	// The gate's own rules: with internal_max_length 3, 1004 is no
	// longer internal, 201 still is.
	g["numbers"] = map[string]any{"internal_max_length": 3}
	mustStatus(t, e.admin("PUT", "/api/v1/gates/vip", g), http.StatusOK)
	r = e.do(e.tokens["viewer"], "POST", "/api/v1/explain", map[string]any{"caller": "1004", "called": "1004"})
	mustStatus(t, r, http.StatusOK)
	r.json(t, &x)
	if strings.HasPrefix(x.CallerRule, "internal") {
		t.Errorf("with internal_max_length 3, 1004 is internal: %s", r.body)
	}
}
