package gate

import (
	"context"
	"io"
	"time"
)

// Store is everything vipgate keeps: gates, caller tables, the call log,
// lockout counters, uploaded prompts and API tokens. storage/sqlite and
// storage/postgres implement it; storage/storagetest checks both.
//
// Every method may block on I/O and honours ctx. Errors are ErrNotFound,
// ErrConflict, ErrInvalid (a *ValidationError) or ErrUnavailable (the
// store cannot be reached), possibly wrapped with the operation.
type Store interface {
	GateStore
	EntryStore
	AccountStore
	GrantStore
	CallLog
	Counters
	PromptStore
	TokenStore
	CallReader
	AuditLog
	Eraser
	GatePruner
	// Ping checks that the store is reachable.
	Ping(ctx context.Context) error
	// Close flushes buffered writes (the call log) and releases resources.
	Close() error
}

// GateStore keeps gates. Stores may cache gates in memory; a change made
// through any instance must be visible to the next call (within 1 s across
// instances).
type GateStore interface {
	// ListGates returns every gate, ordered by ID.
	ListGates(ctx context.Context) ([]*Gate, error)
	// GetGate returns one gate or ErrNotFound.
	GetGate(ctx context.Context, id string) (*Gate, error)
	// CreateGate stores a new gate; ErrConflict if the ID is taken. It sets
	// CreatedAt and UpdatedAt.
	CreateGate(ctx context.Context, g *Gate) error
	// UpdateGate replaces a gate; ErrNotFound if it does not exist. The
	// override is kept as it is (it changes only through SetOverride).
	UpdateGate(ctx context.Context, g *Gate) error
	// DeleteGate removes a gate with its entries and prompts.
	DeleteGate(ctx context.Context, id string) error
	// SetOverride sets (or with nil clears) a gate's manual override.
	SetOverride(ctx context.Context, id string, o *Override) error
}

// EntryFilter selects caller-table entries for listing.
type EntryFilter struct {
	// Caller, if set, is a normalised number or prefix: entries whose
	// pattern starts with it are listed.
	Caller string
	// After, if set, starts the page after the entry with this pattern
	// (keyset paging: the next page is After = the last pattern of this
	// one, as fast at the millionth entry as at the first). Total still
	// counts every entry that matches Caller.
	After string
	// NoTotal skips counting the matches (ListEntries returns total -1):
	// counting a table of a million entries takes longer than its page.
	NoTotal bool
	Offset  int
	// Limit caps the page; 0 means 100.
	Limit int
}

// ImportOptions controls ImportEntries.
type ImportOptions struct {
	// Replace deletes the gate's entries that are not in the import.
	Replace bool
}

// ImportResult counts what an import did.
type ImportResult struct {
	Inserted int `json:"inserted"`
	Updated  int `json:"updated"`
	Deleted  int `json:"deleted"`
}

// EntryStore keeps caller tables.
type EntryStore interface {
	// LookupEntry finds the entry for an E.164 number at time at: exact
	// patterns and prefix patterns ("+49711*") that the number starts
	// with, valid at at. Kinds are judged in order: a deny entry wins
	// over an allow entry, which wins over a PIN entry, whatever their
	// lengths; within a kind the longest pattern wins. ErrNotFound if
	// none.
	LookupEntry(ctx context.Context, gateID, number string, at time.Time) (*Entry, error)
	// GetEntry returns one entry of a gate.
	GetEntry(ctx context.Context, gateID string, id int64) (*Entry, error)
	// ListEntries returns a page of entries ordered by pattern, and the
	// total number that match the filter.
	ListEntries(ctx context.Context, gateID string, f EntryFilter) ([]*Entry, int, error)
	// PutEntry inserts (ID 0; ErrConflict when the pattern exists) or
	// updates (ID set; ErrNotFound) an entry, and sets its ID and times.
	PutEntry(ctx context.Context, e *Entry) error
	// DeleteEntry removes one entry.
	DeleteEntry(ctx context.Context, gateID string, id int64) error
	// ImportEntries upserts entries by pattern in one transaction: all or
	// nothing. ErrNotFound if the gate does not exist.
	ImportEntries(ctx context.Context, gateID string, entries []*Entry, opts ImportOptions) (ImportResult, error)
	// ImportEntriesFrom is ImportEntries for an import too big to hold in
	// memory: next returns the entries batch by batch and io.EOF after the
	// last, and all batches go into one transaction. Any other error from
	// next undoes the import and is returned in the chain (errors.Is).
	// A pattern in two batches is ErrConflict, as in one.
	ImportEntriesFrom(ctx context.Context, gateID string, next func() ([]*Entry, error), opts ImportOptions) (ImportResult, error)
}

