package notify_test

import (
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/gate/gatetest"
	"github.com/vipgate/vipgate/notify"
)

func listen(t *testing.T) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// fire makes one of each event happen at gate hotline.
func fire(n *notify.Notifier) {
	n.CallFinished(&gate.CallRecord{GateID: "hotline", Source: "ari", ChannelID: "ch-1", Caller: "+4930111", Called: "+4930999",
		Active: true, Mode: gate.IdentTable, Verdict: gate.VerdictAskPIN, Attempts: 1, Outcome: gate.OutcomePINOK})
	n.LockoutSet(&gate.Lockout{GateID: "hotline", Caller: "+4930222", Until: time.Now().Add(time.Hour), Failures: 5, At: time.Now()})
	n.CallFinished(&gate.CallRecord{GateID: "hotline", Caller: "+4930333", Called: "+4930999", Active: true,
		Outcome: gate.OutcomeFailed, ErrorClass: "store", Target: "pass"})
	n.WebhookBreaker("hotline", true)
	// Not events: an inactive gate, a wrong PIN, a breaker closing, a call at no gate.
	n.CallFinished(&gate.CallRecord{GateID: "hotline", Caller: "+4930444", Active: false, Outcome: gate.OutcomePassed})
	n.CallFinished(&gate.CallRecord{GateID: "hotline", Caller: "+4930555", Active: true, Outcome: gate.OutcomePINFailed})
	n.WebhookBreaker("hotline", false)
	n.CallFinished(&gate.CallRecord{Caller: "+4930666", Outcome: gate.OutcomeFailed, ErrorClass: "store"})
}

var allKinds = []string{"breaker_opened", "decide_failed", "locked_out", "vip_passed"}

// TestEachEventThroughEachChannel: every event kind reaches an event
// webhook (signed, verified with webhook.Verify) and an SMTP server
// (STARTTLS, AUTH PLAIN), once each.
func TestEachEventThroughEachChannel(t *testing.T) {
	rcv := newReceiver(t, listen(t))
	mx := newSMTPServer(t)
	g := notifyGate(gate.NotifyRule{Name: "ops", Webhook: &gate.NotifyWebhook{URL: rcv.url, Secret: hookSecret},
		Email: &gate.NotifyEmail{To: []string{"ops@example.com", "boss@example.com"}}})
	h := start(t, g, nil, func(c *notify.Config) { c.SMTP = mx.config() })
	fire(h.n)
	eventually(t, "4 webhooks and 4 e-mails", func() bool { return len(rcv.got()) >= 4 && len(mx.got(t)) >= 4 })
	time.Sleep(100 * time.Millisecond) // nothing more arrives
	hooks, mails := rcv.got(), mx.got(t)
	var types []string
	keys := map[string]bool{}
	for _, d := range hooks {
		types = append(types, d.typ)
		if d.event.Type != d.typ || d.event.Gate.ID != "hotline" || d.event.Rule != "ops" || d.event.ID == "" || d.attempt != "1" {
			t.Errorf("delivery %+v: header and body disagree or miss fields", d)
		}
		if !strings.HasPrefix(d.key, d.event.ID+".ops.") || keys[d.key] {
			t.Errorf("idempotency key %q: want unique, from event %s", d.key, d.event.ID)
		}
		keys[d.key] = true
		switch d.typ {
		case "vip_passed":
			if d.event.Call == nil || d.event.Call.Caller != "+4930111" || d.event.Call.Outcome != gate.OutcomePINOK {
				t.Errorf("vip_passed event %s lacks the call", d.body)
			}
		case "locked_out":
			if d.event.Lockout == nil || d.event.Lockout.Caller != "+4930222" || d.event.Lockout.Failures != 5 {
				t.Errorf("locked_out event %s lacks the lockout", d.body)
			}
		case "decide_failed":
			if d.event.Reason != "store" || d.event.Call == nil {
				t.Errorf("decide_failed event %s lacks the reason", d.body)
			}
		case "breaker_opened":
			if d.event.Reason != "webhook" {
				t.Errorf("breaker_opened event %s lacks the reason", d.body)
			}
		}
	}
	slices.Sort(types)
	if fmt.Sprint(types) != fmt.Sprint(allKinds) {
		t.Errorf("webhook events = %v, want one of each %v", types, allKinds)
	}
	var subjects []string
	for _, m := range mails {
		if !m.tls || !m.auth || !strings.HasPrefix(m.from, "FROM:<vipgate@example.com>") || len(m.to) != 2 {
			t.Errorf("mail from %q to %v (tls %v, auth %v): want STARTTLS, login, both recipients", m.from, m.to, m.tls, m.auth)
		}
		for _, line := range strings.Split(m.data, "\n") {
			if s, ok := strings.CutPrefix(line, "Subject: "); ok {
				subjects = append(subjects, s)
			}
		}
		if !strings.Contains(m.data, "Message-ID: <") || !strings.Contains(m.data, notify.HeaderIdempotencyKey+": ") {
			t.Errorf("mail lacks its Message-ID or idempotency key:\n%s", m.data)
		}
	}
	slices.Sort(subjects)
	want := []string{"vipgate Hotline: VIP passed", "vipgate Hotline: caller locked out", "vipgate Hotline: gate failed to decide", "vipgate Hotline: webhook breaker opened"}
	if fmt.Sprint(subjects) != fmt.Sprint(want) {
		t.Errorf("mail subjects = %q, want %q", subjects, want)
	}
	if s := h.m.get(func(m *metrics) int { return m.sent["webhook"]*100 + m.sent["email"] }); s != 404 {
		t.Errorf("sent metrics = %d webhooks, %d e-mails; want 4 and 4", s/100, s%100)
	}
	checkRedacted(t, h, hooks, mails)
}

