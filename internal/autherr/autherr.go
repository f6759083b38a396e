// Package autherr is what the error types of vipgate's authorizers (the
// webhook and database identification) share: the form of their message
// and the mapping of their error classes to the domain's sentinels. One
// rule, one place: each authorizer keeps its own Error type and classes,
// and both word and classify their failures alike. It imports only the
// domain and the standard library.
package autherr

import (
	"slices"

	"github.com/vipgate/vipgate/gate"
)

// Message is the text of a failed lookup: "who: op: err", or
// "who: op: class" where there is no underlying error.
func Message(who, op, class string, err error) string {
	if err == nil {
		return who + ": " + op + ": " + class
	}
	return who + ": " + op + ": " + err.Error()
}

// Sentinels names the error classes of an authorizer that match each of
// the domain's sentinels.
type Sentinels struct {
	Timeout     []string // match gate.ErrTimeout
	Unavailable []string // match gate.ErrUnavailable
	Invalid     []string // match gate.ErrInvalid
}

// Is reports whether an error of class matches target; it backs the Is
// method of an authorizer's Error type.
func (s Sentinels) Is(class string, target error) bool {
	switch target {
	case gate.ErrTimeout:
		return slices.Contains(s.Timeout, class)
	case gate.ErrUnavailable:
		return slices.Contains(s.Unavailable, class)
	case gate.ErrInvalid:
		return slices.Contains(s.Invalid, class)
	}
	return false
}
