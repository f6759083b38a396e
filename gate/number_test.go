package gate_test

import (
	"errors"
	"slices"
	"strings"
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
	want := []string{"+49711", "+4971*", "+497*", "+49*", "+4*", "+*"}
	if !slices.Equal(got, want) {
		t.Fatalf("Prefixes = %v, want %v", got, want)
	}
	// An internal number has keys of its own, down to one digit, and
	// shares none with its E.164 look-alike.
	if got, want := gate.Prefixes("201"), []string{"201", "20*", "2*"}; !slices.Equal(got, want) {
		t.Fatalf("Prefixes(201) = %v, want %v", got, want)
	}
	for _, k := range gate.Prefixes("+49201") {
		if slices.Contains(gate.Prefixes("201"), k) {
			t.Fatalf("+49201 and 201 share the lookup key %q", k)
		}
	}
}

// TestFastE164MatchesParse checks the fast path for international
// numbers against the full libphonenumber parse on valid numbers of every
// type in many regions.
func TestFastE164MatchesParse(t *testing.T) {
	regions := []string{"DE", "AT", "CH", "NL", "BE", "FR", "GB", "SE", "US", "IT", "ES", "PL", "RU", "AR", "MX", "BR", "IN", "CN", "JP", "AU"}
	types := []phonenumbers.PhoneNumberType{phonenumbers.FIXED_LINE, phonenumbers.MOBILE, phonenumbers.TOLL_FREE, phonenumbers.VOIP, phonenumbers.PERSONAL_NUMBER, phonenumbers.UAN}
	fast := 0
	for _, region := range regions {
		for _, typ := range types {
			n := phonenumbers.GetExampleNumberForType(region, typ)
			if n == nil {
				continue
			}
			for _, form := range []string{
				phonenumbers.Format(n, phonenumbers.E164),
				phonenumbers.Format(n, phonenumbers.INTERNATIONAL),
			} {
				s := cleanForTest(form)
				got, ok := gate.FastE164(s)
				if !ok {
					continue
				}
				fast++
				if want, err := gate.ParseE164(s); err != nil || got != want {
					t.Errorf("%s (%s): fast path %q, full parse %q (%v)", form, region, got, want, err)
				}
			}
		}
	}
	if fast < 50 {
		t.Fatalf("only %d numbers took the fast path", fast)
	}
}

// TestNormalizeFormsAgree checks that the 00 and + forms of one number
// always normalise alike, and the national form too when it is a valid
// number; a national form that is not valid is kept as dialled and so
// never equals an E.164 number.
func TestNormalizeFormsAgree(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		sub := rapid.StringMatching(`[1-9][0-9]{5,11}`).Draw(t, "subscriber")
		intl := []string{"0049" + sub, "+49" + sub, "+49 " + sub[:3] + " " + sub[3:]}
		first, err := gate.NormalizeNumber(intl[0], "DE")
		if err != nil || first != "+49"+sub {
			t.Fatalf("%q → %q, %v; want +49%s", intl[0], first, err, sub)
		}
		for _, f := range intl[1:] {
			if got, err := gate.NormalizeNumber(f, "DE"); err != nil || got != first {
				t.Fatalf("%q → %q (%v) but %q → %q", intl[0], first, err, f, got)
			}
		}
		nb, _ := gate.NewNumbering("DE", gate.NumberRules{})
		n, err := nb.Number("0" + sub)
		switch {
		case err != nil:
			t.Fatalf("0%s: %v", sub, err)
		case n.Class == gate.ClassE164 && n.Value != first:
			t.Fatalf("0%s → %q, but +49%s → %q", sub, n.Value, sub, first)
		case n.Class != gate.ClassE164 && n.Value != "0"+sub:
			t.Fatalf("0%s (%s) → %q, want it kept as dialled", sub, n.Class, n.Value)
		}
	})
}

// TestNumberClasses is the rule for internal and outside numbers with
// region DE and the default rules (internal: at most 6 digits).
func TestNumberClasses(t *testing.T) {
	tests := []struct {
		raw   string
		want  string
		class gate.NumberClass
		rule  string
	}{
		{"201", "201", gate.ClassInternal, "internal (≤ 6 digits, kept as dialled)"},
		{"1004", "1004", gate.ClassInternal, "internal (≤ 6 digits, kept as dialled)"},
		{"0201", "0201", gate.ClassInternal, "internal (≤ 6 digits, kept as dialled)"},
		{"20 1", "201", gate.ClassInternal, "internal (≤ 6 digits, kept as dialled)"},
		// A subscriber number without area code: libphonenumber reads it
		// as valid, but German numbers need the trunk prefix 0.
		{"5550805", "5550805", gate.ClassDialled, "not a valid number of region DE, kept as dialled"},
		{"0201 12", "020112", gate.ClassInternal, "internal (≤ 6 digits, kept as dialled)"},
		{"+49201", "+49201", gate.ClassE164, "E.164 (international)"}, // from outside: never "201"
		{"004917612345678", "+4917612345678", gate.ClassE164, "E.164 (international)"},
		{"+4917612345678", "+4917612345678", gate.ClassE164, "E.164 (international)"},
		{"017612345678", "+4917612345678", gate.ClassE164, "E.164 (region DE)"},
		{"0176 / 123 456-78", "+4917612345678", gate.ClassE164, "E.164 (region DE)"},
		{"0201 123456", "+49201123456", gate.ClassE164, "E.164 (region DE)"},
		{"0049201", "+49201", gate.ClassE164, "E.164 (international)"},
	}
	nb, err := gate.NewNumbering("DE", gate.NumberRules{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			n, err := nb.Number(tt.raw)
			if err != nil || n.Value != tt.want || n.Class != tt.class || n.Rule != tt.rule {
				t.Fatalf("Number(%q) = %+v, %v; want %q %s %q", tt.raw, n, err, tt.want, tt.class, tt.rule)
			}
			if n.Class != gate.ClassE164 && strings.HasPrefix(n.Value, "+") {
				t.Fatalf("%q kept as dialled starts with '+'", n.Value)
			}
		})
	}
}

