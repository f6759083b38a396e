package storagetest

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
)

// testCalendars checks the last good copies of calendars: stored, read
// back, replaced, and kept per gate and source.
func testCalendars(t *testing.T, s gate.Store) {
	cs, ok := s.(gate.CalendarStore)
	if !ok {
		t.Fatal("the store does not keep calendars (gate.CalendarStore)")
	}
	ctx := context.Background()
	mustCreate(t, s, tableGate("a"))
	if _, err := cs.GetCalendar(ctx, "a", "https://cal.example.com/a.ics"); !errors.Is(err, gate.ErrNotFound) {
		t.Fatalf("GetCalendar of nothing: %v, want ErrNotFound", err)
	}
	at := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	body := []byte("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")
	in := &gate.CalendarCopy{GateID: "a", Source: "https://cal.example.com/a.ics", Body: body, ETag: `"v1"`, LastModified: "Thu, 03 Dec 2026 09:00:00 GMT", FetchedAt: at}
	if err := cs.PutCalendar(ctx, in); err != nil {
		t.Fatal(err)
	}
	if err := cs.PutCalendar(ctx, &gate.CalendarCopy{GateID: "a", Source: "/etc/b.ics", Body: []byte("other"), FetchedAt: at}); err != nil {
		t.Fatal(err)
	}
	got, err := cs.GetCalendar(ctx, "a", in.Source)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Body, body) || got.ETag != in.ETag || got.LastModified != in.LastModified || !got.FetchedAt.Equal(at) {
		t.Fatalf("GetCalendar = %+v, want %+v", got, in)
	}
	in.Body, in.ETag, in.FetchedAt = []byte("new"), `"v2"`, at.Add(time.Hour)
	if err := cs.PutCalendar(ctx, in); err != nil {
		t.Fatal(err)
	}
	got, err = cs.GetCalendar(ctx, "a", in.Source)
	if err != nil || string(got.Body) != "new" || got.ETag != `"v2"` || !got.FetchedAt.Equal(at.Add(time.Hour)) {
		t.Fatalf("after replace: %+v, %v", got, err)
	}
	if other, err := cs.GetCalendar(ctx, "a", "/etc/b.ics"); err != nil || string(other.Body) != "other" {
		t.Fatalf("the other source: %+v, %v", other, err)
	}
}
