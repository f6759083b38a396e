package gate

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// SetPIN is one PIN of a gate's PIN set: valid for any caller who is asked
// for the gate's static PIN, between ValidFrom and ValidUntil. A PIN set
// is how a shared code rotates ("this month's code") without a change at
// midnight: the next month's PIN is added ahead with its dates.
type SetPIN struct {
	// Label names the PIN; it is set as VIPGATE_LABEL when it lets a call
	// through, and is unique within the set.
	Label string  `json:"label"`
	PIN   PINHash `json:"pin_hash"`
	// Account is an optional account code, set as VIPGATE_ACCOUNT (for
	// the CDR) when the PIN lets a call through.
	Account    string    `json:"account,omitempty"`
	ValidFrom  time.Time `json:"valid_from,omitzero"`
	ValidUntil time.Time `json:"valid_until,omitzero"`
}

// ValidAt reports whether the PIN applies at t.
func (p *SetPIN) ValidAt(t time.Time) bool {
	return (p.ValidFrom.IsZero() || !t.Before(p.ValidFrom)) && (p.ValidUntil.IsZero() || t.Before(p.ValidUntil))
}

// LogValue keeps the hash out of logs.
func (p SetPIN) LogValue() slog.Value {
	return slog.GroupValue(slog.String("label", p.Label), slog.String("account", p.Account))
}

// MaxSetPINs bounds a gate's PIN set: every PIN of it is checked against
// each guess.
const MaxSetPINs = 100

// VarAccount is the channel variable that carries the account code of the
// set PIN that let a call through.
const VarAccount = "VIPGATE_ACCOUNT"

// validAccount reports whether s is an account code that Asterisk's
// accountcode takes as it is.
func validAccount(s string) bool {
	if len(s) > 80 {
		return false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || strings.ContainsRune("-_.", r)) {
			return false
		}
	}
	return true
}

func (g *Gate) validatePINSet(es *ValidationErrors) {
	set := g.Identification.PINSet
	if len(set) > MaxSetPINs {
		es.add("identification.pin_set", "has %d PINs, at most %d allowed", len(set), MaxSetPINs)
	}
	seen := map[string]bool{}
	for i, p := range set {
		f := fmt.Sprintf("identification.pin_set[%d].", i)
		switch {
		case strings.TrimSpace(p.Label) == "":
			es.add(f+"label", "is required")
		case utf8.RuneCountInString(p.Label) > MaxLabelLen:
			es.add(f+"label", "must have at most %d characters", MaxLabelLen)
		case seen[p.Label]:
			es.add(f+"label", "occurs twice in the set")
		}
		seen[p.Label] = true
		if len(p.PIN.Salt) == 0 || len(p.PIN.Sum) != 32 {
			es.add(f+"pin", "is required")
		}
		if !validAccount(p.Account) {
			es.add(f+"account", "must be at most 80 letters, digits, '-', '_' or '.'")
		}
		if !p.ValidFrom.IsZero() && !p.ValidUntil.IsZero() && !p.ValidUntil.After(p.ValidFrom) {
			es.add(f+"valid_until", "must be after valid_from")
		}
	}
}

// hasStatic reports whether the gate has a PIN to ask callers for when
// its static PIN is wanted: the static PIN or a PIN set.
func (id *Identification) hasStatic() bool { return id.StaticPIN != nil || len(id.PINSet) > 0 }

// staticCheck checks typed digits against the gate's static PIN and the
// PINs of its set that are valid at the time of the call. It compares
// against every one of them, so the time taken does not say which (or
// whether one) matched; Matched says which set PIN matched last.
type staticCheck struct {
	hasher  *Hasher
	static  *PINHash
	set     []SetPIN
	matched *SetPIN
}

// Match implements PINCheck. Every PIN is hashed and compared whatever
// the digits; the static PIN wins over a set PIN with the same digits.
func (c *staticCheck) Match(digits string) bool {
	c.matched = nil
	var static int32
	if c.static != nil {
		static = b2i(c.hasher.Check(*c.static, digits))
	}
	found := static
	for i := range c.set {
		m := b2i(c.hasher.Check(c.set[i].PIN, digits))
		if m == 1 && static == 0 && c.matched == nil {
			c.matched = &c.set[i]
		}
		found |= m
	}
	return found == 1
}

// LogValue implements slog.LogValuer.
func (c *staticCheck) LogValue() slog.Value { return slog.StringValue("[pin]") }

func b2i(b bool) int32 {
	if b {
		return 1
	}
	return 0
}

// newStaticCheck returns the check of g's static PIN and set at now.
func newStaticCheck(h *Hasher, g *Gate, now time.Time) (*staticCheck, int) {
	c := &staticCheck{hasher: h, static: g.Identification.StaticPIN}
	for _, p := range g.Identification.PINSet {
		if p.ValidAt(now) {
			c.set = append(c.set, p)
		}
	}
	return c, len(c.set)
}

// cloneSet deep-copies a PIN set.
func cloneSet(set []SetPIN) []SetPIN {
	if set == nil {
		return nil
	}
	out := slices.Clone(set)
	for i := range out {
		out[i].PIN = PINHash{Salt: slices.Clone(set[i].PIN.Salt), Sum: slices.Clone(set[i].PIN.Sum)}
	}
	return out
}

// SetPINIn is a PIN of a PIN set as the admin API and gate files take it:
// the clear PIN (write-only, hashed at once) and dates in one of
// ParseValidity's forms, read in the gate's zone.
type SetPINIn struct {
	Label      string `json:"label"`
	PIN        string `json:"pin"`
	Account    string `json:"account,omitempty"`
	ValidFrom  string `json:"valid_from,omitempty"`
	ValidUntil string `json:"valid_until,omitempty"`
}

// HashPINSet checks the clear PINs of in against g's PIN rules and hashes
// them into g's PIN set. Problems name the field
// (identification.pin_set[i].pin) and never hold a PIN; the rest of the
// set is checked by Validate.
func HashPINSet(h *Hasher, g *Gate, in []SetPINIn) error {
	var errs ValidationErrors
	set := make([]SetPIN, 0, len(in))
	for i, p := range in {
		f := fmt.Sprintf("identification.pin_set[%d].", i)
		sp := SetPIN{Label: strings.TrimSpace(p.Label), Account: strings.TrimSpace(p.Account)}
		if err := ValidatePIN(p.PIN, g.Dialogue.MinDigits, g.Dialogue.MaxDigits); err != nil {
			errs = append(errs, &ValidationError{Field: f + "pin", Problem: err.Error()})
		} else if weak := WeakPIN(p.PIN); weak != "" && g.Dialogue.RejectWeak {
			errs = append(errs, &ValidationError{Field: f + "pin", Problem: weak})
		} else {
			sp.PIN = h.Hash(p.PIN)
		}
		var err error
		if sp.ValidFrom, err = ParseValidity(p.ValidFrom, g.Location(), false); err != nil {
			errs = append(errs, &ValidationError{Field: f + "valid_from", Problem: err.Error()})
		}
		if sp.ValidUntil, err = ParseValidity(p.ValidUntil, g.Location(), true); err != nil {
			errs = append(errs, &ValidationError{Field: f + "valid_until", Problem: err.Error()})
		}
		set = append(set, sp)
	}
	if len(errs) > 0 {
		return errs
	}
	g.Identification.PINSet = set
	return nil
}
