package ari

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// Time is an ARI timestamp. Asterisk writes "2006-01-02T15:04:05.000-0700"
// (no colon in the offset), which RFC 3339 parsing rejects; Time accepts that
// form, the same without fraction, and RFC 3339.
type Time struct{ time.Time }

// TimeLayout is the layout of ARI timestamps.
const TimeLayout = "2006-01-02T15:04:05.000-0700"

var timeLayouts = []string{TimeLayout, "2006-01-02T15:04:05-0700", time.RFC3339Nano}

// ParseTime parses an ARI timestamp.
func ParseTime(s string) (time.Time, error) {
	var first error
	for _, l := range timeLayouts {
		t, err := time.Parse(l, s)
		if err == nil {
			return t, nil
		}
		if first == nil {
			first = err
		}
	}
	return time.Time{}, fmt.Errorf("ari: timestamp %q: %w", s, first)
}

// UnmarshalJSON reads an ARI timestamp; null and "" give the zero time.
func (t *Time) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		t.Time = time.Time{}
		return nil
	}
	var s string
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' && bytes.IndexByte(b[1:len(b)-1], '\\') < 0 && bytes.IndexByte(b[1:len(b)-1], '"') < 0 {
		// A string without escapes, as Asterisk writes every timestamp.
		s = string(b[1 : len(b)-1])
	} else if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("ari: timestamp must be a string: %w", err)
	}
	if s == "" {
		t.Time = time.Time{}
		return nil
	}
	v, err := ParseTime(s)
	if err != nil {
		return err
	}
	t.Time = v
	return nil
}

// MarshalJSON writes the ARI form.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte(`""`), nil
	}
	return json.Marshal(t.Format(TimeLayout))
}

// CallerID is a caller or connected party.
type CallerID struct {
	Name   string `json:"name"`
	Number string `json:"number"`
}

// DialplanCEP is a channel's place in the dialplan.
type DialplanCEP struct {
	Context  string `json:"context"`
	Exten    string `json:"exten"`
	Priority int64  `json:"priority"`
	AppName  string `json:"app_name,omitempty"`
	AppData  string `json:"app_data,omitempty"`
}

// Channel is ARI's channel snapshot.
type Channel struct {
	ID           string            `json:"id"`
	Name         string            `json:"name"`
	State        string            `json:"state"`
	ProtocolID   string            `json:"protocol_id,omitempty"`
	Caller       CallerID          `json:"caller"`
	Connected    CallerID          `json:"connected"`
	Accountcode  string            `json:"accountcode"`
	Dialplan     DialplanCEP       `json:"dialplan"`
	CreationTime Time              `json:"creationtime"`
	Language     string            `json:"language"`
	ChannelVars  map[string]string `json:"channelvars,omitempty"`
	TenantID     string            `json:"tenantid,omitempty"`
}

// Channel states vipgate looks at (ast_state2str).
const (
	StateUp      = "Up"
	StateRing    = "Ring"
	StateRinging = "Ringing"
	StateDown    = "Down"
)

// Playback is ARI's playback object.
type Playback struct {
	ID           string `json:"id"`
	MediaURI     string `json:"media_uri"`
	NextMediaURI string `json:"next_media_uri,omitempty"`
	TargetURI    string `json:"target_uri"`
	Language     string `json:"language,omitempty"`
	State        string `json:"state"`
}

// Playback states.
const (
	PlaybackStateQueued     = "queued"
	PlaybackStatePlaying    = "playing"
	PlaybackStateContinuing = "continuing"
	PlaybackStateDone       = "done"
	PlaybackStateFailed     = "failed"
)

// Application is ARI's application object.
type Application struct {
	Name        string   `json:"name"`
	ChannelIDs  []string `json:"channel_ids"`
	BridgeIDs   []string `json:"bridge_ids"`
	EndpointIDs []string `json:"endpoint_ids"`
	DeviceNames []string `json:"device_names"`
	// EventsAllowed and EventsDisallowed are the application's event
	// filter; empty lists filter nothing.
	EventsAllowed    []EventType `json:"events_allowed"`
	EventsDisallowed []EventType `json:"events_disallowed"`
}

// EventType names an event type in an application's event filter.
type EventType struct {
	Type string `json:"type"`
}

// AsteriskPing is the answer to GET /asterisk/ping.
type AsteriskPing struct {
	AsteriskID string `json:"asterisk_id"`
	Ping       string `json:"ping"`
	Timestamp  string `json:"timestamp"`
}

// AsteriskInfo is the part of GET /asterisk/info vipgate reads.
type AsteriskInfo struct {
	Build struct {
		OS      string `json:"os"`
		Kernel  string `json:"kernel"`
		Machine string `json:"machine"`
		Date    string `json:"date"`
		User    string `json:"user"`
	} `json:"build"`
	System struct {
		Version  string `json:"version"`
		EntityID string `json:"entity_id"`
	} `json:"system"`
	Status struct {
		StartupTime    Time `json:"startup_time"`
		LastReloadTime Time `json:"last_reload_time"`
	} `json:"status"`
}
