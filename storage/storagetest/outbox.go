package storagetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
)

// RunOutbox runs the conformance suite of gate.Outbox. open must return
// a fresh, empty outbox and a second handle on the same database (a
// second Store, as another instance would open it; a store that cannot
// be shared may return the same one twice), and arrange for both to be
// closed.
func RunOutbox(t *testing.T, open func(t *testing.T) (a, b gate.Outbox)) {
	tests := []struct {
		name string
		fn   func(t *testing.T, a, b gate.Outbox)
	}{
		{"ClaimComplete", testOutboxClaimComplete},
		{"Defaults", testOutboxDefaults},
		{"IdempotentKey", testOutboxKey},
		{"Bound", testOutboxBound},
		{"RetryDead", testOutboxRetryDead},
		{"Later", testOutboxLater},
		{"ConcurrentClaims", testOutboxConcurrentClaims},
	}
	for _, tc := range tests {
		t.Run("Outbox/"+tc.name, func(t *testing.T) {
			a, b := open(t)
			tc.fn(t, a, b)
		})
	}
}

func outboxMsg(i int, at time.Time) *gate.OutboxMessage {
	return &gate.OutboxMessage{
		Key: fmt.Sprintf("key-%d", i), GateID: "hotline", Rule: "ops", Channel: "webhook",
		Event: []byte(fmt.Sprintf(`{"n":%d}`, i)), CreatedAt: at, NextAt: at,
	}
}

func enqueue(t *testing.T, o gate.Outbox, max int, msgs ...*gate.OutboxMessage) {
	t.Helper()
	if err := o.EnqueueOutbox(ctx(t), msgs, max); err != nil {
		t.Fatalf("enqueue: %v", err)
	}
}

func claim(t *testing.T, o gate.Outbox, owner string, n int, now time.Time) []*gate.OutboxMessage {
	t.Helper()
	ms, err := o.ClaimOutbox(ctx(t), owner, n, now, time.Minute)
	if err != nil {
		t.Fatalf("claim: %v", err)
	}
	return ms
}

func keys(ms []*gate.OutboxMessage) []string {
	var ks []string
	for _, m := range ms {
		ks = append(ks, m.Key)
	}
	return ks
}

func depth(t *testing.T, o gate.Outbox) gate.OutboxDepth {
	t.Helper()
	d, err := o.OutboxDepth(ctx(t))
	if err != nil {
		t.Fatalf("depth: %v", err)
	}
	return d
}

func testOutboxClaimComplete(t *testing.T, o, _ gate.Outbox) {
	m1, m2, m3 := outboxMsg(1, t0), outboxMsg(2, t0.Add(time.Second)), outboxMsg(3, t0.Add(2*time.Second))
	enqueue(t, o, 0, m1, m2, m3)
	if m1.ID == 0 || m2.ID == 0 || m1.ID == m2.ID {
		t.Fatalf("enqueue set IDs %d, %d; want distinct IDs", m1.ID, m2.ID)
	}
	if d := depth(t, o); d != (gate.OutboxDepth{Pending: 3}) {
		t.Fatalf("depth after enqueue = %+v, want 3 pending", d)
	}
	now := t0.Add(time.Hour)
	got := claim(t, o, "a", 2, now)
	if fmt.Sprint(keys(got)) != "[key-1 key-2]" {
		t.Fatalf("first claim = %v, want the two oldest", keys(got))
	}
	g := got[0]
	if g.ID != m1.ID || g.GateID != "hotline" || g.Rule != "ops" || g.Channel != "webhook" || string(g.Event) != `{"n":1}` ||
		g.Attempts != 1 || !g.CreatedAt.Equal(t0) || !g.NextAt.Equal(t0) {
		t.Fatalf("claimed message = %+v, want message 1 as enqueued with 1 attempt", g)
	}
	if got := claim(t, o, "b", 5, now); fmt.Sprint(keys(got)) != "[key-3]" {
		t.Fatalf("second claim = %v, want only the unleased message 3", keys(got))
	}
	if got := claim(t, o, "b", 5, now.Add(59*time.Second)); len(got) != 0 {
		t.Fatalf("claim within the leases = %v, want none", keys(got))
	}
	if err := o.CompleteOutbox(ctx(t), m1.ID); err != nil {
		t.Fatalf("complete: %v", err)
	}
	if err := o.CompleteOutbox(ctx(t), m1.ID); err != nil {
		t.Fatalf("complete twice: %v, want no error", err)
	}
	if d := depth(t, o); d.Pending != 2 {
		t.Fatalf("depth after complete = %+v, want 2 pending", d)
	}
	// The leases end: the undelivered messages are claimed again.
	got = claim(t, o, "c", 5, now.Add(time.Minute))
	if fmt.Sprint(keys(got)) != "[key-2 key-3]" || got[0].Attempts != 2 {
		t.Fatalf("claim after the leases = %v (attempts %d), want messages 2 and 3 with a second attempt", keys(got), got[0].Attempts)
	}
	if got, err := o.ClaimOutbox(ctx(t), "c", 0, now.Add(time.Hour), time.Minute); err != nil || len(got) != 0 {
		t.Fatalf("claim of 0 = %v, %v; want none", keys(got), err)
	}
}

