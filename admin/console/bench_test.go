package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
)

// benchSession logs in against the handler directly and returns the
// session cookie.
func benchSession(b *testing.B, e *env) *http.Cookie {
	b.Helper()
	h := e.srv.Config.Handler
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/login", nil))
	var nonce *http.Cookie
	for _, c := range rec.Result().Cookies() {
		if c.Name == "vipgate_login" {
			nonce = c
		}
	}
	form := url.Values{"csrf": {nonce.Value}, "token": {e.tokens[gate.RoleViewer]}}
	req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(nonce)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	for _, c := range rec.Result().Cookies() {
		if c.Name == "vipgate_session" && c.Value != "" {
			return c
		}
	}
	b.Fatalf("login failed: %d %s", rec.Code, rec.Body)
	return nil
}

// serve runs one console request in-process and returns its server time.
func serve(b *testing.B, e *env, ck *http.Cookie, path string, want string) time.Duration {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.AddCookie(ck)
	rec := httptest.NewRecorder()
	start := time.Now()
	e.srv.Config.Handler.ServeHTTP(rec, req)
	d := time.Since(start)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), want) {
		b.Fatalf("GET %s: %d, want 200 with %q\n%.2000s", path, rec.Code, want, rec.Body)
	}
	return d
}

// report adds the median and 95th percentile of the server times.
func report(b *testing.B, ds []time.Duration) {
	if len(ds) == 0 {
		return
	}
	slices.Sort(ds)
	b.ReportMetric(float64(ds[len(ds)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(ds[min(len(ds)-1, len(ds)*95/100)].Microseconds())/1000, "p95-ms")
}

// pinBench is the 1,000,000-entry caller table, built once per process
// (importing it takes a while).
var pinBench struct {
	once sync.Once
	e    *env
}

const benchEntries = 1_000_000

// BenchmarkPinTableSearch1M is the server time of the PIN-table page with
// a caller search over a gate of 1,000,000 entries (SQLite), and of the
// keyset page deep inside the table. Target: p95 ≤ 50 ms.
func BenchmarkPinTableSearch1M(b *testing.B) {
	pinBench.once.Do(func() {
		e := newEnvOpts(b, envOpts{burst: -1})
		e.putGate(b, staticGate("big"))
		ctx := context.Background()
		pin := e.hasher.Hash("2580")
		const batch = 100_000
		for start := 0; start < benchEntries; start += batch {
			es := make([]*gate.Entry, 0, batch)
			for i := start; i < start+batch; i++ {
				es = append(es, &gate.Entry{GateID: "big", Pattern: fmt.Sprintf("+49151%08d", i*7), PIN: pin, Label: "entry"})
			}
			if _, err := e.store.ImportEntries(ctx, "big", es, gate.ImportOptions{}); err != nil {
				b.Fatal(err)
			}
		}
		pinBench.e = e
	})
	e := pinBench.e
	ck := benchSession(b, e)
	for _, k := range []struct {
		name string
		path func(n int) (string, string)
	}{
		// A whole number in national format: one match.
		{"number", func(n int) (string, string) {
			n -= n % 7
			return "/gates/big/pins?q=" + url.QueryEscape(fmt.Sprintf("0151%08d", n)), "1 entries"
		}},
		// A prefix: about 140 matches, the first page.
		{"prefix", func(n int) (string, string) {
			return "/gates/big/pins?q=" + url.QueryEscape(fmt.Sprintf("0151%05d*", n/1000)), "entries"
		}},
		// No search, a keyset page deep in the table.
		{"deep-page", func(n int) (string, string) {
			return "/gates/big/pins?after=" + url.QueryEscape(fmt.Sprintf("+49151%08d", n)), `rel="next"`
		}},
	} {
		b.Run(k.name, func(b *testing.B) {
			var ds []time.Duration
			i := 0
			for b.Loop() {
				path, want := k.path((i * 7919 * 7) % (benchEntries * 7))
				ds = append(ds, serve(b, e, ck, path, want))
				i++
			}
			report(b, ds)
		})
	}
}

// BenchmarkOverview100Gates is the server time of the overview with 100
// gates (schedules, an override on every tenth), 2,000 calls in the last
// day and some lockouts. Target: p95 ≤ 20 ms. The gates' states come from
// the engine (GET /api/v1/status/gates), with the schedules it holds
// compiled.
func BenchmarkOverview100Gates(b *testing.B) {
	e := newEnvOpts(b, envOpts{burst: -1})
	ctx := context.Background()
	now := e.now()
	for i := range 100 {
		g := staticGate(fmt.Sprintf("gate-%03d", i))
		g.Match.Numbers = []string{fmt.Sprintf("+49301%05d", i)}
		if i%2 == 0 {
			g.Activation = gate.Activation{Mode: gate.ActiveSchedule, Schedule: &gate.Schedule{TimeZone: "Europe/Berlin", Active: gate.Inside,
				Windows: []gate.Window{{Days: []string{"mon-fri"}, From: "08:00", To: "18:00"}}, Closures: []gate.Closure{{Date: "12-24", Yearly: true}}}}
		}
		e.putGate(b, g)
		if i%10 == 0 {
			if err := e.store.SetOverride(ctx, g.ID, &gate.Override{Active: false, Until: now.Add(time.Hour), Reason: "drill", SetAt: now}); err != nil {
				b.Fatal(err)
			}
		}
	}
	outcomes := []gate.Outcome{gate.OutcomePassed, gate.OutcomePINOK, gate.OutcomeRejected, gate.OutcomePINFailed}
	for i := range 2000 {
		if err := e.store.LogCall(ctx, &gate.CallRecord{At: now.Add(-time.Duration(i) * 40 * time.Second), Source: "agi",
			GateID: fmt.Sprintf("gate-%03d", i%100), Caller: "+4915100000001", Outcome: outcomes[i%len(outcomes)]}); err != nil {
			b.Fatal(err)
		}
	}
	for i := range 10 {
		if err := e.store.SetLockout(ctx, &gate.Lockout{GateID: "gate-001", Caller: fmt.Sprintf("+4917600000%03d", i), Until: now.Add(time.Hour), At: now}); err != nil {
			b.Fatal(err)
		}
	}
	ck := benchSession(b, e)
	var ds []time.Duration
	cpu0 := cpuTime(b)
	for b.Loop() {
		ds = append(ds, serve(b, e, ck, "/", "gate-099"))
	}
	// The process's CPU time per request, which a loaded machine's run
	// queue does not inflate as it does the wall-clock percentiles.
	b.ReportMetric(float64((cpuTime(b)-cpu0).Microseconds())/1000/float64(len(ds)), "cpu-ms/op")
	report(b, ds)
}

// cpuTime is the process's user and system CPU time.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkGateEditorWeekGrid is the server time of the gate editor of a
// gate with a week grid of ten windows (Monday to Sunday, some past
// midnight). Target: p95 ≤ 20 ms, as the overview.
func BenchmarkGateEditorWeekGrid(b *testing.B) {
	e := newEnvOpts(b, envOpts{burst: -1})
	g := scheduleGate("g1")
	for i := range 8 {
		g.Activation.Schedule.Windows = append(g.Activation.Schedule.Windows,
			gate.Window{Days: []string{"mon-sun"}, From: fmt.Sprintf("%02d:15", 12+i), To: fmt.Sprintf("%02d:45", (20+i)%24)})
	}
	e.putGate(b, g)
	ck := benchSession(b, e)
	var ds []time.Duration
	for b.Loop() {
		ds = append(ds, serve(b, e, ck, "/gates/g1", `id="w.sun.9.from"`))
	}
	report(b, ds)
}
