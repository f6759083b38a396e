package storagetest

import (
	"bytes"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
)

func testFailures(t *testing.T, s gate.Store) {
	const w = 5 * time.Minute
	anna, bob := "+4971112345", "+4930123456"
	steps := []struct {
		name   string
		gate   string
		caller string
		at     time.Duration // after t0
		reset  bool
		want   int
	}{
		{"first", "a", anna, 0, false, 1},
		{"second", "a", anna, time.Minute, false, 2},
		{"third", "a", anna, 2 * time.Minute, false, 3},
		{"other caller", "a", bob, 2 * time.Minute, false, 1},
		{"other gate", "b", anna, 2 * time.Minute, false, 1},
		{"gate-wide key", "a", gate.AnyCaller, 3 * time.Minute, false, 1},
		{"gate-wide key again", "a", gate.AnyCaller, 4 * time.Minute, false, 2},
		{"window edge excludes t-window", "a", anna, 5 * time.Minute, false, 3},             // (0, 5m]: 1m, 2m, 5m
		{"old failures drop out", "a", anna, 6*time.Minute + 30*time.Second, false, 3},      // (1.5m, 6.5m]: 2m, 5m, 6.5m
		{"gate-wide window", "a", gate.AnyCaller, 8*time.Minute + 30*time.Second, false, 2}, // (3.5m, 8.5m]: 4m, 8.5m
		{"reset", "a", anna, 7 * time.Minute, true, 0},
		{"after reset", "a", anna, 8 * time.Minute, false, 1},
		{"reset did not touch other caller", "a", bob, 3 * time.Minute, false, 2},
		{"reset did not touch the gate-wide key", "a", gate.AnyCaller, 9 * time.Minute, false, 2}, // (4m, 9m]: 8.5m, 9m
		{"reset did not touch other gate", "b", anna, 3 * time.Minute, false, 2},
		{"gate-wide in other gate", "b", gate.AnyCaller, 4 * time.Minute, false, 1},
		{"reset gate-wide", "b", gate.AnyCaller, 4 * time.Minute, true, 0},
		{"after gate-wide reset", "b", gate.AnyCaller, 5 * time.Minute, false, 1},
		{"gate-wide reset did not touch callers", "b", anna, 5 * time.Minute, false, 3}, // (0, 5m]: 2m, 3m, 5m
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if st.reset {
				if err := s.ResetFailures(ctx(t), st.gate, st.caller); err != nil {
					t.Fatalf("reset failures: %v", err)
				}
				return
			}
			n, err := s.AddFailure(ctx(t), st.gate, st.caller, t0.Add(st.at), w)
			if err != nil {
				t.Fatalf("add failure: %v", err)
			}
			if n != st.want {
				t.Errorf("add failure %s/%s at +%v = %d, want %d", st.gate, st.caller, st.at, n, st.want)
			}
		})
	}
}

