package gate_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/gate/gatetest"
)

// TestFlowLogKeys checks that every line the Flow logs about a call
// carries the call's id, source and gate under gate's fixed keys.
func TestFlowLogKeys(t *testing.T) {
	var buf bytes.Buffer
	st := gatetest.NewStore()
	h := mustHasher(t)
	if err := st.CreateGate(context.Background(), staticGate(h, "4711")); err != nil {
		t.Fatal(err)
	}
	e := gate.NewEngine(gate.EngineConfig{Store: st, Hasher: h, Region: "DE"})
	f := gate.NewFlow(e, gate.FlowConfig{Log: st, Logger: slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	c := &gatetest.Call{CallInfo: gate.CallInfo{ID: "c1", Source: "agi", Caller: "100", Called: "1000"}, Steps: []gatetest.Step{{Digits: "1234", Terminated: true}, {Digits: "4711", Terminated: true}}}
	f.Run(context.Background(), c)
	n := 0
	for _, line := range bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")) {
		var rec map[string]any
		if err := json.Unmarshal(line, &rec); err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		n++
		if rec[gate.LogCall] != "c1" || rec[gate.LogSource] != "agi" || rec[gate.LogGate] != "hotline" {
			t.Errorf("line %s: want %s=c1 %s=agi %s=hotline", line, gate.LogCall, gate.LogSource, gate.LogGate)
		}
	}
	if n < 3 { // two PIN attempts and the call line
		t.Errorf("%d log lines, want at least 3:\n%s", n, buf.String())
	}
}

// TestCallLoggerDiscard checks that a logger that writes nothing is not
// wrapped: a call costs no allocation for a log nobody writes.
func TestCallLoggerDiscard(t *testing.T) {
	base := slog.New(slog.DiscardHandler)
	if got := gate.CallLogger(base, gate.CallInfo{ID: "c1", Source: "ari"}); got != base {
		t.Error("CallLogger wrapped a discarding logger")
	}
	var buf bytes.Buffer
	gate.CallLogger(slog.New(slog.NewTextHandler(&buf, nil)), gate.CallInfo{ID: "c1", Source: "ari"}).Info("x")
	if got := buf.String(); !bytes.Contains([]byte(got), []byte("call=c1 source=ari")) {
		t.Errorf("log %q, want call=c1 source=ari", got)
	}
}
