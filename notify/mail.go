package notify

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	mail "github.com/wneessen/go-mail"

	"github.com/vipgate/vipgate/gate"
)

// SMTP security modes.
const (
	SMTPStartTLS = "starttls" // STARTTLS required (the default)
	SMTPTLS      = "tls"      // TLS from the first byte (port 465)
	SMTPNone     = "none"     // no TLS (a relay on localhost)
)

// SMTP is the mail server e-mail notifications go through.
type SMTP struct {
	Host string
	// Port, 0 means 587 (465 with SMTPTLS).
	Port int
	// Security is SMTPStartTLS (default), SMTPTLS or SMTPNone.
	Security string
	// TLSConfig verifies the server; nil means the system roots and Host.
	TLSConfig *tls.Config
	// Username and Password, if Username is set, log in: over TLS with
	// the strongest mechanism the server offers (SCRAM, CRAM-MD5, LOGIN,
	// PLAIN), without TLS with PLAIN to localhost only.
	Username string
	Password Password
	// From is the sender address.
	From string
	// HELO is the name vipgate greets with; "" means the library's default.
	HELO string
}

// Password is an SMTP password; it never prints.
type Password string

// String redacts the password.
func (Password) String() string { return "[secret]" }

// GoString redacts the password.
func (Password) GoString() string { return "[secret]" }

// LogValue redacts the password.
func (Password) LogValue() slog.Value { return slog.StringValue("[secret]") }

// Check reports what is wrong with s, naming the setting.
func (s *SMTP) Check() error {
	var es gate.ValidationErrors
	if s.Host == "" {
		es = append(es, &gate.ValidationError{Field: "smtp-host", Problem: "is required"})
	}
	if s.Port < 0 || s.Port > 65535 {
		es = append(es, &gate.ValidationError{Field: "smtp-port", Problem: "must be 1 to 65535"})
	}
	if !slices.Contains([]string{"", SMTPStartTLS, SMTPTLS, SMTPNone}, s.Security) {
		es = append(es, &gate.ValidationError{Field: "smtp-security", Problem: fmt.Sprintf("must be %s, %s or %s", SMTPStartTLS, SMTPTLS, SMTPNone)})
	}
	if s.From == "" || strings.ContainsAny(s.From, "\r\n") || !strings.Contains(s.From, "@") {
		es = append(es, &gate.ValidationError{Field: "smtp-from", Problem: "must be the sender's e-mail address"})
	}
	if s.Password != "" && s.Username == "" {
		es = append(es, &gate.ValidationError{Field: "smtp-username", Problem: "is required with a password"})
	}
	return es.Err()
}

func (s *SMTP) options(timeout time.Duration) []mail.Option {
	port := s.Port
	opts := []mail.Option{mail.WithTimeout(timeout)}
	switch s.Security {
	case SMTPTLS:
		if port == 0 {
			port = 465
		}
		opts = append(opts, mail.WithSSL())
	case SMTPNone:
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	default:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	}
	if port == 0 {
		port = 587
	}
	opts = append(opts, mail.WithPort(port))
	if s.TLSConfig != nil {
		opts = append(opts, mail.WithTLSConfig(s.TLSConfig))
	}
	if s.Username != "" {
		// Over TLS the strongest mechanism the server offers; without
		// TLS, PLAIN, which the library sends to localhost only.
		auth := mail.SMTPAuthAutoDiscover
		if s.Security == SMTPNone {
			auth = mail.SMTPAuthPlain
		}
		opts = append(opts, mail.WithSMTPAuth(auth), mail.WithUsername(s.Username), mail.WithPassword(string(s.Password)))
	}
	if s.HELO != "" {
		opts = append(opts, mail.WithHELO(s.HELO))
	}
	return opts
}

