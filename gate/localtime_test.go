package gate_test

import (
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
)

func TestParseTime(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		in       string
		endOfDay bool
		want     string // RFC 3339 in Berlin
		note     string
	}{
		{"2026-12-24T19:00:00+01:00", false, "2026-12-24T19:00:00+01:00", ""},
		{"2026-12-24T18:00:00Z", false, "2026-12-24T19:00:00+01:00", ""},
		{"2026-12-24T19:00", false, "2026-12-24T19:00:00+01:00", ""},
		{"2026-12-24 19:00:30", false, "2026-12-24T19:00:30+01:00", ""},
		{"2026-07-01 19:00", false, "2026-07-01T19:00:00+02:00", ""},
		{"2026-12-31", false, "2026-12-31T00:00:00+01:00", ""},
		{"2026-12-31", true, "2027-01-01T00:00:00+01:00", ""},
		// Spring forward: 02:00-03:00 does not exist; read as 03:00 CEST.
		{"2027-03-28T02:30", false, "2027-03-28T03:00:00+02:00", "02:30 does not exist in Europe/Berlin on 2027-03-28; read as 03:00 CEST"},
		// Fall back: 02:30 happens twice; read as the first (CEST).
		{"2026-10-25 02:30", false, "2026-10-25T02:30:00+02:00", "02:30 happens twice in Europe/Berlin on 2026-10-25; read as the first, 02:30 CEST"},
		{"2026-10-25 03:30", false, "2026-10-25T03:30:00+01:00", ""},
	}
	for _, tt := range tests {
		got, note, err := gate.ParseTime(tt.in, berlin, tt.endOfDay)
		if err != nil {
			t.Errorf("ParseTime(%q): %v", tt.in, err)
			continue
		}
		if s := got.In(berlin).Format(time.RFC3339); s != tt.want || note != tt.note {
			t.Errorf("ParseTime(%q, end %v) = %s, %q; want %s, %q", tt.in, tt.endOfDay, s, note, tt.want, tt.note)
		}
	}
	for _, bad := range []string{"", "tomorrow", "2026-13-01", "31.12.2026"} {
		if _, _, err := gate.ParseTime(bad, berlin, false); err == nil {
			t.Errorf("ParseTime(%q) accepted", bad)
		}
	}
}
