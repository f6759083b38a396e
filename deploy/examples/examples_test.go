package examples_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the example schedules need Europe/Berlin on any machine

	"go.yaml.in/yaml/v3"

	"github.com/vipgate/vipgate/gate"
)

// testKey keys the PIN hashes of the test; any 32 bytes do.
var testKey = bytes.Repeat([]byte{0x5a}, gate.KeySize)

// loadGate reads an example the way "vipgate gates import" does: YAML to a
// map, the write-only identification.static_pin hashed into
// static_pin_hash, then JSON into a gate.Gate with unknown fields refused
// (a misspelt key in an example is an error, not a silent default). It
// returns the gate and the clear static PIN ("" if none).
func loadGate(t *testing.T, path string) (*gate.Gate, string) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	pin := ""
	if id, ok := m["identification"].(map[string]any); ok {
		if p, ok := id["static_pin"]; ok {
			s, ok := p.(string)
			if !ok {
				t.Fatalf("%s: identification.static_pin must be a quoted string (leading zeros), got %T", path, p)
			}
			if err := gate.ValidatePIN(s, 0, 0); err != nil {
				t.Fatalf("%s: identification.static_pin: %v", path, err)
			}
			h, err := gate.NewHasher(testKey)
			if err != nil {
				t.Fatal(err)
			}
			id["static_pin_hash"] = h.Hash(s).String()
			delete(id, "static_pin")
			pin = s
		}
	}
	js, err := json.Marshal(m)
	if err != nil {
		t.Fatalf("%s: to JSON: %v", path, err)
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	var g gate.Gate
	if err := dec.Decode(&g); err != nil {
		t.Fatalf("%s: decode gate: %v", path, err)
	}
	return &g, pin
}

func TestExampleGates(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatalf("no time zone data for Europe/Berlin: %v", err)
	}
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, berlin)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		file    string
		id      string
		mode    gate.IdentMode
		hasPIN  bool
		failure gate.FailureAction
		// active and inactive list instants (Berlin time) at which the
		// gate must be, resp. must not be, active.
		active, inactive []string
	}{
		{
			file: "after-hours.yaml", id: "after-hours", mode: gate.IdentStatic, hasPIN: true, failure: gate.FailStatic,
			active: []string{
				"2026-11-30 07:59", // Monday before opening
				"2026-11-30 18:00", // Monday at closing
				"2026-11-28 12:00", // Saturday
				"2026-12-24 12:00", // Thursday, Christmas Eve afternoon
				"2026-12-25 10:00", // Friday, Christmas Day
				"2027-01-01 09:00", // Friday, New Year
				"2026-03-29 10:00", // Sunday, the DST change
				"2027-03-26 10:00", // Good Friday 2027 (holiday set de)
				"2028-04-17 10:00", // Easter Monday 2028
				"2027-06-18 10:00", // the one-off closure
			},
			inactive: []string{
				"2026-06-04 10:00", // Corpus Christi: not a holiday in every state, so not in de
				"2026-11-30 08:00", // Monday at opening
				"2026-12-24 11:59", // Christmas Eve morning
				"2026-12-23 17:59", // Wednesday
				"2026-03-30 09:00", // Monday after the DST change
			},
		},
		{file: "premium-support.yaml", id: "premium-support", mode: gate.IdentTable, failure: gate.FailForward,
			active: []string{"2026-11-30 10:00", "2026-11-29 03:00"}},
		{file: "webhook-gate.yaml", id: "webhook-demo", mode: gate.IdentWebhook, hasPIN: true, failure: gate.FailStatic,
			active: []string{"2026-11-30 10:00"}},
	}
	files, err := filepath.Glob("*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var tested []string
	for _, tt := range tests {
		tested = append(tested, tt.file)
		t.Run(tt.file, func(t *testing.T) {
			g, pin := loadGate(t, tt.file)
			g.Normalize()
			if err := g.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if g.ID != tt.id || !gate.ValidID(g.ID) || !g.Enabled {
				t.Errorf("id = %q (enabled %v), want enabled gate %q", g.ID, g.Enabled, tt.id)
			}
			if g.Identification.Mode != tt.mode {
				t.Errorf("identification.mode = %q, want %q", g.Identification.Mode, tt.mode)
			}
			if g.Failure.Action != tt.failure {
				t.Errorf("failure.action = %q, want %q", g.Failure.Action, tt.failure)
			}
			if (pin != "") != tt.hasPIN || (g.Identification.StaticPIN != nil) != tt.hasPIN {
				t.Fatalf("static PIN given %v, hash set %v; want %v", pin != "", g.Identification.StaticPIN != nil, tt.hasPIN)
			}
			if tt.hasPIN {
				h, _ := gate.NewHasher(testKey)
				if !h.Check(*g.Identification.StaticPIN, pin) {
					t.Error("static_pin_hash does not check against static_pin")
				}
				if weak := []string{"0000", "1234", "123456", "111111"}; slices.Contains(weak, pin) {
					t.Errorf("example static PIN %q is weak", pin)
				}
			}
			if w := g.Identification.Webhook; w != nil {
				for _, ph := range []string{"###CALLER_NUMBER###", "###CALLED_NUMBER###"} {
					if !strings.Contains(w.URL, ph) {
						t.Errorf("webhook URL %q lacks %s", w.URL, ph)
					}
				}
			}
			for _, n := range g.Match.Numbers {
				if _, err := gate.NormalizePattern(n, "DE"); err != nil {
					t.Errorf("match number %q: %v", n, err)
				}
			}
			check := func(instants []string, want bool) {
				for _, s := range instants {
					got, why, err := activeAt(g, at(s))
					if err != nil {
						t.Fatalf("active at %s: %v", s, err)
					}
					if got != want {
						t.Errorf("active at %s (%s) = %v, want %v (%s)", s, at(s).Weekday(), got, want, why)
					}
				}
			}
			check(tt.active, true)
			check(tt.inactive, false)
		})
	}
	slices.Sort(tested)
	if !slices.Equal(files, tested) {
		t.Errorf("example files %v, tested %v: add a test case for every example", files, tested)
	}
}

