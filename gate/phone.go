package gate

import (
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// The override from a phone: an internal caller dials an extension whose
// dialplan hands the call to vipgate with the word "override" first
// (Stasis(vipgate,override,hotline,toggle),
// AGI(agi://host/override?gate=hotline&action=toggle)), types the gate's
// override PIN and hears the gate's new state. The override is set through
// the same store path as the admin API's (and so audited), with the actor
// "phone:<caller number>". Every change of a gate's override, from any
// path, is shown as the state of the gate's device (DeviceState), for a
// BLF key.

// DialplanOverride is the first dialplan argument (or the FastAGI script
// path) that makes a call a phone override instead of a screened call.
const DialplanOverride = "override"

// OverrideAction is what a phone override call does to the gate's
// override.
type OverrideAction string

// Phone override actions.
const (
	// ActionToggle clears an override in effect (back on schedule), and
	// otherwise forces the gate into the state opposite to the one it is
	// in now, so that each call changes what callers get.
	ActionToggle OverrideAction = "toggle"
	// ActionOn forces the gate active (screening), ActionOff inactive.
	ActionOn  OverrideAction = "on"
	ActionOff OverrideAction = "off"
	// ActionSchedule clears the override: the gate follows its activation
	// again.
	ActionSchedule OverrideAction = "schedule"
)

// OverrideActions lists the actions.
var OverrideActions = []OverrideAction{ActionToggle, ActionOn, ActionOff, ActionSchedule}

// OverrideRequest is what the dialplan asks of a phone override call.
type OverrideRequest struct {
	// Gate is the gate name (its ID or one of its match names); "" when
	// the dialplan gave none.
	Gate string
	// Action is what to do (ActionToggle when the dialplan gave none).
	Action OverrideAction
	// Problem says what is wrong with the request ("" when nothing):
	// an unknown action word or no gate. Such a call hears the
	// unavailable prompt and is hung up.
	Problem string
}

// String describes the request (it holds no secret).
func (r OverrideRequest) String() string {
	return fmt.Sprintf("gate=%s action=%s", r.Gate, r.Action)
}

// overrideRequest applies the phone override rule to d, the same over ARI
// and FastAGI. The call is a phone override when d.Path is "override" or
// the first non-empty argument is "override" (case-insensitive); then:
//
//   - the FastAGI URL's query (agi://host/override?gate=G&action=toggle)
//     counts as key=value arguments before the others;
//   - "gate=NAME" names the gate and "action=WORD" the action; the first
//     of each wins, and they win over plain arguments;
//   - a plain argument that is an action word (toggle, on, off, schedule;
//     case-insensitive) is the action; the first other plain argument is
//     the gate; a script path other than "override" is the gate when no
//     argument names one;
//   - other key=value arguments are ignored and their keys returned in
//     unknown;
//   - without an action the action is toggle.
//
// ok is false when the call is no phone override.
func (d Dialplan) overrideRequest() (req OverrideRequest, unknown []string, ok bool) {
	args := make([]string, 0, len(d.Args))
	for _, a := range d.Args {
		if a = strings.TrimSpace(a); a != "" {
			args = append(args, a)
		}
	}
	switch {
	case strings.EqualFold(d.Path, DialplanOverride):
	case len(args) > 0 && strings.EqualFold(args[0], DialplanOverride):
		args = args[1:]
	default:
		return OverrideRequest{}, nil, false
	}
	var query []string
	if q, err := url.ParseQuery(d.Query); err == nil {
		for _, k := range sortedKeys(q) {
			for _, v := range q[k] {
				query = append(query, k+"="+v)
			}
		}
	} else if d.Query != "" {
		req.Problem = "the URL's query cannot be read"
	}
	var explicitGate, explicitAction, plainGate, plainAction string
	for _, a := range append(query, args...) {
		if k, v, isKV := strings.Cut(a, "="); isKV {
			v = strings.TrimSpace(v)
			switch k = strings.ToLower(strings.TrimSpace(k)); k {
			case "gate":
				if explicitGate == "" {
					explicitGate = v
				}
			case "action":
				if explicitAction == "" {
					explicitAction = v
				}
			default:
				unknown = append(unknown, k)
			}
			continue
		}
		if isOverrideAction(a) {
			if plainAction == "" {
				plainAction = a
			}
		} else if plainGate == "" {
			plainGate = a
		}
	}
	path := d.Path
	if strings.EqualFold(path, DialplanOverride) {
		path = ""
	}
	req.Gate = firstOf(explicitGate, plainGate, path)
	action := strings.ToLower(firstOf(explicitAction, plainAction, string(ActionToggle)))
	req.Action = OverrideAction(action)
	switch {
	case !isOverrideAction(action):
		req.Problem = fmt.Sprintf("unknown override action %q (want toggle, on, off or schedule)", action)
	case req.Gate == "" && req.Problem == "":
		req.Problem = "no gate named (give the gate after override, or gate=NAME)"
	}
	return req, unknown, true
}

func isOverrideAction(s string) bool {
	for _, a := range OverrideActions {
		if strings.EqualFold(s, string(a)) {
			return true
		}
	}
	return false
}

func sortedKeys(q url.Values) []string {
	// A stable order, so that the first of a kind is well defined.
	return slices.Sorted(maps.Keys(q))
}

// PhoneOverride lets internal callers set the gate's override from a
// phone with a PIN of its own.
type PhoneOverride struct {
	// PIN is the hashed override PIN (set from a clear PIN with
	// Hasher.Hash, like the static PIN; write-only in the admin API). A
	// gate without it refuses phone overrides.
	PIN *PINHash `json:"pin_hash,omitempty"`
	// For is how long an override set from a phone lasts; 0 means until
	// it is cleared (by a phone, the API or the command line).
	For Duration `json:"for,omitempty"`
	// UntilChange makes an override set from a phone last until the
	// schedule's next change by itself (as the API's until_change); for
	// schedule gates only. It cannot be combined with For.
	UntilChange bool `json:"until_change,omitempty"`
	// Callers says who may call: "internal" (the default: callers whose
	// number the gate's numbering reads as internal, see NumberRules) or
	// "any" (the PIN alone decides).
	Callers string `json:"callers,omitempty"`
	// Device is the device whose state shows the gate's override, for a
	// BLF key; empty means DefaultDevice(gate ID).
	Device string `json:"device,omitempty"`
}

// Phone override caller rules.
const (
	PhoneCallersInternal = "internal"
	PhoneCallersAny      = "any"
)

// maxPhoneOverrideFor bounds PhoneOverride.For.
const maxPhoneOverrideFor = 366 * 24 * time.Hour

// DevicePrefix is the start of a gate's default device name.
const DevicePrefix = "Custom:vipgate-"

// DefaultDevice is the device of gate id when its phone override names
// none: "Custom:vipgate-<id>".
func DefaultDevice(id string) string { return DevicePrefix + id }

// Device returns the device whose state shows g's override.
func (g *Gate) Device() string {
	if p := g.PhoneOverride; p != nil && p.Device != "" {
		return p.Device
	}
	return DefaultDevice(g.ID)
}

var deviceRE = regexp.MustCompile(`^(Custom|Stasis):[A-Za-z0-9_.+-]{1,80}$`)

func (g *Gate) validatePhoneOverride(es *ValidationErrors) {
	p := g.PhoneOverride
	if p == nil {
		return
	}
	if h := p.PIN; h == nil {
		es.add("phone_override.pin_hash", "is required (the PIN callers type to change the override)")
	} else if len(h.Salt) == 0 || len(h.Sum) != 32 {
		es.add("phone_override.pin_hash", "is malformed")
	}
	switch {
	case p.For < 0 || p.For.D() > maxPhoneOverrideFor:
		es.add("phone_override.for", "must be 0 (until cleared) to %s", maxPhoneOverrideFor)
	case p.For > 0 && p.UntilChange:
		es.add("phone_override.until_change", "cannot be combined with for")
	}
	if p.UntilChange && g.Activation.Mode != ActiveSchedule {
		es.add("phone_override.until_change", "needs activation mode schedule (only a schedule changes by itself)")
	}
	switch p.Callers {
	case "", PhoneCallersInternal, PhoneCallersAny:
	default:
		es.add("phone_override.callers", "must be internal or any")
	}
	if p.Device != "" && !deviceRE.MatchString(p.Device) {
		es.add("phone_override.device", "must be Custom:NAME or Stasis:NAME (letters, digits, '_', '.', '+', '-'; at most 80)")
	}
}

// OverrideState is what a gate's override says at an instant.
type OverrideState string

// Override states.
const (
	// OverrideForcedOn: an override forces the gate active.
	OverrideForcedOn OverrideState = "on"
	// OverrideForcedOff: an override forces the gate inactive.
	OverrideForcedOff OverrideState = "off"
	// OverrideNone: no override is in effect; the gate follows its
	// activation.
	OverrideNone OverrideState = "schedule"
)

// OverrideStateAt returns g's override state at now.
func (g *Gate) OverrideStateAt(now time.Time) OverrideState {
	switch o := g.Override; {
	case !o.InEffect(now):
		return OverrideNone
	case o.Active:
		return OverrideForcedOn
	default:
		return OverrideForcedOff
	}
}

// Device states, in Asterisk's words.
const (
	DeviceNotInUse = "NOT_INUSE"
	DeviceInUse    = "INUSE"
	DeviceOnHold   = "ONHOLD"
)

// DeviceState is the device state that shows s: INUSE while the gate is
// forced on, ONHOLD while it is forced off (most phones blink a BLF key
// for it), NOT_INUSE while it follows its schedule.
func (s OverrideState) DeviceState() string {
	switch s {
	case OverrideForcedOn:
		return DeviceInUse
	case OverrideForcedOff:
		return DeviceOnHold
	}
	return DeviceNotInUse
}

// ExpiryAfter returns when the override state of g changes by itself
// after now (its override expires), or the zero time.
func (g *Gate) ExpiryAfter(now time.Time) time.Time {
	if o := g.Override; o.InEffect(now) && !o.Until.IsZero() {
		return o.Until
	}
	return time.Time{}
}

// Prompts of the phone override. They are not upload keys: a gate's
// prompts may name other sounds for them; their defaults are Asterisk's
// core prompts, which every installation has.
const (
	// PromptOverrideOn confirms that the gate is now forced active.
	PromptOverrideOn PromptKey = "override-on"
	// PromptOverrideOff confirms that the gate is now forced inactive.
	PromptOverrideOff PromptKey = "override-off"
	// PromptOverrideSchedule confirms that the gate follows its schedule
	// again.
	PromptOverrideSchedule PromptKey = "override-schedule"
)

// OverridePromptKeys lists the phone override's prompt keys.
var OverridePromptKeys = []PromptKey{PromptOverrideOn, PromptOverrideOff, PromptOverrideSchedule}

// overridePromptDefaults are the core Asterisk sounds played when a
// gate's prompts name none.
var overridePromptDefaults = map[PromptKey]string{
	PromptOverrideOn:       "activated",
	PromptOverrideOff:      "de-activated",
	PromptOverrideSchedule: "cancelled",
}

// confirmPrompt returns the prompt that confirms state s at g.
func (g *Gate) confirmPrompt(s OverrideState, lang string) Prompt {
	key := PromptOverrideSchedule
	switch s {
	case OverrideForcedOn:
		key = PromptOverrideOn
	case OverrideForcedOff:
		key = PromptOverrideOff
	}
	if lang == "" {
		lang = g.Language
	}
	name := overridePromptDefaults[key]
	if n := g.Prompts[key]; n != "" {
		name = n
	}
	return Prompt{Key: key, Name: name, Lang: lang}
}

// phoneOverride returns the override a phone call with action sets at g
// at now; active is whether g's activation (without an override) makes it
// active now, for toggle; cal gives the calendars' events for an override
// until the schedule's next change. nil means the override is cleared.
func (g *Gate) phoneOverride(action OverrideAction, active bool, now time.Time, cal CalendarEvents) (*Override, error) {
	var on bool
	switch action {
	case ActionSchedule:
		return nil, nil
	case ActionOn:
		on = true
	case ActionOff:
	case ActionToggle:
		if g.Override.InEffect(now) {
			return nil, nil
		}
		on = !active
	default:
		return nil, fmt.Errorf("unknown override action %q", action)
	}
	o := &Override{Active: on, Reason: "set from a phone", SetAt: now}
	p := g.PhoneOverride
	switch {
	case p == nil:
	case p.UntilChange:
		t, err := g.NextChangeWith(now, cal)
		if err != nil {
			return nil, fmt.Errorf("until the schedule's next change: %w", err)
		}
		o.Until, o.UntilChange = t, true
	case p.For > 0:
		o.Until = now.Add(p.For.D())
	}
	return o, nil
}

// SetPhonePIN hashes the clear override PIN pin with h into g's phone
// override (which must be set), by the rules of the static PIN: the gate's
// PIN lengths, and no weak PIN when the gate rejects them. An error is a
// *ValidationError naming phone_override.pin.
func SetPhonePIN(h *Hasher, g *Gate, pin string) error {
	if err := ValidatePIN(pin, g.Dialogue.MinDigits, g.Dialogue.MaxDigits); err != nil {
		return &ValidationError{Field: "phone_override.pin", Problem: err.Error()}
	}
	if g.Dialogue.RejectWeak {
		if why := WeakPIN(pin); why != "" {
			return &ValidationError{Field: "phone_override.pin", Problem: why}
		}
	}
	ph := h.Hash(pin)
	g.PhoneOverride.PIN = &ph
	return nil
}
