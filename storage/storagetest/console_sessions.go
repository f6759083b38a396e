package storagetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
)

// testConsoleSessions checks the web console's sessions: create, get,
// touch, delete (logout), and pruning by idle and absolute expiry.
func testConsoleSessions(t *testing.T, st gate.Store) {
	s, ok := st.(gate.ConsoleSessions)
	if !ok {
		t.Skip("the store keeps no console sessions")
	}
	ctx := context.Background()
	mk := func(key string, created, seen time.Time) {
		t.Helper()
		if err := s.CreateConsoleSession(ctx, &gate.ConsoleSession{Key: key, TokenID: "tok-" + key, CreatedAt: created, SeenAt: seen}); err != nil {
			t.Fatal(err)
		}
	}
	mk("a", t0, t0)
	got, err := s.GetConsoleSession(ctx, "a")
	if err != nil || got.Key != "a" || got.TokenID != "tok-a" || !got.CreatedAt.Equal(t0) || !got.SeenAt.Equal(t0) {
		t.Fatalf("get: %+v, %v", got, err)
	}
	if _, err := s.GetConsoleSession(ctx, "nope"); !errors.Is(err, gate.ErrNotFound) {
		t.Fatalf("get missing: %v", err)
	}
	if err := s.TouchConsoleSession(ctx, "a", t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got, err := s.GetConsoleSession(ctx, "a"); err != nil || !got.SeenAt.Equal(t0.Add(time.Minute)) || !got.CreatedAt.Equal(t0) {
		t.Fatalf("after touch: %+v, %v", got, err)
	}
	if err := s.TouchConsoleSession(ctx, "nope", t0); !errors.Is(err, gate.ErrNotFound) {
		t.Fatalf("touch missing: %v", err)
	}
	if err := s.DeleteConsoleSession(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetConsoleSession(ctx, "a"); !errors.Is(err, gate.ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
	if err := s.DeleteConsoleSession(ctx, "a"); err != nil {
		t.Fatalf("delete again: %v", err)
	}

	// A claim removes the session and returns it; a second claim, and
	// concurrent claims but one, find none.
	mk("link:x", t0, t0.Add(10*time.Minute))
	got, err = s.ClaimConsoleSession(ctx, "link:x")
	if err != nil || got.TokenID != "tok-link:x" || !got.SeenAt.Equal(t0.Add(10*time.Minute)) {
		t.Fatalf("claim: %+v, %v", got, err)
	}
	if _, err := s.ClaimConsoleSession(ctx, "link:x"); !errors.Is(err, gate.ErrNotFound) {
		t.Fatalf("second claim: %v", err)
	}
	mk("link:y", t0, t0.Add(10*time.Minute))
	wins := make(chan bool, 8)
	for range 8 {
		go func() {
			_, err := s.ClaimConsoleSession(ctx, "link:y")
			wins <- err == nil
		}()
	}
	n := 0
	for range 8 {
		if <-wins {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d of 8 concurrent claims got the session, want 1", n)
	}

	mk("idle", t0.Add(-2*time.Hour), t0.Add(-time.Hour))   // last seen an hour ago
	mk("old", t0.Add(-13*time.Hour), t0.Add(-time.Minute)) // used, but logged in long ago
	mk("live", t0.Add(-time.Hour), t0.Add(-time.Minute))
	n, err = s.PruneConsoleSessions(ctx, t0.Add(-30*time.Minute), t0.Add(-12*time.Hour))
	if err != nil || n != 2 {
		t.Fatalf("prune: %d, %v; want 2", n, err)
	}
	for key, want := range map[string]bool{"idle": false, "old": false, "live": true} {
		_, err := s.GetConsoleSession(ctx, key)
		if (err == nil) != want {
			t.Errorf("%s after prune: %v", key, err)
		}
	}
}
