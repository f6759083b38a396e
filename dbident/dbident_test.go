package dbident_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vipgate/vipgate/dbident"
	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/gate/gatetest"
)

const envPostgres = "VIPGATE_TEST_POSTGRES_DSN"

// testDB returns a DSN whose search_path selects a fresh schema holding
// the table vip (number, action, pin, pin_hash, target, label), dropped
// when the test ends. It skips without the test server.
func testDB(t testing.TB) (string, *pgx.Conn) {
	t.Helper()
	dsn := os.Getenv(envPostgres)
	if dsn == "" {
		t.Skipf("set %s to a PostgreSQL DSN to run the database identification tests", envPostgres)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect to %s: %v", envPostgres, err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "vipgate_dbident_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		conn.Close(context.Background())
	})
	if _, err := conn.Exec(ctx, "CREATE TABLE "+schema+".vip (number text PRIMARY KEY, action text, pin text, pin_hash text, target text, label text, pin_int int)"); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("%s is not a URL: %v", envPostgres, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), conn
}

func insert(t testing.TB, conn *pgx.Conn, dsn string, number, action, pin, pinHash, target, label string) {
	t.Helper()
	u, _ := url.Parse(dsn)
	schema := u.Query().Get("search_path")
	nullable := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	if _, err := conn.Exec(context.Background(), "INSERT INTO "+schema+".vip (number, action, pin, pin_hash, target, label) VALUES ($1, $2, $3, $4, $5, $6)",
		number, action, nullable(pin), nullable(pinHash), nullable(target), nullable(label)); err != nil {
		t.Fatal(err)
	}
}

const lookup = "SELECT action, pin, pin_hash, target, label FROM vip WHERE number = :caller_e164"

func dbGate(dsn, query string) *gate.Gate {
	g := &gate.Gate{ID: "crm-db", Enabled: true, Match: gate.Match{Numbers: []string{"1000"}},
		Identification: gate.Identification{Mode: gate.IdentDatabase, Region: "DE", Database: &gate.DatabaseConfig{DSN: dsn, Query: query, Timeout: gate.Duration(2 * time.Second)}},
		Failure:        gate.FailurePolicy{Action: gate.FailReject}}
	g.Normalize()
	return g
}

func req(caller string) gate.AuthRequest {
	return gate.AuthRequest{Caller: caller, CallerRaw: caller, CallerKnown: true, Called: "+4930123456", CallID: "c1"}
}

var testKey = []byte("0123456789abcdef0123456789abcdef")

func TestVerdicts(t *testing.T) {
	dsn, conn := testDB(t)
	h, _ := gate.NewHasher(testKey)
	insert(t, conn, dsn, "+491", "askForPin", "0042", "", "", "Ada")
	insert(t, conn, dsn, "+492", "askforpin", "", h.Hash("8642").String(), "", "")
	insert(t, conn, dsn, "+493", "reject", "", "", "", "")
	insert(t, conn, dsn, "+494", "pass", "", "", "", "")
	insert(t, conn, dsn, "+495", "forward", "", "", "sales,200,1", "")
	a := dbident.New(dbident.Config{Hasher: h})
	defer a.Close()
	g := dbGate(dsn, lookup)
	if err := g.Validate(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		caller string
		kind   gate.AnswerKind
		check  func(gate.AuthAnswer) bool
	}{
		{"+491", gate.AnswerAskPIN, func(a gate.AuthAnswer) bool { return a.PIN.Match("0042") && !a.PIN.Match("42") && a.Label == "Ada" }},
		{"+492", gate.AnswerAskPIN, func(a gate.AuthAnswer) bool {
			return a.Expected != nil && a.Expected.Match("8642") && !a.Expected.Match("8641")
		}},
		{"+493", gate.AnswerReject, nil},
		{"+494", gate.AnswerPass, nil},
		{"+495", gate.AnswerForward, func(a gate.AuthAnswer) bool { return a.Forward.String() == "sales,200,1" }},
		{"+499", gate.AnswerUnknown, nil},
	}
	for _, tt := range tests {
		t.Run(tt.caller, func(t *testing.T) {
			ans, err := a.Authorize(context.Background(), g, req(tt.caller))
			if err != nil {
				t.Fatalf("Authorize: %v", err)
			}
			if ans.Kind != tt.kind || (tt.check != nil && !tt.check(ans)) {
				t.Errorf("answer %+v, want %s", ans, tt.kind)
			}
			if ans.Latency <= 0 {
				t.Error("no latency")
			}
		})
	}
	// Every parameter reaches the query as a value.
	all := dbGate(dsn, "SELECT 'forward' AS action, :caller_e164 || '|' || :caller || '|' || :called || '|' || :gate AS label, '100' AS target")
	ans, err := a.Authorize(context.Background(), all, gate.AuthRequest{Caller: "+4917612345678", CallerRaw: "017612345678", CallerKnown: true, Called: "+4930123456"})
	if err != nil || ans.Label != "+4917612345678|017612345678|+4930123456|crm-db" {
		t.Errorf("parameters: %q %v", ans.Label, err)
	}
	// A caller the numbering could not read has no E.164 number.
	ans, err = a.Authorize(context.Background(), all, gate.AuthRequest{Caller: "anonymous", CallerRaw: "anonymous", Called: "+4930123456"})
	if err != nil || ans.Label != "|anonymous|+4930123456|crm-db" {
		t.Errorf("unreadable caller: %q %v", ans.Label, err)
	}
	// A caller's number cannot change the query: it is a value.
	ans, err = a.Authorize(context.Background(), g, req("' OR '1'='1"))
	if err != nil || ans.Kind != gate.AnswerUnknown {
		t.Errorf("an injected number: %+v %v, want no row", ans, err)
	}
}

