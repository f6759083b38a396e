package callcsv_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/internal/callcsv"
)

const (
	number = "+4917612345678"
	raw    = "017612345678"
	other  = "+4930111222"
)

func pseudonymiser(t *testing.T) *callcsv.Pseudonymiser {
	t.Helper()
	p, err := callcsv.NewPseudonymiser([]byte("0123456789abcdef-test"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// noNumber fails if any form of the test numbers shows in v as JSON.
func noNumber(t *testing.T, what string, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{number, raw, other, "17612345678", "30111222"} {
		if bytes.Contains(b, []byte(n)) {
			t.Errorf("%s holds %s in the clear: %s", what, n, b)
		}
	}
}

func TestPseudonymiseCall(t *testing.T) {
	p := pseudonymiser(t)
	c := &gate.CallRecord{ID: 1, At: time.Now(), ChannelID: "pbx-" + raw, GateID: "vip", CallerRaw: raw, Caller: number,
		Called: "+4930901820", Outcome: gate.OutcomePINOK, EntryID: 7}
	got := p.Call(c)
	noNumber(t, "pseudonymised call", got)
	if got.Caller != p.Pseudonym(number) || got.CallerRaw != got.Caller || got.ChannelID != "" || got.EntryID != 0 {
		t.Errorf("pseudonymised call %+v", got)
	}
	if got.Called != c.Called || got.Outcome != c.Outcome || got.GateID != "vip" {
		t.Errorf("pseudonymised call lost other fields: %+v", got)
	}
	if c.Caller != number || c.EntryID != 7 {
		t.Errorf("Call changed its argument: %+v", c)
	}
	if got := p.Call(&gate.CallRecord{CallerRaw: "anonymous"}); got.CallerRaw != p.Pseudonym("anonymous") || got.Caller != "" {
		t.Errorf("unnormalised caller: %+v", got)
	}
}

func TestPseudonymiseAudit(t *testing.T) {
	p := pseudonymiser(t)
	entries := []*gate.AuditEntry{
		{Action: "entry.create", GateID: "vip", Object: "7",
			Changes: gate.AuditDiff(nil, map[string]any{"caller": number, "label": "Ann", "pin": "x"}, "pin")},
		{Action: "entry.update", GateID: "vip", Object: "7",
			Changes: gate.AuditDiff(map[string]any{"caller": number}, map[string]any{"caller": other})},
		{Action: "entry.delete", GateID: "vip", Object: "7", Changes: gate.AuditDiff(map[string]any{"caller": "+49711*"}, nil)},
		{Action: "lockout.clear", GateID: "vip", Object: number, Changes: []gate.AuditChange{}},
	}
	for _, e := range entries {
		before, _ := json.Marshal(e)
		got := p.Audit(e)
		noNumber(t, e.Action, got)
		if after, _ := json.Marshal(e); !bytes.Equal(before, after) {
			t.Errorf("%s: Audit changed its argument: %s", e.Action, after)
		}
		if e.Action == "lockout.clear" && got.Object != p.Pseudonym(number) {
			t.Errorf("lockout.clear object %q, want %q", got.Object, p.Pseudonym(number))
		}
	}
	created := p.Audit(entries[0]).Changes
	want := map[string]string{"caller": `"` + p.Pseudonym(number) + `"`, "label": `"Ann"`, "pin": gate.RedactedChange}
	for _, c := range created {
		if string(c.After) != want[c.Field] || string(c.Before) != "null" {
			t.Errorf("entry.create change %s: %s -> %s, want null -> %s", c.Field, c.Before, c.After, want[c.Field])
		}
	}
	updated := p.Audit(entries[1]).Changes[0]
	if string(updated.Before) != `"`+p.Pseudonym(number)+`"` || string(updated.After) != `"`+p.Pseudonym(other)+`"` {
		t.Errorf("entry.update caller %s -> %s", updated.Before, updated.After)
	}
	if got := p.Audit(&gate.AuditEntry{Action: "lockout.clear", Object: gate.AnyCaller}); got.Object != gate.AnyCaller {
		t.Errorf("gate-wide lockout.clear object %q, want %q", got.Object, gate.AnyCaller)
	}
	if got := p.Audit(&gate.AuditEntry{Action: "token.create", Object: "abc"}); got.Object != "abc" {
		t.Errorf("token.create object %q changed", got.Object)
	}
	if !strings.HasPrefix(p.Pseudonym(number), "p-") {
		t.Errorf("pseudonym %q", p.Pseudonym(number))
	}
}
