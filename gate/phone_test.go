package gate_test

import (
	"bytes"
	"context"
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

// TestAuditedPhoneOverridePINRedacted: a changed override PIN shows in
// the audit log as a redacted change, never as its hash.
func TestAuditedPhoneOverridePINRedacted(t *testing.T) {
	ctx := context.Background()
	raw := gatetest.NewStore()
	s := gate.Audited(raw, "cli:alice")
	h, err := gate.NewHasher([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	p1, p2 := h.Hash("4711"), h.Hash("0815")
	g := &gate.Gate{ID: "vip", Identification: gate.Identification{Mode: gate.IdentTable}, PhoneOverride: &gate.PhoneOverride{PIN: &p1}}
	if err := s.CreateGate(ctx, g); err != nil {
		t.Fatal(err)
	}
	g2 := *g
	g2.PhoneOverride = &gate.PhoneOverride{PIN: &p2}
	if err := s.UpdateGate(ctx, &g2); err != nil {
		t.Fatal(err)
	}
	list, err := raw.ListAudit(ctx, gate.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(list)
	for _, secret := range []string{p1.String(), p2.String()} {
		if strings.Contains(string(b), secret) {
			t.Fatalf("the audit log holds an override PIN hash: %s", b)
		}
	}
	if !strings.Contains(string(b), `"field":"phone_override.pin_hash"`) || !strings.Contains(string(b), `[secret]`) {
		t.Errorf("the audit log does not show the PIN change as redacted: %s", b)
	}
}
