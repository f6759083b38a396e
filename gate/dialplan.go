package gate

import (
	"log/slog"
	"strings"
)

// Dialplan is what the dialplan tells vipgate about a call, in the same
// form for every transport: the arguments of Stasis(vipgate,...) or of
// AGI(agi://host/path,...), the extension where vipgate was reached and a
// way to read the dialed number.
type Dialplan struct {
	// Path is a gate name given by the address the dialplan used: the
	// script path of a FastAGI URL ("hotline" for agi://host/hotline).
	// ARI has none.
	Path string
	// Query is the query of a FastAGI URL (after '?'), read only for a
	// phone override (see OverrideRequest). ARI has none.
	Query string
	// Args are the arguments after the application name or URL.
	Args []string
	// Exten is the extension where the dialplan handed the call over.
	Exten string
	// DNID returns the dialed number (CALLERID(dnid), agi_dnid); "" when
	// it is not known. It is called only when the rule needs it (Exten is
	// "s" and no argument gives the called number), so an adapter may read
	// it lazily. nil means unknown.
	DNID func() string
}

// MaxDialableLen is the longest argument (without a leading '+') that
// counts as a called number.
const MaxDialableLen = 32

// Parse applies vipgate's one rule for dialplan arguments, the same over
// ARI and FastAGI:
//
//   - Arguments are trimmed; empty ones are skipped.
//   - "gate=NAME" names the gate and "called=NUMBER" gives the called
//     number; they win over everything below, wherever they stand. Keys are
//     case-insensitive; an empty value is skipped.
//   - Any other "key=value" argument is ignored: it is neither a gate name
//     nor a number. Its key is returned in unknown (and logged by
//     CallInfo), so that a misspelt "gaet=vip" shows up in the log
//     instead of being taken for a gate.
//   - A dialable string (1 to 32 digits, '*' or '#', with an optional
//     leading '+') is the called number: ${EXTEN}, "+4930123", "*123".
//   - Anything else is a gate name.
//   - The first argument of each kind wins.
//   - Without a gate= argument, Path is the gate name if set, else the
//     first gate-name argument.
//   - Without a called number in the arguments, the called number is Exten;
//     when that is "s" (the call reached the dialplan without a number),
//     the DNID, if there is one.
func (d Dialplan) Parse() (called, gateName string, unknown []string) {
	var explicitGate, explicitCalled, plainGate, plainCalled string
	for _, a := range d.Args {
		a = strings.TrimSpace(a)
		if a == "" {
			continue
		}
		if k, v, ok := strings.Cut(a, "="); ok {
			v = strings.TrimSpace(v)
			switch k = strings.ToLower(strings.TrimSpace(k)); k {
			case "gate":
				if explicitGate == "" {
					explicitGate = v
				}
			case "called":
				if explicitCalled == "" {
					explicitCalled = v
				}
			default:
				unknown = append(unknown, k)
			}
			continue
		}
		if IsDialable(a) {
			if plainCalled == "" {
				plainCalled = a
			}
		} else if plainGate == "" {
			plainGate = a
		}
	}
	gateName = firstOf(explicitGate, d.Path, plainGate)
	called = firstOf(explicitCalled, plainCalled)
	if called == "" {
		if d.Exten != "s" {
			called = d.Exten
		} else if d.DNID != nil {
			called = d.DNID()
		}
	}
	return called, gateName, unknown
}

// CallInfo returns info with Called and GateName filled in by Parse, or,
// for a phone override call (see overrideRequest), with Override set and
// GateName the gate it names. Ignored arguments are logged on log (at
// Warn, by key only), if log is not nil.
func (d Dialplan) CallInfo(info CallInfo, log *slog.Logger) CallInfo {
	var unknown []string
	if req, unk, ok := d.overrideRequest(); ok {
		info.Called, _, _ = Dialplan{Exten: d.Exten, DNID: d.DNID}.Parse()
		info.GateName, info.Override = req.Gate, &req
		if len(unk) > 0 && log != nil {
			log.Warn("dialplan arguments ignored: unknown key (use gate=NAME or action=toggle|on|off|schedule)", LogKeys, unk)
		}
		return info
	}
	info.Called, info.GateName, unknown = d.Parse()
	if len(unknown) > 0 && log != nil {
		log.Warn("dialplan arguments ignored: unknown key (use gate=NAME or called=NUMBER)", LogKeys, unknown)
	}
	return info
}

// IsDialable reports whether s is a number a caller could dial: an
// optional leading '+' and then 1 to MaxDialableLen digits, '*' or '#'.
func IsDialable(s string) bool {
	s = strings.TrimPrefix(s, "+")
	if s == "" || len(s) > MaxDialableLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c == '*' || c == '#') {
			return false
		}
	}
	return true
}

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
