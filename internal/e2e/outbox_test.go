package e2e_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vipgate/vipgate/internal/e2e"
	"github.com/vipgate/vipgate/notify"
	"github.com/vipgate/vipgate/webhook"
)

const eventSecret = "event-hook-secret-5b1d90"

// eventReceiver is an event webhook on loopback that answers 503 while
// down and records the accepted deliveries by idempotency key.
type eventReceiver struct {
	mu       sync.Mutex
	down     bool
	refused  int
	accepted map[string]int
	types    map[string]int
	bad      []string
	srv      *httptest.Server
}

func newEventReceiver(t *testing.T) *eventReceiver {
	r := &eventReceiver{down: true, accepted: map[string]int{}, types: map[string]int{}}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.down {
			r.refused++
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		if err := webhook.Verify([]byte(eventSecret), req, body, 0, time.Now()); err != nil {
			r.bad = append(r.bad, err.Error())
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var e notify.Event
		if err := json.Unmarshal(body, &e); err != nil || e.Gate.ID != "hook" {
			r.bad = append(r.bad, "body "+string(body))
		}
		key := req.Header.Get(notify.HeaderIdempotencyKey)
		if r.accepted[key] == 0 {
			r.types[e.Type]++
		}
		r.accepted[key]++
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *eventReceiver) state() (refused, distinct int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.refused, len(r.accepted)
}

// agiCall plays Asterisk for one FastAGI call to gate: it sends the
// session header and answers every command with success (and no digits)
// until vipgate ends the session.
func agiCall(addr, gateName, caller, id string) error {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	fmt.Fprintf(c, "agi_network: yes\nagi_network_script: %s\nagi_request: agi://%s/%s\nagi_channel: PJSIP/test-%s\nagi_language: en\n"+
		"agi_type: PJSIP\nagi_uniqueid: 1700000000.%s\nagi_callerid: %s\nagi_calleridname: Test\nagi_dnid: 6000\nagi_context: default\n"+
		"agi_extension: 6000\nagi_priority: 1\n\n", gateName, addr, gateName, id, id, caller)
	br := bufio.NewReader(c)
	for {
		line, err := br.ReadString('\n')
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if strings.TrimSpace(line) == "" {
			continue
		}
		if _, err := io.WriteString(c, "200 result=1\n"); err != nil {
			return nil // vipgate closed the session
		}
	}
}

// TestE2EOutboxSurvivesKill: events of the real binary wait in the outbox
// while their receiver is down; serve is killed with SIGKILL, the
// receiver comes up, serve starts again, and every event arrives, none
// twice. The events come from FastAGI calls this test makes itself (no
// Asterisk needed): a webhook gate whose webhook cannot be reached fails
// to decide each call, and its breaker opens.
func TestE2EOutboxSurvivesKill(t *testing.T) {
	bin := e2e.BuildVipgate(t)
	vg := e2e.NewServe(t, bin, nil, "")
	rcv := newEventReceiver(t)
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadURL := "http://" + dead.Addr().String()
	dead.Close()
	gateFile := filepath.Join(vg.Home, "hook.yaml")
	if err := os.WriteFile(gateFile, []byte(fmt.Sprintf(`id: hook
name: CRM decides
enabled: true
match: {numbers: ["6000"]}
activation: {mode: always}
identification:
  mode: webhook
  region: DE
  webhook: {url: "%s/decide?caller=###CALLER_NUMBER###", timeout: 1s, breaker_failures: 3, breaker_cooldown: 10m}
failure: {action: pass}
notify:
  - name: ops
    events: [decide_failed, breaker_opened]
    webhook: {url: "%s/events?tenant=7", secret: "%s"}
`, deadURL, rcv.srv.URL, eventSecret)), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := vg.Run("gates", "import", gateFile); err != nil {
		t.Fatal(err)
	}
	flags := []string{"--notify-lease", "3s", "--notify-poll", "50ms"}
	if err := vg.Start(flags...); err != nil {
		t.Fatal(err)
	}
	const calls = 6
	for i := range calls {
		if err := agiCall(vg.AGIAddr, "hook", fmt.Sprintf("+4930555%03d", i), fmt.Sprint(i)); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	// Every call failed to decide, and the breaker opened once: 7 events,
	// each tried at least once against the receiver that is down.
	const want = calls + 1
	deadline := time.Now().Add(30 * time.Second)
	for {
		m, _, err := vg.Metrics("vipgate_notify_outbox_messages")
		if refused, _ := rcv.state(); err == nil && m["vipgate_notify_outbox_messages"] == want && refused >= want {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the outbox did not hold %d messages tried against the receiver within 30s: %v, %v", want, m, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	vg.Kill()
	if _, got := rcv.state(); got != 0 {
		t.Fatalf("%d events accepted before the kill, want none (the receiver was down)", got)
	}
	rcv.mu.Lock()
	rcv.down = false
	rcv.mu.Unlock()
	if err := vg.Start(flags...); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(60 * time.Second)
	for {
		if _, got := rcv.state(); got >= want {
			break
		}
		if time.Now().After(deadline) {
			_, got := rcv.state()
			t.Fatalf("%d of %d events arrived after the restart within 60s", got, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(time.Second) // nothing more arrives
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	if len(rcv.bad) > 0 {
		t.Errorf("the receiver refused deliveries: %v", rcv.bad)
	}
	for k, n := range rcv.accepted {
		if n != 1 {
			t.Errorf("event %s arrived %d times, want once", k, n)
		}
	}
	if len(rcv.accepted) != want || rcv.types["decide_failed"] != calls || rcv.types["breaker_opened"] != 1 {
		t.Errorf("events = %v (%d distinct), want %d decide_failed and 1 breaker_opened", rcv.types, len(rcv.accepted), calls)
	}
	b, _ := os.ReadFile(vg.Log)
	if strings.Contains(string(b), eventSecret) {
		t.Error("the event webhook's secret appears in serve's log")
	}
}
