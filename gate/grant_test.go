package gate_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
)

// addGrant stores a grant of pin for caller ("*" for anyone) at the gate
// hotline and returns it.
func addGrant(t *testing.T, e *env, caller, pin string, maxUses int, until time.Time) *gate.Grant {
	t.Helper()
	gr := &gate.Grant{GateID: "hotline", Caller: caller, PIN: e.h.Hash(pin), MaxUses: maxUses, ValidUntil: until, Label: "guest", CreatedAt: e.now}
	if err := e.store.CreateGrant(context.Background(), gr); err != nil {
		t.Fatal(err)
	}
	return gr
}

// A one-use PIN lets one call through; the same PIN typed on the next
// call is a wrong PIN, retries and all.
func TestGrantOneUse(t *testing.T) {
	e := newEnv(t, staticGate(mustHasher(t), "4711"))
	gr := addGrant(t, e, "+4917612345678", "55667788", 1, time.Time{})
	c := call("+4917612345678", typed("55667788"))
	if rec := e.flow.Run(context.Background(), c); rec.Outcome != gate.OutcomePINOK {
		t.Fatalf("first use: %s (ops %s)", rec.Outcome, c.Ops())
	}
	if c.Var(gate.VarLabel) != "guest" {
		t.Errorf("%s = %q, want the grant's label", gate.VarLabel, c.Var(gate.VarLabel))
	}
	c = call("+4917612345678", typed("55667788"), typed("55667788"), typed("55667788"))
	rec := e.flow.Run(context.Background(), c)
	if rec.Outcome != gate.OutcomePINFailed || rec.Attempts != 3 {
		t.Fatalf("second use: %s after %d attempts, want pin_failed after 3", rec.Outcome, rec.Attempts)
	}
	gs, err := e.store.ListGrants(context.Background(), "hotline")
	if err != nil || len(gs) != 1 || gs[0].ID != gr.ID || gs[0].Uses != 1 {
		t.Fatalf("grants after two calls: %+v %v, want one with 1 use", gs, err)
	}
}

func TestGrantRules(t *testing.T) {
	type grant struct {
		caller  string
		maxUses int
		until   time.Duration // from now; 0 = none
		from    time.Duration // ValidFrom from now; 0 = none
		uses    int
	}
	tests := []struct {
		name   string
		gate   func(*gate.Gate)
		grant  grant
		caller string
		typed  string
		want   gate.Outcome
		uses   int
	}{
		{"N-use PIN", nil, grant{caller: "+4917612345678", maxUses: 3}, "+4917612345678", "55667788", gate.OutcomePINOK, 1},
		{"used up", nil, grant{caller: "+4917612345678", maxUses: 3, uses: 3}, "+4917612345678", "55667788", gate.OutcomePINFailed, 3},
		{"expired", nil, grant{caller: "+4917612345678", until: -time.Minute}, "+4917612345678", "55667788", gate.OutcomePINFailed, 0},
		{"not yet valid", nil, grant{caller: "+4917612345678", from: time.Hour, until: 2 * time.Hour}, "+4917612345678", "55667788", gate.OutcomePINFailed, 0},
		{"time-limited, any number of uses", nil, grant{caller: "+4917612345678", until: time.Hour}, "+4917612345678", "55667788", gate.OutcomePINOK, 1},
		{"another caller's grant", nil, grant{caller: "+4930111111", maxUses: 1}, "+4917612345678", "55667788", gate.OutcomePINFailed, 0},
		{"anyone's grant", nil, grant{caller: gate.AnyCaller, maxUses: 1}, "+4917612345678", "55667788", gate.OutcomePINOK, 1},
		{"anyone's grant, number withheld (on a gate with a lockout)", func(g *gate.Gate) {
			g.Lockout = gate.LockoutPolicy{MaxFailures: 5, Window: gate.Duration(time.Hour), Duration: gate.Duration(time.Hour)}
		}, grant{caller: gate.AnyCaller, maxUses: 1}, "", "55667788", gate.OutcomePINOK, 1},
		{"the static PIN uses no grant", nil, grant{caller: gate.AnyCaller, maxUses: 1}, "+4917612345678", "4711", gate.OutcomePINOK, 0},
		{"unknown caller of a table gate that rejects them", func(g *gate.Gate) {
			g.Identification.Mode, g.Identification.UnknownCaller = gate.IdentTable, gate.UnknownReject
		}, grant{caller: "+4917612345678", maxUses: 1}, "+4917612345678", "55667788", gate.OutcomePINOK, 1},
		{"a grant does not open the static PIN of a table gate", func(g *gate.Gate) {
			g.Identification.Mode, g.Identification.UnknownCaller = gate.IdentTable, gate.UnknownReject
		}, grant{caller: "+4917612345678", maxUses: 1}, "+4917612345678", "4711", gate.OutcomePINFailed, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := staticGate(mustHasher(t), "4711")
			if tt.gate != nil {
				tt.gate(g)
			}
			e := newEnv(t, g)
			gr := &gate.Grant{GateID: "hotline", Caller: tt.grant.caller, PIN: e.h.Hash("55667788"), MaxUses: tt.grant.maxUses, CreatedAt: e.now.Add(-3 * time.Hour)}
			if tt.grant.until != 0 {
				gr.ValidUntil = e.now.Add(tt.grant.until)
			}
			if tt.grant.from != 0 {
				gr.ValidFrom = e.now.Add(tt.grant.from)
			}
			if err := e.store.CreateGrant(context.Background(), gr); err != nil {
				t.Fatal(err)
			}
			for range tt.grant.uses {
				if _, err := e.store.UseGrant(context.Background(), "hotline", gr.ID, e.now.Add(-2*time.Hour)); err != nil {
					t.Fatal(err)
				}
			}
			c := call(tt.caller, typed(tt.typed), typed(tt.typed), typed(tt.typed))
			if rec := e.flow.Run(context.Background(), c); rec.Outcome != tt.want {
				t.Fatalf("outcome %s, want %s (ops %s)", rec.Outcome, tt.want, c.Ops())
			}
			gs, _ := e.store.ListGrants(context.Background(), "hotline")
			if gs[0].Uses != tt.uses {
				t.Errorf("uses %d, want %d", gs[0].Uses, tt.uses)
			}
		})
	}
}

