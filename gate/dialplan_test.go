package gate_test

import (
	"bytes"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/gate/gatetest"
)

func TestDialplanParse(t *testing.T) {
	for _, tt := range gatetest.DialplanCases {
		t.Run(tt.Name, func(t *testing.T) {
			asked := 0
			d := gate.Dialplan{Args: tt.Args, Exten: tt.Exten, DNID: func() string { asked++; return tt.DNID }}
			called, name, unknown := d.Parse()
			if called != tt.Called || name != tt.Gate || !slices.Equal(unknown, tt.Unknown) {
				t.Errorf("Parse() = %q, %q, %q; want %q, %q, %q", called, name, unknown, tt.Called, tt.Gate, tt.Unknown)
			}
			// The DNID is read only when the rule needs it (an adapter may
			// have to ask Asterisk for it).
			if need := tt.Exten == "s" && called == tt.DNID; (asked > 0) != need && tt.DNID != "" {
				t.Errorf("DNID read %d times, want it read only for an s extension without a called argument", asked)
			}
		})
	}
}

func TestDialplanPath(t *testing.T) {
	tests := []struct {
		name       string
		path       string
		args       []string
		called, gw string
	}{
		{"path is the gate", "hotline", []string{"0301234567"}, "0301234567", "hotline"},
		{"path wins over a name arg", "a", []string{"b"}, "77", "a"},
		{"gate= wins over the path", "a", []string{"123", "gate=vip", "called=+4930999", "x=y"}, "+4930999", "vip"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			called, name, _ := gate.Dialplan{Path: tt.path, Args: tt.args, Exten: "77"}.Parse()
			if called != tt.called || name != tt.gw {
				t.Errorf("Parse() = %q, %q; want %q, %q", called, name, tt.called, tt.gw)
			}
		})
	}
}

func TestDialplanCallInfoLogsUnknownKeys(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	info := gate.Dialplan{Args: []string{"gaet=secretvalue", "hotline"}, Exten: "1000"}.CallInfo(gate.CallInfo{ID: "c1"}, log)
	if info.GateName != "hotline" || info.Called != "1000" || info.ID != "c1" {
		t.Errorf("info = %+v", info)
	}
	out := buf.String()
	if !strings.Contains(out, "level=WARN") || !strings.Contains(out, "gaet") {
		t.Errorf("log %q: want a Warn line naming the ignored key", out)
	}
	if strings.Contains(out, "secretvalue") {
		t.Errorf("log %q shows an argument's value", out)
	}
	buf.Reset()
	gate.Dialplan{Args: []string{"hotline"}}.CallInfo(gate.CallInfo{}, log)
	if buf.Len() != 0 {
		t.Errorf("log %q for arguments without unknown keys", buf.String())
	}
}

// TestDialplanGates checks that the table's rows end at different gates
// with DialplanFlow, so that the adapters' runs of it (which compare their
// channel variables with DialplanVars) can tell a wrong gate.
func TestDialplanGates(t *testing.T) {
	f := gatetest.DialplanFlow()
	seen := map[string]bool{}
	for _, tt := range gatetest.DialplanCases {
		v := gatetest.DialplanVars(f, tt)
		if v[gate.VarResult] != string(gate.OutcomePassed) || v[gate.VarTarget] != "continue" {
			t.Errorf("%s: vars %v, want passed and continue", tt.Name, v)
		}
		seen[v[gate.VarGate]] = true
	}
	for _, id := range []string{"", "hotline", "night", "vip", "dnid"} {
		if !seen[id] {
			t.Errorf("no row ends at gate %q (got %v)", id, seen)
		}
	}
}
