package admin

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/vipgate/vipgate/gate"
)

// NotifyMetrics counts notification deliveries and the outbox's depth.
// It has the methods of notify.Metrics.
type NotifyMetrics struct {
	deliveries *prometheus.CounterVec
	dropped    *prometheus.CounterVec
	depth      *prometheus.GaugeVec
}

// NewNotifyMetrics registers the notification metrics on m (call it once):
//
//	vipgate_notify_deliveries_total{channel, result}  sent, failed (retried), dead
//	vipgate_notify_dropped_total{reason}              not written to the outbox
//	vipgate_notify_outbox_messages{state}             pending, dead
func NewNotifyMetrics(m *Metrics) *NotifyMetrics {
	n := &NotifyMetrics{
		deliveries: m.counterVec("vipgate_notify_deliveries_total", "Notification deliveries, by channel (webhook, email) and result (sent; failed: retried later; dead: given up, kept in the outbox).", "channel", "result"),
		dropped:    m.counterVec("vipgate_notify_dropped_total", "Notifications not written to the outbox, by reason (outbox_full, buffer, quiet_hours, store).", "reason"),
		depth:      m.gaugeVec("vipgate_notify_outbox_messages", "Messages in the notification outbox, by state (pending, dead).", "state"),
	}
	for _, ch := range []string{"webhook", "email"} {
		for _, r := range []string{"sent", "failed", "dead"} {
			n.deliveries.WithLabelValues(ch, r)
		}
	}
	n.dropped.WithLabelValues("outbox_full")
	return n
}

// Sent counts a delivered message.
func (n *NotifyMetrics) Sent(channel string) { n.deliveries.WithLabelValues(channel, "sent").Inc() }

// Failed counts a failed attempt that will be retried.
func (n *NotifyMetrics) Failed(channel string) { n.deliveries.WithLabelValues(channel, "failed").Inc() }

// Dead counts a message given up.
func (n *NotifyMetrics) Dead(channel string) { n.deliveries.WithLabelValues(channel, "dead").Inc() }

// Dropped counts a notification not written to the outbox.
func (n *NotifyMetrics) Dropped(reason string) { n.dropped.WithLabelValues(reason).Inc() }

// Depth sets the outbox's depth.
func (n *NotifyMetrics) Depth(d gate.OutboxDepth) {
	n.depth.WithLabelValues("pending").Set(float64(d.Pending))
	n.depth.WithLabelValues("dead").Set(float64(d.Dead))
}
