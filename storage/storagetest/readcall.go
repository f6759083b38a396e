package storagetest

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
)

// testReadCall checks the call path's one read: the lockouts of the keys
// asked for and the caller's entry, each as GetLockout and LookupEntry
// answer them.
func testReadCall(t *testing.T, s gate.Store) {
	mustCreate(t, s, tableGate("a"))
	mustCreate(t, s, tableGate("b"))
	fx := lookupFixture(t, "a")
	for _, e := range fx {
		mustPut(t, s, e)
	}
	other := mustPut(t, s, entry(t, "b", "+4930123456", "4711"))
	anna, bob := "+4971112345", "+4930123456"
	la := &gate.Lockout{GateID: "a", Caller: anna, Until: t0.Add(10 * time.Minute), Failures: 5, At: t0}
	lg := &gate.Lockout{GateID: "a", Caller: gate.AnyCaller, Until: t0.Add(5 * time.Minute), Failures: 50, At: t0}
	lb := &gate.Lockout{GateID: "b", Caller: bob, Until: t0.Add(20 * time.Minute), Failures: 3, At: t0}
	for _, l := range []*gate.Lockout{la, lg, lb} {
		if err := s.SetLockout(ctx(t), l); err != nil {
			t.Fatalf("set lockout: %v", err)
		}
	}
	tests := []struct {
		name   string
		gate   string
		keys   []string
		number string
		now    time.Duration
		want   []*gate.Lockout
		entry  *gate.Entry
	}{
		{"both lockouts and the entry", "a", []string{anna, gate.AnyCaller}, anna, 0, []*gate.Lockout{lg, la}, fx["anna"]},
		{"gate-wide lockout over", "a", []string{anna, gate.AnyCaller}, anna, 6 * time.Minute, []*gate.Lockout{la}, fx["anna"]},
		{"no lockout in effect", "a", []string{anna, gate.AnyCaller}, anna, 10 * time.Minute, nil, fx["anna"]},
		{"prefix entry, gate-wide lockout only", "a", []string{"+4971112399", gate.AnyCaller}, "+4971112399", 0, []*gate.Lockout{lg}, fx["office"]},
		{"no entry, no error", "a", []string{bob, gate.AnyCaller}, bob, 0, []*gate.Lockout{lg}, nil},
		{"entry only", "a", nil, anna, 0, nil, fx["anna"]},
		{"lockouts only", "a", []string{anna}, "", 0, []*gate.Lockout{la}, nil},
		{"another gate's lockout and entry", "b", []string{bob, gate.AnyCaller}, bob, 0, []*gate.Lockout{lb}, other},
		{"anonymous key", "a", []string{gate.AnonymousCaller}, "", 0, nil, nil},
		{"missing gate", "missing", []string{anna, gate.AnyCaller}, anna, 0, nil, nil},
		{"nothing asked", "a", nil, "", 0, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, err := s.ReadCall(ctx(t), tc.gate, tc.keys, tc.number, t0.Add(tc.now))
			if err != nil {
				t.Fatalf("read call: %v", err)
			}
			slices.SortFunc(st.Lockouts, func(x, y *gate.Lockout) int { return strings.Compare(x.Caller, y.Caller) })
			if len(st.Lockouts) != len(tc.want) {
				t.Fatalf("read call: %d lockouts %v, want %d", len(st.Lockouts), st.Lockouts, len(tc.want))
			}
			for i := range tc.want {
				checkLockout(t, st.Lockouts[i], tc.want[i])
			}
			if tc.entry == nil {
				if st.Entry != nil {
					t.Fatalf("read call: entry %s, want none", st.Entry.Pattern)
				}
				return
			}
			checkEntry(t, st.Entry, tc.entry)
		})
	}
	// The entry is LookupEntry's for every number and time.
	for _, at := range []time.Time{t0.Add(-time.Minute), t0, t0.Add(time.Hour)} {
		for _, number := range []string{"+4971112345", "+4971112399", "+4971112", "+4971", "+4989123", "+4989124", "+4930129999", "+49301234", "+12125550100"} {
			st, err := s.ReadCall(ctx(t), "a", nil, number, at)
			if err != nil {
				t.Fatalf("read call %s: %v", number, err)
			}
			want, err := s.LookupEntry(ctx(t), "a", number, at)
			switch {
			case isNotFound(err) && st.Entry != nil:
				t.Errorf("read call %s at %s: entry %s, LookupEntry finds none", number, at.Format(time.TimeOnly), st.Entry.Pattern)
			case err == nil:
				checkEntry(t, st.Entry, want)
			case !isNotFound(err):
				t.Fatalf("lookup %s: %v", number, err)
			}
		}
	}
	t.Run("cancelled context", func(t *testing.T) {
		c, cancel := context.WithCancel(ctx(t))
		cancel()
		if _, err := s.ReadCall(c, "a", []string{anna, gate.AnyCaller}, anna, t0); err == nil {
			t.Error("read call with a cancelled context: no error")
		}
	})
}
