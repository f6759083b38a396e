package admin

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// databaseMetrics are the metrics of database identification, the
// webhook's counterparts (Metrics implements dbident.Observer).
type databaseMetrics struct {
	seconds *prometheus.HistogramVec
	errors  *prometheus.CounterVec
	breaker *prometheus.GaugeVec
	cache   *prometheus.CounterVec
}

func newDatabaseMetrics(m *Metrics) databaseMetrics {
	return databaseMetrics{
		seconds: m.histogramVec("vipgate_database_seconds", "Database identification query latency, by gate.",
			[]float64{1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 50e-3, 100e-3, 250e-3, 500e-3, 1, 2.5, 5, 10, 15}, "gate"),
		errors:  m.counterVec("vipgate_database_errors_total", "Failed database identification queries, by gate and error class.", "gate", "class"),
		breaker: m.gaugeVec("vipgate_database_breaker_open", "1 while the database identification circuit breaker of a gate is open.", "gate"),
		cache:   m.counterVec("vipgate_database_cache_total", "Database identification answer cache lookups, by gate and result (hit, miss).", "gate", "result"),
	}
}

// DatabaseRequest observes one database identification query; errClass
// is "" on success.
func (m *Metrics) DatabaseRequest(gateID string, latency time.Duration, errClass string) {
	g := gateLabel(gateID)
	m.db.seconds.WithLabelValues(g).Observe(latency.Seconds())
	if errClass != "" {
		m.db.errors.WithLabelValues(g, errClass).Inc()
	}
}

// DatabaseBreaker records the circuit-breaker state of a gate's database
// identification.
func (m *Metrics) DatabaseBreaker(gateID string, open bool) {
	m.db.breaker.WithLabelValues(gateLabel(gateID)).Set(b2f(open))
}

// DatabaseCache counts one lookup in a gate's database answer cache.
func (m *Metrics) DatabaseCache(gateID string, hit bool) {
	res := "miss"
	if hit {
		res = "hit"
	}
	m.db.cache.WithLabelValues(gateLabel(gateID), res).Inc()
}
