package e2e_test

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/internal/e2e"
)

// commandDelay is how late the proxy of TestE2EAGIKeysBetweenCommands
// hands each of vipgate's commands to Asterisk: longer than the 370 ms
// from one key's end to the next one's in the test caller's
// SendDTMF(...,250,120) (a 250 ms pause, a 120 ms tone).
const commandDelay = 500 * time.Millisecond

// TestE2EAGIKeysBetweenCommands types a PIN while each command vipgate
// sends reaches Asterisk half a second late (a proxy holds it, as a busy
// vipgate or a slow link would). Asterisk's AGI loop reads and drops DTMF
// while no command runs, so when Collect sent one WAIT FOR DIGIT per key,
// every key that ended before the next command arrived was lost and the
// right PIN ended pin_failed. With one GET DATA per attempt Asterisk
// reads the keys itself: the PIN arrives whole, typed after the prompt
// or during it (barge-in).
func TestE2EAGIKeysBetweenCommands(t *testing.T) {
	ast := startAGIAsterisk(t)
	h, err := gate.NewHasher(e2e.HasherKey)
	if err != nil {
		t.Fatal(err)
	}
	pin := h.Hash("4711")
	mk := func(id, number, prompt string) *gate.Gate {
		g := &gate.Gate{
			ID: id, Enabled: true, Match: gate.Match{Numbers: []string{number}},
			Activation:     gate.Activation{Mode: gate.ActiveAlways},
			Identification: gate.Identification{Mode: gate.IdentStatic, StaticPIN: &pin, Region: "DE"},
			// One attempt: a PIN that lost a key fails at once.
			Dialogue: gate.Dialogue{MaxRetries: 1, MinDigits: 4, MaxDigits: 8,
				FirstDigitTimeout: gate.Duration(4 * time.Second), InterDigitTimeout: gate.Duration(3 * time.Second)},
			Routes:  routes(),
			Failure: gate.FailurePolicy{Action: gate.FailReject},
		}
		if prompt != "" {
			g.Prompts = gate.Prompts{gate.PromptAskPIN: prompt}
		}
		return g
	}
	vg := e2e.StartVipgateAGI(t, []*gate.Gate{mk("gap", "7100", ""), mk("gapbarge", "7200", "vipgate/long-ask")}, nil, nil)
	proxy := startSlowProxy(t, vg.Addr, commandDelay)

	tests := []struct {
		name, gate, exten, ask string
		call                   e2e.CallSpec
	}{
		// The short ask-PIN tone has ended when the caller types.
		{"after the prompt", "gap", "7100", "vipgate/ask-pin",
			e2e.CallSpec{ID: "331", Caller: "5550331", Exten: "7100", DTMF: "4711#", PreWait: 3 * time.Second, Hold: 10 * time.Second}},
		// The 25 s prompt still plays: the first key stops it.
		{"during the prompt", "gapbarge", "7200", "vipgate/long-ask",
			e2e.CallSpec{ID: "332", Caller: "5550332", Exten: "7200", DTMF: "4711#", PreWait: 3 * time.Second, Hold: 10 * time.Second}},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	placed := make([]chan placedCall, len(tests))
	for i, tt := range tests {
		placed[i] = make(chan placedCall, 1)
		go func() {
			placed[i] <- placeAGICall(ctx, ast, vg, e2e.AGICall{CallSpec: tt.call, Addr: proxy, Gate: tt.gate})
		}()
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := <-placed[i]
			if p.err != nil {
				t.Fatal(p.err)
			}
			cmds := vg.Commands.Of(p.rec.ChannelID)
			if p.result.Kind != "continue" || p.result.Arg != tt.exten || p.rec.Outcome != gate.OutcomePINOK {
				t.Errorf("ended %q, call log %s; want continue %s, %s (commands %q)", p.result.Line, p.rec.Outcome, tt.exten, gate.OutcomePINOK, cmds)
			}
			var gets int
			for _, c := range cmds {
				switch {
				case strings.HasPrefix(c, "GET DATA "+tt.ask+" "):
					gets++
				case strings.HasPrefix(c, "WAIT FOR DIGIT"), strings.HasPrefix(c, "GET DATA"):
					t.Errorf("command %q: the PIN was not read with the one GET DATA of the attempt", c)
				}
			}
			if gets != 1 {
				t.Errorf("%d GET DATA %s commands, want 1 (commands %q)", gets, tt.ask, cmds)
			}
		})
	}
}

// startSlowProxy listens on a free loopback port and relays each
// connection to addr: what Asterisk sends goes on at once, each chunk
// vipgate writes (one command: vipgate never pipelines) after delay. It
// returns the proxy's address.
func startSlowProxy(t *testing.T, addr string, delay time.Duration) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		_ = ln.Close()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			ast, err := ln.Accept()
			if err != nil {
				if !errors.Is(err, net.ErrClosed) {
					t.Errorf("proxy: accept: %v", err)
				}
				return
			}
			wg.Go(func() { relaySlow(t, ast, addr, delay) })
		}
	})
	return ln.Addr().String()
}

// relaySlow relays one connection until either side closes it.
func relaySlow(t *testing.T, ast net.Conn, addr string, delay time.Duration) {
	defer ast.Close()
	vip, err := net.Dial("tcp", addr)
	if err != nil {
		t.Errorf("proxy: dial vipgate: %v", err)
		return
	}
	defer vip.Close()
	// Bound the relay: no test call lasts a minute.
	deadline := time.Now().Add(time.Minute)
	_ = ast.SetDeadline(deadline)
	_ = vip.SetDeadline(deadline)
	up := make(chan struct{})
	go func() {
		defer close(up)
		_, _ = io.Copy(vip, ast)
		_ = vip.(*net.TCPConn).CloseWrite()
	}()
	buf := make([]byte, 4096)
	for {
		n, err := vip.Read(buf)
		if n > 0 {
			time.Sleep(delay)
			if _, werr := ast.Write(buf[:n]); werr != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	// vipgate closed: Asterisk goes on with the dialplan.
	_ = ast.Close()
	<-up
}
