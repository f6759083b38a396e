package notify

import (
	"time"

	"github.com/vipgate/vipgate/gate"
)

// TypeSummary is the Type of the event that stands for the events a rate
// limit held back.
const TypeSummary = "summary"

// Event is what a notification says, as the JSON body of an event webhook
// and the text of an e-mail. It never holds a PIN, typed digits or a
// secret.
type Event struct {
	// ID is the event's ID: the same on every channel and every attempt.
	ID string `json:"id"`
	// Type is a gate.NotifyEvent or TypeSummary.
	Type string `json:"type"`
	// At is when it happened.
	At   time.Time `json:"at"`
	Gate GateRef   `json:"gate"`
	// Rule is the notification rule that sent it.
	Rule string `json:"rule"`
	// Call is the call that caused it (vip_passed, decide_failed).
	Call *Call `json:"call,omitempty"`
	// Lockout is the lockout that was set (locked_out).
	Lockout *Lockout `json:"lockout,omitempty"`
	// Reason is why the gate failed to decide (decide_failed: the call
	// log's error class) or what opened (breaker_opened: "webhook").
	Reason string `json:"reason,omitempty"`
	// Summary counts the events a rate limit held back (summary).
	Summary *Summary `json:"summary,omitempty"`
}

// GateRef names a gate.
type GateRef struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}

// Call is the part of a call-log row an event carries.
type Call struct {
	Source     string         `json:"source,omitempty"`
	ChannelID  string         `json:"channel_id,omitempty"`
	Caller     string         `json:"caller"`
	Called     string         `json:"called"`
	Mode       gate.IdentMode `json:"mode,omitempty"`
	Verdict    gate.Verdict   `json:"verdict,omitempty"`
	Outcome    gate.Outcome   `json:"outcome"`
	Attempts   int            `json:"attempts"`
	Target     string         `json:"target,omitempty"`
	ErrorClass string         `json:"error_class,omitempty"`
}

// Lockout is a lockout an event reports.
type Lockout struct {
	// Caller is the locked-out number, or "*" for the whole gate.
	Caller   string    `json:"caller"`
	Until    time.Time `json:"until"`
	Failures int       `json:"failures"`
}

// Summary counts events of one rule that its rate limit held back in a
// minute.
type Summary struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// Suppressed counts the held-back events by type.
	Suppressed map[string]int `json:"suppressed"`
}

func callOf(r *gate.CallRecord) *Call {
	return &Call{
		Source: r.Source, ChannelID: r.ChannelID, Caller: r.Caller, Called: r.Called, Mode: r.Mode,
		Verdict: r.Verdict, Outcome: r.Outcome, Attempts: r.Attempts, Target: r.Target, ErrorClass: r.ErrorClass,
	}
}

// kindOf returns the notification event a finished call is, if any: a
// correct PIN or an allow entry at an active gate is vip_passed, an
// internal failure routed by the failure policy is decide_failed.
func kindOf(r *gate.CallRecord) (gate.NotifyEvent, bool) {
	switch {
	case r.GateID == "":
		return "", false
	case r.Outcome == gate.OutcomeFailed:
		return gate.EventDecideFailed, true
	case !r.Active:
		return "", false
	case r.Outcome == gate.OutcomePINOK:
		return gate.EventVIPPassed, true
	case r.EntryID != 0 && r.Verdict == gate.VerdictPass && (r.Outcome == gate.OutcomePassed || r.Outcome == gate.OutcomeForwarded):
		return gate.EventVIPPassed, true
	}
	return "", false
}
