package admin_test

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/vipgate/vipgate/gate"
)

type auditAnswer struct {
	Items []*gate.AuditEntry `json:"items"`
	Next  string             `json:"next"`
}

func auditChange(t *testing.T, a *gate.AuditEntry, field string) gate.AuditChange {
	t.Helper()
	for _, c := range a.Changes {
		if c.Field == field {
			return c
		}
	}
	t.Fatalf("%s: no change of %s in %+v", a.Action, field, a.Changes)
	return gate.AuditChange{}
}

// TestAuditRecordsAPIChanges changes an entry, a static PIN and a
// webhook secret through the API and reads the audit log back: who (the
// token), what, the before/after of the changed fields, and "[secret]"
// where the value is a secret.
func TestAuditRecordsAPIChanges(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mustStatus(t, e.admin("POST", "/api/v1/gates", staticGate("vip", "4711")), http.StatusCreated)
	op := e.tokens[gate.RoleOperator]
	r := e.do(op, "POST", "/api/v1/gates/vip/pins", map[string]any{"caller": "+4917611111111", "pin": "8642", "label": "Anna"})
	mustStatus(t, r, http.StatusCreated)
	var entry struct {
		ID int64 `json:"id"`
	}
	r.json(t, &entry)
	id := strconv.FormatInt(entry.ID, 10)
	mustStatus(t, e.do(op, "PUT", "/api/v1/gates/vip/pins/"+id, map[string]any{"caller": "+4917611111111", "pin": "9753", "label": "Anna B."}), http.StatusOK)

	g := staticGate("vip", "1357")
	mustStatus(t, e.admin("PUT", "/api/v1/gates/vip", g), http.StatusOK)
	g["identification"] = map[string]any{"mode": "webhook", "webhook": map[string]any{
		"url": "https://crm.example/check?api_key=q-789", "headers": map[string]string{"Authorization": "Bearer crm-tok-123"}}}
	mustStatus(t, e.admin("PUT", "/api/v1/gates/vip", g), http.StatusOK)

	// Operators cannot read the audit log.
	mustStatus(t, e.do(op, "GET", "/api/v1/audit", nil), http.StatusForbidden)

	r = e.admin("GET", "/api/v1/audit?kind=entry.update", nil)
	mustStatus(t, r, http.StatusOK)
	var page auditAnswer
	r.json(t, &page)
	if len(page.Items) != 1 {
		t.Fatalf("entry updates: %s", r.body)
	}
	upd := page.Items[0]
	if upd.Actor != "token:"+strings.Split(op, "_")[1]+" (operator test)" || upd.GateID != "vip" || upd.Object != id {
		t.Errorf("entry update %+v", upd)
	}
	if c := auditChange(t, upd, "label"); string(c.Before) != `"Anna"` || string(c.After) != `"Anna B."` {
		t.Errorf("label %s -> %s", c.Before, c.After)
	}
	if c := auditChange(t, upd, "pin"); string(c.Before) != gate.RedactedChange || string(c.After) != gate.RedactedChange {
		t.Errorf("pin %s -> %s", c.Before, c.After)
	}

	r = e.admin("GET", "/api/v1/audit?kind=gate.update&gate=vip", nil)
	mustStatus(t, r, http.StatusOK)
	r.json(t, &page)
	if len(page.Items) != 2 {
		t.Fatalf("gate updates: %s", r.body)
	}
	if c := auditChange(t, page.Items[1], "identification.static_pin_hash"); string(c.After) != gate.RedactedChange {
		t.Errorf("static PIN change %s -> %s", c.Before, c.After)
	}
	if c := auditChange(t, page.Items[0], "identification.webhook.headers.Authorization"); string(c.After) != gate.RedactedChange {
		t.Errorf("webhook header change %s -> %s", c.Before, c.After)
	}

	all := e.admin("GET", "/api/v1/audit", nil)
	mustStatus(t, all, http.StatusOK)
	for _, secret := range []string{"4711", "8642", "9753", "1357", "crm-tok-123", "q-789", "v1$"} {
		if strings.Contains(string(all.body), secret) {
			t.Errorf("audit log holds %q: %s", secret, all.body)
		}
	}
}

