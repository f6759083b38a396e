package storagetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
)

// grant returns an unsaved grant of pin at gateID for caller.
func grant(t testing.TB, gateID, caller, pin string, maxUses int, from, until time.Time) *gate.Grant {
	return &gate.Grant{GateID: gateID, Caller: caller, PIN: hasher(t).Hash(pin), Label: "guest " + pin,
		MaxUses: maxUses, ValidFrom: from, ValidUntil: until, CreatedBy: "cli:test", CreatedAt: t0}
}

func mustGrant(t testing.TB, s gate.Store, g *gate.Grant) *gate.Grant {
	t.Helper()
	if err := s.CreateGrant(ctx(t), g); err != nil {
		t.Fatalf("create grant: %v", err)
	}
	return g
}

// testGrants checks create, list (without hashes), delete and the
// errors, and that deleting a gate deletes its grants.
func testGrants(t *testing.T, s gate.Store) {
	mustCreate(t, s, tableGate("a"))
	mustCreate(t, s, tableGate("b"))
	g1 := mustGrant(t, s, grant(t, "a", "+4971112345", "11223344", 1, time.Time{}, t0.Add(time.Hour)))
	g2 := mustGrant(t, s, grant(t, "a", gate.AnyCaller, "55667788", 0, t0, t0.Add(24*time.Hour)))
	mustGrant(t, s, grant(t, "b", gate.AnyCaller, "99887766", 3, time.Time{}, time.Time{}))
	if g1.ID == 0 || g2.ID == g1.ID {
		t.Fatalf("IDs %d %d", g1.ID, g2.ID)
	}
	wantErr(t, "grant at a missing gate", s.CreateGrant(ctx(t), grant(t, "nope", gate.AnyCaller, "12121212", 1, time.Time{}, time.Time{})), gate.ErrNotFound)

	list, err := s.ListGrants(ctx(t), "a")
	wantErr(t, "list grants", err, nil)
	if len(list) != 2 || list[0].ID != g1.ID || list[1].ID != g2.ID {
		t.Fatalf("list %+v, want the two grants of a by ID", list)
	}
	got, want := list[0], *g1
	if len(got.PIN.Salt) != 0 || len(got.PIN.Sum) != 0 {
		t.Errorf("ListGrants returns a PIN hash")
	}
	want.PIN = gate.PINHash{}
	if got.GateID != want.GateID || got.Caller != want.Caller || got.Label != want.Label || got.MaxUses != 1 || got.Uses != 0 ||
		!got.ValidUntil.Equal(want.ValidUntil) || !got.ValidFrom.IsZero() || got.CreatedBy != "cli:test" || !got.CreatedAt.Equal(t0) {
		t.Errorf("round trip: got %+v, want %+v", got, want)
	}
	if !list[1].ValidFrom.Equal(t0) {
		t.Errorf("valid_from %v, want %v", list[1].ValidFrom, t0)
	}

	wantErr(t, "delete grant of another gate", s.DeleteGrant(ctx(t), "b", g1.ID), gate.ErrNotFound)
	wantErr(t, "delete grant", s.DeleteGrant(ctx(t), "a", g1.ID), nil)
	wantErr(t, "delete grant again", s.DeleteGrant(ctx(t), "a", g1.ID), gate.ErrNotFound)
	if list, _ := s.ListGrants(ctx(t), "a"); len(list) != 1 || list[0].ID != g2.ID {
		t.Errorf("after delete: %+v", list)
	}
	wantErr(t, "delete gate", s.DeleteGate(ctx(t), "a"), nil)
	mustCreate(t, s, tableGate("a"))
	if list, _ := s.ListGrants(ctx(t), "a"); len(list) != 0 {
		t.Errorf("a deleted gate's grants survive: %+v", list)
	}
	if list, _ := s.ListGrants(ctx(t), "b"); len(list) != 1 {
		t.Errorf("another gate's grants: %+v", list)
	}
}