func testLockouts(t *testing.T, s gate.Store) {
	anna, bob := "+4971112345", "+4930123456"
	la := &gate.Lockout{GateID: "a", Caller: anna, Until: t0.Add(10 * time.Minute), Failures: 5, At: t0}
	lb := &gate.Lockout{GateID: "b", Caller: bob, Until: t0.Add(20 * time.Minute), Failures: 3, At: t0.Add(time.Minute)}
	lg := &gate.Lockout{GateID: "a", Caller: gate.AnyCaller, Until: t0.Add(5 * time.Minute), Failures: 50, At: t0}
	for _, l := range []*gate.Lockout{la, lb, lg} {
		if err := s.SetLockout(ctx(t), l); err != nil {
			t.Fatalf("set lockout: %v", err)
		}
	}
	get := []struct {
		gate, caller string
		now          time.Duration
		want         *gate.Lockout
	}{
		{"a", anna, 0, la},
		{"a", anna, 9 * time.Minute, la},
		{"a", anna, 10 * time.Minute, nil},
		{"a", bob, 0, nil},
		{"b", anna, 0, nil},
		{"b", bob, 15 * time.Minute, lb},
		{"a", gate.AnyCaller, 4 * time.Minute, lg},
		{"a", gate.AnyCaller, 6 * time.Minute, nil},
	}
	for _, tc := range get {
		t.Run(fmt.Sprintf("get %s/%s at +%v", tc.gate, tc.caller, tc.now), func(t *testing.T) {
			l, err := s.GetLockout(ctx(t), tc.gate, tc.caller, t0.Add(tc.now))
			if tc.want == nil {
				wantErr(t, "get lockout", err, gate.ErrNotFound)
				return
			}
			if err != nil {
				t.Fatalf("get lockout: %v", err)
			}
			checkLockout(t, l, tc.want)
		})
	}
	list := []struct {
		gate string
		now  time.Duration
		want []*gate.Lockout
	}{
		{"", 0, []*gate.Lockout{lg, la, lb}},
		{"a", 0, []*gate.Lockout{lg, la}},
		{"a", 7 * time.Minute, []*gate.Lockout{la}},
		{"", 12 * time.Minute, []*gate.Lockout{lb}},
		{"b", 25 * time.Minute, nil},
		{"missing", 0, nil},
	}
	for _, tc := range list {
		t.Run(fmt.Sprintf("list %q at +%v", tc.gate, tc.now), func(t *testing.T) {
			ls, err := s.ListLockouts(ctx(t), tc.gate, t0.Add(tc.now))
			if err != nil {
				t.Fatalf("list lockouts: %v", err)
			}
			// Order is not specified; sort by gate and caller.
			slices.SortFunc(ls, func(x, y *gate.Lockout) int {
				if c := cmpStr(x.GateID, y.GateID); c != 0 {
					return c
				}
				return cmpStr(x.Caller, y.Caller)
			})
			if len(ls) != len(tc.want) {
				t.Fatalf("list lockouts = %d, want %d", len(ls), len(tc.want))
			}
			for i := range ls {
				checkLockout(t, ls[i], tc.want[i])
			}
		})
	}
	t.Run("extend", func(t *testing.T) {
		ext := *la
		ext.Until, ext.Failures = t0.Add(time.Hour), 6
		if err := s.SetLockout(ctx(t), &ext); err != nil {
			t.Fatalf("set lockout: %v", err)
		}
		l, err := s.GetLockout(ctx(t), "a", anna, t0.Add(30*time.Minute))
		if err != nil {
			t.Fatalf("get extended lockout: %v", err)
		}
		checkLockout(t, l, &ext)
	})
	t.Run("clear", func(t *testing.T) {
		for i := range 3 {
			if _, err := s.AddFailure(ctx(t), "a", anna, t0.Add(time.Duration(i)*time.Second), time.Hour); err != nil {
				t.Fatalf("add failure: %v", err)
			}
		}
		if err := s.ClearLockout(ctx(t), "a", anna); err != nil {
			t.Fatalf("clear lockout: %v", err)
		}
		_, err := s.GetLockout(ctx(t), "a", anna, t0)
		wantErr(t, "get cleared lockout", err, gate.ErrNotFound)
		n, err := s.AddFailure(ctx(t), "a", anna, t0.Add(time.Minute), time.Hour)
		if err != nil || n != 1 {
			t.Errorf("failures after clear = %d, %v; want 1 (clear forgets failures)", n, err)
		}
		if _, err := s.GetLockout(ctx(t), "b", bob, t0); err != nil {
			t.Errorf("clear removed another lockout: %v", err)
		}
		wantErr(t, "clear a lockout that does not exist", s.ClearLockout(ctx(t), "a", anna), gate.ErrNotFound)
	})
}