// sendMail sends the event as a plain-text e-mail; its Message-ID is the
// message's idempotency key, the same on every attempt.
func (n *Notifier) sendMail(ctx context.Context, g *gate.Gate, to *gate.NotifyEmail, m *gate.OutboxMessage) error {
	s := n.cfg.SMTP
	if s == nil {
		return fmt.Errorf("no SMTP server configured (--smtp-host)")
	}
	var e Event
	if err := json.Unmarshal(m.Event, &e); err != nil {
		return permanent{fmt.Errorf("decode event: %w", err)}
	}
	msg := mail.NewMsg()
	if err := msg.From(s.From); err != nil {
		return permanent{fmt.Errorf("smtp from address: %w", err)}
	}
	if err := msg.To(to.To...); err != nil {
		return permanent{fmt.Errorf("recipient address: %w", err)}
	}
	msg.Subject(Subject(&e))
	msg.SetMessageIDWithValue(m.Key + "@vipgate")
	msg.SetDateWithValue(e.At)
	msg.SetGenHeader(mail.Header(HeaderIdempotencyKey), m.Key)
	msg.SetGenHeader(mail.Header(HeaderEvent), e.Type)
	msg.SetBulk()
	msg.SetBodyString(mail.TypeTextPlain, Text(&e, g.Location()))
	c, err := mail.NewClient(s.Host, s.options(n.cfg.Timeout)...)
	if err != nil {
		return permanent{fmt.Errorf("smtp client: %w", err)}
	}
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("smtp %s: %w", s.Host, err)
	}
	return nil
}

var titles = map[string]string{
	string(gate.EventVIPPassed):     "VIP passed",
	string(gate.EventLockedOut):     "caller locked out",
	string(gate.EventDecideFailed):  "gate failed to decide",
	string(gate.EventBreakerOpened): "webhook breaker opened",
	TypeSummary:                     "notifications held back by the rate limit",
}

// Subject is the e-mail subject of e.
func Subject(e *Event) string {
	name := e.Gate.Name
	if name == "" {
		name = e.Gate.ID
	}
	return fmt.Sprintf("vipgate %s: %s", name, titles[e.Type])
}

// Text is the e-mail text of e, times in loc.
func Text(e *Event, loc *time.Location) string {
	var b strings.Builder
	ts := func(t time.Time) string { return t.In(loc).Format("2006-01-02 15:04:05 MST") }
	fmt.Fprintf(&b, "%s at gate %s (%s), %s.\n\n", titles[e.Type], e.Gate.ID, e.Gate.Name, ts(e.At))
	if c := e.Call; c != nil {
		fmt.Fprintf(&b, "Caller:   %s\nCalled:   %s\nOutcome:  %s\nAttempts: %d\n", orDash(c.Caller), orDash(c.Called), c.Outcome, c.Attempts)
		if c.Target != "" {
			fmt.Fprintf(&b, "Target:   %s\n", c.Target)
		}
		if c.ChannelID != "" {
			fmt.Fprintf(&b, "Channel:  %s (%s)\n", c.ChannelID, c.Source)
		}
	}
	if l := e.Lockout; l != nil {
		who := l.Caller
		if who == gate.AnyCaller {
			who = "every caller of the gate"
		}
		fmt.Fprintf(&b, "Locked out: %s\nWrong PINs: %d\nUntil:      %s\n", who, l.Failures, ts(l.Until))
	}
	if e.Reason != "" {
		fmt.Fprintf(&b, "Reason:   %s\n", e.Reason)
	}
	if s := e.Summary; s != nil {
		fmt.Fprintf(&b, "From %s to %s the rule's rate limit held back:\n", ts(s.From), ts(s.To))
		for _, k := range slicesSorted(s.Suppressed) {
			fmt.Fprintf(&b, "  %s: %d\n", k, s.Suppressed[k])
		}
	}
	fmt.Fprintf(&b, "\nRule: %s\nEvent: %s\n", e.Rule, e.ID)
	return b.String()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func slicesSorted(m map[string]int) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
