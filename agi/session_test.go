package agi

import (
	"bufio"
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
)

// pipeSession returns a session on one end of a pipe and the Asterisk end.
func pipeSession(t *testing.T, readTimeout time.Duration) (*session, net.Conn, context.Context) {
	t.Helper()
	a, b := net.Pipe()
	t.Cleanup(func() { a.Close(); b.Close() })
	ctx, cancel := context.WithCancelCause(context.Background())
	t.Cleanup(func() { cancel(nil) })
	hdr := Header{Vars: map[string]string{"agi_context": "from-external", "agi_language": "en"}}
	s := newSession(b, bufio.NewReaderSize(b, 1024), hdr, 1000, readTimeout, slog.New(slog.DiscardHandler), func() { cancel(gate.ErrHangup) })
	return s, a, ctx
}

// TestSessionRefusesBadInput checks that input that would break the
// command line is refused before anything is sent.
func TestSessionRefusesBadInput(t *testing.T) {
	tests := []struct {
		name string
		run  func(ctx context.Context, s *session) error
	}{
		{"variable value with a line break", func(ctx context.Context, s *session) error {
			return s.SetVars(ctx, gate.Var{Name: "VIPGATE_NOTE", Value: "a\nHANGUP"})
		}},
		{"variable name with a blank", func(ctx context.Context, s *session) error { return s.SetVars(ctx, gate.Var{Name: "A B", Value: "x"}) }},
		{"variable name with a quote", func(ctx context.Context, s *session) error { return s.SetVars(ctx, gate.Var{Name: `A"`, Value: "x"}) }},
		{"prompt with a line break", func(ctx context.Context, s *session) error {
			return s.Play(ctx, gate.Prompt{Name: "x\nEXEC Dial"})
		}},
		{"collect prompt with a line break", func(ctx context.Context, s *session) error {
			_, err := s.Collect(ctx, gate.Prompt{Name: "x\r"}, gate.CollectOptions{})
			return err
		}},
		{"language with a blank", func(ctx context.Context, s *session) error {
			return s.Play(ctx, gate.Prompt{Name: "x", Lang: "d e"})
		}},
		{"location with a blank context", func(ctx context.Context, s *session) error {
			return s.Continue(ctx, gate.Target{Kind: gate.TargetLocation, Context: "a b", Exten: "1", Priority: 1})
		}},
		{"unknown target kind", func(ctx context.Context, s *session) error {
			return s.Continue(ctx, gate.Target{Kind: "teleport"})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _, ctx := pipeSession(t, time.Minute)
			// Nothing reads the Asterisk end: a command sent would block
			// until the write deadline, so a quick error shows nothing
			// was sent.
			if err := tt.run(ctx, s); !errors.Is(err, gate.ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
			if n, _ := s.stats(); n != 0 {
				t.Fatalf("%d commands sent", n)
			}
		})
	}
}

func TestSessionNoReply(t *testing.T) {
	tests := []struct {
		name    string
		cancel  bool // cancel the context instead of waiting for the deadline
		wantErr error
	}{
		{name: "reply deadline", wantErr: gate.ErrTimeout},
		{name: "context cancelled", cancel: true, wantErr: context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			readTimeout := 50 * time.Millisecond
			if tt.cancel {
				readTimeout = time.Hour
			}
			s, peer, _ := pipeSession(t, readTimeout)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			// Asterisk reads the command and never answers.
			go func() {
				line, err := bufio.NewReader(peer).ReadString('\n')
				if err == nil && tt.cancel && strings.HasPrefix(line, "ANSWER") {
					cancel()
				}
			}()
			err := s.Answer(ctx)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			// The connection is out of step now: later operations fail
			// without sending.
			if err := s.SetVars(context.Background(), gate.Var{Name: "X", Value: "1"}); err == nil {
				t.Fatal("SetVars after a lost reply succeeded")
			}
			if n, _ := s.stats(); n != 1 {
				t.Fatalf("%d commands sent, want 1", n)
			}
		})
	}
}

func TestSessionJunkReply(t *testing.T) {
	tests := []struct {
		name  string
		reply string
	}{
		{"not a reply", "agi_network: yes\n"},
		{"binary", "\x00\xff\xfe\n"},
		{"over-long line", strings.Repeat("2", 2000) + "\n"},
		{"result with a character that is no key", "200 result=12x\n"},
		{"result with the terminator in it", "200 result=1#2\n"},
		{"more keys than asked for", "200 result=" + strings.Repeat("1", maxCollectDigits+1) + "\n"},
		{"unknown data after the keys", "200 result=12 (what)\n"},
		{"endless HANGUP lines", strings.Repeat("HANGUP\n", 10)},
		{"endless usage", "520-Invalid command syntax.  Proper usage follows:\n" + strings.Repeat("usage\n", 100)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, peer, ctx := pipeSession(t, time.Minute)
			go func() {
				r := bufio.NewReader(peer)
				if _, err := r.ReadString('\n'); err == nil {
					_, _ = peer.Write([]byte(tt.reply))
				}
			}()
			_, err := s.Collect(ctx, gate.Prompt{}, gate.CollectOptions{})
			if err == nil || errors.Is(err, gate.ErrHangup) {
				t.Fatalf("err = %v, want a protocol error", err)
			}
		})
	}
}

// TestCollectKeysBetweenCommands types keys that follow each other closely
// (the fake peer's '+'): the key after one that a command returned comes
// while no command reads the channel, and Asterisk drops it. One GET DATA
// reads every key; the sequence of a STREAM FILE and a WAIT FOR DIGIT per
// key, which Collect still uses for a terminator other than '#', loses
// the keys that follow a reply.
func TestCollectKeysBetweenCommands(t *testing.T) {
	tests := []struct {
		name        string
		keys        string
		term        string
		want        gate.Input
		wantDropped string
		wantCmds    int // commands Collect sent
	}{
		{"GET DATA, fast keys", "4+7+1+1+#", "#", gate.Input{Digits: "4711", Terminated: true}, "", 1},
		{"GET DATA, fast keys, no terminator", "4+7+1+1", "#", gate.Input{Digits: "4711", TimedOut: true}, "", 1},
		{"WAIT FOR DIGIT, slow keys", "4711*", "*", gate.Input{Digits: "4711", Terminated: true}, "", 5},
		{"WAIT FOR DIGIT, fast keys", "4+7+1+1+*", "*", gate.Input{Digits: "41", Terminated: true}, "71", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, conn, ctx := pipeSession(t, time.Minute)
			p := &peer{r: bufio.NewReader(conn), w: conn, digits: tt.keys, bargeIn: true}
			served := make(chan error, 1)
			go func() { served <- p.serve() }()
			in, err := s.Collect(ctx, gate.Prompt{Name: "vipgate/ask-pin"}, gate.CollectOptions{
				MaxDigits: gate.MaxPINLen + 1, FirstDigit: 5 * time.Second, InterDigit: 3 * time.Second, Terminator: tt.term,
			})
			if err != nil {
				t.Fatal(err)
			}
			n, _ := s.stats()
			if err := s.release(); err != nil {
				t.Fatal(err)
			}
			if err := <-served; err != nil {
				t.Fatal(err)
			}
			if in != tt.want || p.dropped != tt.wantDropped || n != tt.wantCmds {
				t.Fatalf("got %+v, dropped %q, %d commands; want %+v, dropped %q, %d commands",
					in, p.dropped, n, tt.want, tt.wantDropped, tt.wantCmds)
			}
		})
	}
}
