package gate

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// How vipgate reads a number (a caller, a called number or DID, a
// caller-table entry, a gate's match number), after separators (spaces,
// '-', '/', '.', parentheses) are dropped:
//
//  1. A number that starts with '+' or "00" is international: it becomes
//     E.164 ("004917612345678" → "+4917612345678"). An unallocated or
//     short international number keeps its digits after '+'.
//  2. Otherwise a number of at most NumberRules.InternalMaxLength digits
//     (default 6), or one that NumberRules.InternalPattern matches, is an
//     internal extension and is kept as dialled ("201", "0201").
//  3. Otherwise it is a national number of the region: it becomes E.164
//     when libphonenumber finds it a valid number of the region, written
//     with the national (trunk) prefix where the region needs one
//     ("017612345678" → "+4917612345678" in DE). Any other number is kept
//     as dialled ("5550805", a subscriber number without area code).
//
// Only E.164 numbers start with '+', so a number kept as dialled is never
// equal to one from outside: "+49201" does not match the entry "201".

// NumberClass says how a number was read.
type NumberClass string

// Number classes.
const (
	// ClassE164 is an international number, or a valid national number of
	// the region, in E.164 form.
	ClassE164 NumberClass = "e164"
	// ClassInternal is an internal extension, kept as dialled.
	ClassInternal NumberClass = "internal"
	// ClassDialled is a number that is neither international nor a valid
	// national number of the region, kept as dialled.
	ClassDialled NumberClass = "dialled"
)

// Number is a number as a Numbering read it.
type Number struct {
	// Value is the number to store, compare and send on: E.164 for
	// ClassE164, else the digits as dialled. Only E.164 values start with
	// '+'.
	Value string
	Class NumberClass
	// Rule says which rule classified the number, for explain and the
	// trace: "internal (≤ 6 digits, kept as dialled)", "E.164 (region DE)".
	Rule string
}

// NumberRules say which numbers a gate treats as internal extensions. The
// zero value means the defaults.
type NumberRules struct {
	// InternalMaxLength: numbers of at most this many digits without a
	// leading '+' or "00" are internal. nil means 6
	// (DefaultInternalMaxLength); 0 turns the length rule off. At most 15.
	InternalMaxLength *int `json:"internal_max_length,omitempty"`
	// InternalPattern is a regular expression (Go RE2 syntax) that makes
	// the numbers it matches as a whole internal too, whatever their
	// length, e.g. "9[0-9]{7}" for eight-digit extensions starting with 9.
	// It is matched against the digits without separators; numbers with a
	// leading '+' or "00" are never internal.
	InternalPattern string `json:"internal_pattern,omitempty"`
}

// DefaultInternalMaxLength is the internal-number length when a gate sets
// none.
const DefaultInternalMaxLength = 6

// maxInternalMaxLength is the longest E.164 number: a longer limit would
// make every number internal.
const maxInternalMaxLength = 15

// maxInternalPatternLen bounds NumberRules.InternalPattern.
const maxInternalPatternLen = 200

// maxRawNumberLen bounds a number's digits.
const maxRawNumberLen = 20

// Numbering reads numbers for one gate: its region and its NumberRules,
// prepared once (the internal pattern compiled). It is safe for concurrent
// use.
type Numbering struct {
	region   string // upper case; "" if none
	cc       int    // country code of region, 0 if none
	ndd      string // national (trunk) prefix of region, "" if none
	maxLen   int
	pattern  string
	internal *regexp.Regexp
}

