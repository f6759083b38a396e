package calendar

import (
	"os"
	"strings"
	"testing"
	"time"
)

var berlin = func() *time.Location {
	l, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		panic(err)
	}
	return l
}()

func parseFile(t *testing.T, name string, loc *time.Location, from, to time.Time) Result {
	t.Helper()
	body, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Parse(body, loc, from, to)
	if err != nil {
		t.Fatalf("Parse(%s): %v", name, err)
	}
	return res
}

func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, berlin)
	if err != nil {
		panic(err)
	}
	return t
}

type want struct {
	summary    string
	start, end string // in Berlin time
}

func check(t *testing.T, got []Event, wants []want) {
	t.Helper()
	if len(got) != len(wants) {
		for _, e := range got {
			t.Logf("got %q %v – %v", e.Summary, e.Start.In(berlin), e.End.In(berlin))
		}
		t.Fatalf("got %d events, want %d", len(got), len(wants))
	}
	for i, w := range wants {
		e := got[i]
		if e.Summary != w.summary || !e.Start.Equal(at(w.start)) || !e.End.Equal(at(w.end)) {
			t.Errorf("event %d = %q %v – %v, want %q %s – %s", i, e.Summary, e.Start.In(berlin), e.End.In(berlin), w.summary, w.start, w.end)
		}
	}
}

func TestParseGoogleExport(t *testing.T) {
	res := parseFile(t, "google.ics", berlin, at("2026-12-01 00:00"), at("2027-12-01 00:00"))
	check(t, res.Events, []want{
		{"Weekly all-hands", "2026-12-04 09:00", "2026-12-04 10:00"},
		{"Weekly all-hands (moved)", "2026-12-11 09:30", "2026-12-11 10:30"}, // RECURRENCE-ID replaces 09:00
		{"Team party", "2026-12-11 14:00", "2026-12-11 18:00"},               // UTC
		// 18 December is an EXDATE.
		{"Christmas break", "2026-12-24 00:00", "2026-12-27 00:00"}, // VALUE=DATE, DTEND exclusive
		{"Weekly all-hands", "2026-12-25 09:00", "2026-12-25 10:00"},
		{"Weekly all-hands", "2027-01-01 09:00", "2027-01-01 10:00"},
		{"Weekly all-hands", "2027-01-08 09:00", "2027-01-08 10:00"}, // COUNT=6 ends here
	})
	if len(res.Skipped) != 0 {
		t.Errorf("skipped %v", res.Skipped)
	}
}

func TestParseOutlookExport(t *testing.T) {
	res := parseFile(t, "outlook.ics", berlin, at("2026-12-01 00:00"), at("2027-12-01 00:00"))
	// Monthly on the first Monday at 08:00 W. Europe time (CET and CEST),
	// until 1 June 07:00Z, without March.
	check(t, res.Events, []want{
		{"Monthly maintenance", "2026-12-07 08:00", "2026-12-07 09:00"},
		{"Monthly maintenance", "2027-01-04 08:00", "2027-01-04 09:00"},
		{"Monthly maintenance", "2027-02-01 08:00", "2027-02-01 09:00"},
		{"Monthly maintenance", "2027-04-05 08:00", "2027-04-05 09:00"},
		{"Monthly maintenance", "2027-05-03 08:00", "2027-05-03 09:00"},
		{"Company outing", "2027-05-28 00:00", "2027-05-29 00:00"},
	})
	if got := res.Events[3].Start.UTC().Hour(); got != 6 {
		t.Errorf("April occurrence at %d:00 UTC, want 6:00 (08:00 CEST)", got)
	}
}

func TestParseNextcloudExport(t *testing.T) {
	res := parseFile(t, "nextcloud.ics", berlin, at("2026-12-01 00:00"), at("2028-01-05 00:00"))
	check(t, res.Events, []want{
		{"New Year's Eve", "2026-12-31 00:00", "2027-01-01 00:00"},
		{"Night works (floating)", "2027-01-10 22:00", "2027-01-11 06:00"}, // floating: the gate's zone
		{"New Year's Eve", "2027-12-31 00:00", "2028-01-01 00:00"},
	})
	if len(res.Skipped) != 1 || !strings.Contains(res.Skipped[0], `"Bad zone"`) || !strings.Contains(res.Skipped[0], "Mars/Olympus") {
		t.Errorf("skipped = %v, want the event with the unknown zone", res.Skipped)
	}
}

func TestParseFloatingFollowsTheGateZone(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	res := parseFile(t, "nextcloud.ics", ny, time.Date(2027, 1, 5, 0, 0, 0, 0, time.UTC), time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC))
	if len(res.Events) != 1 || !res.Events[0].Start.Equal(time.Date(2027, 1, 10, 22, 0, 0, 0, ny)) {
		t.Fatalf("events = %v, want the floating event at 22:00 New York time", res.Events)
	}
}

func TestParseWindowClipsAndKeepsOverlapping(t *testing.T) {
	// The Christmas break started before the window and overlaps it.
	res := parseFile(t, "google.ics", berlin, at("2026-12-26 12:00"), at("2026-12-31 00:00"))
	check(t, res.Events, []want{{"Christmas break", "2026-12-24 00:00", "2026-12-27 00:00"}})
}

func TestParseAllDayAcrossDST(t *testing.T) {
	body := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:a\r\nSUMMARY:Spring\r\nDTSTART;VALUE=DATE:20270328\r\nRRULE:FREQ=DAILY;COUNT=2\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	res, err := Parse([]byte(body), berlin, at("2027-03-01 00:00"), at("2027-04-01 00:00"))
	if err != nil {
		t.Fatal(err)
	}
	check(t, res.Events, []want{{"Spring", "2027-03-28 00:00", "2027-03-29 00:00"}, {"Spring", "2027-03-29 00:00", "2027-03-30 00:00"}})
}

func TestParseRejectsWhatIsNoCalendar(t *testing.T) {
	for _, body := range []string{"", "<html>login</html>", "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\n"} {
		if _, err := Parse([]byte(body), berlin, at("2026-12-01 00:00"), at("2027-12-01 00:00")); err == nil {
			t.Errorf("Parse(%q) did not fail", body)
		}
	}
}

func TestParseBoundsRunawayRules(t *testing.T) {
	body := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:a\r\nSUMMARY:Tick\r\nDTSTART:20261201T000000Z\r\nDTEND:20261201T000001Z\r\nRRULE:FREQ=SECONDLY\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	res, err := Parse([]byte(body), berlin, at("2026-12-01 00:00"), at("2027-12-01 00:00"))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Events) != 0 || len(res.Skipped) != 1 || !strings.Contains(res.Skipped[0], "occurrences") {
		t.Fatalf("events %d, skipped %v: a runaway rule is skipped with a reason", len(res.Events), res.Skipped)
	}
}

func FuzzParse(f *testing.F) {
	for _, name := range []string{"google.ics", "outlook.ics", "nextcloud.ics"} {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART;VALUE=DATE:2026\r\nRRULE:FREQ=YEARLY;BYDAY=99MO\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"))
	from := at("2026-12-01 00:00")
	f.Fuzz(func(t *testing.T, body []byte) {
		res, err := Parse(body, berlin, from, from.AddDate(0, 0, 400))
		if err != nil {
			return
		}
		for _, e := range res.Events {
			if !e.End.After(e.Start) || !e.End.After(from) {
				t.Fatalf("event %+v is empty or outside the window", e)
			}
		}
	})
}
