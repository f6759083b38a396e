// Package prometheus holds vipgate's Prometheus alert rules (alerts.yaml,
// with promtool unit tests in alerts_test.yaml) and, in its test, the check
// that every metric named there and in the Grafana dashboard
// (deploy/grafana/vipgate.json) exists in vipgate's registry. CI also runs
// "promtool check rules" and "promtool test rules" where promtool is
// installed.
//
// Package prometheus imports admin, events and gate in its test only; it
// is never imported.
package prometheus
