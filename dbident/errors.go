package dbident

import (
	"github.com/vipgate/vipgate/internal/autherr"
)

// Error classes. They name the failure in the call log and in metrics
// (gate.ErrorClass reads them through ErrorClass).
const (
	// ClassTimeout: the lookup did not finish within the gate's timeout
	// (the statement timeout struck, or the deadline while connecting).
	ClassTimeout = "timeout"
	// ClassNetwork: the server could not be reached or refused the
	// connection (including a wrong password).
	ClassNetwork = "network"
	// ClassQuery: the server refused the query (an SQL error, a write in
	// the read-only transaction, a missing table or permission).
	ClassQuery = "query"
	// ClassAnswer: the row has an unknown or malformed column, or a
	// verdict without what it needs (askForPin without a PIN).
	ClassAnswer = "answer"
	// ClassBreakerOpen: the gate's circuit breaker is open; no query was
	// sent.
	ClassBreakerOpen = "breaker_open"
	// ClassConfig: the gate's database configuration is unusable (no
	// DSN, a DSN that does not parse, a query that the check refuses).
	ClassConfig = "config"
	// ClassCanceled: the caller hung up before the answer came.
	ClassCanceled = "canceled"
)

// Error is a failed database lookup. Its message names the operation and
// the failure; it never contains the DSN's password or a PIN.
type Error struct {
	Class string // one of the Class constants
	Op    string // the failed step: "configure", "connect", "query", "read row"
	Err   error
}

func (e *Error) Error() string { return autherr.Message("database", e.Op, e.Class, e.Err) }

// ErrorClass returns e.Class for the call log and metrics.
func (e *Error) ErrorClass() string { return e.Class }

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Is maps classes to vipgate's sentinels: timeouts match gate.ErrTimeout;
// network failures and an open breaker match gate.ErrUnavailable;
// malformed rows, refused queries and configuration match gate.ErrInvalid.
func (e *Error) Is(target error) bool { return sentinels.Is(e.Class, target) }

var sentinels = autherr.Sentinels{
	Timeout:     []string{ClassTimeout},
	Unavailable: []string{ClassNetwork, ClassBreakerOpen},
	Invalid:     []string{ClassAnswer, ClassQuery, ClassConfig},
}

// scrubbed is an error whose text has the DSN's secrets cut out. It does
// not unwrap: the driver's error below it may quote them.
type scrubbed struct{ msg string }

func (s *scrubbed) Error() string { return s.msg }