// activeAt says whether g screens calls at t by its activation alone.
func activeAt(g *gate.Gate, t time.Time) (bool, string, error) {
	switch g.Activation.Mode {
	case gate.ActiveAlways:
		return true, "always", nil
	case gate.ActiveNever:
		return false, "never", nil
	case gate.ActiveSchedule:
		if g.Activation.Schedule == nil {
			return false, "", fmt.Errorf("schedule mode without a schedule")
		}
		return g.Activation.Schedule.ActiveAt(t)
	}
	return false, "", fmt.Errorf("unknown activation mode %q", g.Activation.Mode)
}

func TestPremiumSupportPINs(t *testing.T) {
	g, _ := loadGate(t, "premium-support.yaml")
	f, err := os.Open("premium-support-pins.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) < 4 || !slices.Equal(rows[0], []string{"caller", "pin", "label"}) {
		t.Fatalf("want a caller,pin,label header and at least 3 rows, got %v", rows)
	}
	seen := map[string]int{}
	forms := map[string]bool{}
	for i, r := range rows[1:] {
		line := i + 2
		caller, pin, label := r[0], r[1], r[2]
		norm, err := gate.NormalizePattern(caller, g.Identification.Region)
		if err != nil {
			t.Errorf("line %d: caller %q: %v", line, caller, err)
			continue
		}
		if prev, dup := seen[norm]; dup {
			t.Errorf("line %d: caller %q is the same as line %d (%s)", line, caller, prev, norm)
		}
		seen[norm] = line
		if err := gate.ValidatePIN(pin, g.Dialogue.MinDigits, g.Dialogue.MaxDigits); err != nil {
			t.Errorf("line %d: PIN: %v", line, err)
		}
		if strings.TrimSpace(label) == "" {
			t.Errorf("line %d: empty label", line)
		}
		switch {
		case strings.HasSuffix(caller, "*"):
			forms["prefix"] = true
		case strings.HasPrefix(caller, "+"):
			forms["international"] = true
		case strings.HasPrefix(caller, "00"):
			forms["00"] = true
		default:
			forms["national"] = true
		}
	}
	for _, f := range []string{"prefix", "international", "00", "national"} {
		if !forms[f] {
			t.Errorf("no caller in %s form; the example should show every form", f)
		}
	}
}