func testOutboxDefaults(t *testing.T, o, _ gate.Outbox) {
	m := outboxMsg(1, time.Time{})
	before := time.Now().Add(-time.Second)
	enqueue(t, o, 0, m)
	if m.CreatedAt.Before(before) || !m.NextAt.Equal(m.CreatedAt) {
		t.Fatalf("enqueue without times set CreatedAt %v, NextAt %v; want now and the same", m.CreatedAt, m.NextAt)
	}
	if got := claim(t, o, "a", 1, time.Now().Add(time.Second)); len(got) != 1 {
		t.Fatalf("claim = %v, want the message enqueued now", keys(got))
	}
}

func testOutboxKey(t *testing.T, o, _ gate.Outbox) {
	enqueue(t, o, 0, outboxMsg(1, t0))
	dup := outboxMsg(1, t0)
	dup.Event = []byte(`{"n":"again"}`)
	enqueue(t, o, 0, dup, outboxMsg(2, t0))
	got := claim(t, o, "a", 5, t0)
	if fmt.Sprint(keys(got)) != "[key-1 key-2]" || string(got[0].Event) != `{"n":1}` {
		t.Fatalf("claim = %v (first event %s), want each key once, the first enqueue kept", keys(got), got[0].Event)
	}
}

func testOutboxBound(t *testing.T, o, _ gate.Outbox) {
	enqueue(t, o, 3, outboxMsg(1, t0), outboxMsg(2, t0))
	err := o.EnqueueOutbox(ctx(t), []*gate.OutboxMessage{outboxMsg(3, t0), outboxMsg(4, t0)}, 3)
	if !errors.Is(err, gate.ErrOutboxFull) || !errors.Is(err, gate.ErrUnavailable) {
		t.Fatalf("enqueue beyond the bound: %v, want ErrOutboxFull (and ErrUnavailable)", err)
	}
	noDriverText(t, "enqueue beyond the bound", err)
	if d := depth(t, o); d.Pending != 2 {
		t.Fatalf("depth after a refused enqueue = %+v, want the 2 from before (all or nothing)", d)
	}
	enqueue(t, o, 3, outboxMsg(3, t0))
	// Dead messages do not count against the bound.
	ms := claim(t, o, "a", 1, t0)
	if err := o.RetryOutbox(ctx(t), ms[0].ID, "a", t0, "gave up", true); err != nil {
		t.Fatalf("retry dead: %v", err)
	}
	enqueue(t, o, 3, outboxMsg(4, t0))
	if d := depth(t, o); d != (gate.OutboxDepth{Pending: 3, Dead: 1}) {
		t.Fatalf("depth = %+v, want 3 pending and 1 dead", d)
	}
	if err := o.EnqueueOutbox(ctx(t), []*gate.OutboxMessage{outboxMsg(5, t0)}, 3); !errors.Is(err, gate.ErrOutboxFull) {
		t.Fatalf("enqueue into a full outbox: %v, want ErrOutboxFull", err)
	}
}

