package admin_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
)

func accountGate(id string) map[string]any {
	g := tableGate(id)
	g["identification"] = map[string]any{"mode": "table", "unknown_caller": "reject", "region": "DE", "withheld": "account"}
	return g
}

func TestAccountsCRUD(t *testing.T) {
	e := newEnv(t)
	mustStatus(t, e.admin("POST", "/api/v1/gates", accountGate("acc")), http.StatusCreated)
	op := e.tokens[gate.RoleOperator]
	r := e.do(op, "POST", "/api/v1/gates/acc/accounts", map[string]any{
		"number": "10042", "pin": "8642", "label": "Anna", "priority": 7, "account_code": "CUST-42", "valid_until": "2027-12-31"})
	mustStatus(t, r, http.StatusCreated)
	if loc := r.header.Get("Location"); loc != "/api/v1/gates/acc/accounts/10042" {
		t.Errorf("Location %q", loc)
	}
	if strings.Contains(string(r.body), "8642") || strings.Contains(string(r.body), "pin") {
		t.Errorf("the answer shows the PIN: %s", r.body)
	}
	r = e.do(e.tokens[gate.RoleViewer], "GET", "/api/v1/gates/acc/accounts/10042", nil)
	mustStatus(t, r, http.StatusOK)
	if !strings.Contains(string(r.body), `"account_code":"CUST-42"`) || !strings.Contains(string(r.body), `"label":"Anna"`) || !strings.Contains(string(r.body), `"priority":7`) {
		t.Errorf("get: %s", r.body)
	}
	stored, err := e.store.GetAccount(t.Context(), "acc", "10042")
	if err != nil || !e.hasher.Check(stored.PIN, "8642") {
		t.Fatalf("stored account %v, %v: want the hash of the PIN", stored, err)
	}

	// The viewer may not write.
	mustStatus(t, e.do(e.tokens[gate.RoleViewer], "POST", "/api/v1/gates/acc/accounts", map[string]any{"number": "1", "pin": "8642"}), http.StatusForbidden)
	// A number twice is a conflict on the number.
	r = e.do(op, "POST", "/api/v1/gates/acc/accounts", map[string]any{"number": "10042", "pin": "9753"})
	mustStatus(t, r, http.StatusConflict)
	if f := r.fields(t); !slices.Contains(f, "number") {
		t.Errorf("conflict fields %v, want number", f)
	}
	// Validation errors name the field and never hold the PIN.
	for _, tc := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"number": "12a", "pin": "8642"}, "number"},
		{map[string]any{"pin": "8642"}, "number"},
		{map[string]any{"number": "5"}, "pin"},
		{map[string]any{"number": "5", "pin": "12"}, "pin"},
		{map[string]any{"number": "5", "pin": "8642", "priority": 2000}, "priority"},
		{map[string]any{"number": "5", "pin": "8642", "account_code": "a b"}, "account_code"},
		{map[string]any{"number": "5", "pin": "8642", "valid_from": "tomorrow"}, "valid_from"},
	} {
		r := e.do(op, "POST", "/api/v1/gates/acc/accounts", tc.body)
		mustStatus(t, r, http.StatusUnprocessableEntity)
		if f := r.fields(t); !slices.Contains(f, tc.field) {
			t.Errorf("%v: fields %v, want %s", tc.body, f, tc.field)
		}
		if strings.Contains(string(r.body), "8642") {
			t.Errorf("%v: the problem shows the PIN: %s", tc.body, r.body)
		}
	}

	// Update: an empty PIN keeps it; the number cannot change.
	r = e.do(op, "PUT", "/api/v1/gates/acc/accounts/10042", map[string]any{"label": "Anna M."})
	mustStatus(t, r, http.StatusOK)
	stored, err = e.store.GetAccount(t.Context(), "acc", "10042")
	if err != nil || stored.Label != "Anna M." || !e.hasher.Check(stored.PIN, "8642") || stored.Priority != 0 {
		t.Errorf("after update: %+v, %v", stored, err)
	}
	r = e.do(op, "PUT", "/api/v1/gates/acc/accounts/10042", map[string]any{"number": "999", "pin": "9753"})
	mustStatus(t, r, http.StatusUnprocessableEntity)
	mustStatus(t, e.do(op, "PUT", "/api/v1/gates/acc/accounts/777", map[string]any{"pin": "9753"}), http.StatusNotFound)

	// List with a prefix.
	mustStatus(t, e.do(op, "POST", "/api/v1/gates/acc/accounts", map[string]any{"number": "20077", "pin": "1357"}), http.StatusCreated)
	r = e.do(e.tokens[gate.RoleViewer], "GET", "/api/v1/gates/acc/accounts?number=2", nil)
	mustStatus(t, r, http.StatusOK)
	var page struct {
		Items []struct{ Number string }
		Total int
	}
	r.json(t, &page)
	if page.Total != 1 || len(page.Items) != 1 || page.Items[0].Number != "20077" {
		t.Errorf("list ?number=2: %s", r.body)
	}
	mustStatus(t, e.do(e.tokens[gate.RoleViewer], "GET", "/api/v1/gates/acc/accounts?number=x", nil), http.StatusUnprocessableEntity)

	// An account's lockout is lifted by its key.
	if err := e.store.SetLockout(t.Context(), &gate.Lockout{GateID: "acc", Caller: gate.AccountKey("20077"), Until: now.Add(time.Hour), At: now}); err != nil {
		t.Fatal(err)
	}
	mustStatus(t, e.do(op, "DELETE", "/api/v1/gates/acc/lockouts/account:20077", nil), http.StatusNoContent)
	if _, err := e.store.GetLockout(t.Context(), "acc", gate.AccountKey("20077"), now); err == nil {
		t.Error("the account's lockout is still there")
	}
	mustStatus(t, e.do(op, "DELETE", "/api/v1/gates/acc/lockouts/account:12x", nil), http.StatusUnprocessableEntity)

	// Delete, audited.
	mustStatus(t, e.do(op, "DELETE", "/api/v1/gates/acc/accounts/10042", nil), http.StatusNoContent)
	mustStatus(t, e.do(op, "DELETE", "/api/v1/gates/acc/accounts/10042", nil), http.StatusNotFound)
	list, err := e.store.ListAudit(t.Context(), gate.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, a := range list {
		actions = append(actions, a.Action)
	}
	for _, want := range []string{"account.create", "account.update", "account.delete"} {
		if !slices.Contains(actions, want) {
			t.Errorf("audit log %v lacks %s", actions, want)
		}
	}
}

