package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/vipgate/vipgate/admin"
)

// pluginState is a monitoring plugin's result; its value is the exit
// status Nagios, Icinga, Check_MK and OMD expect.
type pluginState int

const (
	stateOK       pluginState = 0
	stateWarning  pluginState = 1
	stateCritical pluginState = 2
	stateUnknown  pluginState = 3
)

func (s pluginState) String() string {
	return [...]string{"OK", "WARNING", "CRITICAL", "UNKNOWN"}[s]
}

// pluginExit is the error cmdCheck returns for any state but OK: main
// exits with its status and prints nothing more (the plugin line is
// already on stdout).
type pluginExit pluginState

func (e pluginExit) Error() string { return "check: " + pluginState(e).String() }

// checkRange is a threshold in the monitoring-plugin range syntax:
// "10" alerts outside 0..10, "10:" below 10, "~:10" above 10, "10:20"
// outside 10..20, and "@10:20" inside 10..20. The zero value never alerts.
type checkRange struct {
	text   string
	lo, hi float64
	inside bool
}

func parseRange(s string) (checkRange, error) {
	r := checkRange{text: s}
	if s == "" {
		return r, nil
	}
	if rest, ok := strings.CutPrefix(s, "@"); ok {
		r.inside, s = true, rest
	}
	num := func(v string, inf float64) (float64, error) {
		switch v {
		case "":
			return inf, nil
		case "~":
			return math.Inf(-1), nil
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return 0, fmt.Errorf("range %q: %q is not a number", r.text, v)
		}
		return f, nil
	}
	var err error
	if lo, hi, ok := strings.Cut(s, ":"); ok {
		if r.lo, err = num(lo, 0); err != nil {
			return r, err
		}
		if r.hi, err = num(hi, math.Inf(1)); err != nil {
			return r, err
		}
		if hi == "~" {
			return r, fmt.Errorf("range %q: the end cannot be ~", r.text)
		}
	} else {
		if s == "~" || s == "" {
			return r, fmt.Errorf("range %q: want a number", r.text)
		}
		if r.hi, err = num(s, 0); err != nil {
			return r, err
		}
	}
	if r.lo > r.hi {
		return r, fmt.Errorf("range %q: start is above end", r.text)
	}
	return r, nil
}

// alerts reports whether v is outside the range (inside for "@").
func (r checkRange) alerts(v float64) bool {
	if r.text == "" {
		return false
	}
	in := v >= r.lo && v <= r.hi
	return in == r.inside
}

// checkFlags are the thresholds of one check.
type checkThresholds struct {
	warnFailed, critFailed     checkRange
	warnLockouts, critLockouts checkRange
	warnAge, critAge           time.Duration // 0 = off
	sourcesDown                pluginState   // the state of a source that is down; stateOK ignores it
}

