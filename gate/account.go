package gate

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"
)

// Account is one account of a gate: a number the caller types (an account
// or customer number) and that account's PIN. Accounts identify callers
// whose number is withheld or changes: a gate in IdentAccount mode asks
// every caller for an account number and its PIN, and the withheld rule
// WithheldAccount asks callers without a number.
//
// Accounts are a table of their own, not entries of the caller table:
// they are found by the exact number typed during the call, never by the
// caller's number or a prefix of it, so no rule of the caller table
// (normalisation, prefixes, the deny/allow/pin order) applies to them and
// no caller lookup can ever find one.
type Account struct {
	GateID string `json:"gate_id"`
	// Number is the account number: digits only, MinAccountLen to
	// MaxAccountLen of them, unique within the gate.
	Number string `json:"number"`
	// PIN is the hashed PIN of the account; it is never returned by the
	// API.
	PIN PINHash `json:"-"`
	// Label names the account holder; it is set as VIPGATE_LABEL when
	// the account lets a call through.
	Label string `json:"label,omitempty"`
	// Priority (0 = none, else MinPriority..MaxPriority) is set as
	// VIPGATE_PRIORITY when the account lets a call through.
	Priority int `json:"priority,omitempty"`
	// Code is an optional account code, set as VIPGATE_ACCOUNT (for the
	// CDR) when the account lets a call through.
	Code string `json:"account_code,omitempty"`
	// ValidFrom and ValidUntil bound when the account applies (zero =
	// open).
	ValidFrom  time.Time `json:"valid_from,omitzero"`
	ValidUntil time.Time `json:"valid_until,omitzero"`
	CreatedAt  time.Time `json:"created_at,omitzero"`
	UpdatedAt  time.Time `json:"updated_at,omitzero"`
}

// Account number length limits.
const (
	MinAccountLen = 1
	MaxAccountLen = 20
)

// ValidAt reports whether the account applies at t.
func (a *Account) ValidAt(t time.Time) bool {
	return (a.ValidFrom.IsZero() || !t.Before(a.ValidFrom)) && (a.ValidUntil.IsZero() || t.Before(a.ValidUntil))
}

// LogValue logs the account without its PIN hash.
func (a Account) LogValue() slog.Value {
	return slog.GroupValue(slog.String("number", a.Number), slog.String("label", a.Label))
}

// ValidAccountNumber checks an account number: digits only, within
// MinAccountLen..MaxAccountLen.
func ValidAccountNumber(s string) error {
	if s == "" {
		return fmt.Errorf("is required")
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return fmt.Errorf("must contain digits only")
		}
	}
	if len(s) < MinAccountLen || len(s) > MaxAccountLen {
		return fmt.Errorf("must have %d to %d digits", MinAccountLen, MaxAccountLen)
	}
	return nil
}

