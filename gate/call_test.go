package gate_test

import (
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
)

// TestCollectOptionsWithDefaults checks the one pair of digit timeouts: a
// gate without dialogue timeouts gets them, and so does a Collect without
// them on any transport.
func TestCollectOptionsWithDefaults(t *testing.T) {
	got := gate.CollectOptions{MaxDigits: 4}.WithDefaults()
	want := gate.CollectOptions{MaxDigits: 4, FirstDigit: 10 * time.Second, InterDigit: 5 * time.Second, Terminator: "#"}
	if got != want {
		t.Errorf("zero options: %+v, want %+v", got, want)
	}
	set := gate.CollectOptions{FirstDigit: time.Second, InterDigit: 2 * time.Second, Terminator: "*"}
	if got := set.WithDefaults(); got != set {
		t.Errorf("set options changed: %+v, want %+v", got, set)
	}
	g := &gate.Gate{ID: "g"}
	g.Normalize()
	if g.Dialogue.FirstDigitTimeout.D() != gate.DefaultFirstDigitTimeout || g.Dialogue.InterDigitTimeout.D() != gate.DefaultInterDigitTimeout {
		t.Errorf("a normalised gate has %v/%v, want the Collect defaults %v/%v", g.Dialogue.FirstDigitTimeout.D(), g.Dialogue.InterDigitTimeout.D(), gate.DefaultFirstDigitTimeout, gate.DefaultInterDigitTimeout)
	}
}
