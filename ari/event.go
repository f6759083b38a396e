package ari

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
)

// Envelope is what every ARI event carries.
type Envelope struct {
	Type        string `json:"type"`
	Application string `json:"application"`
	Timestamp   Time   `json:"timestamp"`
	AsteriskID  string `json:"asterisk_id,omitempty"`
}

// Env returns the envelope; it makes every event an Event.
func (e *Envelope) Env() *Envelope { return e }

// Event is a decoded ARI event: one of the typed events below, or a
// *Generic for types vipgate does not use.
type Event interface {
	Env() *Envelope
}

// StasisStart: a channel entered the application.
type StasisStart struct {
	Envelope
	Args           []string `json:"args"`
	Channel        Channel  `json:"channel"`
	ReplaceChannel *Channel `json:"replace_channel,omitempty"`
}

// ChannelRef is what the events after StasisStart carry of their
// channel: its id, name and state. The rest of the channel object
// (caller, dialplan, creation time, variables) is read once, from
// StasisStart; skipping it makes each DTMF and hang-up event cheaper to
// decode.
type ChannelRef struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	State string `json:"state"`
}

// StasisEnd: a channel left the application; it is out of vipgate's control.
type StasisEnd struct {
	Envelope
	Channel ChannelRef `json:"channel"`
}

// ChannelDtmfReceived: the caller pressed a key. Digit must never be logged;
// LogValue leaves it out.
type ChannelDtmfReceived struct {
	Envelope
	Digit      string     `json:"digit"`
	DurationMs int        `json:"duration_ms"`
	Channel    ChannelRef `json:"channel"`
}

// LogValue logs the event without the digit.
func (e *ChannelDtmfReceived) LogValue() slog.Value {
	return slog.GroupValue(slog.String("type", e.Type), slog.String("channel", e.Channel.ID), slog.Int("duration_ms", e.DurationMs))
}

// PlaybackStarted: a playback began.
type PlaybackStarted struct {
	Envelope
	Playback Playback `json:"playback"`
}

// PlaybackContinuing: a playback moved on to its next media.
type PlaybackContinuing struct {
	Envelope
	Playback Playback `json:"playback"`
}

// PlaybackFinished: a playback ended; Playback.State is "done" or "failed"
// (missing file, or hang-up during the playback).
type PlaybackFinished struct {
	Envelope
	Playback Playback `json:"playback"`
}

// ChannelHangupRequest: a hang-up was requested. Cause is Q.850 for a
// remote hang-up but a flag bitmask when Soft is set.
type ChannelHangupRequest struct {
	Envelope
	Cause     int        `json:"cause"`
	Soft      bool       `json:"soft"`
	TechCause int        `json:"tech_cause,omitempty"`
	Channel   ChannelRef `json:"channel"`
}

// ChannelDestroyed: the channel is gone (rarely seen after StasisEnd).
type ChannelDestroyed struct {
	Envelope
	Cause     int        `json:"cause"`
	CauseTxt  string     `json:"cause_txt"`
	TechCause int        `json:"tech_cause,omitempty"`
	Channel   ChannelRef `json:"channel"`
}

// ChannelStateChange: the channel's state changed (Channel.State is new).
type ChannelStateChange struct {
	Envelope
	Channel ChannelRef `json:"channel"`
}

// ApplicationReplaced: another connection registered the same application;
// this connection gets no more events.
type ApplicationReplaced struct {
	Envelope
}

// Generic is any event type vipgate does not use. Raw is the whole message.
type Generic struct {
	Envelope
	Raw json.RawMessage `json:"-"`
}

// ErrNoType is returned by DecodeEvent for a message without a type.
var ErrNoType = errors.New("ari: event has no type")

// DecodeEvent decodes one websocket message. Unknown event types give a
// *Generic, never an error; errors are only for messages that are not JSON
// objects, have no type, or whose known type has malformed fields.
func DecodeEvent(data []byte) (Event, error) {
	// The events vipgate uses are read in one pass over the message,
	// straight into their type, wherever the type is. The two-pass
	// decoding gives the same events, parsing them twice; it reads the
	// other types (only their envelope) and whatever the one pass refuses.
	if t, ok := eventType(data); ok {
		if ev := newEvent(string(t)); ev != nil && json.Unmarshal(data, ev) == nil {
			return ev, nil
		}
	}
	return decodeEvent(data)
}

// usedType holds the event types the application acts on: the event
// filter asks Asterisk for these alone, and the reader skips any other
// without decoding it. PlaybackStarted and PlaybackContinuing are known
// to DecodeEvent but not used: a call waits only for its playback's end,
// so their two messages per prompt are not sent at all.
var usedType = map[string]bool{
	"StasisStart": true, "StasisEnd": true, "ChannelDtmfReceived": true,
	"PlaybackFinished": true, "ChannelHangupRequest": true, "ChannelDestroyed": true,
	"ChannelStateChange": true, "ApplicationReplaced": true,
}

// unusedEvent reports whether a message is an event of a type vipgate does
// not use (ChannelVarset, ChannelDialplan, PlaybackStarted, ...), which no
// call would look at. It reads the type without decoding the message; a
// message whose type it cannot tell is not unused.
func unusedEvent(data []byte) bool {
	t, ok := eventType(data)
	return ok && len(t) > 0 && !usedType[string(t)]
}

