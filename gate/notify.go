package gate

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// NotifyEvent is a kind of event a notification rule may ask for.
type NotifyEvent string

// Notification events.
const (
	// EventVIPPassed: a caller got through an active gate by proving who
	// they are (a correct PIN) or by an allow entry.
	EventVIPPassed NotifyEvent = "vip_passed"
	// EventLockedOut: a caller (or, with caller "*", the whole gate) was
	// locked out after too many wrong PINs.
	EventLockedOut NotifyEvent = "locked_out"
	// EventDecideFailed: the gate could not decide a call (store down,
	// webhook or calendar failing) and its failure policy routed it; the
	// event names the reason (the call log's error class).
	EventDecideFailed NotifyEvent = "decide_failed"
	// EventBreakerOpened: the gate's webhook circuit breaker opened.
	EventBreakerOpened NotifyEvent = "breaker_opened"
)

// NotifyEvents lists every notification event.
var NotifyEvents = []NotifyEvent{EventVIPPassed, EventLockedOut, EventDecideFailed, EventBreakerOpened}

// NotifyRule is one notification rule of a gate: which events go to
// which channels, how many per minute, and when to hold them back.
type NotifyRule struct {
	// Name identifies the rule within the gate (an ID: lower-case
	// letters, digits, '-', '_').
	Name string `json:"name"`
	// Events are the events the rule sends; empty means all.
	Events []NotifyEvent `json:"events,omitempty"`
	// Webhook and Email are the rule's channels; at least one is set.
	Webhook *NotifyWebhook `json:"webhook,omitempty"`
	Email   *NotifyEmail   `json:"email,omitempty"`
	// RateLimit is the most events the rule sends per minute; the events
	// beyond it are counted and sent as one summary when the minute
	// ends. 0 means no limit.
	RateLimit int `json:"rate_limit,omitempty"`
	// QuietHours, if set, holds the rule's events back during a daily
	// period in the gate's time zone.
	QuietHours *QuietHours `json:"quiet_hours,omitempty"`
}

// NotifyWebhook sends events as signed JSON POST requests.
type NotifyWebhook struct {
	// URL is an absolute http or https URL.
	URL string `json:"url"`
	// Secret signs each request as the authorisation webhook is signed
	// (X-Vipgate-Timestamp, X-Vipgate-Signature); empty sends unsigned.
	// It is stored sealed and shown Redacted.
	Secret string `json:"secret,omitempty"`
}

// NotifyEmail sends events by e-mail through the SMTP server of the serve
// configuration.
type NotifyEmail struct {
	// To are the recipients' addresses.
	To []string `json:"to"`
}

// Quiet-hour actions.
const (
	QuietHold = "hold" // send when the quiet hours end (the default)
	QuietDrop = "drop" // do not send
)

// QuietHours is a daily period, From (inclusive) to To (exclusive), "HH:MM"
// in the gate's time zone; From after To spans midnight ("22:00" to
// "07:00").
type QuietHours struct {
	From string `json:"from"`
	To   string `json:"to"`
	// Action is QuietHold (default) or QuietDrop.
	Action string `json:"action,omitempty"`
}

// Quiet reports whether t lies in the quiet hours, read in loc, and if so
// when they end.
func (q *QuietHours) Quiet(t time.Time, loc *time.Location) (end time.Time, quiet bool) {
	if q == nil {
		return time.Time{}, false
	}
	from, err1 := parseClock(q.From, false)
	to, err2 := parseClock(q.To, true)
	if err1 != nil || err2 != nil || from == to {
		return time.Time{}, false
	}
	lt := t.In(loc)
	m := lt.Hour()*60 + lt.Minute()
	y, mo, d := lt.Date()
	switch {
	case from < to && m >= from && m < to:
		// today's period
	case from > to && m >= from:
		d++ // ends tomorrow
	case from > to && m < to:
		// began yesterday, ends today
	default:
		return time.Time{}, false
	}
	return time.Date(y, mo, d, to/60, to%60, 0, 0, loc), true
}

// Wants reports whether the rule sends event e.
func (r *NotifyRule) Wants(e NotifyEvent) bool {
	return len(r.Events) == 0 || slices.Contains(r.Events, e)
}

// maxNotifyRules bounds the rules of a gate, maxNotifyRecipients the
// recipients of a rule.
const (
	maxNotifyRules      = 16
	maxNotifyRecipients = 20
	maxNotifyRateLimit  = 10000
)

