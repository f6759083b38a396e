package gatetest

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/vipgate/vipgate/gate"
)

// CheckCallLogKeys fails t unless logs (JSON lines) name call id at least
// min times and every line that names it does so under gate.LogCall,
// together with gate.LogSource = source, and unless no line has one of the
// keys the call id used to be logged under.
func CheckCallLogKeys(t testing.TB, logs, id, source string, min int) {
	t.Helper()
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		for _, k := range []string{"channel", "call_id", "channel_id"} {
			if _, ok := rec[k]; ok {
				t.Errorf("line %s: the call id under %q", line, k)
			}
		}
		for k, v := range rec {
			if v != id {
				continue
			}
			n++
			if k != gate.LogCall || rec[gate.LogSource] != source {
				t.Errorf("line %s: the call id under %q, want %q with %s=%s", line, k, gate.LogCall, gate.LogSource, source)
			}
		}
	}
	if n < min {
		t.Errorf("%d lines name the call, want at least %d:\n%s", n, min, logs)
	}
}
