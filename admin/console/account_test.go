package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/vipgate/vipgate/gate"
)

// TestGateEditorKeepsAccountGates: the editor offers the account mode and
// selects it for an account gate, and a save from the editor keeps the
// mode and the withheld rule (before, the mode list had no "account", so
// the browser sent the first mode, static).
func TestGateEditorKeepsAccountGates(t *testing.T) {
	_, got := saveFromEditor(t, gate.Identification{Mode: gate.IdentAccount, Withheld: gate.WithheldAccount})
	if got.Name != "G renamed" || got.Identification.Mode != gate.IdentAccount || got.Identification.Withheld != gate.WithheldAccount {
		t.Errorf("stored after the save: %+v", got.Identification)
	}
}

// saveFromEditor stores gate g1 with ident, checks that its editor selects
// ident's mode, saves the editor's form with the gate renamed "G renamed"
// and that mode, and returns the editor page and the gate as stored after
// the save.
func saveFromEditor(t *testing.T, ident gate.Identification) (page string, got *gate.Gate) {
	t.Helper()
	e := newEnv(t)
	b := e.as(gate.RoleAdmin)
	g := &gate.Gate{ID: "g1", Name: "G", Enabled: true, Match: gate.Match{Numbers: []string{"+4930901820"}},
		Activation: gate.Activation{Mode: gate.ActiveAlways}, Identification: ident}
	g.Normalize()
	if err := e.store.CreateGate(context.Background(), g); err != nil {
		t.Fatal(err)
	}
	mode := string(ident.Mode)
	_, page = b.get("/gates/g1")
	if !strings.Contains(page, `<option value="`+mode+`" selected>`) {
		t.Errorf("the editor does not select the %s mode:\n%s", mode, excerpt(page, `name="identification.mode"`))
	}
	resp, body := b.post("/gates/g1", url.Values{"id": {"g1"}, "name": {"G renamed"}, "enabled": {"on"}, "match.numbers": {"+4930901820"},
		"activation.mode": {"always"}, "identification.mode": {mode}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d\n%s", resp.StatusCode, body)
	}
	got, err := e.store.GetGate(context.Background(), "g1")
	if err != nil {
		t.Fatal(err)
	}
	return page, got
}
