package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/webhook"
)

var testSecret = []byte("example-secret-for-tests")

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newTestServer(t *testing.T) (*httptest.Server, *clock) {
	t.Helper()
	clk := &clock{t: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)}
	srv := httptest.NewServer(newServer(testSecret, exampleDirectory(), clk.Now, nil))
	t.Cleanup(srv.Close)
	return srv, clk
}

// signedRequest builds a request to url signed at ts with secret.
func signedRequest(t *testing.T, method, url string, body []byte, secret []byte, ts time.Time) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if secret != nil {
		req.Header.Set(webhook.HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
		req.Header.Set(webhook.HeaderSignature, webhook.Sign(secret, ts.Unix(), method, url, body))
	}
	return req
}

func TestDecide(t *testing.T) {
	srv, clk := newTestServer(t)
	q := func(caller string) string {
		return srv.URL + "/decide?caller=" + strings.ReplaceAll(caller, "+", "%2B") + "&called=%2B4940822240"
	}
	tests := []struct {
		name     string
		method   string
		url      string
		body     string
		secret   []byte
		skew     time.Duration // signature time minus server time
		want     int
		wantJSON string
	}{
		{name: "vip asks for PIN", url: q("+4917612345678"), want: 200,
			wantJSON: `{"askForPin":{"expectedPIN":"482915","maxRetries":3}}`},
		{name: "blocked rejects", url: q("+4915799999999"), want: 200, wantJSON: `{"reject":true}`},
		{name: "others pass", url: q("+4930111111"), want: 200, wantJSON: `{"reject":false}`},
		{name: "post body", method: http.MethodPost, url: srv.URL + "/decide",
			body: `{"caller":"+498912345678","called":"+4940822240"}`, want: 200,
			wantJSON: `{"askForPin":{"expectedPIN":"739104","maxRetries":3}}`},
		{name: "unsigned", url: q("+4917612345678"), secret: []byte{}, want: 401},
		{name: "wrong secret", url: q("+4917612345678"), secret: []byte("another secret"), want: 401},
		{name: "older than five minutes", url: q("+4930111112"), skew: -5*time.Minute - time.Second, want: 401},
		{name: "just under five minutes old", url: q("+4930111113"), skew: -5*time.Minute + time.Second, want: 200, wantJSON: `{"reject":false}`},
		{name: "from the future", url: q("+4930111114"), skew: 6 * time.Minute, want: 401},
		{name: "no caller", url: srv.URL + "/decide?called=%2B4940822240", want: 400},
		{name: "bad post body", method: http.MethodPost, url: srv.URL + "/decide", body: `caller=1`, want: 400},
		{name: "wrong method", method: http.MethodPut, url: q("+4917612345678"), want: 405},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := tt.method
			if method == "" {
				method = http.MethodGet
			}
			secret := tt.secret
			switch {
			case secret == nil:
				secret = testSecret
			case len(secret) == 0:
				secret = nil // send unsigned
			}
			req := signedRequest(t, method, tt.url, []byte(tt.body), secret, clk.Now().Add(tt.skew))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.want)
			}
			if tt.wantJSON == "" {
				return
			}
			var got, want any
			if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal([]byte(tt.wantJSON), &want); err != nil {
				t.Fatal(err)
			}
			g, _ := json.Marshal(got)
			w, _ := json.Marshal(want)
			if !bytes.Equal(g, w) {
				t.Errorf("answer %s, want %s", g, w)
			}
		})
	}
}

