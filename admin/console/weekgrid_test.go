package console_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
)

var (
	inputRE    = regexp.MustCompile(`<input [^>]*>`)
	attrRE     = regexp.MustCompile(`(\w[\w-]*)(?:="([^"]*)")?`)
	textareaRE = regexp.MustCompile(`(?s)<textarea [^>]*name="([^"]*)"[^>]*>(.*?)</textarea>`)
	selectRE   = regexp.MustCompile(`(?s)<select [^>]*name="([^"]*)"[^>]*>(.*?)</select>`)
	selectedRE = regexp.MustCompile(`<option value="([^"]*)" selected>`)
)

// scheduleEditor is a console with schedule gate g1 (see scheduleGate)
// and an administrator's browser.
func scheduleEditor(t *testing.T) (*env, *browser) {
	t.Helper()
	e := newEnv(t)
	e.putGate(t, scheduleGate("g1"))
	return e, e.as(gate.RoleAdmin)
}

// formOf is what a browser would post from the page's first form as it
// is shown (checked boxes, selected options, filled inputs).
func formOf(t *testing.T, body string) url.Values {
	t.Helper()
	start := strings.Index(body, "<form method=\"post\" action=\"/gates/")
	end := strings.Index(body[start:], "</form>")
	if start < 0 || end < 0 {
		t.Fatalf("no gate form:\n%s", body)
	}
	form := body[start : start+end]
	v := url.Values{}
	for _, in := range inputRE.FindAllString(form, -1) {
		a := map[string]string{}
		for _, m := range attrRE.FindAllStringSubmatch(in[len("<input "):], -1) {
			a[m[1]] = html.UnescapeString(m[2])
		}
		_, checked := a["checked"]
		if a["name"] == "" || (a["type"] == "checkbox" && !checked) {
			continue
		}
		if a["type"] == "checkbox" {
			a["value"] = "on"
		}
		v.Add(a["name"], a["value"])
	}
	for _, m := range textareaRE.FindAllStringSubmatch(form, -1) {
		v.Add(m[1], html.UnescapeString(m[2]))
	}
	for _, m := range selectRE.FindAllStringSubmatch(form, -1) {
		if s := selectedRE.FindStringSubmatch(m[2]); s != nil {
			v.Add(m[1], s[1])
		}
	}
	return v
}

func scheduleGate(id string) *gate.Gate {
	g := staticGate(id)
	g.Activation = gate.Activation{Mode: gate.ActiveSchedule, Schedule: &gate.Schedule{TimeZone: "Europe/Berlin", Active: gate.Inside,
		Windows:  []gate.Window{{Days: []string{"mon-fri"}, From: "08:00", To: "18:00"}, {Days: []string{"sat"}, From: "09:00", To: "12:00"}},
		Closures: []gate.Closure{{Name: "Christmas Eve", Date: "12-24", Yearly: true, From: "12:00", ClosureAction: gate.ClosureAction{Announce: "custom/xmas"}}},
		Holidays: []string{"de-by"}, OnHoliday: &gate.ClosureAction{Announce: "custom/holiday"}}}
	return g
}

// row is the grid row of a day.
func row(body, day string) string {
	i := strings.Index(body, `<tr id="wg-`+day+`">`)
	if i < 0 {
		return ""
	}
	j := strings.Index(body[i:], "</tr>")
	return body[i : i+j]
}

func timeInput(slot, part, value string) string {
	return `id="` + slot + `.` + part + `" name="` + slot + `.` + part + `" value="` + value + `"`
}

