package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vipgate/vipgate/admin"
	"github.com/vipgate/vipgate/admin/console"
	"github.com/vipgate/vipgate/agi"
	"github.com/vipgate/vipgate/ari"
	"github.com/vipgate/vipgate/ari/arifake"
	"github.com/vipgate/vipgate/dbident"
	"github.com/vipgate/vipgate/events"
	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/gate/gatetest"
	"github.com/vipgate/vipgate/internal/secretbox"
	"github.com/vipgate/vipgate/notify"
	"github.com/vipgate/vipgate/storage/sqlite"
	"github.com/vipgate/vipgate/webhook"
)

// The planted PINs and typed digits of the redaction proof: eight or more
// digits that occur in none of the numbers, ids or ports the test uses (the
// test checks that), so that finding one anywhere means it leaked.
const (
	rpStaticPIN  = "73914682" // vip-static's PIN, imported through "gates import"
	rpTablePIN1  = "58203917" // caller T1's PIN, written through POST .../pins
	rpTablePIN2  = "46170385" // caller T2's PIN, imported through the admin CSV import
	rpTablePIN3  = "91527046" // caller T3's PIN, imported through "pins import"
	rpHookPIN    = "30869152" // the expectedPIN the webhook answers
	rpHookStatic = "84273609" // vip-hook's fallback static PIN, written through POST /gates
	rpWrong1     = "66029184" // typed digits that are no PIN at all
	rpWrong2     = "27495031"
	rpWrong3     = "80431769"
	rpBadRowPIN  = "39062851"   // the PIN of a CSV row refused for its caller
	rpNumericPIN = "51927364"   // a PIN sent as a JSON number (400)
	rpLongPIN    = "604718253"  // a PIN one digit too long (422)
	rpBadGatePIN = "2846193705" // a static PIN too long for its gate ("gates import" fails)
	rpAllowPIN   = "17394028"   // a PIN sent with an allow entry (422)
	rpSetPIN     = "62058173"   // vip-static's PIN-set code, imported through "gates import"
	rpHookSetPIN = "48150926"   // vip-hook's PIN-set code, written through POST /gates
	rpDenyRowPIN = "93618257"   // the PIN of a deny row in a CSV import (refused)
)

// Numbers of the redaction proof.
const (
	rpCalledStatic = "+493055500100"
	rpCalledTable  = "+493055500200"
	rpCalledHook   = "+493055500300"
	rpCalledDB     = "+493055500400"

	rpCallerA  = "+4917655501001" // static: wrong, then right
	rpCallerB  = "+4917655501002" // static: all wrong twice, then locked out
	rpCallerC  = "+4917655501003" // static over FastAGI: wrong, then right
	rpCallerT1 = "+4917655502001" // table: wrong then right; also over ARI
	rpCallerT2 = "+4917655502002" // table: types T1's PIN, then its own
	rpCallerT3 = "+4917655502003" // table: all wrong; over FastAGI wrong then right
	rpCallerT4 = "+4917655502999" // table: unknown caller
	rpCallerW1 = "+4917655503001" // webhook askForPin: wrong, then right
	rpCallerW2 = "+4917655503002" // webhook askForPin (maxRetries 2): all wrong
	rpCallerW3 = "+4917655503003" // webhook answers garbage
	rpCallerW4 = "+4917655503004" // webhook times out
	rpCallerW5 = "+4917655503005" // webhook answers 500
	rpCallerW6 = "+4917655503006" // webhook answers a bad maxRetries
	rpCallerD1 = "+4917655504001" // table: deny entry, types digits anyway
	rpCallerL1 = "+4917655504002" // table: allow entry with label and priority
	rpCallerE1 = "+4917655504005" // static: wrong, then the PIN-set code
	rpCallerG1 = "+4917655505001" // static: a one-use granted PIN (API), used, then typed again
	rpCallerG2 = "+4917655505002" // table, no entry: a granted PIN (pins grant) lets it through
	rpCallerB1 = "+4917655506001" // database gate whose server refuses: failure policy
)

// syncBuffer is a log sink safe for concurrent writers.
type syncBuffer = gatetest.Logs

// redactionProof collects the planted secrets and everything observable.
type redactionProof struct {
	t        *testing.T
	mu       sync.Mutex
	secrets  []rpSecret
	surfaces []rpSurface
	// shown are the secrets that one surface shows by design, once: a
	// granted PIN in the answer or output that creates it.
	shown []rpShown
}

type rpShown struct {
	surface string
	val     []byte
}

// plantShownOnce plants a secret that the surface named surface shows
// exactly once (and no other surface at all).
func (p *redactionProof) plantShownOnce(name, surface string, val []byte) {
	p.plant(name, val)
	p.shown = append(p.shown, rpShown{surface, bytes.Clone(val)})
}

type rpSecret struct {
	name string
	val  []byte
}

type rpSurface struct {
	name string
	data []byte
}

func (p *redactionProof) plant(name string, val []byte) {
	if len(val) < 8 {
		p.t.Fatalf("secret %s is too short to be distinctive", name)
	}
	p.secrets = append(p.secrets, rpSecret{name, bytes.Clone(val)})
}

func (p *redactionProof) observe(name string, data []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.surfaces = append(p.surfaces, rpSurface{name, bytes.Clone(data)})
}

// rpCall is one scripted call through gate.Flow and what it must end as.
type rpCall struct {
	id, caller, called string
	steps              []string // typed digits, each ended with '#'
	outcome            gate.Outcome
	attempts           int
	errClass           string
}

