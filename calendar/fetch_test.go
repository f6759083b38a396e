package calendar_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vipgate/vipgate/calendar"
	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/gate/gatetest"
)

// calServer serves a calendar with an ETag, answers conditional requests
// with 304, and fails with 503 while down is set.
type calServer struct {
	mu          sync.Mutex
	body        string
	etag        string
	down        bool
	requests    int
	conditional int
}

// newGoogleServer serves testdata/google.ics (ETag "v1") until the test
// ends.
func newGoogleServer(t *testing.T) (*calServer, *httptest.Server) {
	t.Helper()
	google, err := os.ReadFile("testdata/google.ics")
	if err != nil {
		t.Fatal(err)
	}
	srv := &calServer{body: string(google), etag: `"v1"`}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return srv, ts
}

func (s *calServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests++
	if s.down {
		http.Error(w, "maintenance", http.StatusServiceUnavailable)
		return
	}
	if r.Header.Get("If-None-Match") == s.etag {
		s.conditional++
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("ETag", s.etag)
	w.Header().Set("Content-Type", "text/calendar")
	_, _ = w.Write([]byte(s.body))
}

func (s *calServer) set(f func(*calServer)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
}

func TestFetcherRefreshesFailsAndRecovers(t *testing.T) {
	srv, ts := newGoogleServer(t)

	src := gate.CalendarSource{URL: ts.URL + "/office.ics", Refresh: "15m"}
	g := &gate.Gate{ID: "hotline", Activation: gate.Activation{Mode: gate.ActiveSchedule, Schedule: &gate.Schedule{
		TimeZone: "Europe/Berlin", Active: gate.Outside, Calendars: []gate.CalendarSource{src}}}}
	store := gatetest.NewStore()
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	f := calendar.NewFetcher(calendar.FetcherConfig{Store: store, Now: clock})
	ctx := context.Background()

	if _, _, ok := f.Events("hotline", src); ok {
		t.Fatal("events before the first read")
	}
	f.Sync(ctx, []*gate.Gate{g})
	evs, problem, ok := f.Events("hotline", src)
	if !ok || problem != "" || len(evs) != 7 || evs[3].Name != "Christmas break" {
		t.Fatalf("after the first read: %d events, problem %q, ok %v", len(evs), problem, ok)
	}

	// Not due yet: no request.
	now = now.Add(5 * time.Minute)
	f.Sync(ctx, []*gate.Gate{g})
	if srv.requests != 1 {
		t.Fatalf("%d requests before the refresh interval passed, want 1", srv.requests)
	}
	// Due: a conditional request, answered 304.
	now = now.Add(15 * time.Minute)
	f.Sync(ctx, []*gate.Gate{g})
	if srv.conditional != 1 {
		t.Fatalf("refresh sent no If-None-Match with the ETag (%d requests)", srv.requests)
	}

	// The server fails: the last good copy stays, the problem is named.
	srv.set(func(s *calServer) { s.down = true })
	now = now.Add(15 * time.Minute)
	f.Sync(ctx, []*gate.Gate{g})
	evs, problem, ok = f.Events("hotline", src)
	if !ok || len(evs) != 7 || !strings.Contains(problem, "503") {
		t.Fatalf("while failing: %d events, problem %q, ok %v", len(evs), problem, ok)
	}
	st := f.Status()
	if len(st) != 1 || st[0].Errors != 1 || st[0].Problem == "" || st[0].LastSuccess.IsZero() {
		t.Fatalf("status while failing %+v", st)
	}

	// A restart while the server is down: the copy in the store is used.
	f2 := calendar.NewFetcher(calendar.FetcherConfig{Store: store, Now: clock})
	f2.Sync(ctx, []*gate.Gate{g})
	if evs, problem, ok := f2.Events("hotline", src); !ok || len(evs) != 7 || !strings.Contains(problem, "503") {
		t.Fatalf("after a restart with the server down: %d events, problem %q, ok %v", len(evs), problem, ok)
	}

	// The server recovers with a changed calendar.
	srv.set(func(s *calServer) {
		s.down, s.etag = false, `"v2"`
		s.body = strings.Replace(s.body, "SUMMARY:Team party", "SUMMARY:Team party (moved)", 1)
	})
	now = now.Add(15 * time.Minute)
	f.Sync(ctx, []*gate.Gate{g})
	evs, problem, ok = f.Events("hotline", src)
	if !ok || problem != "" || evs[2].Name != "Team party (moved)" {
		t.Fatalf("after recovery: %v, problem %q", evs, problem)
	}
	if c, err := store.GetCalendar(ctx, "hotline", src.URL); err != nil || c.ETag != `"v2"` {
		t.Fatalf("stored copy %+v, %v; want the new one", c, err)
	}

	// A body that is no calendar is a failure too, and changes nothing.
	srv.set(func(s *calServer) { s.etag, s.body = `"v3"`, "<html>login</html>" })
	now = now.Add(15 * time.Minute)
	f.Sync(ctx, []*gate.Gate{g})
	evs, problem, _ = f.Events("hotline", src)
	if len(evs) != 7 || !strings.Contains(problem, "not an iCalendar") {
		t.Fatalf("after a bad body: %d events, problem %q", len(evs), problem)
	}

	// An event that began before the window starts at the window's start.
	now = time.Date(2026, 12, 26, 12, 0, 0, 0, time.UTC)
	f.Sync(ctx, []*gate.Gate{g})
	evs, _, _ = f.Events("hotline", src)
	if len(evs) == 0 || evs[0].Name != "Christmas break" || !evs[0].Start.Equal(now.Add(-calendar.WindowBefore)) {
		t.Fatalf("events at 26 December: %v", evs)
	}

	// A calendar no gate names any more is forgotten.
	f.Sync(ctx, nil)
	if _, _, ok := f.Events("hotline", src); ok || len(f.Status()) != 0 {
		t.Fatal("the calendar of a gate that is gone is still kept")
	}
}