func TestReplay(t *testing.T) {
	srv, clk := newTestServer(t)
	url := srv.URL + "/decide?caller=%2B4930111111&called=%2B4940822240"
	sent := clk.Now()
	send := func(mutate func(*http.Request)) int {
		req := signedRequest(t, http.MethodGet, url, nil, testSecret, sent)
		if mutate != nil {
			mutate(req)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	upper := func(r *http.Request) {
		r.Header.Set(webhook.HeaderSignature, strings.ToUpper(r.Header.Get(webhook.HeaderSignature)))
	}
	steps := []struct {
		name    string
		advance time.Duration
		mutate  func(*http.Request)
		want    int
	}{
		{"first use", 0, nil, 200},
		{"same request again", time.Second, nil, 401},
		{"same signature in upper case", 0, upper, 401},
		{"replay after four minutes", 4 * time.Minute, nil, 401},
		{"replay after the skew: stale", 2 * time.Minute, nil, 401},
	}
	for _, s := range steps {
		clk.Add(s.advance)
		if got := send(s.mutate); got != s.want {
			t.Errorf("%s: status %d, want %d", s.name, got, s.want)
		}
	}
}

// TestWithAuthorizer runs vipgate's own webhook client against the
// example service with the URL template of webhook-gate.yaml.
func TestWithAuthorizer(t *testing.T) {
	srv, clk := newTestServer(t)
	raw, err := os.ReadFile(filepath.Join("..", "webhook-gate.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Identification struct {
			Webhook struct {
				URL string `yaml:"url"`
			} `yaml:"webhook"`
		} `yaml:"identification"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	tmpl := doc.Identification.Webhook.URL
	if !strings.HasPrefix(tmpl, "http://127.0.0.1:8090/") {
		t.Fatalf("webhook-gate.yaml URL %q does not point at this service's default address", tmpl)
	}
	tmpl = strings.Replace(tmpl, "http://127.0.0.1:8090", srv.URL, 1)
	g := &gate.Gate{ID: "webhook-demo", Identification: gate.Identification{
		Mode:    gate.IdentWebhook,
		Webhook: &gate.WebhookConfig{URL: tmpl, Method: "GET", Timeout: gate.Duration(2 * time.Second), MaxConcurrent: 4},
	}}
	a := webhook.New(webhook.Config{
		Now:    clk.Now,
		Secret: func(*gate.Gate) ([]byte, error) { return testSecret, nil },
	})
	defer a.CloseIdleConnections()

	tests := []struct {
		caller   string
		want     gate.AnswerKind
		wantPIN  string
		wantRetr int
	}{
		{"+4917612345678", gate.AnswerAskPIN, "482915", 3},
		{"+4915799999999", gate.AnswerReject, "", 0},
		{"+4930111111", gate.AnswerPass, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.caller, func(t *testing.T) {
			ans, err := a.Authorize(context.Background(), g, gate.AuthRequest{Caller: tt.caller, Called: "+4940822240"})
			if err != nil {
				t.Fatalf("Authorize: %v", err)
			}
			if ans.Kind != tt.want || ans.MaxRetries != tt.wantRetr {
				t.Errorf("answer %s (retries %d), want %s (retries %d)", ans.Kind, ans.MaxRetries, tt.want, tt.wantRetr)
			}
			if tt.wantPIN != "" && !ans.PIN.Match(tt.wantPIN) {
				t.Error("the expected PIN did not arrive")
			}
		})
	}
}

func TestRunFlags(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte(" \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string
	}{
		{"no secret", nil, nil, "no -secret-file"},
		{"missing file", []string{"-secret-file", filepath.Join(dir, "nope")}, nil, "read secret"},
		{"empty file from env", nil, map[string]string{"VIPGATE_WEBHOOK_SECRET_FILE": empty}, "is empty"},
		{"bad flag", []string{"-port", "1"}, nil, "flag provided but not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := run(context.Background(), tt.args, func(k string) string { return tt.env[k] }, &out)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("run error = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestRunServes(t *testing.T) {
	secretFile := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secretFile, append(testSecret, '\n'), 0o600); err != nil {
		t.Fatal(err)
	}
	// Find a free port, then let run listen on it.
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var out syncBuffer
	go func() {
		done <- run(ctx, []string{"-addr", addr, "-secret-file", secretFile}, func(string) string { return "" }, &out)
	}()

	url := "http://" + addr + "/decide?caller=%2B4915799999999&called=%2B4940822240"
	var resp *http.Response
	for i := 0; i < 100; i++ {
		resp, err = http.DefaultClient.Do(signedRequest(t, http.MethodGet, url, nil, testSecret, time.Now()))
		if err == nil {
			break
		}
		select {
		case rerr := <-done:
			t.Fatalf("run returned before serving: %v", rerr)
		case <-time.After(20 * time.Millisecond):
		}
	}
	if err != nil {
		cancel()
		t.Fatalf("service did not come up: %v", err)
	}
	var got map[string]any
	json.NewDecoder(resp.Body).Decode(&got)
	resp.Body.Close()
	if resp.StatusCode != 200 || got["reject"] != true {
		t.Errorf("status %d, answer %v; want 200 {reject:true}", resp.StatusCode, got)
	}
	// A VIP caller, so that a PIN passes through the service before its
	// log is checked.
	vip := "http://" + addr + "/decide?caller=%2B4917612345678&called=%2B4940822240"
	resp, err = http.DefaultClient.Do(signedRequest(t, http.MethodGet, vip, nil, testSecret, time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"expectedPIN":"482915"`) {
		t.Errorf("VIP caller: status %d, answer %s; want 200 with askForPin", resp.StatusCode, body)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run after cancel: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("run did not return after cancel")
	}
	if strings.Contains(out.String(), "482915") || strings.Contains(out.String(), string(testSecret)) {
		t.Error("log contains a PIN or the secret")
	}
}

// syncBuffer is a bytes.Buffer safe for the service's logger and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
