package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/gate/gatetest"
)

// freeAddr returns a loopback address with a port that was free a moment
// ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// serveInBackground runs serve with args until the test ends; it returns
// the log and a function that stops serve and returns its error.
func serveInBackground(t *testing.T, c *cli, args ...string) (*syncBuffer, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	stderr := new(syncBuffer)
	errc := make(chan error, 1)
	go func() {
		errc <- run(ctx, append([]string{"vipgate", "serve", "--agi", "off"}, args...), func(k string) string { return c.env[k] }, io.Discard, stderr)
	}()
	var (
		done bool
		err  error
	)
	stop := func() error {
		if !done {
			cancel()
			err, done = <-errc, true
		}
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return stderr, stop
}

// get returns the status and body of url, or 0 while nothing answers.
func get(url string) (int, string) {
	res, err := http.Get(url)
	if err != nil {
		return 0, ""
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// waitFor polls cond until it holds or 10 s have passed.
func waitFor(t *testing.T, what string, cond func() bool, log *syncBuffer) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not happen within 10 s; log:\n%s", what, log.Bytes())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestServeNoticesDeletedDatabase deletes the SQLite files under a
// running serve, as "rm vg.db*" does: /readyz turns 503 with the reason,
// an Error line says so and vipgate_store_ok is 0. The restart on the new,
// empty database says loudly that the gates are gone, and with
// --require-gates refuses to serve.
func TestServeNoticesDeletedDatabase(t *testing.T) {
	defer func(d time.Duration) { storeCheckEvery = d }(storeCheckEvery)
	storeCheckEvery = 50 * time.Millisecond
	c := newCLI(t)
	c.must("gates", "import", example("after-hours.yaml"))
	db := filepath.Join(c.dir, "vipgate", "vipgate.db")
	addr := freeAddr(t)
	log, stop := serveInBackground(t, c, "--http", addr)
	waitFor(t, "/readyz 200", func() bool { code, _ := get("http://" + addr + "/readyz"); return code == 200 }, log)
	if _, m := get("http://" + addr + "/metrics"); !strings.Contains(m, "vipgate_store_ok 1") {
		t.Errorf("metrics lack vipgate_store_ok 1")
	}
	marker := filepath.Join(c.dir, "vipgate", gatesMarkerName)
	if _, err := os.Stat(marker); err != nil {
		t.Fatalf("no gates marker beside the key file: %v", err)
	}

	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(db + suffix); err != nil {
			t.Fatal(err)
		}
	}
	var body string
	waitFor(t, "/readyz 503", func() bool {
		var code int
		code, body = get("http://" + addr + "/readyz")
		return code == http.StatusServiceUnavailable
	}, log)
	if !strings.Contains(body, "database file deleted") {
		t.Errorf("/readyz does not give the reason: %s", body)
	}
	waitFor(t, "an Error line", func() bool {
		return strings.Contains(string(log.Bytes()), "level=ERROR") && strings.Contains(string(log.Bytes()), "was deleted while open")
	}, log)
	if _, m := get("http://" + addr + "/metrics"); !strings.Contains(m, "vipgate_store_ok 0") {
		t.Errorf("metrics lack vipgate_store_ok 0")
	}
	if err := stop(); err != nil {
		t.Fatalf("serve: %v", err)
	}

	// The restart finds an empty database where there were gates.
	log, stop = serveInBackground(t, c, "--http", "off")
	waitFor(t, "the empty-database Error", func() bool {
		return strings.Contains(string(log.Bytes()), "level=ERROR") && strings.Contains(string(log.Bytes()), "the database has no gates, but this installation had gates")
	}, log)
	if err := stop(); err != nil {
		t.Fatalf("serve: %v", err)
	}
	_, errOut, err := c.run("serve", "--http", "off", "--agi", "off", "--require-gates")
	if err == nil || !strings.Contains(err.Error(), "refusing to serve (--require-gates)") || !strings.Contains(err.Error(), "it had 1") {
		t.Fatalf("serve --require-gates on the emptied database: %v\n%s", err, errOut)
	}
}

// TestServeRequireGates refuses to serve a database without gates with
// --require-gates (or VIPGATE_REQUIRE_GATES) and serves once there are
// gates; without it an empty database is a Warn line.
func TestServeRequireGates(t *testing.T) {
	c := newCLI(t)
	if _, _, err := c.run("serve", "--http", "off", "--agi", "off", "--require-gates"); err == nil || !strings.Contains(err.Error(), "import them first") {
		t.Fatalf("serve --require-gates without gates: %v", err)
	}
	c.env["VIPGATE_REQUIRE_GATES"] = "true"
	if _, _, err := c.run("serve", "--http", "off", "--agi", "off"); err == nil {
		t.Fatal("VIPGATE_REQUIRE_GATES=true without gates: serve started")
	}
	delete(c.env, "VIPGATE_REQUIRE_GATES")
	log, stop := serveInBackground(t, c, "--http", "off")
	waitFor(t, "the no-gates Warn", func() bool {
		return strings.Contains(string(log.Bytes()), "level=WARN") && strings.Contains(string(log.Bytes()), "the database has no gates: every call passes unscreened")
	}, log)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	c.must("gates", "import", example("after-hours.yaml"))
	log, stop = serveInBackground(t, c, "--http", "off", "--require-gates")
	waitFor(t, "start", func() bool { return strings.Contains(string(log.Bytes()), "vipgate started") }, log)
	if err := stop(); err != nil {
		t.Fatalf("serve --require-gates with gates: %v\n%s", err, log.Bytes())
	}
}

// TestDatabaseModeWarning warns, as for the key file, when the database
// file is readable by others.
func TestDatabaseModeWarning(t *testing.T) {
	c := newCLI(t)
	c.must("gates", "import", example("after-hours.yaml"))
	db := filepath.Join(c.dir, "vipgate", "vipgate.db")
	st, err := os.Stat(db)
	if err != nil {
		t.Fatal(err)
	}
	if m := st.Mode().Perm(); m != 0o600 {
		t.Errorf("new database has mode %v, want 0600", m)
	}
	if _, errOut, _ := c.run("gates", "list"); strings.Contains(errOut, "readable by others") {
		t.Errorf("a private database is warned about:\n%s", errOut)
	}
	if err := os.Chmod(db, 0o644); err != nil {
		t.Fatal(err)
	}
	_, errOut, err := c.run("gates", "list")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errOut, "level=WARN") || !strings.Contains(errOut, "database file "+db+" is readable by others (mode -rw-r--r--); chmod 600 it") {
		t.Errorf("no warning about a database readable by others:\n%s", errOut)
	}
}

// TestStoreWatch drives the store check by hand: a failing store is
// logged at Error once and again after a minute, not on every check; it
// recovers; gates that vanish while serving stop serve with
// --require-gates and are an Error without it.
func TestStoreWatch(t *testing.T) {
	ctx := context.Background()
	st := gatetest.NewStore()
	if err := st.CreateGate(ctx, &gate.Gate{ID: "g", Activation: gate.Activation{Mode: gate.ActiveAlways}, Identification: gate.Identification{Mode: gate.IdentStatic}}); err != nil {
		t.Fatal(err)
	}
	var recs logRecords
	clock := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	var states []bool
	w := &storeWatch{store: st, log: slog.New(&recs), state: func(ok bool) { states = append(states, ok) },
		marker: filepath.Join(t.TempDir(), gatesMarkerName), dbID: "/srv/vg.db", now: func() time.Time { return clock }}
	if err := w.check(ctx); err != nil {
		t.Fatal(err)
	}
	m, err := readGatesMarker(w.marker)
	if err != nil || m == nil || m.Gates != 1 || m.Database != "/srv/vg.db" {
		t.Fatalf("marker %+v, %v; want 1 gate of /srv/vg.db", m, err)
	}
	st.SetErr(&gate.StoreFault{Reason: "database file deleted", Err: gate.ErrUnavailable})
	for range 3 {
		clock = clock.Add(5 * time.Second)
		if err := w.check(ctx); err != nil {
			t.Fatal(err)
		}
	}
	clock = clock.Add(time.Minute)
	_ = w.check(ctx)
	if n := strings.Count(strings.Join(recs.lines(), "\n"), "ERROR store check failed"); n != 2 {
		t.Errorf("%d Error lines for a failure seen 4 times over 75 s, want 2:\n%s", n, strings.Join(recs.lines(), "\n"))
	}
	st.SetErr(nil)
	_ = w.check(ctx)
	if len(states) != 6 || states[0] != true || states[1] != false || states[5] != true {
		t.Errorf("vipgate_store_ok states %v, want ok, 4 × not ok, ok", states)
	}
	if !strings.Contains(strings.Join(recs.lines(), "\n"), "store check passes again") {
		t.Error("no line says the store recovered")
	}
	// The gates vanish while serving.
	if err := st.DeleteGate(ctx, "g"); err != nil {
		t.Fatal(err)
	}
	if err := w.check(ctx); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(recs.lines(), "\n"), "ERROR the database has no gates, but this installation had gates") {
		t.Errorf("no Error for vanished gates:\n%s", strings.Join(recs.lines(), "\n"))
	}
	w.requireGates = true
	if err := w.check(ctx); err == nil || !strings.Contains(err.Error(), "it had 1") {
		t.Errorf("check with --require-gates after the gates vanished: %v, want an error", err)
	}
}