// EntryBatches returns a next function for ImportEntriesFrom that yields
// entries as one batch.
func EntryBatches(entries []*Entry) func() ([]*Entry, error) {
	done := false
	return func() ([]*Entry, error) {
		if done {
			return nil, io.EOF
		}
		done = true
		return entries, nil
	}
}

// Outcome is how a call ended, as written to the call log.
type Outcome string

// Call outcomes.
const (
	OutcomePassed    Outcome = "passed"     // sent on unscreened (inactive gate, no gate, pass verdict)
	OutcomeForwarded Outcome = "forwarded"  // sent to a forward target without PIN
	OutcomeRejected  Outcome = "rejected"   // rejected without PIN dialogue
	OutcomePINOK     Outcome = "pin_ok"     // correct PIN
	OutcomePINFailed Outcome = "pin_failed" // every attempt wrong
	OutcomeAbandoned Outcome = "abandoned"  // caller hung up
	OutcomeLockedOut Outcome = "locked_out" // rejected by the lockout
	OutcomeDenied    Outcome = "denied"     // rejected by a deny entry
	OutcomeFailed    Outcome = "failed"     // an internal failure; the failure policy routed the call
)

// CallRecord is one call-log row. It never holds a PIN or typed digits.
type CallRecord struct {
	ID        int64     `json:"id"`
	At        time.Time `json:"at"`
	Source    string    `json:"source"`
	ChannelID string    `json:"channel_id,omitempty"`
	GateID    string    `json:"gate_id,omitempty"`
	CallerRaw string    `json:"caller_raw"`
	Caller    string    `json:"caller"` // normalised
	Called    string    `json:"called"`
	Active    bool      `json:"active"`
	Mode      IdentMode `json:"mode,omitempty"`
	Verdict   Verdict   `json:"verdict,omitempty"`
	Attempts  int       `json:"attempts"`
	Outcome   Outcome   `json:"outcome"`
	Target    string    `json:"target,omitempty"`
	// EntryID is the matched caller-table entry, if any.
	EntryID int64 `json:"entry_id,omitempty"`
	// DecisionLatency is the time Decide took.
	DecisionLatency time.Duration `json:"decision_latency_ns"`
	// Duration is the time from arrival to letting go of the call.
	Duration time.Duration `json:"duration_ns"`
	// WebhookLatency is the webhook's time, if one was asked.
	WebhookLatency time.Duration `json:"webhook_latency_ns,omitempty"`
	// ErrorClass classifies an internal failure: store, config, schedule,
	// transport, shutdown, or a webhook class (timeout, status, syntax,
	// answer, network, too_large, breaker_open, overload, ...).
	ErrorClass string `json:"error_class,omitempty"`
	// Closure names the closure or holiday that decided the gate's
	// schedule (`holiday "Karfreitag" (de-by)`), "" if none did.
	Closure string `json:"closure,omitempty"`
}

// CallFilter selects call-log rows.
type CallFilter struct {
	GateID  string
	Caller  string // normalised number
	Outcome Outcome
	From    time.Time // inclusive
	To      time.Time // exclusive
	Offset  int
	Limit   int // 0 means 100
}

