package admin_test

import (
	"strings"
	"testing"
	"time"

	"github.com/vipgate/vipgate/admin"
)

func TestMetricsDatabase(t *testing.T) {
	t.Parallel()
	m := admin.NewMetrics()
	m.DatabaseRequest("crm-db", 4*time.Millisecond, "")
	m.DatabaseRequest("crm-db", 2*time.Second, "timeout")
	m.DatabaseBreaker("crm-db", true)
	m.DatabaseCache("crm-db", true)
	m.DatabaseCache("crm-db", false)
	body := scrape(t, m)
	for _, want := range []struct {
		sample string
		value  float64
	}{
		{`vipgate_database_seconds_count{gate="crm-db"}`, 2},
		{`vipgate_database_errors_total{class="timeout",gate="crm-db"}`, 1},
		{`vipgate_database_breaker_open{gate="crm-db"}`, 1},
		{`vipgate_database_cache_total{gate="crm-db",result="hit"}`, 1},
		{`vipgate_database_cache_total{gate="crm-db",result="miss"}`, 1},
	} {
		checkSample(t, body, want.sample, want.value)
	}
	m.DatabaseBreaker("crm-db", false)
	checkSample(t, scrape(t, m), `vipgate_database_breaker_open{gate="crm-db"}`, 0)
	m.ForgetGate("crm-db")
	if strings.Contains(scrape(t, m), `gate="crm-db"`) {
		t.Error("ForgetGate left database series of the gate")
	}
}
