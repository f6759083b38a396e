package admin_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

type entryJSON struct {
	ID     int64  `json:"id"`
	Caller string `json:"caller"`
	Label  string `json:"label"`
}

type entryPage struct {
	Items     []entryJSON `json:"items"`
	Total     int         `json:"total"`
	Offset    int         `json:"offset"`
	Limit     int         `json:"limit"`
	Caller    string      `json:"caller"`
	NextAfter string      `json:"next_after"`
}

func TestPinsCRUD(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mustStatus(t, e.admin("POST", "/api/v1/gates", tableGate("vip")), http.StatusCreated)
	op := e.tokens["operator"]

	// Entries written in three number formats; all stored in E.164.
	inputs := []struct{ caller, want string }{
		{"+49 176 1234 5678", "+4917612345678"},
		{"0049 171 5550000", "+491715550000"},
		{"0711 / 123 456", "+49711123456"},
		{"0711*", "+49711*"},
	}
	ids := map[string]int64{}
	for _, in := range inputs {
		r := e.do(op, "POST", "/api/v1/gates/vip/pins", map[string]any{"caller": in.caller, "pin": "8642", "label": "L " + in.want})
		mustStatus(t, r, http.StatusCreated)
		var ent entryJSON
		r.json(t, &ent)
		if ent.Caller != in.want || ent.ID == 0 {
			t.Errorf("create %q: got %+v, want caller %s", in.caller, ent, in.want)
		}
		ids[in.want] = ent.ID
	}
	mustStatus(t, e.do(op, "POST", "/api/v1/gates/vip/pins", map[string]any{"caller": "+4917612345678", "pin": "1357"}), http.StatusConflict)

	// Search in any format finds the entry.
	for _, q := range []string{"+4917612345678", "004917612345678", "0176 12345678", "(0176) 1234-5678"} {
		r := e.do(e.tokens["viewer"], "GET", "/api/v1/gates/vip/pins?caller="+url.QueryEscape(q), nil)
		mustStatus(t, r, http.StatusOK)
		var p entryPage
		r.json(t, &p)
		if p.Total != 1 || len(p.Items) != 1 || p.Items[0].ID != ids["+4917612345678"] {
			t.Errorf("search %q: %s", q, r.body)
		}
	}
	// A prefix search lists the numbers under it.
	r := e.do(op, "GET", "/api/v1/gates/vip/pins?caller="+url.QueryEscape("0711*"), nil)
	mustStatus(t, r, http.StatusOK)
	var p entryPage
	r.json(t, &p)
	if p.Total != 2 || p.Caller != "+49711" {
		t.Errorf("prefix search (want 2 entries and the normalised search +49711): %s", r.body)
	}

	// Keyset paging: next_after of a full page gets the next one.
	var keyset []string
	after := ""
	for range 3 {
		r := e.do(op, "GET", "/api/v1/gates/vip/pins?limit=3&after="+url.QueryEscape(after), nil)
		mustStatus(t, r, http.StatusOK)
		var p entryPage
		r.json(t, &p)
		if p.Total != 4 {
			t.Errorf("keyset page after %q: total %d, want 4 (all matches)", after, p.Total)
		}
		for _, it := range p.Items {
			keyset = append(keyset, it.Caller)
		}
		if p.NextAfter == "" {
			break
		}
		after = p.NextAfter
	}
	r = e.do(op, "GET", "/api/v1/gates/vip/pins?limit=3&no_total=true", nil)
	mustStatus(t, r, http.StatusOK)
	var nt entryPage
	r.json(t, &nt)
	if nt.Total != -1 || len(nt.Items) != 3 {
		t.Errorf("no_total=true: %s, want total -1 and a page of 3", r.body)
	}
	if len(keyset) != 4 || !slices.IsSorted(keyset) {
		t.Errorf("keyset paging went through %v, want the 4 entries in order", keyset)
	}

	// Paging.
	var seen []string
	for off := 0; off < 4; off += 3 {
		r := e.do(op, "GET", fmt.Sprintf("/api/v1/gates/vip/pins?offset=%d&limit=3", off), nil)
		mustStatus(t, r, http.StatusOK)
		var p entryPage
		r.json(t, &p)
		if p.Total != 4 || p.Limit != 3 || p.Offset != off {
			t.Errorf("page %d: %s", off, r.body)
		}
		for _, it := range p.Items {
			seen = append(seen, it.Caller)
		}
	}
	if len(seen) != 4 || !slices.IsSorted(seen) {
		t.Errorf("paged through %v", seen)
	}

	// Get, update (label only keeps the PIN), delete.
	id := ids["+491715550000"]
	path := fmt.Sprintf("/api/v1/gates/vip/pins/%d", id)
	mustStatus(t, e.do(op, "GET", path, nil), http.StatusOK)
	r = e.do(op, "PUT", path, map[string]any{"caller": "+491715550000", "label": "new label"})
	mustStatus(t, r, http.StatusOK)
	var ent entryJSON
	r.json(t, &ent)
	if ent.Label != "new label" || ent.ID != id {
		t.Errorf("update: %s", r.body)
	}
	mustStatus(t, e.do(op, "DELETE", path, nil), http.StatusNoContent)
	mustStatus(t, e.do(op, "GET", path, nil), http.StatusNotFound)
	mustStatus(t, e.do(op, "GET", "/api/v1/gates/vip/pins/abc", nil), http.StatusNotFound)
	mustStatus(t, e.do(op, "GET", "/api/v1/gates/nope/pins", nil), http.StatusNotFound)
}

func TestPinsValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		body   any
		status int
		fields []string
	}{
		{"missing caller and pin", map[string]any{}, 422, []string{"caller", "pin"}},
		{"caller with letters", map[string]any{"caller": "+49abc", "pin": "8642"}, 422, []string{"caller"}},
		{"pin with letters", map[string]any{"caller": "+4917612345678", "pin": "86a2"}, 422, []string{"pin"}},
		{"pin too long for the gate", map[string]any{"caller": "+4917612345678", "pin": "123456789"}, 422, []string{"pin"}},
		{"valid_until before valid_from", map[string]any{"caller": "+4917612345678", "pin": "8642",
			"valid_from": "2026-05-01T00:00:00Z", "valid_until": "2026-04-01T00:00:00Z"}, 422, []string{"valid_until"}},
		{"bad time", map[string]any{"caller": "+4917612345678", "pin": "8642", "valid_from": "tomorrow"}, 422, []string{"valid_from"}},
		{"unknown field", map[string]any{"caller": "+4917612345678", "pin": "8642", "pin_hash": "x"}, 400, []string{"pin_hash"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			mustStatus(t, e.admin("POST", "/api/v1/gates", tableGate("vip")), http.StatusCreated)
			r := e.do(e.tokens["operator"], "POST", "/api/v1/gates/vip/pins", tt.body)
			mustStatus(t, r, tt.status)
			got := r.fields(t)
			for _, f := range tt.fields {
				if !slices.Contains(got, f) {
					t.Errorf("fields %v lack %q", got, f)
				}
			}
		})
	}
	e := newEnv(t)
	mustStatus(t, e.admin("POST", "/api/v1/gates", tableGate("vip")), http.StatusCreated)
	for _, q := range []string{"caller=abc", "limit=0", "limit=5000", "offset=-1"} {
		r := e.admin("GET", "/api/v1/gates/vip/pins?"+q, nil)
		mustStatus(t, r, http.StatusUnprocessableEntity)
		r.fields(t)
	}
}

// TestStoreErrorsAnswerWithoutDriverText checks that a request the store
// refuses (a duplicate caller on insert and on update, a missing entry,
// a missing gate) is answered with the domain's words, naming the field
// where there is one, and never with the store's or the driver's text.
func TestStoreErrorsAnswerWithoutDriverText(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mustStatus(t, e.admin("POST", "/api/v1/gates", tableGate("vip")), http.StatusCreated)
	op := e.tokens["operator"]
	mustStatus(t, e.do(op, "POST", "/api/v1/gates/vip/pins", map[string]any{"caller": "+4917612345678", "pin": "8642"}), http.StatusCreated)
	r := e.do(op, "POST", "/api/v1/gates/vip/pins", map[string]any{"caller": "+4917699999999", "pin": "8642"})
	mustStatus(t, r, http.StatusCreated)
	var second entryJSON
	r.json(t, &second)

	tests := []struct {
		name, method, path string
		body               any
		status             int
		field              string
	}{
		{"duplicate caller", "POST", "/api/v1/gates/vip/pins", map[string]any{"caller": "0176 12345678", "pin": "1357"}, http.StatusConflict, "caller"},
		{"update to a taken caller", "PUT", fmt.Sprintf("/api/v1/gates/vip/pins/%d", second.ID), map[string]any{"caller": "+4917612345678"}, http.StatusConflict, "caller"},
		{"missing entry", "GET", "/api/v1/gates/vip/pins/999999", nil, http.StatusNotFound, ""},
		{"missing gate", "POST", "/api/v1/gates/nope/pins", map[string]any{"caller": "+4917612345678", "pin": "1357"}, http.StatusNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(op, tt.method, tt.path, tt.body)
			mustStatus(t, r, tt.status)
			fields := r.fields(t)
			if tt.field != "" && !slices.Contains(fields, tt.field) {
				t.Errorf("answer %s does not name the field %q", r.body, tt.field)
			}
			for _, w := range []string{"sqlite", "postgres", "constraint", "UNIQUE", "SQLSTATE", "entries.", "put entry", "get entry"} {
				if strings.Contains(string(r.body), w) {
					t.Errorf("answer %s carries store or driver text %q", r.body, w)
				}
			}
		})
	}
}