// CallLog keeps one row per call.
type CallLog interface {
	// LogCall appends a row and sets its ID (stores that batch writes may
	// set it later). It must not hold up the call for long.
	LogCall(ctx context.Context, r *CallRecord) error
	// ListCalls returns a page of rows, newest first, and the total number
	// that match.
	ListCalls(ctx context.Context, f CallFilter) ([]*CallRecord, int, error)
	// CountCalls counts the rows that match f (Offset and Limit do not
	// apply) by outcome, in one query; outcomes without rows are absent.
	CountCalls(ctx context.Context, f CallFilter) (map[Outcome]int, error)
	// PruneCalls deletes the rows whose At is before before, keeps the rows
	// at or after it, and returns how many it deleted; a second call with
	// the same time deletes nothing. Rows that LogCall has buffered are
	// written first, so they are pruned like the others. It deletes in
	// bounded batches, each its own transaction, so that it holds up
	// neither call-log writes nor other writers for long; a prune of many
	// rows may take a while, and it stops between batches when ctx is
	// done, returning what it deleted so far with the error. It is meant
	// for a periodic retention job, not for the call path.
	PruneCalls(ctx context.Context, before time.Time) (int64, error)
}

// Lockout is a caller (or, with Caller "*", a whole gate) that is refused
// the PIN dialogue until Until.
type Lockout struct {
	GateID string    `json:"gate_id"`
	Caller string    `json:"caller"`
	Until  time.Time `json:"until"`
	// Failures is the wrong PIN guesses counted when the lockout was set.
	Failures int       `json:"failures"`
	At       time.Time `json:"at"`
}

// AnyCaller is the Lockout.Caller of a gate-wide lockout.
const AnyCaller = "*"

// AnonymousCaller is the lockout key of callers whose number is withheld
// or unreadable: they share one counter, so withholding the number does
// not escape the lockout.
const AnonymousCaller = "anonymous"

// LockoutKey returns the lockout key of a normalised caller number.
func LockoutKey(caller string) string {
	if caller == "" {
		return AnonymousCaller
	}
	return caller
}

// GuessKey is a counter key of ReserveGuess (a caller key or AnyCaller)
// and the most guesses it may hold in the window (at least 1).
type GuessKey struct {
	Caller string
	Limit  int
}

// CallState is what a store knows of a call when it is decided: the
// lockouts of its keys and the caller's entry.
type CallState struct {
	// Lockouts are the lockouts in effect among the keys asked for, in
	// no particular order.
	Lockouts []*Lockout
	// Entry is the caller-table entry of the number asked for; nil when
	// none matches or no number was asked for.
	Entry *Entry
	// Grants are the gate's grants usable at the time asked for, of the
	// number asked for or of anyone (AnyCaller), with their PIN hashes,
	// at most MaxGrants, ordered by ID.
	Grants []*Grant
}

// CallReader reads what the decision of a call needs from the store.
type CallReader interface {
	// ReadCall returns the lockouts in effect at now of the caller keys
	// (LockoutKey values or AnyCaller) at gate, and, if number is not "",
	// the entry LookupEntry(ctx, gateID, number, now) finds, and the
	// grants usable at now of number and of anyone (see CallState.Grants).
	// Keys without a lockout and a number without an entry are no error.
	// It is the call path's one read: a database server answers it in one
	// round trip.
	ReadCall(ctx context.Context, gateID string, keys []string, number string, now time.Time) (CallState, error)
}