// checkRedacted: no secret (webhook signing key, SMTP password) and no PIN
// appears in an event body, an e-mail or a log line.
func checkRedacted(t *testing.T, h *harness, hooks []delivery, mails []mailMsg) {
	t.Helper()
	var texts []string
	for _, d := range hooks {
		texts = append(texts, d.body)
	}
	for _, m := range mails {
		texts = append(texts, m.data)
	}
	texts = append(texts, h.logs.String())
	for _, s := range texts {
		for _, secret := range []string{hookSecret, smtpPassword, "4711"} {
			if strings.Contains(s, secret) {
				t.Errorf("%q appears in a notification or log:\n%s", secret, s)
			}
		}
	}
}

// TestReceiverDownThenUp: the receiver's port is closed at first, then it
// answers 503, then it is up: every event arrives, none twice.
func TestReceiverDownThenUp(t *testing.T) {
	l := listen(t)
	addr := l.Addr().String()
	l.Close() // connection refused until reopened
	g := notifyGate(gate.NotifyRule{Name: "ops", Webhook: &gate.NotifyWebhook{URL: "http://" + addr + "/hooks/vipgate?tenant=7", Secret: hookSecret}})
	h := start(t, g, nil, nil)
	const n = 30
	for i := range n {
		h.n.CallFinished(&gate.CallRecord{GateID: "hotline", Caller: fmt.Sprintf("+49301%03d", i), Active: true, Outcome: gate.OutcomePINOK})
	}
	eventually(t, "failed attempts while the port is closed", func() bool { return h.m.get(func(m *metrics) int { return m.failed["webhook"] }) >= n })
	l2, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot listen on %s again: %v", addr, err)
	}
	rcv := newReceiver(t, l2)
	rcv.setDown(true)
	eventually(t, "503 answers", func() bool {
		rcv.mu.Lock()
		defer rcv.mu.Unlock()
		return rcv.refused >= 5
	})
	rcv.setDown(false)
	eventually(t, "every event", func() bool { return len(rcv.got()) >= n })
	time.Sleep(200 * time.Millisecond)
	got := rcv.got()
	seen := map[string]int{}
	callers := map[string]bool{}
	for _, d := range got {
		seen[d.key]++
		callers[d.event.Call.Caller] = true
	}
	for k, c := range seen {
		if c != 1 {
			t.Errorf("message %s arrived %d times, want once", k, c)
		}
	}
	if len(got) != n || len(callers) != n {
		t.Errorf("%d deliveries of %d events, want %d of %d", len(got), len(callers), n, n)
	}
	if d, _ := h.outbox.OutboxDepth(t.Context()); d != (gate.OutboxDepth{}) {
		t.Errorf("outbox after delivery = %+v, want empty", d)
	}
}

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// TestRateLimitSummary: beyond a rule's rate limit events are held back
// and sent as one summary when the minute ends.
func TestRateLimitSummary(t *testing.T) {
	rcv := newReceiver(t, listen(t))
	// Near the real time: the receiver checks the signature's timestamp.
	start0 := time.Now().UTC().Truncate(time.Minute)
	clk := &clock{t: start0.Add(5 * time.Second)}
	g := notifyGate(gate.NotifyRule{Name: "ops", RateLimit: 2, Webhook: &gate.NotifyWebhook{URL: rcv.url, Secret: hookSecret}})
	h := start(t, g, nil, func(c *notify.Config) { c.Now = clk.now })
	for range 5 {
		h.n.CallFinished(&gate.CallRecord{GateID: "hotline", Caller: "+4930111", Active: true, Outcome: gate.OutcomePINOK})
	}
	h.n.LockoutSet(&gate.Lockout{GateID: "hotline", Caller: "+4930222", Failures: 5, At: clk.now()})
	eventually(t, "two events", func() bool { return len(rcv.got()) >= 2 })
	time.Sleep(300 * time.Millisecond)
	if got := rcv.got(); len(got) != 2 {
		t.Fatalf("%d events within the minute, want 2 (the limit)", len(got))
	}
	clk.set(clk.now().Add(time.Minute))
	eventually(t, "the summary", func() bool { return len(rcv.got()) >= 3 })
	s := rcv.got()[2]
	if s.typ != notify.TypeSummary || s.event.Summary == nil || s.event.Summary.Suppressed["vip_passed"] != 3 || s.event.Summary.Suppressed["locked_out"] != 1 ||
		!s.event.Summary.From.Equal(start0) {
		t.Errorf("summary = %s, want 3 vip_passed and 1 locked_out held back from %v", s.body, start0)
	}
	time.Sleep(200 * time.Millisecond)
	if got := rcv.got(); len(got) != 3 {
		t.Errorf("%d deliveries, want 2 events and 1 summary", len(got))
	}
}

