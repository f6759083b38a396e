package e2e_test

import (
	"context"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/vipgate/vipgate/ari"
	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/internal/e2e"
)

// connTracker remembers the TCP connections an HTTP client opens, so that a
// test can cut them as a network failure would.
type connTracker struct {
	mu    sync.Mutex
	conns []net.Conn
}

func (c *connTracker) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err == nil {
		c.mu.Lock()
		c.conns = append(c.conns, conn)
		c.mu.Unlock()
	}
	return conn, err
}

func (c *connTracker) cut() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, conn := range c.conns {
		_ = conn.Close()
	}
	c.conns = nil
}

func TestE2EARIRecovery(t *testing.T) {
	cfg := e2e.ConfigFromEnv(t)
	ast := e2e.Start(t, cfg)
	h, err := gate.NewHasher(e2e.HasherKey)
	if err != nil {
		t.Fatal(err)
	}
	gates := testGates(h)

	t.Run("no vipgate connected: the dialplan goes on", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		call := e2e.CallSpec{ID: "200", Caller: "5550200", Exten: "1000", Hold: time.Second}
		if _, err := ast.Originate(ctx, call); err != nil {
			t.Fatal(err)
		}
		r, err := ast.WaitResult(ctx, call.ID)
		if err != nil {
			t.Fatal(err)
		}
		if r.Kind != "continue" || r.Fields["status"] != "FAILED" || r.Fields["result"] != "" {
			t.Errorf("call without vipgate ended %s, want continue with STASISSTATUS=FAILED", r.Line)
		}
	})

	t.Run("channel parked by a dead instance is recovered", func(t *testing.T) {
		// An instance that registers the application, receives a call and
		// dies without routing it.
		ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
		defer cancel()
		ws := strings.Replace(ast.ARIURL, "http", "ws", 1) + "/events?app=vipgate"
		hdr := http.Header{}
		req, _ := http.NewRequest("GET", ws, nil)
		req.SetBasicAuth(ast.User, ast.Password.Reveal())
		hdr.Set("Authorization", req.Header.Get("Authorization"))
		conn, _, err := websocket.Dial(ctx, ws, &websocket.DialOptions{HTTPHeader: hdr, Subprotocols: []string{"ari"}})
		if err != nil {
			t.Fatal(err)
		}
		call := e2e.CallSpec{ID: "201", Caller: "5550201", Exten: "1000", DTMF: "4711#", PreWait: 8 * time.Second}
		if _, err := ast.Originate(ctx, call); err != nil {
			t.Fatal(err)
		}
		// Wait until the call is in Stasis, then kill the instance.
		for {
			app, err := ast.Client.GetApplication(ctx, "vipgate")
			if err == nil && len(app.ChannelIDs) == 1 {
				break
			}
			if ctx.Err() != nil {
				t.Fatal("call did not enter Stasis")
			}
			time.Sleep(50 * time.Millisecond)
		}
		_ = conn.CloseNow()
		time.Sleep(500 * time.Millisecond)

		vg := e2e.StartVipgate(t, ast, gates, nil, nil)
		r, err := ast.WaitResult(ctx, call.ID)
		if err != nil {
			t.Fatal(err)
		}
		if r.Kind != "continue" || r.Fields["result"] != "pin_ok" {
			t.Errorf("recovered call ended %s", r.Line)
		}
		rec, err := vg.WaitCall(ctx, func(r *gate.CallRecord) bool { return r.CallerRaw == call.Caller })
		if err != nil || rec.Outcome != gate.OutcomePINOK || rec.Called != "1000" {
			t.Errorf("call log %+v, %v", rec, err)
		}
		vg.Stop()
	})

	t.Run("network drop mid-call", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
		defer cancel()
		var tracker connTracker
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.DialContext = tracker.dial
		states := make(chan bool, 16)
		vg := e2e.StartVipgate(t, ast, gates, nil, func(c *ari.AppConfig) {
			c.HTTPClient = &http.Client{Transport: tr}
			next := c.OnState
			c.OnState = func(s string, up bool) { next(s, up); states <- up }
		})
		<-states // up
		// The caller types into a long prompt after the drop and the
		// reconnect: the digits must stop it and count.
		if err := ast.WritePrompt("long-ask", 25*time.Second); err != nil {
			t.Fatal(err)
		}
		call := e2e.CallSpec{ID: "202", Caller: "5550202", Exten: "5000", DTMF: "4711#", PreWait: 5 * time.Second}
		if _, err := ast.Originate(ctx, call); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Second) // in the PIN dialogue by now
		tracker.cut()
		if up := <-states; up {
			t.Fatal("no disconnect seen")
		}
		if up := <-states; !up {
			t.Fatal("no reconnect")
		}
		r, err := ast.WaitResult(ctx, call.ID)
		if err != nil {
			t.Fatal(err)
		}
		if r.Kind != "continue" || r.Fields["result"] != "pin_ok" {
			t.Errorf("call across the drop ended %s", r.Line)
		}
		rec, err := vg.WaitCall(ctx, func(r *gate.CallRecord) bool { return r.CallerRaw == call.Caller })
		if err != nil || rec.Outcome != gate.OutcomePINOK || rec.Attempts != 1 {
			t.Errorf("call log %+v, %v; want pin_ok at the first attempt (the call survived)", rec, err)
		}
	})
}
