package auditsql_test

import (
	"errors"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/storage/auditsql"
)

var (
	question = auditsql.Dialect{Param: func(int) string { return "?" }, Time: func(t time.Time) any { return t.UnixNano() }, Changes: "changes"}
	dollar   = auditsql.Dialect{Param: func(n int) string { return "$" + strconv.Itoa(n) }, Time: func(t time.Time) any { return t }, Changes: "changes::text"}
)

func TestQuery(t *testing.T) {
	from := time.Date(2026, 1, 31, 8, 0, 0, 0, time.UTC)
	to := from.Add(time.Hour)
	for _, tt := range []struct {
		name  string
		f     gate.AuditFilter
		d     auditsql.Dialect
		query string
		args  []any
	}{
		{"no filter, default page", gate.AuditFilter{}, question,
			"SELECT id, at, actor, action, gate_id, object, changes FROM audit ORDER BY id DESC LIMIT ?", []any{100}},
		{"every field, numbered", gate.AuditFilter{GateID: "vip", Actor: "cli:root", Action: "gate.update", Object: "7", BeforeID: 42, From: from, To: to, Limit: 5}, dollar,
			"SELECT id, at, actor, action, gate_id, object, changes::text FROM audit WHERE gate_id = $1 AND actor = $2 AND action = $3 AND object = $4 AND id < $5 AND at >= $6 AND at < $7 ORDER BY id DESC LIMIT $8",
			[]any{"vip", "cli:root", "gate.update", "7", int64(42), from, to, 5}},
		{"times in the store's form", gate.AuditFilter{From: from, Limit: -1}, question,
			"SELECT id, at, actor, action, gate_id, object, changes FROM audit WHERE at >= ? ORDER BY id DESC LIMIT ?", []any{from.UnixNano(), 100}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			q, args := auditsql.Query(tt.f, tt.d)
			if q != tt.query {
				t.Errorf("query\n %s\nwant\n %s", q, tt.query)
			}
			if !reflect.DeepEqual(args, tt.args) {
				t.Errorf("args %#v, want %#v", args, tt.args)
			}
		})
	}
}

func TestChangesAndScan(t *testing.T) {
	text, err := auditsql.Changes(&gate.AuditEntry{})
	if err != nil || text != "[]" {
		t.Fatalf("no changes: %q, %v; want []", text, err)
	}
	at := time.Date(2026, 1, 31, 8, 0, 0, 0, time.UTC)
	row := func(changes string) func(dest ...any) error {
		return func(dest ...any) error {
			*dest[0].(*int64) = 7
			*dest[1].(*int64) = at.UnixNano()
			*dest[2].(*string) = "cli:root"
			*dest[3].(*string) = "entry.update"
			*dest[4].(*string) = "vip"
			*dest[5].(*string) = "3"
			*dest[6].(*string) = changes
			return nil
		}
	}
	var ns int64
	when := func() time.Time { return time.Unix(0, ns).UTC() }
	e, err := auditsql.Scan(row(`[{"field":"label","before":"a","after":"b"}]`), &ns, when)
	if err != nil {
		t.Fatal(err)
	}
	want := &gate.AuditEntry{ID: 7, At: at, Actor: "cli:root", Action: "entry.update", GateID: "vip", Object: "3",
		Changes: []gate.AuditChange{{Field: "label", Before: []byte(`"a"`), After: []byte(`"b"`)}}}
	if !reflect.DeepEqual(e, want) {
		t.Errorf("entry %+v, want %+v", e, want)
	}
	if e, err := auditsql.Scan(row("[]"), &ns, when); err != nil || e.Changes == nil {
		t.Errorf("empty changes: %+v, %v; want [] (not nil)", e, err)
	}
	if _, err := auditsql.Scan(row("{bad"), &ns, when); err == nil {
		t.Error("bad changes JSON: no error")
	}
	boom := errors.New("boom")
	if _, err := auditsql.Scan(func(...any) error { return boom }, &ns, when); !errors.Is(err, boom) {
		t.Errorf("scan error: %v, want boom", err)
	}
}
