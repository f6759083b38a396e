package admin

import (
	"cmp"
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/vipgate/vipgate/gate"
)

// Metrics is vipgate's Prometheus registry and the observers that feed it.
// Labels hold gate IDs (defined by administrators, so bounded), outcomes,
// error classes and source names, never caller numbers. Its methods are
// safe for concurrent use and do not block.
type Metrics struct {
	reg *prometheus.Registry

	calls         *prometheus.CounterVec
	decision      prometheus.Histogram
	webhook       *prometheus.HistogramVec
	webhookErrors *prometheus.CounterVec
	breakerOpen   *prometheus.GaugeVec
	webhookCache  *prometheus.CounterVec
	pinFailures   *prometheus.CounterVec
	lockouts      *prometheus.CounterVec
	inFlight      prometheus.Gauge
	sourceUp      *prometheus.GaugeVec
	callsPruned   prometheus.Counter
	authFailures  *prometheus.CounterVec
	agiRefused    *prometheus.CounterVec
	storeOK       prometheus.Gauge
	db            databaseMetrics

	status statusBook // for /api/v1/status

	// perGate are the vectors with a "gate" label, for ForgetGate.
	perGate []partialDeleter
}

var _ gate.Observer = (*Metrics)(nil)

// noGate labels calls that matched no gate.
const noGate = "none"

// NewMetrics returns Metrics with a registry of its own that also holds
// the Go runtime and process collectors.
func NewMetrics() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.calls = m.counterVec("vipgate_calls_total", "Calls handled, by gate and outcome.", "gate", "outcome")
	m.decision = m.histogram("vipgate_decision_seconds", "Time the engine took to decide a call.",
		[]float64{50e-6, 100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 50e-3, 100e-3, 250e-3, 500e-3, 1})
	m.webhook = m.histogramVec("vipgate_webhook_seconds", "Webhook request latency, by gate.",
		[]float64{5e-3, 10e-3, 25e-3, 50e-3, 100e-3, 250e-3, 500e-3, 1, 2.5, 5, 10, 15}, "gate")
	m.webhookErrors = m.counterVec("vipgate_webhook_errors_total", "Failed webhook requests, by gate and error class.", "gate", "class")
	m.breakerOpen = m.gaugeVec("vipgate_webhook_breaker_open", "1 while the webhook circuit breaker of a gate is open.", "gate")
	m.webhookCache = m.counterVec("vipgate_webhook_cache_total", "Webhook answer cache lookups, by gate and result (hit, miss).", "gate", "result")
	m.pinFailures = m.counterVec("vipgate_pin_failures_total", "Wrong PIN attempts, by gate.", "gate")
	m.lockouts = m.counterVec("vipgate_lockouts_total", "Calls rejected by a lockout, by gate.", "gate")
	m.inFlight = m.gauge("vipgate_calls_in_flight", "Calls vipgate is handling now.")
	m.sourceUp = m.gaugeVec("vipgate_source_up", "1 while a call source (ari, agi) is connected to its server.", "source", "server")
	m.callsPruned = m.counter("vipgate_calls_pruned_total", "Call-log rows deleted because they were older than the retention.")
	m.authFailures = m.counterVec("vipgate_admin_auth_failures_total", "Admin API requests refused for their token, by result (unauthorized: 401, rate_limited: 429).", "result")
	m.storeOK = m.gauge("vipgate_store_ok", "1 while the store passes the periodic check (reachable, writable, still the database file that was opened), else 0.")
	m.agiRefused = m.counterVec("vipgate_agi_refused_total", "FastAGI connections closed without a call, by reason (sessions, peer, header_pending, header_timeout).", "reason")
	m.db = newDatabaseMetrics(m)
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// The constructors below register what they make; a vector with a "gate"
// label is also one that ForgetGate clears.

func (m *Metrics) counter(name, help string) prometheus.Counter {
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	m.reg.MustRegister(c)
	return c
}

func (m *Metrics) gauge(name, help string) prometheus.Gauge {
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help})
	m.reg.MustRegister(g)
	return g
}

func (m *Metrics) histogram(name, help string, buckets []float64) prometheus.Histogram {
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets})
	m.reg.MustRegister(h)
	return h
}

func (m *Metrics) counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	return register(m, prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels), labels)
}

func (m *Metrics) gaugeVec(name, help string, labels ...string) *prometheus.GaugeVec {
	return register(m, prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels), labels)
}

func (m *Metrics) histogramVec(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
	return register(m, prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets}, labels), labels)
}

// partialDeleter is a metric vector whose series ForgetGate can delete.
type partialDeleter interface {
	prometheus.Collector
	DeletePartialMatch(labels prometheus.Labels) int
}

// register registers v and, when labels has "gate", lists it for
// ForgetGate.
func register[V partialDeleter](m *Metrics, v V, labels []string) V {
	m.reg.MustRegister(v)
	if slices.Contains(labels, "gate") {
		m.perGate = append(m.perGate, v)
	}
	return v
}

// Registry returns the registry, for adding collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

func gateLabel(id string) string {
	if id == "" {
		return noGate
	}
	return id
}

// CallStarted implements gate.Observer.
func (m *Metrics) CallStarted(source string) {
	m.inFlight.Inc()
	m.status.callStarted()
}

