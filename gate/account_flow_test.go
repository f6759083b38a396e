package gate_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/gate/gatetest"
)

// accountEnv is a table gate whose callers without a number identify by
// account (or, with mode, every caller), with account 10042 (PIN 8642,
// label, priority and code) and account 20077 (PIN 1357).
func accountEnv(t *testing.T, mode gate.IdentMode, lockout gate.LockoutPolicy) *env {
	t.Helper()
	h := mustHasher(t)
	g := staticGate(h, "4711")
	g.Identification.Mode = mode
	g.Identification.UnknownCaller = gate.UnknownPass
	g.Identification.Withheld = gate.WithheldAccount
	g.Dialogue.MaxRetries = 2
	g.Lockout = lockout
	en := newEnv(t, g)
	for _, a := range []*gate.Account{
		{GateID: g.ID, Number: "10042", PIN: h.Hash("8642"), Label: "Anna Admin", Priority: 7, Code: "CUST-42"},
		{GateID: g.ID, Number: "20077", PIN: h.Hash("1357")},
	} {
		if err := en.store.CreateAccount(context.Background(), a); err != nil {
			t.Fatal(err)
		}
	}
	return en
}

func TestFlowAccount(t *testing.T) {
	ask, wrong := gate.PromptAskAccount, gate.PromptWrongAccount
	tests := []struct {
		name         string
		mode         gate.IdentMode
		caller       string
		steps        []gatetest.Step
		want         gate.Outcome
		wantAttempts int
		wantPlayed   []gate.PromptKey
		wantVars     map[string]string
	}{
		{"withheld caller, right account and PIN", gate.IdentTable, "", []gatetest.Step{typed("10042"), typed("8642")},
			gate.OutcomePINOK, 1, []gate.PromptKey{ask, gate.PromptAskPIN},
			map[string]string{gate.VarLabel: "Anna Admin", gate.VarPriority: "7", gate.VarAccount: "CUST-42"}},
		{"an account without label sets none", gate.IdentTable, "", []gatetest.Step{typed("20077"), typed("1357")},
			gate.OutcomePINOK, 1, []gate.PromptKey{ask, gate.PromptAskPIN},
			map[string]string{gate.VarLabel: "", gate.VarPriority: "", gate.VarAccount: ""}},
		{"another account's PIN is wrong", gate.IdentTable, "", []gatetest.Step{typed("10042"), typed("1357"), typed("20077"), typed("1357")},
			gate.OutcomePINOK, 2, []gate.PromptKey{ask, gate.PromptAskPIN, wrong, gate.PromptAskPIN}, nil},
		{"wrong PIN twice", gate.IdentTable, "", []gatetest.Step{typed("10042"), typed("1111"), typed("10042"), typed("2222")},
			gate.OutcomePINFailed, 2, []gate.PromptKey{ask, gate.PromptAskPIN, wrong, gate.PromptAskPIN}, nil},
		{"unknown account: the PIN is asked all the same", gate.IdentTable, "", []gatetest.Step{typed("99999"), typed("8642"), typed("88888"), typed("8642")},
			gate.OutcomePINFailed, 2, []gate.PromptKey{ask, gate.PromptAskPIN, wrong, gate.PromptAskPIN}, nil},
		{"nothing typed for the account spends the attempt", gate.IdentTable, "", []gatetest.Step{typed(""), typed("10042"), typed("8642")},
			gate.OutcomePINOK, 2, []gate.PromptKey{ask, wrong, gate.PromptAskPIN}, nil},
		{"a caller with a number is not asked", gate.IdentTable, "+4930999999", nil, gate.OutcomePassed, 0, nil, nil},
		{"account mode asks callers with a number too", gate.IdentAccount, "+4930999999", []gatetest.Step{typed("10042"), typed("8642")},
			gate.OutcomePINOK, 1, []gate.PromptKey{ask, gate.PromptAskPIN}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			en := accountEnv(t, tc.mode, gate.LockoutPolicy{})
			c := call(tc.caller, tc.steps...)
			rec := en.flow.Run(context.Background(), c)
			if rec.Outcome != tc.want || rec.Attempts != tc.wantAttempts {
				t.Fatalf("outcome %s after %d attempts, want %s after %d (ops %s)", rec.Outcome, rec.Attempts, tc.want, tc.wantAttempts, c.Ops())
			}
			if got := c.Played(); !slices.Equal(got, tc.wantPlayed) {
				t.Errorf("played %v, want %v", got, tc.wantPlayed)
			}
			for k, v := range tc.wantVars {
				if got := c.Var(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			if tc.wantPlayed != nil && rec.Mode != gate.IdentAccount {
				t.Errorf("call-log mode %q, want account", rec.Mode)
			}
		})
	}
}

// TestFlowAccountLockout checks that wrong PINs lock out both the account
// number and the caller: another caller typing the locked account is
// turned away after the number, and the caller is turned away before it is
// answered.
func TestFlowAccountLockout(t *testing.T) {
	pol := gate.LockoutPolicy{MaxFailures: 1, Window: gate.Duration(time.Hour), Duration: gate.Duration(time.Hour)}
	en := accountEnv(t, gate.IdentAccount, pol)
	ctx := context.Background()
	// Caller A: two wrong PINs for 10042 (1 failure × 2 attempts).
	rec := en.flow.Run(ctx, call("+4930111111", typed("10042"), typed("1111"), typed("10042"), typed("2222")))
	if rec.Outcome != gate.OutcomePINFailed {
		t.Fatalf("first call %s, want pin_failed", rec.Outcome)
	}
	for _, k := range []string{"+4930111111", gate.AccountKey("10042")} {
		if _, err := en.store.GetLockout(ctx, "hotline", k, en.now); err != nil {
			t.Errorf("lockout of %s: %v, want one", k, err)
		}
	}
	// Caller B, the right PIN of the locked account: locked out.
	c := call("+4930222222", typed("10042"), typed("8642"))
	rec = en.flow.Run(ctx, c)
	if rec.Outcome != gate.OutcomeLockedOut {
		t.Fatalf("other caller on the locked account: %s, want locked_out (ops %s)", rec.Outcome, c.Ops())
	}
	if got := c.Played(); !slices.Equal(got, []gate.PromptKey{gate.PromptAskAccount}) {
		t.Errorf("played %v, want only ask-account: the PIN is not asked of a locked account", got)
	}
	// Caller B on another account gets through.
	rec = en.flow.Run(ctx, call("+4930222222", typed("20077"), typed("1357")))
	if rec.Outcome != gate.OutcomePINOK {
		t.Errorf("other account: %s, want pin_ok", rec.Outcome)
	}
	// Caller A, locked out, is not answered.
	c = call("+4930111111", typed("20077"), typed("1357"))
	rec = en.flow.Run(ctx, c)
	if rec.Outcome != gate.OutcomeLockedOut || c.Answered() != 0 {
		t.Errorf("locked caller: %s, answered %d; want locked_out unanswered", rec.Outcome, c.Answered())
	}
}

// TestFlowAccountUnknownLocksOut checks that unknown account numbers are
// counted and locked out like known ones: nothing tells them apart.
func TestFlowAccountUnknownLocksOut(t *testing.T) {
	pol := gate.LockoutPolicy{MaxFailures: 1, Window: gate.Duration(time.Hour), Duration: gate.Duration(time.Hour)}
	en := accountEnv(t, gate.IdentAccount, pol)
	ctx := context.Background()
	en.flow.Run(ctx, call("+4930111111", typed("55555"), typed("1111"), typed("55555"), typed("2222")))
	if _, err := en.store.GetLockout(ctx, "hotline", gate.AccountKey("55555"), en.now); err != nil {
		t.Errorf("lockout of an unknown account: %v, want one", err)
	}
}

// TestFlowAccountCorrectResets checks that a right PIN forgets the
// account's and the caller's wrong guesses.
func TestFlowAccountCorrectResets(t *testing.T) {
	pol := gate.LockoutPolicy{MaxFailures: 1, Window: gate.Duration(time.Hour), Duration: gate.Duration(time.Hour)}
	en := accountEnv(t, gate.IdentAccount, pol)
	ctx := context.Background()
	for i := range 3 {
		rec := en.flow.Run(ctx, call("+4930111111", typed("10042"), typed("1111"), typed("10042"), typed("8642")))
		if rec.Outcome != gate.OutcomePINOK {
			t.Fatalf("call %d: %s, want pin_ok (a wrong guess each call is forgotten after the right one)", i, rec.Outcome)
		}
	}
}

// TestFlowAccountStoreFails checks that a store that fails when the
// account is read hands the call to the gate's failure policy.
func TestFlowAccountStoreFails(t *testing.T) {
	tests := []struct {
		name   string
		policy gate.FailurePolicy
		steps  []gatetest.Step
		want   gate.Outcome
		dest   bool
	}{
		{"reject", gate.FailurePolicy{Action: gate.FailReject}, []gatetest.Step{typed("10042")}, gate.OutcomeFailed, false},
		{"pass", gate.FailurePolicy{Action: gate.FailPass}, []gatetest.Step{typed("10042")}, gate.OutcomeFailed, true},
		{"static PIN", gate.FailurePolicy{Action: gate.FailStatic}, []gatetest.Step{typed("10042"), typed("4711")}, gate.OutcomePINOK, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := mustHasher(t)
			g := staticGate(h, "4711")
			g.Identification.Mode = gate.IdentAccount
			g.Failure = tc.policy
			st := &failingAccounts{Store: gatetest.NewStore()}
			if err := st.CreateGate(context.Background(), g); err != nil {
				t.Fatal(err)
			}
			e := gate.NewEngine(gate.EngineConfig{Store: st, Hasher: h, Region: "DE"})
			f := gate.NewFlow(e, gate.FlowConfig{Log: st, Counters: st})
			c := call("+4930111111", tc.steps...)
			rec := f.Run(context.Background(), c)
			if rec.Outcome != tc.want || rec.ErrorClass != "store" {
				t.Fatalf("outcome %s (class %q), want %s (store) (ops %s)", rec.Outcome, rec.ErrorClass, tc.want, c.Ops())
			}
			if _, ok := c.Destination(); ok != tc.dest {
				t.Errorf("sent on %v, want %v", ok, tc.dest)
			}
		})
	}
}