func TestExplainAccountAPI(t *testing.T) {
	e := newEnv(t)
	mustStatus(t, e.admin("POST", "/api/v1/gates", accountGate("acc")), http.StatusCreated)
	mustStatus(t, e.admin("POST", "/api/v1/gates/acc/accounts", map[string]any{"number": "10042", "pin": "8642", "label": "Anna"}), http.StatusCreated)
	var x struct {
		Verdict string
		Trace   []struct{ Step, Detail string }
	}
	r := e.do(e.tokens[gate.RoleViewer], "POST", "/api/v1/explain", map[string]any{"caller": "anonymous", "called": "+49309990", "account": "10042"})
	mustStatus(t, r, http.StatusOK)
	r.json(t, &x)
	last := x.Trace[len(x.Trace)-1]
	if x.Verdict != "ask_pin" || last.Step != "account" || !strings.Contains(last.Detail, "account 10042 (Anna) is valid") {
		t.Errorf("explain: %s", r.body)
	}
	r = e.do(e.tokens[gate.RoleViewer], "POST", "/api/v1/explain", map[string]any{"caller": "anonymous", "called": "+49309990", "account": "55555"})
	r.json(t, &x)
	if last := x.Trace[len(x.Trace)-1]; !strings.Contains(last.Detail, "no account 55555") {
		t.Errorf("explain unknown account: %s", r.body)
	}
	r = e.do(e.tokens[gate.RoleViewer], "POST", "/api/v1/explain", map[string]any{"caller": "anonymous", "called": "+49309990", "account": "12x"})
	mustStatus(t, r, http.StatusUnprocessableEntity)
	if f := r.fields(t); !slices.Contains(f, "account") {
		t.Errorf("fields %v, want account", f)
	}
}

func TestAccountsImportExport(t *testing.T) {
	e := newEnv(t)
	mustStatus(t, e.admin("POST", "/api/v1/gates", accountGate("acc")), http.StatusCreated)
	op := e.tokens[gate.RoleOperator]
	r := e.do(op, "POST", "/api/v1/gates/acc/accounts/import", []byte("number,pin,label\n10042,8642,Anna\n3x,12,\n"), "Content-Type", "text/csv")
	mustStatus(t, r, http.StatusUnprocessableEntity)
	if f := r.fields(t); !slices.Contains(f, "rows[3].number") || !slices.Contains(f, "rows[3].pin") {
		t.Errorf("fields %v", f)
	}
	if _, total, _ := e.store.ListAccounts(t.Context(), "acc", gate.AccountFilter{}); total != 0 {
		t.Fatalf("a refused import wrote %d accounts", total)
	}
	r = e.do(op, "POST", "/api/v1/gates/acc/accounts/import", []byte("number,pin,label\n10042,8642,Anna\n"), "Content-Type", "text/csv")
	mustStatus(t, r, http.StatusOK)
	if !strings.Contains(string(r.body), `"inserted":1`) {
		t.Errorf("import: %s", r.body)
	}
	r = e.do(e.tokens[gate.RoleViewer], "GET", "/api/v1/gates/acc/accounts/export", nil)
	mustStatus(t, r, http.StatusOK)
	if want := "number,label,priority,account_code,valid_from,valid_until\n10042,Anna,,,,\n"; string(r.body) != want {
		t.Errorf("export %q, want %q", r.body, want)
	}
	r = e.do(op, "POST", "/api/v1/gates/acc/accounts/import", []byte("{}"), "Content-Type", "application/json")
	mustStatus(t, r, http.StatusUnsupportedMediaType)
	for _, want := range []string{`"detail":"send the accounts as text/csv"`, `"field":"body"`, `"problem":"Content-Type must be text/csv"`} {
		if !strings.Contains(string(r.body), want) {
			t.Errorf("import as JSON: %s, want %s", r.body, want)
		}
	}
	r = e.do(op, "POST", "/api/v1/gates/acc/pins/import", []byte("<x/>"), "Content-Type", "application/xml")
	mustStatus(t, r, http.StatusUnsupportedMediaType)
	for _, want := range []string{`"detail":"send the caller table as text/csv or application/json"`, `"problem":"Content-Type must be text/csv or application/json"`} {
		if !strings.Contains(string(r.body), want) {
			t.Errorf("entries import as XML: %s, want %s", r.body, want)
		}
	}
}