// NewNumbering returns the numbering for region (ISO 3166 alpha-2, e.g.
// "DE"; "" means none: national numbers cannot be read) and rules. Bad
// rules are a *ValidationError naming the field (numbers.…).
func NewNumbering(region string, rules NumberRules) (*Numbering, error) {
	nb := &Numbering{region: strings.ToUpper(strings.TrimSpace(region)), maxLen: DefaultInternalMaxLength}
	var es ValidationErrors
	if r := rules.InternalMaxLength; r != nil {
		if *r < 0 || *r > maxInternalMaxLength {
			es.add("numbers.internal_max_length", "must be 0 (no length rule) to %d digits", maxInternalMaxLength)
		}
		nb.maxLen = *r
	}
	if p := rules.InternalPattern; p != "" {
		re, err := regexp.Compile(`^(?:` + p + `)$`)
		switch {
		case len(p) > maxInternalPatternLen:
			es.add("numbers.internal_pattern", "is longer than %d characters", maxInternalPatternLen)
		case err != nil:
			es.add("numbers.internal_pattern", "is not a regular expression: %s", strings.TrimPrefix(err.Error(), "error parsing regexp: "))
		case re.MatchString(""):
			es.add("numbers.internal_pattern", "matches the empty number")
		}
		nb.pattern, nb.internal = p, re
	}
	if len(es) > 0 {
		return nil, es
	}
	if nb.region != "" {
		nb.cc = phonenumbers.GetCountryCodeForRegion(nb.region)
		nb.ndd = phonenumbers.GetNddPrefixForRegion(nb.region, true)
	}
	return nb, nil
}

// Numbering returns the gate's numbering: its region (defaultRegion if it
// sets none) and its NumberRules.
func (g *Gate) Numbering(defaultRegion string) (*Numbering, error) {
	region := g.Identification.Region
	if region == "" {
		region = defaultRegion
	}
	return NewNumbering(region, g.Numbers)
}

// Region returns the numbering's region ("" if none).
func (nb *Numbering) Region() string { return nb.region }

// InternalRule describes which numbers are internal: "≤ 6 digits", "≤ 6
// digits or matching 9[0-9]{7}", "none".
func (nb *Numbering) InternalRule() string {
	var parts []string
	if nb.maxLen > 0 {
		parts = append(parts, fmt.Sprintf("≤ %d digits", nb.maxLen))
	}
	if nb.internal != nil {
		parts = append(parts, "matching "+nb.pattern)
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, " or ")
}

// key identifies the rules of nb, so that numbers read alike are read
// once.
func (nb *Numbering) key() string {
	return nb.region + "|" + strconv.Itoa(nb.maxLen) + "|" + nb.pattern
}

// Number reads raw (see the rules at the top of this file). The error says
// why raw is not a number: empty, a character that is not a digit, too
// long, or a national number without a region.
func (nb *Numbering) Number(raw string) (Number, error) {
	s := cleanNumber(raw)
	if s == "" {
		return Number{}, errors.New("empty number")
	}
	for i, r := range s {
		if (r < '0' || r > '9') && !(i == 0 && r == '+') {
			return Number{}, fmt.Errorf("number %q has a character that is not a digit", raw)
		}
	}
	if len(s) > maxRawNumberLen {
		return Number{}, fmt.Errorf("number %q is too long", raw)
	}
	if strings.HasPrefix(s, "00") {
		s = "+" + s[2:]
	}
	if s[0] == '+' {
		v, err := international(s, raw)
		if err != nil {
			return Number{}, err
		}
		return Number{Value: v, Class: ClassE164, Rule: "E.164 (international)"}, nil
	}
	if len(s) <= nb.maxLen {
		return Number{Value: s, Class: ClassInternal, Rule: fmt.Sprintf("internal (≤ %d digits, kept as dialled)", nb.maxLen)}, nil
	}
	if nb.internal != nil && nb.internal.MatchString(s) {
		return Number{Value: s, Class: ClassInternal, Rule: "internal (matches numbers.internal_pattern, kept as dialled)"}, nil
	}
	if nb.cc == 0 {
		return Number{}, fmt.Errorf("number %q is national but no region is set", raw)
	}
	if n, err := phonenumbers.ParseAndKeepRawInput(s, nb.region); err == nil &&
		phonenumbers.IsValidNumberForRegion(n, nb.region) && phonenumbers.IsNationalPrefixPresentIfRequired(n) {
		return Number{Value: phonenumbers.Format(n, phonenumbers.E164), Class: ClassE164, Rule: "E.164 (region " + nb.region + ")"}, nil
	}
	return Number{Value: s, Class: ClassDialled, Rule: "not a valid number of region " + nb.region + ", kept as dialled"}, nil
}

// international returns s, which starts with '+', in E.164 form.
func international(s, raw string) (string, error) {
	if fast, ok := fastE164(s); ok {
		return fast, nil
	}
	return parseE164(s, raw)
}

