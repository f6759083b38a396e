package gate_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
)

// FuzzGateJSON feeds gate configurations (schedules, closures, targets,
// durations) through decoding, Normalize, Validate and schedule
// evaluation: none of it may panic, and a gate that validates must
// evaluate without error.
func FuzzGateJSON(f *testing.F) {
	f.Add(`{"id":"a","enabled":true,"activation":{"mode":"schedule","schedule":{"time_zone":"Europe/Berlin","active":"outside","windows":[{"days":["mon-fri"],"from":"08:00","to":"18:00"}],"closures":[{"date":"12-24","yearly":true,"from":"12:00"}]}},"identification":{"mode":"table"}}`, int64(1767225600))
	f.Add(`{"id":"b","activation":{"mode":"schedule","schedule":{"time_zone":"America/New_York","active":"inside","windows":[{"days":["sat","sun"],"from":"22:00","to":"02:30"}],"closures":[{"date":"2026-03-08","until":"2026-03-09"}]}},"routes":{"on_correct":"staff,100,1","on_incorrect":"hangup:busy"}}`, int64(1772953200))
	f.Add(`{"id":"c","dialogue":{"first_digit_timeout":"5s","inter_digit_timeout":3},"failure":{"action":"forward","target":"200"}}`, int64(0))
	f.Add(`{"id":"d","activation":{"mode":"schedule","schedule":{"time_zone":"Bad/Zone","windows":[{"days":["xyz"],"from":"25:00","to":"-1"}]}}}`, int64(-1))
	f.Fuzz(func(t *testing.T, doc string, unix int64) {
		var g gate.Gate
		if err := json.Unmarshal([]byte(doc), &g); err != nil {
			return
		}
		g.Normalize()
		if err := g.Validate(); err != nil {
			return
		}
		if s := g.Activation.Schedule; s != nil {
			at := time.Unix(unix%(1<<40), 0)
			if _, _, err := s.ActiveAt(at); err != nil {
				t.Fatalf("valid schedule fails to evaluate at %v: %v", at, err)
			}
		}
		if _, err := json.Marshal(&g); err != nil {
			t.Fatalf("valid gate does not marshal: %v", err)
		}
	})
}
