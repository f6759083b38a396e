package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vipgate/vipgate/admin"
	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/storage/sqlite"
)

const day = 24 * time.Hour

func TestParseRetention(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"90d", 90 * day, true},
		{"1d", day, true},
		{"0d", 0, true},
		{"0", 0, true},
		{"36h", 36 * time.Hour, true},
		{"2160h", 90 * day, true},
		{"90m", 0, false}, // a slip for 90 days, most likely
		{"90s", 0, false},
		{"24h", day, true},
		{"23h", 0, false},
		{"59m59s", 0, false},
		{" 7d ", 7 * day, true},
		{"106751d", 106751 * day, true},
		{"106752d", 0, false}, // more than a time.Duration holds
		{"90", 0, false},      // no unit: days or seconds? refuse
		{"-1h", 0, false},
		{"-3d", 0, false},
		{"+3d", 0, false},
		{"1.5d", 0, false},
		{"1d12h", 0, false},
		{"d", 0, false},
		{"", 0, false},
		{"ninety days", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseRetention(tc.in)
			if tc.ok && (err != nil || got != tc.want) {
				t.Fatalf("parseRetention(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
			}
			if !tc.ok && err == nil {
				t.Fatalf("parseRetention(%q) = %v, want an error", tc.in, got)
			}
		})
	}
}

