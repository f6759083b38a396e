package gate

import (
	"context"
	"time"
)

// Erasure counts what EraseCaller deleted.
type Erasure struct {
	// Calls is the call-log rows deleted.
	Calls int64 `json:"calls"`
	// Entries is the caller-table entries deleted.
	Entries int64 `json:"entries"`
	// Lockouts is the lockouts deleted.
	Lockouts int64 `json:"lockouts"`
	// Counters is the gates whose failure and guess counters of the
	// caller were deleted.
	Counters int64 `json:"counters"`
	// Grants is the granted PINs of the caller deleted (grants for
	// anyone stay).
	Grants int64 `json:"grants"`
}

// Eraser forgets one caller, for a data subject's erasure request.
type Eraser interface {
	// EraseCaller deletes, in one transaction, everything the store keeps
	// under the normalised number: its call-log rows (Caller equal to
	// number), its caller-table entries (pattern equal to number; prefix
	// patterns such as "+49711*" cover other callers too and are kept),
	// and its lockouts and failure and guess counters. With gateID "" it
	// erases at every gate, otherwise at that gate only (ErrNotFound if
	// the gate does not exist). Call-log rows that LogCall has buffered
	// are written first, so they are erased like the others. Nothing to
	// erase is no error: the counts are zero. A number of "" or one of the
	// shared keys (AnyCaller, AnonymousCaller) is ErrInvalid.
	EraseCaller(ctx context.Context, gateID, number string) (Erasure, error)
}

// ValidErasable reports whether number may be passed to EraseCaller: a
// normalised number, not a shared counter key.
func ValidErasable(number string) error {
	if number == "" || number == AnyCaller || number == AnonymousCaller {
		return &ValidationError{Field: "number", Problem: "must be a caller's phone number"}
	}
	return nil
}

// PruneScope says whose call-log rows PruneGateCalls deletes.
type PruneScope struct {
	// GateIDs are the gates whose rows go; with Except, the rows of every
	// other gate (and of calls that met no gate) go instead.
	GateIDs []string
	Except  bool
}

// GatePruner prunes the call log gate by gate, for gates that keep their
// calls for a retention of their own.
type GatePruner interface {
	// PruneGateCalls is PruneCalls limited to the rows scope selects: the
	// same batches, buffered rows written first, the same count and
	// errors. An empty scope without Except deletes nothing; with Except
	// it is PruneCalls.
	PruneGateCalls(ctx context.Context, before time.Time, scope PruneScope) (int64, error)
}

// EraseCaller erases and records caller.erase with the counts. The entry
// names the gate but not the number: the audit log must not keep what
// was erased.
func (a *audited) EraseCaller(ctx context.Context, gateID, number string) (Erasure, error) {
	res, err := a.Store.EraseCaller(ctx, gateID, number)
	if err != nil {
		return res, err
	}
	return res, a.record(ctx, "caller.erase", gateID, "", AuditDiff(nil, res))
}
