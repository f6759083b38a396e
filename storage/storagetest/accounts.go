package storagetest

import (
	"bytes"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
)

func account(t testing.TB, gateID, number, pin string) *gate.Account {
	return &gate.Account{GateID: gateID, Number: number, PIN: hasher(t).Hash(pin), Label: "holder " + number}
}

func mustCreateAccount(t testing.TB, s gate.Store, a *gate.Account) *gate.Account {
	t.Helper()
	if err := s.CreateAccount(ctx(t), a); err != nil {
		t.Fatalf("create account %s: %v", a.Number, err)
	}
	return a
}

func checkAccount(t testing.TB, got, want *gate.Account) {
	t.Helper()
	if got == nil {
		t.Fatalf("account %s: got nil", want.Number)
	}
	if got.GateID != want.GateID || got.Number != want.Number || got.Label != want.Label || got.Priority != want.Priority || got.Code != want.Code {
		t.Errorf("account = %+v, want %+v", got, want)
	}
	if !bytes.Equal(got.PIN.Salt, want.PIN.Salt) || !bytes.Equal(got.PIN.Sum, want.PIN.Sum) {
		t.Errorf("account %s: PIN hash not kept", want.Number)
	}
	checkTime(t, "valid_from", got.ValidFrom, want.ValidFrom)
	checkTime(t, "valid_until", got.ValidUntil, want.ValidUntil)
}

// testAccountCRUD checks creating, reading, updating and deleting
// accounts, and the errors of each.
func testAccountCRUD(t *testing.T, s gate.Store) {
	mustCreate(t, s, tableGate("a"))
	mustCreate(t, s, tableGate("b"))
	a := account(t, "a", "10042", "4711")
	a.Priority, a.Code, a.ValidFrom, a.ValidUntil = 7, "CUST-42", t0, t0.Add(time.Hour)
	mustCreateAccount(t, s, a)
	if a.CreatedAt.IsZero() || a.UpdatedAt.IsZero() {
		t.Errorf("create did not set the times: %+v", a)
	}
	got, err := s.GetAccount(ctx(t), "a", "10042")
	if err != nil {
		t.Fatalf("get account: %v", err)
	}
	checkAccount(t, got, a)
	checkTime(t, "created_at", got.CreatedAt, a.CreatedAt)

	err = s.CreateAccount(ctx(t), account(t, "a", "10042", "1234"))
	wantErr(t, "create a number twice", err, gate.ErrConflict)
	wantConflictField(t, "create a number twice", err, "number")
	mustCreateAccount(t, s, account(t, "b", "10042", "1234")) // another gate may have it
	wantErr(t, "create at a missing gate", s.CreateAccount(ctx(t), account(t, "missing", "1", "1234")), gate.ErrNotFound)
	wantErr(t, "create without PIN", s.CreateAccount(ctx(t), &gate.Account{GateID: "a", Number: "5"}), gate.ErrInvalid)
	wantErr(t, "create with letters", s.CreateAccount(ctx(t), account(t, "a", "12a", "1234")), gate.ErrInvalid)
	wantErr(t, "get missing", func() error { _, err := s.GetAccount(ctx(t), "a", "999"); return err }(), gate.ErrNotFound)

	up := account(t, "a", "10042", "9999")
	up.Label, up.Priority = "new holder", 0
	if err := s.UpdateAccount(ctx(t), up); err != nil {
		t.Fatalf("update account: %v", err)
	}
	got, err = s.GetAccount(ctx(t), "a", "10042")
	if err != nil {
		t.Fatalf("get updated account: %v", err)
	}
	checkAccount(t, got, up)
	checkTime(t, "created_at after update", got.CreatedAt, a.CreatedAt)
	wantErr(t, "update missing", s.UpdateAccount(ctx(t), account(t, "a", "777", "1234")), gate.ErrNotFound)

	key := gate.AccountKey("10042")
	if err := s.SetLockout(ctx(t), &gate.Lockout{GateID: "a", Caller: key, Until: t0.Add(time.Hour), Failures: 3, At: t0}); err != nil {
		t.Fatalf("set lockout: %v", err)
	}
	if _, err := s.AddFailure(ctx(t), "a", key, t0, time.Hour); err != nil {
		t.Fatalf("add failure: %v", err)
	}
	if err := s.DeleteAccount(ctx(t), "a", "10042"); err != nil {
		t.Fatalf("delete account: %v", err)
	}
	// The account's lockout and counters go with it.
	if _, err := s.GetLockout(ctx(t), "a", key, t0); !errors.Is(err, gate.ErrNotFound) {
		t.Errorf("lockout of a deleted account: %v, want ErrNotFound", err)
	}
	if n, err := s.AddFailure(ctx(t), "a", key, t0, time.Hour); err != nil || n != 1 {
		t.Errorf("failures of a deleted account: %d (%v), want only the new one", n, err)
	}
	wantErr(t, "get deleted", func() error { _, err := s.GetAccount(ctx(t), "a", "10042"); return err }(), gate.ErrNotFound)
	wantErr(t, "delete twice", s.DeleteAccount(ctx(t), "a", "10042"), gate.ErrNotFound)
	if _, err := s.GetAccount(ctx(t), "b", "10042"); err != nil {
		t.Errorf("another gate's account went with it: %v", err)
	}

	// Deleting the gate deletes its accounts.
	if err := s.DeleteGate(ctx(t), "b"); err != nil {
		t.Fatalf("delete gate: %v", err)
	}
	mustCreate(t, s, tableGate("b"))
	if _, err := s.GetAccount(ctx(t), "b", "10042"); !errors.Is(err, gate.ErrNotFound) {
		t.Errorf("account of a deleted gate: %v, want ErrNotFound", err)
	}
}

