package gate

import (
	"context"
	"errors"
)

// accountView is an account as the audit log compares it: the PIN hash
// only as a secret field, so that a changed PIN shows as changed and
// nothing more.
func accountView(a *Account) any {
	if a == nil {
		return nil
	}
	v := struct {
		*Account
		PIN string `json:"pin,omitempty"`
	}{Account: a}
	if len(a.PIN.Sum) > 0 {
		v.PIN = a.PIN.String()
	}
	return v
}

func (a *audited) CreateAccount(ctx context.Context, acc *Account) error {
	if err := a.Store.CreateAccount(ctx, acc); err != nil {
		return err
	}
	return a.record(ctx, "account.create", acc.GateID, acc.Number, AuditDiff(nil, accountView(acc), entrySecrets...))
}

func (a *audited) UpdateAccount(ctx context.Context, acc *Account) error {
	old, err := a.Store.GetAccount(ctx, acc.GateID, acc.Number)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	if err := a.Store.UpdateAccount(ctx, acc); err != nil {
		return err
	}
	return a.record(ctx, "account.update", acc.GateID, acc.Number, AuditDiff(accountView(old), accountView(acc), entrySecrets...))
}

func (a *audited) DeleteAccount(ctx context.Context, gateID, number string) error {
	old, err := a.Store.GetAccount(ctx, gateID, number)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	if err := a.Store.DeleteAccount(ctx, gateID, number); err != nil {
		return err
	}
	return a.record(ctx, "account.delete", gateID, number, AuditDiff(accountView(old), nil, entrySecrets...))
}

func (a *audited) ImportAccounts(ctx context.Context, gateID string, accounts []*Account, opts ImportOptions) (ImportResult, error) {
	res, err := a.Store.ImportAccounts(ctx, gateID, accounts, opts)
	if err != nil {
		return res, err
	}
	return res, a.record(ctx, "accounts.import", gateID, "", AuditDiff(nil, struct {
		ImportResult
		Replace bool `json:"replace"`
	}{res, opts.Replace}))
}
