package gate

import (
	"cmp"
	"context"
	"time"
)

// ErrOutboxFull means an outbox holds as many pending messages as its
// bound allows; the messages offered were not added. It also matches
// ErrUnavailable: the outbox cannot take more now.
var ErrOutboxFull = outboxFullError{}

type outboxFullError struct{}

func (outboxFullError) Error() string { return "outbox is full" }

// Is makes ErrOutboxFull match ErrUnavailable too.
func (outboxFullError) Is(target error) bool { return target == ErrUnavailable }

// OutboxMessage is one notification waiting for delivery on one channel.
// It never holds a PIN, typed digits or a secret: Event is the
// notification as it will be sent, and the channel's secret is looked up
// when it is sent.
type OutboxMessage struct {
	ID int64 `json:"id"`
	// Key is the idempotency key: unique in the outbox, sent with every
	// delivery of the message so that a receiver can drop a repeat.
	Key     string `json:"key"`
	GateID  string `json:"gate_id"`
	Rule    string `json:"rule"`    // the gate's notification rule
	Channel string `json:"channel"` // "webhook" or "email"
	Event   []byte `json:"event"`   // JSON
	// Attempts counts the claims of the message (deliveries tried).
	Attempts int `json:"attempts"`
	// CreatedAt is when the message was enqueued; NextAt when it may be
	// claimed (again).
	CreatedAt time.Time `json:"created_at"`
	NextAt    time.Time `json:"next_at"`
	// LastError is why the last attempt failed, "" if none did.
	LastError string `json:"last_error,omitempty"`
	// Dead marks a message that ran out of attempts: it is kept for
	// inspection and never claimed again.
	Dead bool `json:"dead,omitempty"`
}

// Stamp sets CreatedAt, where it is zero, to now and NextAt, where it is
// zero, to CreatedAt: what EnqueueOutbox does to a message it adds.
func (m *OutboxMessage) Stamp(now time.Time) {
	if m.CreatedAt.IsZero() {
		m.CreatedAt = now
	}
	if m.NextAt.IsZero() {
		m.NextAt = m.CreatedAt
	}
}

// CompareOutboxDue orders messages as ClaimOutbox returns them: the
// earliest NextAt first, then the lowest ID.
func CompareOutboxDue(a, b *OutboxMessage) int {
	if c := a.NextAt.Compare(b.NextAt); c != 0 {
		return c
	}
	return cmp.Compare(a.ID, b.ID)
}

// OutboxDepth counts the messages of an outbox.
type OutboxDepth struct {
	Pending int `json:"pending"` // waiting, leased or not
	Dead    int `json:"dead"`
}

// Outbox is a persistent queue of notifications, shared by every instance
// on one database: a message enqueued survives a restart, and a claimed
// message is leased to one owner at a time, so that two instances do not
// send it at once. Delivery is at least once: a message whose owner dies
// before CompleteOutbox is claimed again when its lease ends.
// storage/sqlite and storage/postgres implement it; storagetest.RunOutbox
// checks both and gatetest.Outbox fakes it.
//
// Every method may block on I/O and honours ctx; errors are as for Store.
type Outbox interface {
	// EnqueueOutbox adds msgs (setting their IDs, and CreatedAt and
	// NextAt where zero, to now) in one transaction. If the pending
	// messages would then number more than max (max > 0), it adds none
	// and returns ErrOutboxFull: the newest are refused and the messages
	// already waiting keep their place. A message whose Key is in the
	// outbox already is skipped, so enqueueing twice adds once.
	EnqueueOutbox(ctx context.Context, msgs []*OutboxMessage, max int) error
	// ClaimOutbox leases up to n messages that are not dead, whose NextAt
	// is at or before now and that no lease holds at now, to owner until
	// now+lease, the earliest NextAt first, and counts an attempt on
	// each. However many instances claim at once, a message is leased to
	// one owner at a time.
	ClaimOutbox(ctx context.Context, owner string, n int, now time.Time, lease time.Duration) ([]*OutboxMessage, error)
	// CompleteOutbox removes a delivered message. A message that is gone
	// already is no error.
	CompleteOutbox(ctx context.Context, id int64) error
	// RetryOutbox records a failed attempt of the message owner holds: it
	// is released to be claimed again at next, or marked dead (kept, never
	// claimed again) if dead. ErrConflict if owner no longer holds it (its
	// lease ended and another owner claimed it), ErrNotFound if it is gone.
	RetryOutbox(ctx context.Context, id int64, owner string, next time.Time, lastErr string, dead bool) error
	// OutboxDepth counts pending and dead messages.
	OutboxDepth(ctx context.Context) (OutboxDepth, error)
	// ListOutbox returns up to limit (0 means 100) dead (dead true) or
	// pending messages, oldest first.
	ListOutbox(ctx context.Context, dead bool, limit int) ([]*OutboxMessage, error)
	// PruneOutbox deletes the dead messages enqueued before before and
	// returns how many.
	PruneOutbox(ctx context.Context, before time.Time) (int64, error)
}
