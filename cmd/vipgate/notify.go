package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/vipgate/vipgate/admin"
	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/notify"
	"github.com/vipgate/vipgate/webhook"
)

// notifyOptions are serve's notification settings: the SMTP server that
// e-mail rules use and the outbox's bound. The rules themselves live in
// each gate's notify list.
type notifyOptions struct {
	host, port, security, user, passFile, from, caFile, outboxMax, poll, lease *string
}

func notifyFlags(f *flags) *notifyOptions {
	return &notifyOptions{
		host:      f.str("smtp-host", "VIPGATE_SMTP_HOST", "", "SMTP server for e-mail notifications (default none: e-mail rules fail and are retried until dead)"),
		port:      f.str("smtp-port", "VIPGATE_SMTP_PORT", "0", "SMTP port; 0 means 587 (465 with --smtp-security tls)"),
		security:  f.str("smtp-security", "VIPGATE_SMTP_SECURITY", notify.SMTPStartTLS, "SMTP transport security: starttls (required), tls (from the first byte) or none (a relay on localhost only)"),
		user:      f.str("smtp-user", "VIPGATE_SMTP_USER", "", "SMTP login user (default no login)"),
		passFile:  f.str("smtp-password-file", "VIPGATE_SMTP_PASSWORD_FILE", "", "file holding the SMTP password (or set VIPGATE_SMTP_PASSWORD); never a flag value"),
		from:      f.str("smtp-from", "VIPGATE_SMTP_FROM", "", "sender address of notification e-mails"),
		caFile:    f.str("smtp-ca-file", "VIPGATE_SMTP_CA_FILE", "", "PEM file of CA certificates the SMTP server's certificate is checked against (default the system's)"),
		outboxMax: f.str("notify-outbox-max", "VIPGATE_NOTIFY_OUTBOX_MAX", strconv.Itoa(notify.DefaultOutboxMax), "most notifications waiting in the outbox; beyond it the newest are dropped and counted"),
		lease:     f.str("notify-lease", "VIPGATE_NOTIFY_LEASE", notify.DefaultLease.String(), "how long a sender holds the notifications it claimed; those of a sender that died are sent again after it"),
		poll:      f.str("notify-poll", "VIPGATE_NOTIFY_POLL", notify.DefaultPoll.String(), "how often the sender looks for due notifications (those of this instance are sent at once)"),
	}
}

// smtp returns the SMTP settings, nil without --smtp-host. Errors name
// the option.
func (o *notifyOptions) smtp(e *env) (*notify.SMTP, error) {
	if *o.host == "" {
		return nil, nil
	}
	port, err := strconv.Atoi(*o.port)
	if err != nil {
		return nil, usagef("--smtp-port: want a port number")
	}
	s := &notify.SMTP{Host: *o.host, Port: port, Security: *o.security, Username: *o.user, From: *o.from}
	switch {
	case *o.passFile != "":
		b, err := os.ReadFile(*o.passFile)
		if err != nil {
			return nil, fmt.Errorf("--smtp-password-file: %w", err)
		}
		s.Password = notify.Password(strings.TrimSpace(string(b)))
	case e.getenv("VIPGATE_SMTP_PASSWORD") != "":
		s.Password = notify.Password(e.getenv("VIPGATE_SMTP_PASSWORD"))
	}
	if *o.caFile != "" {
		pem, err := os.ReadFile(*o.caFile)
		if err != nil {
			return nil, fmt.Errorf("--smtp-ca-file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, usagef("--smtp-ca-file: %s holds no PEM certificate", *o.caFile)
		}
		s.TLSConfig = &tls.Config{RootCAs: pool, ServerName: s.Host, MinVersion: tls.VersionTLS12}
	}
	if err := s.Check(); err != nil {
		var ves gate.ValidationErrors
		if errors.As(err, &ves) && len(ves) > 0 {
			return nil, usagef("--%s: %s", ves[0].Field, ves[0].Problem)
		}
		return nil, usagef("smtp: %v", err)
	}
	return s, nil
}

func (o *notifyOptions) bound() (int, error) {
	n, err := strconv.Atoi(*o.outboxMax)
	if err != nil || n < 1 {
		return 0, usagef("--notify-outbox-max: want a number >= 1")
	}
	return n, nil
}

func (o *notifyOptions) durations() (poll, lease time.Duration, err error) {
	poll, err = time.ParseDuration(*o.poll)
	if err != nil || poll < 10*time.Millisecond || poll > time.Minute {
		return 0, 0, usagef("--notify-poll: want a duration from 10ms to 1m, such as 1s")
	}
	lease, err = time.ParseDuration(*o.lease)
	if err != nil || lease < time.Second || lease > time.Hour {
		return 0, 0, usagef("--notify-lease: want a duration from 1s to 1h, such as 2m")
	}
	return poll, lease, nil
}

// newNotifier builds the notifier of serve, nil if the store keeps no
// outbox.
func newNotifier(e *env, o *notifyOptions, d *deps, log *slog.Logger, metrics *admin.Metrics) (*notify.Notifier, error) {
	smtp, err := o.smtp(e)
	if err != nil {
		return nil, err
	}
	max, err := o.bound()
	if err != nil {
		return nil, err
	}
	poll, lease, err := o.durations()
	if err != nil {
		return nil, err
	}
	if d.outbox == nil {
		return nil, nil
	}
	return notify.New(notify.Config{Gates: d.store, Outbox: d.outbox, OutboxMax: max, SMTP: smtp, Poll: poll, Lease: lease,
		Metrics: admin.NewNotifyMetrics(metrics), Logger: log}), nil
}

// webhookObservers tells the metrics and the notifier about the
// authorisation webhook: the notifier hears of breakers that open.
type webhookObservers struct {
	webhook.Observer
	n *notify.Notifier
}

func (w webhookObservers) WebhookBreaker(gateID string, open bool) {
	w.Observer.WebhookBreaker(gateID, open)
	w.n.WebhookBreaker(gateID, open)
}

// runNotifier runs n until ctx is done.
func runNotifier(ctx context.Context, n *notify.Notifier) {
	if n != nil {
		_ = n.Run(ctx)
	}
}
