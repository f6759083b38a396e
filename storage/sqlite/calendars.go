package sqlite

import (
	"context"
	"fmt"

	"github.com/vipgate/vipgate/gate"
)

// PutCalendar stores or replaces the last good copy of a calendar.
func (s *Store) PutCalendar(ctx context.Context, c *gate.CalendarCopy) error {
	body := c.Body
	if body == nil {
		body = []byte{}
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO calendars (gate_id, source, body, etag, last_modified, fetched_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (gate_id, source) DO UPDATE SET body = excluded.body, etag = excluded.etag, last_modified = excluded.last_modified, fetched_at = excluded.fetched_at`,
		c.GateID, c.Source, body, c.ETag, c.LastModified, c.FetchedAt.UnixNano())
	if err != nil {
		return fmt.Errorf("sqlite: put calendar %s: %w", c.GateID, dbErr(err))
	}
	return nil
}

// GetCalendar returns the last good copy of a calendar, or ErrNotFound.
func (s *Store) GetCalendar(ctx context.Context, gateID, source string) (*gate.CalendarCopy, error) {
	c := gate.CalendarCopy{GateID: gateID, Source: source}
	var fetched int64
	err := s.r.QueryRowContext(ctx, `SELECT body, etag, last_modified, fetched_at FROM calendars WHERE gate_id = ? AND source = ?`,
		gateID, source).Scan(&c.Body, &c.ETag, &c.LastModified, &fetched)
	if err != nil {
		return nil, fmt.Errorf("sqlite: get calendar %s: %w", gateID, dbErr(err))
	}
	c.FetchedAt = timeNS(fetched)
	return &c, nil
}
