package ari

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/vipgate/vipgate/gate"
)

// State errors returned for 409 and 412 answers. Both match gate.ErrConflict.
var (
	// ErrNotInStasis means the channel exists but is not in a Stasis
	// application (409), e.g. because it already left it.
	ErrNotInStasis = fmt.Errorf("channel not in stasis: %w", gate.ErrConflict)
	// ErrInvalidState means the channel is in a state that does not allow
	// the operation (412): Down, Rsrvd or Ringing.
	ErrInvalidState = fmt.Errorf("channel in invalid state: %w", gate.ErrConflict)
	// ErrUnauthorized means Asterisk refused the credentials (401, 403).
	// It matches gate.ErrUnavailable: vipgate cannot use that server.
	ErrUnauthorized = fmt.Errorf("not authorized: %w", gate.ErrUnavailable)
)

// Error is a failed ARI request. It unwraps to the sentinel that its status
// maps to:
//
//	404 on a channel          gate.ErrHangup (the channel is gone)
//	404 otherwise             gate.ErrNotFound (playback, application, variable, label)
//	409                       ErrNotInStasis (gate.ErrConflict)
//	412                       ErrInvalidState (gate.ErrConflict)
//	400, 422                  gate.ErrInvalid
//	401, 403                  ErrUnauthorized (gate.ErrUnavailable)
//	5xx                       gate.ErrUnavailable
type Error struct {
	// Op is the operation, e.g. "answer".
	Op string
	// Method and Path name the request (Path without query, never with
	// credentials).
	Method, Path string
	// Status is the HTTP status; 0 when no answer came.
	Status int
	// Message is Asterisk's {"message":...} text, if any.
	Message string
	// Err is the mapped sentinel or the transport error.
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("ari: ")
	b.WriteString(e.Op)
	if e.Status != 0 {
		fmt.Fprintf(&b, ": %d %s", e.Status, http.StatusText(e.Status))
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.Err != nil && e.Status == 0 {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the sentinel or transport error.
func (e *Error) Unwrap() error { return e.Err }

// statusErr maps an HTTP status to a sentinel. channelOp says whether the
// request addressed a channel, so that 404 means "channel gone".
func statusErr(status int, msg string, channelOp bool) error {
	switch {
	case status == http.StatusNotFound:
		m := strings.ToLower(msg)
		if channelOp && !strings.Contains(m, "variable") && !strings.Contains(m, "label") {
			return gate.ErrHangup
		}
		return gate.ErrNotFound
	case status == http.StatusConflict:
		return ErrNotInStasis
	case status == http.StatusPreconditionFailed:
		return ErrInvalidState
	case status == http.StatusUnauthorized, status == http.StatusForbidden:
		return ErrUnauthorized
	case status == http.StatusBadRequest, status == http.StatusUnprocessableEntity:
		return gate.ErrInvalid
	case status >= 500:
		return gate.ErrUnavailable
	}
	return errors.New("unexpected status")
}

// VarError is a channel variable that could not be set while the others
// of the same SetVars were. Err is the request's *Error.
type VarError struct {
	Name string
	Err  error
}

func (e *VarError) Error() string { return "variable " + e.Name + ": " + e.Err.Error() }

// Unwrap returns the request's error.
func (e *VarError) Unwrap() error { return e.Err }

// varSet reports whether SetVars, returning err, set the variable name:
// on a partial failure (only *VarError) every variable not named was set;
// any other error means none was.
func varSet(err error, name string) bool {
	if err == nil {
		return true
	}
	if ve, ok := err.(*VarError); ok {
		return ve.Name != name
	}
	j, ok := err.(interface{ Unwrap() []error })
	return ok && !slices.ContainsFunc(j.Unwrap(), func(e error) bool { return !varSet(e, name) })
}
