package webhook_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/webhook"
)

// answerServer answers every request with status and body.
func answerServer(t *testing.T, status int, body string) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

func TestAuthorizeAnswerForms(t *testing.T) {
	tests := []struct {
		name   string
		method string
		body   string
		want   wantAnswer
	}{
		{"ask strict", "GET", `{"askForPin":{"expectedPIN":"1234","forwardCorrectPIN":"100","forwardIncorrectPIN":"120","maxRetries":3}}`,
			wantAnswer{kind: gate.AnswerAskPIN, pin: "1234", onCorrect: "100", onIncorrect: "120", retries: 3}},
		{"ask relaxed", "POST", `{askForPin:{expectedPIN:'5678', forwardCorrectPIN:"100",},}`,
			wantAnswer{kind: gate.AnswerAskPIN, pin: "5678", onCorrect: "100"}},
		{"reject", "GET", `{reject:true}`, wantAnswer{kind: gate.AnswerReject}},
		{"pass", "POST", `{"reject":false}`, wantAnswer{kind: gate.AnswerPass}},
		{"forward", "GET", `{forward:"123"}`, wantAnswer{kind: gate.AnswerForward, forward: "123"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var gotMethod atomic.Value
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				gotMethod.Store(r.Method)
				time.Sleep(10 * time.Millisecond)
				io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			a := webhook.New(webhook.Config{})
			g := webhookGate(srv.URL+"/check", func(wc *gate.WebhookConfig) { wc.Method = tt.method })
			got, err := authorize(t, a, g, callReq)
			if err != nil {
				t.Fatalf("Authorize: %v", err)
			}
			checkAnswer(t, got, tt.want)
			if m := gotMethod.Load(); m != tt.method {
				t.Errorf("method = %v, want %s", m, tt.method)
			}
			if got.Latency < 10*time.Millisecond {
				t.Errorf("Latency = %v, want at least the server's 10ms", got.Latency)
			}
			if got.Cached {
				t.Errorf("answer marked cached without a cache")
			}
		})
	}
}

func TestAuthorizeErrors(t *testing.T) {
	big := `{"reject":true,"pad":"` + strings.Repeat("x", webhook.MaxBody) + `"}`
	tests := []struct {
		name   string
		status int
		body   string
		class  string
		is     error
	}{
		{"none of the keys", 200, `{"ok":true}`, webhook.ClassAnswer, gate.ErrInvalid},
		{"conflicting keys", 200, `{reject:true, forward:"123"}`, webhook.ClassAnswer, gate.ErrInvalid},
		{"too large", 200, big, webhook.ClassTooLarge, gate.ErrInvalid},
		{"invalid syntax", 200, `{reject:`, webhook.ClassSyntax, gate.ErrInvalid},
		{"empty body", 204, ``, webhook.ClassSyntax, gate.ErrInvalid},
		{"server error", 500, `{reject:false}`, webhook.ClassStatus, gate.ErrUnavailable},
		{"not found", 404, `not found`, webhook.ClassStatus, gate.ErrUnavailable},
		{"redirect not followed", 302, ``, webhook.ClassStatus, gate.ErrUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, hits := answerServer(t, tt.status, tt.body)
			obs := &observer{}
			a := webhook.New(webhook.Config{Observer: obs})
			ans, err := authorize(t, a, webhookGate(srv.URL, nil), callReq)
			if err == nil {
				t.Fatalf("Authorize = %+v, want an error", ans)
			}
			if c := gate.ErrorClass(err); c != tt.class {
				t.Errorf("class = %q (%v), want %q", c, err, tt.class)
			}
			if !errors.Is(err, tt.is) {
				t.Errorf("error %v does not match %v", err, tt.is)
			}
			if ans.Kind != "" || ans.Latency <= 0 {
				t.Errorf("answer with error = %+v, want no kind and a latency", ans)
			}
			if hits.Load() != 1 {
				t.Errorf("server saw %d requests, want 1", hits.Load())
			}
			if reqs, _, _, _ := obs.snapshot(); len(reqs) != 1 || reqs[0] != tt.class {
				t.Errorf("observer saw %v, want [%s]", reqs, tt.class)
			}
			if tt.class == webhook.ClassStatus {
				var se *webhook.StatusError
				if !errors.As(err, &se) || se.Code != tt.status {
					t.Errorf("error %v carries no StatusError{%d}", err, tt.status)
				}
			}
		})
	}
}