// TestQuietHours: an event in the quiet hours (gate time zone) waits in
// the outbox until they end; with action drop it is not sent.
func TestQuietHours(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	at := time.Date(2026, 12, 3, 23, 30, 0, 0, berlin) // 22:30 UTC
	clk := &clock{t: at}
	g := notifyGate(
		gate.NotifyRule{Name: "hold", Webhook: &gate.NotifyWebhook{URL: "http://127.0.0.1:9/x"}, QuietHours: &gate.QuietHours{From: "22:00", To: "07:00"}},
		gate.NotifyRule{Name: "drop", Webhook: &gate.NotifyWebhook{URL: "http://127.0.0.1:9/x"}, QuietHours: &gate.QuietHours{From: "22:00", To: "07:00", Action: gate.QuietDrop}},
		gate.NotifyRule{Name: "day", Webhook: &gate.NotifyWebhook{URL: "http://127.0.0.1:9/x"}, QuietHours: &gate.QuietHours{From: "09:00", To: "17:00"}},
	)
	h := start(t, g, nil, func(c *notify.Config) { c.Now = clk.now; c.Poll = time.Hour })
	h.n.WebhookBreaker("hotline", true)
	eventually(t, "the drop", func() bool { return h.m.get(func(m *metrics) int { return m.dropped[notify.DropQuiet] }) == 1 })
	var ms []*gate.OutboxMessage
	eventually(t, "two messages", func() bool {
		ms, _ = h.outbox.ListOutbox(t.Context(), false, 0)
		return len(ms) == 2
	})
	for _, m := range ms {
		switch m.Rule {
		case "hold":
			if want := time.Date(2026, 12, 4, 7, 0, 0, 0, berlin); !m.NextAt.Equal(want) || m.Attempts != 0 {
				t.Errorf("rule hold: next attempt at %v after %d attempts, want %v and none before", m.NextAt.In(berlin), m.Attempts, want)
			}
		case "day":
			eventually(t, "an attempt of rule day", func() bool {
				ms, _ := h.outbox.ListOutbox(t.Context(), false, 0)
				return slices.ContainsFunc(ms, func(m *gate.OutboxMessage) bool { return m.Rule == "day" && m.Attempts > 0 })
			})
		default:
			t.Errorf("message of rule %s", m.Rule)
		}
	}
}