// failingAccounts is a store whose ReadAccount fails.
type failingAccounts struct{ *gatetest.Store }

func (s *failingAccounts) ReadAccount(context.Context, string, string, []string, time.Time) (gate.AccountState, error) {
	return gate.AccountState{}, errors.New("accounts: " + gate.ErrUnavailable.Error())
}

func TestExplainAccount(t *testing.T) {
	pol := gate.LockoutPolicy{MaxFailures: 1, Window: gate.Duration(time.Hour), Duration: gate.Duration(time.Hour)}
	en := accountEnv(t, gate.IdentTable, pol)
	ctx := context.Background()
	if err := en.store.SetLockout(ctx, &gate.Lockout{GateID: "hotline", Caller: gate.AccountKey("20077"), Until: en.now.Add(time.Hour), At: en.now}); err != nil {
		t.Fatal(err)
	}
	e := gate.NewEngine(gate.EngineConfig{Store: en.store, Hasher: en.h, Region: "DE"})
	tests := []struct {
		caller, number, want string
	}{
		{"", "10042", "account 10042 (Anna Admin) is valid: its PIN lets the call through, VIPGATE_PRIORITY=7, VIPGATE_ACCOUNT=CUST-42"},
		{"", "55555", "no account 55555 valid now: the PIN is asked for all the same and no PIN matches"},
		{"", "20077", "account number 20077 locked out until " + en.now.Add(time.Hour).Format(time.RFC3339) + ": the call is rejected after the number"},
		{"", "12ab", `"12ab" must contain digits only; the PIN is asked for all the same and cannot match`},
		{"+4930999999", "10042", "the gate does not ask this caller for an account number"},
	}
	for _, tc := range tests {
		d := e.Explain(ctx, "", tc.caller, "1000", en.now)
		e.ExplainAccount(ctx, d, tc.number, en.now)
		last := d.Trace[len(d.Trace)-1]
		if last.Step != "account" || last.Detail != tc.want {
			t.Errorf("explain %q, account %s: last step %s: %s, want account: %s", tc.caller, tc.number, last.Step, last.Detail, tc.want)
		}
	}
}
