package admin_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/vipgate/vipgate/gate"
)

// TestCallsCSVPseudonymised checks that a pseudonymised export holds no
// caller number, gives a caller one pseudonym however the number was
// presented, and another in the next export.
func TestCallsCSVPseudonymised(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	for _, c := range []struct{ raw, norm, channel string }{
		{"004917612345678", "+4917612345678", "PJSIP/004917612345678-00000001"},
		{"+4917612345678", "+4917612345678", "chan-2"},
		{"0711 98765", "+4971198765", "chan-3"},
		{"", "", "chan-4"},
	} {
		if err := e.store.LogCall(ctx, &gate.CallRecord{At: now, GateID: "g", Source: "agi", ChannelID: c.channel, CallerRaw: c.raw, Caller: c.norm,
			Called: "+4930123", Outcome: gate.OutcomePassed, EntryID: 7}); err != nil {
			t.Fatal(err)
		}
	}
	export := func() [][]string {
		t.Helper()
		r := e.do(e.tokens[gate.RoleViewer], "GET", "/api/v1/calls?format=csv&pseudonymise=true", nil)
		mustStatus(t, r, http.StatusOK)
		for _, clear := range []string{"17612345678", "98765", "PJSIP"} {
			if bytes.Contains(r.body, []byte(clear)) {
				t.Errorf("pseudonymised export holds %q:\n%s", clear, r.body)
			}
		}
		rows, err := csv.NewReader(bytes.NewReader(r.body)).ReadAll()
		if err != nil || len(rows) != 5 {
			t.Fatalf("csv rows %q, %v", rows, err)
		}
		return rows[1:] // newest first: the withheld caller first
	}
	rows := export()
	const chanCol, rawCol, callerCol, entryCol = 3, 5, 6, 14
	for _, row := range rows {
		if row[chanCol] != "" || row[entryCol] != "" {
			t.Errorf("channel_id %q, entry_id %q in a pseudonymised row", row[chanCol], row[entryCol])
		}
	}
	withheld, other, second, first := rows[0], rows[1], rows[2], rows[3]
	if withheld[rawCol] != "" || withheld[callerCol] != "" {
		t.Errorf("withheld caller got pseudonyms %q", withheld)
	}
	if !strings.HasPrefix(first[callerCol], "p-") || first[callerCol] != second[callerCol] || first[rawCol] != first[callerCol] || second[rawCol] != second[callerCol] {
		t.Errorf("one caller, different pseudonyms: %q / %q", first, second)
	}
	if other[callerCol] == first[callerCol] || other[callerCol] == "" {
		t.Errorf("two callers, pseudonyms %q and %q", other[callerCol], first[callerCol])
	}
	if again := export(); again[3][callerCol] == first[callerCol] {
		t.Error("two exports gave the caller the same pseudonym: linkable without the key")
	}
	if first[4] != "g" || first[7] != "+4930123" {
		t.Errorf("gate or called number lost: %q", first)
	}

	r := e.do(e.tokens[gate.RoleViewer], "GET", "/api/v1/calls?pseudonymise=maybe", nil)
	mustStatus(t, r, http.StatusUnprocessableEntity)
	if f := r.fields(t); !slices.Contains(f, "pseudonymise") {
		t.Errorf("pseudonymise=maybe: fields %v lack pseudonymise", f)
	}
}

// TestCallsJSONPseudonymised checks that the JSON listing with
// pseudonymise=true (the default format and format=json) holds no caller
// number, channel or entry ID, and gives one caller one pseudonym
// within the answer.
func TestCallsJSONPseudonymised(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	for _, raw := range []string{"004917612345678", "+4917612345678"} {
		if err := e.store.LogCall(ctx, &gate.CallRecord{At: now, GateID: "g", Source: "agi", ChannelID: "PJSIP/" + raw + "-1", CallerRaw: raw, Caller: "+4917612345678",
			Called: "+4930123", Outcome: gate.OutcomePassed, EntryID: 7}); err != nil {
			t.Fatal(err)
		}
	}
	if r := e.do(e.tokens[gate.RoleViewer], "GET", "/api/v1/calls", nil); !bytes.Contains(r.body, []byte("+4917612345678")) {
		t.Fatalf("clear listing lacks the caller: %s", r.body)
	}
	for _, q := range []string{"pseudonymise=true", "pseudonymise=true&format=json"} {
		r := e.do(e.tokens[gate.RoleViewer], "GET", "/api/v1/calls?"+q, nil)
		mustStatus(t, r, http.StatusOK)
		for _, clear := range []string{"17612345678", "PJSIP"} {
			if bytes.Contains(r.body, []byte(clear)) {
				t.Errorf("%s: listing holds %q:\n%s", q, clear, r.body)
			}
		}
		var page struct {
			Items []*gate.CallRecord `json:"items"`
			Total int                `json:"total"`
		}
		r.json(t, &page)
		if len(page.Items) != 2 || page.Total != 2 {
			t.Fatalf("%s: %s", q, r.body)
		}
		a, b := page.Items[0], page.Items[1]
		if !strings.HasPrefix(a.Caller, "p-") || a.Caller != b.Caller || a.CallerRaw != a.Caller || a.EntryID != 0 || a.ChannelID != "" || a.Called != "+4930123" {
			t.Errorf("%s: items %+v, %+v", q, a, b)
		}
	}
}