func TestQuietHoursAcrossMidnightAndDST(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	q := &gate.QuietHours{From: "22:00", To: "07:00"}
	for _, tc := range []struct {
		at    time.Time
		quiet bool
		end   time.Time
	}{
		{time.Date(2026, 3, 28, 21, 59, 0, 0, berlin), false, time.Time{}},
		{time.Date(2026, 3, 28, 22, 0, 0, 0, berlin), true, time.Date(2026, 3, 29, 7, 0, 0, 0, berlin)}, // the night of the spring change
		{time.Date(2026, 3, 29, 6, 59, 0, 0, berlin), true, time.Date(2026, 3, 29, 7, 0, 0, 0, berlin)},
		{time.Date(2026, 3, 29, 7, 0, 0, 0, berlin), false, time.Time{}},
	} {
		end, quiet := q.Quiet(tc.at, berlin)
		if quiet != tc.quiet || !end.Equal(tc.end) {
			t.Errorf("Quiet(%v) = %v, %v; want %v, %v", tc.at, end, quiet, tc.end, tc.quiet)
		}
	}
	if end := time.Date(2026, 3, 29, 7, 0, 0, 0, berlin); end.Sub(time.Date(2026, 3, 28, 22, 0, 0, 0, berlin)) != 8*time.Hour {
		t.Errorf("the spring night is not 8 hours: the zone data differs")
	}
}

// TestOutboxBound: with the outbox at its bound the newest event is
// refused and counted; the waiting messages keep their place.
func TestOutboxBound(t *testing.T) {
	ob := gatetest.NewOutbox()
	old := time.Now().Add(time.Hour) // not due: the sender leaves them
	var msgs []*gate.OutboxMessage
	for i := range 3 {
		msgs = append(msgs, &gate.OutboxMessage{Key: fmt.Sprint("old-", i), GateID: "hotline", Rule: "ops", Channel: "webhook", Event: []byte(`{}`), NextAt: old})
	}
	if err := ob.EnqueueOutbox(t.Context(), msgs, 0); err != nil {
		t.Fatal(err)
	}
	g := notifyGate(gate.NotifyRule{Name: "ops", Webhook: &gate.NotifyWebhook{URL: "http://127.0.0.1:9/x"}})
	h := start(t, g, ob, func(c *notify.Config) { c.OutboxMax = 3 })
	h.n.WebhookBreaker("hotline", true)
	eventually(t, "the drop", func() bool { return h.m.get(func(m *metrics) int { return m.dropped[notify.DropFull] }) == 1 })
	ms, _ := ob.ListOutbox(t.Context(), false, 0)
	var keys []string
	for _, m := range ms {
		keys = append(keys, m.Key)
	}
	if fmt.Sprint(keys) != "[old-0 old-1 old-2]" {
		t.Errorf("outbox = %v, want the three older messages", keys)
	}
	eventually(t, "the depth metric", func() bool { return h.m.get(func(m *metrics) int { return m.depth.Pending }) == 3 })
	if !strings.Contains(h.logs.String(), "outbox full") {
		t.Errorf("no warning logged:\n%s", h.logs)
	}
}

// TestDeadLetter: a receiver that never accepts leaves the message dead
// after the last attempt, kept with its error.
func TestDeadLetter(t *testing.T) {
	rcv := newReceiver(t, listen(t))
	rcv.setDown(true)
	g := notifyGate(gate.NotifyRule{Name: "ops", Webhook: &gate.NotifyWebhook{URL: rcv.url, Secret: hookSecret}})
	h := start(t, g, nil, func(c *notify.Config) {
		c.MaxAttempts = 3
		c.Backoff = time.Millisecond
		c.MaxBackoff = 5 * time.Millisecond
	})
	h.n.WebhookBreaker("hotline", true)
	eventually(t, "the dead letter", func() bool { return h.m.get(func(m *metrics) int { return m.dead["webhook"] }) == 1 })
	dead, _ := h.outbox.ListOutbox(t.Context(), true, 0)
	if len(dead) != 1 || dead[0].Attempts != 3 || !strings.Contains(dead[0].LastError, "status 503") {
		t.Fatalf("dead letters = %+v, want one after 3 attempts with its error", dead)
	}
	if f := h.m.get(func(m *metrics) int { return m.failed["webhook"] }); f != 2 {
		t.Errorf("failed = %d, want 2 (then dead)", f)
	}
}