func TestAuthorizeNetworkError(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL + "/check?token=abc"
	srv.Close()
	a := webhook.New(webhook.Config{})
	_, err := authorize(t, a, webhookGate(url, nil), callReq)
	if c := gate.ErrorClass(err); c != webhook.ClassNetwork {
		t.Fatalf("class = %q (%v), want network", c, err)
	}
	if strings.Contains(err.Error(), "token=abc") {
		t.Errorf("error text %q quotes the URL's query", err)
	}
}

// hangingServer never answers; entered (if not nil) gets a value when a
// request arrives. The handler returns when the request is cancelled or
// the test ends.
func hangingServer(t *testing.T, entered chan<- struct{}) *httptest.Server {
	t.Helper()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if entered != nil {
			entered <- struct{}{}
		}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) }) // runs before srv.Close
	return srv
}

func TestAuthorizeTimeout(t *testing.T) {
	srv := hangingServer(t, nil)
	const timeout = 200 * time.Millisecond
	a := webhook.New(webhook.Config{})
	g := webhookGate(srv.URL, func(wc *gate.WebhookConfig) { wc.Timeout = gate.Duration(timeout) })
	start := time.Now()
	_, err := authorize(t, a, g, callReq)
	elapsed := time.Since(start)
	if c := gate.ErrorClass(err); c != webhook.ClassTimeout {
		t.Fatalf("class = %q (%v), want timeout", c, err)
	}
	if !errors.Is(err, gate.ErrTimeout) {
		t.Errorf("error %v does not match gate.ErrTimeout", err)
	}
	// The server never answers: Authorize must return because of its own
	// deadline. The margin is generous; this is not a speed test.
	if elapsed < timeout || elapsed > timeout+2*time.Second {
		t.Errorf("Authorize returned after %v, want about %v", elapsed, timeout)
	}
}

func TestAuthorizeCallerDeadline(t *testing.T) {
	// The caller's deadline, earlier than the gate's timeout, wins and
	// counts as a timeout. (The 15s cap is checked in TestTimeoutCapped.)
	srv := hangingServer(t, nil)
	a := webhook.New(webhook.Config{})
	g := webhookGate(srv.URL, func(wc *gate.WebhookConfig) { wc.Timeout = gate.Duration(time.Hour) })
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := a.Authorize(ctx, g, callReq)
	if c := gate.ErrorClass(err); c != webhook.ClassTimeout {
		t.Fatalf("class = %q (%v), want timeout", c, err)
	}
}

func TestAuthorizeCanceled(t *testing.T) {
	entered := make(chan struct{}, 1)
	srv := hangingServer(t, entered)
	a := webhook.New(webhook.Config{})
	ctx, cancel := context.WithCancelCause(context.Background())
	go func() {
		<-entered
		cancel(gate.ErrHangup)
	}()
	_, err := a.Authorize(ctx, webhookGate(srv.URL, nil), callReq)
	if c := gate.ErrorClass(err); c != webhook.ClassCanceled {
		t.Fatalf("class = %q (%v), want canceled", c, err)
	}
	if !errors.Is(err, gate.ErrHangup) {
		t.Errorf("error %v does not carry the hang-up cause", err)
	}
}

func TestAuthorizeConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		g    *gate.Gate
	}{
		{"no webhook", &gate.Gate{ID: "x"}},
		{"nil gate", nil},
		{"no URL", webhookGate("", nil)},
		{"bad scheme", webhookGate("ftp://example.com/x", nil)},
		{"no host", webhookGate("http:///x", nil)},
		{"user info", webhookGate("http://user:pw@127.0.0.1/x", nil)},
		{"bad method", webhookGate("http://127.0.0.1/x", func(wc *gate.WebhookConfig) { wc.Method = "PUT" })},
		{"missing CA file", webhookGate("https://127.0.0.1/x", func(wc *gate.WebhookConfig) { wc.CAFile = filepath.Join(t.TempDir(), "none.pem") })},
		{"missing secret file", webhookGate("http://127.0.0.1/x", func(wc *gate.WebhookConfig) { wc.SecretFile = filepath.Join(t.TempDir(), "none") })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := webhook.New(webhook.Config{})
			_, err := a.Authorize(context.Background(), tt.g, callReq)
			if c := gate.ErrorClass(err); c != webhook.ClassConfig {
				t.Fatalf("class = %q (%v), want config", c, err)
			}
		})
	}
}

