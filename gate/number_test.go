package gate_test

import (
	"slices"
	"testing"

	"github.com/nyaruka/phonenumbers"
	"pgregory.net/rapid"

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

// TestFastE164MatchesParse checks the fast path of NormalizeNumber against
// the full libphonenumber parse on valid numbers of every type in many
// regions, written nationally and internationally.
func TestFastE164MatchesParse(t *testing.T) {
	regions := []string{"DE", "AT", "CH", "NL", "BE", "FR", "GB", "SE", "US", "IT", "ES", "PL", "RU", "AR", "MX", "BR", "IN", "CN", "JP", "AU"}
	types := []phonenumbers.PhoneNumberType{phonenumbers.FIXED_LINE, phonenumbers.MOBILE, phonenumbers.TOLL_FREE, phonenumbers.VOIP, phonenumbers.PERSONAL_NUMBER, phonenumbers.UAN}
	checked := 0
	for _, region := range regions {
		for _, typ := range types {
			n := phonenumbers.GetExampleNumberForType(region, typ)
			if n == nil {
				continue
			}
			for _, form := range []string{
				phonenumbers.Format(n, phonenumbers.E164),
				phonenumbers.Format(n, phonenumbers.NATIONAL),
				phonenumbers.Format(n, phonenumbers.INTERNATIONAL),
			} {
				for _, in := range []string{"DE", region} {
					want, err := gate.ParseE164(cleanForTest(form), in)
					if err != nil {
						continue
					}
					got, err := gate.NormalizeNumber(form, in)
					if err != nil || got != want {
						t.Errorf("%s (%s) read in %s: %q (%v), full parse %q", form, region, in, got, err, want)
					}
					checked++
				}
			}
		}
	}
	if checked < 100 {
		t.Fatalf("only %d numbers checked", checked)
	}
}

// TestNormalizeFormsAgree checks that the national, 00 and + forms of one
// number always normalise alike, valid or not, so table entries and callers
// written differently still match.
func TestNormalizeFormsAgree(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		sub := rapid.StringMatching(`[1-9][0-9]{5,11}`).Draw(t, "subscriber")
		forms := []string{"0" + sub, "0049" + sub, "+49" + sub, "+49 " + sub[:3] + " " + sub[3:]}
		first, err := gate.NormalizeNumber(forms[0], "DE")
		for _, f := range forms[1:] {
			got, err2 := gate.NormalizeNumber(f, "DE")
			if (err == nil) != (err2 == nil) || got != first {
				t.Fatalf("%q → %q (%v) but %q → %q (%v)", forms[0], first, err, f, got, err2)
			}
		}
	})
}

func cleanForTest(s string) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '+' || (c >= '0' && c <= '9') {
			out = append(out, c)
		}
	}
	if len(out) > 2 && out[0] == '0' && out[1] == '0' {
		out = append([]byte{'+'}, out[2:]...)
	}
	return string(out)
}