// TestAuditPagingAndFilters pages the audit log by before/next and
// checks that bad filters name their field.
func TestAuditPagingAndFilters(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, id := range []string{"g1", "g2", "g3"} {
		mustStatus(t, e.admin("POST", "/api/v1/gates", staticGate(id, "4711")), http.StatusCreated)
	}
	r := e.admin("GET", "/api/v1/audit?kind=gate.create&limit=2", nil)
	mustStatus(t, r, http.StatusOK)
	var p1, p2 auditAnswer
	r.json(t, &p1)
	if len(p1.Items) != 2 || p1.Items[0].GateID != "g3" || p1.Items[1].GateID != "g2" || p1.Next == "" {
		t.Fatalf("first page %s", r.body)
	}
	r = e.admin("GET", "/api/v1/audit?kind=gate.create&limit=2&before="+p1.Next, nil)
	mustStatus(t, r, http.StatusOK)
	r.json(t, &p2)
	if len(p2.Items) != 1 || p2.Items[0].GateID != "g1" || p2.Next != "" {
		t.Fatalf("second page %s", r.body)
	}
	r = e.admin("GET", "/api/v1/audit?object=nothing", nil)
	mustStatus(t, r, http.StatusOK)
	r.json(t, &p1)
	if len(p1.Items) != 0 {
		t.Errorf("object filter: %s", r.body)
	}
	for q, field := range map[string]string{"since=yesterday": "since", "until=x": "until", "before=-1": "before", "limit=0": "limit",
		"since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z": "until"} {
		r := e.admin("GET", "/api/v1/audit?"+q, nil)
		mustStatus(t, r, http.StatusUnprocessableEntity)
		if f := r.fields(t); len(f) != 1 || f[0] != field {
			t.Errorf("%s: fields %v, want %s", q, f, field)
		}
	}
}

// TestAuditPseudonymised creates and deletes a caller-table entry through
// the API: the audit log names the caller in the clear, and with
// pseudonymise=true holds no form of the number, one pseudonym for it
// within the answer, and the rest of the entry.
func TestAuditPseudonymised(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mustStatus(t, e.admin("POST", "/api/v1/gates", tableGate("vip")), http.StatusCreated)
	r := e.admin("POST", "/api/v1/gates/vip/pins", map[string]any{"caller": "0176 1234 5678", "pin": "8642", "label": "Ann"})
	mustStatus(t, r, http.StatusCreated)
	var ent struct {
		ID int64 `json:"id"`
	}
	r.json(t, &ent)
	mustStatus(t, e.admin("DELETE", fmt.Sprintf("/api/v1/gates/vip/pins/%d", ent.ID), nil), http.StatusNoContent)
	if r := e.admin("GET", "/api/v1/audit?gate=vip", nil); !bytes.Contains(r.body, []byte("+4917612345678")) {
		t.Fatalf("clear audit log lacks the caller: %s", r.body)
	}
	r = e.admin("GET", "/api/v1/audit?gate=vip&pseudonymise=true", nil)
	mustStatus(t, r, http.StatusOK)
	if bytes.Contains(r.body, []byte("17612345678")) {
		t.Errorf("pseudonymised audit log holds the caller: %s", r.body)
	}
	var page auditAnswer
	r.json(t, &page)
	callers := map[string]string{}
	for _, a := range page.Items {
		for _, c := range a.Changes {
			if c.Field == "caller" {
				callers[a.Action] = string(c.Before) + string(c.After)
			}
		}
	}
	del, cre := callers["entry.delete"], callers["entry.create"]
	if !strings.HasPrefix(cre, `null"p-`) || del != strings.TrimPrefix(cre, "null")+"null" {
		t.Errorf("caller changes: create %s, delete %s; want one pseudonym", cre, del)
	}
	if !bytes.Contains(r.body, []byte("Ann")) {
		t.Errorf("pseudonymised audit log lost the label: %s", r.body)
	}
	r = e.admin("GET", "/api/v1/audit?pseudonymise=maybe", nil)
	mustStatus(t, r, http.StatusUnprocessableEntity)
	if f := r.fields(t); len(f) != 1 || f[0] != "pseudonymise" {
		t.Errorf("pseudonymise=maybe: fields %v", f)
	}
}

// TestTimeRangeBothLists checks that the call log and the audit log read
// their time range by one rule: an RFC 3339 time, the end after the start,
// the error naming the parameter.
func TestTimeRangeBothLists(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, tt := range []struct{ path, from, to string }{{"/api/v1/calls", "from", "to"}, {"/api/v1/audit", "since", "until"}} {
		for q, field := range map[string]string{
			tt.from + "=yesterday":          tt.from,
			tt.to + "=2026-13-01T00:00:00Z": tt.to,
			tt.from + "=2026-02-01T00:00:00Z&" + tt.to + "=2026-02-01T00:00:00Z": tt.to,
		} {
			r := e.admin("GET", tt.path+"?"+q, nil)
			mustStatus(t, r, http.StatusUnprocessableEntity)
			if f := r.fields(t); len(f) != 1 || f[0] != field {
				t.Errorf("%s?%s: fields %v, want %s", tt.path, q, f, field)
			}
		}
		mustStatus(t, e.admin("GET", tt.path+"?"+tt.from+"=2026-02-01T00:00:00Z&"+tt.to+"=2026-02-01T00:00:01Z", nil), http.StatusOK)
	}
}
