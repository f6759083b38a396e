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
	e := newEnv(t)
	b := e.as(gate.RoleAdmin)
	g := &gate.Gate{ID: "g1", Name: "G", Enabled: true, Match: gate.Match{Numbers: []string{"+4930901820"}},
		Activation:     gate.Activation{Mode: gate.ActiveAlways},
		Identification: gate.Identification{Mode: gate.IdentAccount, Withheld: gate.WithheldAccount}}
	g.Normalize()
	if err := e.store.CreateGate(context.Background(), g); err != nil {
		t.Fatal(err)
	}
	_, body := b.get("/gates/g1")
	if !strings.Contains(body, `<option value="account" selected>`) {
		t.Errorf("the editor does not select the account mode:\n%s", excerpt(body, `name="identification.mode"`))
	}
	resp, body := b.post("/gates/g1", url.Values{"id": {"g1"}, "name": {"G renamed"}, "enabled": {"on"}, "match.numbers": {"+4930901820"},
		"activation.mode": {"always"}, "identification.mode": {"account"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d\n%s", resp.StatusCode, body)
	}
	got, err := e.store.GetGate(context.Background(), "g1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "G renamed" || got.Identification.Mode != gate.IdentAccount || got.Identification.Withheld != gate.WithheldAccount {
		t.Errorf("stored after the save: %+v", got.Identification)
	}
}
