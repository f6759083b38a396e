package gate

import (
	"cmp"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Gate guards calls to a set of called numbers (or a name the dialplan
// passes). Its zero value is not useful; build gates from JSON/YAML or set
// the fields and call Normalize and Validate.
type Gate struct {
	// ID is a short slug ("hotline"); it names the gate in URLs, the call log
	// and metrics. Lower-case letters, digits, '-' and '_'.
	ID string `json:"id"`
	// Name is a human-readable title.
	Name string `json:"name"`
	// Enabled false makes the gate invisible to gate selection.
	Enabled bool `json:"enabled"`
	// Match says which calls the gate guards.
	Match Match `json:"match"`
	// Numbers says which numbers the gate treats as internal extensions;
	// see NumberRules.
	Numbers NumberRules `json:"numbers,omitzero"`
	// Language selects the prompt language ("en", "de"); empty means the
	// channel's language, then "en".
	Language string `json:"language,omitempty"`

	Activation     Activation     `json:"activation"`
	Identification Identification `json:"identification"`
	Dialogue       Dialogue       `json:"dialogue"`
	Prompts        Prompts        `json:"prompts,omitempty"`
	Routes         Routes         `json:"routes"`
	Failure        FailurePolicy  `json:"failure"`
	Lockout        LockoutPolicy  `json:"lockout"`

	// Retention is how long the gate's call-log rows are kept ("30d",
	// "2160h"), overriding the global retention; empty or "0" follows
	// it. See ParseRetention.
	Retention string `json:"retention,omitempty"`

	// Override forces the gate on or off; it is set through the override API
	// and kept with the gate.
	Override *Override `json:"override,omitempty"`
	// PhoneOverride lets internal callers set the override from a phone
	// (see DialplanOverride); nil refuses phone overrides.
	PhoneOverride *PhoneOverride `json:"phone_override,omitempty"`

	CreatedAt time.Time `json:"created_at,omitzero"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// Match selects the calls a gate guards. A call matches when the dialplan
// passed one of Names (Stasis(vipgate,hotline), agi://host/hotline), or when
// no name was passed and the called number matches one of Numbers.
type Match struct {
	// Numbers are called numbers or DIDs. An entry ending in '*' is a prefix.
	// Numbers are compared both as dialled and normalised by the gate's
	// Numbering (E.164, or kept as dialled for internal numbers).
	Numbers []string `json:"numbers,omitempty"`
	// Names are names the dialplan may pass. The gate's ID always matches too.
	Names []string `json:"names,omitempty"`
}

// Duration is a time.Duration written as "3s", "1m30s" in JSON.
type Duration time.Duration

// MarshalText writes d as a Go duration string.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText reads a Go duration string ("3s"); a bare number is seconds.
func (d *Duration) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	if s == "" {
		*d = 0
		return nil
	}
	if v, err := time.ParseDuration(s); err == nil {
		*d = Duration(v)
		return nil
	}
	var secs float64
	if _, err := fmt.Sscanf(s, "%g", &secs); err == nil && fmt.Sprint(secs) == s {
		*d = Duration(secs * float64(time.Second))
		return nil
	}
	return fmt.Errorf("invalid duration %q (want e.g. \"3s\" or \"1m30s\")", s)
}

// UnmarshalJSON accepts a duration string or a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] != '"' {
		var secs float64
		if err := json.Unmarshal(b, &secs); err != nil {
			return fmt.Errorf("invalid duration %s", b)
		}
		*d = Duration(secs * float64(time.Second))
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	return d.UnmarshalText([]byte(s))
}

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// ActivationMode says when a gate is active.
type ActivationMode string

// Activation modes.
const (
	ActiveAlways   ActivationMode = "always"
	ActiveNever    ActivationMode = "never"
	ActiveSchedule ActivationMode = "schedule"
)

// Activation says when the gate screens calls. An inactive gate passes
// calls on untouched (unanswered).
type Activation struct {
	Mode     ActivationMode `json:"mode"`
	Schedule *Schedule      `json:"schedule,omitempty"`
}

// Override forces a gate active or inactive until an optional expiry.
type Override struct {
	Active bool `json:"active"`
	// Until is when the override expires; zero means it holds until cleared.
	Until time.Time `json:"until,omitzero"`
	// UntilChange says that Until was set to the schedule's next change
	// by itself (Gate.NextChange) when the override was set: the override
	// lasts until the schedule would have turned the gate on or off. Until
	// is kept as computed then, also when the schedule is edited later.
	UntilChange bool      `json:"until_change,omitempty"`
	Reason      string    `json:"reason,omitempty"`
	SetAt       time.Time `json:"set_at,omitzero"`
}

// InEffect reports whether the override applies at t.
func (o *Override) InEffect(t time.Time) bool {
	return o != nil && (o.Until.IsZero() || t.Before(o.Until))
}

// IdentMode says how callers prove who they are.
type IdentMode string

// Identification modes.
const (
	IdentStatic  IdentMode = "static"
	IdentTable   IdentMode = "table"
	IdentWebhook IdentMode = "webhook"
)

// UnknownCaller says what happens to a caller with no table entry.
type UnknownCaller string

// Rules for unknown callers in table mode.
const (
	UnknownReject UnknownCaller = "reject"
	UnknownPass   UnknownCaller = "pass"
	UnknownStatic UnknownCaller = "static"
)

// Withheld says what happens to a caller whose number is withheld or
// cannot be read, in any mode.
type Withheld string

// Rules for callers without a number.
const (
	// WithheldMode leaves them to the mode, as for other callers: table
	// gates apply unknown_caller, static gates ask the static PIN,
	// webhook gates ask the webhook (the default).
	WithheldMode Withheld = "mode"
	// WithheldReject rejects them with the gate's reject route.
	WithheldReject Withheld = "reject"
	// WithheldStatic asks them for the gate's static PIN.
	WithheldStatic Withheld = "static"
)

// Identification configures how an active gate identifies callers.
type Identification struct {
	Mode IdentMode `json:"mode"`
	// StaticPIN is the hashed static PIN (static mode, and the "static"
	// fallbacks). It is set from a clear PIN with Hasher.Hash; the clear PIN
	// is never kept.
	StaticPIN *PINHash `json:"static_pin_hash,omitempty"`
	// PINSet holds further PINs that are valid, each in its own dates,
	// wherever the static PIN is asked for (see SetPIN).
	PINSet []SetPIN `json:"pin_set,omitempty"`
	// UnknownCaller applies in table mode, and in database mode when the
	// query returns no row; default reject.
	UnknownCaller UnknownCaller `json:"unknown_caller,omitempty"`
	// Withheld applies to callers without a readable number, in every
	// mode; default WithheldMode.
	Withheld Withheld `json:"withheld,omitempty"`
	// Region is the default region (ISO 3166 alpha-2, e.g. "DE") used to
	// normalise national caller numbers; empty means the Engine's default.
	Region string `json:"region,omitempty"`
	// Webhook configures webhook mode.
	Webhook *WebhookConfig `json:"webhook,omitempty"`
	// Database configures database mode (IdentDatabase).
	Database *DatabaseConfig `json:"database,omitempty"`
}

// WebhookConfig configures the webhook authorizer of a gate. URL, Headers
// and Body may hold ###CALLER_NUMBER### and ###CALLED_NUMBER###.
type WebhookConfig struct {
	URL     string            `json:"url"`
	Method  string            `json:"method,omitempty"` // GET (default) or POST
	Headers map[string]string `json:"headers,omitempty"`
	Body    string            `json:"body,omitempty"` // JSON body template for POST
	// Timeout per request; default 3s, at most 15s.
	Timeout Duration `json:"timeout,omitempty"`
	// MaxConcurrent bounds requests in flight for this gate; default 32.
	MaxConcurrent int `json:"max_concurrent,omitempty"`
	// CAFile is an optional PEM bundle to verify the server with.
	CAFile string `json:"ca_file,omitempty"`
	// SecretFile names a file holding the HMAC signing key. The secret is
	// never stored in the database.
	SecretFile string `json:"secret_file,omitempty"`
	// CacheTTL caches answers per (caller, called); 0 disables the cache.
	CacheTTL Duration `json:"cache_ttl,omitempty"`
	// BreakerFailures consecutive failures open the circuit breaker for
	// BreakerCooldown; 0 failures means the default (5), cool-down default 30s.
	BreakerFailures int      `json:"breaker_failures,omitempty"`
	BreakerCooldown Duration `json:"breaker_cooldown,omitempty"`
}

// Dialogue configures the PIN dialogue.
type Dialogue struct {
	// MaxRetries is the number of PIN attempts (1..10, default 3).
	MaxRetries int `json:"max_retries,omitempty"`
	// MinDigits and MaxDigits bound PIN length (defaults 4 and 12, 1..32).
	MinDigits int `json:"min_digits,omitempty"`
	MaxDigits int `json:"max_digits,omitempty"`
	// FirstDigitTimeout waits for the first digit after the prompt ends
	// (default DefaultFirstDigitTimeout, 10s); InterDigitTimeout between
	// digits (default DefaultInterDigitTimeout, 5s).
	FirstDigitTimeout Duration `json:"first_digit_timeout,omitempty"`
	InterDigitTimeout Duration `json:"inter_digit_timeout,omitempty"`
	// RejectWeak refuses weak PINs (0000, 1234, repeated or sequential
	// digits) when they are written.
	RejectWeak bool `json:"reject_weak,omitempty"`
}

// PromptKey names one announcement vipgate plays.
type PromptKey string

// The prompts vipgate plays.
const (
	PromptAskPIN      PromptKey = "ask-pin"
	PromptWrongPIN    PromptKey = "wrong-pin"
	PromptRejected    PromptKey = "rejected"
	PromptConnecting  PromptKey = "connecting"
	PromptLockedOut   PromptKey = "locked-out"
	PromptUnavailable PromptKey = "unavailable"
	PromptWelcome     PromptKey = "welcome"
	// PromptClosure marks a closure's own announcement (ClosureAction);
	// it is not one of a gate's configurable prompts.
	PromptClosure PromptKey = "closure"
)

// PromptKeys lists every prompt key, in a stable order. Welcome is optional
// and has no default file.
var PromptKeys = []PromptKey{PromptAskPIN, PromptWrongPIN, PromptRejected, PromptConnecting, PromptLockedOut, PromptUnavailable, PromptWelcome, PromptAskAccount, PromptWrongAccount}

// Prompts maps prompt keys to sound names that replace the defaults for a
// gate, e.g. {"ask-pin": "custom/hotline-ask"}. Sound names are relative to
// Asterisk's sounds directory, without extension.
type Prompts map[PromptKey]string

// Prompt is one announcement to play on a call.
type Prompt struct {
	Key PromptKey
	// Name is the sound to play: a path relative to Asterisk's sounds
	// directory without extension, e.g. "vipgate/ask-pin".
	Name string
	// Lang is the language to play it in; empty means the channel's.
	Lang string
}

// DefaultSoundDir is the sub-directory of Asterisk's sounds directory that
// holds vipgate's default prompts.
const DefaultSoundDir = "vipgate"

// Prompt returns the prompt for key in the gate's configuration: the
// sound named in Prompts, else vipgate's default "vipgate/<key>". The
// welcome prompt has no default: without an entry its Name is "" and
// nothing is played.
func (g *Gate) Prompt(key PromptKey, lang string) Prompt {
	if lang == "" {
		lang = g.Language
	}
	name := DefaultSoundDir + "/" + string(key)
	if key == PromptWelcome {
		name = ""
	}
	if n, ok := g.Prompts[key]; ok && n != "" {
		name = n
	}
	return Prompt{Key: key, Name: name, Lang: lang}
}

// Routes configures where calls go.
type Routes struct {
	// ForwardContext is the dialplan context for extension targets.
	ForwardContext string `json:"forward_context,omitempty"`
	// OnCorrect is where a caller goes after a correct PIN (default continue).
	OnCorrect Target `json:"on_correct,omitzero"`
	// OnIncorrect is where a caller goes after the last wrong PIN (default
	// reject).
	OnIncorrect Target `json:"on_incorrect,omitzero"`
	// Reject says how calls are rejected: a hang-up cause (busy, rejected,
	// congestion; default busy), after the rejected announcement if Announce.
	Reject RejectStyle `json:"reject,omitzero"`
	// Connecting plays the "connecting you" prompt before a correct caller
	// is sent on.
	Connecting bool `json:"connecting,omitempty"`
}

// RejectStyle says how a call is rejected.
type RejectStyle struct {
	Cause    Cause `json:"cause,omitempty"`
	Announce bool  `json:"announce,omitempty"`
}

// Cause is a hang-up reason in ARI's words.
type Cause string

// Hang-up causes vipgate uses.
const (
	CauseBusy       Cause = "busy"
	CauseRejected   Cause = "rejected"
	CauseCongestion Cause = "congestion"
	CauseNormal     Cause = "normal"
)

// Q850 returns the ISDN cause code of c (busy 17, rejected 21, congestion 34, normal 16).
func (c Cause) Q850() int {
	switch c {
	case CauseBusy:
		return 17
	case CauseRejected:
		return 21
	case CauseCongestion:
		return 34
	}
	return 16
}

// FailureAction is what a gate does when it cannot decide (store down,
// webhook error, malformed answer).
type FailureAction string

// Failure actions.
const (
	FailReject  FailureAction = "reject"
	FailPass    FailureAction = "pass"
	FailForward FailureAction = "forward"
	FailStatic  FailureAction = "static"
	FailTable   FailureAction = "table"
)

// FailurePolicy turns internal failures into a decision.
type FailurePolicy struct {
	// Action: reject (default, fail closed), pass (fail open), forward to
	// Target, static (ask for the static PIN), table (use the caller table;
	// webhook gates only).
	Action FailureAction `json:"action,omitempty"`
	Target Target        `json:"target,omitzero"`
}

// LockoutPolicy configures brute-force protection. The limits count PIN
// guesses: every guess is counted in the store before it is judged, so
// that parallel calls and instances share one budget (see Guesses).
type LockoutPolicy struct {
	// MaxFailures failed PIN dialogues' worth of wrong guesses
	// (MaxFailures × the gate's dialogue.max_retries) by one caller within
	// Window lock the caller out for Duration. 0 disables the lockout.
	MaxFailures int      `json:"max_failures,omitempty"`
	Window      Duration `json:"window,omitempty"`
	Duration    Duration `json:"duration,omitempty"`
	// GateMaxFailures failed dialogues' worth of wrong guesses at the gate
	// (any caller, GateMaxFailures × max_retries) within Window trigger
	// the gate-wide lockout for Duration, which does what GateAction says.
	// 0 disables this limit.
	GateMaxFailures int `json:"gate_max_failures,omitempty"`
	// MaxParallel caps the PIN dialogues one caller may have at once on
	// one instance while MaxFailures is set (0 means
	// DefaultMaxParallel).
	MaxParallel int `json:"max_parallel,omitempty"`
	// GateMaxParallel caps the PIN dialogues at the gate at once on one
	// instance while GateMaxFailures is set (0 means
	// DefaultGateMaxParallel).
	GateMaxParallel int `json:"gate_max_parallel,omitempty"`
	// GateAction is what the gate-wide lockout does: refuse every PIN
	// dialogue (GateRefuse, the default) or keep them going but wait
	// SlowDelay before judging each guess (GateSlow).
	GateAction GateLockoutAction `json:"gate_action,omitempty"`
	// SlowDelay is the wait before each judgement while a gate-wide
	// lockout with GateSlow is in effect (0 means DefaultSlowDelay).
	SlowDelay Duration `json:"slow_delay,omitempty"`
}

// GateLockoutAction is what a gate-wide lockout does.
type GateLockoutAction string

// Gate-wide lockout actions.
const (
	GateRefuse GateLockoutAction = "refuse"
	GateSlow   GateLockoutAction = "slow"
)

// Defaults of a LockoutPolicy.
const (
	DefaultMaxParallel     = 2
	DefaultGateMaxParallel = 50
	DefaultSlowDelay       = 10 * time.Second
)

// Guesses returns the most wrong PIN guesses the lockout allows per caller
// and per gate within the window (0 = no limit): the failure limits times
// the gate's attempts per dialogue (1..10).
func (g *Gate) Guesses() (caller, gateWide int) {
	retries := min(max(g.Dialogue.MaxRetries, 1), maxRetriesLimit)
	return g.Lockout.MaxFailures * retries, g.Lockout.GateMaxFailures * retries
}

// parallel returns the caps on concurrent PIN dialogues per caller and
// per gate (0 = no cap).
func (l LockoutPolicy) parallel() (caller, gateWide int) {
	if l.MaxFailures > 0 {
		caller = cmp.Or(l.MaxParallel, DefaultMaxParallel)
	}
	if l.GateMaxFailures > 0 {
		gateWide = cmp.Or(l.GateMaxParallel, DefaultGateMaxParallel)
	}
	return caller, gateWide
}

// slowDelay returns the wait before a judgement during a slowed gate-wide
// lockout.
func (l LockoutPolicy) slowDelay() time.Duration {
	return cmp.Or(l.SlowDelay.D(), DefaultSlowDelay)
}

var idRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// ValidID reports whether s is a valid gate ID.
func ValidID(s string) bool { return idRE.MatchString(s) }
