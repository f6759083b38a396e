package gate

import (
	"context"
	"log/slog"
	"time"
)

// Var is a channel variable to set: a name, or a function such as
// "DEVICE_STATE(Custom:vipgate-hotline)", and its value.
type Var struct {
	Name, Value string
}

// CallInfo is what vipgate knows about a call when it arrives.
type CallInfo struct {
	// ID is the transport's channel id (ARI channel id, AGI uniqueid).
	ID string
	// Source is "ari" or "agi" (or "explain" for dry runs).
	Source string
	// Caller is the caller number as Asterisk reports it (raw).
	Caller string
	// CallerName is the caller ID name, if any.
	CallerName string
	// Called is the called number / DID (the dialplan extension, or an
	// argument the dialplan passes).
	Called string
	// GateName is the gate name the dialplan passed, if any
	// (Stasis(vipgate,hotline), agi://host/hotline).
	GateName string
	// Language is the channel's language.
	Language string
	// Override is set when the dialplan asks for a phone override of the
	// gate GateName instead of screening the call (see Dialplan).
	Override *OverrideRequest
}

// Digit timeouts of the PIN dialogue: a gate's dialogue.first_digit_timeout
// and dialogue.inter_digit_timeout default to them, and every adapter uses
// them where CollectOptions leave FirstDigit or InterDigit zero.
const (
	DefaultFirstDigitTimeout = 10 * time.Second
	DefaultInterDigitTimeout = 5 * time.Second
)

// CollectOptions bound one digit collection.
type CollectOptions struct {
	// MaxDigits ends input when reached.
	MaxDigits int
	// FirstDigit is how long to wait for the first digit once the prompt
	// has finished; InterDigit is how long to wait for each next digit.
	FirstDigit time.Duration
	InterDigit time.Duration
	// Terminator ends input and is not returned; "#" by default.
	Terminator string
}

// WithDefaults returns o with the zero timeouts set to
// DefaultFirstDigitTimeout and DefaultInterDigitTimeout and an empty
// Terminator set to "#". Every adapter's Collect starts with it.
func (o CollectOptions) WithDefaults() CollectOptions {
	if o.FirstDigit <= 0 {
		o.FirstDigit = DefaultFirstDigitTimeout
	}
	if o.InterDigit <= 0 {
		o.InterDigit = DefaultInterDigitTimeout
	}
	if o.Terminator == "" {
		o.Terminator = "#"
	}
	return o
}

// Input is what a caller typed. Its digits are never logged or stored.
type Input struct {
	Digits string
	// Terminated is true when the caller ended input with the terminator.
	Terminated bool
	// TimedOut is true when input ended by a timeout.
	TimedOut bool
}

// LogValue logs the length of the input, never the digits.
func (in Input) LogValue() slog.Value {
	return slog.GroupValue(slog.Int("digits_len", len(in.Digits)), slog.Bool("terminated", in.Terminated), slog.Bool("timed_out", in.TimedOut))
}

// String hides the digits.
func (in Input) String() string { return "[digits]" }

// Call is what a transport can do with one live channel. Every method that
// waits takes the call's context, returns ErrHangup (possibly wrapped) when
// the channel is gone, and must not block after the context is done.
type Call interface {
	// Info returns what is known about the call. It does not block.
	Info() CallInfo
	// Answer answers the channel. Answering an answered channel is a no-op.
	Answer(ctx context.Context) error
	// Play plays the prompts in order and returns when they have finished.
	// A missing sound file is not an error the call fails on: Play returns
	// nil and the adapter logs it.
	Play(ctx context.Context, prompts ...Prompt) error
	// Collect plays prompt (if its Name is non-empty) and collects digits
	// with barge-in: the first digit typed during the prompt stops it and
	// counts as input. It returns when the terminator is typed, MaxDigits
	// are collected, or a timeout expires; a timeout is not an error.
	Collect(ctx context.Context, prompt Prompt, opts CollectOptions) (Input, error)
	// SetVars sets channel variables in order; a transport may set them
	// in one request. A variable that cannot be set does not keep the
	// others from being set: the error then names each that failed. A
	// hangup matches ErrHangup.
	SetVars(ctx context.Context, vars ...Var) error
	// Continue sends the call on to a dialplan target (TargetContinue,
	// TargetExtension with a context, TargetLocation) and lets go of it.
	// Continue and Hangup may finish their request after ctx is done
	// (bounded by the adapter's request timeout): the end of the call that
	// they cause can cancel ctx before the transport has confirmed them.
	Continue(ctx context.Context, t Target) error
	// Hangup hangs the channel up with cause and lets go of it.
	Hangup(ctx context.Context, cause Cause) error
}
