package gate_test

import (
	"slices"
	"testing"

	"github.com/vipgate/vipgate/gate"
)

func TestNormalizeNumber(t *testing.T) {
	tests := []struct {
		raw, region, want string
		wantErr           bool
	}{
		{"004917612345678", "DE", "+4917612345678", false},
		{"+4917612345678", "DE", "+4917612345678", false},
		{"017612345678", "DE", "+4917612345678", false},
		{"0176 / 123 456-78", "DE", "+4917612345678", false},
		{"+1 (212) 555-0100", "DE", "+12125550100", false},
		{"2125550100", "US", "+12125550100", false},
		{"0711 123456", "de", "+49711123456", false},
		{"+999123", "DE", "+999123", false}, // unallocated country code kept as written
		{"", "DE", "", true},
		{"anonymous", "DE", "", true},
		{"12ab", "DE", "", true},
		{"+", "DE", "", true},
		{"017612345678", "", "", true}, // national number without region
	}
	for _, tt := range tests {
		t.Run(tt.raw+"/"+tt.region, func(t *testing.T) {
			got, err := gate.NormalizeNumber(tt.raw, tt.region)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("NormalizeNumber(%q, %q) = %q, %v; want %q (err %v)", tt.raw, tt.region, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestNormalizePattern(t *testing.T) {
	tests := []struct {
		raw, want string
		wantErr   bool
	}{
		{"+49711*", "+49711*", false},
		{"0711*", "+49711*", false},
		{"0049711*", "+49711*", false},
		{"0176 123*", "+49176123*", false},
		{"017612345678", "+4917612345678", false},
		{"*", "", true},
		{"+*", "", true},
		{"07a1*", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			got, err := gate.NormalizePattern(tt.raw, "DE")
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("NormalizePattern(%q) = %q, %v; want %q", tt.raw, got, err, tt.want)
			}
		})
	}
}

func TestPrefixes(t *testing.T) {
	got := gate.Prefixes("+49711")
	want := []string{"+49711", "+4971*", "+497*", "+49*", "+4*"}
	if !slices.Equal(got, want) {
		t.Fatalf("Prefixes = %v, want %v", got, want)
	}
}
