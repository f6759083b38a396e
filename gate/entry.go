package gate

import (
	"errors"
	"log/slog"
	"strings"
	"time"
)

// Entry is one row of a gate's caller table: a caller pattern and the hash
// of that caller's PIN.
type Entry struct {
	ID     int64  `json:"id"`
	GateID string `json:"gate_id"`
	// Pattern is an E.164 number ("+4917612345678"), a number kept as
	// dialled (an internal extension, "201"), or a prefix of either ending
	// in '*' ("+49711*", "2*"). It is stored normalised by the gate's
	// Numbering; see Numbering.Pattern.
	Pattern string `json:"caller"`
	// PIN is the hashed PIN. It is never returned by the API.
	PIN   PINHash `json:"-"`
	Label string  `json:"label,omitempty"`
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

// LogValue logs the entry without its PIN hash.
func (e Entry) LogValue() slog.Value {
	return slog.GroupValue(slog.Int64("id", e.ID), slog.String("caller", e.Pattern), slog.String("label", e.Label))
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
