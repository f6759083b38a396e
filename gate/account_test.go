package gate_test

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/gate/gatetest"
)

func TestNewAccount(t *testing.T) {
	h := mustHasher(t)
	g := staticGate(h, "4711")
	g.Dialogue.RejectWeak = true
	old := &gate.Account{GateID: g.ID, Number: "42", PIN: h.Hash("8642")}
	tests := []struct {
		name   string
		in     gate.AccountIn
		old    *gate.Account
		fields []string // the fields the error names; nil = valid
	}{
		{"valid", gate.AccountIn{Number: "10042", PIN: "8642", Label: "Anna", Priority: 5, Code: "C-1", ValidFrom: "2026-01-01", ValidUntil: "2026-12-31"}, nil, nil},
		{"no number", gate.AccountIn{PIN: "8642"}, nil, []string{"number"}},
		{"letters in the number", gate.AccountIn{Number: "12a4", PIN: "8642"}, nil, []string{"number"}},
		{"number too long", gate.AccountIn{Number: strings.Repeat("1", gate.MaxAccountLen+1), PIN: "8642"}, nil, []string{"number"}},
		{"no PIN", gate.AccountIn{Number: "1"}, nil, []string{"pin"}},
		{"PIN too short", gate.AccountIn{Number: "1", PIN: "12"}, nil, []string{"pin"}},
		{"weak PIN", gate.AccountIn{Number: "1", PIN: "1234"}, nil, []string{"pin"}},
		{"update keeps the PIN", gate.AccountIn{Number: "42", Label: "new"}, old, nil},
		{"bad priority and code", gate.AccountIn{Number: "1", PIN: "8642", Priority: 5000, Code: "a b"}, nil, []string{"priority", "account_code"}},
		{"dates", gate.AccountIn{Number: "1", PIN: "8642", ValidFrom: "2026-02-01", ValidUntil: "2026-01-01"}, nil, []string{"valid_until"}},
		{"bad date", gate.AccountIn{Number: "1", PIN: "8642", ValidFrom: "soon"}, nil, []string{"valid_from"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := gate.NewAccount(h, g, tc.in, tc.old, "")
			if tc.fields == nil {
				if err != nil {
					t.Fatalf("NewAccount: %v", err)
				}
				if tc.in.PIN != "" && !h.Check(a.PIN, tc.in.PIN) {
					t.Error("the PIN was not hashed")
				}
				if tc.old != nil && tc.in.PIN == "" && !h.Check(a.PIN, "8642") {
					t.Error("the update lost the PIN")
				}
				return
			}
			if !errors.Is(err, gate.ErrInvalid) {
				t.Fatalf("error %v, want ErrInvalid", err)
			}
			var es gate.ValidationErrors
			if !errors.As(err, &es) {
				t.Fatalf("error %T, want ValidationErrors", err)
			}
			var got []string
			for _, e := range es {
				got = append(got, e.Field)
				if tc.in.PIN != "" && strings.Contains(e.Problem, tc.in.PIN) {
					t.Errorf("problem %q holds the PIN", e.Problem)
				}
			}
			if strings.Join(got, ",") != strings.Join(tc.fields, ",") {
				t.Errorf("fields %v, want %v", got, tc.fields)
			}
		})
	}
}

func TestAccountKey(t *testing.T) {
	k := gate.AccountKey("10042")
	if k == gate.LockoutKey("10042") || k == gate.AnonymousCaller || k == gate.AnyCaller {
		t.Errorf("account key %q can be taken for a caller key", k)
	}
	if n, ok := gate.AccountNumberOfKey(k); !ok || n != "10042" {
		t.Errorf("AccountNumberOfKey(%q) = %q, %v", k, n, ok)
	}
	if _, ok := gate.AccountNumberOfKey("+4971112345"); ok {
		t.Error("a caller key read as an account key")
	}
}

// TestAuditedAccounts checks that account changes through an Audited
// store reach the audit log, a changed PIN only as redacted.
func TestAuditedAccounts(t *testing.T) {
	ctx := t.Context()
	h := mustHasher(t)
	raw := gatetest.NewStore()
	s := gate.Audited(raw, "cli:alice")
	if err := s.CreateGate(ctx, staticGate(h, "4711")); err != nil {
		t.Fatal(err)
	}
	a := &gate.Account{GateID: "hotline", Number: "10042", PIN: h.Hash("8642"), Label: "old"}
	if err := s.CreateAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	b := *a
	b.Label, b.PIN = "new", h.Hash("9753")
	if err := s.UpdateAccount(ctx, &b); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ImportAccounts(ctx, "hotline", []*gate.Account{&b}, gate.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteAccount(ctx, "hotline", "10042"); err != nil {
		t.Fatal(err)
	}
	list, err := raw.ListAudit(ctx, gate.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range list {
		actions = append(actions, e.Action)
		raw, _ := json.Marshal(e)
		for _, secret := range []string{a.PIN.String(), b.PIN.String(), "8642", "9753"} {
			if strings.Contains(string(raw), secret) {
				t.Errorf("audit entry %s holds a PIN or its hash", e.Action)
			}
		}
		if e.Action == "account.update" {
			var pinChanged, labelChanged bool
			for _, c := range e.Changes {
				pinChanged = pinChanged || c.Field == "pin"
				labelChanged = labelChanged || c.Field == "label"
			}
			if !pinChanged || !labelChanged {
				t.Errorf("account.update changes %+v, want pin and label", e.Changes)
			}
		}
	}
	want := "account.create account.update accounts.import account.delete"
	slices.Reverse(actions)
	if got := strings.Join(actions[1:], " "); got != want {
		t.Errorf("actions %q, want %q", got, want)
	}
}
