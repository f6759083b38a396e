package console_test

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
)

// fullGate is a gate with every setting the editor shows set to a value
// that is not its default, and the ones it does not show (a PIN set, a
// phone override, notification rules) set too.
func fullGate(t *testing.T, e *env) *gate.Gate {
	t.Helper()
	const doc = `{"id": "full", "name": "Full", "enabled": true,
	 "match": {"numbers": ["+4930901820", "0800*"], "names": ["hotline"]},
	 "numbers": {"internal_max_length": 0, "internal_pattern": "9[0-9]{7}"},
	 "language": "de", "retention": "30d",
	 "activation": {"mode": "schedule", "schedule": {"time_zone": "Europe/Berlin", "active": "outside",
	   "windows": [{"days": ["mon-fri"], "from": "08:00", "to": "18:00"}],
	   "closures": [{"name": "Christmas Eve", "date": "12-24", "yearly": true, "from": "12:00", "to": "24:00", "announce": "custom/xmas", "route": "hangup:congestion"},
	                {"name": "Summer", "date": "2026-07-01", "until": "2026-07-14", "route": "100"}],
	   "holidays": ["de-by"], "on_holiday": {"announce": "custom/holiday", "route": "staff,200,1"},
	   "calendars": [{"url": "https://cal.example/team.ics", "refresh": "30m", "announce": "custom/cal"}, {"path": "/etc/vipgate/closed.ics", "route": "hangup:busy"}]}},
	 "identification": {"mode": "webhook", "unknown_caller": "static", "withheld": "reject", "region": "AT",
	   "webhook": {"url": "https://hook.example/check?caller=###CALLER_NUMBER###&token=query-tok-3141", "method": "POST",
	     "headers": {"Authorization": "Bearer header-sec-1414", "X-Env": "prod"}, "body": "{\"c\": \"###CALLER_NUMBER###\"}",
	     "timeout": "4s", "max_concurrent": 8, "ca_file": "/etc/ssl/ca.pem", "secret_file": "/etc/vipgate/hook.key",
	     "cache_ttl": "1m0s", "breaker_failures": 3, "breaker_cooldown": "45s"}},
	 "dialogue": {"max_retries": 4, "min_digits": 5, "max_digits": 8, "first_digit_timeout": "12s", "inter_digit_timeout": "4s", "reject_weak": true},
	 "prompts": {"ask-pin": "custom/ask", "welcome": "custom/welcome"},
	 "routes": {"forward_context": "staff", "on_correct": "200", "on_incorrect": "hangup:rejected", "reject": {"cause": "congestion", "announce": true}, "connecting": true},
	 "failure": {"action": "forward", "target": "300"},
	 "lockout": {"max_failures": 3, "window": "10m0s", "duration": "1h0m0s", "gate_max_failures": 20, "max_parallel": 1, "gate_max_parallel": 10, "gate_action": "slow", "slow_delay": "20s"},
	 "notify": [{"name": "ops", "events": ["locked_out"], "webhook": {"url": "https://notify.example/x", "secret": "notify-sec-1732"}}]}`
	g := &gate.Gate{}
	if err := json.Unmarshal([]byte(doc), g); err != nil {
		t.Fatal(err)
	}
	pin := e.hasher.Hash("735190")
	g.Identification.StaticPIN = &pin
	g.Identification.PINSet = []gate.SetPIN{{Label: "cleaner", PIN: e.hasher.Hash("246813"), ValidUntil: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)}}
	ph := e.hasher.Hash("8080")
	g.PhoneOverride = &gate.PhoneOverride{PIN: &ph, Callers: gate.PhoneCallersAny}
	g.Normalize()
	if err := g.Validate(); err != nil {
		t.Fatalf("the test gate is invalid: %+v", err)
	}
	return g
}

// A gate with every setting set, loaded into the editor and saved
// unchanged, stays identical; its secrets never reach the page.
func TestGateEditorRoundTripKeepsEverySetting(t *testing.T) {
	e := newEnv(t)
	want := fullGate(t, e)
	e.putGate(t, want)
	before, err := e.store.GetGate(context.Background(), "full")
	if err != nil {
		t.Fatal(err)
	}
	b := e.as(gate.RoleAdmin)
	_, body := b.get("/gates/full")
	for _, s := range []string{"header-sec-1414", "query-tok-3141", "notify-sec-1732", "735190"} {
		if strings.Contains(body, s) {
			t.Errorf("the editor holds the secret %q:\n%s", s, excerpt(body, s))
		}
	}
	for _, s := range []string{"custom/xmas", "Christmas Eve", "https://cal.example/team.ics | refresh: 30m | announce: custom/cal",
		"custom/holiday", `value="12s"`, `value="slow" selected`, `value="custom/ask"`, "Secret headers set: Authorization", "X-Env: prod"} {
		if !strings.Contains(body, s) {
			t.Errorf("the editor does not show %q", s)
		}
	}
	if resp, out := b.post("/gates/full", formOf(t, body)); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("unchanged form: %d\n%s", resp.StatusCode, out)
	}
	after, err := e.store.GetGate(context.Background(), "full")
	if err != nil {
		t.Fatal(err)
	}
	before.UpdatedAt, after.UpdatedAt = time.Time{}, time.Time{}
	if !reflect.DeepEqual(before, after) {
		bj, _ := json.MarshalIndent(before, "", " ")
		aj, _ := json.MarshalIndent(after, "", " ")
		t.Errorf("the gate changed on an unchanged save:\nbefore %s\nafter  %s", bj, aj)
	}
}

