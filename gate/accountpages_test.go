package gate

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// pagedAccounts is an AccountStore that has only ListAccounts, over
// numbers kept in order; it records the filters it was asked with.
type pagedAccounts struct {
	AccountStore
	numbers []string
	asked   []AccountFilter
	failAt  int // the call (1-based) that fails; 0 never
}

func (p *pagedAccounts) ListAccounts(_ context.Context, gateID string, f AccountFilter) ([]*Account, int, error) {
	p.asked = append(p.asked, f)
	if len(p.asked) == p.failAt {
		return nil, 0, errors.New("store down")
	}
	var out []*Account
	for _, n := range p.numbers {
		if strings.HasPrefix(n, f.Number) && n > f.After && len(out) < f.Limit {
			out = append(out, &Account{GateID: gateID, Number: n})
		}
	}
	return out, 0, nil
}

func TestAllAccountsReadsEveryPage(t *testing.T) {
	p := &pagedAccounts{}
	for i := range 2*accountPage + 5 {
		p.numbers = append(p.numbers, fmt.Sprintf("1%05d", i))
	}
	p.numbers = append(p.numbers, "200000")
	all, err := AllAccounts(t.Context(), p, "g", "1")
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2*accountPage+5 {
		t.Fatalf("got %d accounts, want %d", len(all), 2*accountPage+5)
	}
	for i, a := range all {
		if want := fmt.Sprintf("1%05d", i); a.Number != want || a.GateID != "g" {
			t.Fatalf("account %d is %s of %s, want %s of g", i, a.Number, a.GateID, want)
		}
	}
	if len(p.asked) != 3 {
		t.Fatalf("asked the store %d times, want 3", len(p.asked))
	}
	if f := p.asked[1]; f.After != "100999" || f.Number != "1" || f.Limit != accountPage {
		t.Errorf("second page asked with %+v, want after 100999, number 1, limit %d", f, accountPage)
	}
}

func TestAllAccountsExactPageAndError(t *testing.T) {
	p := &pagedAccounts{}
	for i := range accountPage {
		p.numbers = append(p.numbers, fmt.Sprintf("%04d", i))
	}
	all, err := AllAccounts(t.Context(), p, "g", "")
	if err != nil || len(all) != accountPage || len(p.asked) != 2 {
		t.Errorf("a full page: %d accounts, %v, %d calls; want %d, nil, 2 (an empty page ends it)", len(all), err, len(p.asked), accountPage)
	}
	p = &pagedAccounts{numbers: p.numbers, failAt: 2}
	if all, err := AllAccounts(t.Context(), p, "g", ""); err == nil || all != nil {
		t.Errorf("a failing second page: %d accounts, %v; want none and the error", len(all), err)
	}
}