// Counters keep failed-dialogue and guess counters and lockouts. They live in the
// store so that several instances share them.
type Counters interface {
	// AddFailure records a failed PIN dialogue of caller at gate at time t
	// and returns how many failures the caller has in (t-window, t].
	// AnyCaller is a key like any other: the Flow records each failed
	// dialogue of a gate under it as well, so its count is the gate-wide
	// count (anonymous callers included).
	AddFailure(ctx context.Context, gateID, caller string, t time.Time, window time.Duration) (int, error)
	// ResetFailures forgets the caller's failures and guesses (after a
	// correct PIN).
	ResetFailures(ctx context.Context, gateID, caller string) error
	// ReserveGuess counts one PIN guess at gate that is about to be
	// judged, atomically for all keys: if every key has fewer than its
	// Limit guesses after t-window (later ones count too, so that clock
	// skew between instances hides none), it records the guess at t under
	// every key and returns true with the counts including it; otherwise
	// it records nothing and returns false with the counts as they are.
	// However many callers, channels and instances reserve at once, no key
	// ever holds more than its Limit guesses in a window. Guesses share
	// the failures of a key: ResetFailures and ClearLockout forget them.
	ReserveGuess(ctx context.Context, gateID string, keys []GuessKey, t time.Time, window time.Duration) (counts []int, ok bool, err error)
	// ReleaseGuess takes back one guess that ReserveGuess recorded under
	// caller at gate at t (the guess was right). Nothing to take back is
	// no error.
	ReleaseGuess(ctx context.Context, gateID, caller string, t time.Time) error
	// SetLockout stores (or extends) a lockout.
	SetLockout(ctx context.Context, l *Lockout) error
	// GetLockout returns the lockout of caller at gate in effect at now, or
	// ErrNotFound.
	GetLockout(ctx context.Context, gateID, caller string, now time.Time) (*Lockout, error)
	// ListLockouts returns the lockouts in effect at now; gateID "" means
	// all gates.
	ListLockouts(ctx context.Context, gateID string, now time.Time) ([]*Lockout, error)
	// ClearLockout removes a lockout and the caller's failures.
	ClearLockout(ctx context.Context, gateID, caller string) error
}

// PromptFile is an uploaded announcement: 8 kHz (or 16 kHz) mono 16-bit
// PCM WAV, for one gate ("" = every gate) and language.
type PromptFile struct {
	GateID    string    `json:"gate_id"`
	Lang      string    `json:"lang"`
	Key       PromptKey `json:"key"`
	Data      []byte    `json:"-"`
	Size      int       `json:"size"`
	CreatedAt time.Time `json:"created_at,omitzero"`
}

// PromptStore keeps uploaded announcements.
type PromptStore interface {
	// PutPrompt stores or replaces a prompt.
	PutPrompt(ctx context.Context, p *PromptFile) error
	// GetPrompt returns a prompt with its data, or ErrNotFound.
	GetPrompt(ctx context.Context, gateID, lang string, key PromptKey) (*PromptFile, error)
	// ListPrompts returns prompts without their data; gateID "" lists all.
	ListPrompts(ctx context.Context, gateID string) ([]*PromptFile, error)
	// DeletePrompt removes one prompt.
	DeletePrompt(ctx context.Context, gateID, lang string, key PromptKey) error
}

// Role is an admin API role.
type Role string

// Roles, from least to most powerful.
const (
	RoleViewer   Role = "viewer"
	RoleOperator Role = "operator"
	RoleAdmin    Role = "admin"
)

// Token is an admin API token. Only the SHA-256 of its secret is stored.
type Token struct {
	ID        string    `json:"id"`
	Name      string    `json:"name,omitempty"`
	Role      Role      `json:"role"`
	Hash      []byte    `json:"-"`
	CreatedAt time.Time `json:"created_at"`
	RevokedAt time.Time `json:"revoked_at,omitzero"`
	// ExpiresAt is when the token stops working; zero means never.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

// Expired reports whether the token has expired at now.
func (t *Token) Expired(now time.Time) bool {
	return !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt)
}

// TokenStore keeps admin API tokens.
type TokenStore interface {
	// CreateToken stores a token; ErrConflict if the ID is taken.
	CreateToken(ctx context.Context, t *Token) error
	// GetToken returns a token (revoked ones too) or ErrNotFound.
	GetToken(ctx context.Context, id string) (*Token, error)
	// ListTokens returns every token, ordered by creation.
	ListTokens(ctx context.Context) ([]*Token, error)
	// RevokeToken marks a token revoked at t.
	RevokeToken(ctx context.Context, id string, t time.Time) error
}