// TestEraseCaller checks DELETE /callers/{number}: admin only, the number
// normalised, the counts answered, other callers kept, ?gate= honoured.
func TestEraseCaller(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	mustStatus(t, e.admin("POST", "/api/v1/gates", tableGate("vip")), http.StatusCreated)
	mustStatus(t, e.admin("POST", "/api/v1/gates", tableGate("other")), http.StatusCreated)
	mustStatus(t, e.admin("POST", "/api/v1/gates/vip/pins", map[string]any{"caller": "0176 12345678", "pin": "97531"}), http.StatusCreated)
	for _, g := range []string{"vip", "other"} {
		for _, c := range []string{"+4917612345678", "+4917699999999"} {
			if err := e.store.LogCall(ctx, &gate.CallRecord{At: now, GateID: g, Source: "ari", Caller: c, CallerRaw: c, Outcome: gate.OutcomePINFailed}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := e.store.SetLockout(ctx, &gate.Lockout{GateID: "vip", Caller: "+4917612345678", Until: now.Add(3600e9), At: now}); err != nil {
		t.Fatal(err)
	}

	mustStatus(t, e.do(e.tokens[gate.RoleOperator], "DELETE", "/api/v1/callers/017612345678", nil), http.StatusForbidden)
	r := e.admin("DELETE", "/api/v1/callers/0176%2012345678?gate=vip", nil)
	mustStatus(t, r, http.StatusOK)
	var got gate.Erasure
	if err := json.Unmarshal(r.body, &got); err != nil {
		t.Fatal(err)
	}
	if want := (gate.Erasure{Calls: 1, Entries: 1, Lockouts: 1}); got != want {
		t.Errorf("erase at vip = %+v, want %+v", got, want)
	}
	_, n, _ := e.store.ListCalls(ctx, gate.CallFilter{Caller: "+4917612345678"})
	if n != 1 {
		t.Errorf("%d rows of the caller left, want 1 (at the other gate)", n)
	}
	r = e.admin("DELETE", "/api/v1/callers/+4917612345678", nil)
	mustStatus(t, r, http.StatusOK)
	if err := json.Unmarshal(r.body, &got); err != nil || got != (gate.Erasure{Calls: 1}) {
		t.Errorf("erase everywhere = %+v, %v; want one row", got, err)
	}
	if _, n, _ := e.store.ListCalls(ctx, gate.CallFilter{}); n != 2 {
		t.Errorf("%d rows left, want the other caller's 2", n)
	}
	for _, tc := range []struct{ path, field string }{
		{"/api/v1/callers/x1", "number"}, {"/api/v1/callers/anonymous", "number"}, {"/api/v1/callers/%2A", "number"},
		{"/api/v1/callers/+4917612345678?gate=Bad!", "gate"},
	} {
		r := e.admin("DELETE", tc.path, nil)
		mustStatus(t, r, http.StatusUnprocessableEntity)
		if f := r.fields(t); !slices.Contains(f, tc.field) {
			t.Errorf("%s: fields %v lack %s", tc.path, f, tc.field)
		}
	}
	mustStatus(t, e.admin("DELETE", "/api/v1/callers/+4917612345678?gate=missing", nil), http.StatusNotFound)

	// Both erasures are audited under the token, without the number.
	list, err := e.store.ListAudit(ctx, gate.AuditFilter{Action: "caller.erase"})
	if err != nil || len(list) != 2 {
		t.Fatalf("audit: %d caller.erase entries, %v; want 2", len(list), err)
	}
	for _, a := range list {
		if b, _ := json.Marshal(a); !strings.HasPrefix(a.Actor, "token:") || strings.Contains(string(b), "12345678") {
			t.Errorf("audit entry %s", b)
		}
	}
}

// TestGateRetentionField checks that a gate's retention is validated with
// a field-named error and kept.
func TestGateRetentionField(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g := tableGate("vip")
	g["retention"] = "90m"
	r := e.admin("POST", "/api/v1/gates", g)
	mustStatus(t, r, http.StatusUnprocessableEntity)
	if f := r.fields(t); !slices.Contains(f, "retention") {
		t.Errorf("fields %v lack retention", f)
	}
	g["retention"] = "30d"
	mustStatus(t, e.admin("POST", "/api/v1/gates", g), http.StatusCreated)
	if got, err := e.store.GetGate(context.Background(), "vip"); err != nil || got.Retention != "30d" {
		t.Errorf("stored retention %v, %v", got, err)
	}
}