// TestNumberingRules covers a gate's own rules: the length limit, the
// internal pattern, and their validation.
func TestNumberingRules(t *testing.T) {
	n := func(v int) *int { return &v }
	tests := []struct {
		name  string
		rules gate.NumberRules
		raw   string
		want  string
		class gate.NumberClass
	}{
		{"length rule off: 0201 is national but not valid", gate.NumberRules{InternalMaxLength: n(0)}, "0201", "0201", gate.ClassDialled},
		{"length rule off: 201", gate.NumberRules{InternalMaxLength: n(0)}, "201", "201", gate.ClassDialled},
		{"length 3: 1004 is national", gate.NumberRules{InternalMaxLength: n(3)}, "1004", "1004", gate.ClassDialled},
		{"length 3: 201 is internal", gate.NumberRules{InternalMaxLength: n(3)}, "201", "201", gate.ClassInternal},
		{"pattern: long extension", gate.NumberRules{InternalPattern: "9[0-9]{7}"}, "91234567", "91234567", gate.ClassInternal},
		{"pattern is anchored", gate.NumberRules{InternalPattern: "9[0-9]{7}"}, "0912345678", "+49912345678", gate.ClassE164},
		{"pattern never makes +numbers internal", gate.NumberRules{InternalPattern: "[0-9+]+"}, "+4917612345678", "+4917612345678", gate.ClassE164},
		{"pattern never makes 00 numbers internal", gate.NumberRules{InternalPattern: "[0-9]+"}, "004917612345678", "+4917612345678", gate.ClassE164},
		{"pattern and length rule", gate.NumberRules{InternalPattern: "9[0-9]{7}"}, "201", "201", gate.ClassInternal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nb, err := gate.NewNumbering("DE", tt.rules)
			if err != nil {
				t.Fatal(err)
			}
			got, err := nb.Number(tt.raw)
			if err != nil || got.Value != tt.want || got.Class != tt.class {
				t.Fatalf("Number(%q) = %+v, %v; want %q %s", tt.raw, got, err, tt.want, tt.class)
			}
		})
	}
	for _, bad := range []struct {
		rules gate.NumberRules
		field string
	}{
		{gate.NumberRules{InternalMaxLength: n(-1)}, "numbers.internal_max_length"},
		{gate.NumberRules{InternalMaxLength: n(16)}, "numbers.internal_max_length"},
		{gate.NumberRules{InternalPattern: "9[0-9"}, "numbers.internal_pattern"},
		{gate.NumberRules{InternalPattern: "9*"}, "numbers.internal_pattern"},
		{gate.NumberRules{InternalPattern: strings.Repeat("9", 201)}, "numbers.internal_pattern"},
	} {
		_, err := gate.NewNumbering("DE", bad.rules)
		var ves gate.ValidationErrors
		if !errors.As(err, &ves) || len(ves) != 1 || ves[0].Field != bad.field {
			t.Errorf("NewNumbering(%+v) = %v, want an error naming %s", bad.rules, err, bad.field)
		}
	}
}

// TestPatternInternal checks prefix patterns: national prefixes need the
// trunk prefix, others are prefixes of numbers kept as dialled.
func TestPatternInternal(t *testing.T) {
	tests := []struct{ region, raw, want string }{
		{"DE", "2*", "2*"},
		{"DE", "10*", "10*"},
		{"DE", "201", "201"},
		{"DE", "0711*", "+49711*"},
		{"DE", "+49201", "+49201"},
		{"US", "1212*", "+1212*"},
		{"IT", "06*", "+3906*"}, // no trunk prefix: the 0 stays
	}
	for _, tt := range tests {
		got, err := gate.NormalizePattern(tt.raw, tt.region)
		if err != nil || got != tt.want {
			t.Errorf("NormalizePattern(%q, %s) = %q, %v; want %q", tt.raw, tt.region, got, err, tt.want)
		}
	}
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
