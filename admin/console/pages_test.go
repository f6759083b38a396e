package console_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
)

const evil = `<script>alert(1)</script>`

// Values from callers and the database render inert: a caller number,
// label, gate name or reason holding markup is escaped on every page.
func TestCallerAndDatabaseValuesAreEscaped(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	g := staticGate("g1")
	g.Name = evil
	e.putGate(t, g)
	if err := e.store.SetOverride(ctx, "g1", &gate.Override{Active: true, Reason: evil, SetAt: e.now()}); err != nil {
		t.Fatal(err)
	}
	if err := e.store.PutEntry(ctx, &gate.Entry{GateID: "g1", Pattern: "+4915100000001", Label: evil, PIN: e.hasher.Hash("2580")}); err != nil {
		t.Fatal(err)
	}
	rec := &gate.CallRecord{At: e.now().Add(-time.Minute), Source: "agi", GateID: "g1", CallerRaw: evil, Caller: evil, Called: evil, Outcome: gate.OutcomeRejected}
	if err := e.store.LogCall(ctx, rec); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.AddFailure(ctx, "g1", evil, e.now(), time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := e.store.SetLockout(ctx, &gate.Lockout{GateID: "g1", Caller: evil, Until: e.now().Add(time.Hour), At: e.now()}); err != nil {
		t.Fatal(err)
	}
	b := e.as(gate.RoleAdmin)
	_, calls := b.get("/calls")
	pages := map[string]string{"/calls": calls}
	for _, p := range []string{"/", "/gates/g1", "/gates/g1/pins", "/lockouts", "/simulate"} {
		_, pages[p] = b.get(p)
	}
	_, pages["/gates/g1/pins?q="] = b.get("/gates/g1/pins?q=" + url.QueryEscape(evil))
	_, pages["simulate post"] = b.post("/simulate", url.Values{"caller": {evil}, "called": {evil}, "at": {evil}})
	for p, body := range pages {
		if strings.Contains(body, "<script") {
			t.Errorf("%s renders markup from the data:\n%s", p, excerpt(body, "<script"))
		}
	}
	for _, p := range []string{"/", "/gates/g1", "/gates/g1/pins", "/calls", "/lockouts"} {
		if !strings.Contains(pages[p], "&lt;script&gt;") {
			t.Errorf("%s does not show the value (escaped) at all", p)
		}
	}
}

func excerpt(body, near string) string {
	i := strings.Index(body, near)
	if i < 0 {
		return ""
	}
	return body[max(0, i-200):min(len(body), i+200)]
}

// No PIN, typed digit, API token or webhook secret reaches a page.
func TestNoSecretInAnyPage(t *testing.T) {
	e := newEnv(t)
	b := e.as(gate.RoleAdmin)
	const staticPIN, entryPIN, headerSecret = "735190", "864213", "s3cr3t-header-value"
	// A gate with a static PIN and a webhook with a secret header, made
	// through the console.
	resp, body := b.post("/gates/new", url.Values{"id": {"g1"}, "name": {"G"}, "enabled": {"on"}, "match.numbers": {"+4930901820"},
		"activation.mode": {"always"}, "identification.mode": {"static"}, "identification.static_pin": {staticPIN}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("create gate: %d\n%s", resp.StatusCode, body)
	}
	g, err := e.store.GetGate(context.Background(), "g1")
	if err != nil || g.Identification.StaticPIN == nil || !e.hasher.Check(*g.Identification.StaticPIN, staticPIN) {
		t.Fatalf("the static PIN typed in the editor was not stored (hashed): %v", err)
	}
	g.Identification.Webhook = &gate.WebhookConfig{URL: "https://user:pw-in-url@hook.example/x", Headers: map[string]string{"Authorization": headerSecret}}
	// More secrets the gate editor shows only as set: a token in the
	// webhook's query, a notification rule's signing secret and, on a
	// second gate, a database DSN.
	g.Identification.Webhook.URL += "?api_token=query-secret-2718"
	g.Notify = []gate.NotifyRule{{Name: "ops", Webhook: &gate.NotifyWebhook{URL: "https://notify.example/x", Secret: "notify-secret-1732"}}}
	if err := e.store.UpdateGate(context.Background(), g); err != nil {
		t.Fatal(err)
	}
	g2 := staticGate("g2")
	g2.Identification = gate.Identification{Mode: gate.IdentDatabase, Database: &gate.DatabaseConfig{DSN: "postgres://crm:dsn-secret-1618@db.example/crm", Query: "SELECT 'pass' AS action"}}
	g2.Normalize()
	e.putGate(t, g2)
	// A failed edit that typed new secrets (a header, a DSN) shows the
	// form again without them.
	b.post("/gates/g2", url.Values{"id": {"g2"}, "full": {"1"}, "activation.mode": {"bogus"}, "identification.mode": {"database"},
		"identification.webhook.url": {"https://hook.example/y"}, "identification.webhook.headers": {"X-Api-Key: typed-header-secret-99"},
		"identification.database.query": {"SELECT 1"}, "identification.database.dsn": {"postgres://u:typed-dsn-secret-77@db/x"}})
	b.get("/gates/g2")
	resp, body = b.post("/gates/g1/pins", url.Values{"caller": {"0176 1111 2222"}, "pin": {entryPIN}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("add entry: %d\n%s", resp.StatusCode, body)
	}
	// A failed edit re-renders the form: the typed PIN must not come back.
	b.post("/gates/g1", url.Values{"id": {"g1"}, "activation.mode": {"bogus"}, "identification.static_pin": {staticPIN}})
	b.post("/gates/g1/pins", url.Values{"caller": {"not a number"}, "pin": {entryPIN}})
	b.post("/tokens", url.Values{"role": {"viewer"}})
	for _, p := range []string{"/", "/gates/g1", "/gates/g1/pins", "/calls", "/lockouts", "/prompts", "/tokens", "/gates/g1/pins/export"} {
		b.get(p)
	}
	b.post("/simulate", url.Values{"called": {"+4930901820"}, "caller": {"+4917611112222"}})
	e.mu.Lock()
	pages := append([]string(nil), e.pages...)
	e.mu.Unlock()
	secrets := []string{staticPIN, entryPIN, headerSecret, "pw-in-url", "query-secret-2718", "notify-secret-1732", "dsn-secret-1618",
		"typed-header-secret-99", "typed-dsn-secret-77"}
	for role, tok := range e.tokens {
		secrets = append(secrets, tok, string(role)+"-token-never")
	}
	for _, p := range pages {
		for _, s := range secrets {
			if strings.Contains(p, s) {
				t.Errorf("a page holds the secret %q:\n%s", s, excerpt(p, s))
			}
		}
	}
	// The one exception: the new token is shown once, on the answer that
	// created it, and in no other page.
	shown := 0
	for _, p := range pages {
		if strings.Contains(p, `id="new-token"`) {
			shown++
		}
	}
	if shown != 1 {
		t.Errorf("the new token was shown on %d pages, want 1", shown)
	}
	logs := e.logs.String()
	for _, s := range secrets {
		if strings.Contains(logs, s) {
			t.Errorf("the log holds the secret %q", s)
		}
	}
}

// The gate editor shows the domain's field-named errors at their fields
// and keeps what was typed (but never the PIN).
func TestGateEditorShowsErrorsAtTheirFields(t *testing.T) {
	e := newEnv(t)
	b := e.as(gate.RoleAdmin)
	resp, body := b.post("/gates/new", url.Values{"id": {"g1"}, "name": {"Kept name"}, "activation.mode": {"schedule"},
		"activation.schedule.time_zone": {"Mars/Olympus"}, "activation.schedule.active": {"inside"},
		"w.mon.0.from": {"08:00"}, "w.mon.0.to": {"18:00"}, "identification.mode": {"static"}, "identification.static_pin": {"12"}})
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("invalid gate: %d, want 422\n%s", resp.StatusCode, body)
	}
	for _, id := range []string{`id="err-f-tz"`, `id="err-f-pin"`} {
		if !strings.Contains(body, id) {
			t.Errorf("no error shown at %s:\n%s", id, body)
		}
	}
	tz := excerpt(body, `id="err-f-tz"`)
	if !strings.Contains(tz, "Mars/Olympus") && !strings.Contains(strings.ToLower(tz), "zone") {
		t.Errorf("the time-zone error does not name the problem: %s", tz)
	}
	if !strings.Contains(body, `value="Kept name"`) || !strings.Contains(body, `aria-invalid="true"`) {
		t.Error("the form lost what was typed or does not mark the invalid fields")
	}
	if _, err := e.store.GetGate(context.Background(), "g1"); err == nil {
		t.Error("an invalid gate was stored")
	}
	// Fixed, it is saved with its schedule and shown as stored.
	resp, body = b.post("/gates/new", url.Values{"id": {"g1"}, "name": {"Kept name"}, "enabled": {"on"}, "activation.mode": {"schedule"},
		"activation.schedule.time_zone": {"Europe/Berlin"}, "activation.schedule.active": {"outside"},
		"w.mon.0.from": {"08:00"}, "w.mon.0.to": {"18:00"}, "w.tue.0.from": {"08:00"}, "w.tue.0.to": {"18:00"}, "activation.schedule.closures": {"12-24 12:00-24:00 yearly\n2026-12-31"},
		"identification.mode": {"static"}, "identification.static_pin": {"4711"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("valid gate: %d\n%s", resp.StatusCode, body)
	}
	g, err := e.store.GetGate(context.Background(), "g1")
	if err != nil {
		t.Fatal(err)
	}
	s := g.Activation.Schedule
	if s == nil || s.TimeZone != "Europe/Berlin" || len(s.Windows) != 1 || s.Windows[0].From != "08:00" || len(s.Closures) != 2 || !s.Closures[0].Yearly {
		t.Fatalf("stored schedule: %+v", s)
	}
	_, body = b.get("/gates/g1")
	if !strings.Contains(body, `id="w.tue.0.from" name="w.tue.0.from" value="08:00"`) || !strings.Contains(body, "12-24 12:00-24:00 yearly") || !strings.Contains(body, "A static PIN is set.") {
		t.Errorf("the editor does not show the stored gate:\n%s", body)
	}
	// Saving without typing a PIN keeps it.
	resp, _ = b.post("/gates/g1", url.Values{"id": {"g1"}, "name": {"Renamed"}, "enabled": {"on"}, "activation.mode": {"always"}, "identification.mode": {"static"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("update: %d", resp.StatusCode)
	}
	g, _ = e.store.GetGate(context.Background(), "g1")
	if g.Name != "Renamed" || g.Identification.StaticPIN == nil || !e.hasher.Check(*g.Identification.StaticPIN, "4711") {
		t.Errorf("update lost the static PIN or the name: %q %v", g.Name, g.Identification.StaticPIN != nil)
	}
}

// A CSV with a bad row writes nothing and shows the row's error in a
// table; a good file is imported.
func TestCSVImportShowsRowErrorsAndWritesNothing(t *testing.T) {
	e := newEnv(t)
	e.putGate(t, staticGate("g1"))
	b := e.as(gate.RoleOperator)
	csv := "caller,pin,label\n+4915100000001,4711,ok\nnot-a-number,4712,bad\n+4915100000003,4713,ok\n"
	resp, body := b.upload("/gates/g1/pins/import", "csv", "t.csv", []byte(csv), nil)
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("bad CSV: %d\n%s", resp.StatusCode, body)
	}
	table := excerpt(body, `id="row-errors"`)
	if table == "" || !strings.Contains(body, "<td>3</td><td>caller</td>") {
		t.Errorf("the bad row (line 3, caller) is not shown in the error table:\n%s", body)
	}
	if strings.Contains(body, "4712") {
		t.Error("the error table repeats the row's PIN")
	}
	if _, n, _ := e.store.ListEntries(context.Background(), "g1", gate.EntryFilter{}); n != 0 {
		t.Errorf("a CSV with a bad row wrote %d entries", n)
	}
	resp, body = b.upload("/gates/g1/pins/import", "csv", "t.csv", []byte("caller,pin\n+4915100000001,4711\n0151 0000 0002,4712\n"), nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("good CSV: %d\n%s", resp.StatusCode, body)
	}
	if _, n, _ := e.store.ListEntries(context.Background(), "g1", gate.EntryFilter{}); n != 2 {
		t.Errorf("good CSV: %d entries, want 2", n)
	}
	_, body = b.get("/gates/g1/pins")
	if !strings.Contains(body, "Imported. 2 rows") {
		t.Errorf("no import report:\n%s", body)
	}
}

// The PIN table searches by any number format and shows what the search
// was normalised to.
func TestPinSearchShowsTheNormalisation(t *testing.T) {
	e := newEnv(t)
	e.putGate(t, staticGate("g1"))
	for _, p := range []string{"+4917611112222", "+4917699998888", "+4930123456"} {
		if err := e.store.PutEntry(context.Background(), &gate.Entry{GateID: "g1", Pattern: p, PIN: e.hasher.Hash("2580")}); err != nil {
			t.Fatal(err)
		}
	}
	b := e.as(gate.RoleViewer)
	_, body := b.get("/gates/g1/pins?q=" + url.QueryEscape("0176 1111 2222"))
	body = html.UnescapeString(body)
	if !strings.Contains(body, "<code>+4917611112222</code>") || !strings.Contains(body, "1 entries") {
		t.Errorf("search 0176 1111 2222:\n%s", body)
	}
	_, body = b.get("/gates/g1/pins?q=" + url.QueryEscape("0176*"))
	body = html.UnescapeString(body)
	if !strings.Contains(body, "<code>+49176</code>") || !strings.Contains(body, "2 entries") {
		t.Errorf("search 0176*:\n%s", body)
	}
	if strings.Contains(body, "Add an entry") {
		t.Error("a viewer sees the add form")
	}
	resp, body := b.get("/gates/g1/pins?q=" + url.QueryEscape("abc"))
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `id="err-q"`) {
		t.Errorf("bad search: %d, want 422 with the error at the search field", resp.StatusCode)
	}
}

// The overview shows each gate's state and why, the day's calls by
// outcome, lockouts and the connections.
func TestOverview(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.putGate(t, staticGate("always"))
	off := staticGate("forced")
	off.Match.Numbers = []string{"+4930999"}
	e.putGate(t, off)
	if err := e.store.SetOverride(ctx, "forced", &gate.Override{Active: false, Until: e.now().Add(time.Hour), Reason: "maintenance", SetAt: e.now()}); err != nil {
		t.Fatal(err)
	}
	for i, o := range []gate.Outcome{gate.OutcomePINOK, gate.OutcomePINOK, gate.OutcomeRejected} {
		if err := e.store.LogCall(ctx, &gate.CallRecord{At: e.now().Add(-time.Duration(i+1) * time.Minute), Source: "agi", GateID: "always", Caller: "+49151", Outcome: o}); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.store.LogCall(ctx, &gate.CallRecord{At: e.now().Add(-25 * time.Hour), Source: "agi", GateID: "always", Outcome: gate.OutcomeRejected}); err != nil {
		t.Fatal(err)
	}
	b := e.as(gate.RoleViewer)
	_, body := b.get("/")
	for _, want := range []string{"activation mode always", "manual override: forced inactive until", "maintenance",
		`<a href="/calls?outcome=pin_ok">pin_ok</a></td><td>2</td>`, `<a href="/calls?outcome=rejected">rejected</a></td><td>1</td>`,
		"agi: <span class=\"on\">up</span>", "ari pbx1: <span class=\"off\">down</span>", "Store: <span class=\"on\">up</span>"} {
		if !strings.Contains(body, want) {
			t.Errorf("overview lacks %q", want)
		}
	}
	if strings.Contains(body, `action="/gates/always/override"`) {
		t.Error("a viewer sees the override form")
	}
}

// The language follows the browser and the switch.
// calendarEvents is a gate.CalendarEvents with one event for every
// calendar.
type calendarEvents struct{ ev gate.CalendarEvent }

func (c calendarEvents) Events(string, gate.CalendarSource) ([]gate.CalendarEvent, string, bool) {
	return []gate.CalendarEvent{c.ev}, "", true
}

// TestOverviewShowsCalendarClosures checks that the overview shows the
// state the engine gives calls: a calendar event (the calendar's last good
// copy) closes a gate that its windows would keep active, and the
// override's expiry is shown next to it.
func TestOverviewShowsCalendarClosures(t *testing.T) {
	clock := time.Now().UTC().Truncate(time.Second)
	e := newEnvOpts(t, envOpts{burst: -1, tokenTTL: -1, calendars: calendarEvents{gate.CalendarEvent{
		Name: "Company outing", Start: clock.Add(-time.Hour), End: clock.Add(24 * time.Hour)}}})
	g := staticGate("office")
	g.Activation = gate.Activation{Mode: gate.ActiveSchedule, Schedule: &gate.Schedule{TimeZone: "UTC", Active: gate.Inside,
		Windows:   []gate.Window{{Days: []string{"mon-sun"}, From: "00:00", To: "24:00"}},
		Calendars: []gate.CalendarSource{{Path: "/etc/vipgate/office.ics"}}}}
	e.putGate(t, g)
	forced := staticGate("forced")
	forced.Match.Numbers = []string{"+4930999"}
	e.putGate(t, forced)
	until := e.now().Add(90 * time.Minute)
	if err := e.store.SetOverride(context.Background(), "forced", &gate.Override{Active: false, Until: until, Reason: "drill", SetAt: e.now()}); err != nil {
		t.Fatal(err)
	}
	_, body := e.as(gate.RoleViewer).get("/")
	for _, want := range []string{`Closed by calendar event &#34;Company outing&#34;`, "Force off, until " + fmtTimeUTC(until) + " (drill)"} {
		if !strings.Contains(body, want) {
			t.Errorf("overview lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "not loaded") {
		t.Error("the overview evaluates without the engine's calendars")
	}
}

func fmtTimeUTC(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05Z") }

func TestGermanAndTheSwitch(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/login", nil)
	req.Header.Set("Accept-Language", "de-DE,de;q=0.9,en;q=0.5")
	_, body := b.do(req)
	if !strings.Contains(body, `<html lang="de">`) || !strings.Contains(body, "Anmelden") {
		t.Errorf("Accept-Language de: not German:\n%s", body)
	}
	resp, _ := b.get("/lang/en?back=/login")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
		t.Fatalf("switch: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	req, _ = http.NewRequest(http.MethodGet, e.srv.URL+"/login", nil)
	req.Header.Set("Accept-Language", "de")
	_, body = b.do(req)
	if !strings.Contains(body, `<html lang="en">`) || !strings.Contains(body, ">Log in<") {
		t.Error("the switch to English did not stick")
	}
	if resp, _ := b.get("/lang/en?back=//evil.example/"); resp.Header.Get("Location") != "/" {
		t.Errorf("the switch redirects off-site: %s", resp.Header.Get("Location"))
	}
}

// Override, simulator, call log and lockouts work end to end through the
// console.
func TestOverrideSimulatorCallsLockouts(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	g := staticGate("g1")
	g.Identification.Mode = gate.IdentTable
	e.putGate(t, g)
	b := e.as(gate.RoleOperator)
	until := e.now().Add(2 * time.Hour).UTC().Format("2006-01-02T15:04")
	if resp, body := b.post("/gates/g1/override", url.Values{"active": {"false"}, "until": {until}, "reason": {"fire drill"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("override: %d\n%s", resp.StatusCode, body)
	}
	got, _ := e.store.GetGate(ctx, "g1")
	if got.Override == nil || got.Override.Active || got.Override.Reason != "fire drill" || got.Override.Until.Format("2006-01-02T15:04") != until {
		t.Fatalf("stored override: %+v", got.Override)
	}
	_, body := b.post("/simulate", url.Values{"called": {"030 901820"}, "caller": {"0176 1111 2222"}})
	if !strings.Contains(body, `id="trace"`) || !strings.Contains(body, "manual override: forced inactive") {
		t.Errorf("simulator trace:\n%s", body)
	}
	if resp, _ := b.post("/gates/g1/override/clear", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatal("clear override")
	}
	if got, _ := e.store.GetGate(ctx, "g1"); got.Override != nil {
		t.Error("override not cleared")
	}
	rec := &gate.CallRecord{At: e.now().Add(-time.Minute), Source: "ari", GateID: "g1", CallerRaw: "0176 1111 2222", Caller: "+4917611112222", Called: "+4930901820", Outcome: gate.OutcomePINFailed}
	if err := e.store.LogCall(ctx, rec); err != nil {
		t.Fatal(err)
	}
	_, body = b.get("/calls?caller=" + url.QueryEscape("0176 1111 2222") + "&outcome=pin_failed")
	body = html.UnescapeString(body)
	if !strings.Contains(body, `href="/calls/export?caller=0176+1111+2222&outcome=pin_failed"`) {
		t.Error("the export link does not carry the filter")
	}
	if !strings.Contains(body, "1 Calls") || !strings.Contains(body, "+4917611112222") {
		t.Fatalf("call log filter:\n%s", body)
	}
	m := detailRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no detail link")
	}
	resp, body := b.get(strings.ReplaceAll(m[1], "&amp;", "&"))
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="trace"`) || !strings.Contains(body, "pin_failed") {
		t.Errorf("call detail: %d\n%s", resp.StatusCode, body)
	}
	resp, body = b.get("/calls/export?gate=g1")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") || !strings.Contains(body, "+4917611112222") {
		t.Errorf("call export: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if err := e.store.SetLockout(ctx, &gate.Lockout{GateID: "g1", Caller: "+4917611112222", Until: e.now().Add(time.Hour), At: e.now()}); err != nil {
		t.Fatal(err)
	}
	_, body = b.get("/lockouts")
	body = html.UnescapeString(body)
	if !strings.Contains(body, "+4917611112222") {
		t.Fatal("lockout not listed")
	}
	if resp, body := b.post("/lockouts/clear", url.Values{"gate": {"g1"}, "caller": {"+4917611112222"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("clear lockout: %d\n%s", resp.StatusCode, body)
	}
	if _, err := e.store.GetLockout(ctx, "g1", "+4917611112222", e.now()); err == nil {
		t.Error("lockout not cleared")
	}
}

// Admins create, list and revoke tokens with the API's store code.
func TestTokens(t *testing.T) {
	e := newEnv(t)
	b := e.as(gate.RoleAdmin)
	resp, body := b.post("/tokens", url.Values{"role": {"operator"}, "name": {"back office"}})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create token: %d\n%s", resp.StatusCode, body)
	}
	m := newTokenRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("the new token is not shown")
	}
	nb := e.browser()
	nb.login(m[1])
	ts, _ := e.store.ListTokens(context.Background())
	var id string
	for _, tk := range ts {
		if tk.Name == "back office" {
			id = tk.ID
		}
	}
	if resp, _ := b.post("/tokens/"+id+"/revoke", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
	if resp, _ := nb.get("/"); resp.StatusCode != http.StatusSeeOther {
		t.Error("the revoked token's session still works")
	}
	if r := e.api(gate.RoleAdmin, "GET", "/api/v1/gates", "", nil); r.StatusCode != http.StatusOK {
		t.Error("the admin's REST token broke")
	}
}

var (
	detailRE   = regexp.MustCompile(`href="(/calls/\d+\?at=[^"]+)"`)
	newTokenRE = regexp.MustCompile(`<code id="new-token">([^<]+)</code>`)
)

// The PIN table pages by key: each Next link starts after the last
// caller shown, and together the pages show every entry once.
func TestPinTablePagesByKey(t *testing.T) {
	e := newEnv(t)
	e.putGate(t, staticGate("g1"))
	var es []*gate.Entry
	for i := range 120 {
		es = append(es, &gate.Entry{GateID: "g1", Pattern: fmt.Sprintf("+49151%07d", i), PIN: e.hasher.Hash("2580")})
	}
	if _, err := e.store.ImportEntries(context.Background(), "g1", es, gate.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	b := e.as(gate.RoleViewer)
	seen := map[string]bool{}
	path, pages := "/gates/g1/pins", 0
	for path != "" {
		pages++
		if pages > 5 {
			t.Fatal("the Next links do not end")
		}
		_, body := b.get(path)
		body = html.UnescapeString(body)
		for _, m := range callerCellRE.FindAllStringSubmatch(body, -1) {
			if seen[m[1]] {
				t.Errorf("%s shown twice", m[1])
			}
			seen[m[1]] = true
		}
		path = ""
		if m := nextRE.FindStringSubmatch(body); m != nil {
			path = m[1]
			if !strings.Contains(path, "after=") {
				t.Errorf("the Next link is not a keyset link: %s", path)
			}
		}
	}
	if pages != 3 || len(seen) != 120 {
		t.Errorf("%d pages showed %d entries, want 3 pages and 120", pages, len(seen))
	}
}

var (
	callerCellRE = regexp.MustCompile(`<td class="mono">(\+49151\d+)</td>`)
	nextRE       = regexp.MustCompile(`<a href="([^"]+)" rel="next">`)
)

var editFieldRE = regexp.MustCompile(`<input type="(?:hidden|text)"(?: id="[^"]*")? name="([^"]+)" value="([^"]*)"`)

// editForm reads the fields of entry id's edit form on a PIN-table page.
func editForm(t *testing.T, body string, id int64) url.Values {
	t.Helper()
	start := strings.Index(body, fmt.Sprintf(`action="/gates/g1/pins/%d"`, id))
	if start < 0 {
		t.Fatalf("no edit form for entry %d:\n%s", id, body)
	}
	form := body[start : start+strings.Index(body[start:], "</form>")]
	v := url.Values{}
	for _, m := range editFieldRE.FindAllStringSubmatch(form, -1) {
		v.Set(m[1], html.UnescapeString(m[2]))
	}
	return v
}

// An entry's edit form saved unchanged keeps the entry as it was: its
// validity dates (shown in a form the API reads back), its kind, priority
// and target; a refused edit shows its problem at the edited row, not in
// the add form.
func TestPinEditKeepsTheEntry(t *testing.T) {
	e := newEnv(t)
	e.putGate(t, staticGate("g1"))
	ctx := context.Background()
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	until := time.Date(2027, 6, 30, 21, 59, 59, 0, time.UTC)
	pinEntry := &gate.Entry{GateID: "g1", Pattern: "+4915100000001", Label: "Ann", PIN: e.hasher.Hash("2580"), ValidFrom: from, ValidUntil: until}
	target, err := gate.ParseTarget("vip-queue,s,1")
	if err != nil {
		t.Fatal(err)
	}
	allow := &gate.Entry{GateID: "g1", Pattern: "+4915100000002", Label: "Bob", Kind: gate.EntryAllow, Priority: 7, Target: target}
	for _, en := range []*gate.Entry{pinEntry, allow} {
		if err := e.store.PutEntry(ctx, en); err != nil {
			t.Fatal(err)
		}
	}
	b := e.as(gate.RoleOperator)
	for _, en := range []*gate.Entry{pinEntry, allow} {
		_, body := b.get(fmt.Sprintf("/gates/g1/pins?edit=%d", en.ID))
		form := editForm(t, body, en.ID)
		resp, body := b.post(fmt.Sprintf("/gates/g1/pins/%d", en.ID), form)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("saving entry %s unchanged (%v): %d\n%s", en.Pattern, form, resp.StatusCode, body)
		}
		got, err := e.store.GetEntry(ctx, "g1", en.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.EntryKind() != en.EntryKind() || got.Priority != en.Priority || got.Target != en.Target || got.Label != en.Label ||
			!got.ValidFrom.Equal(en.ValidFrom) || !got.ValidUntil.Equal(en.ValidUntil) || string(got.PIN.Sum) != string(en.PIN.Sum) {
			t.Errorf("entry %s changed by an unchanged save:\n got %+v\nwant %+v", en.Pattern, got, en)
		}
	}

	_, body := b.get(fmt.Sprintf("/gates/g1/pins?edit=%d", pinEntry.ID))
	form := editForm(t, body, pinEntry.ID)
	form.Set("valid_from", "next tuesday")
	resp, body := b.post(fmt.Sprintf("/gates/g1/pins/%d", pinEntry.ID), form)
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("bad valid_from: %d, want 422", resp.StatusCode)
	}
	if !strings.Contains(body, `id="err-e-from"`) || !strings.Contains(body, `value="next tuesday"`) {
		t.Errorf("the edit's problem is not at its valid_from field:\n%s", body)
	}
	if strings.Contains(body, `id="n-from" name="valid_from" value="next tuesday"`) {
		t.Error("the refused edit is shown in the add form")
	}
}
