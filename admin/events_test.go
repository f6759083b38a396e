package admin_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/vipgate/vipgate/admin"
	"github.com/vipgate/vipgate/admin/admintest"
	"github.com/vipgate/vipgate/events"
	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/gate/gatetest"
)

// eventEnv is an admin API with a live event hub that a Flow publishes to.
type eventEnv struct {
	srv    *httptest.Server
	hub    *events.Hub
	flow   *gate.Flow
	viewer string
	admin  string
	logs   *lockedBuffer
}

func newEventEnv(t *testing.T, cfg events.Config, keepalive, writeTimeout time.Duration) *eventEnv {
	t.Helper()
	st := openStore(t)
	h := admintest.Hasher(t)
	m := admin.NewMetrics()
	hub := events.NewHub(cfg)
	m.WatchEvents(hub)
	eng := gate.NewEngine(gate.EngineConfig{Store: st, Hasher: h, Region: "DE"})
	e := &eventEnv{hub: hub, logs: &lockedBuffer{}}
	e.flow = gate.NewFlow(eng, gate.FlowConfig{Log: st, Counters: st, Observer: gate.Observers{m, hub}})
	e.srv = httptest.NewServer(admin.NewServer(admin.Deps{Store: st, Engine: eng, Hasher: h, Metrics: m, Region: "DE",
		Logger: slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Events: hub, EventKeepalive: keepalive, EventWriteTimeout: writeTimeout}))
	t.Cleanup(e.srv.Close)
	for _, role := range []gate.Role{gate.RoleViewer, gate.RoleAdmin} {
		clear, tok, err := admin.NewToken(role, "events test")
		if err != nil {
			t.Fatal(err)
		}
		if err := st.CreateToken(context.Background(), tok); err != nil {
			t.Fatal(err)
		}
		if role == gate.RoleViewer {
			e.viewer = clear
		} else {
			e.admin = clear
		}
	}
	g := staticGate("vip", "73914682")
	g["lockout"] = map[string]any{"max_failures": 1, "window": "1h", "duration": "1h"}
	b, _ := json.Marshal(g)
	req, _ := http.NewRequest("POST", e.srv.URL+"/api/v1/gates", strings.NewReader(string(b)))
	req.Header.Set("Authorization", "Bearer "+e.admin)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("create gate: %s", res.Status)
	}
	return e
}

func (e *eventEnv) call(t *testing.T, caller string, digits ...string) gate.Outcome {
	t.Helper()
	var steps []gatetest.Step
	for _, d := range digits {
		steps = append(steps, gatetest.Step{Digits: d, Terminated: true})
	}
	c := &gatetest.Call{CallInfo: gate.CallInfo{ID: "c", Source: "agi", Caller: caller, Called: "+4930123456"}, Steps: steps}
	return e.flow.Run(context.Background(), c).Outcome
}

// sseEvent is one parsed Server-Sent Event (or comment).
type sseEvent struct {
	id, event, data, comment string
}

// sseStream reads events from an open stream, tee'ing the raw bytes.
type sseStream struct {
	res *http.Response
	rd  *bufio.Reader
	raw strings.Builder
}

