package notify_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/notify"
	"github.com/vipgate/vipgate/storage/postgres"
	"github.com/vipgate/vipgate/storage/sqlite"
)

// sharedStore is a store that implements the outbox.
type sharedStore interface {
	gate.Store
	gate.Outbox
}

// TestTwoInstancesShareTheOutbox runs two notifiers on two handles of one
// database, as two vipgate instances would, with events offered to both:
// every event arrives once, none is sent by both. SQLite always;
// PostgreSQL with VIPGATE_TEST_POSTGRES_DSN.
func TestTwoInstancesShareTheOutbox(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "vipgate.db")
		twoInstances(t, func() sharedStore {
			s, err := sqlite.Open(context.Background(), path, sqlite.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		})
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := os.Getenv("VIPGATE_TEST_POSTGRES_DSN")
		if dsn == "" {
			t.Skip("set VIPGATE_TEST_POSTGRES_DSN to run against PostgreSQL")
		}
		schemaDSN := pgSchema(t, dsn)
		twoInstances(t, func() sharedStore {
			s, err := postgres.Open(context.Background(), schemaDSN, postgres.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		})
	})
}

func pgSchema(t *testing.T, dsn string) string {
	t.Helper()
	b := make([]byte, 6)
	rand.Read(b)
	name := "vipgate_test_notify_" + hex.EncodeToString(b)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), dsn)
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		_, _ = c.Exec(context.Background(), `DROP SCHEMA `+pgx.Identifier{name}.Sanitize()+` CASCADE`)
	})
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + "search_path=" + name
}

func twoInstances(t *testing.T, open func() sharedStore) {
	rcv := newReceiver(t, listen(t))
	a, b := open(), open()
	g := notifyGate(gate.NotifyRule{Name: "ops", Webhook: &gate.NotifyWebhook{URL: rcv.url, Secret: hookSecret}})
	g.Normalize()
	if err := a.CreateGate(t.Context(), g); err != nil {
		t.Fatal(err)
	}
	// The second instance sees the gate within a second (its cache).
	eventually(t, "the gate on the second instance", func() bool { _, err := b.GetGate(t.Context(), "hotline"); return err == nil })
	var ns []*notify.Notifier
	ms := []*metrics{newMetrics(), newMetrics()}
	for i, s := range []sharedStore{a, b} {
		n := notify.New(notify.Config{Gates: s, Outbox: s, Owner: fmt.Sprint("instance-", i), Poll: 5 * time.Millisecond, Batch: 2, Metrics: ms[i],
			Backoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); n.Run(ctx) }()
		t.Cleanup(func() { cancel(); <-done })
		ns = append(ns, n)
	}
	const events = 60
	for i := range events {
		ns[i%2].CallFinished(&gate.CallRecord{GateID: "hotline", Caller: fmt.Sprintf("+49301%03d", i), Active: true, Outcome: gate.OutcomePINOK})
	}
	eventually(t, "every event", func() bool { return len(rcv.got()) >= events })
	time.Sleep(300 * time.Millisecond)
	got := rcv.got()
	seen := map[string]int{}
	for _, d := range got {
		seen[d.key]++
	}
	for k, c := range seen {
		if c != 1 {
			t.Errorf("message %s delivered %d times, want once", k, c)
		}
	}
	if len(got) != events || len(seen) != events {
		t.Errorf("%d deliveries of %d messages, want %d of %d", len(got), len(seen), events, events)
	}
	t.Logf("sent by instance 0: %d, by instance 1: %d", ms[0].get(func(m *metrics) int { return m.sent["webhook"] }), ms[1].get(func(m *metrics) int { return m.sent["webhook"] }))
	if d, err := a.OutboxDepth(t.Context()); err != nil || d != (gate.OutboxDepth{}) {
		t.Errorf("outbox after delivery = %+v, %v; want empty", d, err)
	}
}