// A grant used up by another call between the decision and the guess is
// a wrong guess: the failure counts toward the lockout like any other.
func TestGrantUsedUpDuringTheCall(t *testing.T) {
	e := newEnv(t, staticGate(mustHasher(t), "4711"))
	gr := addGrant(t, e, gate.AnyCaller, "55667788", 1, time.Time{})
	c := call("+4917612345678", typed("55667788"))
	c.OnCollect = func(n int) {
		if n > 1 {
			return
		}
		if _, err := e.store.UseGrant(context.Background(), "hotline", gr.ID, e.now); err != nil {
			t.Error(err)
		}
	}
	if rec := e.flow.Run(context.Background(), c); rec.Outcome != gate.OutcomePINFailed {
		t.Fatalf("outcome %s, want pin_failed", rec.Outcome)
	}
}

// Explain tells how many grants apply, never a PIN or hash.
func TestGrantExplain(t *testing.T) {
	e := newEnv(t, staticGate(mustHasher(t), "4711"))
	addGrant(t, e, gate.AnyCaller, "55667788", 1, time.Time{})
	addGrant(t, e, "+4917612345678", "66778899", 1, time.Time{})
	d := gate.NewEngine(gate.EngineConfig{Store: e.store, Hasher: e.h, Region: "DE"}).Explain(context.Background(), "hotline", "+4917612345678", "1000", e.now)
	if d.AskPIN == nil || d.AskPIN.Grants() != 2 {
		t.Fatalf("decision %+v, want a dialogue with 2 grants", d)
	}
	var found bool
	for _, s := range d.Trace {
		if s.Step == "grants" && strings.Contains(s.Detail, "2 granted PINs") {
			found = true
		}
		if strings.Contains(s.Detail, "55667788") || strings.Contains(s.Detail, "v1$") {
			t.Errorf("trace step %s holds a PIN or hash: %s", s.Step, s.Detail)
		}
	}
	if !found {
		t.Errorf("trace %v does not name the grants", d.Trace)
	}
}