func testOutboxRetryDead(t *testing.T, o, _ gate.Outbox) {
	enqueue(t, o, 0, outboxMsg(1, t0), outboxMsg(2, t0))
	ms := claim(t, o, "a", 2, t0)
	if err := o.RetryOutbox(ctx(t), ms[0].ID, "b", t0, "x", false); !errors.Is(err, gate.ErrConflict) {
		t.Fatalf("retry by another owner: %v, want ErrConflict", err)
	}
	if err := o.RetryOutbox(ctx(t), 1<<40, "a", t0, "x", false); !errors.Is(err, gate.ErrNotFound) {
		t.Fatalf("retry of a missing message: %v, want ErrNotFound", err)
	}
	next := t0.Add(time.Minute)
	if err := o.RetryOutbox(ctx(t), ms[0].ID, "a", next, "status 503", false); err != nil {
		t.Fatalf("retry: %v", err)
	}
	if err := o.RetryOutbox(ctx(t), ms[1].ID, "a", t0, "status 410", true); err != nil {
		t.Fatalf("retry dead: %v", err)
	}
	if got := claim(t, o, "c", 5, next.Add(-time.Microsecond)); len(got) != 0 {
		t.Fatalf("claim before the next attempt = %v, want none (released, but not due; dead never)", keys(got))
	}
	got := claim(t, o, "c", 5, next)
	if fmt.Sprint(keys(got)) != "[key-1]" || got[0].Attempts != 2 || got[0].LastError != "status 503" {
		t.Fatalf("claim at the next attempt = %+v, want message 1, attempt 2, its last error", got)
	}
	if d := depth(t, o); d != (gate.OutboxDepth{Pending: 1, Dead: 1}) {
		t.Fatalf("depth = %+v, want 1 pending, 1 dead", d)
	}
	dead, err := o.ListOutbox(ctx(t), true, 0)
	if err != nil || len(dead) != 1 || dead[0].Key != "key-2" || !dead[0].Dead || dead[0].LastError != "status 410" || dead[0].Attempts != 1 {
		t.Fatalf("list dead = %+v, %v; want message 2, dead, its error", dead, err)
	}
	pending, err := o.ListOutbox(ctx(t), false, 0)
	if err != nil || fmt.Sprint(keys(pending)) != "[key-1]" {
		t.Fatalf("list pending = %v, %v; want message 1", keys(pending), err)
	}
	if n, err := o.PruneOutbox(ctx(t), t0); err != nil || n != 0 {
		t.Fatalf("prune before the dead message = %d, %v; want 0", n, err)
	}
	if n, err := o.PruneOutbox(ctx(t), t0.Add(time.Second)); err != nil || n != 1 {
		t.Fatalf("prune = %d, %v; want the dead message", n, err)
	}
	if d := depth(t, o); d != (gate.OutboxDepth{Pending: 1}) {
		t.Fatalf("depth after prune = %+v, want the pending message only", d)
	}
}

func testOutboxLater(t *testing.T, o, _ gate.Outbox) {
	m := outboxMsg(1, t0)
	m.NextAt = t0.Add(8 * time.Hour) // held back, e.g. by quiet hours
	enqueue(t, o, 0, m)
	if got := claim(t, o, "a", 1, t0.Add(time.Hour)); len(got) != 0 {
		t.Fatalf("claim before NextAt = %v, want none", keys(got))
	}
	if got := claim(t, o, "a", 1, t0.Add(8*time.Hour)); len(got) != 1 {
		t.Fatalf("claim at NextAt = %v, want the message", keys(got))
	}
}

// testOutboxConcurrentClaims claims from two handles (two instances on one
// database) at once: every message is claimed exactly once.
func testOutboxConcurrentClaims(t *testing.T, a, b gate.Outbox) {
	const n = 120
	var msgs []*gate.OutboxMessage
	for i := range n {
		msgs = append(msgs, outboxMsg(i, t0))
	}
	enqueue(t, a, 0, msgs...)
	var (
		mu      sync.Mutex
		claimed = map[string]int{}
		wg      sync.WaitGroup
		errs    = make(chan error, 8)
	)
	for w := range 8 {
		o := a
		if w%2 == 1 {
			o = b
		}
		owner := fmt.Sprintf("worker-%d", w)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				ms, err := o.ClaimOutbox(ctx(t), owner, 3, t0, time.Hour)
				if err != nil {
					errs <- err
					return
				}
				if len(ms) == 0 {
					return
				}
				mu.Lock()
				for _, m := range ms {
					claimed[m.Key]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent claim: %v", err)
	}
	if len(claimed) != n {
		t.Errorf("%d distinct messages claimed, want %d", len(claimed), n)
	}
	for k, c := range claimed {
		if c != 1 {
			t.Errorf("message %s claimed %d times, want once", k, c)
		}
	}
}
