package ari_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vipgate/vipgate/ari"
	"github.com/vipgate/vipgate/ari/arifake"
	"github.com/vipgate/vipgate/gate"
)

// statusServer answers every request with status and an ARI error body,
// counting the TCP connections it accepts.
func statusServer(t *testing.T, status int, msg string) (*httptest.Server, *atomic.Int32) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != testUser || p != testPass {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		if status != http.StatusNoContent {
			_ = json.NewEncoder(w).Encode(map[string]string{"message": msg})
		}
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &conns
}

func newClient(t *testing.T, base string, logger *slog.Logger) *ari.Client {
	t.Helper()
	c, err := ari.NewClient(ari.ClientConfig{BaseURL: base + "/ari", User: testUser, Password: testPass, Logger: logger, RequestTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestClientStatusMapping(t *testing.T) {
	ctx := context.Background()
	channelOp := func(c *ari.Client) error { return c.Answer(ctx, "1700000000.1") }
	tests := []struct {
		name   string
		status int
		msg    string
		op     func(c *ari.Client) error
		want   []error
	}{
		{"404 channel is a hang-up", 404, "Channel not found", channelOp, []error{gate.ErrHangup}},
		{"404 hangup", 404, "Channel not found", func(c *ari.Client) error { return c.Hangup(ctx, "x", "busy") }, []error{gate.ErrHangup}},
		{"404 variable is not found", 404, "Provided variable was not found", func(c *ari.Client) error { _, err := c.GetVar(ctx, "x", "FOO"); return err }, []error{gate.ErrNotFound}},
		{"404 label is not found", 404, "Requested label: nope not found", func(c *ari.Client) error { return c.Continue(ctx, "x", "", "", 0, "nope") }, []error{gate.ErrNotFound}},
		{"404 playback is not found", 404, "Playback not found", func(c *ari.Client) error { return c.StopPlayback(ctx, "p") }, []error{gate.ErrNotFound}},
		{"404 application", 404, "Application not found", func(c *ari.Client) error { _, err := c.GetApplication(ctx, "vipgate"); return err }, []error{gate.ErrNotFound}},
		{"409 not in stasis", 409, "Channel not in Stasis application", channelOp, []error{ari.ErrNotInStasis, gate.ErrConflict}},
		{"412 invalid state", 412, "Channel in invalid state", channelOp, []error{ari.ErrInvalidState, gate.ErrConflict}},
		{"400 invalid", 400, "Invalid reason for hangup provided", func(c *ari.Client) error { return c.Hangup(ctx, "x", "nonsense") }, []error{gate.ErrInvalid}},
		{"422 invalid", 422, "Endpoint parameter 'endpoint' must contain tech/resource", func(c *ari.Client) error { return c.Redirect(ctx, "x", "nope") }, []error{gate.ErrInvalid}},
		{"500 unavailable", 500, "Failed to queue media", func(c *ari.Client) error { _, err := c.Play(ctx, "x", "p", []string{"sound:a"}, ""); return err }, []error{gate.ErrUnavailable}},
		{"503 unavailable", 503, "Asterisk not booted", func(c *ari.Client) error { _, err := c.Ping(ctx); return err }, []error{gate.ErrUnavailable}},
		{"403 unauthorized", 403, "Write access denied", channelOp, []error{ari.ErrUnauthorized, gate.ErrUnavailable}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := statusServer(t, tt.status, tt.msg)
			err := tt.op(newClient(t, srv.URL, nil))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !errors.Is(err, w) {
					t.Errorf("error %q does not match %v", err, w)
				}
			}
			var ae *ari.Error
			if !errors.As(err, &ae) || ae.Status != tt.status || ae.Message != tt.msg {
				t.Errorf("error = %#v, want status %d and message %q", err, tt.status, tt.msg)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not include the message", err)
			}
		})
	}
}

func TestClientTransportErrors(t *testing.T) {
	// A server that never answers in time.
	block := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(block); slow.Close() })
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()

	hangupCtx, cancel := context.WithCancelCause(context.Background())
	cancel(gate.ErrHangup)
	tests := []struct {
		name string
		base string
		ctx  context.Context
		want error
	}{
		{"request timeout", slow.URL, context.Background(), gate.ErrTimeout},
		{"connection refused", closedURL, context.Background(), gate.ErrUnavailable},
		{"call context ended by hang-up", slow.URL, hangupCtx, gate.ErrHangup},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ari.NewClient(ari.ClientConfig{BaseURL: tt.base + "/ari", User: testUser, Password: testPass, RequestTimeout: 200 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Answer(tt.ctx, "x"); !errors.Is(err, tt.want) {
				t.Errorf("Answer = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestClientKeepAlive(t *testing.T) {
	for _, status := range []int{204, 404, 500} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			srv, conns := statusServer(t, status, "some message that fills the body")
			c := newClient(t, srv.URL, nil)
			for range 20 {
				_ = c.Answer(context.Background(), "x")
			}
			if n := conns.Load(); n != 1 {
				t.Errorf("20 sequential requests used %d connections, want 1 (bodies not drained?)", n)
			}
		})
	}
}

// Asterisk closes an HTTP connection idle for session_keep_alive (15 s by
// default); the client must drop idle connections before that, or a POST
// sent as Asterisk closes one fails with EOF and is not retried.
func TestClientDropsIdleConnectionsBeforeAsterisk(t *testing.T) {
	const asteriskKeepAlive = 15 * time.Second
	c, err := ari.NewClient(ari.ClientConfig{BaseURL: "http://127.0.0.1:8088/ari"})
	if err != nil {
		t.Fatal(err)
	}
	if d := ari.IdleTimeoutOf(c); d <= 0 || d >= asteriskKeepAlive {
		t.Errorf("idle connections kept %v, want more than 0 and less than Asterisk's %v", d, asteriskKeepAlive)
	}
}

func TestNewClientRejects(t *testing.T) {
	for _, base := range []string{"ftp://host/ari", "http://user:pw@host:8088/ari", "::"} {
		if _, err := ari.NewClient(ari.ClientConfig{BaseURL: base}); err == nil {
			t.Errorf("NewClient(%q) accepted it", base)
		} else if strings.Contains(err.Error(), "pw@") {
			t.Errorf("error reveals the URL password: %v", err)
		}
	}
}

func TestClientAgainstFake(t *testing.T) {
	f := newFake(t, arifake.Config{})
	logs := &syncBuffer{}
	c := newClient(t, strings.TrimSuffix(f.URL(), "/ari"), slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	ctx := context.Background()
	if _, err := c.GetApplication(ctx, "vipgate"); !errors.Is(err, gate.ErrNotFound) {
		t.Errorf("GetApplication of an unregistered app = %v, want ErrNotFound", err)
	}
	p, err := c.Ping(ctx)
	if err != nil || p.Ping != "pong" {
		t.Fatalf("Ping = %+v, %v", p, err)
	}
	info, err := c.Info(ctx)
	if err != nil || info.System.Version == "" || info.Status.StartupTime.IsZero() {
		t.Fatalf("Info = %+v, %v", info, err)
	}
	// Originate needs a registered application in the fake.
	e := startApp(t, func(ctx context.Context, call gate.Call) { <-ctx.Done() }, nil, f)
	ch, err := c.Originate(ctx, ari.OriginateRequest{Endpoint: "Local/12#@test-caller/n", Extension: "1000", Context: "from-external", CallerID: "5551234", Variables: map[string]string{"__VIPGATE_TEST": "t1"}})
	if err != nil {
		t.Fatal(err)
	}
	if ch.ID == "" || ch.Caller.Number != "5551234" {
		t.Errorf("originated channel = %+v", ch)
	}
	if v, err := c.GetVar(ctx, ch.ID, "VIPGATE_TEST"); err != nil || v != "t1" {
		t.Errorf("GetVar = %q, %v; want the originate variable", v, err)
	}
	if err := c.SetVar(ctx, ch.ID, "VIPGATE_RESULT", "pass"); err != nil {
		t.Fatal(err)
	}
	if v, _ := c.GetVar(ctx, ch.ID, "VIPGATE_RESULT"); v != "pass" {
		t.Errorf("GetVar after SetVar = %q", v)
	}
	app, err := c.GetApplication(ctx, "vipgate")
	if err != nil || len(app.ChannelIDs) != 1 || app.ChannelIDs[0] != ch.ID {
		t.Errorf("GetApplication = %+v, %v", app, err)
	}
	got, err := c.GetChannel(ctx, ch.ID)
	if err != nil || got.Dialplan.AppData != "vipgate" || got.CreationTime.IsZero() {
		t.Errorf("GetChannel = %+v, %v", got, err)
	}
	if err := c.Hangup(ctx, ch.ID, "busy"); err != nil {
		t.Fatal(err)
	}
	if r := result(t, f, ch.ID); r.Kind != "hangup" || r.Reason != "busy" {
		t.Errorf("result = %+v", r)
	}
	if _, err := c.GetChannel(ctx, ch.ID); !errors.Is(err, gate.ErrHangup) {
		t.Errorf("GetChannel after hang-up = %v, want ErrHangup", err)
	}
	e.stop()
	for _, r := range f.Requests() {
		if !r.BasicAuth || r.APIKey {
			t.Errorf("%s %s: basic auth %v, api_key %v; want basic auth only", r.Method, r.Path, r.BasicAuth, r.APIKey)
		}
	}
	if l := logs.String(); l == "" || strings.Contains(l, testPass) {
		t.Errorf("client logs are empty or contain the password:\n%s", l)
	}
}

func TestSecretRedacted(t *testing.T) {
	s := ari.Secret(testPass)
	sc := ari.ServerConfig{Name: "pbx", BaseURL: "http://127.0.0.1:8088/ari", User: "u", Password: s}
	var mu sync.Mutex
	var sb strings.Builder
	logger := slog.New(slog.NewJSONHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return sb.Write(p)
	}), nil))
	logger.Info("config", "password", s, "server", sc)
	js, err := json.Marshal(sc)
	if err != nil {
		t.Fatal(err)
	}
	outs := map[string]string{
		"%v":     fmt.Sprintf("%v", s),
		"%s":     fmt.Sprintf("%s", s),
		"%q":     fmt.Sprintf("%q", s),
		"%#v":    fmt.Sprintf("%#v", s),
		"%+v":    fmt.Sprintf("%+v", sc),
		"%#v sc": fmt.Sprintf("%#v", sc),
		"json":   string(js),
		"slog":   sb.String(),
	}
	for name, out := range outs {
		if strings.Contains(out, testPass) {
			t.Errorf("%s reveals the secret: %s", name, out)
		}
	}
	if s.Reveal() != testPass {
		t.Error("Reveal does not return the clear value")
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// TestClientSetVars sets several variables in one request where Asterisk
// has POST /channels/{id}/variables, one request each where it has not,
// and sets the others when Asterisk refuses one.
func TestClientSetVars(t *testing.T) {
	vars := []gate.Var{{Name: gate.VarResult, Value: "pin_ok"}, {Name: gate.VarGate, Value: "hotline"}, {Name: gate.VarTarget, Value: "continue"}}
	tests := []struct {
		name         string
		cfg          arifake.Config
		wantBatch    int // POST .../variables requests for two SetVars
		wantOne      int // POST .../variable requests for two SetVars
		wantRefused  string
		wantFallback bool // the log says the fallback once
	}{
		{name: "Asterisk 22.10", wantBatch: 2},
		{name: "older Asterisk", cfg: arifake.Config{NoSetVariables: true}, wantBatch: 1, wantOne: 6, wantFallback: true},
		{name: "one refused", cfg: arifake.Config{RefuseVariable: func(n string) bool { return n == gate.VarGate }}, wantBatch: 2, wantOne: 6, wantRefused: gate.VarGate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.User, tt.cfg.Password = testUser, testPass
			f := newFake(t, tt.cfg)
			logs := &syncBuffer{}
			c := newClient(t, strings.TrimSuffix(f.URL(), "/ari"), slog.New(slog.NewTextHandler(logs, nil)))
			ctx := context.Background()
			startApp(t, func(ctx context.Context, call gate.Call) { <-ctx.Done() }, nil, f)
			ch, err := c.Originate(ctx, ari.OriginateRequest{Endpoint: "Local/12#@test-caller/n", Extension: "1000", Context: "from-external"})
			if err != nil {
				t.Fatal(err)
			}
			for range 2 {
				err := c.SetVars(ctx, ch.ID, vars)
				if tt.wantRefused == "" {
					if err != nil {
						t.Fatalf("SetVars: %v", err)
					}
				} else {
					var ve *ari.VarError
					if !errors.As(err, &ve) || ve.Name != tt.wantRefused || !errors.Is(err, gate.ErrInvalid) {
						t.Fatalf("SetVars = %v, want a VarError for %s matching ErrInvalid", err, tt.wantRefused)
					}
				}
			}
			for _, v := range vars {
				got, err := c.GetVar(ctx, ch.ID, v.Name)
				if v.Name == tt.wantRefused {
					if err == nil {
						t.Errorf("refused %s is set to %q", v.Name, got)
					}
					continue
				}
				if err != nil || got != v.Value {
					t.Errorf("%s = %q, %v; want %q", v.Name, got, err, v.Value)
				}
			}
			batch, one := 0, 0
			for _, r := range f.Requests() {
				switch {
				case r.Method == http.MethodPost && strings.HasSuffix(r.Path, "/variables"):
					batch++
				case r.Method == http.MethodPost && strings.HasSuffix(r.Path, "/variable"):
					one++
				}
			}
			if batch != tt.wantBatch || one != tt.wantOne {
				t.Errorf("%d requests to set several and %d to set one, want %d and %d", batch, one, tt.wantBatch, tt.wantOne)
			}
			if n := strings.Count(logs.String(), "one by one"); n != map[bool]int{true: 1}[tt.wantFallback] {
				t.Errorf("the fallback is logged %d times, want it %v once:\n%s", n, tt.wantFallback, logs)
			}
			if err := c.Hangup(ctx, ch.ID, ""); err != nil {
				t.Fatal(err)
			}
			if err := c.SetVars(ctx, ch.ID, vars); !errors.Is(err, gate.ErrHangup) {
				t.Errorf("SetVars on a gone channel = %v, want ErrHangup", err)
			}
		})
	}
}