func TestAuthorizeRequestErrors(t *testing.T) {
	srv, hits := answerServer(t, 200, `{reject:false}`)
	tests := []struct {
		name string
		req  gate.AuthRequest
	}{
		{"newline in caller", gate.AuthRequest{Caller: "+49\r\nX-Evil: 1", Called: "+4930"}},
		{"NUL in called", gate.AuthRequest{Caller: "+49", Called: "+49\x00"}},
		{"long caller", gate.AuthRequest{Caller: strings.Repeat("1", 65), Called: "+4930"}},
		{"invalid UTF-8", gate.AuthRequest{Caller: "+49\xff", Called: "+4930"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := webhook.New(webhook.Config{})
			_, err := authorize(t, a, webhookGate(srv.URL, nil), tt.req)
			if c := gate.ErrorClass(err); c != webhook.ClassRequest {
				t.Fatalf("class = %q (%v), want request", c, err)
			}
		})
	}
	if hits.Load() != 0 {
		t.Errorf("server saw %d requests, want none", hits.Load())
	}
}

// seen is one request as the test server saw it.
type seen struct {
	method, host, requestURI, rawPath, rawQuery string
	header                                      http.Header
	body                                        []byte
}

func recordingServer(t *testing.T, answer string) (*httptest.Server, chan seen) {
	t.Helper()
	ch := make(chan seen, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ch <- seen{method: r.Method, host: r.Host, requestURI: r.RequestURI, rawPath: r.URL.EscapedPath(), rawQuery: r.URL.RawQuery, header: r.Header.Clone(), body: body}
		io.WriteString(w, answer)
	}))
	t.Cleanup(srv.Close)
	return srv, ch
}

