package gatetest

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/vipgate/vipgate/gate"
)

func cloneAccount(a *gate.Account) *gate.Account {
	c := *a
	c.PIN = gate.PINHash{Salt: append([]byte(nil), a.PIN.Salt...), Sum: append([]byte(nil), a.PIN.Sum...)}
	return &c
}

// GetAccount implements gate.AccountStore.
func (s *Store) GetAccount(ctx context.Context, gateID, number string) (*gate.Account, error) {
	if err := s.lock(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	a, ok := s.accounts[gateID][number]
	if !ok {
		return nil, fmt.Errorf("account %s: %w", number, gate.ErrNotFound)
	}
	return cloneAccount(a), nil
}

// ListAccounts implements gate.AccountStore.
func (s *Store) ListAccounts(ctx context.Context, gateID string, f gate.AccountFilter) ([]*gate.Account, int, error) {
	if err := s.lock(ctx); err != nil {
		return nil, 0, err
	}
	defer s.mu.Unlock()
	var all []*gate.Account
	for n, a := range s.accounts[gateID] {
		if strings.HasPrefix(n, f.Number) {
			all = append(all, a)
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Number < all[j].Number })
	total := len(all)
	if f.After != "" {
		i := sort.Search(len(all), func(i int) bool { return all[i].Number > f.After })
		all = all[i:]
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	var out []*gate.Account
	for _, a := range page(all, f.Offset, limit) {
		out = append(out, cloneAccount(a))
	}
	return out, total, nil
}

// CreateAccount implements gate.AccountStore.
func (s *Store) CreateAccount(ctx context.Context, a *gate.Account) error {
	if err := a.Check(""); err != nil {
		return fmt.Errorf("gatetest: create account: %w", err)
	}
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	if _, ok := s.gates[a.GateID]; !ok {
		return fmt.Errorf("gate %q: %w", a.GateID, gate.ErrNotFound)
	}
	if _, ok := s.accounts[a.GateID][a.Number]; ok {
		return gate.Duplicate("accounts")
	}
	now := time.Now().UTC().Round(0)
	a.CreatedAt, a.UpdatedAt = now, now
	s.putAccountLocked(a)
	return nil
}

func (s *Store) putAccountLocked(a *gate.Account) {
	if s.accounts == nil {
		s.accounts = map[string]map[string]*gate.Account{}
	}
	if s.accounts[a.GateID] == nil {
		s.accounts[a.GateID] = map[string]*gate.Account{}
	}
	s.accounts[a.GateID][a.Number] = cloneAccount(a)
}

// UpdateAccount implements gate.AccountStore.
func (s *Store) UpdateAccount(ctx context.Context, a *gate.Account) error {
	if err := a.Check(""); err != nil {
		return fmt.Errorf("gatetest: update account: %w", err)
	}
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	old, ok := s.accounts[a.GateID][a.Number]
	if !ok {
		return fmt.Errorf("account %s: %w", a.Number, gate.ErrNotFound)
	}
	a.CreatedAt, a.UpdatedAt = old.CreatedAt, time.Now().UTC().Round(0)
	s.putAccountLocked(a)
	return nil
}

// DeleteAccount implements gate.AccountStore.
func (s *Store) DeleteAccount(ctx context.Context, gateID, number string) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	if _, ok := s.accounts[gateID][number]; !ok {
		return fmt.Errorf("account %s: %w", number, gate.ErrNotFound)
	}
	delete(s.accounts[gateID], number)
	delete(s.lockouts, key(gateID, gate.AccountKey(number)))
	delete(s.failures, key(gateID, gate.AccountKey(number)))
	return nil
}

// ImportAccounts implements gate.AccountStore.
func (s *Store) ImportAccounts(ctx context.Context, gateID string, accounts []*gate.Account, opts gate.ImportOptions) (gate.ImportResult, error) {
	var res gate.ImportResult
	seen := map[string]bool{}
	for i, a := range accounts {
		if err := a.Check(fmt.Sprintf("accounts[%d].", i)); err != nil {
			return res, fmt.Errorf("gatetest: import accounts: %w", err)
		}
		if seen[a.Number] {
			return res, fmt.Errorf("gatetest: import accounts: account %s twice: %w", a.Number, gate.ErrConflict)
		}
		seen[a.Number] = true
	}
	if err := s.lock(ctx); err != nil {
		return res, err
	}
	defer s.mu.Unlock()
	if _, ok := s.gates[gateID]; !ok {
		return res, fmt.Errorf("gate %q: %w", gateID, gate.ErrNotFound)
	}
	now := time.Now().UTC().Round(0)
	for _, a := range accounts {
		c := cloneAccount(a)
		c.GateID = gateID
		c.CreatedAt, c.UpdatedAt = now, now
		if old, ok := s.accounts[gateID][a.Number]; ok {
			c.CreatedAt = old.CreatedAt
			res.Updated++
		} else {
			res.Inserted++
		}
		s.putAccountLocked(c)
	}
	if opts.Replace {
		for n := range s.accounts[gateID] {
			if !seen[n] {
				delete(s.accounts[gateID], n)
				res.Deleted++
			}
		}
	}
	return res, nil
}

// ReadAccount implements gate.AccountStore.
func (s *Store) ReadAccount(ctx context.Context, gateID, number string, keys []string, now time.Time) (gate.AccountState, error) {
	if err := s.lock(ctx); err != nil {
		return gate.AccountState{}, err
	}
	defer s.mu.Unlock()
	var st gate.AccountState
	if a, ok := s.accounts[gateID][number]; ok && number != "" && a.ValidAt(now) {
		st.Account = cloneAccount(a)
	}
	for _, k := range keys {
		if l, ok := s.lockouts[key(gateID, k)]; ok && now.Before(l.Until) {
			c := *l
			st.Lockouts = append(st.Lockouts, &c)
		}
	}
	return st, nil
}
