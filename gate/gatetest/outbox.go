package gatetest

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/vipgate/vipgate/gate"
)

// Outbox is an in-memory gate.Outbox. Set an error with SetErr to make
// every method fail with it (a dead store). It is safe for concurrent
// use.
type Outbox struct {
	mu     sync.Mutex
	err    error
	nextID int64
	msgs   map[int64]*outboxRow
	now    func() time.Time
}

type outboxRow struct {
	m          gate.OutboxMessage
	owner      string
	leaseUntil time.Time
}

var _ gate.Outbox = (*Outbox)(nil)

// NewOutbox returns an empty Outbox.
func NewOutbox() *Outbox {
	return &Outbox{msgs: map[int64]*outboxRow{}, now: time.Now}
}

// SetErr makes every method fail with err (nil heals the outbox).
func (o *Outbox) SetErr(err error) {
	o.mu.Lock()
	o.err = err
	o.mu.Unlock()
}

func (o *Outbox) lock(ctx context.Context) error {
	o.mu.Lock()
	if o.err != nil {
		err := o.err
		o.mu.Unlock()
		return err
	}
	if ctx.Err() != nil {
		o.mu.Unlock()
		return fmt.Errorf("gatetest: %w", gate.ErrUnavailable)
	}
	return nil
}

func cloneMessage(m *gate.OutboxMessage) *gate.OutboxMessage {
	c := *m
	c.Event = slices.Clone(m.Event)
	return &c
}

// EnqueueOutbox implements gate.Outbox.
func (o *Outbox) EnqueueOutbox(ctx context.Context, msgs []*gate.OutboxMessage, max int) error {
	if err := o.lock(ctx); err != nil {
		return err
	}
	defer o.mu.Unlock()
	pending := 0
	keys := map[string]bool{}
	for _, r := range o.msgs {
		keys[r.m.Key] = true
		if !r.m.Dead {
			pending++
		}
	}
	if max > 0 && pending+len(msgs) > max {
		return fmt.Errorf("gatetest: enqueue outbox: %w", gate.ErrOutboxFull)
	}
	now := o.now().UTC()
	for _, m := range msgs {
		if keys[m.Key] {
			continue
		}
		keys[m.Key] = true
		m.Stamp(now)
		o.nextID++
		m.ID = o.nextID
		c := cloneMessage(m)
		c.Attempts, c.Dead, c.LastError = 0, false, ""
		o.msgs[m.ID] = &outboxRow{m: *c}
	}
	return nil
}

func (o *Outbox) sorted(keep func(r *outboxRow) bool) []*outboxRow {
	var rs []*outboxRow
	for _, r := range o.msgs {
		if keep(r) {
			rs = append(rs, r)
		}
	}
	slices.SortFunc(rs, func(a, b *outboxRow) int { return gate.CompareOutboxDue(&a.m, &b.m) })
	return rs
}

// ClaimOutbox implements gate.Outbox.
func (o *Outbox) ClaimOutbox(ctx context.Context, owner string, n int, now time.Time, lease time.Duration) ([]*gate.OutboxMessage, error) {
	if err := o.lock(ctx); err != nil {
		return nil, err
	}
	defer o.mu.Unlock()
	var out []*gate.OutboxMessage
	for _, r := range o.sorted(func(r *outboxRow) bool {
		return !r.m.Dead && !r.m.NextAt.After(now) && !r.leaseUntil.After(now)
	}) {
		if len(out) == n {
			break
		}
		r.owner, r.leaseUntil = owner, now.Add(lease)
		r.m.Attempts++
		out = append(out, cloneMessage(&r.m))
	}
	return out, nil
}

// CompleteOutbox implements gate.Outbox.
func (o *Outbox) CompleteOutbox(ctx context.Context, id int64) error {
	if err := o.lock(ctx); err != nil {
		return err
	}
	defer o.mu.Unlock()
	delete(o.msgs, id)
	return nil
}

// RetryOutbox implements gate.Outbox.
func (o *Outbox) RetryOutbox(ctx context.Context, id int64, owner string, next time.Time, lastErr string, dead bool) error {
	if err := o.lock(ctx); err != nil {
		return err
	}
	defer o.mu.Unlock()
	r, ok := o.msgs[id]
	if !ok {
		return fmt.Errorf("gatetest: retry outbox %d: %w", id, gate.ErrNotFound)
	}
	if r.owner != owner {
		return fmt.Errorf("gatetest: retry outbox %d: %w", id, gate.ErrConflict)
	}
	r.m.NextAt, r.m.LastError, r.m.Dead = next.UTC(), lastErr, dead
	r.owner, r.leaseUntil = "", time.Time{}
	return nil
}

// OutboxDepth implements gate.Outbox.
func (o *Outbox) OutboxDepth(ctx context.Context) (gate.OutboxDepth, error) {
	var d gate.OutboxDepth
	if err := o.lock(ctx); err != nil {
		return d, err
	}
	defer o.mu.Unlock()
	for _, r := range o.msgs {
		if r.m.Dead {
			d.Dead++
		} else {
			d.Pending++
		}
	}
	return d, nil
}

// ListOutbox implements gate.Outbox.
func (o *Outbox) ListOutbox(ctx context.Context, dead bool, limit int) ([]*gate.OutboxMessage, error) {
	if err := o.lock(ctx); err != nil {
		return nil, err
	}
	defer o.mu.Unlock()
	if limit <= 0 {
		limit = 100
	}
	rs := o.sorted(func(r *outboxRow) bool { return r.m.Dead == dead })
	slices.SortStableFunc(rs, func(a, b *outboxRow) int {
		if c := a.m.CreatedAt.Compare(b.m.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.m.ID, b.m.ID)
	})
	var out []*gate.OutboxMessage
	for _, r := range rs[:min(limit, len(rs))] {
		out = append(out, cloneMessage(&r.m))
	}
	return out, nil
}

// PruneOutbox implements gate.Outbox.
func (o *Outbox) PruneOutbox(ctx context.Context, before time.Time) (int64, error) {
	if err := o.lock(ctx); err != nil {
		return 0, err
	}
	defer o.mu.Unlock()
	var n int64
	for id, r := range o.msgs {
		if r.m.Dead && r.m.CreatedAt.Before(before) {
			delete(o.msgs, id)
			n++
		}
	}
	return n, nil
}