func cmdCheck(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "check", "[flags]")
	httpAddr := f.str("http", "VIPGATE_HTTP_ADDR", "127.0.0.1:8080", "the admin listener of the instance to check, used when --url is not given")
	rawURL := f.str("url", "", "", "base URL of the instance's admin API, e.g. https://pbx1:8080 (default http:// plus --http)")
	tokenFile := f.str("token-file", "VIPGATE_CHECK_TOKEN_FILE", "", "file holding a viewer token (or set VIPGATE_CHECK_TOKEN); never a flag value")
	window := f.str("window", "", admin.DefaultStatusWindow.String(), "window of the call-log counts (failed decisions, lockouts)")
	timeout := f.str("timeout", "", "10s", "how long the whole check may take")
	warnFailed := f.str("warning-failed", "", "0", "range of failed decisions in the window that is OK; outside it WARNING (monitoring-plugin syntax: 0, 5, 10:, @1:3; '' = off)")
	critFailed := f.str("critical-failed", "", "", "range of failed decisions in the window that is not CRITICAL ('' = off)")
	warnLockouts := f.str("warning-lockouts", "", "", "range of lockouts in the window that is OK, e.g. 10 ('' = off)")
	critLockouts := f.str("critical-lockouts", "", "", "range of lockouts in the window that is not CRITICAL, e.g. 50 ('' = off)")
	warnAge := f.str("warning-age", "", "0", "WARNING when the last decision is older, e.g. 1h (0 = off; quiet nights are normal at many gates)")
	critAge := f.str("critical-age", "", "0", "CRITICAL when the last decision is older (0 = off)")
	caFile := f.str("ca-file", "", "", "PEM file of the CA that signed an https:// admin API's certificate (default: the system's CAs)")
	sourcesDown := f.str("sources-down", "", "critical", "state of a call source (ARI server, FastAGI listener) that is not connected: critical, warning or ignore")
	if err := f.parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return checkResult(e.stdout, stateUnknown, err.Error(), nil)
	}
	var th checkThresholds
	var errs []string
	rng := func(name, v string, dst *checkRange) {
		r, err := parseRange(v)
		if err != nil {
			errs = append(errs, fmt.Sprintf("--%s: %v", name, err))
		}
		*dst = r
	}
	rng("warning-failed", *warnFailed, &th.warnFailed)
	rng("critical-failed", *critFailed, &th.critFailed)
	rng("warning-lockouts", *warnLockouts, &th.warnLockouts)
	rng("critical-lockouts", *critLockouts, &th.critLockouts)
	dur := func(name, v string, min time.Duration, dst *time.Duration) {
		d, err := time.ParseDuration(v)
		if err != nil || d < min {
			errs = append(errs, fmt.Sprintf("--%s: want a duration such as 15m", name))
		}
		*dst = d
	}
	var win, limit time.Duration
	dur("window", *window, time.Second, &win)
	dur("timeout", *timeout, time.Millisecond, &limit)
	dur("warning-age", *warnAge, 0, &th.warnAge)
	dur("critical-age", *critAge, 0, &th.critAge)
	switch *sourcesDown {
	case "critical":
		th.sourcesDown = stateCritical
	case "warning":
		th.sourcesDown = stateWarning
	case "ignore":
		th.sourcesDown = stateOK
	default:
		errs = append(errs, "--sources-down: want critical, warning or ignore")
	}
	base := *rawURL
	if base == "" {
		base = "http://" + dialAddr(*httpAddr)
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Sprintf("--url: want http:// or https:// and a host, got %q", base))
	}
	token, err := checkToken(e, *tokenFile)
	if err != nil {
		errs = append(errs, err.Error())
	}
	client := http.DefaultClient
	if *caFile != "" {
		pem, err := os.ReadFile(*caFile)
		pool := x509.NewCertPool()
		switch {
		case err != nil:
			errs = append(errs, fmt.Sprintf("--ca-file: %v", err))
		case !pool.AppendCertsFromPEM(pem):
			errs = append(errs, fmt.Sprintf("--ca-file: %s holds no PEM certificate", *caFile))
		default:
			client = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
		}
	}
	if len(errs) > 0 {
		return checkResult(e.stdout, stateUnknown, strings.Join(errs, "; "), nil)
	}

	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	st, state, err := fetchStatus(ctx, client, strings.TrimSuffix(base, "/"), token, win)
	if err != nil {
		return checkResult(e.stdout, state, err.Error(), nil)
	}
	state, msg, perf := judge(st, th)
	return checkResult(e.stdout, state, msg, perf)
}

// dialAddr turns a listen address into one to connect to: a listener on
// every interface (":8080", "0.0.0.0:8080", "[::]:8080") is reached on
// the loopback address.
func dialAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	return net.JoinHostPort(host, port)
}

// checkToken reads the API token from file, else VIPGATE_CHECK_TOKEN.
func checkToken(e *env, file string) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("token file: %w", err)
		}
		if t := strings.TrimSpace(string(b)); t != "" {
			return t, nil
		}
		return "", fmt.Errorf("token file %s is empty", file)
	}
	if t := strings.TrimSpace(e.getenv("VIPGATE_CHECK_TOKEN")); t != "" {
		return t, nil
	}
	return "", errors.New("no API token: set --token-file or VIPGATE_CHECK_TOKEN (a viewer token is enough)")
}

