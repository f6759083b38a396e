package ari

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestDecodeEventRecorded(t *testing.T) {
	ts := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		file    string
		typ     string
		channel string // channel the event is routed to
		at      time.Time
		check   func(t *testing.T, ev Event)
	}{
		{"StasisStart.json", "StasisStart", "1732700000.42", ts("2026-11-27T05:20:13.120Z"), func(t *testing.T, ev Event) {
			e := ev.(*StasisStart)
			if len(e.Args) != 2 || e.Args[0] != "hotline" || e.Args[1] != "4930123456" {
				t.Errorf("args = %q", e.Args)
			}
			if e.Channel.Caller.Number != "+4917612345678" || e.Channel.Language != "de" || e.Channel.State != StateRing {
				t.Errorf("channel = %+v", e.Channel)
			}
			if e.Channel.Dialplan.Priority != 2 || e.Channel.Dialplan.AppData != "vipgate,hotline,4930123456" {
				t.Errorf("dialplan = %+v", e.Channel.Dialplan)
			}
			if !e.Channel.CreationTime.Equal(ts("2026-11-27T05:20:13.118Z")) {
				t.Errorf("creationtime = %v", e.Channel.CreationTime)
			}
			if e.ReplaceChannel != nil {
				t.Errorf("replace_channel = %+v, want none", e.ReplaceChannel)
			}
		}},
		{"StasisStart-replace.json", "StasisStart", "1732700000.42", ts("2026-11-27T05:20:13.120Z"), func(t *testing.T, ev Event) {
			e := ev.(*StasisStart)
			if e.ReplaceChannel == nil || e.ReplaceChannel.ID != "1732700000.41" {
				t.Errorf("replace_channel = %+v", e.ReplaceChannel)
			}
			if len(e.Args) != 0 {
				t.Errorf("args = %q, want none", e.Args)
			}
		}},
		{"StasisStart-rfc3339.json", "StasisStart", "1732700000.42", ts("2026-11-27T05:20:13.12Z"), nil},
		{"StasisEnd.json", "StasisEnd", "1732700000.42", ts("2026-11-27T05:20:31.007Z"), nil},
		{"ChannelDtmfReceived.json", "ChannelDtmfReceived", "1732700000.42", ts("2026-11-27T05:20:17.560Z"), func(t *testing.T, ev Event) {
			e := ev.(*ChannelDtmfReceived)
			if e.Digit != "7" || e.DurationMs != 120 {
				t.Errorf("dtmf = %q %d", e.Digit, e.DurationMs)
			}
		}},
		{"PlaybackStarted.json", "PlaybackStarted", "1732700000.42", ts("2026-11-27T05:20:13.341Z"), func(t *testing.T, ev Event) {
			if p := ev.(*PlaybackStarted).Playback; p.ID != "vg0a1b2c3d-1732700000.42-1" || p.State != PlaybackStatePlaying {
				t.Errorf("playback = %+v", p)
			}
		}},
		{"PlaybackFinished.json", "PlaybackFinished", "1732700000.42", ts("2026-11-27T05:20:17.602Z"), func(t *testing.T, ev Event) {
			if p := ev.(*PlaybackFinished).Playback; p.State != PlaybackStateDone || p.MediaURI != "sound:vipgate/ask-pin" {
				t.Errorf("playback = %+v", p)
			}
		}},
		{"PlaybackFinished-failed.json", "PlaybackFinished", "1732700000.42", ts("2026-11-27T05:20:13.350Z"), func(t *testing.T, ev Event) {
			if p := ev.(*PlaybackFinished).Playback; p.State != PlaybackStateFailed {
				t.Errorf("state = %q", p.State)
			}
		}},
		{"PlaybackContinuing.json", "PlaybackContinuing", "1732700000.42", ts("2026-11-27T05:20:14Z"), func(t *testing.T, ev Event) {
			if p := ev.(*PlaybackContinuing).Playback; p.NextMediaURI != "sound:vipgate/ask-pin" {
				t.Errorf("next = %q", p.NextMediaURI)
			}
		}},
		{"ChannelHangupRequest.json", "ChannelHangupRequest", "1732700000.42", ts("2026-11-27T05:20:20.001Z"), func(t *testing.T, ev Event) {
			if e := ev.(*ChannelHangupRequest); e.Cause != 16 || e.Soft {
				t.Errorf("cause %d soft %v", e.Cause, e.Soft)
			}
		}},
		{"ChannelHangupRequest-soft.json", "ChannelHangupRequest", "1732700000.42", ts("2026-11-27T05:20:20.001Z"), func(t *testing.T, ev Event) {
			if e := ev.(*ChannelHangupRequest); e.Cause != 32 || !e.Soft {
				t.Errorf("cause %d soft %v", e.Cause, e.Soft)
			}
		}},
		{"ChannelDestroyed.json", "ChannelDestroyed", "1732700000.42", ts("2026-11-27T05:20:20.050Z"), func(t *testing.T, ev Event) {
			if e := ev.(*ChannelDestroyed); e.Cause != 17 || e.CauseTxt != "User busy" || e.TechCause != 486 {
				t.Errorf("destroyed = %d %q %d", e.Cause, e.CauseTxt, e.TechCause)
			}
		}},
		{"ChannelStateChange.json", "ChannelStateChange", "1732700000.42", ts("2026-11-27T05:20:13.200Z"), func(t *testing.T, ev Event) {
			if s := ev.(*ChannelStateChange).Channel.State; s != StateUp {
				t.Errorf("state = %q", s)
			}
		}},
		{"ApplicationReplaced.json", "ApplicationReplaced", "", ts("2026-11-27T05:21:00Z"), func(t *testing.T, ev Event) {
			if _, ok := ev.(*ApplicationReplaced); !ok {
				t.Errorf("got %T", ev)
			}
		}},
		{"ChannelVarset-unknown.json", "ChannelVarset", "", ts("2026-11-27T05:20:18Z"), func(t *testing.T, ev Event) {
			g, ok := ev.(*Generic)
			if !ok || len(g.Raw) == 0 {
				t.Errorf("got %T, want *Generic with the raw message", ev)
			}
		}},
		{"ChannelDialplan-unknown.json", "ChannelDialplan", "", ts("2026-11-27T05:20:13.100Z"), func(t *testing.T, ev Event) {
			if _, ok := ev.(*Generic); !ok {
				t.Errorf("got %T, want *Generic", ev)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", "events", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			ev, err := DecodeEvent(data)
			if err != nil {
				t.Fatalf("DecodeEvent: %v", err)
			}
			env := ev.Env()
			if env.Type != tt.typ || env.Application != "vipgate" {
				t.Errorf("envelope = %+v", env)
			}
			if !env.Timestamp.Equal(tt.at) {
				t.Errorf("timestamp = %v, want %v", env.Timestamp.Time, tt.at)
			}
			if got := channelOf(ev); got != tt.channel {
				t.Errorf("channelOf = %q, want %q", got, tt.channel)
			}
			if tt.check != nil {
				tt.check(t, ev)
			}
		})
	}
}