func TestNewGrant(t *testing.T) {
	h := mustHasher(t)
	g := staticGate(h, "4711")
	nb, err := g.Numbering("DE")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	gr, pin, err := gate.NewGrant(h, g, nb, gate.GrantIn{Caller: "0176 12345678", MaxUses: 1, ValidFor: "24h", Label: " visitor "}, "cli:root", now)
	if err != nil {
		t.Fatal(err)
	}
	if len(pin) != 8 || strings.Trim(pin, "0123456789") != "" || !h.Check(gr.PIN, pin) {
		t.Errorf("PIN of %d characters, want 8 digits behind the hash", len(pin))
	}
	if gr.Caller != "+4917612345678" || gr.MaxUses != 1 || !gr.ValidUntil.Equal(now.Add(24*time.Hour)) || gr.Label != "visitor" || gr.CreatedBy != "cli:root" {
		t.Errorf("grant %+v", gr)
	}
	if gr, _, _ := gate.NewGrant(h, g, nb, gate.GrantIn{ValidFor: "7d"}, "", now); gr.Caller != gate.AnyCaller || !gr.ValidUntil.Equal(now.Add(7*24*time.Hour)) {
		t.Errorf("anyone's grant for 7d: %+v", gr)
	}
	// The length follows the gate's dialogue.
	g.Dialogue.MaxDigits = 6
	if _, pin, _ := gate.NewGrant(h, g, nb, gate.GrantIn{MaxUses: 1}, "", now); len(pin) != 6 {
		t.Errorf("max_digits 6: PIN of %d digits", len(pin))
	}
	g.Dialogue.MinDigits, g.Dialogue.MaxDigits = 10, 12
	if _, pin, _ := gate.NewGrant(h, g, nb, gate.GrantIn{MaxUses: 1}, "", now); len(pin) != 10 {
		t.Errorf("min_digits 10: PIN of %d digits", len(pin))
	}
	// Two grants are not the same PIN (10^10 choices).
	_, p1, _ := gate.NewGrant(h, g, nb, gate.GrantIn{MaxUses: 1}, "", now)
	_, p2, _ := gate.NewGrant(h, g, nb, gate.GrantIn{MaxUses: 1}, "", now)
	if p1 == p2 {
		t.Errorf("two grants drew the same PIN")
	}

	bad := []struct {
		in    gate.GrantIn
		field string
	}{
		{gate.GrantIn{}, "max_uses"},
		{gate.GrantIn{MaxUses: -1}, "max_uses"},
		{gate.GrantIn{Caller: "+49711*", MaxUses: 1}, "caller"},
		{gate.GrantIn{Caller: "abc", MaxUses: 1}, "caller"},
		{gate.GrantIn{ValidFor: "soon"}, "valid_for"},
		{gate.GrantIn{ValidFor: "-1h"}, "valid_for"},
		{gate.GrantIn{ValidFor: "1h", ValidUntil: "2026-12-01"}, "valid_for"},
		{gate.GrantIn{ValidUntil: "2026-11-01"}, "valid_until"},
		{gate.GrantIn{ValidUntil: "tomorrow"}, "valid_until"},
		{gate.GrantIn{ValidFrom: "2026-12-02", ValidUntil: "2026-12-01"}, "valid_until"},
		{gate.GrantIn{MaxUses: 1, Label: strings.Repeat("x", 201)}, "label"},
	}
	for _, b := range bad {
		_, pin, err := gate.NewGrant(h, g, nb, b.in, "", now)
		var ve gate.ValidationErrors
		if !errors.As(err, &ve) || ve[0].Field != b.field || pin != "" {
			t.Errorf("%+v: %v, want a problem with %s", b.in, err, b.field)
		}
	}
}

// A granted PIN is never the gate's static PIN: with a one-digit PIN
// length and the static PIN 5, no grant ever draws 5.
func TestNewGrantAvoidsTheStaticPIN(t *testing.T) {
	h := mustHasher(t)
	g := staticGate(h, "5")
	g.Dialogue.MinDigits, g.Dialogue.MaxDigits = 1, 1
	nb, _ := g.Numbering("DE")
	for range 100 {
		_, pin, err := gate.NewGrant(h, g, nb, gate.GrantIn{MaxUses: 1}, "", time.Now())
		if err != nil || pin == "5" {
			t.Fatalf("grant PIN %q, %v", pin, err)
		}
	}
}

// The audit log records who granted and revoked what, never the PIN or
// its hash.
func TestGrantAudited(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, staticGate(mustHasher(t), "4711"))
	s := gate.Audited(e.store, "cli:alice")
	nb, _ := staticGate(e.h, "4711").Numbering("DE")
	g, _ := e.store.GetGate(ctx, "hotline")
	gr, pin, err := gate.NewGrant(e.h, g, nb, gate.GrantIn{Caller: "+4917612345678", MaxUses: 2, Label: "visitor"}, "cli:alice", e.now)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateGrant(ctx, gr); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteGrant(gate.WithActor(ctx, "token:abc (ops)"), "hotline", gr.ID); err != nil {
		t.Fatal(err)
	}
	list, err := e.store.ListAudit(ctx, gate.AuditFilter{})
	if err != nil || len(list) != 2 {
		t.Fatalf("audit %v %v, want 2 entries", list, err)
	}
	if list[1].Action != "grant.create" || list[1].Actor != "cli:alice" || list[0].Action != "grant.delete" || list[0].Actor != "token:abc (ops)" {
		t.Errorf("audit %+v %+v", list[1], list[0])
	}
	all, _ := json.Marshal(list)
	for _, secret := range []string{pin, gr.PIN.String(), "pin"} {
		if strings.Contains(string(all), secret) {
			t.Errorf("audit log holds %q: %s", secret, all)
		}
	}
	for _, want := range []string{`"max_uses"`, `"visitor"`, `"+4917612345678"`} {
		if !strings.Contains(string(all), want) {
			t.Errorf("audit log lacks %s: %s", want, all)
		}
	}
}

// An account dialogue takes no grants: a grant belongs to a caller
// number, and the PIN typed after an account number is that account's.
func TestGrantNotInAccountDialogues(t *testing.T) {
	e := accountEnv(t, gate.IdentAccount, gate.LockoutPolicy{})
	addGrant(t, e, gate.AnyCaller, "55667788", 5, time.Time{})
	c := call("+4917612345678", typed("10042"), typed("55667788"), typed("10042"), typed("55667788"))
	if rec := e.flow.Run(context.Background(), c); rec.Outcome != gate.OutcomePINFailed {
		t.Fatalf("outcome %s, want pin_failed (ops %s)", rec.Outcome, c.Ops())
	}
	gs, _ := e.store.ListGrants(context.Background(), "hotline")
	if gs[0].Uses != 0 {
		t.Errorf("the grant counts %d uses", gs[0].Uses)
	}
}