// fetchStatus reads GET /api/v1/status. An instance that does not answer
// is CRITICAL (it screens no calls); an answer the check cannot use (a
// refused token, an unexpected status or body) is UNKNOWN.
func fetchStatus(ctx context.Context, client *http.Client, base, token string, window time.Duration) (*admin.Status, pluginState, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v1/status?window="+url.QueryEscape(window.String()), nil)
	if err != nil {
		return nil, stateUnknown, fmt.Errorf("status request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	res, err := client.Do(req)
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, stateCritical, fmt.Errorf("no answer from %s within the timeout", base)
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, stateCritical, fmt.Errorf("cannot reach %s: %v", base, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return nil, stateCritical, fmt.Errorf("read status from %s: %v", base, err)
	}
	switch res.StatusCode {
	case http.StatusOK:
	case http.StatusUnauthorized:
		return nil, stateUnknown, errors.New("the API refused the token (401): it is unknown, revoked or expired")
	case http.StatusForbidden:
		return nil, stateUnknown, errors.New("the token may not read the status (403)")
	default:
		return nil, stateUnknown, fmt.Errorf("GET /api/v1/status answered %s", res.Status)
	}
	var st admin.Status
	if err := json.Unmarshal(body, &st); err != nil || st.Status == "" {
		return nil, stateUnknown, fmt.Errorf("GET /api/v1/status: not a vipgate status document")
	}
	return &st, stateOK, nil
}

// judge turns a status into the plugin's state, text and performance
// data.
func judge(st *admin.Status, th checkThresholds) (pluginState, string, []string) {
	state := stateOK
	raise := func(s pluginState) { state = max(state, s) }
	var problems, facts []string
	perf := []string{}

	storeUp := 0
	if st.Store == "ok" {
		storeUp = 1
	} else {
		raise(stateCritical)
		problems = append(problems, "store "+st.Store)
	}
	up, down := 0, 0
	for _, s := range st.Sources {
		if s.Up {
			up++
			continue
		}
		down++
		if th.sourcesDown != stateOK {
			raise(th.sourcesDown)
			problems = append(problems, fmt.Sprintf("%s %s not connected", s.Source, s.Server))
		}
	}
	if len(st.Sources) == 0 {
		facts = append(facts, "no call source")
	} else {
		facts = append(facts, fmt.Sprintf("%d/%d sources connected", up, len(st.Sources)))
	}
	if w := st.Window; w != nil {
		span := time.Duration(w.Seconds * float64(time.Second)).String()
		switch {
		case th.critFailed.alerts(float64(w.Failed)):
			raise(stateCritical)
			problems = append(problems, fmt.Sprintf("%d failed decisions in %s", w.Failed, span))
		case th.warnFailed.alerts(float64(w.Failed)):
			raise(stateWarning)
			problems = append(problems, fmt.Sprintf("%d failed decisions in %s", w.Failed, span))
		}
		switch {
		case th.critLockouts.alerts(float64(w.Lockouts)):
			raise(stateCritical)
			problems = append(problems, fmt.Sprintf("%d lockouts in %s", w.Lockouts, span))
		case th.warnLockouts.alerts(float64(w.Lockouts)):
			raise(stateWarning)
			problems = append(problems, fmt.Sprintf("%d lockouts in %s", w.Lockouts, span))
		}
		facts = append(facts, fmt.Sprintf("%d calls in %s, %d failed, %d lockouts", w.Calls, span, w.Failed, w.Lockouts))
		perf = append(perf,
			perfValue("calls", float64(w.Calls), "", "", ""),
			perfValue("failed", float64(w.Failed), "", th.warnFailed.text, th.critFailed.text),
			perfValue("lockouts", float64(w.Lockouts), "", th.warnLockouts.text, th.critLockouts.text),
			perfValue("pin_failed", float64(w.PINFailed), "", "", ""))
	}
	age := time.Duration(st.LastDecisionAgeSeconds * float64(time.Second)).Round(time.Second)
	last := "no call since start " + age.String() + " ago"
	if st.LastDecisionAt != nil {
		last = "last decision " + age.String() + " ago"
	}
	switch {
	case th.critAge > 0 && age > th.critAge:
		raise(stateCritical)
		problems = append(problems, last)
	case th.warnAge > 0 && age > th.warnAge:
		raise(stateWarning)
		problems = append(problems, last)
	default:
		facts = append(facts, last)
	}
	secs := func(d time.Duration) string {
		if d <= 0 {
			return ""
		}
		return strconv.FormatFloat(d.Seconds(), 'f', -1, 64)
	}
	perf = append(perf,
		perfValue("calls_total", float64(st.SinceStart.Calls), "c", "", ""),
		perfValue("failed_total", float64(st.SinceStart.Failed), "c", "", ""),
		perfValue("lockouts_total", float64(st.SinceStart.Lockouts), "c", "", ""),
		perfValue("pin_failures_total", float64(st.SinceStart.PINFailures), "c", "", ""),
		perfValue("in_flight", float64(st.InFlight), "", "", ""),
		fmt.Sprintf("store=%d;;;0;1", storeUp),
		perfValue("sources_up", float64(up), "", "", ""),
		perfValue("sources_down", float64(down), "", "", ""),
		perfValue("last_decision_age", math.Round(st.LastDecisionAgeSeconds), "s", secs(th.warnAge), secs(th.critAge)))
	msg := strings.Join(append(problems, facts...), "; ")
	return state, msg, perf
}

// perfValue formats one performance-data item: label=value[UOM];warn;crit;min.
func perfValue(label string, v float64, uom, warn, crit string) string {
	return fmt.Sprintf("%s=%s%s;%s;%s;0", label, strconv.FormatFloat(v, 'f', -1, 64), uom, warn, crit)
}

// checkResult prints the plugin line "VIPGATE STATE - text | perfdata"
// and returns nil for OK, else the pluginExit for state.
func checkResult(w io.Writer, state pluginState, msg string, perf []string) error {
	// A '|' in the text would start the performance data.
	line := "VIPGATE " + state.String() + " - " + strings.ReplaceAll(msg, "|", "/")
	if len(perf) > 0 {
		line += " | " + strings.Join(perf, " ")
	}
	fmt.Fprintln(w, line)
	if state == stateOK {
		return nil
	}
	return pluginExit(state)
}
