package agi

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/gate/gatetest"
)

// logBuffer is a log sink safe for concurrent writers.
type logBuffer = gatetest.Logs

// TestLogKeys checks that the FastAGI adapter logs a call's id under
// gate.LogCall, with gate.LogSource, as the ARI adapter and the Flow do,
// and never under another key.
func TestLogKeys(t *testing.T) {
	logs := &logBuffer{}
	_, addr, _, _ := startServer(t, Config{
		Logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Handler: func(ctx context.Context, c gate.Call) {
			_ = c.Answer(ctx)
			_ = c.Continue(ctx, gate.Continue)
		},
	})
	c := dial(t, addr)
	if _, err := io.WriteString(c, testHeader); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(c)
	for {
		if _, err := r.ReadString('\n'); err != nil {
			break
		}
		_, _ = io.WriteString(c, "200 result=0\n")
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(logs.String(), "agi session end") {
		if time.Now().After(deadline) {
			t.Fatalf("no session end logged:\n%s", logs)
		}
		time.Sleep(5 * time.Millisecond)
	}
	gatetest.CheckCallLogKeys(t, logs.String(), "1.1", "agi", 3)
}

// TestIgnoredArgumentLogged checks that an ignored dialplan argument is
// logged at Warn on the call's logger (with its id), by key only.
func TestIgnoredArgumentLogged(t *testing.T) {
	logs := &logBuffer{}
	hdr := Header{Vars: map[string]string{"agi_uniqueid": "1.7", "agi_extension": "1000"}, Args: []string{"gaet=hotline"}}
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	s := newSession(b, bufio.NewReader(b), hdr, 1000, time.Second, slog.New(slog.NewJSONHandler(logs, nil)), func() {})
	if s.info.GateName != "" || s.info.Called != "1000" {
		t.Errorf("info %+v", s.info)
	}
	out := logs.String()
	if !strings.Contains(out, `"level":"WARN"`) || !strings.Contains(out, `"keys":["gaet"]`) || strings.Contains(out, "hotline") {
		t.Errorf("log %s: want a Warn line with the key gaet and not its value", out)
	}
	gatetest.CheckCallLogKeys(t, out, "1.7", "agi", 1)
}
