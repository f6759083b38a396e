package webhook

import (
	"errors"
	"fmt"

	"github.com/vipgate/vipgate/internal/autherr"
)

// Error classes. They name the failure in the call log and in metrics
// (gate.ErrorClass reads them through ErrorClass).
const (
	// ClassTimeout: the webhook did not answer within the gate's timeout
	// (or the caller's context deadline).
	ClassTimeout = "timeout"
	// ClassNetwork: the connection failed (refused, reset, DNS, TLS).
	ClassNetwork = "network"
	// ClassStatus: the webhook answered with a status other than 2xx.
	ClassStatus = "status"
	// ClassTooLarge: the answer body exceeded MaxBody.
	ClassTooLarge = "too_large"
	// ClassSyntax: the answer is not JSON, strict or relaxed.
	ClassSyntax = "syntax"
	// ClassAnswer: the answer is well-formed but has none of the known
	// keys, conflicting keys, or invalid values.
	ClassAnswer = "answer"
	// ClassBreakerOpen: the gate's circuit breaker is open; no request was
	// sent.
	ClassBreakerOpen = "breaker_open"
	// ClassOverload: every request slot of the gate (MaxConcurrent) stayed
	// busy until the deadline; no request was sent.
	ClassOverload = "overload"
	// ClassConfig: the gate's webhook configuration is unusable (no URL, bad
	// template, unreadable CA or secret file); no request was sent.
	ClassConfig = "config"
	// ClassRequest: the call's numbers cannot be put into a request
	// (control characters); no request was sent.
	ClassRequest = "request"
	// ClassCanceled: the caller's context was cancelled (the caller hung
	// up) before the answer came.
	ClassCanceled = "canceled"
)

// Error is a failed webhook authorization. Its message names the operation
// and the failure; it never contains the answer body, a PIN or the secret.
type Error struct {
	Class string // one of the Class constants
	Op    string // the failed step: "request", "read answer", "parse answer", ...
	Err   error
}

func (e *Error) Error() string { return autherr.Message("webhook", e.Op, e.Class, e.Err) }

// ErrorClass returns e.Class for the call log and metrics.
func (e *Error) ErrorClass() string { return e.Class }

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Is maps classes to vipgate's sentinels: timeouts match gate.ErrTimeout;
// network, status, breaker and overload failures match gate.ErrUnavailable;
// malformed answers and configuration match gate.ErrInvalid.
func (e *Error) Is(target error) bool { return sentinels.Is(e.Class, target) }

var sentinels = autherr.Sentinels{
	Timeout:     []string{ClassTimeout},
	Unavailable: []string{ClassNetwork, ClassStatus, ClassBreakerOpen, ClassOverload},
	Invalid:     []string{ClassSyntax, ClassAnswer, ClassTooLarge, ClassConfig, ClassRequest},
}

func newError(class, op string, err error) *Error {
	return &Error{Class: class, Op: op, Err: err}
}

func errorf(class, op, format string, args ...any) *Error {
	return &Error{Class: class, Op: op, Err: fmt.Errorf(format, args...)}
}

// StatusError is the Err of a ClassStatus error.
type StatusError struct {
	Code int
}

func (e *StatusError) Error() string { return fmt.Sprintf("unexpected status %d", e.Code) }

// errTooLarge is the Err of a ClassTooLarge error.
var errTooLarge = errors.New("answer larger than 64 KiB")
