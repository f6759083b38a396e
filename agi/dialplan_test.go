package agi

import (
	"bufio"
	"io"
	"maps"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"

	"github.com/vipgate/vipgate/gate/gatetest"
)

// TestDialplanTableOverAGI runs every row of gatetest's dialplan table as
// the header of AGI(agi://host,<args>) at its extension, with its DNID in
// agi_dnid ("unknown" when unset, as Asterisk sends it), and checks what
// the header gives and the variables gate.Flow sets over the connection:
// the same rows give the same answers over ARI (ari's
// TestDialplanTableOverARI) and in gate.
func TestDialplanTableOverAGI(t *testing.T) {
	flow := gatetest.DialplanFlow()
	_, addr, _, _ := startServer(t, Config{Handler: flow.Handler()})
	for _, tt := range gatetest.DialplanCases {
		t.Run(tt.Name, func(t *testing.T) {
			dnid := tt.DNID
			if dnid == "" {
				dnid = "unknown"
			}
			var b strings.Builder
			b.WriteString("agi_network: yes\nagi_request: agi://127.0.0.1:4573\nagi_uniqueid: 1.2\nagi_context: from-external\n")
			b.WriteString("agi_dnid: " + dnid + "\nagi_extension: " + tt.Exten + "\n")
			for i, a := range tt.Args {
				b.WriteString("agi_arg_" + strconv.Itoa(i+1) + ": " + a + "\n")
			}
			b.WriteString("\n")
			h, err := ReadHeader(bufio.NewReader(strings.NewReader(b.String())), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			info := h.CallInfo()
			if info.Called != tt.Called || info.GateName != tt.Gate {
				t.Errorf("called %q gate %q, want %q %q", info.Called, info.GateName, tt.Called, tt.Gate)
			}

			// The same header over a connection, with gate.Flow.
			c := dial(t, addr)
			if _, err := io.WriteString(c, b.String()); err != nil {
				t.Fatal(err)
			}
			set := map[string]string{}
			r := bufio.NewReader(c)
			for {
				line, err := r.ReadString('\n')
				if err != nil {
					break
				}
				if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "SET VARIABLE "); ok {
					name, value, _ := strings.Cut(rest, " ")
					set[name] = strings.Trim(value, `"`)
				}
				_, _ = io.WriteString(c, "200 result=1\n")
			}
			vars := gatetest.ResultVars(func(name string) string { return set[name] })
			if want := gatetest.DialplanVars(flow, tt); !maps.Equal(vars, want) {
				t.Errorf("channel variables %v, want %v", vars, want)
			}
		})
	}
}

// TestCollectUsesGateDefaults checks that a Collect without timeouts uses
// gate's default timeouts, as over ARI: GET DATA's one timeout is the
// longer of them, the default first-digit timeout.
func TestCollectUsesGateDefaults(t *testing.T) {
	s, peer, ctx := pipeSession(t, time.Minute)
	cmd := make(chan string, 1)
	go func() {
		r := bufio.NewReader(peer)
		line, _ := r.ReadString('\n')
		cmd <- strings.TrimSpace(line)
		_, _ = peer.Write([]byte("200 result=0\n"))
	}()
	if _, err := s.Collect(ctx, gate.Prompt{}, gate.CollectOptions{MaxDigits: 4}); err != nil {
		t.Fatal(err)
	}
	wait := max(gate.DefaultFirstDigitTimeout, gate.DefaultInterDigitTimeout)
	if got, want := <-cmd, `GET DATA "" `+strconv.FormatInt(wait.Milliseconds(), 10)+" 4"; got != want {
		t.Errorf("sent %q, want %q", got, want)
	}
}
