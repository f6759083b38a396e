package autherr

import (
	"errors"
	"testing"

	"github.com/vipgate/vipgate/gate"
)

func TestMessage(t *testing.T) {
	if got, want := Message("webhook", "request", "timeout", nil), "webhook: request: timeout"; got != want {
		t.Errorf("Message without error = %q, want %q", got, want)
	}
	if got, want := Message("database", "query", "query", errors.New("no such table")), "database: query: no such table"; got != want {
		t.Errorf("Message with error = %q, want %q", got, want)
	}
}

func TestSentinelsIs(t *testing.T) {
	s := Sentinels{Timeout: []string{"timeout"}, Unavailable: []string{"network", "breaker_open"}, Invalid: []string{"answer"}}
	for _, tt := range []struct {
		class  string
		target error
		want   bool
	}{
		{"timeout", gate.ErrTimeout, true},
		{"timeout", gate.ErrUnavailable, false},
		{"network", gate.ErrUnavailable, true},
		{"breaker_open", gate.ErrUnavailable, true},
		{"breaker_open", gate.ErrInvalid, false},
		{"answer", gate.ErrInvalid, true},
		{"answer", gate.ErrTimeout, false},
		{"canceled", gate.ErrTimeout, false},
		{"canceled", gate.ErrUnavailable, false},
		{"canceled", gate.ErrInvalid, false},
		{"timeout", errors.New("other"), false},
	} {
		if got := s.Is(tt.class, tt.target); got != tt.want {
			t.Errorf("Is(%q, %v) = %v, want %v", tt.class, tt.target, got, tt.want)
		}
	}
}
