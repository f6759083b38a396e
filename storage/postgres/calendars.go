package postgres

import (
	"context"

	"github.com/vipgate/vipgate/gate"
)

// PutCalendar stores or replaces the last good copy of a calendar.
func (s *Store) PutCalendar(ctx context.Context, c *gate.CalendarCopy) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO calendars (gate_id, source, body, etag, last_modified, fetched_at) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (gate_id, source) DO UPDATE SET body = EXCLUDED.body, etag = EXCLUDED.etag, last_modified = EXCLUDED.last_modified, fetched_at = EXCLUDED.fetched_at`,
		c.GateID, c.Source, notNil(c.Body), c.ETag, c.LastModified, c.FetchedAt)
	if err != nil {
		return wrap("put calendar "+c.GateID, err)
	}
	return nil
}

// GetCalendar returns the last good copy of a calendar, or ErrNotFound.
func (s *Store) GetCalendar(ctx context.Context, gateID, source string) (*gate.CalendarCopy, error) {
	c := gate.CalendarCopy{GateID: gateID, Source: source}
	err := s.pool.QueryRow(ctx, `SELECT body, etag, last_modified, fetched_at FROM calendars WHERE gate_id = $1 AND source = $2`,
		gateID, source).Scan(&c.Body, &c.ETag, &c.LastModified, &c.FetchedAt)
	if err != nil {
		return nil, wrap("get calendar "+gateID, err)
	}
	return &c, nil
}
