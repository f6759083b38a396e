package gate

import "context"

// accountPage is how many accounts AllAccounts asks the store for at a
// time.
const accountPage = 1000

// AllAccounts returns every account of a gate whose number starts with
// prefix ("" for all), ordered by number. It reads the store a page at a
// time, each page after the last number of the one before (the exports
// of the admin API and of the command line).
func AllAccounts(ctx context.Context, s AccountStore, gateID, prefix string) ([]*Account, error) {
	var all []*Account
	for after := ""; ; {
		page, _, err := s.ListAccounts(ctx, gateID, AccountFilter{Number: prefix, After: after, Limit: accountPage})
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
		if len(page) < accountPage {
			return all, nil
		}
		after = page[len(page)-1].Number
	}
}
