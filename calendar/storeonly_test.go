package calendar_test

import (
	"context"
	"testing"
	"time"

	"github.com/vipgate/vipgate/calendar"
	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/gate/gatetest"
)

// TestFetcherStoreOnly: a store-only Fetcher uses the store's last good
// copy and never reads the source; a calendar without a copy is not
// loaded and says why.
func TestFetcherStoreOnly(t *testing.T) {
	srv, ts := newGoogleServer(t)
	src := gate.CalendarSource{URL: ts.URL + "/office.ics"}
	g := &gate.Gate{ID: "hotline", Activation: gate.Activation{Mode: gate.ActiveSchedule, Schedule: &gate.Schedule{
		TimeZone: "Europe/Berlin", Active: gate.Outside, Calendars: []gate.CalendarSource{src}}}}
	store := gatetest.NewStore()
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	ctx := context.Background()

	offline := calendar.NewFetcher(calendar.FetcherConfig{Store: store, Now: clock, StoreOnly: true})
	offline.Sync(ctx, []*gate.Gate{g})
	if _, problem, ok := offline.Events("hotline", src); ok || problem == "" {
		t.Errorf("without a stored copy: ok %v, problem %q; want not loaded with a reason", ok, problem)
	}
	if srv.requests != 0 {
		t.Fatalf("a store-only fetcher read the source (%d requests)", srv.requests)
	}

	// serve's fetcher reads it and keeps the copy in the store.
	calendar.NewFetcher(calendar.FetcherConfig{Store: store, Now: clock}).Sync(ctx, []*gate.Gate{g})
	if srv.requests != 1 {
		t.Fatalf("%d requests, want 1", srv.requests)
	}
	offline = calendar.NewFetcher(calendar.FetcherConfig{Store: store, Now: clock, StoreOnly: true})
	offline.Sync(ctx, []*gate.Gate{g})
	if evs, problem, ok := offline.Events("hotline", src); !ok || problem != "" || len(evs) != 7 {
		t.Errorf("from the stored copy: %d events, problem %q, ok %v", len(evs), problem, ok)
	}
	if srv.requests != 1 {
		t.Errorf("a store-only fetcher read the source (%d requests)", srv.requests)
	}
}