func (e *eventEnv) open(t *testing.T, token, query string, header ...string) *sseStream {
	t.Helper()
	req, _ := http.NewRequest("GET", e.srv.URL+"/api/v1/events"+query, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	return &sseStream{res: res, rd: bufio.NewReader(res.Body)}
}

// next reads the next event or comment; io.EOF at the end of the stream.
func (s *sseStream) next() (sseEvent, error) {
	var ev sseEvent
	for {
		line, err := s.rd.ReadString('\n')
		s.raw.WriteString(line)
		if err != nil {
			return ev, err
		}
		line = strings.TrimSuffix(line, "\n")
		if line == "" {
			if ev != (sseEvent{}) {
				return ev, nil
			}
			continue
		}
		k, v, _ := strings.Cut(line, ":")
		v = strings.TrimPrefix(v, " ")
		switch k {
		case "":
			ev.comment = v
		case "id":
			ev.id = v
		case "event":
			ev.event = v
		case "data":
			ev.data += v
		}
	}
}

// nextCall skips comments and the retry hint and returns the next event.
func (s *sseStream) nextEvent(t *testing.T) sseEvent {
	t.Helper()
	for {
		ev, err := s.next()
		if err != nil {
			t.Fatalf("stream ended: %v (read %q)", err, s.raw.String())
		}
		if ev.event != "" {
			return ev
		}
	}
}

func decodeCall(t *testing.T, ev sseEvent) events.Event {
	t.Helper()
	if ev.event != "call" {
		t.Fatalf("event %q, want call", ev.event)
	}
	var e events.Event
	if err := json.Unmarshal([]byte(ev.data), &e); err != nil {
		t.Fatalf("decode %q: %v", ev.data, err)
	}
	if fmt.Sprint(e.ID) != ev.id {
		t.Errorf("id field %q, data id %d", ev.id, e.ID)
	}
	return e
}

// TestEventStream follows GET /api/v1/events while calls are decided: each
// decision arrives as a "call" event, with no PIN and no typed digits, a
// gate filter and Last-Event-ID work, and the stream needs a token.
func TestEventStream(t *testing.T) {
	t.Parallel()
	e := newEventEnv(t, events.Config{}, 50*time.Millisecond, 0)

	if s := e.open(t, "", ""); s.res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("no token: %s", s.res.Status)
	}
	if s := e.open(t, e.viewer, "?gate=No%20Such"); s.res.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("bad gate: %s", s.res.Status)
	}
	if s := e.open(t, e.viewer, "", "Last-Event-ID", "x"); s.res.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("bad Last-Event-ID: %s", s.res.Status)
	}

	s := e.open(t, e.viewer, "")
	if s.res.StatusCode != http.StatusOK || s.res.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("stream: %s %q", s.res.Status, s.res.Header.Get("Content-Type"))
	}
	// An idle stream sends keepalive comments.
	for {
		ev, err := s.next()
		if err != nil {
			t.Fatal(err)
		}
		if ev.comment == "keepalive" {
			break
		}
	}
	other := e.open(t, e.viewer, "?gate=other")

	wrong, typed := "11112222", "73914682"
	if o := e.call(t, "+4917612345678", wrong, typed); o != gate.OutcomePINOK {
		t.Fatalf("call: %s", o)
	}
	if o := e.call(t, "+4917699999999", wrong, "33334444", "55556666"); o != gate.OutcomePINFailed {
		t.Fatalf("call: %s", o)
	}
	if o := e.call(t, "+4917699999999"); o != gate.OutcomeLockedOut {
		t.Fatalf("call: %s", o)
	}
	want := []struct {
		caller  string
		outcome gate.Outcome
		tries   int
	}{{"+4917612345678", gate.OutcomePINOK, 2}, {"+4917699999999", gate.OutcomePINFailed, 3}, {"+4917699999999", gate.OutcomeLockedOut, 0}}
	var last events.Event
	for i, w := range want {
		ev := decodeCall(t, s.nextEvent(t))
		c := ev.Call
		if ev.ID != uint64(i+1) || c == nil || c.GateID != "vip" || c.Caller != w.caller || c.Outcome != w.outcome || c.Attempts != w.tries || c.Called != "+4930123456" {
			t.Errorf("event %d: %+v %+v", i, ev, c)
		}
		last = ev
	}
	for _, secret := range []string{wrong, typed, "33334444", "55556666"} {
		if strings.Contains(s.raw.String(), secret) {
			t.Errorf("the event stream carries the digits %s", secret)
		}
	}

	// A client that reconnects after event 1 gets 2 and 3 again.
	again := e.open(t, e.viewer, "", "Last-Event-ID", "1")
	for _, id := range []uint64{2, 3} {
		if ev := decodeCall(t, again.nextEvent(t)); ev.ID != id {
			t.Errorf("replay: event %d, want %d", ev.ID, id)
		}
	}
	_ = last

	// The stream of another gate saw none of them: its next event is
	// the first call at gate "other"; here there is none, so it only
	// sends keepalives.
	if ev, err := other.next(); err != nil || ev.event != "" {
		t.Errorf("gate=other: %+v %v, want only comments", ev, err)
	}

	// Stopping vipgate ends the streams.
	e.hub.Close()
	for {
		if _, err := s.next(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("after Close: %v", err)
		}
	}
	if r := e.open(t, e.viewer, ""); r.res.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("after Close: %s, want 503", r.res.Status)
	}
}