func TestRequestPlaceholders(t *testing.T) {
	srv, ch := recordingServer(t, `{reject:false}`)
	g := webhookGate(srv.URL+"/v1/###CALLED_NUMBER###/check?caller=###CALLER_NUMBER###&to=###CALLED_NUMBER###", func(wc *gate.WebhookConfig) {
		wc.Method = "post"
		wc.Headers = map[string]string{"X-Caller": "###CALLER_NUMBER###", "Authorization": "Bearer t0ken"}
		wc.Body = `{"from":"###CALLER_NUMBER###","to":"###CALLED_NUMBER###","n":1}`
	})
	a := webhook.New(webhook.Config{})
	req := gate.AuthRequest{Caller: "+4917612345678", Called: `+49 "30"&/?#\`, CallID: "c-42"}
	if _, err := authorize(t, a, g, req); err != nil {
		t.Fatalf("Authorize: %v", err)
	}
	s := <-ch
	if s.method != "POST" {
		t.Errorf("method = %s, want POST", s.method)
	}
	if !strings.Contains(s.rawQuery, "caller=%2B4917612345678") {
		t.Errorf("query %q does not carry the escaped caller %%2B4917612345678", s.rawQuery)
	}
	q, err := parseQuery(s.rawQuery)
	if err != nil {
		t.Fatal(err)
	}
	if q["caller"] != req.Caller || q["to"] != req.Called {
		t.Errorf("decoded query = %v, want caller %q and to %q", q, req.Caller, req.Called)
	}
	wantPrefix := "/v1/" + url.PathEscape(req.Called) + "/check?"
	if !strings.HasPrefix(s.requestURI, wantPrefix) {
		t.Errorf("request URI %q, want prefix %q", s.requestURI, wantPrefix)
	}
	if h := s.header.Get("X-Caller"); h != req.Caller {
		t.Errorf("X-Caller = %q, want %q", h, req.Caller)
	}
	if h := s.header.Get("Authorization"); h != "Bearer t0ken" {
		t.Errorf("Authorization = %q", h)
	}
	if h := s.header.Get("Content-Type"); h != "application/json" {
		t.Errorf("Content-Type = %q", h)
	}
	if h := s.header.Get("X-Vipgate-Gate"); h != "hotline" {
		t.Errorf("X-Vipgate-Gate = %q", h)
	}
	if h := s.header.Get("X-Vipgate-Call-ID"); h != "c-42" {
		t.Errorf("X-Vipgate-Call-ID = %q", h)
	}
	var body struct {
		From, To string
		N        int
	}
	if err := json.Unmarshal(s.body, &body); err != nil {
		t.Fatalf("body %q is not JSON: %v", s.body, err)
	}
	if body.From != req.Caller || body.To != req.Called || body.N != 1 {
		t.Errorf("body = %+v, want from %q to %q", body, req.Caller, req.Called)
	}
}

func TestRequestDefaults(t *testing.T) {
	tests := []struct {
		name     string
		method   string
		template string
		wantURI  string
		wantBody string
	}{
		{"GET path", "", "/c/###CALLER_NUMBER###", "/c/+4917612345678", ""},
		{"GET query", "GET", "/c?n=###CALLER_NUMBER###", "/c?n=%2B4917612345678", ""},
		{"GET body template ignored", "GET", "/c", "/c", ""},
		{"POST default body", "POST", "/c", "/c", `{"caller":"+4917612345678","called":"+4930123456"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, ch := recordingServer(t, `{reject:false}`)
			g := webhookGate(srv.URL+tt.template, func(wc *gate.WebhookConfig) {
				wc.Method = tt.method
				if tt.method == "GET" {
					wc.Body = `{"x":1}`
				}
			})
			if _, err := authorize(t, webhook.New(webhook.Config{}), g, callReq); err != nil {
				t.Fatalf("Authorize: %v", err)
			}
			s := <-ch
			if s.requestURI != tt.wantURI {
				t.Errorf("request URI = %q, want %q", s.requestURI, tt.wantURI)
			}
			if string(s.body) != tt.wantBody {
				t.Errorf("body = %q, want %q", s.body, tt.wantBody)
			}
		})
	}
}

// verifyIndependently checks a request's signature from the documented
// scheme, without the package's code.
func verifyIndependently(secret []byte, s seen) error {
	ts := s.header.Get("X-Vipgate-Timestamp")
	sig := s.header.Get("X-Vipgate-Signature")
	if ts == "" || sig == "" {
		return errors.New("unsigned")
	}
	if _, err := strconv.ParseInt(ts, 10, 64); err != nil {
		return fmt.Errorf("timestamp %q: %v", ts, err)
	}
	msg := ts + "\n" + s.method + "\n" + "http://" + s.host + s.requestURI + "\n" + string(s.body)
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(msg))
	want := hex.EncodeToString(m.Sum(nil))
	if !hmac.Equal([]byte(want), []byte(sig)) {
		return fmt.Errorf("signature mismatch over %q", msg)
	}
	return nil
}

