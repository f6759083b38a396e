package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/webhook"
)

// Headers of an event webhook request, besides webhook.HeaderTimestamp and
// webhook.HeaderSignature.
const (
	HeaderIdempotencyKey = "X-Vipgate-Idempotency-Key"
	HeaderEvent          = "X-Vipgate-Event"
	HeaderAttempt        = "X-Vipgate-Delivery-Attempt"
)

// maxAnswer bounds what is read of a receiver's answer.
const maxAnswer = 64 << 10

// permanent marks a failure that no retry can mend (the rule or the gate
// is gone): the message is dead at once.
type permanent struct{ error }

func (p permanent) Unwrap() error { return p.error }

// send claims due outbox messages and delivers them until ctx is done.
func (n *Notifier) send(ctx context.Context) {
	poll := time.NewTimer(0)
	defer poll.Stop()
	lastPrune := time.Time{}
	for {
		select {
		case <-ctx.Done():
			return
		case <-poll.C:
		case <-n.wake:
		}
		full := n.sendBatch(ctx)
		if d, err := n.cfg.Outbox.OutboxDepth(ctx); err == nil {
			n.cfg.Metrics.Depth(d)
		}
		if now := n.cfg.Now(); now.Sub(lastPrune) > time.Hour {
			lastPrune = now
			if _, err := n.cfg.Outbox.PruneOutbox(ctx, now.Add(-n.cfg.DeadRetention)); err != nil && ctx.Err() == nil {
				n.log.Warn("notify: prune dead messages", "err", err)
			}
		}
		wait := n.cfg.Poll
		if full {
			wait = 0
		}
		poll.Reset(wait)
	}
}

// sendBatch claims and delivers one batch; it reports whether the batch
// was full (more may be due).
func (n *Notifier) sendBatch(ctx context.Context) bool {
	ms, err := n.cfg.Outbox.ClaimOutbox(ctx, n.cfg.Owner, n.cfg.Batch, n.cfg.Now(), n.cfg.Lease)
	if err != nil {
		if ctx.Err() == nil {
			n.log.Warn("notify: claim outbox", "err", err)
		}
		return false
	}
	gates := map[string]*gate.Gate{}
	for _, m := range ms {
		if ctx.Err() != nil {
			return false // the lease ends; another run sends it
		}
		n.deliverOne(ctx, gates, m)
	}
	return len(ms) == n.cfg.Batch
}

func (n *Notifier) deliverOne(ctx context.Context, gates map[string]*gate.Gate, m *gate.OutboxMessage) {
	err := n.deliver(ctx, gates, m)
	// The outcome is recorded even if ctx ended meanwhile: a delivered
	// message must not be sent again.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err == nil {
		n.cfg.Metrics.Sent(m.Channel)
		if err := n.cfg.Outbox.CompleteOutbox(rctx, m.ID); err != nil {
			n.log.Warn("notify: mark delivered; the message will be sent again", "key", m.Key, "err", err)
		}
		return
	}
	var p permanent
	dead := errors.As(err, &p) || m.Attempts >= n.cfg.MaxAttempts
	next := n.cfg.Now().Add(backoff(n.cfg.Backoff, n.cfg.MaxBackoff, m.Attempts))
	if dead {
		n.cfg.Metrics.Dead(m.Channel)
		n.log.Warn("notify: delivery given up; message kept as dead", "gate", m.GateID, "rule", m.Rule, "channel", m.Channel,
			"key", m.Key, "attempts", m.Attempts, "err", err)
	} else {
		n.cfg.Metrics.Failed(m.Channel)
		n.log.Info("notify: delivery failed; will retry", "gate", m.GateID, "rule", m.Rule, "channel", m.Channel,
			"key", m.Key, "attempts", m.Attempts, "next", next, "err", err)
	}
	if err := n.cfg.Outbox.RetryOutbox(rctx, m.ID, n.cfg.Owner, next, truncate(err.Error(), 500), dead); err != nil {
		n.log.Warn("notify: record failed delivery", "key", m.Key, "err", err)
	}
}

// backoff is the delay before the attempt after attempts: base doubled
// per attempt up to max, and of that a random part between half and all
// (jitter, so that many messages that failed together do not retry
// together).
func backoff(base, maxDelay time.Duration, attempts int) time.Duration {
	d := base
	for i := 1; i < attempts && d < maxDelay; i++ {
		d *= 2
	}
	d = min(d, maxDelay)
	return d/2 + rand.N(d/2+1)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// deliver sends m on its channel once.
func (n *Notifier) deliver(ctx context.Context, gates map[string]*gate.Gate, m *gate.OutboxMessage) error {
	g, ok := gates[m.GateID]
	if !ok {
		var err error
		g, err = n.cfg.Gates.GetGate(ctx, m.GateID)
		if errors.Is(err, gate.ErrNotFound) {
			return permanent{fmt.Errorf("gate %s is gone", m.GateID)}
		}
		if err != nil {
			return fmt.Errorf("read gate %s: %w", m.GateID, err)
		}
		gates[m.GateID] = g
	}
	var rule *gate.NotifyRule
	for i := range g.Notify {
		if g.Notify[i].Name == m.Rule {
			rule = &g.Notify[i]
		}
	}
	ctx, cancel := context.WithTimeout(ctx, n.cfg.Timeout)
	defer cancel()
	switch {
	case rule == nil:
		return permanent{fmt.Errorf("gate %s has no rule %s any more", m.GateID, m.Rule)}
	case m.Channel == ChannelWebhook && rule.Webhook != nil:
		return n.postWebhook(ctx, rule.Webhook, m)
	case m.Channel == ChannelEmail && rule.Email != nil:
		return n.sendMail(ctx, g, rule.Email, m)
	}
	return permanent{fmt.Errorf("rule %s of gate %s has no %s channel any more", m.Rule, m.GateID, m.Channel)}
}

// postWebhook POSTs the event, signed with the rule's secret as the
// authorisation webhook's requests are (webhook.Sign).
func (n *Notifier) postWebhook(ctx context.Context, w *gate.NotifyWebhook, m *gate.OutboxMessage) error {
	u, err := url.Parse(w.URL)
	if err != nil {
		return permanent{errors.New("webhook url is not valid")}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(m.Event))
	if err != nil {
		return permanent{errors.New("webhook url is not valid")}
	}
	var e struct {
		Type string `json:"type"`
	}
	_ = json.Unmarshal(m.Event, &e)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "vipgate")
	req.Header.Set(HeaderIdempotencyKey, m.Key)
	req.Header.Set(HeaderEvent, e.Type)
	req.Header.Set(HeaderAttempt, strconv.Itoa(m.Attempts))
	if w.Secret != "" {
		ts := n.cfg.Now().Unix()
		signed := u.Scheme + "://" + u.Host + u.RequestURI()
		req.Header.Set(webhook.HeaderTimestamp, strconv.FormatInt(ts, 10))
		req.Header.Set(webhook.HeaderSignature, webhook.Sign([]byte(w.Secret), ts, http.MethodPost, signed, m.Event))
	}
	resp, err := n.cfg.HTTP.Do(req)
	if err != nil {
		// The URL may hold a token in its query: say only where.
		return fmt.Errorf("post to %s: %w", u.Host, unwrapURL(err))
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxAnswer))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("post to %s: status %d", u.Host, resp.StatusCode)
	}
	return nil
}

// unwrapURL drops the *url.Error around a transport error: its text
// repeats the whole URL.
func unwrapURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
