package auditsql

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/vipgate/vipgate/gate"
)

// DefaultLimit is the page size of a filter that names none.
const DefaultLimit = 100

// Dialect is what a store's SQL writes its own way.
type Dialect struct {
	// Param returns the placeholder of the nth argument (from 1).
	Param func(n int) string
	// Time returns a time as the at column stores it.
	Time func(time.Time) any
	// Changes is the select expression that reads the changes column as
	// JSON text ("changes", "changes::text").
	Changes string
}

// columns lists what Query selects, in the order Scan reads it.
const columns = "id, at, actor, action, gate_id, object"

// Query returns the SELECT of the page of audit entries that f selects,
// newest (highest ID) first, and its arguments.
func Query(f gate.AuditFilter, d Dialect) (string, []any) {
	var (
		conds []string
		args  []any
	)
	add := func(cond string, v any) {
		args = append(args, v)
		conds = append(conds, cond+" "+d.Param(len(args)))
	}
	for _, c := range []struct{ col, v string }{
		{"gate_id", f.GateID}, {"actor", f.Actor}, {"action", f.Action}, {"object", f.Object},
	} {
		if c.v != "" {
			add(c.col+" =", c.v)
		}
	}
	if f.BeforeID != 0 {
		add("id <", f.BeforeID)
	}
	if !f.From.IsZero() {
		add("at >=", d.Time(f.From))
	}
	if !f.To.IsZero() {
		add("at <", d.Time(f.To))
	}
	var b strings.Builder
	b.WriteString("SELECT " + columns + ", " + d.Changes + " FROM audit")
	if len(conds) > 0 {
		b.WriteString(" WHERE " + strings.Join(conds, " AND "))
	}
	args = append(args, Limit(f))
	b.WriteString(" ORDER BY id DESC LIMIT " + d.Param(len(args)))
	return b.String(), args
}

// Limit returns the page size f asks for: its Limit, or DefaultLimit.
func Limit(f gate.AuditFilter) int {
	if f.Limit <= 0 {
		return DefaultLimit
	}
	return f.Limit
}

// Changes returns an entry's changes as the JSON text the changes column
// keeps: "[]" for none, so that a listed entry never has nil changes.
func Changes(e *gate.AuditEntry) (string, error) {
	c := e.Changes
	if c == nil {
		c = []gate.AuditChange{}
	}
	b, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// Scan reads one row of Query through scan into an entry. The at column
// goes into at (a pointer of the store's own type); when converts what it
// holds, after the scan, into the entry's time.
func Scan(scan func(dest ...any) error, at any, when func() time.Time) (*gate.AuditEntry, error) {
	var (
		e       gate.AuditEntry
		changes string
	)
	if err := scan(&e.ID, at, &e.Actor, &e.Action, &e.GateID, &e.Object, &changes); err != nil {
		return nil, err
	}
	e.At = when()
	if err := json.Unmarshal([]byte(changes), &e.Changes); err != nil {
		return nil, fmt.Errorf("entry %d: %w", e.ID, err)
	}
	return &e, nil
}
