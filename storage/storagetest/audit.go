package storagetest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
)

// testAudit appends audit entries, lists them newest first with each
// filter and a page, checks that the changes round-trip, and prunes.
func testAudit(t *testing.T, s gate.Store) {
	ctx := context.Background()
	entries := []*gate.AuditEntry{
		{At: t0, Actor: "token:aaaaaaaaaaaa (ops)", Action: "gate.create", GateID: "vip",
			Changes: gate.AuditDiff(nil, map[string]any{"name": "VIP", "enabled": true})},
		{At: t0.Add(time.Minute), Actor: "cli:root", Action: "entry.update", GateID: "vip", Object: "7",
			Changes: []gate.AuditChange{{Field: "pin", Before: json.RawMessage(gate.RedactedChange), After: json.RawMessage(gate.RedactedChange)},
				{Field: "label", Before: json.RawMessage(`"old"`), After: json.RawMessage(`"new"`)}}},
		{At: t0.Add(2 * time.Minute), Actor: "token:aaaaaaaaaaaa (ops)", Action: "token.create", Object: "bbbbbbbbbbbb"},
	}
	for _, e := range entries {
		if err := s.AppendAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
		if e.ID == 0 {
			t.Fatal("AppendAudit set no ID")
		}
	}
	if entries[0].ID == entries[1].ID {
		t.Error("two entries share an ID")
	}
	got, err := s.ListAudit(ctx, gate.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].Action != "token.create" || got[2].Action != "gate.create" {
		t.Fatalf("list: %v", got)
	}
	e := got[1]
	if e.ID != entries[1].ID || !e.At.Equal(t0.Add(time.Minute)) || e.Actor != "cli:root" || e.GateID != "vip" || e.Object != "7" || len(e.Changes) != 2 {
		t.Fatalf("entry %+v", e)
	}
	if c := e.Changes[1]; c.Field != "label" || string(c.Before) != `"old"` || string(c.After) != `"new"` {
		t.Errorf("change %+v", c)
	}
	if got[0].Changes == nil {
		t.Error("an entry without changes lists nil, want []")
	}
	if c := got[2].Changes; len(c) != 2 || c[0].Field != "enabled" || string(c[0].Before) != "null" || string(c[0].After) != "true" {
		t.Errorf("created gate changes %+v", c)
	}
	for _, tt := range []struct {
		f    gate.AuditFilter
		want int
	}{
		{gate.AuditFilter{GateID: "vip"}, 2},
		{gate.AuditFilter{Actor: "cli:root"}, 1},
		{gate.AuditFilter{Action: "token.create"}, 1},
		{gate.AuditFilter{From: t0.Add(time.Minute)}, 2},
		{gate.AuditFilter{To: t0.Add(time.Minute)}, 1},
		{gate.AuditFilter{Object: "7"}, 1},
		{gate.AuditFilter{BeforeID: entries[2].ID}, 2},
		{gate.AuditFilter{BeforeID: entries[2].ID, Limit: 1}, 1},
		{gate.AuditFilter{GateID: "vip", Action: "gate.create", Actor: "cli:root"}, 0},
	} {
		got, err := s.ListAudit(ctx, tt.f)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != tt.want {
			t.Errorf("filter %+v: %d entries, want %d", tt.f, len(got), tt.want)
		}
		if tt.f.BeforeID != 0 && len(got) > 0 && got[0].ID != entries[1].ID {
			t.Errorf("filter %+v: first entry %d, want %d", tt.f, got[0].ID, entries[1].ID)
		}
	}
	n, err := s.PruneAudit(ctx, t0.Add(time.Minute))
	if err != nil || n != 1 {
		t.Fatalf("prune: %d, %v", n, err)
	}
	if n, err := s.PruneAudit(ctx, t0.Add(time.Minute)); err != nil || n != 0 {
		t.Errorf("second prune: %d, %v", n, err)
	}
	if got, _ := s.ListAudit(ctx, gate.AuditFilter{}); len(got) != 2 {
		t.Errorf("after prune: %d entries, want 2", len(got))
	}
}
