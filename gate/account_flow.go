package gate

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"
)

// IdentAccount identifies every caller by account: the caller types an
// account number, then that account's PIN, whatever the caller number
// (deny and allow entries of the caller table still apply first).
const IdentAccount IdentMode = "account"

// WithheldAccount asks callers without a number for an account number
// and its PIN (see IdentAccount).
const WithheldAccount Withheld = "account"

// The prompts of the account dialogue.
const (
	// PromptAskAccount asks for the account number, followed by '#'.
	PromptAskAccount PromptKey = "ask-account"
	// PromptWrongAccount says that the account number or the PIN was
	// not right and asks for the account number again: the caller must
	// not learn which of the two was wrong.
	PromptWrongAccount PromptKey = "wrong-account"
)

// askAccount decides d as an account dialogue: each attempt asks for an
// account number, then for that account's PIN.
func (e *Engine) askAccount(d *Decision, g *Gate, why string) {
	if e.cfg.Hasher == nil {
		d.Err = errors.New("no PIN hasher configured")
		d.ErrClass = "config"
		d.reject(g, PromptUnavailable, "account PINs cannot be checked without a PIN hasher")
		return
	}
	d.Mode = IdentAccount
	d.ask(g, &accountCheck{hasher: e.cfg.Hasher}, g.Routes.OnCorrect, g.Routes.OnIncorrect, 0, why)
	d.AskPIN.Account = true
}

// unknownAccount is the PIN hash an unknown account number is checked
// against: random, so that no PIN matches it, and checked like a real
// one, so that the time taken does not tell a wrong PIN from an unknown
// account.
var unknownAccount = func() PINHash {
	h := PINHash{Salt: make([]byte, 16), Sum: make([]byte, 32)}
	if _, err := rand.Read(h.Salt); err != nil {
		panic("gate: crypto/rand failed: " + err.Error())
	}
	if _, err := rand.Read(h.Sum); err != nil {
		panic("gate: crypto/rand failed: " + err.Error())
	}
	return h
}()

// accountCheck checks typed digits against the PIN of the account typed
// in the current attempt (account nil: no such account, and no PIN
// matches).
type accountCheck struct {
	hasher  *Hasher
	account *Account
}

// Match implements PINCheck; it hashes the digits whether the account
// exists or not.
func (c *accountCheck) Match(digits string) bool {
	h := unknownAccount
	if c.account != nil {
		h = c.account.PIN
	}
	ok := c.hasher.Check(h, digits)
	return ok && c.account != nil
}

// LogValue implements slog.LogValuer.
func (c *accountCheck) LogValue() slog.Value { return slog.StringValue("[pin]") }

// accountStep is what the account step of one attempt found.
type accountStep struct {
	// key is the lockout key of the number typed; "" when nothing was
	// typed (no guess, the attempt is spent).
	key string
	// locked: the account number is locked out.
	locked bool
	// policy is the failure policy's decision when the store could not
	// be read.
	policy *Decision
}

// accountStep plays prompt, collects an account number and reads the
// account and its lockout into check. The typed digits are never logged.
func (f *Flow) accountStep(ctx context.Context, log *slog.Logger, c Call, d *Decision, g *Gate, check *accountCheck, prompt Prompt, opts CollectOptions) (accountStep, error) {
	check.account = nil
	opts.MaxDigits = MaxAccountLen + 1
	in, err := c.Collect(ctx, prompt, opts)
	if err != nil {
		return accountStep{}, fmt.Errorf("collect account number: %w", err)
	}
	log.Debug("account number", "input", in)
	if in.Digits == "" {
		return accountStep{}, nil
	}
	step := accountStep{key: AccountKey(in.Digits)}
	if ValidAccountNumber(in.Digits) != nil {
		// Too long to be an account; judged as an unknown one.
		return step, nil
	}
	now := f.cfg.Now()
	var st AccountState
	err = d.budget.do(context.WithoutCancel(ctx), func(ctx context.Context) (err error) {
		st, err = f.engine.cfg.Store.ReadAccount(ctx, g.ID, in.Digits, []string{step.key}, now)
		return err
	})
	if err != nil {
		log.Warn("read account failed; the failure policy decides", "err", err)
		pd := &Decision{Gate: g, Active: true, Mode: d.Mode, Caller: d.Caller, Called: d.Called, budget: d.budget}
		f.engine.fail(ctx, pd, g, c.Info(), now, fmt.Errorf("read account: %w", err), "store")
		step.policy = pd
		return step, nil
	}
	if len(st.Lockouts) > 0 {
		// Known or not, a number that took too many wrong PINs is
		// locked out alike.
		log.Info("account number locked out", "until", st.Lockouts[0].Until)
		step.locked = true
		return step, nil
	}
	check.account = st.Account
	return step, nil
}

// accountVars returns VarLabel, VarPriority and VarAccount from the
// account that let the call through, each if it has one.
func accountVars(a *Account) []Var {
	if a == nil {
		return nil
	}
	var vars []Var
	if a.Label != "" {
		vars = append(vars, Var{VarLabel, a.Label})
	}
	if a.Priority != 0 {
		vars = append(vars, Var{VarPriority, strconv.Itoa(a.Priority)})
	}
	if a.Code != "" {
		vars = append(vars, Var{VarAccount, a.Code})
	}
	return vars
}

// ExplainAccount adds to d, a decision that asks for an account number,
// what typing number would lead to, as of at: whether the gate has such
// an account valid then, its label, and whether the number or the caller
// is locked out. It never shows a PIN. Decisions of another kind are left
// as they are.
func (e *Engine) ExplainAccount(ctx context.Context, d *Decision, number string, at time.Time) {
	if d == nil || d.Gate == nil || d.AskPIN == nil || !d.AskPIN.Account {
		if number != "" && d != nil {
			d.trace("account", "the gate does not ask this caller for an account number")
		}
		return
	}
	if err := ValidAccountNumber(number); err != nil {
		d.trace("account", "%q %v; the PIN is asked for all the same and cannot match", number, err)
		return
	}
	keys := []string{AccountKey(number)}
	st, err := e.cfg.Store.ReadAccount(ctx, d.Gate.ID, number, keys, at)
	if err != nil {
		d.trace("account", "account %s could not be read (%v): the failure policy %s applies", number, err, cmpFailure(d.Gate))
		return
	}
	if len(st.Lockouts) > 0 {
		d.trace("account", "account number %s locked out until %s: the call is rejected after the number", number, st.Lockouts[0].Until.Format(time.RFC3339))
		return
	}
	if st.Account == nil {
		d.trace("account", "no account %s valid now: the PIN is asked for all the same and no PIN matches", number)
		return
	}
	a := st.Account
	detail := fmt.Sprintf("account %s", number)
	if a.Label != "" {
		detail += fmt.Sprintf(" (%s)", a.Label)
	}
	detail += " is valid: its PIN lets the call through"
	if a.Priority != 0 {
		detail += fmt.Sprintf(", %s=%d", VarPriority, a.Priority)
	}
	if a.Code != "" {
		detail += fmt.Sprintf(", %s=%s", VarAccount, a.Code)
	}
	d.trace("account", "%s", detail)
}

// cmpFailure names g's failure action (reject when unset).
func cmpFailure(g *Gate) FailureAction {
	if g.Failure.Action == "" {
		return FailReject
	}
	return g.Failure.Action
}