func TestCallLogRetentionSetting(t *testing.T) {
	dir := t.TempDir()
	file := func(body string) string {
		p := filepath.Join(dir, strings.NewReplacer(" ", "_", ":", "", "\n", "").Replace(body)+".yaml")
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	days30 := file("call-log-retention: 30d\n")
	zero := file("call-log-retention: 0\n")
	bad := file("call-log-retention: forever\n")
	tests := []struct {
		name string
		args []string
		env  string
		want time.Duration
		err  string // a part of the error, if one is expected
	}{
		{"default", nil, "", 90 * day, ""},
		{"config file", []string{"--config", days30}, "", 30 * day, ""},
		{"config file number 0", []string{"--config", zero}, "", 0, ""},
		{"environment beats file", []string{"--config", days30}, "720h", 720 * time.Hour, ""},
		{"flag beats environment", []string{"--config", days30, "--call-log-retention", "0"}, "720h", 0, ""},
		{"flag alone", []string{"--call-log-retention", "7d"}, "", 7 * day, ""},
		{"bad flag", []string{"--call-log-retention", "90"}, "", 0, "--call-log-retention"},
		{"bad environment", nil, "-1h", 0, "--call-log-retention"},
		{"bad file", []string{"--config", bad}, "", 0, "forever"},
		{"bad file hidden by flag", []string{"--config", bad, "--call-log-retention", "1d"}, "", day, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := &env{stderr: io.Discard, getenv: func(k string) string {
				if k == "VIPGATE_CALL_LOG_RETENTION" {
					return tc.env
				}
				return ""
			}}
			f := newFlags(e, "serve", "")
			f.common()
			get := retentionFlag(f)
			err := f.parse(tc.args)
			var got time.Duration
			if err == nil {
				got, err = get()
			}
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want one mentioning %q", err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("retention = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

// TestServeRefusesBadRetention checks that serve stops at a bad setting
// with a usage error, before it opens the database.
func TestServeRefusesBadRetention(t *testing.T) {
	c := newCLI(t)
	c.env["VIPGATE_CALL_LOG_RETENTION"] = "3 months"
	_, _, err := c.run("serve", "--http", "off", "--agi", "off")
	if exitCode(err) != 2 || !strings.Contains(err.Error(), "--call-log-retention") {
		t.Fatalf("serve with a bad retention: %v (exit %d), want a usage error naming the setting", err, exitCode(err))
	}
	if _, err := os.Stat(filepath.Join(c.dir, "vipgate", "vipgate.db")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("serve created the database before refusing its settings (stat: %v)", err)
	}
}

// logRecords is a slog.Handler that keeps every record.
type logRecords struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (h *logRecords) Enabled(context.Context, slog.Level) bool { return true }
func (h *logRecords) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *logRecords) WithGroup(string) slog.Handler            { return h }
func (h *logRecords) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	h.recs = append(h.recs, r.Clone())
	h.mu.Unlock()
	return nil
}

// lines returns the records as "LEVEL msg key=value ..." lines.
func (h *logRecords) lines() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, r := range h.recs {
		var b strings.Builder
		b.WriteString(r.Level.String() + " " + r.Message)
		r.Attrs(func(a slog.Attr) bool {
			if a.Key != "took" { // varies
				b.WriteString(" " + a.String())
			}
			return true
		})
		out = append(out, b.String())
	}
	return out
}

// pruneCall is one PruneCalls call seen by scriptedPrunes.
type pruneCall struct {
	before time.Time
	result chan<- pruneResult
}

type pruneResult struct {
	n   int64
	err error
}

// scriptedPrunes hands each PruneCalls call to the test, which answers it.
type scriptedPrunes chan pruneCall

func (s scriptedPrunes) PruneCalls(ctx context.Context, before time.Time) (int64, error) {
	res := make(chan pruneResult, 1)
	s <- pruneCall{before, res}
	select {
	case r := <-res:
		return r.n, r.err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// TestCallPruner drives the pruner with a scripted clock, timer and
// store: the first prune after the delay, then one per interval, each
// cutting at now minus the retention; Info only when rows went, Warn on
// errors, and a clean stop, also in the middle of a prune.
func TestCallPruner(t *testing.T) {
	const retention = 30 * day
	start := time.Date(2026, 3, 29, 1, 30, 0, 0, time.UTC)
	var (
		mu    sync.Mutex
		clock = start
	)
	setClock := func(t time.Time) { mu.Lock(); clock = t; mu.Unlock() }
	waits := make(chan time.Duration, 4)
	fire := make(chan time.Time)
	store := make(scriptedPrunes)
	logs := &logRecords{}
	var pruned []int64
	p := &callPruner{
		store: store, retention: retention, delay: time.Minute, interval: time.Hour,
		log:    slog.New(logs),
		pruned: func(n int64) { pruned = append(pruned, n) }, // called on the pruner's goroutine, read after a wait
		now:    func() time.Time { mu.Lock(); defer mu.Unlock(); return clock },
		after:  func(d time.Duration) <-chan time.Time { waits <- d; return fire },
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan struct{})
	go func() { defer close(done); p.run(ctx) }()

	wait := func(want time.Duration) {
		t.Helper()
		select {
		case d := <-waits:
			if d != want {
				t.Fatalf("pruner waits %v, want %v", d, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("pruner did not wait for its timer (want %v)", want)
		}
	}
	prune := func(now time.Time) pruneCall {
		t.Helper()
		setClock(now)
		fire <- now
		select {
		case c := <-store:
			if want := now.Add(-retention); !c.before.Equal(want) {
				t.Fatalf("prune before %v, want %v (now minus the retention)", c.before, want)
			}
			return c
		case <-time.After(5 * time.Second):
			t.Fatal("timer fired, but no prune")
		}
		return pruneCall{}
	}
	checkLogs := func(want ...string) {
		t.Helper()
		got := logs.lines()
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("log:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}

	wait(time.Minute)
	prune(start).result <- pruneResult{n: 1234}
	wait(time.Hour)
	info := "INFO call log pruned rows=1234 before=2026-02-27T01:30:00Z"
	checkLogs(info)

	prune(start.Add(time.Hour)).result <- pruneResult{n: 0}
	wait(time.Hour)
	checkLogs(info) // nothing deleted, nothing said

	prune(start.Add(2 * time.Hour)).result <- pruneResult{n: 7, err: errors.New("sqlite: prune calls: 7 deleted, then: disk I/O error")}
	wait(time.Hour)
	checkLogs(info,
		"INFO call log pruned rows=7 before=2026-02-27T03:30:00Z",
		"WARN call log prune failed; trying again later err=sqlite: prune calls: 7 deleted, then: disk I/O error next_in=1h0m0s")
	if len(pruned) != 2 || pruned[0] != 1234 || pruned[1] != 7 {
		t.Errorf("pruned hook got %v, want [1234 7]", pruned)
	}

	// Stop in the middle of a prune: the store sees the cancel, run
	// returns, and the cancel is not reported as a failure.
	prune(start.Add(3 * time.Hour))
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("pruner did not stop after its context was cancelled")
	}
	checkLogs(info,
		"INFO call log pruned rows=7 before=2026-02-27T03:30:00Z",
		"WARN call log prune failed; trying again later err=sqlite: prune calls: 7 deleted, then: disk I/O error next_in=1h0m0s")
}

// TestCallPrunerStopsWhileWaiting checks that a pruner waiting for its
// timer stops at once when its context is cancelled.
func TestCallPrunerStopsWhileWaiting(t *testing.T) {
	p := &callPruner{store: make(scriptedPrunes), retention: day, delay: time.Hour, interval: time.Hour, log: slog.New(slog.DiscardHandler)}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); p.run(ctx) }()
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("pruner did not stop while waiting for its first prune")
	}
}

// TestCallsPrunedMetric checks that pruned rows reach
// vipgate_calls_pruned_total.
func TestCallsPrunedMetric(t *testing.T) {
	m := admin.NewMetrics()
	store := make(scriptedPrunes)
	p := &callPruner{store: store, retention: day, interval: time.Hour, log: slog.New(slog.DiscardHandler), pruned: m.CallsPruned}
	go func() {
		for _, n := range []int64{5, 0, 3} {
			(<-store).result <- pruneResult{n: n}
		}
	}()
	for range 3 {
		p.prune(t.Context(), time.Now())
	}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if body := rec.Body.String(); !strings.Contains(body, "\nvipgate_calls_pruned_total 8\n") {
		t.Errorf("metrics lack vipgate_calls_pruned_total 8:\n%s", grepLines(body, "pruned"))
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestServePrunesCallLog runs serve on an SQLite database with old and
// recent call-log rows: the first prune (here right after start) deletes
// the old rows, says so in the log, and keeps the recent one.
func TestServePrunesCallLog(t *testing.T) {
	defer func(d time.Duration) { firstPrune = d }(firstPrune)
	firstPrune = 0
	c := newCLI(t)
	db := filepath.Join(c.dir, "vipgate", "vipgate.db")
	if err := os.MkdirAll(filepath.Dir(db), 0o700); err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(t.Context(), db, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for _, age := range []time.Duration{400 * day, 31 * day, 30*day + time.Hour, time.Hour} {
		if err := st.LogCall(t.Context(), &gate.CallRecord{At: now.Add(-age), Source: "agi", Outcome: gate.OutcomePassed}); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var stderr syncBuffer
	errc := make(chan error, 1)
	go func() {
		errc <- run(ctx, []string{"vipgate", "serve", "--http", "off", "--agi", "off", "--call-log-retention", "30d"},
			func(k string) string { return c.env[k] }, io.Discard, &stderr)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(string(stderr.Bytes()), "call log pruned") {
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("no prune within 10s; log:\n%s", string(stderr.Bytes()))
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-errc; err != nil {
		t.Fatalf("serve: %v\n%s", err, string(stderr.Bytes()))
	}
	if log := string(stderr.Bytes()); !strings.Contains(log, "rows=3") || strings.Contains(log, "level=WARN msg=\"call log prune") {
		t.Errorf("log does not report 3 pruned rows without a warning:\n%s", log)
	}
	st, err = sqlite.Open(t.Context(), db, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rows, total, err := st.ListCalls(t.Context(), gate.CallFilter{})
	if err != nil || total != 1 {
		t.Fatalf("after serve: %d rows, %v; want 1 (the recent one)", total, err)
	}
	if !rows[0].At.Equal(now.Add(-time.Hour).UTC().Round(0)) {
		t.Errorf("kept row at %v, want the one an hour old", rows[0].At)
	}
}
