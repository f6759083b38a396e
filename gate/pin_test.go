package gate_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/vipgate/vipgate/gate"
)

func TestHasher(t *testing.T) {
	h := mustHasher(t)
	a, b := h.Hash("4711"), h.Hash("4711")
	if string(a.Salt) == string(b.Salt) || string(a.Sum) == string(b.Sum) {
		t.Fatal("two hashes of one PIN share salt or sum")
	}
	if !h.Check(a, "4711") || h.Check(a, "4712") || h.Check(a, "") {
		t.Fatal("Check gives wrong answers")
	}
	other, _ := gate.NewHasher([]byte("another installation key 32 byte"))
	if other.Check(a, "4711") {
		t.Fatal("a hash checks under another installation key")
	}
	parsed, err := gate.ParsePINHash(a.String())
	if err != nil || !h.Check(parsed, "4711") {
		t.Fatalf("round trip: %v", err)
	}
	if strings.Contains(a.String(), "4711") || strings.Contains(fmt.Sprint(gate.ClearPIN("4711")), "4711") {
		t.Fatal("PIN visible in a printed form")
	}
	if _, err := gate.NewHasher([]byte("short")); err == nil {
		t.Fatal("short key accepted")
	}
}

func TestValidatePIN(t *testing.T) {
	tests := []struct {
		pin      string
		min, max int
		ok       bool
	}{
		{"1234", 4, 8, true}, {"123", 4, 8, false}, {"123456789", 4, 8, false},
		{"12a4", 4, 8, false}, {"", 0, 0, false}, {"0000", 0, 0, true}, {"12 34", 0, 0, false},
	}
	for _, tt := range tests {
		err := gate.ValidatePIN(tt.pin, tt.min, tt.max)
		if (err == nil) != tt.ok {
			t.Errorf("ValidatePIN(%q, %d, %d) = %v, want ok %v", tt.pin, tt.min, tt.max, err, tt.ok)
		}
		if err != nil && tt.pin != "" && strings.Contains(err.Error(), tt.pin) {
			t.Errorf("error %q reveals the PIN", err)
		}
	}
}

func TestValidatePINLengthText(t *testing.T) {
	tests := []struct {
		pin      string
		min, max int
		want     string
	}{
		{"12345", 6, 6, "PIN must have exactly 6 digits (has 5)"},
		{"123", 4, 8, "PIN must have 4 to 8 digits (has 3)"},
	}
	for _, tt := range tests {
		err := gate.ValidatePIN(tt.pin, tt.min, tt.max)
		if err == nil || err.Error() != tt.want {
			t.Errorf("ValidatePIN(%q, %d, %d) = %v, want %q", tt.pin, tt.min, tt.max, err, tt.want)
		}
	}
}

func TestWeakPIN(t *testing.T) {
	for pin, weak := range map[string]bool{"0000": true, "1234": true, "4321": true, "8901": true, "2109": true, "1357": false, "4711": false, "1": false} {
		if got := gate.WeakPIN(pin) != ""; got != weak {
			t.Errorf("WeakPIN(%q) weak=%v, want %v", pin, got, weak)
		}
	}
}

func TestParseTarget(t *testing.T) {
	tests := []struct{ in, want string }{
		{"continue", "continue"}, {"100", "100"}, {"staff,200,1", "staff,200,1"}, {"busy", "hangup:busy"},
		{"reject", "hangup:busy"}, {"hangup:congestion", "hangup:congestion"}, {"hangup", "hangup:normal"},
		{"a,b", ""}, {"ctx,ext,0", ""}, {"hangup:weird", ""}, {"bad target!", ""}, {"", ""},
	}
	for _, tt := range tests {
		got, err := gate.ParseTarget(tt.in)
		if tt.want == "" {
			if err == nil {
				t.Errorf("ParseTarget(%q) = %v, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || got.String() != tt.want {
			t.Errorf("ParseTarget(%q) = %v, %v; want %s", tt.in, got, err, tt.want)
		}
	}
}

func TestBatchHashMatchesHasher(t *testing.T) {
	h := mustHasher(t)
	b := h.Batch()
	buf := make([]byte, 64)
	for _, pin := range []string{"0000", "4711", "12345678901234567890"} {
		salt := []byte("0123456789abcdef")
		got := b.HashWithSalt(salt, pin, buf[32:])
		if !h.Check(got, pin) || h.Check(got, pin+"1") {
			t.Errorf("batch hash of %d digits does not check like Hasher's", len(pin))
		}
		if string(got.Sum) != string(h.HashWithSalt(salt, pin).Sum) {
			t.Errorf("batch and Hasher sums differ")
		}
	}
}
