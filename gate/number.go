package gate

import (
	"errors"
	"fmt"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// NormalizeNumber returns raw in E.164 form ("+4917612345678"). National
// numbers are read in region (ISO 3166 alpha-2, e.g. "DE"); "00" and "+"
// international prefixes are understood. Separators (spaces, '-', '/', '.',
// parentheses) are ignored. Numbers that libphonenumber cannot place are
// still accepted when they are plausible digit strings: an international
// number keeps its digits after '+', so unallocated ranges and short
// internal numbers still match table entries written the same way.
func NormalizeNumber(raw, region string) (string, error) {
	s := cleanNumber(raw)
	if s == "" {
		return "", errors.New("empty number")
	}
	if strings.HasPrefix(s, "00") {
		s = "+" + s[2:]
	}
	for i, r := range s {
		if (r < '0' || r > '9') && !(i == 0 && r == '+') {
			return "", fmt.Errorf("number %q has a character that is not a digit", raw)
		}
	}
	if len(s) > 20 {
		return "", fmt.Errorf("number %q is too long", raw)
	}
	if region == "" {
		region = "ZZ"
	}
	region = strings.ToUpper(region)
	if fast, ok := fastE164(s, region); ok {
		return fast, nil
	}
	return parseE164(s, raw, region)
}

// parseE164 is the full libphonenumber path of NormalizeNumber.
func parseE164(s, raw, region string) (string, error) {
	if n, err := phonenumbers.Parse(s, region); err == nil && n.GetCountryCode() != 0 {
		return phonenumbers.Format(n, phonenumbers.E164), nil
	}
	if strings.HasPrefix(s, "+") && len(s) > 2 {
		return s, nil
	}
	if strings.HasPrefix(s, "+") {
		return "", fmt.Errorf("number %q is too short", raw)
	}
	return "", fmt.Errorf("number %q cannot be read as a phone number in region %s", raw, region)
}

// NormalizePattern normalises a caller-table pattern: a number (any form)
// or a prefix ending in '*'. A prefix keeps its digits as written after
// converting "00" and a national trunk '0' to the international form of
// region: with region DE, "0711*" and "0049711*" both become "+49711*".
func NormalizePattern(raw, region string) (string, error) {
	s := cleanNumber(raw)
	if !strings.HasSuffix(s, "*") {
		return NormalizeNumber(s, region)
	}
	p := strings.TrimSuffix(s, "*")
	if p == "" || p == "+" {
		return "", errors.New("prefix pattern needs at least one digit before '*'")
	}
	for i, r := range p {
		if (r < '0' || r > '9') && !(i == 0 && r == '+') {
			return "", fmt.Errorf("pattern %q has a character that is not a digit", raw)
		}
	}
	switch {
	case strings.HasPrefix(p, "+"):
	case strings.HasPrefix(p, "00"):
		p = "+" + p[2:]
	default:
		cc := phonenumbers.GetCountryCodeForRegion(strings.ToUpper(region))
		if cc == 0 {
			return "", fmt.Errorf("pattern %q is national but no default region is set", raw)
		}
		trunk := "0"
		p = "+" + fmt.Sprint(cc) + strings.TrimPrefix(p, trunk)
	}
	if len(p) < 2 {
		return "", errors.New("prefix pattern is too short")
	}
	return p + "*", nil
}

func cleanNumber(raw string) string {
	var b strings.Builder
	for _, r := range strings.TrimSpace(raw) {
		switch r {
		case ' ', '-', '/', '.', '(', ')', '\t':
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Prefixes returns the lookup keys for an E.164 number: the number itself
// and each of its prefixes with '*' appended, longest first. Stores use it
// to find the longest matching entry with one indexed query.
func Prefixes(number string) []string {
	keys := make([]string, 0, len(number))
	keys = append(keys, number)
	for i := len(number) - 1; i >= 2; i-- {
		keys = append(keys, number[:i]+"*")
	}
	return keys
}

// fastE164 normalises the common plain forms without a full parse, which
// costs about 20 µs: "+<cc><subscriber>" and, in a few regions whose
// national prefix is a plain "0", "0<subscriber>". It declines (ok false)
// whenever the full parse could say something else: a subscriber part that
// starts with 0 (e.g. "+49 (0)711"), country codes with special rules, and
// lengths outside 7..16 characters. TestFastE164MatchesParse holds it to the
// full parse.
func fastE164(s, region string) (string, bool) {
	if len(s) < 7 || len(s) > 16 {
		return "", false
	}
	if s[0] == '+' {
		cc := countryCodeLen(s[1:])
		if cc == 0 || len(s) < 1+cc+4 || s[1+cc] == '0' || slowCountry[s[1:1+cc]] {
			return "", false
		}
		return s, true
	}
	cc, ok := zeroPrefixRegions[region]
	if !ok || s[0] != '0' || s[1] == '0' {
		return "", false
	}
	return "+" + cc + s[1:], true
}

// countryCodeLen returns the length of the country code that digits start
// with, or 0.
func countryCodeLen(digits string) int {
	code := 0
	for n := 1; n <= 3 && n <= len(digits); n++ {
		code = code*10 + int(digits[n-1]-'0')
		if phonenumbers.GetRegionCodeForCountryCode(code) != "ZZ" {
			return n
		}
	}
	return 0
}

// zeroPrefixRegions are regions where a national number is "0" plus the
// subscriber number, so that "+<cc>" replaces the "0"; the test checks each
// against the full parse.
var zeroPrefixRegions = map[string]string{
	"DE": "49", "AT": "43", "CH": "41", "NL": "31", "BE": "32", "FR": "33", "GB": "44", "SE": "46",
}

// slowCountry are country codes the fast path leaves to the full parse
// because their international form keeps a leading zero or has mobile
// tokens: Italy, San Marino, Vatican, Argentina, Mexico, Côte d'Ivoire.
var slowCountry = map[string]bool{"39": true, "378": true, "379": true, "54": true, "52": true, "225": true}