func cmpStr(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func checkLockout(t testing.TB, got, want *gate.Lockout) {
	t.Helper()
	if got.GateID != want.GateID || got.Caller != want.Caller || got.Failures != want.Failures {
		t.Errorf("lockout = %+v, want %+v", got, want)
	}
	checkTime(t, "lockout until", got.Until, want.Until)
	checkTime(t, "lockout at", got.At, want.At)
}

func wav(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i*31)
	}
	return b
}

func testPrompts(t *testing.T, s gate.Store) {
	mustCreate(t, s, tableGate("a"))
	mustCreate(t, s, tableGate("b"))
	puts := []*gate.PromptFile{
		{GateID: "a", Lang: "en", Key: gate.PromptAskPIN, Data: wav(16044, 1)},
		{GateID: "a", Lang: "de", Key: gate.PromptAskPIN, Data: wav(8000, 2)},
		{GateID: "a", Lang: "en", Key: gate.PromptWrongPIN, Data: wav(100, 3)},
		{GateID: "b", Lang: "en", Key: gate.PromptAskPIN, Data: wav(200, 4)},
		{GateID: "", Lang: "en", Key: gate.PromptRejected, Data: wav(300, 5)},
	}
	for _, p := range puts {
		if err := s.PutPrompt(ctx(t), p); err != nil {
			t.Fatalf("put prompt: %v", err)
		}
	}
	for _, p := range puts {
		got, err := s.GetPrompt(ctx(t), p.GateID, p.Lang, p.Key)
		if err != nil {
			t.Fatalf("get prompt %s/%s/%s: %v", p.GateID, p.Lang, p.Key, err)
		}
		if !bytes.Equal(got.Data, p.Data) || got.Size != len(p.Data) || got.GateID != p.GateID || got.Lang != p.Lang || got.Key != p.Key {
			t.Errorf("prompt %s/%s/%s: size %d, data equal %v", p.GateID, p.Lang, p.Key, got.Size, bytes.Equal(got.Data, p.Data))
		}
		if got.CreatedAt.IsZero() {
			t.Errorf("prompt %s/%s/%s: created_at not set", p.GateID, p.Lang, p.Key)
		}
	}
	lists := []struct {
		gate string
		want int
	}{{"a", 3}, {"b", 1}, {"", 5}, {"missing", 0}}
	for _, tc := range lists {
		ps, err := s.ListPrompts(ctx(t), tc.gate)
		if err != nil {
			t.Fatalf("list prompts %q: %v", tc.gate, err)
		}
		if len(ps) != tc.want {
			t.Errorf("list prompts %q = %d, want %d", tc.gate, len(ps), tc.want)
		}
		for _, p := range ps {
			if p.Data != nil {
				t.Errorf("list prompts %q: %s/%s has data", tc.gate, p.Lang, p.Key)
			}
			if p.Size == 0 || (tc.gate != "" && p.GateID != tc.gate) {
				t.Errorf("list prompts %q: %+v", tc.gate, p)
			}
		}
	}
	// Replace.
	repl := &gate.PromptFile{GateID: "a", Lang: "en", Key: gate.PromptAskPIN, Data: wav(500, 9)}
	if err := s.PutPrompt(ctx(t), repl); err != nil {
		t.Fatalf("replace prompt: %v", err)
	}
	got, err := s.GetPrompt(ctx(t), "a", "en", gate.PromptAskPIN)
	if err != nil || !bytes.Equal(got.Data, repl.Data) || got.Size != 500 {
		t.Fatalf("replaced prompt: %v (err %v)", got, err)
	}
	if ps, _ := s.ListPrompts(ctx(t), "a"); len(ps) != 3 {
		t.Errorf("prompts after replace = %d, want 3", len(ps))
	}
	// Delete.
	wantErr(t, "delete", s.DeletePrompt(ctx(t), "a", "en", gate.PromptAskPIN), nil)
	wantErr(t, "delete again", s.DeletePrompt(ctx(t), "a", "en", gate.PromptAskPIN), gate.ErrNotFound)
	_, err = s.GetPrompt(ctx(t), "a", "en", gate.PromptAskPIN)
	wantErr(t, "get deleted", err, gate.ErrNotFound)
	_, err = s.GetPrompt(ctx(t), "a", "fr", gate.PromptAskPIN)
	wantErr(t, "get missing language", err, gate.ErrNotFound)
	if _, err := s.GetPrompt(ctx(t), "b", "en", gate.PromptAskPIN); err != nil {
		t.Errorf("delete removed another gate's prompt: %v", err)
	}
}

