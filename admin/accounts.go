package admin

import (
	"fmt"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/pinsfile"
)

// accountOut is an account as the API shows it: never its PIN.
type accountOut struct {
	GateID     string    `json:"gate_id"`
	Number     string    `json:"number"`
	Label      string    `json:"label,omitempty"`
	Priority   int       `json:"priority,omitempty"`
	Code       string    `json:"account_code,omitempty"`
	ValidFrom  time.Time `json:"valid_from,omitzero"`
	ValidUntil time.Time `json:"valid_until,omitzero"`
	CreatedAt  time.Time `json:"created_at,omitzero"`
	UpdatedAt  time.Time `json:"updated_at,omitzero"`
}

func newAccountOut(a *gate.Account) accountOut {
	return accountOut{GateID: a.GateID, Number: a.Number, Label: a.Label, Priority: a.Priority, Code: a.Code,
		ValidFrom: a.ValidFrom, ValidUntil: a.ValidUntil, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt}
}

// accountsOut is a page of accounts.
type accountsOut struct {
	pageOut[accountOut]
	// NextAfter, on a full page, is the after of the next page.
	NextAfter string `json:"next_after,omitempty"`
}

func (s *server) listAccounts(w http.ResponseWriter, r *http.Request) {
	g, err := s.gate(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	offset, limit, err := page(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	q := r.URL.Query()
	number, after := strings.TrimSpace(q.Get("number")), strings.TrimSpace(q.Get("after"))
	if number != "" && gate.ValidAccountNumber(number) != nil {
		s.writeError(w, r, invalid("number", "must be the digits an account number starts with"))
		return
	}
	if after != "" && gate.ValidAccountNumber(after) != nil {
		s.writeError(w, r, invalid("after", "must be an account number (the next_after of the previous page)"))
		return
	}
	as, total, err := s.store.ListAccounts(r.Context(), g.ID, gate.AccountFilter{Number: number, After: after, Offset: offset, Limit: limit})
	if err != nil {
		s.writeError(w, r, fmt.Errorf("list accounts of gate %q: %w", g.ID, err))
		return
	}
	out := accountsOut{pageOut: newPage(as, total, offset, limit, newAccountOut)}
	if len(as) == limit {
		out.NextAfter = as[len(as)-1].Number
	}
	writeJSON(w, http.StatusOK, out)
}

// account reads the gate and the account the URL names.
func (s *server) account(r *http.Request) (*gate.Gate, *gate.Account, error) {
	g, err := s.gate(r)
	if err != nil {
		return nil, nil, err
	}
	number := urlParam(r, "number")
	if gate.ValidAccountNumber(number) != nil {
		return nil, nil, fmt.Errorf("account %q: %w", number, gate.ErrNotFound)
	}
	a, err := s.store.GetAccount(r.Context(), g.ID, number)
	if err != nil {
		return nil, nil, fmt.Errorf("account %s of gate %q: %w", number, g.ID, err)
	}
	return g, a, nil
}

func (s *server) getAccount(w http.ResponseWriter, r *http.Request) {
	_, a, err := s.account(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newAccountOut(a))
}

func (s *server) createAccount(w http.ResponseWriter, r *http.Request) {
	var in gate.AccountIn
	g, err := s.gateBody(w, r, &in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	a, err := gate.NewAccount(s.hasher, g, in, nil, "")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.store.CreateAccount(r.Context(), a); err != nil {
		s.writeError(w, r, fmt.Errorf("create account %s of gate %q: %w", a.Number, g.ID, err))
		return
	}
	s.log.Info("admin: account created", "gate", g.ID, "account", a.Number, "by", tokenFrom(r.Context()).ID)
	w.Header().Set("Location", fmt.Sprintf("/api/v1/gates/%s/accounts/%s", g.ID, a.Number))
	writeJSON(w, http.StatusCreated, newAccountOut(a))
}

func (s *server) updateAccount(w http.ResponseWriter, r *http.Request) {
	g, prev, err := s.account(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var in gate.AccountIn
	if err := decodeJSON(w, r, s.maxBody, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	if n := strings.TrimSpace(in.Number); n != "" && n != prev.Number {
		s.writeError(w, r, invalid("number", "differs from the account number in the URL (an account's number does not change; create a new account)"))
		return
	}
	in.Number = prev.Number
	a, err := gate.NewAccount(s.hasher, g, in, prev, "")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.store.UpdateAccount(r.Context(), a); err != nil {
		s.writeError(w, r, fmt.Errorf("update account %s of gate %q: %w", a.Number, g.ID, err))
		return
	}
	s.log.Info("admin: account updated", "gate", g.ID, "account", a.Number, "pin_changed", in.PIN != "", "by", tokenFrom(r.Context()).ID)
	writeJSON(w, http.StatusOK, newAccountOut(a))
}

func (s *server) deleteAccount(w http.ResponseWriter, r *http.Request) {
	g, err := s.gate(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	number := urlParam(r, "number")
	if err := s.store.DeleteAccount(r.Context(), g.ID, number); err != nil {
		s.writeError(w, r, fmt.Errorf("delete account %s of gate %q: %w", number, g.ID, err))
		return
	}
	s.log.Info("admin: account deleted", "gate", g.ID, "account", number, "by", tokenFrom(r.Context()).ID)
	w.WriteHeader(http.StatusNoContent)
}

// importAccounts imports an account file (text/csv) into the gate, all or
// nothing: a file with a bad row writes nothing and answers 422 with the
// rows and fields named. replace=true deletes the gate's other accounts.
func (s *server) importAccounts(w http.ResponseWriter, r *http.Request) {
	g, err := s.gate(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	replace, err := boolParam(r, "replace")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if !isCSV(mt) {
		writeUnsupportedImport(w, "the accounts", "text/csv")
		return
	}
	accounts, rowErrs, err := pinsfile.ReadAccountsCSV(http.MaxBytesReader(w, r.Body, s.maxImp), s.hasher, g)
	if err != nil {
		s.writeImportReadError(w, r, err)
		return
	}
	rep := newImportReport(len(accounts), rowErrs)
	switch {
	case rep.Rows == 0:
		s.writeError(w, r, invalid("body", "the file holds no rows"))
		return
	case len(rowErrs) > 0:
		s.writeImportProblem(w, rep, pinsfile.DescribeRowErrors(rowErrs)+"; nothing was imported")
		return
	}
	res, err := s.store.ImportAccounts(r.Context(), g.ID, accounts, gate.ImportOptions{Replace: replace})
	if err != nil {
		s.writeError(w, r, fmt.Errorf("import accounts of gate %q: %w", g.ID, err))
		return
	}
	rep.imported(res)
	s.log.Info("admin: accounts imported", "gate", g.ID, "rows", rep.Rows, "inserted", res.Inserted, "updated", res.Updated,
		"deleted", res.Deleted, "by", tokenFrom(r.Context()).ID)
	writeJSON(w, http.StatusOK, rep)
}

// exportAccounts writes the gate's accounts as CSV, without PINs.
func (s *server) exportAccounts(w http.ResponseWriter, r *http.Request) {
	g, err := s.gate(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	all, err := gate.AllAccounts(r.Context(), s.store, g.ID, "")
	if err != nil {
		s.writeError(w, r, fmt.Errorf("export accounts of gate %q: %w", g.ID, err))
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="vipgate-%s-accounts.csv"`, g.ID))
	if err := pinsfile.WriteAccountsCSV(w, all); err != nil {
		s.log.Error("admin: export accounts: write failed", "gate", g.ID, "err", err)
	}
}