func TestSigning(t *testing.T) {
	clk := newClock()
	secret := []byte("0123456789abcdef0123456789abcdef")
	tests := []struct {
		name   string
		method string
		path   string
		body   string
	}{
		{"GET with query", "GET", "/check?caller=###CALLER_NUMBER###&called=###CALLED_NUMBER###", ""},
		{"GET path", "GET", "/check/###CALLER_NUMBER###", ""},
		{"POST body", "POST", "/check", `{"caller":"###CALLER_NUMBER###"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, ch := recordingServer(t, `{reject:true}`)
			a := webhook.New(webhook.Config{
				Now:    clk.Now,
				Secret: func(*gate.Gate) ([]byte, error) { return secret, nil },
			})
			g := webhookGate(srv.URL+tt.path, func(wc *gate.WebhookConfig) { wc.Method = tt.method; wc.Body = tt.body })
			if _, err := authorize(t, a, g, callReq); err != nil {
				t.Fatalf("Authorize: %v", err)
			}
			s := <-ch
			if err := verifyIndependently(secret, s); err != nil {
				t.Fatalf("independent verification: %v", err)
			}
			if ts := s.header.Get("X-Vipgate-Timestamp"); ts != strconv.FormatInt(clk.Now().Unix(), 10) {
				t.Errorf("timestamp %s, want the injected clock's %d", ts, clk.Now().Unix())
			}
			if err := verifyIndependently([]byte("another key"), s); err == nil {
				t.Errorf("signature verifies with another key")
			}
		})
	}
}

func TestSecretFileReload(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "hotline.key")
	if err := os.WriteFile(file, []byte("first-secret-key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv, ch := recordingServer(t, `{reject:true}`)
	a := webhook.New(webhook.Config{})
	g := webhookGate(srv.URL, func(wc *gate.WebhookConfig) { wc.SecretFile = file })

	steps := []struct {
		name    string
		content string // "" keeps the file
		key     string
	}{
		{"first read, newline trimmed", "", "first-secret-key"},
		{"cached", "", "first-secret-key"},
		{"rewritten", "second-secret-key-longer", "second-secret-key-longer"},
	}
	for i, st := range steps {
		if st.content != "" {
			if err := os.WriteFile(file, []byte(st.content), 0o600); err != nil {
				t.Fatal(err)
			}
			mt := time.Now().Add(time.Duration(i) * time.Hour)
			if err := os.Chtimes(file, mt, mt); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := authorize(t, a, g, callReq); err != nil {
			t.Fatalf("%s: Authorize: %v", st.name, err)
		}
		if err := verifyIndependently([]byte(st.key), <-ch); err != nil {
			t.Errorf("%s: %v", st.name, err)
		}
	}
}

func TestUnsignedWarning(t *testing.T) {
	srv, ch := recordingServer(t, `{reject:false}`)
	var logs syncBuffer
	a := webhook.New(webhook.Config{Logger: debugLogger(&logs)})
	g := webhookGate(srv.URL, nil)
	for range 3 {
		if _, err := authorize(t, a, g, callReq); err != nil {
			t.Fatalf("Authorize: %v", err)
		}
		s := <-ch
		if s.header.Get("X-Vipgate-Signature") != "" || s.header.Get("X-Vipgate-Timestamp") != "" {
			t.Errorf("request without secret carries signature headers")
		}
	}
	if n := strings.Count(logs.String(), "unsigned"); n != 1 {
		t.Errorf("unsigned warning logged %d times, want once:\n%s", n, logs.String())
	}
}

func TestVerify(t *testing.T) {
	secret := []byte("verify-secret-0123456789")
	now := time.Unix(1_800_000_000, 0)
	sign := func(ts int64, method, url, body string) string {
		m := hmac.New(sha256.New, secret)
		fmt.Fprintf(m, "%d\n%s\n%s\n%s", ts, method, url, body)
		return hex.EncodeToString(m.Sum(nil))
	}
	const url = "http://hooks.example:8080/check?caller=%2B49176"
	tests := []struct {
		name    string
		ts      string
		sig     string
		body    string
		skew    time.Duration
		wantErr error
	}{
		{"valid", "1800000000", sign(1_800_000_000, "POST", url, "{}"), "{}", 0, nil},
		{"valid within skew", "1799999800", sign(1_799_999_800, "POST", url, "{}"), "{}", 0, nil},
		{"stale", "1799999000", sign(1_799_999_000, "POST", url, "{}"), "{}", 0, webhook.ErrStale},
		{"future", "1800000100", sign(1_800_000_100, "POST", url, "{}"), "{}", time.Minute, webhook.ErrStale},
		{"tampered body", "1800000000", sign(1_800_000_000, "POST", url, "{}"), `{"x":1}`, 0, webhook.ErrBadSignature},
		{"other URL", "1800000000", sign(1_800_000_000, "POST", "http://hooks.example:8080/check", "{}"), "{}", 0, webhook.ErrBadSignature},
		{"malformed signature", "1800000000", "zz", "{}", 0, webhook.ErrBadSignature},
		{"malformed timestamp", "soon", sign(1_800_000_000, "POST", url, "{}"), "{}", 0, webhook.ErrBadSignature},
		{"unsigned", "", "", "{}", 0, webhook.ErrUnsigned},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A server-side request: RequestURI and Host, no absolute URL.
			r := httptest.NewRequest("POST", url, strings.NewReader(tt.body))
			r.URL.Scheme, r.URL.Host = "", ""
			r.RequestURI = "/check?caller=%2B49176"
			if tt.ts != "" {
				r.Header.Set("X-Vipgate-Timestamp", tt.ts)
				r.Header.Set("X-Vipgate-Signature", tt.sig)
			}
			err := webhook.Verify(secret, r, []byte(tt.body), tt.skew, now)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Verify = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

// TestVerifyRoundTrip checks that Verify accepts what Authorize sends,
// through a real server.
func TestVerifyRoundTrip(t *testing.T) {
	secret := []byte("round-trip-secret-0123456789")
	var verr atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := webhook.Verify(secret, r, body, time.Minute, time.Now()); err != nil {
			verr.Store(err.Error())
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		io.WriteString(w, `{reject:false}`)
	}))
	defer srv.Close()
	for _, method := range []string{"GET", "POST"} {
		a := webhook.New(webhook.Config{Secret: func(*gate.Gate) ([]byte, error) { return secret, nil }})
		g := webhookGate(srv.URL+"/x?c=###CALLER_NUMBER###", func(wc *gate.WebhookConfig) { wc.Method = method })
		if _, err := authorize(t, a, g, callReq); err != nil {
			t.Fatalf("%s: Authorize: %v (server: %v)", method, err, verr.Load())
		}
	}
}

func TestCAFile(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{forward:"200"}`)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake
	srv.StartTLS()
	defer srv.Close()
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(caFile, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	notPEM := filepath.Join(t.TempDir(), "bad.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		caFile string
		class  string
	}{
		{"with CA file", caFile, ""},
		{"without CA file", "", webhook.ClassNetwork},
		{"CA file without PEM", notPEM, webhook.ClassConfig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := webhook.New(webhook.Config{})
			g := webhookGate(srv.URL, func(wc *gate.WebhookConfig) { wc.CAFile = tt.caFile })
			ans, err := authorize(t, a, g, callReq)
			if c := gate.ErrorClass(err); c != tt.class {
				t.Fatalf("class = %q (%v), want %q", c, err, tt.class)
			}
			if tt.class == "" {
				checkAnswer(t, ans, wantAnswer{kind: gate.AnswerForward, forward: "200"})
			}
		})
	}
}

func TestBreaker(t *testing.T) {
	var status atomic.Int64
	status.Store(500)
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(int(status.Load()))
		io.WriteString(w, `{reject:false}`)
	}))
	defer srv.Close()
	clk := newClock()
	obs := &observer{}
	var logs syncBuffer
	a := webhook.New(webhook.Config{Now: clk.Now, Observer: obs, Logger: debugLogger(&logs)})
	g := webhookGate(srv.URL, func(wc *gate.WebhookConfig) {
		wc.BreakerFailures = 3
		wc.BreakerCooldown = gate.Duration(10 * time.Second)
	})
	// Each step: advance the clock, set the server's status, call; then the
	// expected class and whether the server was asked.
	steps := []struct {
		name    string
		advance time.Duration
		status  int
		class   string
		sent    bool
		breaker []bool // observer's breaker reports so far
	}{
		{"failure 1", 0, 500, webhook.ClassStatus, true, nil},
		{"failure 2", 0, 500, webhook.ClassStatus, true, nil},
		{"failure 3 opens", 0, 500, webhook.ClassStatus, true, []bool{true}},
		{"open refuses", time.Second, 200, webhook.ClassBreakerOpen, false, []bool{true}},
		{"still open before cool-down", 8 * time.Second, 200, webhook.ClassBreakerOpen, false, []bool{true}},
		{"half-open trial fails, reopens", 2 * time.Second, 500, webhook.ClassStatus, true, []bool{true, true}},
		{"reopened refuses", time.Second, 200, webhook.ClassBreakerOpen, false, []bool{true, true}},
		{"half-open trial succeeds, closes", 10 * time.Second, 200, "", true, []bool{true, true, false}},
		{"closed again", 0, 200, "", true, []bool{true, true, false}},
		{"one failure does not open", 0, 500, webhook.ClassStatus, true, []bool{true, true, false}},
		{"success resets the count", 0, 200, "", true, []bool{true, true, false}},
		{"failure 1 after reset", 0, 500, webhook.ClassStatus, true, []bool{true, true, false}},
		{"failure 2 after reset", 0, 500, webhook.ClassStatus, true, []bool{true, true, false}},
	}
	for _, st := range steps {
		clk.Add(st.advance)
		status.Store(int64(st.status))
		before := hits.Load()
		_, err := authorize(t, a, g, callReq)
		if c := gate.ErrorClass(err); c != st.class {
			t.Fatalf("%s: class = %q (%v), want %q", st.name, c, err, st.class)
		}
		if sent := hits.Load() > before; sent != st.sent {
			t.Errorf("%s: request sent = %v, want %v", st.name, sent, st.sent)
		}
		if _, br, _, _ := obs.snapshot(); fmt.Sprint(br) != fmt.Sprint(st.breaker) {
			t.Errorf("%s: breaker reports = %v, want %v", st.name, br, st.breaker)
		}
	}
	for _, line := range []string{"circuit breaker open", "circuit breaker closed"} {
		if !strings.Contains(logs.String(), line) {
			t.Errorf("log lacks %q", line)
		}
	}
}

