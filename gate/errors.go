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

// ConflictError reports a field whose value another object has already,
// such as a caller pattern a gate has an entry for. It matches ErrConflict
// (not ErrInvalid). Stores return it for unique violations, translated at
// their boundary; its text never carries the driver's message.
type ConflictError struct {
	Field   string
	Problem string
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("%s: %s", e.Field, e.Problem)
}

// Is makes every ConflictError match ErrConflict.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// Duplicate returns the ConflictError of a store's unique violation on
// table ("gates", "entries", "tokens", "prompts"), the one text both
// stores answer with.
func Duplicate(table string) error {
	switch table {
	case "gates":
		return &ConflictError{Field: "id", Problem: "another gate has this ID already"}
	case "entries":
		return &ConflictError{Field: "caller", Problem: "the gate has an entry for this caller already"}
	case "accounts":
		return &ConflictError{Field: "number", Problem: "the gate has an account with this number already"}
	case "tokens":
		return &ConflictError{Field: "id", Problem: "another token has this ID already"}
	case "prompts":
		return &ConflictError{Field: "key", Problem: "the gate has this prompt already"}
	}
	return ErrConflict
}

// Translated returns domain, the error an adapter translated a foreign
// error into, with cause (the driver's or peer's error) kept in the chain
// for errors.Is and errors.As but left out of the text: a driver's message
// never reaches an API answer.
func Translated(domain, cause error) error { return &translated{domain: domain, cause: cause} }

type translated struct{ domain, cause error }

func (e *translated) Error() string   { return e.domain.Error() }
func (e *translated) Unwrap() []error { return []error{e.domain, e.cause} }

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