func TestFailures(t *testing.T) {
	dsn, conn := testDB(t)
	insert(t, conn, dsn, "+491", "pass", "", "", "", "")
	tests := []struct {
		name, query string
		timeout     time.Duration
		class       string
		text        string
	}{
		{"slow query hits the statement timeout", "SELECT 'pass' AS action FROM pg_sleep(5)", 300 * time.Millisecond, dbident.ClassTimeout, ""},
		{"a write is refused by the read-only transaction", "WITH d AS (DELETE FROM vip RETURNING number) SELECT 'pass' AS action FROM d", 0, dbident.ClassQuery, "read-only"},
		{"SQL error", "SELECT 'pass' AS action FROM no_such_table", 0, dbident.ClassQuery, "no_such_table"},
		{"unknown column", "SELECT 'pass' AS action, 1 AS pinn", 0, dbident.ClassAnswer, `unknown column "pinn"`},
		{"integer PIN", "SELECT 'askForPin' AS action, 42 AS pin", 0, dbident.ClassAnswer, "want text"},
		{"unknown action", "SELECT 'maybe' AS action", 0, dbident.ClassAnswer, "not askForPin"},
		{"NULL action", "SELECT NULL::text AS action", 0, dbident.ClassAnswer, "missing or NULL"},
		{"askForPin without PIN", "SELECT 'askForPin' AS action", 0, dbident.ClassAnswer, "needs the column pin"},
		{"PIN that is not digits", "SELECT 'askForPin' AS action, '12ab' AS pin", 0, dbident.ClassAnswer, "digits only"},
		{"malformed hash", "SELECT 'askForPin' AS action, 'nope' AS pin_hash", 0, dbident.ClassAnswer, "pin_hash"},
		{"forward without target", "SELECT 'forward' AS action", 0, dbident.ClassAnswer, "target"},
		{"bad retries", "SELECT 'askForPin' AS action, '1234' AS pin, 99 AS max_retries", 0, dbident.ClassAnswer, "max_retries"},
		{"action not text", "SELECT 1 AS action", 0, dbident.ClassAnswer, "want text"},
	}
	a := dbident.New(dbident.Config{})
	defer a.Close()
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := dbGate(dsn, tt.query)
			g.ID = "g" + string(rune('a'+i))
			if tt.timeout > 0 {
				g.Identification.Database.Timeout = gate.Duration(tt.timeout)
			}
			start := time.Now()
			_, err := a.Authorize(context.Background(), g, req("+491"))
			var de *dbident.Error
			if !errors.As(err, &de) || de.Class != tt.class || !strings.Contains(err.Error(), tt.text) {
				t.Fatalf("error %v, want class %s with %q", err, tt.class, tt.text)
			}
			if gate.ErrorClass(err) != tt.class {
				t.Errorf("ErrorClass = %q", gate.ErrorClass(err))
			}
			if tt.timeout > 0 && time.Since(start) > 3*time.Second {
				t.Errorf("the slow query took %s, want it cut at the timeout", time.Since(start))
			}
		})
	}
	var n int
	u, _ := url.Parse(dsn)
	if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM "+u.Query().Get("search_path")+".vip").Scan(&n); err != nil || n != 1 {
		t.Errorf("rows after the write attempt: %d %v, want 1", n, err)
	}
}