// TestRedactionProof runs calls with known PINs, typed digits and secrets
// through the real store, webhook and database authorizers, flow, FastAGI server, ARI
// application, admin API and command line, all logging at Debug, and then
// checks that none of the secrets appears in anything observable: logs,
// the call log, error texts, metrics, admin API answers, exports, the
// webhook requests, the AGI and ARI traffic vipgate sends, and the bytes
// of the SQLite database.
func TestRedactionProof(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	p := &redactionProof{t: t}

	// Secrets that are not PINs.
	key := make([]byte, gate.KeySize)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	keyHex := hex.EncodeToString(key)
	hookSecret := "whsec-" + randText(t, 18)
	ariPassword := "aripw-" + randText(t, 18)
	notifySecret := "nsec-" + randText(t, 18)
	smtpPassword := "smtppw-" + randText(t, 18)
	dbPassword := "dbpw-" + randText(t, 18)
	clearToken, tok, err := admin.NewToken(gate.RoleAdmin, "redaction-proof")
	if err != nil {
		t.Fatal(err)
	}
	tok.CreatedAt = time.Now()
	tokParts := strings.SplitN(clearToken, "_", 3)
	if len(tokParts) != 3 || len(tokParts[2]) < 16 {
		t.Fatalf("unexpected token form %q", clearToken)
	}

	for _, s := range []struct{ name, val string }{
		{"static PIN", rpStaticPIN}, {"table PIN T1", rpTablePIN1}, {"table PIN T2", rpTablePIN2},
		{"table PIN T3", rpTablePIN3}, {"webhook expectedPIN", rpHookPIN}, {"webhook gate static PIN", rpHookStatic},
		{"typed wrong digits 1", rpWrong1}, {"typed wrong digits 2", rpWrong2}, {"typed wrong digits 3", rpWrong3},
		{"PIN of a refused CSV row", rpBadRowPIN}, {"PIN sent as a JSON number", rpNumericPIN},
		{"PIN too long", rpLongPIN}, {"gate static PIN too long", rpBadGatePIN},
		{"PIN sent with an allow entry", rpAllowPIN}, {"PIN-set code", rpSetPIN}, {"webhook gate PIN-set code", rpHookSetPIN}, {"PIN of a deny row", rpDenyRowPIN},
		{"webhook signing secret", hookSecret}, {"installation key (hex)", keyHex},
		{"ARI password", ariPassword}, {"notification webhook secret", notifySecret}, {"SMTP password", smtpPassword}, {"admin token", clearToken}, {"admin token secret part", tokParts[2]},
		{"ARI password", ariPassword}, {"database DSN password", dbPassword}, {"admin token", clearToken}, {"admin token secret part", tokParts[2]},
	} {
		p.plant(s.name, []byte(s.val))
	}
	p.plant("installation key (raw)", key)

	// Everything public the test uses must not contain a secret, or a
	// match could be an accident rather than a leak.
	public := []string{rpCalledStatic, rpCalledTable, rpCalledHook, rpCallerA, rpCallerB, rpCallerC,
		rpCallerT1, rpCallerT2, rpCallerT3, rpCallerT4, rpCallerW1, rpCallerW2, rpCallerW3, rpCallerW4, rpCallerW5, rpCallerW6, rpCallerD1, rpCallerL1, rpCallerE1, rpCallerG1, rpCallerG2, rpCalledDB, rpCallerB1, "vip-db",
		"1800000000.11", "1800000000.12", "1800000000.13", "1700000000.1", "vip-static", "vip-table", "vip-hook", tok.ID}
	for _, s := range p.secrets {
		for _, pub := range public {
			if bytes.Contains([]byte(pub), s.val) {
				t.Fatalf("secret %s occurs in the public value %q; pick another", s.name, pub)
			}
		}
		for _, o := range p.secrets {
			if o.name != s.name && bytes.Equal(o.val, s.val) {
				t.Fatalf("secrets %s and %s are equal", s.name, o.name)
			}
		}
	}

	// Files.
	dir := t.TempDir()
	keyDir := t.TempDir()
	dbPath := filepath.Join(dir, "vipgate.db")
	keyPath := filepath.Join(keyDir, "vipgate.key")
	mustWrite(t, keyPath, keyHex+"\n")
	secretPath := filepath.Join(keyDir, "webhook-secret")
	mustWrite(t, secretPath, hookSecret+"\n")

	// One logger at Debug, JSON and text, for every component.
	var jsonLog, textLog syncBuffer
	log := slog.New(slog.NewMultiHandler(
		slog.NewJSONHandler(&jsonLog, &slog.HandlerOptions{Level: slog.LevelDebug}),
		slog.NewTextHandler(&textLog, &slog.HandlerOptions{Level: slog.LevelDebug}),
	))

	// The webhook: records what it receives and checks the signature.
	type hookReq struct {
		raw      []byte
		caller   string
		verifyOK bool
	}
	var (
		hookMu   sync.Mutex
		hookReqs []hookReq
	)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var raw bytes.Buffer
		fmt.Fprintf(&raw, "%s %s %s\n", r.Method, r.RequestURI, r.Proto)
		_ = r.Header.Write(&raw)
		raw.WriteString("\n")
		raw.Write(body)
		caller := r.URL.Query().Get("caller")
		verr := webhook.Verify([]byte(hookSecret), r, body, 0, time.Now())
		hookMu.Lock()
		hookReqs = append(hookReqs, hookReq{raw: raw.Bytes(), caller: caller, verifyOK: verr == nil})
		hookMu.Unlock()
		switch caller {
		case rpCallerW1:
			io.WriteString(w, `{askForPin:{expectedPIN:"`+rpHookPIN+`"}}`)
		case rpCallerW2:
			io.WriteString(w, `{"askForPin":{"expectedPIN":"`+rpHookPIN+`","maxRetries":2}}`)
		case rpCallerW3:
			io.WriteString(w, `{askForPin:{expectedPIN:"`+rpHookPIN+`", maxRetries: }`)
		case rpCallerW4:
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
			io.WriteString(w, `{askForPin:{expectedPIN:"`+rpHookPIN+`"}}`)
		case rpCallerW5:
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, `{"error":"PIN `+rpHookPIN+` could not be issued"}`)
		case rpCallerW6:
			io.WriteString(w, `{"askForPin":{"expectedPIN":"`+rpHookPIN+`","maxRetries":"lots"}}`)
		default:
			io.WriteString(w, `{reject:true}`)
		}
	}))
	defer hook.Close()

	// The command line, at Debug, on the same database and key file.
	cli := func(cmd []string, args ...string) (string, error) {
		t.Helper()
		var out, errb bytes.Buffer
		full := append([]string{"vipgate"}, cmd...)
		full = append(full, "--db", dbPath, "--key-file", keyPath, "--log-level", "debug", "--region", "DE")
		full = append(full, args...)
		err := run(ctx, full, func(string) string { return "" }, &out, &errb)
		name := "cli " + strings.Join(cmd, " ")
		p.observe(name+" stdout", out.Bytes())
		p.observe(name+" stderr", errb.Bytes())
		if err != nil {
			p.observe(name+" error", []byte(err.Error()))
		}
		return out.String(), err
	}

	// The static gate comes from a gates file, before the service opens
	// the store (the store caches gates).
	staticYAML := filepath.Join(keyDir, "static.yaml")
	mustWrite(t, staticYAML, `id: vip-static
name: Redaction proof static gate
enabled: true
match: {numbers: ["`+rpCalledStatic+`"]}
activation: {mode: always}
identification: {mode: static, static_pin: "`+rpStaticPIN+`", region: DE, pin_set: [{label: Monthly, pin: "`+rpSetPIN+`", account: ACC7}]}
dialogue: {max_retries: 3, min_digits: 8, max_digits: 8, first_digit_timeout: 2s, inter_digit_timeout: 1s}
routes: {on_correct: continue, on_incorrect: "hangup:busy", reject: {cause: busy, announce: true}}
failure: {action: reject}
lockout: {max_failures: 2, window: 1h, duration: 1h}
`)
	if _, err := cli([]string{"gates", "import"}, staticYAML); err != nil {
		t.Fatalf("gates import: %v", err)
	}
	badYAML := filepath.Join(keyDir, "bad.yaml")
	mustWrite(t, badYAML, `id: vip-bad
activation: {mode: always}
identification: {mode: static, static_pin: "`+rpBadGatePIN+`"}
dialogue: {min_digits: 8, max_digits: 8}
`)
	if _, err := cli([]string{"gates", "import"}, badYAML); err == nil {
		t.Fatal("gates import of a gate with a too long static PIN succeeded")
	}

	// The service, wired as serve.go wires it (store.go: webhook secrets
	// sealed with the box of the key file).
	box, err := secretbox.New(key)
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(ctx, dbPath, sqlite.Options{Secrets: box})
	if err != nil {
		t.Fatal(err)
	}
	stClosed := false
	defer func() {
		if !stClosed {
			st.Close()
		}
	}()
	hasher, err := gate.NewHasher(key)
	if err != nil {
		t.Fatal(err)
	}
	metrics := admin.NewMetrics()
	// Notifications, wired as serve wires them, to an event webhook and
	// an SMTP server that record what they receive.
	sink := newRPEventSink(t, notifySecret)
	mx := newRPSMTP(t, smtpPassword)
	notifier := notify.New(notify.Config{Gates: st, Outbox: st, Logger: log, Poll: 20 * time.Millisecond, Backoff: 20 * time.Millisecond,
		SMTP: &notify.SMTP{Host: "127.0.0.1", Port: mx.port, Security: notify.SMTPNone, Username: "vipgate", Password: notify.Password(smtpPassword), From: "vipgate@example.com"}})
	notifyCtx, stopNotifier := context.WithCancel(ctx)
	notifierDone := make(chan struct{})
	go func() { defer close(notifierDone); _ = notifier.Run(notifyCtx) }()
	defer func() { stopNotifier(); <-notifierDone }()
	auth := newAuthorizer(log, webhookObservers{metrics, notifier})
	defer auth.CloseIdleConnections()
	dbAuth := newDatabaseAuthorizer(hasher, log, metrics)
	defer dbAuth.Close()
	engine := gate.NewEngine(gate.EngineConfig{Store: st, Hasher: hasher, Authorizer: auth, Database: dbAuth, Region: "DE", Logger: log})
	// Every decision also goes to the live event stream, followed below
	// both on the hub and over the admin API.
	hub := events.NewHub(events.Config{Buffer: 4096})
	hubSub, _, err := hub.Subscribe(events.Filter{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	flow := gate.NewFlow(engine, gate.FlowConfig{Log: st, Counters: st, Observer: gate.Observers{metrics, hub, notifier}, Logger: log})
	if err := st.CreateToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	// The admin listener as serve mounts it: the API and the web console.
	adminAPI := admin.New(admin.Deps{Store: st, Engine: engine, Hasher: hasher, Metrics: metrics, Region: "DE", Logger: log, Events: hub})
	web, err := console.New(console.Deps{API: adminAPI, Ready: st.Ping, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	adminMux := http.NewServeMux()
	adminMux.Handle("/api/", adminAPI)
	adminMux.Handle("/metrics", adminAPI)
	adminMux.Handle("/", web)
	adminSrv := httptest.NewServer(adminMux)
	defer adminSrv.Close()
	sseReq, err := http.NewRequestWithContext(ctx, "GET", adminSrv.URL+"/api/v1/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	sseReq.Header.Set("Authorization", "Bearer "+clearToken)
	sseRes, err := http.DefaultClient.Do(sseReq)
	if err != nil || sseRes.StatusCode != http.StatusOK {
		t.Fatalf("event stream: %v %v", err, sseRes)
	}
	sseBytes := new(syncBuffer)
	sseDone := make(chan struct{})
	go func() {
		defer close(sseDone)
		_, _ = io.Copy(sseBytes, sseRes.Body)
		sseRes.Body.Close()
	}()
	api := func(method, path, ctype, body string) (int, []byte) {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, method, adminSrv.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+clearToken)
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		var raw bytes.Buffer
		_ = resp.Header.Write(&raw)
		raw.Write(b)
		p.observe(fmt.Sprintf("admin %s %s → %d", method, path, resp.StatusCode), raw.Bytes())
		return resp.StatusCode, b
	}
	mustAPI := func(want int, method, path, ctype, body string) []byte {
		t.Helper()
		code, b := api(method, path, ctype, body)
		if code != want {
			t.Fatalf("%s %s: status %d, want %d: %s", method, path, code, want, b)
		}
		return b
	}

	// The table and webhook gates and the caller table, through the API.
	mustAPI(http.StatusCreated, "POST", "/api/v1/gates", "application/json", `{"id":"vip-table","name":"Redaction proof table gate","enabled":true,
		"match":{"numbers":["`+rpCalledTable+`"]},"activation":{"mode":"always"},
		"identification":{"mode":"table","unknown_caller":"reject","region":"DE"},
		"dialogue":{"max_retries":3,"min_digits":8,"max_digits":8,"first_digit_timeout":"2s","inter_digit_timeout":"1s"},
		"routes":{"forward_context":"from-vipgate","on_correct":"200","on_incorrect":"hangup:rejected","reject":{"cause":"rejected","announce":true},"connecting":true},
		"notify":[{"name":"ops","webhook":{"url":"`+sink.srv.URL+`/events","secret":"`+notifySecret+`"},"email":{"to":["ops@example.com"]}}],
		"failure":{"action":"reject"}}`)
	mustAPI(http.StatusCreated, "POST", "/api/v1/gates", "application/json", `{"id":"vip-hook","name":"Redaction proof webhook gate","enabled":true,
		"match":{"numbers":["`+rpCalledHook+`"]},"activation":{"mode":"always"},
		"identification":{"mode":"webhook","region":"DE","static_pin":"`+rpHookStatic+`","pin_set":[{"label":"Hook","pin":"`+rpHookSetPIN+`"}],
			"webhook":{"url":"`+hook.URL+`/decide?caller=###CALLER_NUMBER###&called=###CALLED_NUMBER###","method":"POST",
				"headers":{"X-Crm-Tenant":"redaction"},"timeout":"300ms","secret_file":"`+secretPath+`","breaker_failures":50}},
		"dialogue":{"max_retries":3,"min_digits":8,"max_digits":8,"first_digit_timeout":"2s","inter_digit_timeout":"1s"},
		"routes":{"on_correct":"continue","on_incorrect":"hangup:busy"},
		"failure":{"action":"static"}}`)
	// A database gate whose DSN holds a password, on a server that
	// refuses: the password must not come back in errors or logs.
	mustAPI(http.StatusCreated, "POST", "/api/v1/gates", "application/json", `{"id":"vip-db","name":"Redaction proof database gate","enabled":true,
		"match":{"numbers":["`+rpCalledDB+`"]},"activation":{"mode":"always"},
		"identification":{"mode":"database","region":"DE","database":{"dsn":"postgres://crm:`+dbPassword+`@127.0.0.1:1/crm?connect_timeout=1",
			"query":"SELECT action, pin FROM vip WHERE number = :caller_e164","timeout":"1s"}},
		"routes":{"on_correct":"continue","on_incorrect":"hangup:busy"},
		"failure":{"action":"reject"}}`)
	mustAPI(http.StatusCreated, "POST", "/api/v1/gates/vip-table/pins", "application/json",
		`{"caller":"`+rpCallerT1+`","pin":"`+rpTablePIN1+`","label":"Redaction T1"}`)
	mustAPI(http.StatusBadRequest, "POST", "/api/v1/gates/vip-table/pins", "application/json",
		`{"caller":"+4917655502004","pin":`+rpNumericPIN+`}`)
	mustAPI(http.StatusUnprocessableEntity, "POST", "/api/v1/gates/vip-table/pins", "application/json",
		`{"caller":"+4917655502005","pin":"`+rpLongPIN+`"}`)
	mustAPI(http.StatusOK, "POST", "/api/v1/gates/vip-table/pins/import?partial=true", "text/csv",
		"caller,pin,label\n"+rpCallerT2+","+rpTablePIN2+",Redaction T2\nno-such-number,"+rpBadRowPIN+",Refused row\n")
	// Allow and deny entries carry no PIN: one sent along is refused and
	// not repeated.
	mustAPI(http.StatusUnprocessableEntity, "POST", "/api/v1/gates/vip-table/pins", "application/json",
		`{"caller":"+4917655504003","kind":"allow","pin":"`+rpAllowPIN+`"}`)
	mustAPI(http.StatusCreated, "POST", "/api/v1/gates/vip-table/pins", "application/json",
		`{"caller":"`+rpCallerL1+`","kind":"allow","label":"Redaction L1","priority":9}`)
	mustAPI(http.StatusOK, "POST", "/api/v1/gates/vip-table/pins/import?partial=true", "text/csv",
		"caller,pin,kind\n"+rpCallerD1+",,deny\n+4917655504004,"+rpDenyRowPIN+",deny\n")
	pinsCSV := filepath.Join(keyDir, "pins.csv")
	mustWrite(t, pinsCSV, "caller,pin,label\n"+rpCallerT3+","+rpTablePIN3+",Redaction T3\n")
	if out, err := cli([]string{"pins", "import"}, "--gate", "vip-table", pinsCSV); err != nil || !strings.Contains(out, "1 inserted") {
		t.Fatalf("pins import: %v: %s", err, out)
	}
	// Granted PINs: drawn by vipgate and shown once, by the API answer
	// and by pins grant; nowhere else.
	grantPIN1 := grantedPIN(t, mustAPI(http.StatusCreated, "POST", "/api/v1/gates/vip-static/grants", "application/json",
		`{"caller":"`+rpCallerG1+`","max_uses":1,"valid_for":"1h","label":"Redaction G1"}`), `"pin":"(\d+)"`)
	p.plantShownOnce("granted PIN G1", "admin POST /api/v1/gates/vip-static/grants → 201", []byte(grantPIN1))
	grantOut, err := cli([]string{"pins", "grant"}, "--gate", "vip-table", "--caller", rpCallerG2, "--uses", "2", "--label", "Redaction G2")
	if err != nil {
		t.Fatalf("pins grant: %v", err)
	}
	grantPIN2 := grantedPIN(t, []byte(grantOut), `PIN: (\d+)`)
	p.plantShownOnce("granted PIN G2", "cli pins grant stdout", []byte(grantPIN2))
	if grantPIN1 == grantPIN2 {
		t.Fatal("two grants drew the same PIN")
	}

	// Calls through gate.Flow with scripted callers.
	calls := []rpCall{
		{"rp-s1", rpCallerA, rpCalledStatic, []string{rpWrong1, rpStaticPIN}, gate.OutcomePINOK, 2, ""},
		{"rp-s2", rpCallerB, rpCalledStatic, []string{rpWrong1, rpWrong2, rpWrong3}, gate.OutcomePINFailed, 3, ""},
		{"rp-s3", rpCallerB, rpCalledStatic, []string{rpWrong2, rpWrong3, rpWrong1}, gate.OutcomePINFailed, 3, ""},
		{"rp-s4", rpCallerB, rpCalledStatic, []string{rpStaticPIN}, gate.OutcomeLockedOut, 0, ""},
		{"rp-s5", rpCallerE1, rpCalledStatic, []string{rpWrong3, rpSetPIN}, gate.OutcomePINOK, 2, ""},
		{"rp-t1", rpCallerT1, rpCalledTable, []string{rpWrong2, rpTablePIN1}, gate.OutcomePINOK, 2, ""},
		{"rp-t2", rpCallerT2, rpCalledTable, []string{rpTablePIN1, rpTablePIN2}, gate.OutcomePINOK, 2, ""},
		{"rp-t3", rpCallerT3, rpCalledTable, []string{rpTablePIN1, rpTablePIN2, rpWrong3}, gate.OutcomePINFailed, 3, ""},
		{"rp-t4", rpCallerT4, rpCalledTable, []string{rpTablePIN1}, gate.OutcomeRejected, 0, ""},
		{"rp-d1", rpCallerD1, rpCalledTable, []string{rpTablePIN1}, gate.OutcomeDenied, 0, ""},
		{"rp-l1", rpCallerL1, rpCalledTable, nil, gate.OutcomePassed, 0, ""},
		{"rp-w1", rpCallerW1, rpCalledHook, []string{rpWrong3, rpHookPIN}, gate.OutcomePINOK, 2, ""},
		{"rp-w2", rpCallerW2, rpCalledHook, []string{rpWrong1, rpWrong2}, gate.OutcomePINFailed, 2, ""},
		{"rp-w3", rpCallerW3, rpCalledHook, []string{rpHookStatic}, gate.OutcomePINOK, 1, webhook.ClassSyntax},
		{"rp-w4", rpCallerW4, rpCalledHook, []string{rpWrong1, rpHookStatic}, gate.OutcomePINOK, 2, webhook.ClassTimeout},
		{"rp-w5", rpCallerW5, rpCalledHook, []string{rpWrong1, rpWrong2, rpHookPIN}, gate.OutcomePINFailed, 3, webhook.ClassStatus},
		{"rp-w6", rpCallerW6, rpCalledHook, []string{rpHookStatic}, gate.OutcomePINOK, 1, webhook.ClassAnswer},
		{"rp-g1", rpCallerG1, rpCalledStatic, []string{rpWrong1, grantPIN1}, gate.OutcomePINOK, 2, ""},
		{"rp-g2", rpCallerG1, rpCalledStatic, []string{grantPIN1, grantPIN1, grantPIN1}, gate.OutcomePINFailed, 3, ""},
		{"rp-g3", rpCallerG2, rpCalledTable, []string{rpWrong2, grantPIN2}, gate.OutcomePINOK, 2, ""},
		{"rp-b1", rpCallerB1, rpCalledDB, nil, gate.OutcomeFailed, 0, dbident.ClassNetwork},
	}
	for _, c := range calls {
		gc := &gatetest.Call{CallInfo: gate.CallInfo{ID: c.id, Source: "test", Caller: c.caller, Called: c.called, Language: "en"}}
		for _, d := range c.steps {
			gc.Steps = append(gc.Steps, gatetest.Step{Digits: d, Terminated: true})
		}
		rec := flow.Run(ctx, gc)
		if rec.Outcome != c.outcome || rec.Attempts != c.attempts || rec.ErrorClass != c.errClass {
			t.Errorf("call %s: outcome %s attempts %d error class %q, want %s %d %q", c.id, rec.Outcome, rec.Attempts, rec.ErrorClass, c.outcome, c.attempts, c.errClass)
		}
		if c.id == "rp-l1" && (gc.Var(gate.VarLabel) != "Redaction L1" || gc.Var(gate.VarPriority) != "9") {
			t.Errorf("allow entry call: %s=%q %s=%q", gate.VarLabel, gc.Var(gate.VarLabel), gate.VarPriority, gc.Var(gate.VarPriority))
		}
		vars := fmt.Sprintf("%s=%s %s=%s %s=%s %s=%s %s=%s", gate.VarResult, gc.Var(gate.VarResult), gate.VarGate, gc.Var(gate.VarGate), gate.VarTarget, gc.Var(gate.VarTarget),
			gate.VarLabel, gc.Var(gate.VarLabel), gate.VarPriority, gc.Var(gate.VarPriority))
		p.observe("channel of "+c.id, fmt.Appendf(nil, "%s\n%v\n%s\n%+v", gc.Ops(), gc.Prompts(), vars, rec))
	}

	// Calls over FastAGI on a loopback TCP connection; the test plays
	// Asterisk.
	agiCtx, stopAGI := context.WithCancel(ctx)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	agiSrv := agi.NewServer(agi.Config{Handler: func(ctx context.Context, c gate.Call) { flow.Run(ctx, c) }, Logger: log, ReadTimeout: 10 * time.Second, DrainTimeout: 5 * time.Second})
	agiDone := make(chan error, 1)
	go func() { agiDone <- agiSrv.Serve(agiCtx, ln) }()
	agiCalls := []struct {
		uniqueid, script, caller, called, keys string
	}{
		{"1800000000.11", "vip-static", rpCallerC, rpCalledStatic, rpWrong2 + "#" + rpStaticPIN + "#"},
		{"1800000000.12", "vip-table", rpCallerT3, rpCalledTable, rpWrong3 + "#" + rpTablePIN3 + "#"},
		{"1800000000.13", "vip-hook", rpCallerW1, rpCalledHook, rpHookPIN + "#"},
	}
	for _, ac := range agiCalls {
		sent, err := playAsterisk(ln.Addr().String(), ac.uniqueid, ac.script, ac.caller, ac.called, ac.keys)
		if err != nil {
			t.Fatalf("AGI call %s: %v", ac.uniqueid, err)
		}
		if !strings.Contains(sent, "GET DATA") || !strings.Contains(sent, `SET VARIABLE VIPGATE_RESULT "pin_ok"`) {
			t.Errorf("AGI call %s: vipgate sent no PIN dialogue ending in pin_ok:\n%s", ac.uniqueid, sent)
		}
		p.observe("AGI commands of "+ac.uniqueid, []byte(sent))
	}
	stopAGI()
	if err := <-agiDone; err != nil {
		t.Errorf("agi Serve: %v", err)
	}

	// A call over ARI, against the fake Asterisk.
	fake := arifake.New(arifake.Config{User: "vipgate", Password: ariPassword, PlaybackDuration: func(string) time.Duration { return 200 * time.Millisecond }})
	defer fake.Close()
	app, err := ari.NewApp(ari.AppConfig{
		Servers:      []ari.ServerConfig{{Name: "pbx1", BaseURL: fake.URL(), User: "vipgate", Password: ari.Secret(ariPassword)}},
		Handler:      func(ctx context.Context, c gate.Call) { flow.Run(ctx, c) },
		Logger:       log,
		PlaybackPoll: 50 * time.Millisecond, MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond, RequestTimeout: 2 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	ariCtx, stopARI := context.WithCancel(ctx)
	ariDone := make(chan error, 1)
	go func() { ariDone <- app.Run(ariCtx) }()
	rpWaitFor(t, "ARI connection", func() bool { return fake.Connected(ari.DefaultApp) })
	ariID, err := fake.Call(arifake.CallSpec{Caller: rpCallerT1, Exten: rpCalledTable, Args: []string{"vip-table"}})
	if err != nil {
		t.Fatal(err)
	}
	for i, keys := range []string{rpWrong1 + "#", rpTablePIN1 + "#"} {
		rpWaitFor(t, "ARI prompt", func() bool { pl := fake.Plays(ariID); return len(pl) > i && pl[i].State == "playing" })
		if err := fake.SendDTMF(ariID, keys, 10*time.Millisecond); err != nil {
			t.Fatal(err)
		}
	}
	wctx, wcancel := context.WithTimeout(ctx, 15*time.Second)
	ariRes, err := fake.WaitResult(wctx, ariID)
	wcancel()
	if err != nil {
		t.Fatal(err)
	}
	if ariRes.Kind != "continue" || ariRes.Context != "from-vipgate" || ariRes.Exten != "200" {
		t.Errorf("ARI call ended %+v, want continue to from-vipgate,200", ariRes)
	}
	// The call-log row is written after the channel has left Stasis.
	var ariRec *gate.CallRecord
	rpWaitFor(t, "ARI call-log row", func() bool {
		rs, _, err := st.ListCalls(ctx, gate.CallFilter{GateID: "vip-table", Caller: rpCallerT1})
		if err != nil {
			return false
		}
		for _, r := range rs {
			if r.ChannelID == ariID {
				ariRec = r
				return true
			}
		}
		return false
	})
	// The ARI call continued after the right PIN, so its row says pin_ok
	// (the StasisEnd that follows the continue is no hang-up).
	if ariRec.Outcome != gate.OutcomePINOK {
		t.Errorf("call log row of the ARI call: outcome %s, want pin_ok", ariRec.Outcome)
	}
	stopARI()
	if err := <-ariDone; err != nil {
		t.Errorf("ari Run: %v", err)
	}
	var ariReqs bytes.Buffer
	for _, r := range fake.Requests() {
		fmt.Fprintf(&ariReqs, "%s %s?%s basic=%v api_key=%v\n", r.Method, r.Path, r.RawQuery, r.BasicAuth, r.APIKey)
	}
	p.observe("ARI requests received by Asterisk", ariReqs.Bytes())
	p.observe("ARI result", fmt.Appendf(nil, "%+v", ariRes))

	// Error texts and formatted values, from the engine and the webhook
	// authorizer directly.
	var errTexts bytes.Buffer
	for _, caller := range []string{rpCallerW3, rpCallerW4, rpCallerW5, rpCallerW6} {
		d := engine.Decide(ctx, gate.CallInfo{ID: "rp-decide", Source: "test", Caller: caller, Called: rpCalledHook}, time.Now())
		if d.Err == nil {
			t.Errorf("Decide for %s: no error", caller)
			continue
		}
		fmt.Fprintf(&errTexts, "%v\n%+v\n%#v\n%s\n%+v\n", d.Err, d.Err, d.Err, d.ErrClass, d.Trace)
		g, err := st.GetGate(ctx, "vip-hook")
		if err != nil {
			t.Fatal(err)
		}
		ans, aerr := auth.Authorize(ctx, g, gate.AuthRequest{Caller: caller, Called: rpCalledHook, CallID: "rp-authorize"})
		if aerr == nil {
			t.Errorf("Authorize for %s: no error", caller)
			continue
		}
		fmt.Fprintf(&errTexts, "%v\n%+v\n%#v\n%+v\n", aerr, aerr, aerr, ans)
	}
	p.observe("error texts", errTexts.Bytes())

	var formatted bytes.Buffer
	fmtLog := slog.New(slog.NewJSONHandler(&formatted, &slog.HandlerOptions{Level: slog.LevelDebug}))
	for _, c := range []struct{ caller, called string }{{rpCallerW1, rpCalledHook}, {rpCallerA, rpCalledStatic}, {rpCallerT1, rpCalledTable}} {
		d := engine.Decide(ctx, gate.CallInfo{ID: "rp-format", Source: "test", Caller: c.caller, Called: c.called}, time.Now())
		if d.AskPIN == nil {
			t.Fatalf("Decide for %s: verdict %s, want ask_pin", c.caller, d.Verdict)
		}
		j, err := json.Marshal(d.AskPIN)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&formatted, "%v\n%+v\n%#v\n%s\n%v\n%+v\n%#v\n%+v\n", *d.AskPIN, *d.AskPIN, *d.AskPIN, j,
			d.AskPIN.Expected, d.AskPIN.Expected, d.AskPIN.Expected, d.Trace)
		fmtLog.Debug("decision", "expected", d.AskPIN.Expected, "ask", d.AskPIN, "entry", d.Entry)
	}
	g, err := st.GetGate(ctx, "vip-hook")
	if err != nil {
		t.Fatal(err)
	}
	ans, err := auth.Authorize(ctx, g, gate.AuthRequest{Caller: rpCallerW1, Called: rpCalledHook, CallID: "rp-answer"})
	if err != nil || ans.Kind != gate.AnswerAskPIN || !ans.PIN.Match(rpHookPIN) {
		t.Fatalf("Authorize for W1: %+v, %v; want askForPin with the planted PIN", ans, err)
	}
	j, err := json.Marshal(ans)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&formatted, "%v\n%+v\n%#v\n%s\n%s\n", ans, ans, ans, j, ans.PIN)
	fmtLog.Debug("answer", "answer", ans, "pin", ans.PIN)
	p.observe("formatted decisions and answers (fmt, JSON, slog)", formatted.Bytes())

	// The admin API, read back.
	mustAPI(http.StatusOK, "GET", "/api/v1/gates", "", "")
	for _, id := range []string{"vip-static", "vip-table", "vip-hook"} {
		b := mustAPI(http.StatusOK, "GET", "/api/v1/gates/"+id, "", "")
		if !bytes.Contains(b, []byte(`"static_pin_set"`)) {
			t.Errorf("GET gate %s: %s", id, b)
		}
	}
	pins := mustAPI(http.StatusOK, "GET", "/api/v1/gates/vip-table/pins", "", "")
	for _, c := range []string{rpCallerT1, rpCallerT2, rpCallerT3} {
		if !bytes.Contains(pins, []byte(c)) {
			t.Errorf("pins list lacks %s: %s", c, pins)
		}
	}
	mustAPI(http.StatusOK, "GET", "/api/v1/gates/vip-table/pins?caller="+strings.TrimPrefix(rpCallerT1, "+"), "", "")
	export := mustAPI(http.StatusOK, "GET", "/api/v1/gates/vip-table/pins/export", "", "")
	if n := bytes.Count(export, []byte("\n")); n < 3 {
		t.Errorf("pins export has %d lines, want a header and 3 rows: %s", n, export)
	}
	callsJSON := mustAPI(http.StatusOK, "GET", "/api/v1/calls?limit=1000", "", "")
	callsCSV := mustAPI(http.StatusOK, "GET", "/api/v1/calls?format=csv", "", "")
	mustAPI(http.StatusOK, "GET", "/api/v1/calls?outcome=pin_failed", "", "")
	lockouts := mustAPI(http.StatusOK, "GET", "/api/v1/lockouts", "", "")
	if !bytes.Contains(lockouts, []byte(rpCallerB)) {
		t.Errorf("lockouts lack caller B: %s", lockouts)
	}
	tokens := mustAPI(http.StatusOK, "GET", "/api/v1/tokens", "", "")
	if !bytes.Contains(tokens, []byte(tok.ID)) {
		t.Errorf("tokens list lacks the token: %s", tokens)
	}
	for _, c := range []struct{ gate, caller, called string }{
		{"vip-static", rpCallerA, rpCalledStatic}, {"vip-static", rpCallerB, rpCalledStatic},
		{"vip-table", rpCallerT1, rpCalledTable}, {"vip-hook", rpCallerW1, rpCalledHook},
		{"vip-hook", rpCallerW3, rpCalledHook}, {"vip-hook", rpCallerW6, rpCalledHook},
	} {
		mustAPI(http.StatusOK, "POST", "/api/v1/explain", "application/json",
			`{"gate":"`+c.gate+`","caller":"`+c.caller+`","called":"`+c.called+`"}`)
	}
	mustAPI(http.StatusOK, "GET", "/metrics", "", "")

	// The web console: log in with the token, open every page, and post
	// forms that fail (so that the typed PINs would come back if anything
	// echoed them).
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	csrfRE := regexp.MustCompile(`name="csrf" value="([^"]*)"`)
	var csrf string
	page := func(method, path string, form url.Values) {
		t.Helper()
		var body io.Reader
		if form != nil {
			form.Set("csrf", csrf)
			body = strings.NewReader(form.Encode())
		}
		req, err := http.NewRequestWithContext(ctx, method, adminSrv.URL+path, body)
		if err != nil {
			t.Fatal(err)
		}
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := browser.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if m := csrfRE.FindSubmatch(b); m != nil {
			csrf = string(m[1])
		}
		var raw bytes.Buffer
		_ = resp.Header.Write(&raw)
		raw.Write(b)
		p.observe(fmt.Sprintf("console %s %s → %d", method, path, resp.StatusCode), raw.Bytes())
	}
	page("GET", "/login", nil)
	page("POST", "/login", url.Values{"token": {clearToken}})
	if last := p.surfaces[len(p.surfaces)-1].data; !bytes.Contains(last, []byte("Logged in as "+tok.ID)) {
		t.Fatalf("console login failed: %s", last)
	}
	for _, path := range []string{"/", "/gates/vip-static", "/gates/vip-table", "/gates/vip-hook", "/gates/vip-table/pins",
		"/gates/vip-table/pins?q=" + url.QueryEscape(rpCallerT1), "/gates/vip-table/pins/export", "/calls", "/calls/export",
		"/lockouts", "/prompts", "/tokens", "/simulate"} {
		page("GET", path, nil)
	}
	page("POST", "/simulate", url.Values{"gate": {"vip-table"}, "caller": {rpCallerT1}, "called": {rpCalledTable}})
	page("POST", "/gates/vip-hook", url.Values{"id": {"vip-hook"}, "activation.mode": {"bogus"}, "identification.mode": {"webhook"},
		"identification.static_pin": {rpHookStatic}})
	page("POST", "/gates/vip-table/pins", url.Values{"caller": {"not a number"}, "pin": {rpTablePIN1}})
	if !strings.Contains(string(p.surfaces[len(p.surfaces)-1].data), "caller") {
		t.Errorf("the console's failed entry post shows no field error: %s", p.surfaces[len(p.surfaces)-1].data)
	}

	// Metrics, straight from the handler.
	mrec := httptest.NewRecorder()
	metrics.Handler().ServeHTTP(mrec, httptest.NewRequest("GET", "/metrics", nil))
	p.observe("metrics handler", mrec.Body.Bytes())
	for _, want := range []string{
		`vipgate_calls_total{gate="vip-static",outcome="pin_ok"} 4`,
		`vipgate_calls_total{gate="vip-table",outcome="denied"} 1`,
		`vipgate_calls_total{gate="vip-static",outcome="locked_out"} 1`,
		`vipgate_calls_total{gate="vip-table",outcome="pin_ok"} 5`,
		`vipgate_calls_total{gate="vip-hook",outcome="pin_failed"} 2`,
		`vipgate_webhook_errors_total{class="syntax",gate="vip-hook"}`,
	} {
		if !strings.Contains(mrec.Body.String(), want) {
			t.Errorf("metrics lack %s", want)
		}
	}

	// The call log, straight from the store.
	recs, total, err := st.ListCalls(ctx, gate.CallFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	wantRows := len(calls) + len(agiCalls) + 1
	if total != wantRows || len(recs) != wantRows {
		t.Errorf("call log has %d rows (%d listed), want %d", total, len(recs), wantRows)
	}
	byID := map[string]*gate.CallRecord{}
	var recJSON, recStrings bytes.Buffer
	for _, r := range recs {
		byID[r.ChannelID] = r
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		recJSON.Write(b)
		recJSON.WriteByte('\n')
		v := reflect.ValueOf(*r)
		for i := range v.NumField() {
			if v.Field(i).Kind() == reflect.String {
				fmt.Fprintf(&recStrings, "%s=%s\n", v.Type().Field(i).Name, v.Field(i).String())
			}
		}
	}
	p.observe("call log rows (JSON)", recJSON.Bytes())

	// The live events: one per call-log row, on the hub and on the wire.
	hub.Close()
	<-sseDone
	var evJSON bytes.Buffer
	nEvents := 0
	for e := range hubSub.C() {
		nEvents++
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		evJSON.Write(b)
		evJSON.WriteByte('\n')
	}
	if nEvents != wantRows {
		t.Errorf("the hub published %d events, want one per call (%d)", nEvents, wantRows)
	}
	if n := bytes.Count(sseBytes.Bytes(), []byte("\nevent: call\n")); n != wantRows {
		t.Errorf("the event stream carried %d call events, want %d", n, wantRows)
	}
	p.observe("live events (JSON)", evJSON.Bytes())
	p.observe("live event stream (SSE)", sseBytes.Bytes())
	p.observe("call log rows (string fields)", recStrings.Bytes())
	for _, c := range calls {
		r := byID[c.id]
		if r == nil || r.Outcome != c.outcome {
			t.Errorf("call log row of %s: %+v, want outcome %s", c.id, r, c.outcome)
		}
	}
	for _, ac := range agiCalls {
		if r := byID[ac.uniqueid]; r == nil || r.Outcome != gate.OutcomePINOK || r.Source != "agi" {
			t.Errorf("call log row of AGI call %s: %+v, want pin_ok from agi", ac.uniqueid, r)
		}
	}
	if r := byID[ariID]; r == nil || r.Attempts != 2 || r.Source != "ari" || r.Target != "from-vipgate,200,1" || r.EntryID == 0 {
		t.Errorf("call log row of the ARI call: %+v, want 2 attempts from ari, entry T1, target from-vipgate,200,1", r)
	}
	if !bytes.Contains(callsJSON, []byte(`"outcome":"pin_failed"`)) || !bytes.Contains(callsJSON, []byte(`"outcome":"pin_ok"`)) {
		t.Errorf("GET calls lacks pin_ok or pin_failed rows: %s", callsJSON)
	}
	if n := bytes.Count(callsCSV, []byte("\n")); n != wantRows+1 {
		t.Errorf("calls CSV has %d lines, want %d", n, wantRows+1)
	}

	// Exports and dry runs on the command line.
	gatesYAML, err := cli([]string{"gates", "export"}, "--format", "yaml")
	if err != nil || !strings.Contains(gatesYAML, "static_pin_hash") || !strings.Contains(gatesYAML, "vip-hook") {
		t.Errorf("gates export: %v:\n%s", err, gatesYAML)
	}
	if _, err := cli([]string{"gates", "export"}, "--format", "json"); err != nil {
		t.Errorf("gates export json: %v", err)
	}
	if _, err := cli([]string{"gates", "list"}); err != nil {
		t.Errorf("gates list: %v", err)
	}
	all, err := st.ListGates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	redactGates(all) // as gates export writes them
	for _, fm := range []string{"yaml", "json"} {
		b, err := formatGates(all, fm)
		if err != nil {
			t.Fatal(err)
		}
		p.observe("formatGates "+fm, b)
	}
	pinsOut, err := cli([]string{"pins", "export"}, "--gate", "vip-table")
	if err != nil || !strings.Contains(pinsOut, rpCallerT3) {
		t.Errorf("pins export: %v:\n%s", err, pinsOut)
	}
	for _, c := range []struct{ gate, caller string }{{"vip-static", rpCallerB}, {"vip-table", rpCallerT2}, {"vip-hook", rpCallerW1}, {"vip-hook", rpCallerW3}, {"vip-db", rpCallerB1}} {
		out, err := cli([]string{"explain"}, "--gate", c.gate, "--caller", c.caller, "--called", "1", "--json")
		if err != nil || !strings.Contains(out, `"verdict"`) {
			t.Errorf("explain %s %s: %v: %s", c.gate, c.caller, err, out)
		}
	}
	if _, err := cli([]string{"tokens", "list"}); err != nil {
		t.Errorf("tokens list: %v", err)
	}

	// The audit log of the changes above, through the API and the command
	// line: the PINs set show as "[secret]".
	auditJSON := mustAPI(http.StatusOK, "GET", "/api/v1/audit?limit=1000", "", "")
	for _, want := range []string{`{"field":"identification.static_pin_hash","before":null,"after":"[secret]"}`,
		`{"field":"pin","before":null,"after":"[secret]"}`, `"action":"entries.import"`,
		`{"field":"notify_secrets.ops","before":null,"after":"[secret]"}`} {
		if !bytes.Contains(auditJSON, []byte(want)) {
			t.Errorf("GET audit lacks %s: %s", want, auditJSON)
		}
	}
	for _, args := range [][]string{{"--limit", "1000"}, {"--format", "json"}, {"--format", "csv"}} {
		sub := "export"
		if args[0] == "--limit" {
			sub = "list"
		}
		if out, err := cli([]string{"audit", sub}, args...); err != nil || !strings.Contains(out, "[secret]") || !strings.Contains(out, "cli:") {
			t.Errorf("audit %s %v: %v:\n%s", sub, args, err, out)
		}
	}

	// What the webhook received.
	hookMu.Lock()
	reqs := append([]hookReq(nil), hookReqs...)
	hookMu.Unlock()
	if len(reqs) < 10 {
		t.Errorf("the webhook received %d requests, want at least 10", len(reqs))
	}
	var hookRaw bytes.Buffer
	for i, r := range reqs {
		if !r.verifyOK {
			t.Errorf("webhook request %d (caller %s) has no valid signature", i, r.caller)
		}
		if !bytes.Contains(r.raw, []byte(webhook.HeaderSignature)) {
			t.Errorf("webhook request %d is not signed", i)
		}
		hookRaw.Write(r.raw)
		hookRaw.WriteString("\n\n")
	}
	p.observe("webhook requests as received", hookRaw.Bytes())

	// The notifications: events and e-mails as received (the SMTP
	// session from the DATA on; the login carries the password to the
	// server, as it must).
	rpWaitFor(t, "a notification event and e-mail", func() bool { return sink.count() > 0 && mx.count() > 0 })
	stopNotifier()
	<-notifierDone
	p.observe("notification events as received", sink.raw())
	p.observe("notification e-mails as received", mx.raw())
	if b := sink.raw(); !bytes.Contains(b, []byte(notify.HeaderIdempotencyKey)) || !bytes.Contains(b, []byte(`"gate":{"id":"vip-table"`)) {
		t.Errorf("the notification events lack their key or gate:\n%s", b)
	}
	if bad := sink.unsigned(); bad > 0 {
		t.Errorf("%d notification events without a valid signature", bad)
	}

	// The logs.
	jl, tl := jsonLog.Bytes(), textLog.Bytes()
	p.observe("log (JSON, Debug)", jl)
	p.observe("log (text, Debug)", tl)
	lines := bytes.Count(jl, []byte("\n"))
	if lines < 100 {
		t.Errorf("the log has %d lines, want at least 100", lines)
	}
	for _, want := range []string{`"msg":"pin attempt"`, `"msg":"call"`, `"msg":"agi send"`, `"msg":"agi collect"`,
		`"msg":"webhook answered"`, `"msg":"ari request"`, `"msg":"ari dtmf received"`, `"msg":"lockout"`, `"msg":"admin: entry created"`, `"digits_len":8`} {
		if !bytes.Contains(jl, []byte(want)) {
			t.Errorf("the log lacks %s", want)
		}
	}
	if n, want := bytes.Count(jl, []byte(`"msg":"pin attempt"`)), rpAttempts(calls)+4+1+2; n != want {
		t.Errorf("the log has %d pin attempt lines, want %d", n, want)
	}

	// The database files, while the store is open and after it is closed.
	dbBytes := 0
	readDB := func(when string) {
		ents, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			if !strings.HasPrefix(e.Name(), "vipgate.db") {
				continue
			}
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			dbBytes += len(b)
			p.observe("database file "+e.Name()+" "+when, b)
		}
	}
	readDB("(open)")
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	stClosed = true
	readDB("(closed)")
	var db []byte
	for _, s := range p.surfaces {
		if strings.HasPrefix(s.name, "database file vipgate.db ") {
			db = append(db, s.data...)
		}
	}
	for _, want := range []string{rpCallerT3, "vip-hook", "pin_failed", "Redaction T2", "Redaction G2"} {
		if !bytes.Contains(db, []byte(want)) {
			t.Errorf("the database file lacks %q: the scan would prove nothing", want)
		}
	}

	// The scan. A secret shown once by design is cut from its surface
	// first; a second showing there is a leak like any other.
	for _, sh := range p.shown {
		found := 0
		for i := range p.surfaces {
			if s := &p.surfaces[i]; s.name == sh.surface && bytes.Contains(s.data, sh.val) {
				s.data = bytes.Replace(s.data, sh.val, []byte("[shown once]"), 1)
				found++
			}
		}
		if found != 1 {
			t.Errorf("a granted PIN is shown by %d surfaces named %q, want 1", found, sh.surface)
		}
	}
	bytesScanned, leaks := 0, 0
	for _, s := range p.surfaces {
		bytesScanned += len(s.data)
		for _, sec := range p.secrets {
			if i := bytes.Index(s.data, sec.val); i >= 0 {
				leaks++
				lo, hi := max(i-60, 0), min(i+len(sec.val)+60, len(s.data))
				t.Errorf("LEAK: %s appears in %s: …%q…", sec.name, s.name, s.data[lo:hi])
			}
		}
	}
	t.Logf("redaction proof: %d planted secrets, %d surfaces, %d bytes scanned (%d of them database), %d log lines, %d calls, %d leaks",
		len(p.secrets), len(p.surfaces), bytesScanned, dbBytes, lines, wantRows, leaks)
}

// grantedPIN returns the PIN the expression re (one group) finds in out.
func grantedPIN(t *testing.T, out []byte, re string) string {
	t.Helper()
	m := regexp.MustCompile(re).FindSubmatch(out)
	if m == nil || len(m[1]) != 8 {
		t.Fatalf("no 8-digit granted PIN in %s", out)
	}
	return string(m[1])
}

// rpAttempts sums the PIN attempts of calls.
func rpAttempts(calls []rpCall) int {
	n := 0
	for _, c := range calls {
		n += c.attempts
	}
	return n
}

// playAsterisk plays Asterisk for one FastAGI call to addr: it sends the
// agi_* header, answers every command, and types keys: each GET DATA gets
// those up to the next '#' in one reply (as Asterisk sends them); STREAM
// FILE with escape digits and WAIT FOR DIGIT get one each (as ASCII codes).
// It returns the commands vipgate sent.
func playAsterisk(addr, uniqueid, script, caller, called, keys string) (string, error) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(30 * time.Second)); err != nil {
		return "", err
	}
	hdr := []string{
		"agi_network: yes",
		"agi_network_script: " + script,
		"agi_request: agi://" + addr + "/" + script,
		"agi_channel: PJSIP/trunk-00000011",
		"agi_language: en",
		"agi_type: PJSIP",
		"agi_uniqueid: " + uniqueid,
		"agi_version: 22.10.1",
		"agi_callerid: " + caller,
		"agi_calleridname: Redaction Proof",
		"agi_dnid: " + called,
		"agi_context: from-external",
		"agi_extension: " + called,
		"agi_priority: 1",
		"agi_arg_1: " + called,
	}
	if _, err := io.WriteString(conn, strings.Join(hdr, "\n")+"\n\n"); err != nil {
		return "", err
	}
	var sent strings.Builder
	next := func() int {
		if keys == "" {
			return 0
		}
		c := keys[0]
		keys = keys[1:]
		return int(c)
	}
	r := bufio.NewReader(conn)
	for {
		line, err := r.ReadString('\n')
		if err == io.EOF && line == "" {
			return sent.String(), nil
		}
		if err != nil {
			return sent.String(), err
		}
		cmd := strings.TrimSuffix(line, "\n")
		sent.WriteString(cmd + "\n")
		var reply string
		switch {
		case cmd == "ANSWER":
			reply = "200 result=0"
		case strings.HasPrefix(cmd, "STREAM FILE "):
			if !strings.HasSuffix(cmd, ` ""`) && keys != "" {
				reply = fmt.Sprintf("200 result=%d endpos=800", next())
			} else {
				reply = "200 result=0 endpos=16000"
			}
		case strings.HasPrefix(cmd, "GET DATA "):
			// The keys up to '#', which ends them and is not sent.
			typed, rest, found := strings.Cut(keys, "#")
			keys = rest
			reply = "200 result=" + typed
			if !found {
				reply += " (timeout)"
			}
		case strings.HasPrefix(cmd, "WAIT FOR DIGIT "):
			reply = fmt.Sprintf("200 result=%d", next())
		case strings.HasPrefix(cmd, "SET VARIABLE "), cmd == "CHANNEL STATUS":
			reply = "200 result=1"
		case strings.HasPrefix(cmd, "SET CONTEXT "), strings.HasPrefix(cmd, "SET EXTENSION "), strings.HasPrefix(cmd, "SET PRIORITY "):
			reply = "200 result=0"
		case strings.HasPrefix(cmd, "EXEC Hangup"):
			reply = "200 result=-1\nHANGUP"
		default:
			reply = "510 Invalid or unknown command"
		}
		if _, err := io.WriteString(conn, reply+"\n"); err != nil {
			return sent.String(), err
		}
	}
}

func rpWaitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// randText returns n random letters and digits.
func randText(t *testing.T, n int) string {
	const alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

func mustWrite(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}