// testGrantUse checks that UseGrant counts uses up to the limit and only
// while the grant is valid, and that ReadCall returns the usable grants
// of the number and of anyone, with their hashes.
func testGrantUse(t *testing.T, s gate.Store) {
	mustCreate(t, s, tableGate("a"))
	mustCreate(t, s, tableGate("b"))
	anna, bob := "+4971112345", "+4930123456"
	twice := mustGrant(t, s, grant(t, "a", anna, "11223344", 2, time.Time{}, time.Time{}))
	window := mustGrant(t, s, grant(t, "a", gate.AnyCaller, "55667788", 0, t0.Add(time.Hour), t0.Add(2*time.Hour)))
	bobs := mustGrant(t, s, grant(t, "a", bob, "12341234", 1, time.Time{}, time.Time{}))
	mustGrant(t, s, grant(t, "b", gate.AnyCaller, "99887766", 1, time.Time{}, time.Time{}))

	ids := func(gs []*gate.Grant) string {
		out := ""
		for _, g := range gs {
			out += fmt.Sprintf("%d ", g.ID)
			if !hasher(t).Check(g.PIN, g.Label[len("guest "):]) {
				t.Errorf("ReadCall grant %d without its PIN hash", g.ID)
			}
		}
		return out
	}
	read := func(number string, at time.Time) string {
		t.Helper()
		st, err := s.ReadCall(ctx(t), "a", []string{gate.LockoutKey(number)}, number, at)
		wantErr(t, "read call", err, nil)
		return ids(st.Grants)
	}
	if got, want := read(anna, t0), fmt.Sprintf("%d ", twice.ID); got != want {
		t.Errorf("anna at t0: grants %q, want %q", got, want)
	}
	if got, want := read(anna, t0.Add(90*time.Minute)), fmt.Sprintf("%d %d ", twice.ID, window.ID); got != want {
		t.Errorf("anna in the window: grants %q, want %q", got, want)
	}
	if got, want := read("", t0.Add(90*time.Minute)), fmt.Sprintf("%d ", window.ID); got != want {
		t.Errorf("withheld in the window: grants %q, want %q", got, want)
	}
	if got, want := read(bob, t0.Add(3*time.Hour)), fmt.Sprintf("%d ", bobs.ID); got != want {
		t.Errorf("bob after the window: grants %q, want %q", got, want)
	}

	for i := 1; i <= 2; i++ {
		g, err := s.UseGrant(ctx(t), "a", twice.ID, t0)
		wantErr(t, "use", err, nil)
		if g.Uses != i || g.ID != twice.ID || g.Label != twice.Label || len(g.PIN.Sum) != 0 {
			t.Errorf("use %d: %+v", i, g)
		}
	}
	_, err := s.UseGrant(ctx(t), "a", twice.ID, t0)
	wantErr(t, "third use of a two-use grant", err, gate.ErrNotFound)
	if got := read(anna, t0); got != "" {
		t.Errorf("a used-up grant is read: %q", got)
	}
	_, err = s.UseGrant(ctx(t), "a", window.ID, t0)
	wantErr(t, "use before valid_from", err, gate.ErrNotFound)
	_, err = s.UseGrant(ctx(t), "a", window.ID, t0.Add(2*time.Hour))
	wantErr(t, "use at valid_until", err, gate.ErrNotFound)
	for i := range 5 {
		_, err = s.UseGrant(ctx(t), "a", window.ID, t0.Add(time.Hour+time.Duration(i)*time.Minute))
		wantErr(t, "use an unlimited grant in its window", err, nil)
	}
	_, err = s.UseGrant(ctx(t), "b", bobs.ID, t0)
	wantErr(t, "use with another gate", err, gate.ErrNotFound)
	_, err = s.UseGrant(ctx(t), "a", 999999, t0)
	wantErr(t, "use a missing grant", err, gate.ErrNotFound)
	list, _ := s.ListGrants(ctx(t), "a")
	for _, g := range list {
		want := map[int64]int{twice.ID: 2, window.ID: 5, bobs.ID: 0}[g.ID]
		if g.Uses != want {
			t.Errorf("grant %d: %d uses, want %d", g.ID, g.Uses, want)
		}
	}
}

