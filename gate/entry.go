package gate

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// EntryKind says what an entry does with the callers it matches.
type EntryKind string

// Entry kinds. A call is judged by the matching entries in this order:
// deny, then allow, then PIN; within a kind the longest pattern wins.
const (
	// EntryDeny rejects the caller with the gate's reject route, without
	// a PIN dialogue.
	EntryDeny EntryKind = "deny"
	// EntryAllow lets the caller through without a PIN: to the entry's
	// own Target if it has one, else on to the call's destination.
	EntryAllow EntryKind = "allow"
	// EntryPIN asks the caller for the entry's PIN (the default).
	EntryPIN EntryKind = "pin"
)

// ParseEntryKind reads an entry kind; "" is EntryPIN.
func ParseEntryKind(s string) (EntryKind, error) {
	switch k := EntryKind(s); k {
	case "":
		return EntryPIN, nil
	case EntryDeny, EntryAllow, EntryPIN:
		return k, nil
	}
	return "", fmt.Errorf("is not one of %s, %s, %s", EntryPIN, EntryAllow, EntryDeny)
}

// Rank orders kinds as a call is judged: deny 0, allow 1, PIN 2.
func (k EntryKind) Rank() int {
	switch k {
	case EntryDeny:
		return 0
	case EntryAllow:
		return 1
	}
	return 2
}

// HasPIN reports whether entries of kind k carry a PIN.
func (k EntryKind) HasPIN() bool { return k == EntryPIN || k == "" }

// Priority bounds: an entry's priority is 0 (none) or within these.
const (
	MinPriority = 1
	MaxPriority = 1000
)

// Entry is one row of a gate's caller table: a caller pattern, what to do
// with the callers it matches (Kind), and for PIN entries the hash of the
// caller's PIN.
type Entry struct {
	ID     int64  `json:"id"`
	GateID string `json:"gate_id"`
	// Pattern is an E.164 number ("+4917612345678"), a number kept as
	// dialled (an internal extension, "201"), or a prefix of either ending
	// in '*' ("+49711*", "2*"). It is stored normalised by the gate's
	// Numbering; see Numbering.Pattern.
	Pattern string `json:"caller"`
	// Kind is deny, allow or pin ("" reads as pin).
	Kind EntryKind `json:"kind,omitempty"`
	// PIN is the hashed PIN of a PIN entry (zero for allow and deny
	// entries). It is never returned by the API.
	PIN PINHash `json:"-"`
	// Label names the caller; it is set as VIPGATE_LABEL when the call
	// goes on.
	Label string `json:"label,omitempty"`
	// Priority (0 = none, else MinPriority..MaxPriority) is set as
	// VIPGATE_PRIORITY when the call goes on, e.g. for QUEUE_PRIO.
	Priority int `json:"priority,omitempty"`
	// Target is where an allow entry sends its callers; zero means on to
	// the call's destination. Other kinds have none.
	Target Target `json:"target,omitzero"`
	// ValidFrom and ValidUntil bound when the entry applies (zero = open).
	ValidFrom  time.Time `json:"valid_from,omitzero"`
	ValidUntil time.Time `json:"valid_until,omitzero"`
	CreatedAt  time.Time `json:"created_at,omitzero"`
	UpdatedAt  time.Time `json:"updated_at,omitzero"`
}

// IsPrefix reports whether the entry is a prefix pattern.
func (e *Entry) IsPrefix() bool { return len(e.Pattern) > 0 && e.Pattern[len(e.Pattern)-1] == '*' }

// ValidAt reports whether the entry applies at t.
func (e *Entry) ValidAt(t time.Time) bool {
	if !e.ValidFrom.IsZero() && t.Before(e.ValidFrom) {
		return false
	}
	if !e.ValidUntil.IsZero() && !t.Before(e.ValidUntil) {
		return false
	}
	return true
}

// EntryKind returns the entry's kind, EntryPIN when unset.
func (e *Entry) EntryKind() EntryKind {
	if e.Kind == "" {
		return EntryPIN
	}
	return e.Kind
}

// CheckKind checks what the entry's kind requires: a PIN hash for PIN
// entries and none for allow and deny entries, a target only on allow
// entries, a priority in range. field prefixes the names of the fields
// in the error ("" or "entries[3]."); the error never holds a PIN.
func (e *Entry) CheckKind(field string) error {
	var errs ValidationErrors
	k, err := ParseEntryKind(string(e.Kind))
	if err != nil {
		return append(errs, &ValidationError{Field: field + "kind", Problem: err.Error()})
	}
	hasHash := len(e.PIN.Salt) > 0 || len(e.PIN.Sum) > 0
	switch {
	case k.HasPIN() && (len(e.PIN.Salt) == 0 || len(e.PIN.Sum) == 0):
		errs = append(errs, &ValidationError{Field: field + "pin", Problem: "is required for a pin entry"})
	case !k.HasPIN() && hasHash:
		errs = append(errs, &ValidationError{Field: field + "pin", Problem: fmt.Sprintf("must be empty for a %s entry", k)})
	}
	if !e.Target.IsZero() && k != EntryAllow {
		errs = append(errs, &ValidationError{Field: field + "target", Problem: "is only allowed on allow entries"})
	}
	if e.Priority != 0 && (e.Priority < MinPriority || e.Priority > MaxPriority) {
		errs = append(errs, &ValidationError{Field: field + "priority", Problem: fmt.Sprintf("must be %d to %d (or 0 for none)", MinPriority, MaxPriority)})
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// LogValue logs the entry without its PIN hash.
func (e Entry) LogValue() slog.Value {
	return slog.GroupValue(slog.Int64("id", e.ID), slog.String("kind", string(e.EntryKind())), slog.String("caller", e.Pattern), slog.String("label", e.Label))
}

// ParseValidity reads an entry's valid_from (until false) or valid_until
// (until true) as the API, the CSV and the JSON import take it: "" is
// open (the zero time); otherwise one of ParseTime's forms, read in loc
// (the gate's zone, Gate.Location). A date alone is the start of that day
// for valid_from and the end of that day, inclusive, for valid_until.
func ParseValidity(s string, loc *time.Location, until bool) (time.Time, error) {
	if strings.TrimSpace(s) == "" {
		return time.Time{}, nil
	}
	t, _, err := ParseTime(s, loc, until)
	if err != nil {
		return time.Time{}, errors.New("is not a date (YYYY-MM-DD), a local time (YYYY-MM-DDTHH:MM) or an RFC 3339 time")
	}
	return t, nil
}

// MaxLabelLen is the longest label an import accepts, in characters.
const MaxLabelLen = 200