func (g *Gate) validateNotify(es *ValidationErrors) {
	if len(g.Notify) > maxNotifyRules {
		es.add("notify", "has more than %d rules", maxNotifyRules)
	}
	names := map[string]bool{}
	for i := range g.Notify {
		r := &g.Notify[i]
		f := fmt.Sprintf("notify[%d].", i)
		switch {
		case !ValidID(r.Name):
			es.add(f+"name", "must be 1 to 63 lower-case letters, digits, '-' or '_', starting with a letter or digit")
		case names[r.Name]:
			es.add(f+"name", "%q names another rule of the gate too", r.Name)
		}
		names[r.Name] = true
		for j, e := range r.Events {
			if !slices.Contains(NotifyEvents, e) {
				es.add(fmt.Sprintf("%sevents[%d]", f, j), "must be one of %s", joinEvents())
			}
		}
		if r.Webhook == nil && r.Email == nil {
			es.add(f+"webhook", "or email is required: a rule needs a channel")
		}
		if w := r.Webhook; w != nil {
			u, err := url.Parse(w.URL)
			switch {
			case w.URL == "":
				es.add(f+"webhook.url", "is required")
			case err != nil:
				es.add(f+"webhook.url", "is not a valid URL")
			case (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
				es.add(f+"webhook.url", "must be an absolute http or https URL")
			case u.User != nil:
				es.add(f+"webhook.url", "must not carry user:password@ (sign with secret instead)")
			}
			if strings.ContainsFunc(w.Secret, func(r rune) bool { return r < ' ' || r == 0x7f }) {
				es.add(f+"webhook.secret", "must not contain control characters")
			}
		}
		if m := r.Email; m != nil {
			switch {
			case len(m.To) == 0:
				es.add(f+"email.to", "needs at least one address")
			case len(m.To) > maxNotifyRecipients:
				es.add(f+"email.to", "has more than %d addresses", maxNotifyRecipients)
			}
			for j, a := range m.To {
				if len(a) > 254 || !addressRE.MatchString(a) {
					es.add(fmt.Sprintf("%semail.to[%d]", f, j), "must be a plain e-mail address such as ops@example.com")
				}
			}
		}
		if r.RateLimit < 0 || r.RateLimit > maxNotifyRateLimit {
			es.add(f+"rate_limit", "must be 0 (no limit) to %d events per minute", maxNotifyRateLimit)
		}
		if q := r.QuietHours; q != nil {
			if _, err := parseClock(q.From, false); err != nil {
				es.add(f+"quiet_hours.from", "%s", err.Error())
			}
			if _, err := parseClock(q.To, true); err != nil {
				es.add(f+"quiet_hours.to", "%s", err.Error())
			}
			if q.From == q.To && q.From != "" {
				es.add(f+"quiet_hours.to", "must differ from from")
			}
			if q.Action != "" && q.Action != QuietHold && q.Action != QuietDrop {
				es.add(f+"quiet_hours.action", "must be %q or %q", QuietHold, QuietDrop)
			}
		}
	}
}

// addressRE is a plain e-mail address: local@domain, no display name.
var addressRE = regexp.MustCompile(`^[A-Za-z0-9.!#$%&'*+/=?^_{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$`)

func joinEvents() string {
	var s []string
	for _, e := range NotifyEvents {
		s = append(s, string(e))
	}
	return strings.Join(s, ", ")
}

func cloneNotify(rs []NotifyRule) []NotifyRule {
	if rs == nil {
		return nil
	}
	out := slices.Clone(rs)
	for i, r := range rs {
		out[i].Events = slices.Clone(r.Events)
		if r.Webhook != nil {
			w := *r.Webhook
			out[i].Webhook = &w
		}
		if r.Email != nil {
			out[i].Email = &NotifyEmail{To: slices.Clone(r.Email.To)}
		}
		if r.QuietHours != nil {
			q := *r.QuietHours
			out[i].QuietHours = &q
		}
	}
	return out
}

// RedactNotify returns a copy of rules with every webhook secret
// Redacted, for showing a gate.
func RedactNotify(rules []NotifyRule) []NotifyRule {
	out := cloneNotify(rules)
	for i := range out {
		if w := out[i].Webhook; w != nil && w.Secret != "" {
			w.Secret = Redacted
		}
	}
	return out
}

// KeepNotifySecrets puts the stored secret of the rule of the same name in
// prev back where rules holds the Redacted placeholder, so that a gate
// shown and written back loses no secret.
func KeepNotifySecrets(rules, prev []NotifyRule) {
	for i := range rules {
		w := rules[i].Webhook
		if w == nil || w.Secret != Redacted {
			continue
		}
		for _, p := range prev {
			if p.Name == rules[i].Name && p.Webhook != nil {
				w.Secret = p.Webhook.Secret
			}
		}
	}
}

// LockoutObserver is an Observer that is also told when a lockout is set
// (a caller, or with Caller AnyCaller a whole gate, used up its guesses).
// The Flow calls it, like the rest of an Observer, without blocking on it.
type LockoutObserver interface {
	LockoutSet(l *Lockout)
}