// testAccountList checks listing by number prefix and paging.
func testAccountList(t *testing.T, s gate.Store) {
	mustCreate(t, s, tableGate("a"))
	mustCreate(t, s, tableGate("b"))
	for _, n := range []string{"300", "100", "1001", "200", "1002"} {
		mustCreateAccount(t, s, account(t, "a", n, "4711"))
	}
	mustCreateAccount(t, s, account(t, "b", "100", "4711"))
	numbers := func(as []*gate.Account) []string {
		var out []string
		for _, a := range as {
			out = append(out, a.Number)
		}
		return out
	}
	tests := []struct {
		name  string
		f     gate.AccountFilter
		want  []string
		total int
	}{
		{"all", gate.AccountFilter{}, []string{"100", "1001", "1002", "200", "300"}, 5},
		{"prefix", gate.AccountFilter{Number: "100"}, []string{"100", "1001", "1002"}, 3},
		{"page", gate.AccountFilter{Limit: 2, Offset: 1}, []string{"1001", "1002"}, 5},
		{"after", gate.AccountFilter{After: "1002"}, []string{"200", "300"}, 5},
		{"none", gate.AccountFilter{Number: "9"}, nil, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, total, err := s.ListAccounts(ctx(t), "a", tc.f)
			if err != nil {
				t.Fatalf("list accounts: %v", err)
			}
			if !slices.Equal(numbers(got), tc.want) || total != tc.total {
				t.Errorf("list = %v (total %d), want %v (total %d)", numbers(got), total, tc.want, tc.total)
			}
		})
	}
}

// testAccountImport checks that an import upserts by number, all or
// nothing, and that Replace deletes the rest.
func testAccountImport(t *testing.T, s gate.Store) {
	mustCreate(t, s, tableGate("a"))
	mustCreateAccount(t, s, account(t, "a", "1", "4711"))
	mustCreateAccount(t, s, account(t, "a", "2", "4711"))
	in := []*gate.Account{account(t, "a", "2", "5555"), account(t, "a", "3", "6666")}
	in[0].Label = "imported"
	res, err := s.ImportAccounts(ctx(t), "a", in, gate.ImportOptions{})
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	if res != (gate.ImportResult{Inserted: 1, Updated: 1}) {
		t.Errorf("import = %+v, want 1 inserted, 1 updated", res)
	}
	got, err := s.GetAccount(ctx(t), "a", "2")
	if err != nil {
		t.Fatalf("get imported: %v", err)
	}
	checkAccount(t, got, in[0])

	_, err = s.ImportAccounts(ctx(t), "a", []*gate.Account{account(t, "a", "9", "1"), account(t, "a", "9", "2")}, gate.ImportOptions{})
	wantErr(t, "import a number twice", err, gate.ErrConflict)
	_, err = s.ImportAccounts(ctx(t), "a", []*gate.Account{account(t, "a", "8", "1"), {GateID: "a", Number: "x"}}, gate.ImportOptions{})
	wantErr(t, "import an invalid account", err, gate.ErrInvalid)
	for _, n := range []string{"8", "9"} {
		if _, err := s.GetAccount(ctx(t), "a", n); !errors.Is(err, gate.ErrNotFound) {
			t.Errorf("account %s of a failed import was kept (%v)", n, err)
		}
	}
	_, err = s.ImportAccounts(ctx(t), "missing", in, gate.ImportOptions{})
	wantErr(t, "import into a missing gate", err, gate.ErrNotFound)

	res, err = s.ImportAccounts(ctx(t), "a", []*gate.Account{account(t, "a", "3", "7777")}, gate.ImportOptions{Replace: true})
	if err != nil {
		t.Fatalf("import replace: %v", err)
	}
	if res != (gate.ImportResult{Updated: 1, Deleted: 2}) {
		t.Errorf("import replace = %+v, want 1 updated, 2 deleted", res)
	}
	all, total, err := s.ListAccounts(ctx(t), "a", gate.AccountFilter{})
	if err != nil || total != 1 || len(all) != 1 || all[0].Number != "3" {
		t.Errorf("after replace: %v accounts (total %d, err %v), want only 3", len(all), total, err)
	}
}