func testTokens(t *testing.T, s gate.Store) {
	mk := func(id string, role gate.Role, at time.Time) *gate.Token {
		return &gate.Token{ID: id, Name: "token " + id, Role: role, Hash: wav(32, byte(len(id))), CreatedAt: at}
	}
	toks := []*gate.Token{
		mk("tok1", gate.RoleAdmin, t0),
		mk("tok2", gate.RoleOperator, t0.Add(time.Minute)),
		mk("tok0", gate.RoleViewer, t0.Add(-time.Minute)),
	}
	toks[1].ExpiresAt = t0.Add(30 * 24 * time.Hour) // an expiry is kept; the others have none
	for _, tk := range toks {
		if err := s.CreateToken(ctx(t), tk); err != nil {
			t.Fatalf("create token: %v", err)
		}
	}
	wantErr(t, "create duplicate", s.CreateToken(ctx(t), mk("tok1", gate.RoleViewer, t0)), gate.ErrConflict)
	_, err := s.GetToken(ctx(t), "missing")
	wantErr(t, "get missing", err, gate.ErrNotFound)
	wantErr(t, "revoke missing", s.RevokeToken(ctx(t), "missing", t0), gate.ErrNotFound)
	for _, want := range toks {
		got, err := s.GetToken(ctx(t), want.ID)
		if err != nil {
			t.Fatalf("get token: %v", err)
		}
		checkToken(t, got, want)
	}
	list, err := s.ListTokens(ctx(t))
	if err != nil {
		t.Fatalf("list tokens: %v", err)
	}
	wantOrder := []*gate.Token{toks[2], toks[0], toks[1]}
	if len(list) != len(wantOrder) {
		t.Fatalf("list tokens = %d, want %d", len(list), len(wantOrder))
	}
	for i := range list {
		checkToken(t, list[i], wantOrder[i])
	}
	revokedAt := t0.Add(time.Hour)
	if err := s.RevokeToken(ctx(t), "tok1", revokedAt); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	got, err := s.GetToken(ctx(t), "tok1")
	if err != nil {
		t.Fatalf("get revoked token: %v", err)
	}
	want := *toks[0]
	want.RevokedAt = revokedAt
	checkToken(t, got, &want)
	if other, _ := s.GetToken(ctx(t), "tok2"); other == nil || !other.RevokedAt.IsZero() {
		t.Errorf("revoke touched another token: %+v", other)
	}
}

func checkToken(t testing.TB, got, want *gate.Token) {
	t.Helper()
	if got.ID != want.ID || got.Name != want.Name || got.Role != want.Role || !bytes.Equal(got.Hash, want.Hash) {
		t.Errorf("token = %+v, want %+v", got, want)
	}
	checkTime(t, "token created_at", got.CreatedAt, want.CreatedAt)
	checkTime(t, "token revoked_at", got.RevokedAt, want.RevokedAt)
	checkTime(t, "token expires_at", got.ExpiresAt, want.ExpiresAt)
}

