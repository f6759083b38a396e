package gate_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/gate/gatetest"
)

// TestAuditedEraseCaller checks that an erasure through an Audited store
// is recorded with who, the gate and the counts, but not the number.
func TestAuditedEraseCaller(t *testing.T) {
	ctx := context.Background()
	raw := gatetest.NewStore()
	s := gate.Audited(raw, "cli:alice")
	if err := raw.CreateGate(ctx, &gate.Gate{ID: "vip", Name: "VIP"}); err != nil {
		t.Fatal(err)
	}
	if err := raw.LogCall(ctx, &gate.CallRecord{At: time.Now(), GateID: "vip", Caller: "+4917612345678", CallerRaw: "017612345678", Outcome: gate.OutcomePassed}); err != nil {
		t.Fatal(err)
	}
	res, err := s.EraseCaller(gate.WithActor(ctx, "token:abc (ops)"), "vip", "+4917612345678")
	if err != nil || res.Calls != 1 {
		t.Fatalf("erase = %+v, %v", res, err)
	}
	list, err := raw.ListAudit(ctx, gate.AuditFilter{})
	if err != nil || len(list) != 1 {
		t.Fatalf("audit log %v, %v; want one entry", list, err)
	}
	e := list[0]
	if e.Action != "caller.erase" || e.GateID != "vip" || e.Actor != "token:abc (ops)" {
		t.Errorf("entry %+v", e)
	}
	b, _ := json.Marshal(e)
	if strings.Contains(string(b), "12345678") {
		t.Errorf("the audit entry keeps the erased number: %s", b)
	}
	if !strings.Contains(string(b), `"field":"calls"`) {
		t.Errorf("the audit entry lacks the counts: %s", b)
	}
	if _, err := s.EraseCaller(ctx, "missing", "+4917612345678"); err == nil {
		t.Error("erase at a missing gate: no error")
	}
	if list, _ := raw.ListAudit(ctx, gate.AuditFilter{}); len(list) != 1 {
		t.Errorf("a failed erasure was recorded: %d entries", len(list))
	}
}
