package admin

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vipgate/vipgate/events"
	"github.com/vipgate/vipgate/gate"
)

// Defaults of the live event stream.
const (
	// DefaultEventKeepalive is how often an idle stream sends a comment,
	// so that proxies and clients see the connection alive.
	DefaultEventKeepalive = 15 * time.Second
	// DefaultEventWriteTimeout bounds one write to a stream's client; a
	// client that takes longer is disconnected.
	DefaultEventWriteTimeout = 10 * time.Second
)

// streamEvents answers GET /api/v1/events with Server-Sent Events: one
// "call" event per call decision, as it happens. A client that falls
// behind by more than its buffer gets a "dropped" event and is
// disconnected; it may reconnect with Last-Event-ID.
func (s *server) streamEvents(w http.ResponseWriter, r *http.Request) {
	if s.events == nil {
		writeProblem(w, Problem{Type: problemBlank, Title: http.StatusText(http.StatusServiceUnavailable), Status: http.StatusServiceUnavailable,
			Detail: "the live event stream is not enabled on this instance"})
		return
	}
	var f events.Filter
	var errs gate.ValidationErrors
	if g := r.URL.Query().Get("gate"); g != "" {
		if !gate.ValidID(g) {
			errs = append(errs, &gate.ValidationError{Field: "gate", Problem: "is not a valid gate ID"})
		}
		f.GateID = g
	}
	var after uint64
	if v := r.Header.Get("Last-Event-ID"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			errs = append(errs, &gate.ValidationError{Field: "Last-Event-ID", Problem: "must be the id of an event"})
		}
		after = n
	}
	if err := errs.Err(); err != nil {
		s.writeError(w, r, err)
		return
	}
	sub, missed, err := s.events.Subscribe(f, after)
	if err != nil {
		w.Header().Set("Retry-After", "10")
		detail := "too many clients are following the event stream; try again later"
		if errors.Is(err, events.ErrClosed) {
			detail = "vipgate is stopping"
		}
		writeProblem(w, Problem{Type: problemBlank, Title: http.StatusText(http.StatusServiceUnavailable), Status: http.StatusServiceUnavailable, Detail: detail})
		return
	}
	defer sub.Cancel()
	defer func() {
		if sub.Dropped() {
			s.log.Warn("admin: event stream: client fell behind; disconnected")
		}
	}()

	rc := http.NewResponseController(w)
	// The stream reads nothing more from the client and may last longer
	// than the server's read timeout (TestEventStreamOutlivesReadTimeout).
	_ = rc.SetReadDeadline(time.Time{})
	write := func(b []byte) error {
		_ = rc.SetWriteDeadline(time.Now().Add(s.eventWrite))
		if _, err := w.Write(b); err != nil {
			return err
		}
		return rc.Flush()
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: pass events on at once
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	head := []byte("retry: 3000\n\n")
	if missed {
		head = append(head, "event: missed\ndata: {\"detail\":\"events after Last-Event-ID are no longer kept; some were missed\"}\n\n"...)
	}
	if err := write(head); err != nil {
		return
	}
	tick := time.NewTicker(s.eventKeep)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
			if err := write([]byte(": keepalive\n\n")); err != nil {
				return
			}
		case e, ok := <-sub.C():
			if !ok {
				if sub.Dropped() {
					_ = write([]byte("event: dropped\ndata: {\"detail\":\"the client fell behind; reconnect with Last-Event-ID\"}\n\n"))
				}
				return
			}
			data, err := json.Marshal(e)
			if err != nil {
				s.log.Error("admin: event stream: encode", "err", err)
				return
			}
			if err := write(fmt.Appendf(nil, "id: %d\nevent: %s\ndata: %s\n\n", e.ID, e.Type, data)); err != nil {
				return
			}
		}
	}
}

// WatchEvents exports the event hub's subscribers
// (vipgate_event_subscribers) and the subscribers it dropped for falling
// behind (vipgate_event_subscribers_dropped_total).
func (m *Metrics) WatchEvents(h *events.Hub) {
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "vipgate_event_subscribers", Help: "Clients following the live event stream.",
		}, func() float64 { return float64(h.Subscribers()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "vipgate_event_subscribers_dropped_total", Help: "Event-stream clients disconnected because they fell behind.",
		}, func() float64 { return float64(h.DroppedTotal()) }),
	)
}
