package admin_test

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/vipgate/vipgate/admin"
)

func TestMetricsCalendars(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	m := admin.NewMetrics()
	m.WatchCalendars(func() []admin.CalendarStatus {
		return []admin.CalendarStatus{
			{GateID: "hotline", Calendar: "https://cal.example.com/…", LastSuccess: now.Add(-90 * time.Second), Errors: 3},
			{GateID: "night", Calendar: "/etc/vipgate/night.ics"},
		}
	}, func() time.Time { return now })
	body := scrape(t, m)
	checkSample(t, body, `vipgate_calendar_errors_total{calendar="https://cal.example.com/…",gate="hotline"}`, 3)
	checkSample(t, body, `vipgate_calendar_last_success_age_seconds{calendar="https://cal.example.com/…",gate="hotline"}`, 90)
	checkSample(t, body, `vipgate_calendar_errors_total{calendar="/etc/vipgate/night.ics",gate="night"}`, 0)
	if strings.Contains(body, `vipgate_calendar_last_success_age_seconds{calendar="/etc/vipgate/night.ics"`) {
		t.Errorf("an age for a calendar never read:\n%s", grepLines(body, "vipgate_calendar"))
	}
}

// TestReadyzNamesFailingCalendars: a failing calendar is listed by /readyz
// without making the instance unready (its last good copy is used).
func TestReadyzNamesFailingCalendars(t *testing.T) {
	t.Parallel()
	failing := false
	h := admin.NewServer(admin.Deps{Store: openStore(t), Calendars: func() []admin.CalendarStatus {
		s := admin.CalendarStatus{GateID: "hotline", Calendar: "https://cal.example.com/…"}
		if failing {
			s.Problem = "HTTP 503 Service Unavailable"
		}
		return []admin.CalendarStatus{s}
	}})
	get := func() (int, string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
		return rec.Code, rec.Body.String()
	}
	if code, body := get(); code != 200 || !strings.Contains(body, `"calendars":"ok"`) {
		t.Fatalf("readyz with calendars ok: %d %s", code, body)
	}
	failing = true
	if code, body := get(); code != 200 || !strings.Contains(body, `failing (last good copy used): hotline https://cal.example.com/…`) {
		t.Fatalf("readyz with a failing calendar: %d %s", code, body)
	}
}