// A gate's windows are shown in the week grid, one row per day, and
// saving the form unchanged keeps the schedule: the same windows (and
// what the form does not show: the holiday action, a closure's name and
// action).
func TestWeekGridRoundTrip(t *testing.T) {
	e, b := scheduleEditor(t)
	_, body := b.get("/gates/g1")
	for _, d := range []string{"mon", "tue", "wed", "thu", "fri"} {
		r := row(body, d)
		if !strings.Contains(r, timeInput("w."+d+".0", "from", "08:00")) || !strings.Contains(r, timeInput("w."+d+".0", "to", "18:00")) {
			t.Errorf("%s does not show 08:00-18:00:\n%s", d, r)
		}
		if got := strings.Count(r, `class="h hit"`); got != 10 {
			t.Errorf("%s: the strip marks %d hours, want 10", d, got)
		}
	}
	sat := row(body, "sat")
	if !strings.Contains(sat, timeInput("w.sat.0", "from", "09:00")) || !strings.Contains(sat, timeInput("w.sat.0", "to", "12:00")) ||
		!strings.Contains(sat, "09:00–12:00") || strings.Count(sat, `class="h hit"`) != 3 {
		t.Errorf("saturday is not 09:00-12:00 with three marked hours:\n%s", sat)
	}
	sun := row(body, "sun")
	if !strings.Contains(sun, timeInput("w.sun.0", "from", "")) || strings.Contains(sun, "w.sun.0.rm") || !strings.Contains(sun, "no window") {
		t.Errorf("sunday is not empty with a slot to add a range:\n%s", sun)
	}
	if !strings.Contains(body, `aria-hidden="true"`) || !strings.Contains(body, `aria-label="Saturday 1: from"`) {
		t.Error("the strip is not hidden from assistive technology or an input has no name")
	}
	if !strings.Contains(body, `value="de-by"`) {
		t.Error("the holiday sets are not shown")
	}
	resp, out := b.post("/gates/g1", formOf(t, body))
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("unchanged form: %d\n%s", resp.StatusCode, out)
	}
	g, err := e.store.GetGate(context.Background(), "g1")
	if err != nil {
		t.Fatal(err)
	}
	s, want := g.Activation.Schedule, scheduleGate("g1").Activation.Schedule
	if !slices.EqualFunc(s.Windows, want.Windows, func(a, b gate.Window) bool {
		return slices.Equal(a.Days, b.Days) && a.From == b.From && a.To == b.To
	}) {
		t.Errorf("windows after saving unchanged: %+v, want %+v", s.Windows, want.Windows)
	}
	if !slices.Equal(s.Holidays, []string{"de-by"}) || s.OnHoliday == nil || s.OnHoliday.Announce != "custom/holiday" {
		t.Errorf("saving lost the holidays or their action: %+v %+v", s.Holidays, s.OnHoliday)
	}
	if !slices.Equal(s.Closures, want.Closures) {
		t.Errorf("saving lost a closure's name or action: %+v, want %+v", s.Closures, want.Closures)
	}
	for at := time.Date(2026, 12, 7, 0, 30, 0, 0, time.UTC); at.Before(time.Date(2026, 12, 14, 0, 0, 0, 0, time.UTC)); at = at.Add(time.Hour) {
		a, _, err1 := s.ActiveAt(at)
		w, _, err2 := want.ActiveAt(at)
		if a != w || err1 != nil || err2 != nil {
			t.Fatalf("at %v active %v, want %v (%v %v)", at, a, w, err1, err2)
		}
	}
}

// A range typed into an empty slot is added; a range whose remove box is
// ticked goes.
func TestWeekGridAddAndRemove(t *testing.T) {
	e, b := scheduleEditor(t)
	_, body := b.get("/gates/g1")
	f := formOf(t, body)
	f.Set("w.sun.0.from", "10:00")
	f.Set("w.sun.0.to", "14:00")
	f.Set("w.mon.1.from", "20:00") // a second range on Monday, past midnight
	f.Set("w.mon.1.to", "02:00")
	f.Set("w.sat.0.rm", "on")
	if resp, out := b.post("/gates/g1", f); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d\n%s", resp.StatusCode, out)
	}
	g, _ := e.store.GetGate(context.Background(), "g1")
	got := ""
	for _, w := range g.Activation.Schedule.Windows {
		got += strings.Join(w.Days, ",") + " " + w.From + "-" + w.To + "; "
	}
	if want := "mon-fri 08:00-18:00; mon 20:00-02:00; sun 10:00-14:00; "; got != want {
		t.Errorf("windows: %q, want %q", got, want)
	}
	_, body = b.get("/gates/g1")
	if !strings.Contains(row(body, "sun"), timeInput("w.sun.0", "from", "10:00")) || strings.Contains(row(body, "sat"), "09:00") {
		t.Errorf("the grid does not show the change:\n%s", body)
	}
	// The overnight range marks Monday 20-24 and Tuesday 0-2 in the strip.
	if n := strings.Count(row(body, "mon"), `class="h hit"`); n != 14 {
		t.Errorf("monday strip marks %d hours, want 14", n)
	}
	if n := strings.Count(row(body, "tue"), `class="h hit"`); n != 12 {
		t.Errorf("tuesday strip marks %d hours, want 12", n)
	}
}