// CallFinished implements gate.Observer: it counts the call by gate and
// outcome, observes the decision latency and counts wrong PIN attempts and
// lockouts.
func (m *Metrics) CallFinished(r *gate.CallRecord) {
	m.inFlight.Dec()
	m.status.callFinished(r)
	if r == nil {
		return
	}
	g := gateLabel(r.GateID)
	m.calls.WithLabelValues(g, string(r.Outcome)).Inc()
	if r.DecisionLatency > 0 {
		m.decision.Observe(r.DecisionLatency.Seconds())
	}
	if f := failedAttempts(r); f > 0 {
		m.pinFailures.WithLabelValues(g).Add(float64(f))
	}
	if r.Outcome == gate.OutcomeLockedOut {
		m.lockouts.WithLabelValues(g).Inc()
	}
}

// failedAttempts is the number of wrong PINs in a call: every attempt,
// except the last one of a call that passed with a correct PIN and the
// one a call was abandoned (or cut off) in. Attempts counts the attempt
// in progress, so a caller who hangs up at the first ask-PIN prompt has
// typed no wrong PIN. (A call that ends the same way during the
// "rejected" announcement after the last wrong PIN is recorded alike;
// its last wrong PIN is not counted.)
func failedAttempts(r *gate.CallRecord) int {
	n := r.Attempts
	switch r.Outcome {
	case gate.OutcomePINOK, gate.OutcomeAbandoned, gate.OutcomeFailed:
		n--
	}
	return max(n, 0)
}

// WebhookRequest observes one webhook request; errClass is "" on success.
func (m *Metrics) WebhookRequest(gateID string, latency time.Duration, errClass string) {
	g := gateLabel(gateID)
	m.webhook.WithLabelValues(g).Observe(latency.Seconds())
	if errClass != "" {
		m.webhookErrors.WithLabelValues(g, errClass).Inc()
	}
}

// WebhookBreaker records the circuit-breaker state of a gate's webhook.
func (m *Metrics) WebhookBreaker(gateID string, open bool) {
	m.breakerOpen.WithLabelValues(gateLabel(gateID)).Set(b2f(open))
}

// WebhookCache counts one lookup in a gate's webhook answer cache.
func (m *Metrics) WebhookCache(gateID string, hit bool) {
	res := "miss"
	if hit {
		res = "hit"
	}
	m.webhookCache.WithLabelValues(gateLabel(gateID), res).Inc()
}

// SourceState records whether a call source (source "ari" or "agi") is
// connected to server (an Asterisk name or address).
func (m *Metrics) SourceState(source, server string, up bool) {
	m.sourceUp.WithLabelValues(source, server).Set(b2f(up))
	m.status.sourceState(source, server, up)
}

// StoreState records whether the store passed its last periodic check.
func (m *Metrics) StoreState(ok bool) { m.storeOK.Set(b2f(ok)) }

// AGIRefused counts a FastAGI connection closed without a call, by reason.
func (m *Metrics) AGIRefused(reason string) { m.agiRefused.WithLabelValues(reason).Inc() }

// CallsPruned counts n call-log rows deleted by the retention job.
func (m *Metrics) CallsPruned(n int64) { m.callsPruned.Add(float64(n)) }

// ForgetGate drops every series of a deleted gate, so that label sets do
// not pile up as gates come and go.
func (m *Metrics) ForgetGate(gateID string) {
	l := prometheus.Labels{"gate": gateLabel(gateID)}
	for _, v := range m.perGate {
		v.DeletePartialMatch(l)
	}
}

// LockoutSource is what WatchGateLockouts reads at each scrape: a
// gate.Store will do.
type LockoutSource interface {
	ListGates(ctx context.Context) ([]*gate.Gate, error)
	ListLockouts(ctx context.Context, gateID string, now time.Time) ([]*gate.Lockout, error)
}

// gateLockoutTimeout bounds the store reads of one scrape.
const gateLockoutTimeout = 2 * time.Second

var gateLockoutDesc = prometheus.NewDesc("vipgate_gate_lockout_active",
	"1 while a gate-wide lockout is in effect at the gate (set by any instance), else 0; by gate and the action it takes (refuse, slow).",
	[]string{"gate", "action"}, nil)

// WatchGateLockouts exports vipgate_gate_lockout_active{gate,action}, read
// from src at each scrape: 1 for every gate with a gate-wide lockout in
// effect at now(), 0 for the other gates with a gate-wide limit. The
// store holds the lockouts of every instance, so each instance reports
// the same. When src cannot be read, the series are left out of that
// scrape.
func (m *Metrics) WatchGateLockouts(src LockoutSource, now func() time.Time) {
	m.reg.MustRegister(&gateLockouts{src: src, now: now})
}

type gateLockouts struct {
	src LockoutSource
	now func() time.Time
}

func (c *gateLockouts) Describe(ch chan<- *prometheus.Desc) { ch <- gateLockoutDesc }

func (c *gateLockouts) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), gateLockoutTimeout)
	defer cancel()
	gates, err := c.src.ListGates(ctx)
	if err != nil {
		return
	}
	ls, err := c.src.ListLockouts(ctx, "", c.now())
	if err != nil {
		return
	}
	locked := map[string]bool{}
	for _, l := range ls {
		if l.Caller == gate.AnyCaller {
			locked[l.GateID] = true
		}
	}
	for _, g := range gates {
		if g.Lockout.GateMaxFailures <= 0 && !locked[g.ID] {
			continue
		}
		action := string(cmp.Or(g.Lockout.GateAction, gate.GateRefuse))
		ch <- prometheus.MustNewConstMetric(gateLockoutDesc, prometheus.GaugeValue, b2f(locked[g.ID]), g.ID, action)
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