// testReadAccount checks the dialogue's read: the account valid at the
// time asked for and the lockouts of the keys, each as GetAccount and
// GetLockout answer them.
func testReadAccount(t *testing.T, s gate.Store) {
	mustCreate(t, s, tableGate("a"))
	mustCreate(t, s, tableGate("b"))
	acc := account(t, "a", "10042", "4711")
	acc.ValidFrom, acc.ValidUntil = t0, t0.Add(time.Hour)
	mustCreateAccount(t, s, acc)
	open := mustCreateAccount(t, s, account(t, "a", "20", "4711"))
	key := gate.AccountKey("10042")
	la := &gate.Lockout{GateID: "a", Caller: key, Until: t0.Add(10 * time.Minute), Failures: 3, At: t0}
	lc := &gate.Lockout{GateID: "a", Caller: gate.AnonymousCaller, Until: t0.Add(5 * time.Minute), Failures: 3, At: t0}
	lb := &gate.Lockout{GateID: "b", Caller: key, Until: t0.Add(10 * time.Minute), Failures: 3, At: t0}
	for _, l := range []*gate.Lockout{la, lc, lb} {
		if err := s.SetLockout(ctx(t), l); err != nil {
			t.Fatalf("set lockout: %v", err)
		}
	}
	tests := []struct {
		name    string
		gate    string
		number  string
		keys    []string
		now     time.Duration
		account *gate.Account
		locked  []string
	}{
		{"account and both lockouts", "a", "10042", []string{gate.AnonymousCaller, key}, 0, acc, []string{key, gate.AnonymousCaller}},
		{"caller lockout over", "a", "10042", []string{gate.AnonymousCaller, key}, 6 * time.Minute, acc, []string{key}},
		{"account not yet valid", "a", "10042", []string{key}, -time.Minute, nil, []string{key}},
		{"account no longer valid", "a", "10042", []string{key}, time.Hour, nil, nil},
		{"open account", "a", "20", nil, 0, open, nil},
		{"unknown account, its lockout", "a", "30", []string{gate.AccountKey("30"), key}, 0, nil, []string{key}},
		{"prefix is no match", "a", "1004", nil, 0, nil, nil},
		{"another gate", "b", "10042", []string{key}, 0, nil, []string{key}},
		{"missing gate", "missing", "10042", []string{key}, 0, nil, nil},
		{"nothing asked", "a", "", nil, 0, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, err := s.ReadAccount(ctx(t), tc.gate, tc.number, tc.keys, t0.Add(tc.now))
			if err != nil {
				t.Fatalf("read account: %v", err)
			}
			if tc.account == nil {
				if st.Account != nil {
					t.Errorf("account = %+v, want none", st.Account)
				}
			} else {
				checkAccount(t, st.Account, tc.account)
			}
			var locked []string
			for _, l := range st.Lockouts {
				if l.GateID != tc.gate {
					t.Errorf("lockout of gate %s read for gate %s", l.GateID, tc.gate)
				}
				locked = append(locked, l.Caller)
			}
			slices.Sort(locked)
			if !slices.Equal(locked, tc.locked) {
				t.Errorf("lockouts = %v, want %v", locked, tc.locked)
			}
		})
	}
}