// An invalid time is refused by the domain and its error is shown at the
// grid cell it was typed in, which keeps what was typed; nothing is stored.
func TestWeekGridInvalidTimeShownAtItsCell(t *testing.T) {
	e, b := scheduleEditor(t)
	_, body := b.get("/gates/g1")
	f := formOf(t, body)
	f.Set("w.thu.2.from", "07:00") // Thursday gets its own window...
	f.Set("w.thu.2.to", "25:00")   // ...with a bad end
	resp, out := b.post("/gates/g1", f)
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("bad time: %d, want 422\n%s", resp.StatusCode, out)
	}
	thu := row(out, "thu")
	// The posted slot 2 is the second range of the row now.
	if !strings.Contains(thu, `id="err-w.thu.1.to"`) || !strings.Contains(thu, `aria-describedby="err-w.thu.1.to"`) ||
		!strings.Contains(thu, "25:00") || !strings.Contains(excerpt(thu, `id="err-w.thu.1.to"`), "out of range") {
		t.Errorf("the error is not shown at Thursday's second range:\n%s", thu)
	}
	if strings.Contains(row(out, "mon"), "err-") || strings.Contains(out, `id="err-w.thu.1.from"`) {
		t.Error("the error is shown at cells that are fine")
	}
	if !strings.Contains(thu, timeInput("w.thu.0", "from", "08:00")) {
		t.Errorf("the re-shown row lost its other range:\n%s", thu)
	}
	g, _ := e.store.GetGate(context.Background(), "g1")
	if len(g.Activation.Schedule.Windows) != 2 {
		t.Errorf("an invalid schedule was stored: %+v", g.Activation.Schedule.Windows)
	}
	// A holiday set the domain does not know is shown at its field.
	f = formOf(t, body)
	f.Set("activation.schedule.holidays", "de-by, xx-nowhere")
	if _, out = b.post("/gates/g1", f); !strings.Contains(out, `id="err-f-holidays"`) || !strings.Contains(excerpt(out, `id="err-f-holidays"`), "xx-nowhere") {
		t.Errorf("the unknown holiday set is not marked at its field:\n%s", excerpt(out, `id="f-holidays"`))
	}
	// A range with only a start is the domain's to judge too.
	f = formOf(t, body)
	f.Set("w.sun.0.from", "10:00")
	_, out = b.post("/gates/g1", f)
	if !strings.Contains(row(out, "sun"), `id="err-w.sun.0.to"`) {
		t.Errorf("a range without an end is not marked at its end:\n%s", row(out, "sun"))
	}
}

// The grid and the domain's problems with its times are in German for a
// German session.
func TestWeekGridGerman(t *testing.T) {
	_, b := scheduleEditor(t)
	b.get("/lang/de?back=/gates/g1")
	_, body := b.get("/gates/g1")
	for _, s := range []string{"<caption>Wochenfenster</caption>", `<th scope="row">Montag</th>`, `<th scope="row">Sonntag</th>`,
		`aria-label="Samstag 1: von"`, `aria-label="Samstag 1: bis"`, "Entfernen", "kein Zeitfenster", "Feiertagssätze"} {
		if !strings.Contains(body, s) {
			t.Errorf("no %q on the German page", s)
		}
	}
	if strings.Contains(body, "Saturday") {
		t.Error("English day names on the German page")
	}
	// The domain's problem with a time is shown in German at its cell.
	f := formOf(t, body)
	f.Set("w.sun.0.from", "25:00")
	f.Set("w.sun.0.to", "12:00")
	f.Set("w.mon.0.to", "")
	_, out := b.post("/gates/g1", f)
	sun, mon := excerpt(row(out, "sun"), `id="err-w.sun.0.from"`), row(out, "mon")
	if !strings.Contains(sun, "von: &#34;25:00&#34; liegt nicht zwischen 00:00 und 23:59") {
		t.Errorf("the bad time's problem is not shown in German at its cell:\n%s", sun)
	}
	if !strings.Contains(excerpt(mon, `id="err-w.mon.0.to"`), `bis: ist erforderlich (&#34;HH:MM&#34;)`) {
		t.Errorf("the missing end's problem is not shown in German at its cell:\n%s", mon)
	}
}

