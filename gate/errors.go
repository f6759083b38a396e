package gate

import (
	"errors"
	"fmt"
)

// Sentinel errors shared by every package of vipgate. Adapters translate
// foreign errors (SQL constraint codes, ARI statuses, AGI result codes) into
// these at their boundary, so callers can test with errors.Is.
var (
	// ErrNotFound means the requested gate, entry, prompt or token does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict means the object exists already or was changed concurrently.
	ErrConflict = errors.New("conflict")
	// ErrInvalid means the input was rejected; a ValidationError says why.
	ErrInvalid = errors.New("invalid")
	// ErrHangup means the caller hung up or the channel is gone.
	ErrHangup = errors.New("hangup")
	// ErrTimeout means an operation ran out of time.
	ErrTimeout = errors.New("timeout")
	// ErrUnavailable means a dependency (store, Asterisk, webhook) cannot be reached.
	ErrUnavailable = errors.New("unavailable")
)

// ValidationError reports one rejected field. Field is a dotted path such as
// "activation.schedule.windows[0].from"; Problem is a short sentence.
type ValidationError struct {
	Field   string
	Problem string
}

func (e *ValidationError) Error() string {
	return fmt.Sprintf("%s: %s", e.Field, e.Problem)
}

// Is makes every ValidationError match ErrInvalid.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

// Invalid returns a *ValidationError for field.
func Invalid(field, format string, args ...any) error {
	return &ValidationError{Field: field, Problem: fmt.Sprintf(format, args...)}
}

// ValidationErrors holds every problem found in one object. It matches
// ErrInvalid and unwraps to its members.
type ValidationErrors []*ValidationError

func (es ValidationErrors) Error() string {
	switch len(es) {
	case 0:
		return "no validation errors"
	case 1:
		return es[0].Error()
	}
	return fmt.Sprintf("%s (and %d more)", es[0].Error(), len(es)-1)
}

// Is makes ValidationErrors match ErrInvalid.
func (es ValidationErrors) Is(target error) bool { return target == ErrInvalid }

// Unwrap returns the individual errors.
func (es ValidationErrors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// Err returns nil when es is empty, else es.
func (es ValidationErrors) Err() error {
	if len(es) == 0 {
		return nil
	}
	return es
}

// add appends a problem for field.
func (es *ValidationErrors) add(field, format string, args ...any) {
	*es = append(*es, &ValidationError{Field: field, Problem: fmt.Sprintf(format, args...)})
}

// StoreFault is a store failure whose Reason may be shown to anyone, on
// the unauthenticated readiness check: a short phrase that says what is
// wrong ("database file deleted") without host names, paths, credentials
// or driver text, which stay in Err for the log. It matches what Err
// matches (ErrUnavailable).
type StoreFault struct {
	Reason string
	Err    error
}

func (e *StoreFault) Error() string { return e.Err.Error() }

// Unwrap returns Err.
func (e *StoreFault) Unwrap() error { return e.Err }