// TestFailurePolicy runs the engine over a real query: an error, a
// timeout and a malformed row become the gate's failure policy, no row
// its unknown_caller rule, and the verdict shows in the trace without the
// PIN.
func TestFailurePolicy(t *testing.T) {
	dsn, conn := testDB(t)
	insert(t, conn, dsn, "+4917612345678", "askForPin", "97531", "", "", "")
	h, _ := gate.NewHasher(testKey)
	a := dbident.New(dbident.Config{Hasher: h})
	defer a.Close()
	tests := []struct {
		name, query string
		timeout     time.Duration
		verdict     gate.Verdict
		class       string
	}{
		{"PIN", lookup, 0, gate.VerdictAskPIN, ""},
		{"timeout", "SELECT 'pass' AS action FROM pg_sleep(5)", 200 * time.Millisecond, gate.VerdictForward, "timeout"},
		{"malformed row", "SELECT 'askForPin' AS action, 1 AS pin", 0, gate.VerdictForward, "answer"},
		{"no row", "SELECT 'pass' AS action WHERE false", 0, gate.VerdictPass, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := dbGate(dsn, tt.query)
			g.Identification.UnknownCaller = gate.UnknownPass
			g.Failure = gate.FailurePolicy{Action: gate.FailForward, Target: gate.Target{Kind: gate.TargetExtension, Exten: "900", Priority: 1}}
			g.Routes.ForwardContext = "staff"
			if tt.timeout > 0 {
				g.Identification.Database.Timeout = gate.Duration(tt.timeout)
			}
			st := gatetest.NewStore()
			if err := st.CreateGate(context.Background(), g); err != nil {
				t.Fatal(err)
			}
			e := gate.NewEngine(gate.EngineConfig{Store: st, Hasher: h, Database: a, Region: "DE"})
			d := e.Decide(context.Background(), gate.CallInfo{Caller: "017612345678", Called: "1000"}, time.Now())
			if d.Verdict != tt.verdict || d.ErrClass != tt.class {
				t.Fatalf("verdict %s class %q, want %s %q; trace %v", d.Verdict, d.ErrClass, tt.verdict, tt.class, d.Trace)
			}
			if tt.verdict == gate.VerdictAskPIN && !d.AskPIN.Expected.Match("97531") {
				t.Error("the decision does not take the database's PIN")
			}
			for _, s := range d.Trace {
				if strings.Contains(s.Detail, "97531") {
					t.Errorf("trace %q holds the PIN", s.Detail)
				}
			}
		})
	}
}

type observer struct {
	mu       sync.Mutex
	requests []string
	breaker  []bool
	hits     int
}

func (o *observer) DatabaseRequest(_ string, _ time.Duration, class string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.requests = append(o.requests, class)
}

func (o *observer) DatabaseBreaker(_ string, open bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.breaker = append(o.breaker, open)
}

func (o *observer) DatabaseCache(_ string, hit bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if hit {
		o.hits++
	}
}

func TestBreakerAndCache(t *testing.T) {
	dsn, conn := testDB(t)
	insert(t, conn, dsn, "+491", "reject", "", "", "", "")
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	obs := &observer{}
	a := dbident.New(dbident.Config{Observer: obs, Now: clock})
	defer a.Close()

	bad := dbGate(dsn, "SELECT 'pass' AS action FROM no_such_table")
	bad.Identification.Database.BreakerFailures = 2
	bad.Identification.Database.BreakerCooldown = gate.Duration(time.Minute)
	ctx := context.Background()
	for i := range 2 {
		if _, err := a.Authorize(ctx, bad, req("+491")); gate.ErrorClass(err) != dbident.ClassQuery {
			t.Fatalf("failure %d: %v", i, err)
		}
	}
	if _, err := a.Authorize(ctx, bad, req("+491")); gate.ErrorClass(err) != dbident.ClassBreakerOpen || !errors.Is(err, gate.ErrUnavailable) {
		t.Fatalf("after 2 failures: %v, want the breaker open", err)
	}
	// After the cool-down one trial goes out; it fails again.
	advance(time.Minute)
	if _, err := a.Authorize(ctx, bad, req("+491")); gate.ErrorClass(err) != dbident.ClassQuery {
		t.Fatalf("trial: %v", err)
	}
	// A fixed query is a new configuration: a fresh breaker.
	good := dbGate(dsn, lookup)
	good.ID = bad.ID
	if ans, err := a.Authorize(ctx, good, req("+491")); err != nil || ans.Kind != gate.AnswerReject {
		t.Fatalf("fixed query: %+v %v", ans, err)
	}
	obs.mu.Lock()
	if strings.Join(obs.requests, ",") != "query,query,breaker_open,query," || len(obs.breaker) < 2 || !obs.breaker[0] {
		t.Errorf("observer requests %q breaker %v", obs.requests, obs.breaker)
	}
	obs.mu.Unlock()

	// Cache: the second lookup within the TTL is not sent.
	cached := dbGate(dsn, lookup)
	cached.ID = "cached"
	cached.Identification.Database.CacheTTL = gate.Duration(time.Minute)
	if ans, err := a.Authorize(ctx, cached, req("+491")); err != nil || ans.Cached {
		t.Fatalf("first: %+v %v", ans, err)
	}
	u, _ := url.Parse(dsn)
	if _, err := conn.Exec(ctx, "UPDATE "+u.Query().Get("search_path")+".vip SET action = 'pass'"); err != nil {
		t.Fatal(err)
	}
	if ans, err := a.Authorize(ctx, cached, req("+491")); err != nil || !ans.Cached || ans.Kind != gate.AnswerReject {
		t.Fatalf("second: %+v %v, want the cached reject", ans, err)
	}
	advance(time.Minute)
	if ans, err := a.Authorize(ctx, cached, req("+491")); err != nil || ans.Cached || ans.Kind != gate.AnswerPass {
		t.Fatalf("after the TTL: %+v %v, want the new answer", ans, err)
	}
	if obs.hits != 1 {
		t.Errorf("cache hits %d, want 1", obs.hits)
	}
}