func TestCache(t *testing.T) {
	var hits atomic.Int64
	var status atomic.Int64
	status.Store(200)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(int(status.Load()))
		io.WriteString(w, `{askForPin:{expectedPIN:"4711",maxRetries:2}}`)
	}))
	defer srv.Close()
	clk := newClock()
	obs := &observer{}
	a := webhook.New(webhook.Config{Now: clk.Now, Observer: obs})
	g := webhookGate(srv.URL, func(wc *gate.WebhookConfig) { wc.CacheTTL = gate.Duration(time.Minute) })
	other := gate.AuthRequest{Caller: "+4915112345678", Called: callReq.Called}

	steps := []struct {
		name    string
		advance time.Duration
		status  int
		req     gate.AuthRequest
		cached  bool
		class   string
		hits    int64 // server requests so far
	}{
		{"first asks", 0, 200, callReq, false, "", 1},
		{"second is cached", 30 * time.Second, 200, callReq, true, "", 1},
		{"other caller asks", 0, 200, other, false, "", 2},
		{"expired asks again", 31 * time.Second, 200, callReq, false, "", 3},
		{"cached again", 59 * time.Second, 500, callReq, true, "", 3},
		{"expired, error not cached", time.Second, 500, callReq, false, webhook.ClassStatus, 4},
		{"error was not cached", 0, 500, callReq, false, webhook.ClassStatus, 5},
	}
	for _, st := range steps {
		clk.Add(st.advance)
		status.Store(int64(st.status))
		ans, err := authorize(t, a, g, st.req)
		if c := gate.ErrorClass(err); c != st.class {
			t.Fatalf("%s: class = %q (%v), want %q", st.name, c, err, st.class)
		}
		if ans.Cached != st.cached {
			t.Errorf("%s: Cached = %v, want %v", st.name, ans.Cached, st.cached)
		}
		if err == nil {
			checkAnswer(t, ans, wantAnswer{kind: gate.AnswerAskPIN, pin: "4711", retries: 2})
		}
		if h := hits.Load(); h != st.hits {
			t.Errorf("%s: server requests = %d, want %d", st.name, h, st.hits)
		}
	}
	if _, _, h, m := obs.snapshot(); h != 2 || m != 5 {
		t.Errorf("cache hits/misses = %d/%d, want 2/5", h, m)
	}
}