func testConcurrentWriters(t *testing.T, s gate.Store) {
	mustCreate(t, s, tableGate("a"))
	const workers, each = 8, 25
	h := hasher(t)
	pin := h.Hash("4711")
	var wg sync.WaitGroup
	errs := make(chan error, workers*each*3)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				number := fmt.Sprintf("+49711%02d%03d", w, i)
				if err := s.PutEntry(ctx(t), &gate.Entry{GateID: "a", Pattern: number, PIN: pin}); err != nil {
					errs <- fmt.Errorf("put entry: %w", err)
				}
				if err := s.LogCall(ctx(t), &gate.CallRecord{At: t0.Add(time.Duration(w*each+i) * time.Second), Source: "ari", GateID: "a", Caller: number, Outcome: gate.OutcomePINOK}); err != nil {
					errs <- fmt.Errorf("log call: %w", err)
				}
				if _, err := s.LookupEntry(ctx(t), "a", number, t0); err != nil {
					errs <- fmt.Errorf("lookup own entry: %w", err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if _, n, err := s.ListEntries(ctx(t), "a", gate.EntryFilter{}); err != nil || n != workers*each {
		t.Errorf("entries after concurrent writes = %d, %v; want %d", n, err, workers*each)
	}
	if _, n, err := s.ListCalls(ctx(t), gate.CallFilter{GateID: "a"}); err != nil || n != workers*each {
		t.Errorf("calls after concurrent writes = %d, %v; want %d", n, err, workers*each)
	}
}

func testConcurrentFailures(t *testing.T, s gate.Store) {
	const workers, each = 8, 10
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				_, err := s.AddFailure(ctx(t), "a", "+4971112345", t0.Add(time.Duration(w*each+i)*time.Millisecond), time.Hour)
				if err != nil {
					t.Errorf("add failure: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	n, err := s.AddFailure(ctx(t), "a", "+4971112345", t0.Add(time.Minute), time.Hour)
	if err != nil || n != workers*each+1 {
		t.Errorf("failures after concurrent adds = %d, %v; want %d", n, err, workers*each+1)
	}
}

func testReserveGuess(t *testing.T, s gate.Store) {
	const w = 5 * time.Minute
	anna, bob := "+4971112345", "+4930123456"
	both := func(caller string, callerMax, gateMax int) []gate.GuessKey {
		return []gate.GuessKey{{Caller: caller, Limit: callerMax}, {Caller: gate.AnyCaller, Limit: gateMax}}
	}
	run := func(name, gateID string, keys []gate.GuessKey, at time.Duration, wantOK bool, want []int) {
		t.Helper()
		counts, ok, err := s.ReserveGuess(ctx(t), gateID, keys, t0.Add(at), w)
		if err != nil {
			t.Fatalf("%s: reserve guess: %v", name, err)
		}
		if ok != wantOK || !slices.Equal(counts, want) {
			t.Errorf("%s: reserve guess at +%v = %v, %v; want %v, %v", name, at, counts, ok, want, wantOK)
		}
	}
	run("first", "a", both(anna, 2, 3), 0, true, []int{1, 1})
	run("second", "a", both(anna, 2, 3), time.Second, true, []int{2, 2})
	run("caller spent", "a", both(anna, 2, 3), 2*time.Second, false, []int{2, 2})
	run("a refused guess is not counted for the gate", "a", both(bob, 2, 3), 3*time.Second, true, []int{1, 3})
	run("gate spent", "a", both(bob, 2, 3), 4*time.Second, false, []int{1, 3})
	run("a refused guess is not counted for the caller", "a", []gate.GuessKey{{Caller: bob, Limit: 2}}, 5*time.Second, true, []int{2})
	run("other gate", "b", both(anna, 1, 1), 5*time.Second, true, []int{1, 1})
	// (1s, 5m1s]: anna's guesses at 0 and 1s have left the window; the
	// gate-wide key keeps the one at 3s.
	run("guesses leave the window", "a", both(anna, 2, 3), w+time.Second, true, []int{1, 2})
	run("a second guess at the same time", "a", []gate.GuessKey{{Caller: gate.AnyCaller, Limit: 10}}, w+time.Second, true, []int{3})

	// Guesses are failures of their key.
	if n, err := s.AddFailure(ctx(t), "a", bob, t0.Add(6*time.Second), w); err != nil || n != 3 {
		t.Errorf("add failure after 2 guesses = %d, %v; want 3", n, err)
	}
	// ReleaseGuess takes back one guess at its time, and only that one.
	if err := s.ReleaseGuess(ctx(t), "a", gate.AnyCaller, t0.Add(w+time.Second)); err != nil {
		t.Fatalf("release guess: %v", err)
	}
	if err := s.ReleaseGuess(ctx(t), "a", gate.AnyCaller, t0.Add(time.Hour)); err != nil {
		t.Errorf("release of a guess that was never made: %v, want nil", err)
	}
	// 3s and one of the two at 5m1s are left.
	run("one guess was released", "a", []gate.GuessKey{{Caller: gate.AnyCaller, Limit: 3}}, w+2*time.Second, true, []int{3})
	run("gate spent again", "a", []gate.GuessKey{{Caller: gate.AnyCaller, Limit: 3}}, w+2*time.Second, false, []int{3})
	// Guesses recorded at later times (another instance's clock ahead)
	// count as well.
	run("later guesses count", "b", []gate.GuessKey{{Caller: anna, Limit: 1}}, 4*time.Second, false, []int{1})
	// ResetFailures and ClearLockout forget guesses.
	if err := s.ResetFailures(ctx(t), "a", anna); err != nil {
		t.Fatal(err)
	}
	run("after reset", "a", []gate.GuessKey{{Caller: anna, Limit: 1}}, w+4*time.Second, true, []int{1})
	if err := s.SetLockout(ctx(t), &gate.Lockout{GateID: "a", Caller: gate.AnyCaller, Until: t0.Add(time.Hour), At: t0}); err != nil {
		t.Fatal(err)
	}
	if err := s.ClearLockout(ctx(t), "a", gate.AnyCaller); err != nil {
		t.Fatal(err)
	}
	run("after clear", "a", []gate.GuessKey{{Caller: gate.AnyCaller, Limit: 1}}, w+5*time.Second, true, []int{1})
}

// testConcurrentReserveGuess reserves many guesses at once under one
// caller key and the gate-wide key: exactly the limits are granted, and
// the counts handed out are distinct.
func testConcurrentReserveGuess(t *testing.T, s gate.Store) {
	const workers, each, callerMax, gateMax = 8, 6, 9, 20
	var (
		mu      sync.Mutex
		granted []int // caller counts of granted guesses
		gateN   int
	)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			caller := "+4971112345"
			if w%2 == 1 {
				caller = fmt.Sprintf("+49301234%02d", w)
			}
			for i := range each {
				at := t0.Add(time.Duration(w*each+i) * time.Millisecond)
				keys := []gate.GuessKey{{Caller: caller, Limit: callerMax}, {Caller: gate.AnyCaller, Limit: gateMax}}
				counts, ok, err := s.ReserveGuess(ctx(t), "a", keys, at, time.Hour)
				if err != nil {
					t.Errorf("reserve guess: %v", err)
					return
				}
				if ok {
					mu.Lock()
					gateN++
					if w%2 == 0 {
						granted = append(granted, counts[0])
					}
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if gateN != gateMax {
		t.Errorf("%d guesses granted at the gate, want exactly the limit %d", gateN, gateMax)
	}
	if len(granted) > callerMax {
		t.Errorf("%d guesses granted to one caller, want at most %d", len(granted), callerMax)
	}
	slices.Sort(granted)
	for i, n := range granted {
		if n != i+1 {
			t.Errorf("caller counts granted %v, want 1..%d each once", granted, len(granted))
			break
		}
	}
	counts, ok, err := s.ReserveGuess(ctx(t), "a", []gate.GuessKey{{Caller: gate.AnyCaller, Limit: gateMax + 1}}, t0.Add(time.Minute), time.Hour)
	if err != nil || !ok || counts[0] != gateMax+1 {
		t.Errorf("gate-wide count after the concurrent reservations = %v, %v, %v; want %d", counts, ok, err, gateMax+1)
	}
}