// testGrantLimit checks that a gate takes at most gate.MaxGrants usable
// grants, and that expired and used-up ones make room.
func testGrantLimit(t *testing.T, s gate.Store) {
	mustCreate(t, s, tableGate("a"))
	mustGrant(t, s, grant(t, "a", gate.AnyCaller, "10101010", 1, time.Time{}, t0.Add(-time.Second))) // expired: takes no room
	var last *gate.Grant
	for i := range gate.MaxGrants {
		last = mustGrant(t, s, grant(t, "a", gate.AnyCaller, fmt.Sprintf("%08d", i), 1, time.Time{}, time.Time{}))
	}
	wantErr(t, "one grant too many", s.CreateGrant(ctx(t), grant(t, "a", gate.AnyCaller, "20202020", 1, time.Time{}, time.Time{})), gate.ErrConflict)
	if _, err := s.UseGrant(ctx(t), "a", last.ID, t0); err != nil {
		t.Fatal(err)
	}
	mustGrant(t, s, grant(t, "a", gate.AnyCaller, "20202020", 1, time.Time{}, time.Time{}))
	st, err := s.ReadCall(ctx(t), "a", nil, "+4971112345", t0)
	wantErr(t, "read call", err, nil)
	if len(st.Grants) != gate.MaxGrants {
		t.Errorf("ReadCall returns %d grants, want %d", len(st.Grants), gate.MaxGrants)
	}
}

// testConcurrentGrantUse is UseGrantRace on one store.
func testConcurrentGrantUse(t *testing.T, s gate.Store) {
	UseGrantRace(t, []gate.Store{s})
}

// UseGrantRace creates a gate and a one-use and a three-use grant
// through stores[0], lets many goroutines, spread over stores (which
// share one database), use each at once, and checks that exactly one and
// exactly three uses succeed, and that the others fail with ErrNotFound.
func UseGrantRace(t *testing.T, stores []gate.Store) {
	t.Helper()
	s0 := stores[0]
	mustCreate(t, s0, tableGate("race"))
	for _, limit := range []int{1, 3} {
		g := mustGrant(t, s0, grant(t, "race", gate.AnyCaller, "31415926", limit, time.Time{}, time.Time{}))
		const workers = 16
		var (
			wg    sync.WaitGroup
			mu    sync.Mutex
			won   int
			start = make(chan struct{})
		)
		for w := range workers {
			wg.Go(func() {
				<-start
				_, err := stores[w%len(stores)].UseGrant(ctx(t), "race", g.ID, t0)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					won++
				case !errors.Is(err, gate.ErrNotFound):
					t.Errorf("use: %v", err)
				}
			})
		}
		close(start)
		wg.Wait()
		if won != limit {
			t.Errorf("%d of %d concurrent uses of a %d-use grant succeeded", won, workers, limit)
		}
		list, err := s0.ListGrants(ctx(t), "race")
		wantErr(t, "list grants", err, nil)
		if u := list[len(list)-1].Uses; u != limit {
			t.Errorf("%d-use grant counts %d uses", limit, u)
		}
	}
}

// testEraseGrants checks that EraseCaller deletes the caller's grants
// (at one gate, then everywhere) and keeps grants for anyone and for
// other callers.
func testEraseGrants(t *testing.T, s gate.Store) {
	const who, other = "+4971112345", "+4971199999"
	for _, id := range []string{"a", "b"} {
		mustCreate(t, s, tableGate(id))
		mustGrant(t, s, grant(t, id, who, "11223344", 1, time.Time{}, time.Time{}))
		mustGrant(t, s, grant(t, id, other, "22334455", 1, time.Time{}, time.Time{}))
		mustGrant(t, s, grant(t, id, gate.AnyCaller, "33445566", 1, time.Time{}, time.Time{}))
	}
	count := func(gateID string) int {
		gs, err := s.ListGrants(ctx(t), gateID)
		wantErr(t, "list grants", err, nil)
		return len(gs)
	}
	got, err := s.EraseCaller(ctx(t), "a", who)
	wantErr(t, "erase at a", err, nil)
	if got.Grants != 1 || count("a") != 2 || count("b") != 3 {
		t.Errorf("erase at a: %+v, %d grants left at a, %d at b; want 1 erased, 2 and 3 left", got, count("a"), count("b"))
	}
	got, err = s.EraseCaller(ctx(t), "", who)
	wantErr(t, "erase everywhere", err, nil)
	if got.Grants != 1 || count("a") != 2 || count("b") != 2 {
		t.Errorf("erase everywhere: %+v, %d grants left at a, %d at b; want 1 erased, 2 and 2 left", got, count("a"), count("b"))
	}
}