// TestNoSecretInErrorsOrLogs: neither the DSN's password nor a PIN
// appears in an error or a log line, for a server that cannot be
// reached, one that refuses the password, a DSN that does not parse and
// a lookup that answers a PIN.
func TestNoSecretInErrorsOrLogs(t *testing.T) {
	const password = "Sup3rS3cretPw"
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a := dbident.New(dbident.Config{Logger: log})
	defer a.Close()
	dsns := map[string]string{
		"unreachable URL":      "postgres://vip:" + password + "@127.0.0.1:1/crm?connect_timeout=1",
		"unreachable settings": "host=127.0.0.1 port=1 user=vip password=" + password + " dbname=crm",
		"quoted settings":      "host=127.0.0.1 port=1 user=vip password='" + password + " x' dbname=crm",
		"does not parse":       "postgres://vip:" + password + "@127.0.0.1:notaport/crm",
		"bad settings":         "host=127.0.0.1 password=" + password + " sslmode=bogus",
	}
	if dsn := os.Getenv(envPostgres); dsn != "" {
		// The test server with a user that does not exist.
		u, _ := url.Parse(dsn)
		u.User = url.UserPassword("vipgate_no_such_user", password)
		dsns["refused login"] = u.String()
	}
	for name, dsn := range dsns {
		t.Run(name, func(t *testing.T) {
			g := dbGate(dsn, lookup)
			g.ID = "g-" + strings.ReplaceAll(name, " ", "-")
			_, err := a.Authorize(context.Background(), g, req("+491"))
			if err == nil {
				t.Fatal("no error")
			}
			if strings.Contains(err.Error(), password) {
				t.Errorf("the error holds the password: %v", err)
			}
			if c := gate.ErrorClass(err); c != dbident.ClassNetwork && c != dbident.ClassConfig && c != dbident.ClassTimeout {
				t.Errorf("class %q for %v", c, err)
			}
			t.Logf("%s: %v", name, err)
		})
	}
	if dsn, conn := testDBIfSet(t); dsn != "" {
		insert(t, conn, dsn, "+491", "askForPin", "24680", "", "", "")
		if ans, err := a.Authorize(context.Background(), dbGate(dsn, lookup), req("+491")); err != nil || ans.Kind != gate.AnswerAskPIN {
			t.Fatalf("PIN lookup: %+v %v", ans, err)
		}
	}
	for _, secret := range []string{password, "24680"} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the log holds %q:\n%s", secret, logs.String())
		}
	}
}

// testDBIfSet is testDB without the skip.
func testDBIfSet(t *testing.T) (string, *pgx.Conn) {
	if os.Getenv(envPostgres) == "" {
		return "", nil
	}
	return testDB(t)
}

func TestConcurrentLookupsShareThePool(t *testing.T) {
	dsn, conn := testDB(t)
	insert(t, conn, dsn, "+491", "pass", "", "", "", "")
	a := dbident.New(dbident.Config{})
	defer a.Close()
	g := dbGate(dsn, "SELECT 'pass' AS action FROM pg_sleep(0.05)")
	g.Identification.Database.MaxConns = 2
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for range 10 {
		wg.Go(func() {
			if _, err := a.Authorize(context.Background(), g, req("+491")); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("lookup: %v", err)
	}
	// Two connections at most served the ten lookups.
	var n int
	if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'vipgate' AND query LIKE '%pg_sleep(0.05)%'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n > 2 {
		t.Errorf("%d connections ran the query, want at most max_conns 2", n)
	}
}
