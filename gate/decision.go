package gate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Verdict is the kind of decision the Engine makes.
type Verdict string

// Verdicts.
const (
	VerdictPass    Verdict = "pass"
	VerdictReject  Verdict = "reject"
	VerdictForward Verdict = "forward"
	VerdictAskPIN  Verdict = "ask_pin"
)

// AskPIN is the PIN dialogue a decision asks for.
type AskPIN struct {
	// Expected checks the typed digits; it never reveals the PIN.
	Expected    PINCheck
	OnCorrect   Target
	OnIncorrect Target
	MaxRetries  int
	MinDigits   int
	MaxDigits   int
	// Account says that each attempt first asks for an account number:
	// Expected then checks the PIN of the account typed (see
	// IdentAccount).
	Account bool
}

// TraceStep is one step of the reasoning behind a decision.
type TraceStep struct {
	Step   string `json:"step"`
	Detail string `json:"detail"`
}

// Decision is what the Engine decided for one call, with the trace of why.
type Decision struct {
	Verdict Verdict
	// Target is where the call goes for pass (Continue), forward, and
	// reject (a hang-up target).
	Target Target
	// Announce is the prompt played before a reject ("" = none): rejected,
	// locked-out or unavailable.
	Announce PromptKey
	// AnnounceSound is a sound played before the call goes to Target: a
	// closure's announcement ("" = none).
	AnnounceSound string
	// AskPIN is set for VerdictAskPIN.
	AskPIN *AskPIN
	// Closure names the closure or holiday that decided the schedule
	// (`closure "Christmas"`, `holiday "Karfreitag" (de-by)`), "" if none
	// did.
	Closure string

	// Gate is the selected gate, nil if none matched.
	Gate *Gate
	// Active says whether the gate screens calls right now.
	Active bool
	// Mode is the identification mode that produced the verdict.
	Mode IdentMode
	// Caller is the normalised caller number ("" if it could not be
	// normalised): E.164, or kept as dialled for internal numbers (see
	// Numbering). CallerRule says which rule classified it.
	Caller     string
	CallerRule string
	// Called and CalledRule are the same for the called number.
	Called     string
	CalledRule string
	// Entry is the matched caller-table entry, if any.
	Entry *Entry
	// Denied is true when a deny entry rejected the call.
	Denied bool
	// LockedOut is true when the caller (or gate) is locked out.
	LockedOut bool
	// Slowed is true while a gate-wide lockout with the slow action is in
	// effect: the dialogue waits before judging each guess.
	Slowed bool

	// Err is the internal failure that the failure policy turned into this
	// decision, if any; ErrClass classifies it for the call log.
	Err      error
	ErrClass string
	// WebhookLatency is the webhook's time, if it was asked.
	WebhookLatency time.Duration

	Trace []TraceStep

	// budget is the call's store time, shared by the Engine and the Flow.
	budget *budget
}

func (d *Decision) trace(step, format string, args ...any) {
	d.Trace = append(d.Trace, TraceStep{Step: step, Detail: fmt.Sprintf(format, args...)})
}

// AuthRequest is what the Authorizer is asked about one call.
type AuthRequest struct {
	// Caller and Called as the gate's Numbering reads them: E.164 for
	// outside numbers, as dialled for internal extensions and numbers that
	// are not valid in the gate's region (or unreadable).
	Caller string
	Called string
	CallID string
	// CallerRaw is the caller number as Asterisk reported it, and
	// CallerKnown whether the gate's Numbering could read it (Caller
	// falls back to CallerRaw when it could not).
	CallerRaw   string
	CallerKnown bool
}

// AnswerKind is the kind of an authorizer's answer.
type AnswerKind string

// Answer kinds, after the webhook answer forms.
const (
	AnswerAskPIN  AnswerKind = "askForPin" // {askForPin:{...}}
	AnswerReject  AnswerKind = "reject"    // {reject:true}
	AnswerPass    AnswerKind = "pass"      // {reject:false}
	AnswerForward AnswerKind = "forward"   // {forward:"123"}
	// AnswerUnknown says the authorizer does not know the caller (a
	// database query without a row); the gate's unknown_caller rule
	// applies, as for a table-mode caller without an entry.
	AnswerUnknown AnswerKind = "unknown"
)

// AuthAnswer is an authorizer's verdict for one call.
type AuthAnswer struct {
	Kind AnswerKind
	// PIN is the expected PIN for AnswerAskPIN.
	PIN ClearPIN
	// Expected, when set, checks the PIN of an AnswerAskPIN instead of
	// PIN: a hashed PIN the authorizer was given. The gate's digit
	// limits apply to it.
	Expected PINCheck
	// Label names the caller in the decision's trace; "" if the answer
	// gave none.
	Label string
	// OnCorrect / OnIncorrect are the forwardCorrectPIN / forwardIncorrectPIN
	// targets; zero means the defaults (continue / reject).
	OnCorrect   Target
	OnIncorrect Target
	// MaxRetries is 0 when the answer gave none (the gate's value applies).
	MaxRetries int
	// Forward is the target of AnswerForward.
	Forward Target
	// Latency is how long the authorizer took; Cached marks a cached answer.
	Latency time.Duration
	Cached  bool
}

// AnsweredPIN is the check of a hashed PIN an authorizer answered with
// (AuthAnswer.Expected), as a decision holds it: explain tells it from
// the gate's own PINs by its type.
type AnsweredPIN struct{ PINCheck }

// LogValue redacts the PIN.
func (p AnsweredPIN) LogValue() slog.Value { return slog.StringValue("[pin]") }

// Authorizer decides per call for webhook gates (and, with the same
// answers, for database gates: EngineConfig.Database). Authorize blocks for at
// most the gate's webhook timeout (or until ctx is done). Errors should
// implement ErrorClass() string ("timeout", "status", "syntax", "answer",
// "breaker_open", "network", "too_large", "overload", "config", "request",
// "canceled") for the call log and metrics. AuthAnswer.Latency is set on
// errors too.
type Authorizer interface {
	Authorize(ctx context.Context, g *Gate, req AuthRequest) (AuthAnswer, error)
}

// ErrorClass returns the class of err for the call log: the value of an
// ErrorClass() method anywhere in its chain, else a class from the
// sentinels, else "error".
func ErrorClass(err error) string {
	if err == nil {
		return ""
	}
	var c interface{ ErrorClass() string }
	if errors.As(err, &c) {
		return c.ErrorClass()
	}
	switch {
	case errors.Is(err, ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, ErrUnavailable):
		return "unavailable"
	case errors.Is(err, ErrInvalid):
		return "invalid"
	}
	return "error"
}