// Changing the new settings in the form saves them; a secret header
// left empty is kept, one typed is replaced.
func TestGateEditorSavesTheNewSettings(t *testing.T) {
	e := newEnv(t)
	e.putGate(t, fullGate(t, e))
	b := e.as(gate.RoleAdmin)
	_, body := b.get("/gates/full")
	f := formOf(t, body)
	f.Set("lockout.gate_action", "refuse")
	f.Set("lockout.max_failures", "5")
	f.Set("dialogue.inter_digit_timeout", "3s")
	f.Del("dialogue.reject_weak")
	f.Set("identification.webhook.headers", "Authorization:\nX-Api-Key: new-key-9\nX-Env: test")
	f.Set("prompts.ask-pin", "")
	f.Set("prompts.rejected", "custom/bye")
	f.Set("activation.schedule.closures", "12-25 yearly | name: Christmas | announce: custom/xmas2")
	f.Set("activation.schedule.calendars", "")
	f.Set("failure.target", "301")
	if resp, out := b.post("/gates/full", f); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d\n%s", resp.StatusCode, out)
	}
	g, _ := e.store.GetGate(context.Background(), "full")
	l, d, wh, s := g.Lockout, g.Dialogue, g.Identification.Webhook, g.Activation.Schedule
	if l.GateAction != gate.GateRefuse || l.MaxFailures != 5 || d.InterDigitTimeout.D() != 3*time.Second || d.RejectWeak {
		t.Errorf("lockout %+v dialogue %+v", l, d)
	}
	if wh.Headers["Authorization"] != "Bearer header-sec-1414" || wh.Headers["X-Api-Key"] != "new-key-9" || wh.Headers["X-Env"] != "test" || len(wh.Headers) != 3 {
		t.Errorf("headers %v", wh.Headers)
	}
	if _, ok := g.Prompts[gate.PromptAskPIN]; ok || g.Prompts[gate.PromptRejected] != "custom/bye" || g.Prompts[gate.PromptWelcome] != "custom/welcome" {
		t.Errorf("prompts %v", g.Prompts)
	}
	if len(s.Closures) != 1 || s.Closures[0].Name != "Christmas" || s.Closures[0].Announce != "custom/xmas2" || !s.Closures[0].Yearly || len(s.Calendars) != 0 {
		t.Errorf("closures %+v calendars %+v", s.Closures, s.Calendars)
	}
	if g.Failure.Target.String() != "301" {
		t.Errorf("failure target %v", g.Failure.Target)
	}
}

// The API's errors of the new settings are shown at their fields.
func TestGateEditorNewFieldErrorsAtTheirFields(t *testing.T) {
	e := newEnv(t)
	e.putGate(t, fullGate(t, e))
	b := e.as(gate.RoleAdmin)
	_, body := b.get("/gates/full")
	f := formOf(t, body)
	f.Set("lockout.gate_action", "bogus")
	f.Set("dialogue.first_digit_timeout", "2h")
	f.Set("identification.webhook.timeout", "1m")
	f.Set("activation.schedule.calendars", "ftp://cal.example/x.ics")
	f.Set("prompts.ask-pin", "../etc/passwd")
	f.Set("failure.target", "hangup:nonsense")
	f.Set("lockout.max_parallel", "two")
	f.Set("lockout.window", "ten minutes")
	f.Set("activation.schedule.closures", "12-24 yearly | route: hangup:nonsense")
	resp, out := b.post("/gates/full", f)
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("invalid settings: %d, want 422\n%s", resp.StatusCode, out)
	}
	// lockout.max_parallel is no number and the failure target no
	// target: the form says so at their fields without asking the API
	// (which could name only the whole document for a target it cannot
	// read).
	for _, id := range []string{"f-lpar", "f-failtarget", "f-lwindow", "f-closures"} {
		if !errorAt(out, id) {
			t.Errorf("no error at %s:\n%s", id, excerpt(out, `id="`+id+`"`))
		}
	}
	f.Set("lockout.max_parallel", "1")
	f.Set("failure.target", "301")
	f.Set("lockout.window", "10m")
	f.Set("activation.schedule.closures", "12-24 yearly | route: hangup:busy")
	resp, out = b.post("/gates/full", f)
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("invalid settings: %d, want 422\n%s", resp.StatusCode, out)
	}
	for _, id := range []string{"f-lgact", "f-firstdigit", "f-whtimeout", "f-calendars", "f-prompt-ask-pin"} {
		if !errorAt(out, id) {
			t.Errorf("no error shown at %s:\n%s", id, excerpt(out, `id="`+id+`"`))
		}
	}
	if strings.Contains(out, `<p class="err">`+"lockout") {
		t.Errorf("a field error was shown at the top of the form")
	}
	g, _ := e.store.GetGate(context.Background(), "full")
	if g.Lockout.GateAction != gate.GateSlow {
		t.Error("an invalid gate was stored")
	}
}

// errorAt reports whether the page shows an error at the input (or
// select, textarea) with the id: the error's element, and the input
// marked invalid and described by it.
func errorAt(page, id string) bool {
	m := regexp.MustCompile(`<(?:input|select|textarea)[^>]* id="` + regexp.QuoteMeta(id) + `"[^>]*>`).FindString(page)
	d := regexp.MustCompile(`aria-describedby="([^"]*)"`).FindStringSubmatch(m)
	return strings.Contains(page, `id="err-`+id+`"`) && strings.Contains(m, `aria-invalid="true"`) &&
		d != nil && slices.Contains(strings.Fields(d[1]), "err-"+id)
}