func TestConcurrencyLimit(t *testing.T) {
	const limit = 2
	var inFlight, peak atomic.Int64
	entered := make(chan struct{}, 16)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		entered <- struct{}{}
		<-release
		io.WriteString(w, `{reject:false}`)
	}))
	defer srv.Close()
	a := webhook.New(webhook.Config{})
	g := webhookGate(srv.URL, func(wc *gate.WebhookConfig) {
		wc.MaxConcurrent = limit
		wc.Timeout = gate.Duration(10 * time.Second)
	})

	var wg sync.WaitGroup
	errs := make(chan error, limit+1)
	for range limit {
		wg.Go(func() {
			_, err := a.Authorize(context.Background(), g, callReq)
			errs <- err
		})
	}
	for range limit {
		<-entered
	}
	// Both slots are busy: a call with a short deadline waits, then fails
	// with class overload without reaching the server.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	_, err := a.Authorize(ctx, g, callReq)
	cancel()
	if c := gate.ErrorClass(err); c != webhook.ClassOverload {
		t.Errorf("class = %q (%v), want overload", c, err)
	}
	// A waiting call gets the slot that frees up.
	wg.Go(func() {
		_, err := a.Authorize(context.Background(), g, callReq)
		errs <- err
	})
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Authorize: %v", err)
		}
	}
	if p := peak.Load(); p > limit {
		t.Errorf("server saw %d requests at once, limit %d", p, limit)
	}
}

