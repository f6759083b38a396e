package ari

import (
	"strings"

	"github.com/vipgate/vipgate/gate"
)

// callInfo builds what vipgate knows about a call from its channel and the
// Stasis arguments. The rule for the arguments after the application name:
//
//   - "gate=NAME" and "called=NUMBER" say explicitly what they are;
//   - an argument that is a number (digits, optionally a leading "+") is the
//     called number;
//   - any other non-empty argument is the gate name;
//   - the first argument of each kind wins; empty arguments are skipped.
//
// Without a called number in the arguments, the called number is the
// channel's dialplan extension (where Stasis() ran), unless that is "s".
// So Stasis(vipgate), Stasis(vipgate,${EXTEN}), Stasis(vipgate,hotline) and
// Stasis(vipgate,hotline,${EXTEN}) all work. The caller is the channel's
// caller ID number, the language the channel's language.
func callInfo(ch *Channel, args []string) gate.CallInfo {
	info := gate.CallInfo{
		ID:         ch.ID,
		Source:     "ari",
		Caller:     ch.Caller.Number,
		CallerName: ch.Caller.Name,
		Language:   ch.Language,
	}
	var called, name string
	for _, a := range args {
		a = strings.TrimSpace(a)
		switch {
		case a == "":
		case strings.HasPrefix(a, "gate="):
			if v := strings.TrimPrefix(a, "gate="); v != "" && name == "" {
				name = v
			}
		case strings.HasPrefix(a, "called="):
			if v := strings.TrimPrefix(a, "called="); v != "" && called == "" {
				called = v
			}
		case isNumber(a):
			if called == "" {
				called = a
			}
		default:
			if name == "" {
				name = a
			}
		}
	}
	if called == "" && ch.Dialplan.Exten != "s" {
		called = ch.Dialplan.Exten
	}
	info.Called = called
	info.GateName = name
	return info
}

// isNumber reports whether s is digits with an optional leading "+".
func isNumber(s string) bool {
	s = strings.TrimPrefix(s, "+")
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// stasisArgs recovers the Stasis arguments of a channel that is parked in
// Stasis from its dialplan app_data ("vipgate,hotline,1000"): everything
// after the application name. A recovered call has no StasisStart, so this
// is the only place its arguments are still known.
func stasisArgs(ch *Channel) []string {
	if !strings.EqualFold(ch.Dialplan.AppName, "Stasis") || ch.Dialplan.AppData == "" {
		return nil
	}
	parts := strings.Split(ch.Dialplan.AppData, ",")
	return parts[1:]
}
