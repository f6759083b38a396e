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
			return s.SetVar(ctx, "VIPGATE_NOTE", "a\nHANGUP")
		}},
		{"variable name with a blank", func(ctx context.Context, s *session) error { return s.SetVar(ctx, "A B", "x") }},
		{"variable name with a quote", func(ctx context.Context, s *session) error { return s.SetVar(ctx, `A"`, "x") }},
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
			if err := s.SetVar(context.Background(), "X", "1"); err == nil {
				t.Fatal("SetVar after a lost reply succeeded")
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
		{"digit result that is no key", "200 result=120\n"},
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
