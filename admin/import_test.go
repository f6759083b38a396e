package admin_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/pinsfile"
)

type importJSON struct {
	Imported  bool
	Rows      int
	Inserted  int
	Updated   int
	Deleted   int
	RowErrors []pinsfile.RowError `json:"row_errors"`
	Errors    []struct{ Field, Problem string }
}

func TestImport(t *testing.T) {
	t.Parallel()
	const good = "caller,pin,label\n+4917611111111,8642,Anna\n0176 22222222,97531,Bert\n0711*,13579,Branch\n"
	const mixed = "caller,pin,label\n+4917611111111,8642,Anna\nnot-a-number,97531,Bad\n+4917633333333,12a4,Bad PIN\n"
	tests := []struct {
		name      string
		query     string
		ctype     string
		body      string
		status    int
		inserted  int
		badFields []string // rows[N].field expected in the problem
		entries   int      // entries in the table afterwards
	}{
		{"csv", "", "text/csv", good, 200, 3, nil, 3},
		{"json", "", "application/json", `[{"caller":"+4917611111111","pin":"8642"},{"caller":"0049 176 22222222","pin":"0097531","label":"Bert"}]`, 200, 2, nil, 2},
		{"all or nothing by default", "", "text/csv", mixed, 422, 0, []string{"rows[3].caller", "rows[4].pin"}, 0},
		{"partial imports the good rows", "?partial=true", "text/csv", mixed, 200, 1, []string{"rows[3].caller", "rows[4].pin"}, 1},
		{"replace refuses rows with errors", "?replace=true", "text/csv", mixed, 422, 0, []string{"rows[3].caller"}, 0},
		{"replace refuses rows with errors even partial", "?replace=true&partial=true", "text/csv", mixed, 422, 0, []string{"rows[3].caller"}, 0},
		{"duplicate caller", "", "text/csv", "caller,pin\n+4917611111111,8642\n0176 11111111,1357\n", 422, 0, []string{"rows[3].caller"}, 0},
		{"no rows", "", "text/csv", "caller,pin\n", 422, 0, nil, 0},
		{"no pin column", "", "text/csv", "caller,label\n+4917611111111,x\n", 422, 0, nil, 0},
		{"wrong media type", "", "application/xml", "<x/>", 415, 0, nil, 0},
		{"bad partial flag", "?partial=maybe", "text/csv", good, 422, 0, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			mustStatus(t, e.admin("POST", "/api/v1/gates", tableGate("vip")), http.StatusCreated)
			r := e.do(e.tokens[gate.RoleOperator], "POST", "/api/v1/gates/vip/pins/import"+tt.query, []byte(tt.body), "Content-Type", tt.ctype)
			mustStatus(t, r, tt.status)
			var rep importJSON
			r.json(t, &rep)
			if tt.status == 200 && (!rep.Imported || rep.Inserted != tt.inserted) {
				t.Errorf("report %s", r.body)
			}
			var got []string
			if tt.status == 200 {
				for _, re := range rep.RowErrors {
					got = append(got, "rows["+itoa(re.Row)+"]."+re.Field)
				}
			} else {
				got = r.fields(t)
			}
			for _, f := range tt.badFields {
				if !slices.Contains(got, f) {
					t.Errorf("row errors %v lack %s; body %s", got, f, r.body)
				}
			}
			_, total, err := e.store.ListEntries(context.Background(), "vip", gate.EntryFilter{})
			if err != nil {
				t.Fatal(err)
			}
			if total != tt.entries {
				t.Errorf("%d entries after import, want %d", total, tt.entries)
			}
			for _, pin := range []string{"8642", "97531", "12a4", "13579"} {
				if strings.Contains(string(r.body), pin) {
					t.Errorf("import answer holds PIN %s: %s", pin, r.body)
				}
			}
		})
	}
}

func TestImportReplaceAndExport(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	op := e.tokens[gate.RoleOperator]
	mustStatus(t, e.admin("POST", "/api/v1/gates", tableGate("vip")), http.StatusCreated)
	r := e.do(op, "POST", "/api/v1/gates/vip/pins/import", []byte("+4917611111111,8642,Anna\n+4917622222222,9753,Bert\n"), "Content-Type", "text/csv")
	mustStatus(t, r, http.StatusOK)
	// The PIN of an imported entry is the one in the file.
	ent, err := e.store.LookupEntry(context.Background(), "vip", "+4917622222222", now)
	if err != nil || !e.hasher.Check(ent.PIN, "9753") {
		t.Fatalf("imported entry %v, %v", ent, err)
	}
	r = e.do(op, "POST", "/api/v1/gates/vip/pins/import?replace=true", []byte("caller;pin;label\n+4917611111111;2468;Anna new\n+4917633333333;1357;Carl\n"), "Content-Type", "text/csv")
	mustStatus(t, r, http.StatusOK)
	var rep importJSON
	r.json(t, &rep)
	if rep.Inserted != 1 || rep.Updated != 1 || rep.Deleted != 1 {
		t.Errorf("replace report %s", r.body)
	}
	r = e.do(e.tokens[gate.RoleViewer], "GET", "/api/v1/gates/vip/pins/export", nil)
	mustStatus(t, r, http.StatusOK)
	rows, err := csv.NewReader(bytes.NewReader(r.body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[1][0] != "+4917611111111" || rows[1][1] != "Anna new" || rows[2][0] != "+4917633333333" {
		t.Errorf("export %q", rows)
	}
	for _, pin := range []string{"2468", "1357", "8642"} {
		if strings.Contains(string(r.body), pin) {
			t.Errorf("export holds PIN %s", pin)
		}
	}
	mustStatus(t, e.do(op, "POST", "/api/v1/gates/vip/pins/import", bigCSV(100_000), "Content-Type", "text/csv"), http.StatusRequestEntityTooLarge)
	mustStatus(t, e.do(op, "GET", "/api/v1/gates/nope/pins/export", nil), http.StatusNotFound)
}

func itoa(n int) string { return strconv.Itoa(n) }

// bigCSV is a caller table of n rows (about 25 bytes each).
func bigCSV(n int) []byte {
	var b bytes.Buffer
	b.WriteString("caller,pin\n")
	for i := range n {
		fmt.Fprintf(&b, "+49176%08d,%04d\n", i, i%10000)
	}
	return b.Bytes()
}

// TestImportCountsRows checks that the 422 answer counts rows, not field
// errors, and names the fields; a file with mostly bad rows imports nothing.
func TestImportCountsRows(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mustStatus(t, e.admin("POST", "/api/v1/gates", tableGate("vip")), http.StatusCreated)
	const body = "caller,pin\n+4917611111111,8642\nnot-a-number,12a4\nx,97531\ny,13579\nz,24680\n"
	r := e.do(e.tokens[gate.RoleOperator], "POST", "/api/v1/gates/vip/pins/import", []byte(body), "Content-Type", "text/csv")
	mustStatus(t, r, http.StatusUnprocessableEntity)
	var p struct {
		Detail   string `json:"detail"`
		Rows     int    `json:"rows"`
		Imported bool   `json:"imported"`
	}
	r.json(t, &p)
	want := "4 rows have errors (row 3: caller, pin; row 4: caller; row 5: caller; row 6: caller); nothing was imported (partial=true imports the good rows)"
	if p.Detail != want || p.Rows != 5 || p.Imported {
		t.Errorf("answer %s\nwant detail %q, rows 5", r.body, want)
	}
	if _, total, err := e.store.ListEntries(context.Background(), "vip", gate.EntryFilter{}); err != nil || total != 0 {
		t.Errorf("%d entries after a refused import (%v)", total, err)
	}
}