// Check checks an account as stores keep it: its number, a PIN hash, the
// label, priority, code and dates. field prefixes the names of the fields
// in the error ("" or "accounts[3]."); the error never holds a PIN.
func (a *Account) Check(field string) error {
	var errs ValidationErrors
	if err := ValidAccountNumber(a.Number); err != nil {
		errs.add(field+"number", "%s", err.Error())
	}
	if len(a.PIN.Salt) == 0 || len(a.PIN.Sum) != 32 {
		errs.add(field+"pin", "is required")
	}
	if utf8.RuneCountInString(a.Label) > MaxLabelLen {
		errs.add(field+"label", "must have at most %d characters", MaxLabelLen)
	}
	if a.Priority != 0 && (a.Priority < MinPriority || a.Priority > MaxPriority) {
		errs.add(field+"priority", "must be %d to %d (or 0 for none)", MinPriority, MaxPriority)
	}
	if !validAccount(a.Code) {
		errs.add(field+"account_code", "must be at most 80 letters, digits, '-', '_' or '.'")
	}
	if !a.ValidFrom.IsZero() && !a.ValidUntil.IsZero() && !a.ValidUntil.After(a.ValidFrom) {
		errs.add(field+"valid_until", "must be after valid_from")
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// AccountIn is an account as the admin API, the CLI and imports take it:
// the clear PIN (write-only, hashed at once) and dates in one of
// ParseValidity's forms, read in the gate's zone. An empty PIN keeps the
// account's PIN on an update.
type AccountIn struct {
	Number     string `json:"number"`
	PIN        string `json:"pin,omitempty"`
	Label      string `json:"label,omitempty"`
	Priority   int    `json:"priority,omitempty"`
	Code       string `json:"account_code,omitempty"`
	ValidFrom  string `json:"valid_from,omitempty"`
	ValidUntil string `json:"valid_until,omitempty"`
}

// NewAccount checks in against g's PIN rules and returns the account it
// describes, its PIN hashed with h. With old set (an update) an empty PIN
// keeps old's hash. Problems name the field (prefixed with field) and
// never hold a PIN.
func NewAccount(h *Hasher, g *Gate, in AccountIn, old *Account, field string) (*Account, error) {
	var errs ValidationErrors
	pinBad := false
	a := &Account{
		GateID:   g.ID,
		Number:   strings.TrimSpace(in.Number),
		Label:    strings.TrimSpace(in.Label),
		Priority: in.Priority,
		Code:     strings.TrimSpace(in.Code),
	}
	switch {
	case in.PIN == "" && old != nil:
		a.PIN = old.PIN
	default:
		if err := ValidatePIN(in.PIN, g.Dialogue.MinDigits, g.Dialogue.MaxDigits); err != nil {
			errs.add(field+"pin", "%s", err.Error())
			pinBad = true
		} else if weak := WeakPIN(in.PIN); weak != "" && g.Dialogue.RejectWeak {
			errs.add(field+"pin", "%s", weak)
			pinBad = true
		} else {
			a.PIN = h.Hash(in.PIN)
		}
	}
	var err error
	if a.ValidFrom, err = ParseValidity(in.ValidFrom, g.Location(), false); err != nil {
		errs.add(field+"valid_from", "%s", err.Error())
	}
	if a.ValidUntil, err = ParseValidity(in.ValidUntil, g.Location(), true); err != nil {
		errs.add(field+"valid_until", "%s", err.Error())
	}
	if err := a.Check(field); err != nil {
		for _, e := range err.(ValidationErrors) {
			if e.Field == field+"pin" && pinBad {
				continue // already said why
			}
			errs = append(errs, e)
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return a, nil
}

// AccountFilter selects accounts for listing.
type AccountFilter struct {
	// Number, if set, lists the accounts whose number starts with it.
	Number string
	// After, if set, starts the page after this account number (keyset
	// paging, as EntryFilter.After).
	After  string
	Offset int
	// Limit caps the page; 0 means 100.
	Limit int
}

// AccountState is what a store knows of a typed account number when it is
// judged: the account, if one with that number is valid, and the lockouts
// of the keys asked for.
type AccountState struct {
	// Account is nil when the gate has no account with the number valid
	// at the time asked for.
	Account *Account
	// Lockouts are the lockouts in effect among the keys asked for.
	Lockouts []*Lockout
}

// AccountStore keeps gates' accounts.
type AccountStore interface {
	// GetAccount returns one account of a gate (valid or not), or
	// ErrNotFound.
	GetAccount(ctx context.Context, gateID, number string) (*Account, error)
	// ListAccounts returns a page of accounts ordered by number, and the
	// total number that match the filter.
	ListAccounts(ctx context.Context, gateID string, f AccountFilter) ([]*Account, int, error)
	// CreateAccount stores a new account and sets its times; ErrConflict
	// (a *ConflictError for field "number") when the gate has the number,
	// ErrNotFound when the gate does not exist.
	CreateAccount(ctx context.Context, a *Account) error
	// UpdateAccount replaces an account (found by gate and number) and
	// sets its times; ErrNotFound if there is none.
	UpdateAccount(ctx context.Context, a *Account) error
	// DeleteAccount removes one account, and with it the lockout and the
	// guess counters of its number (AccountKey), in one transaction;
	// ErrNotFound if there is none.
	DeleteAccount(ctx context.Context, gateID, number string) error
	// ImportAccounts upserts accounts by number in one transaction: all
	// or nothing. A number twice in the import is ErrConflict; with
	// opts.Replace the gate's other accounts are deleted. ErrNotFound if
	// the gate does not exist.
	ImportAccounts(ctx context.Context, gateID string, accounts []*Account, opts ImportOptions) (ImportResult, error)
	// ReadAccount returns the account of the gate with number that is
	// valid at now (nil if none) and the lockouts in effect at now among
	// keys: the dialogue's one read after an account number was typed,
	// one round trip to a database server. No account and no lockout are
	// no error.
	ReadAccount(ctx context.Context, gateID, number string, keys []string, now time.Time) (AccountState, error)
}

// accountKeyPrefix starts the lockout and guess-counter keys of account
// numbers, which can thus never be taken for a caller key (numbers,
// "anonymous", "*").
const accountKeyPrefix = "account:"

// AccountKey returns the lockout key of an account number: guesses at an
// account are counted, and the account locked out, under it, whether the
// gate has such an account or not.
func AccountKey(number string) string { return accountKeyPrefix + number }

// AccountNumberOfKey returns the account number of a lockout key made by
// AccountKey, and whether it is one.
func AccountNumberOfKey(key string) (string, bool) {
	return strings.CutPrefix(key, accountKeyPrefix)
}
