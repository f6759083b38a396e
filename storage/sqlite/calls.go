package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/vipgate/vipgate/gate"
)

// LogCall appends a call-log row and sets its ID. The write is synchronous
// (one INSERT on the write connection).
func (s *Store) LogCall(ctx context.Context, r *gate.CallRecord) error {
	at := r.At
	if at.IsZero() {
		at = s.stamp()
	}
	var id int64
	err := s.w.QueryRowContext(ctx, `INSERT INTO calls (at, source, channel_id, gate_id, caller_raw, caller, called, active, mode, verdict,
		attempts, outcome, target, entry_id, decision_latency_ns, duration_ns, webhook_latency_ns, error_class)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		clampNS(at), r.Source, r.ChannelID, r.GateID, r.CallerRaw, r.Caller, r.Called, r.Active, string(r.Mode), string(r.Verdict),
		r.Attempts, string(r.Outcome), r.Target, r.EntryID, int64(r.DecisionLatency), int64(r.Duration), int64(r.WebhookLatency), r.ErrorClass,
	).Scan(&id)
	if err != nil {
		return fmt.Errorf("sqlite: log call: %w", dbErr(err))
	}
	r.ID = id
	if r.At.IsZero() {
		r.At = at
	}
	return nil
}

// ListCalls returns a page of call-log rows, newest first, and how many
// match the filter.
func (s *Store) ListCalls(ctx context.Context, f gate.CallFilter) ([]*gate.CallRecord, int, error) {
	where := `1`
	var args []any
	if f.GateID != "" {
		where += ` AND gate_id = ?`
		args = append(args, f.GateID)
	}
	if f.Caller != "" {
		where += ` AND caller = ?`
		args = append(args, f.Caller)
	}
	if f.Outcome != "" {
		where += ` AND outcome = ?`
		args = append(args, string(f.Outcome))
	}
	if !f.From.IsZero() {
		where += ` AND at >= ?`
		args = append(args, clampNS(f.From))
	}
	if !f.To.IsZero() {
		where += ` AND at < ?`
		args = append(args, clampNS(f.To))
	}
	limit, offset := f.Limit, max(f.Offset, 0)
	if limit <= 0 {
		limit = 100
	}
	var total int
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM calls WHERE `+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("sqlite: list calls: %w", dbErr(err))
	}
	rows, err := s.r.QueryContext(ctx, `SELECT id, at, source, channel_id, gate_id, caller_raw, caller, called, active, mode, verdict,
		attempts, outcome, target, entry_id, decision_latency_ns, duration_ns, webhook_latency_ns, error_class
		FROM calls WHERE `+where+` ORDER BY at DESC, id DESC LIMIT ? OFFSET ?`, append(args, limit, offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("sqlite: list calls: %w", dbErr(err))
	}
	defer rows.Close()
	var out []*gate.CallRecord
	for rows.Next() {
		var (
			r                   gate.CallRecord
			at, dl, dur, wl     int64
			mode, verdict, out2 string
		)
		if err := rows.Scan(&r.ID, &at, &r.Source, &r.ChannelID, &r.GateID, &r.CallerRaw, &r.Caller, &r.Called, &r.Active,
			&mode, &verdict, &r.Attempts, &out2, &r.Target, &r.EntryID, &dl, &dur, &wl, &r.ErrorClass); err != nil {
			return nil, 0, fmt.Errorf("sqlite: list calls: %w", dbErr(err))
		}
		r.At = timeNS(at)
		r.Mode, r.Verdict, r.Outcome = gate.IdentMode(mode), gate.Verdict(verdict), gate.Outcome(out2)
		r.DecisionLatency, r.Duration, r.WebhookLatency = time.Duration(dl), time.Duration(dur), time.Duration(wl)
		out = append(out, &r)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("sqlite: list calls: %w", dbErr(err))
	}
	return out, total, nil
}