func TestConfigChange(t *testing.T) {
	srvA, _ := answerServer(t, 200, `{reject:true}`)
	srvB, _ := answerServer(t, 200, `{reject:false}`)
	a := webhook.New(webhook.Config{})
	g := webhookGate(srvA.URL, nil)
	steps := []struct {
		url  string
		want gate.AnswerKind
	}{
		{srvA.URL, gate.AnswerReject},
		{srvB.URL, gate.AnswerPass},
		{srvA.URL, gate.AnswerReject},
	}
	for _, st := range steps {
		g.Identification.Webhook.URL = st.url
		ans, err := authorize(t, a, g, callReq)
		if err != nil || ans.Kind != st.want {
			t.Fatalf("URL %s: Authorize = %v, %v; want %s", st.url, ans.Kind, err, st.want)
		}
	}
}

func TestConnectionReuse(t *testing.T) {
	var newConns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/status":
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, strings.Repeat("busy ", 200))
		case "/syntax":
			io.WriteString(w, `{reject:`)
		case "/large":
			io.WriteString(w, strings.Repeat(" ", 2*webhook.MaxBody))
		default:
			io.WriteString(w, `{reject:false}`)
		}
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			newConns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	a := webhook.New(webhook.Config{})
	// Answers of every kind, errors included, are drained and closed, so
	// sequential requests share one connection. The breaker stays out of
	// the way with a high threshold.
	paths := []string{"/ok", "/status", "/ok", "/syntax", "/large", "/ok"}
	for i := range 30 {
		g := webhookGate(srv.URL+paths[i%len(paths)], func(wc *gate.WebhookConfig) { wc.BreakerFailures = 1000 })
		authorize(t, a, g, callReq)
	}
	if n := newConns.Load(); n != 1 {
		t.Errorf("30 sequential requests opened %d connections, want 1", n)
	}
}

func parseQuery(raw string) (map[string]string, error) {
	out := map[string]string{}
	for part := range strings.SplitSeq(raw, "&") {
		k, v, _ := strings.Cut(part, "=")
		dv, err := url.QueryUnescape(v)
		if err != nil {
			return nil, err
		}
		out[k] = dv
	}
	return out, nil
}

// TestConfiguredHostHeader checks that a gate's Host header, in any
// spelling, sets the request's Host (not a second header) and that the
// signature covers that host.
func TestConfiguredHostHeader(t *testing.T) {
	srv, ch := recordingServer(t, `{reject:false}`)
	key := []byte("host-test-secret")
	a := webhook.New(webhook.Config{Secret: func(*gate.Gate) ([]byte, error) { return key, nil }})
	g := webhookGate(srv.URL+"/check", func(wc *gate.WebhookConfig) { wc.Headers = map[string]string{"host": "hooks.example"} })
	if _, err := authorize(t, a, g, callReq); err != nil {
		t.Fatalf("Authorize: %v", err)
	}
	s := <-ch
	if s.host != "hooks.example" {
		t.Errorf("Host %q, want hooks.example", s.host)
	}
	if v := s.header.Values("Host"); len(v) != 0 {
		t.Errorf("Host sent as a header too: %q", v)
	}
	if err := verifyIndependently(key, s); err != nil {
		t.Errorf("signature over the configured host: %v", err)
	}
}