// What is typed into the grid is shown escaped.
func TestWeekGridEscapes(t *testing.T) {
	_, b := scheduleEditor(t)
	_, body := b.get("/gates/g1")
	f := formOf(t, body)
	evil := `"><script>alert(1)</script>`
	f.Set("w.sun.0.from", evil)
	f.Set("w.sun.0.to", "12:00")
	resp, out := b.post("/gates/g1", f)
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("status %d, want 422", resp.StatusCode)
	}
	if strings.Contains(out, "<script>alert(1)") {
		t.Errorf("the typed value is not escaped:\n%s", row(out, "sun"))
	}
	if !strings.Contains(row(out, "sun"), "&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;") || !strings.Contains(row(out, "sun"), `id="err-w.sun.0.from"`) {
		t.Errorf("the typed value or its error is not shown:\n%s", row(out, "sun"))
	}
}

// Windows the grid spells differently are saved with the same meaning: no
// days (every day), a range of days across the week's end, full day
// names, an end of 24:00 (shown as 00:00, which a time input can hold)
// and a window past midnight.
func TestWeekGridKeepsWhatTheScheduleDoes(t *testing.T) {
	e := newEnv(t)
	g := staticGate("g1")
	want := &gate.Schedule{TimeZone: "Europe/Berlin", Active: gate.Outside, Windows: []gate.Window{
		{From: "22:00", To: "06:00"},
		{Days: []string{"fri-mon"}, From: "12:00", To: "24:00"},
		{Days: []string{"Wednesday", "thu"}, From: "07:30", To: "08:15"},
	}}
	g.Activation = gate.Activation{Mode: gate.ActiveSchedule, Schedule: want}
	e.putGate(t, g)
	b := e.as(gate.RoleAdmin)
	_, body := b.get("/gates/g1")
	for _, d := range []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"} {
		if !strings.Contains(row(body, d), timeInput("w."+d+".0", "from", "22:00")) {
			t.Errorf("%s does not show the every-day window", d)
		}
	}
	if !strings.Contains(row(body, "sun"), timeInput("w.sun.1", "to", "00:00")) || strings.Contains(row(body, "tue"), "12:00") {
		t.Errorf("fri-mon 12:00-24:00 is not on Friday to Monday with an end of 00:00:\n%s", row(body, "sun"))
	}
	if !strings.Contains(row(body, "wed"), "07:30–08:15") {
		t.Errorf("Wednesday does not show 07:30-08:15:\n%s", row(body, "wed"))
	}
	if resp, out := b.post("/gates/g1", formOf(t, body)); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("unchanged form: %d\n%s", resp.StatusCode, out)
	}
	stored, _ := e.store.GetGate(context.Background(), "g1")
	s := stored.Activation.Schedule
	got := ""
	for _, w := range s.Windows {
		got += strings.Join(w.Days, ",") + " " + w.From + "-" + w.To + "; "
	}
	if wantS := "mon-sun 22:00-06:00; mon,fri-sun 12:00-00:00; wed-thu 07:30-08:15; "; got != wantS {
		t.Errorf("saved windows %q, want %q", got, wantS)
	}
	// Every quarter of an hour of two weeks (one with a clock change)
	// gives the same answer.
	for at := time.Date(2026, 10, 19, 0, 0, 0, 0, time.UTC); at.Before(time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)); at = at.Add(15 * time.Minute) {
		a, _, err1 := s.ActiveAt(at)
		w, _, err2 := want.ActiveAt(at)
		if a != w || err1 != nil || err2 != nil {
			t.Fatalf("at %v active %v, want %v (%v %v)", at, a, w, err1, err2)
		}
	}
}