// eventType returns the value of the "type" member of a message that is a
// JSON object, without decoding it: the members are skipped by their
// quotes and brackets. ok is false when it cannot tell for sure what
// json.Unmarshal would read as the type: not an object, no "type" member
// or more than one, a type that is not a string of printable ASCII
// without escapes, escapes in a member name, or a member name that matches "type" only
// ignoring case. Values other than the type are not checked.
func eventType(data []byte) (typ []byte, ok bool) {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return nil, false
	}
	found := false
	for i++; ; {
		i = skipSpace(data, i)
		if !found && i < len(data) && data[i] == '}' {
			return nil, false // {} or a trailing comma
		}
		key, j, ok := scanString(data, i)
		if !ok || bytes.IndexByte(key, '\\') >= 0 {
			return nil, false
		}
		i = skipSpace(data, j)
		if i >= len(data) || data[i] != ':' {
			return nil, false
		}
		i = skipSpace(data, i+1)
		if bytes.EqualFold(key, []byte("type")) {
			if found || string(key) != "type" {
				return nil, false
			}
			v, next, ok := scanString(data, i)
			if !ok || !plainASCII(v) {
				return nil, false
			}
			typ, found, i = v, true, next
		} else if i, ok = skipValue(data, i); !ok {
			return nil, false
		}
		i = skipSpace(data, i)
		switch {
		case i < len(data) && data[i] == ',':
			i++
		case i < len(data) && data[i] == '}' && found:
			return typ, true
		default:
			return nil, false
		}
	}
}

// plainASCII reports whether b is printable ASCII without escapes, which
// json.Unmarshal reads as it is.
func plainASCII(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c > 0x7e || c == '\\' {
			return false
		}
	}
	return true
}

func skipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
}

// scanString reads the JSON string at data[i]: its raw contents (escapes
// left as they are) and the index after its closing quote.
func scanString(data []byte, i int) (raw []byte, next int, ok bool) {
	if i >= len(data) || data[i] != '"' {
		return nil, 0, false
	}
	for j := i + 1; j < len(data); j++ {
		switch data[j] {
		case '\\':
			j++
		case '"':
			return data[i+1 : j], j + 1, true
		}
	}
	return nil, 0, false
}

// skipValue returns the index after the JSON value at data[i]. Nested
// objects and arrays are skipped by their brackets, strings by their
// quotes; the value is not checked beyond that.
func skipValue(data []byte, i int) (int, bool) {
	if i >= len(data) {
		return 0, false
	}
	switch data[i] {
	case '"':
		_, next, ok := scanString(data, i)
		return next, ok
	case '{', '[':
		depth := 0
		for ; i < len(data); i++ {
			switch data[i] {
			case '"':
				_, next, ok := scanString(data, i)
				if !ok {
					return 0, false
				}
				i = next - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1, true
				}
			}
		}
		return 0, false
	}
	// A number, true, false or null.
	j := i
	for j < len(data) && data[j] != ',' && data[j] != '}' && data[j] != ']' && data[j] != ' ' && data[j] != '\t' && data[j] != '\n' && data[j] != '\r' {
		j++
	}
	return j, j > i
}

// decodeEvent is DecodeEvent in two passes: the envelope, then the type's
// own fields.
func decodeEvent(data []byte) (Event, error) {
	var env Envelope
	if err := json.Unmarshal(data, &env); err != nil {
		return nil, fmt.Errorf("ari: decode event: %w", err)
	}
	if strings.TrimSpace(env.Type) == "" {
		return nil, ErrNoType
	}
	ev := newEvent(env.Type)
	if ev == nil {
		return &Generic{Envelope: env, Raw: append(json.RawMessage(nil), data...)}, nil
	}
	if err := json.Unmarshal(data, ev); err != nil {
		return nil, fmt.Errorf("ari: decode %s: %w", env.Type, err)
	}
	return ev, nil
}

// newEvent returns a new event of type typ, nil for a type vipgate does
// not decode.
func newEvent(typ string) Event {
	switch typ {
	case "StasisStart":
		return new(StasisStart)
	case "StasisEnd":
		return new(StasisEnd)
	case "ChannelDtmfReceived":
		return new(ChannelDtmfReceived)
	case "PlaybackStarted":
		return new(PlaybackStarted)
	case "PlaybackContinuing":
		return new(PlaybackContinuing)
	case "PlaybackFinished":
		return new(PlaybackFinished)
	case "ChannelHangupRequest":
		return new(ChannelHangupRequest)
	case "ChannelDestroyed":
		return new(ChannelDestroyed)
	case "ChannelStateChange":
		return new(ChannelStateChange)
	case "ApplicationReplaced":
		return new(ApplicationReplaced)
	}
	return nil
}

// channelOf returns the channel id an event is about, "" if none. Playback
// events name their channel in target_uri ("channel:<id>").
func channelOf(ev Event) string {
	switch e := ev.(type) {
	case *StasisStart:
		return e.Channel.ID
	case *StasisEnd:
		return e.Channel.ID
	case *ChannelDtmfReceived:
		return e.Channel.ID
	case *ChannelHangupRequest:
		return e.Channel.ID
	case *ChannelDestroyed:
		return e.Channel.ID
	case *ChannelStateChange:
		return e.Channel.ID
	case *PlaybackStarted:
		return targetChannel(e.Playback.TargetURI)
	case *PlaybackContinuing:
		return targetChannel(e.Playback.TargetURI)
	case *PlaybackFinished:
		return targetChannel(e.Playback.TargetURI)
	}
	return ""
}

func targetChannel(uri string) string {
	id, ok := strings.CutPrefix(uri, "channel:")
	if !ok {
		return ""
	}
	return id
}