func TestDecodeEventErrors(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		noTyp bool
	}{
		{"not json", `{"type":`, false},
		{"array", `[1,2]`, false},
		{"no type", `{"application":"vipgate"}`, true},
		{"blank type", `{"type":"  "}`, true},
		{"bad timestamp", `{"type":"StasisEnd","timestamp":"yesterday"}`, false},
		{"args not strings", `{"type":"StasisStart","args":[1]}`, false},
		{"digit not a string", `{"type":"ChannelDtmfReceived","digit":5}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := DecodeEvent([]byte(tt.in))
			if err == nil {
				t.Fatalf("DecodeEvent = %T, want an error", ev)
			}
			if got := errors.Is(err, ErrNoType); got != tt.noTyp {
				t.Errorf("errors.Is(err, ErrNoType) = %v, want %v (err %v)", got, tt.noTyp, err)
			}
		})
	}
}

func TestParseTime(t *testing.T) {
	tests := []struct {
		in   string
		want string // RFC 3339 in UTC
	}{
		{"2025-01-02T03:04:05.678+0000", "2025-01-02T03:04:05.678Z"},
		{"2025-01-02T05:04:05.678+0200", "2025-01-02T03:04:05.678Z"},
		{"2025-01-01T22:04:05.678-0500", "2025-01-02T03:04:05.678Z"},
		{"2025-01-02T03:04:05+0000", "2025-01-02T03:04:05Z"},
		{"2025-01-02T03:04:05.678Z", "2025-01-02T03:04:05.678Z"},
		{"2025-01-02T04:04:05.678+01:00", "2025-01-02T03:04:05.678Z"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseTime(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if s := got.UTC().Format(time.RFC3339Nano); s != tt.want {
				t.Errorf("ParseTime = %s, want %s", s, tt.want)
			}
		})
	}
	if _, err := ParseTime("02/01/2025"); err == nil {
		t.Error("ParseTime accepted a date in another format")
	}
}

func TestDtmfLogValueHidesDigit(t *testing.T) {
	e := &ChannelDtmfReceived{Envelope: Envelope{Type: "ChannelDtmfReceived"}, Digit: "9", DurationMs: 100, Channel: ChannelRef{ID: "c1"}}
	for _, a := range e.LogValue().Group() {
		if a.Value.String() == "9" {
			t.Errorf("LogValue contains the digit in %q", a.Key)
		}
	}
}

func FuzzDecodeEvent(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "events", "*.json"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, err := DecodeEvent(data)
		if err != nil {
			if ev != nil {
				t.Fatalf("DecodeEvent returned %T and an error", ev)
			}
			return
		}
		if ev.Env().Type == "" {
			t.Fatal("decoded an event without a type")
		}
		_ = channelOf(ev)
		if typ, ok := eventType(data); ok && string(typ) != ev.Env().Type {
			t.Fatalf("eventType %q, decoded type %q", typ, ev.Env().Type)
		}
		if old, err := decodeEvent(data); err != nil || !reflect.DeepEqual(ev, old) {
			t.Fatalf("one pass gave %#v, two passes %#v (err %v)", ev, old, err)
		}
	})
}

// TestDecodeEventOnePass checks that the one-pass decoding gives what the
// two-pass one gives for every recorded event, and that neither passes
// when one of them fails.
func TestDecodeEventOnePass(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "events", "*.json"))
	if len(files) == 0 {
		t.Fatal("no recorded events")
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		one, err1 := DecodeEvent(b)
		two, err2 := decodeEvent(b)
		if err1 != nil || err2 != nil || !reflect.DeepEqual(one, two) {
			t.Errorf("%s: one pass %#v (%v), two passes %#v (%v)", p, one, err1, two, err2)
		}
	}
	// A field the type does not have is malformed: the one pass fails on
	// it and the two-pass decoding, which ignores it, decides.
	ev, err := DecodeEvent([]byte(`{"type":"StasisEnd","cause":"x","channel":{"id":"c1"}}`))
	if e, ok := ev.(*StasisEnd); err != nil || !ok || e.Channel.ID != "c1" {
		t.Errorf("StasisEnd with a malformed foreign field: %#v, %v", ev, err)
	}
}

// BenchmarkDecodeEvent decodes a recorded StasisStart, a DTMF event and
// an event vipgate does not use,
// in one pass (DecodeEvent) and in two (decodeEvent).
func BenchmarkDecodeEvent(b *testing.B) {
	for _, name := range []string{"StasisStart", "ChannelDtmfReceived", "ChannelVarset-unknown"} {
		data, err := os.ReadFile(filepath.Join("testdata", "events", name+".json"))
		if err != nil {
			b.Fatal(err)
		}
		for _, dec := range []struct {
			name string
			f    func([]byte) (Event, error)
		}{{"one-pass", DecodeEvent}, {"two-pass", decodeEvent}} {
			b.Run(name+"/"+dec.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := dec.f(data); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func TestEventType(t *testing.T) {
	for in, want := range map[string]string{
		`{"type":"StasisStart","timestamp":""}`:   "StasisStart",
		`{"variable":"X","type":"ChannelVarset"}`: "ChannelVarset",
		` { "a" : {"type":"x","b":[1,"}",{"c":null}]}, "n":-1.5e3, "t":true,` + "\n" + `"type" : "StasisEnd"}`: "StasisEnd",
		`{"s":"a\"type\":\"X","type":"StasisEnd"}`:                                                             "StasisEnd",
		`{"type":"StasisEnd","type":"StasisStart"}`:                                                            "!",
		`{"type":"Stasis\u0045nd"}`:                                                                            "!",
		`{"typ\u0065":"StasisEnd"}`:                                                                            "!",
		`{"Type":"StasisEnd"}`:                                                                                 "!",
		`{"type":3}`:                                                                                           "!",
		`{"type":"StasisEnd`:                                                                                   "!",
		`{"variable":"X"}`:                                                                                     "!",
		`{"variable":"X" "type":"StasisEnd"}`:                                                                  "!",
		`["type","StasisEnd"]`:                                                                                 "!",
		``:                                                                                                     "!",
	} {
		typ, ok := eventType([]byte(in))
		got := string(typ)
		if !ok {
			got = "!"
		}
		if got != want {
			t.Errorf("eventType(%s) = %q, want %q (! for cannot tell)", in, got, want)
		}
		if ok {
			var env Envelope
			if err := json.Unmarshal([]byte(in), &env); err != nil || env.Type != got {
				t.Errorf("eventType(%s) = %q, json.Unmarshal: %q, %v", in, got, env.Type, err)
			}
		}
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "events", "*.json"))
	if len(files) == 0 {
		t.Fatal("no recorded events")
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var env Envelope
		if err := json.Unmarshal(data, &env); err != nil {
			t.Fatal(err)
		}
		typ, ok := eventType(data)
		if !ok || string(typ) != env.Type {
			t.Errorf("%s: eventType %q %v, want %q", f, typ, ok, env.Type)
		}
		// The recorded events of types vipgate has no use for: those it
		// does not decode (-unknown) and the playback's start and
		// continuation, which no call waits for.
		want := strings.HasSuffix(f, "-unknown.json") || env.Type == "PlaybackStarted" || env.Type == "PlaybackContinuing"
		if unused := unusedEvent(data); unused != want {
			t.Errorf("%s: unusedEvent %v, want %v", f, unused, want)
		}
	}
}

// BenchmarkUnusedEvent is what the event reader spends on an event vipgate
// does not use (one ChannelVarset per variable it sets), against
// BenchmarkDecodeEvent/ChannelVarset-unknown, which it spent before.
func BenchmarkUnusedEvent(b *testing.B) {
	data, err := os.ReadFile(filepath.Join("testdata", "events", "ChannelVarset-unknown.json"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if !unusedEvent(data) {
			b.Fatal("ChannelVarset is used")
		}
	}
}