// TestEventStreamSlowClient: a client that stops reading is dropped once
// its buffer is full, while calls go on being published and a client that
// keeps reading receives every event in order.
func TestEventStreamSlowClient(t *testing.T) {
	t.Parallel()
	e := newEventEnv(t, events.Config{Buffer: 16}, time.Hour, 200*time.Millisecond)

	// The slow client sends its request over a bare connection with a
	// small receive buffer and then reads nothing.
	addr := strings.TrimPrefix(e.srv.URL, "http://")
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.(*net.TCPConn).SetReadBuffer(4096)
	fmt.Fprintf(conn, "GET /api/v1/events HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n\r\n", addr, e.viewer)

	fast := e.open(t, e.viewer, "")
	if fast.res.StatusCode != http.StatusOK {
		t.Fatal(fast.res.Status)
	}
	for e.hub.Subscribers() < 2 {
		time.Sleep(time.Millisecond)
	}
	got := make(chan uint64, 64)
	go func() {
		defer close(got)
		for {
			ev, err := fast.next()
			if err != nil {
				return
			}
			if ev.event == "call" {
				var c events.Event
				if json.Unmarshal([]byte(ev.data), &c) == nil {
					got <- c.ID
				}
			}
		}
	}()

	// Publish in batches no larger than the buffer and wait for the fast
	// client to read each batch, until the slow one is dropped.
	rec := &gate.CallRecord{At: time.Now(), Source: "agi", GateID: "vip", Caller: "+4917612345678", Called: "+4930123456",
		Outcome: gate.OutcomePassed, Target: strings.Repeat("x", 200)}
	var want uint64
	for batch := 0; e.hub.DroppedTotal() == 0; batch++ {
		if batch == 20000 {
			t.Fatalf("after %d events the slow client is still not dropped", want)
		}
		for range 8 {
			e.hub.CallFinished(rec)
			want++
		}
		for n := range 8 {
			id, ok := <-got
			if !ok {
				t.Fatalf("the fast client's stream ended at event %d: %s", want, e.logs.String())
			}
			if exp := want - 7 + uint64(n); id != exp {
				t.Fatalf("fast client got event %d, want %d", id, exp)
			}
		}
	}
	// The hub keeps only the fast subscriber; calls never waited for the
	// slow one, whose handler gives up within its write timeout and logs
	// the drop.
	if n := e.hub.Subscribers(); n != 1 {
		t.Errorf("%d subscribers after the drop, want 1", n)
	}
	e.hub.CallFinished(rec)
	if id := <-got; id != want+1 {
		t.Errorf("after the drop the fast client got %d, want %d", id, want+1)
	}
	res, err := http.Get(e.srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(body), "\nvipgate_event_subscribers_dropped_total 1\n") || !strings.Contains(string(body), "\nvipgate_event_subscribers 1\n") {
		t.Errorf("metrics do not count the drop:\n%s", body)
	}
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(e.logs.String(), "client fell behind"); {
		if time.Now().After(deadline) {
			t.Fatal("the drop is not logged")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestEventStreamOutlivesReadTimeout: serve's http.Server has a read
// timeout (2m); a stream lasts longer and still delivers.
func TestEventStreamOutlivesReadTimeout(t *testing.T) {
	t.Parallel()
	e := newEventEnv(t, events.Config{}, 20*time.Millisecond, 0)
	srv := httptest.NewUnstartedServer(e.srv.Config.Handler)
	srv.Config.ReadTimeout = 100 * time.Millisecond
	srv.Start()
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL+"/api/v1/events", nil)
	req.Header.Set("Authorization", "Bearer "+e.viewer)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	s := &sseStream{res: res, rd: bufio.NewReader(res.Body)}
	// Keepalives arrive for several read timeouts.
	for keep := 0; keep < 20; {
		ev, err := s.next()
		if err != nil {
			t.Fatalf("the stream ended after %d keepalives: %v", keep, err)
		}
		if ev.comment == "keepalive" {
			keep++
		}
	}
	e.hub.CallFinished(&gate.CallRecord{GateID: "vip", Outcome: gate.OutcomePassed})
	if ev := decodeCall(t, s.nextEvent(t)); ev.Call.GateID != "vip" {
		t.Errorf("event %+v", ev)
	}
}
