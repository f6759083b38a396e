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

// StasisEnd: a channel left the application; it is out of vipgate's control.
type StasisEnd struct {
	Envelope
	Channel Channel `json:"channel"`
}

// ChannelDtmfReceived: the caller pressed a key. Digit must never be logged;
// LogValue leaves it out.
type ChannelDtmfReceived struct {
	Envelope
	Digit      string  `json:"digit"`
	DurationMs int     `json:"duration_ms"`
	Channel    Channel `json:"channel"`
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
	Cause     int     `json:"cause"`
	Soft      bool    `json:"soft"`
	TechCause int     `json:"tech_cause,omitempty"`
	Channel   Channel `json:"channel"`
}

// ChannelDestroyed: the channel is gone (rarely seen after StasisEnd).
type ChannelDestroyed struct {
	Envelope
	Cause     int     `json:"cause"`
	CauseTxt  string  `json:"cause_txt"`
	TechCause int     `json:"tech_cause,omitempty"`
	Channel   Channel `json:"channel"`
}

// ChannelStateChange: the channel's state changed (Channel.State is new).
type ChannelStateChange struct {
	Envelope
	Channel Channel `json:"channel"`
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
	// Asterisk writes the type first in the events vipgate uses: those
	// are read in one pass over the message. The two-pass decoding gives
	// the same events, parsing them twice; it reads the other types (only
	// their envelope) and whatever the one pass refuses.
	if knownType[leadingType(data)] {
		var w wireEvent
		if json.Unmarshal(data, &w) == nil {
			if ev := w.event(); ev != nil {
				return ev, nil
			}
		}
	}
	return decodeEvent(data)
}

// knownType holds the event types wireEvent.event returns.
var knownType = map[string]bool{
	"StasisStart": true, "StasisEnd": true, "ChannelDtmfReceived": true,
	"PlaybackStarted": true, "PlaybackContinuing": true, "PlaybackFinished": true,
	"ChannelHangupRequest": true, "ChannelDestroyed": true, "ChannelStateChange": true,
	"ApplicationReplaced": true,
}

// leadingType returns the type of a message that begins {"type":"X", or
// "" (the message may still have a type elsewhere).
func leadingType(data []byte) string {
	rest, ok := bytes.CutPrefix(data, []byte(`{"type":"`))
	if !ok {
		return ""
	}
	for i, c := range rest {
		switch {
		case c == '"':
			return string(rest[:i])
		case c < 'A' || c > 'z' || (c > 'Z' && c < 'a'):
			return ""
		}
	}
	return ""
}

// wireEvent has the fields of every event type DecodeEvent knows, so that
// one json.Unmarshal reads any of them.
type wireEvent struct {
	Envelope
	Args           []string  `json:"args"`
	Channel        *Channel  `json:"channel"`
	ReplaceChannel *Channel  `json:"replace_channel"`
	Digit          string    `json:"digit"`
	DurationMs     int       `json:"duration_ms"`
	Playback       *Playback `json:"playback"`
	Cause          int       `json:"cause"`
	Soft           bool      `json:"soft"`
	TechCause      int       `json:"tech_cause"`
	CauseTxt       string    `json:"cause_txt"`
}

// event returns the typed event w holds, or nil for a type it does not
// know or a message without a type (which decodeEvent then handles).
func (w *wireEvent) event() Event {
	ch := func() Channel {
		if w.Channel == nil {
			return Channel{}
		}
		return *w.Channel
	}
	pb := func() Playback {
		if w.Playback == nil {
			return Playback{}
		}
		return *w.Playback
	}
	switch w.Type {
	case "StasisStart":
		return &StasisStart{Envelope: w.Envelope, Args: w.Args, Channel: ch(), ReplaceChannel: w.ReplaceChannel}
	case "StasisEnd":
		return &StasisEnd{Envelope: w.Envelope, Channel: ch()}
	case "ChannelDtmfReceived":
		return &ChannelDtmfReceived{Envelope: w.Envelope, Digit: w.Digit, DurationMs: w.DurationMs, Channel: ch()}
	case "PlaybackStarted":
		return &PlaybackStarted{Envelope: w.Envelope, Playback: pb()}
	case "PlaybackContinuing":
		return &PlaybackContinuing{Envelope: w.Envelope, Playback: pb()}
	case "PlaybackFinished":
		return &PlaybackFinished{Envelope: w.Envelope, Playback: pb()}
	case "ChannelHangupRequest":
		return &ChannelHangupRequest{Envelope: w.Envelope, Cause: w.Cause, Soft: w.Soft, TechCause: w.TechCause, Channel: ch()}
	case "ChannelDestroyed":
		return &ChannelDestroyed{Envelope: w.Envelope, Cause: w.Cause, CauseTxt: w.CauseTxt, TechCause: w.TechCause, Channel: ch()}
	case "ChannelStateChange":
		return &ChannelStateChange{Envelope: w.Envelope, Channel: ch()}
	case "ApplicationReplaced":
		return &ApplicationReplaced{Envelope: w.Envelope}
	}
	return nil
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
	var ev Event
	switch env.Type {
	case "StasisStart":
		ev = new(StasisStart)
	case "StasisEnd":
		ev = new(StasisEnd)
	case "ChannelDtmfReceived":
		ev = new(ChannelDtmfReceived)
	case "PlaybackStarted":
		ev = new(PlaybackStarted)
	case "PlaybackContinuing":
		ev = new(PlaybackContinuing)
	case "PlaybackFinished":
		ev = new(PlaybackFinished)
	case "ChannelHangupRequest":
		ev = new(ChannelHangupRequest)
	case "ChannelDestroyed":
		ev = new(ChannelDestroyed)
	case "ChannelStateChange":
		ev = new(ChannelStateChange)
	case "ApplicationReplaced":
		ev = new(ApplicationReplaced)
	default:
		return &Generic{Envelope: env, Raw: append(json.RawMessage(nil), data...)}, nil
	}
	if err := json.Unmarshal(data, ev); err != nil {
		return nil, fmt.Errorf("ari: decode %s: %w", env.Type, err)
	}
	return ev, nil
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