// parseE164 is the full libphonenumber path of international.
func parseE164(s, raw string) (string, error) {
	if n, err := phonenumbers.Parse(s, "ZZ"); err == nil && n.GetCountryCode() != 0 {
		return phonenumbers.Format(n, phonenumbers.E164), nil
	}
	if len(s) > 2 {
		return s, nil
	}
	return "", fmt.Errorf("number %q is too short", raw)
}

// Pattern reads a caller-table pattern or a gate's match number: a number
// (see Number) or a prefix ending in '*'. A prefix that starts with '+' or
// "00" is international, one that starts with the region's national
// (trunk) prefix is national (with region DE, "0711*" and "0049711*" both
// become "+49711*"; in a region without a trunk prefix every other prefix
// is national). Any other prefix ("2*", "10*" where the trunk prefix is
// 0) is a prefix of numbers kept as dialled: internal extensions.
func (nb *Numbering) Pattern(raw string) (string, error) {
	s := cleanNumber(raw)
	if !strings.HasSuffix(s, "*") {
		n, err := nb.Number(s)
		return n.Value, err
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
	if len(p) > maxRawNumberLen {
		return "", fmt.Errorf("pattern %q is too long", raw)
	}
	switch {
	case strings.HasPrefix(p, "+"):
	case strings.HasPrefix(p, "00"):
		p = "+" + p[2:]
	case nb.cc == 0:
		return "", fmt.Errorf("pattern %q is national but no region is set", raw)
	case nb.ndd == "" || strings.HasPrefix(p, nb.ndd):
		p = "+" + strconv.Itoa(nb.cc) + strings.TrimPrefix(p, nb.ndd)
	default:
		return p + "*", nil
	}
	if len(p) < 2 {
		return "", errors.New("prefix pattern is too short")
	}
	return p + "*", nil
}

// NormalizeNumber returns the Value of raw read with the default rules
// (NumberRules{}) in region; see Numbering.Number. Code that knows the
// gate reads numbers with the gate's Numbering instead.
func NormalizeNumber(raw, region string) (string, error) {
	nb, _ := NewNumbering(region, NumberRules{})
	n, err := nb.Number(raw)
	return n.Value, err
}

// NormalizePattern is Numbering.Pattern with the default rules in region.
func NormalizePattern(raw, region string) (string, error) {
	nb, _ := NewNumbering(region, NumberRules{})
	return nb.Pattern(raw)
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

// Prefixes returns the lookup keys for a number: the number itself and
// each of its non-empty prefixes with '*' appended, longest first. Stores
// use it to find the longest matching entry with one indexed query. An
// E.164 number ("+4971…") and a number kept as dialled ("201") never share
// a key, since only the first starts with '+'.
func Prefixes(number string) []string {
	keys := make([]string, 0, len(number))
	keys = append(keys, number)
	for i := len(number) - 1; i >= 1; i-- {
		keys = append(keys, number[:i]+"*")
	}
	return keys
}

// fastE164 returns the common plain international form "+<cc><subscriber>"
// as it is, without a full parse, which costs about 20 µs. It declines (ok
// false) whenever the full parse could say something else: a subscriber
// part that starts with 0 (e.g. "+49 (0)711"), country codes with special
// rules, and lengths outside 7..16 characters. TestFastE164MatchesParse
// holds it to the full parse. It makes a Decide for an international caller
// about 3.4 times faster and a CSV import of E.164 numbers about 7 times
// faster (BENCHMARKS.md, "Number reading: the international fast path");
// measured again on 2026-12-03 (5 runs each, interleaved, load 30-50):
// 71 against 102 allocations and 3.9 against 5.3 KiB per international
// Decide (p=0.008), median 82 against 278 µs.
func fastE164(s string) (string, bool) {
	if len(s) < 7 || len(s) > 16 || s[0] != '+' {
		return "", false
	}
	cc := countryCodeLen(s[1:])
	if cc == 0 || len(s) < 1+cc+4 || s[1+cc] == '0' || slowCountry[s[1:1+cc]] {
		return "", false
	}
	return s, true
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

// slowCountry are country codes the fast path leaves to the full parse
// because their international form keeps a leading zero or has mobile
// tokens: Italy, San Marino, Vatican, Argentina, Mexico, Côte d'Ivoire.
var slowCountry = map[string]bool{"39": true, "378": true, "379": true, "54": true, "52": true, "225": true}
