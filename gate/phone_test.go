package gate_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/gate/gatetest"
)

func TestDialplanOverride(t *testing.T) {
	for _, tt := range gatetest.OverrideCases {
		t.Run(tt.Name, func(t *testing.T) {
			info := gate.Dialplan{Path: tt.Path, Query: tt.Query, Args: tt.Args, Exten: "*55"}.CallInfo(gate.CallInfo{}, nil)
			gatetest.CheckOverride(t, tt, info)
			if info.Override != nil && info.Called != "*55" {
				t.Errorf("Called = %q, want the extension *55", info.Called)
			}
		})
	}
}

func TestDialplanOverrideUnknownKeys(t *testing.T) {
	for _, tt := range gatetest.OverrideCases {
		if len(tt.Unknown) == 0 {
			continue
		}
		var buf bytes.Buffer
		log := slog.New(slog.NewJSONHandler(&buf, nil))
		gate.Dialplan{Path: tt.Path, Query: tt.Query, Args: tt.Args}.CallInfo(gate.CallInfo{}, log)
		var line struct {
			Keys []string `json:"keys"`
		}
		if err := json.Unmarshal(buf.Bytes(), &line); err != nil || !slices.Equal(line.Keys, tt.Unknown) {
			t.Errorf("%s: logged %s (%v), want keys %q", tt.Name, buf.String(), err, tt.Unknown)
		}
		if strings.Contains(buf.String(), "1234") {
			t.Errorf("%s: the log shows an argument's value: %s", tt.Name, buf.String())
		}
	}
}
