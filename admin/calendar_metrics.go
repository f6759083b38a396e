package admin

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// CalendarStatus is how one of a gate's calendars is doing (what the
// calendar reader reports).
type CalendarStatus struct {
	GateID, Calendar string // Calendar as the reader names it (a URL's host only)
	LastSuccess      time.Time
	Errors           int
	Problem          string // why the last refresh failed, "" if it did not
}

var (
	calendarErrorsDesc = prometheus.NewDesc("vipgate_calendar_errors_total",
		"Failed refreshes of a gate's iCalendar calendar since start (its last good copy is used meanwhile); by gate and calendar.",
		[]string{"gate", "calendar"}, nil)
	calendarAgeDesc = prometheus.NewDesc("vipgate_calendar_last_success_age_seconds",
		"Seconds since a gate's iCalendar calendar was last read successfully (absent until it was); by gate and calendar.",
		[]string{"gate", "calendar"}, nil)
)

// WatchCalendars exports the state of the calendars that status reports.
func (m *Metrics) WatchCalendars(status func() []CalendarStatus, now func() time.Time) {
	m.reg.MustRegister(&calendarCollector{status: status, now: now})
}

type calendarCollector struct {
	status func() []CalendarStatus
	now    func() time.Time
}

func (c *calendarCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- calendarErrorsDesc
	ch <- calendarAgeDesc
}

func (c *calendarCollector) Collect(ch chan<- prometheus.Metric) {
	now := c.now()
	seen := map[[2]string]bool{}
	for _, s := range c.status() {
		k := [2]string{s.GateID, s.Calendar}
		if seen[k] {
			continue
		}
		seen[k] = true
		ch <- prometheus.MustNewConstMetric(calendarErrorsDesc, prometheus.CounterValue, float64(s.Errors), s.GateID, s.Calendar)
		if !s.LastSuccess.IsZero() {
			ch <- prometheus.MustNewConstMetric(calendarAgeDesc, prometheus.GaugeValue, now.Sub(s.LastSuccess).Seconds(), s.GateID, s.Calendar)
		}
	}
}
