package gate_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
)

// TestDecideInternalNumbers checks that internal extensions are looked up
// as dialled and never match, or are matched by, E.164 numbers: the
// caller table holds the extension 201 and one outside number written
// nationally.
func TestDecideInternalNumbers(t *testing.T) {
	h := mustHasher(t)
	ctx := context.Background()
	g := staticGate(h, "4711")
	g.Identification.Mode = gate.IdentTable
	g.Identification.UnknownCaller = gate.UnknownReject
	e, st := newEngine(t, h, nil, g)
	nb, err := g.Numbering("DE")
	if err != nil {
		t.Fatal(err)
	}
	for _, raw := range []string{"201", "017612345678", "5550805"} {
		p, err := nb.Pattern(raw)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.PutEntry(ctx, &gate.Entry{GateID: g.ID, Pattern: p, Label: raw, PIN: h.Hash("2468")}); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		caller     string
		wantCaller string
		wantEntry  string // label, "" = unknown caller
		wantRule   string
	}{
		{"201", "201", "201", "internal (≤ 6 digits, kept as dialled)"},
		{"+49201", "+49201", "", "E.164 (international)"}, // from outside: not the extension
		{"0049201", "+49201", "", "E.164 (international)"},
		{"0201", "0201", "", "internal (≤ 6 digits, kept as dialled)"},
		{"1004", "1004", "", "internal (≤ 6 digits, kept as dialled)"},
		{"5550805", "5550805", "5550805", "not a valid number of region DE, kept as dialled"},
		{"+495550805", "+495550805", "", "E.164 (international)"},
		{"004917612345678", "+4917612345678", "017612345678", "E.164 (international)"},
		{"+4917612345678", "+4917612345678", "017612345678", "E.164 (international)"},
		{"017612345678", "+4917612345678", "017612345678", "E.164 (region DE)"},
	}
	for _, tt := range tests {
		t.Run(tt.caller, func(t *testing.T) {
			d := e.Decide(ctx, gate.CallInfo{Caller: tt.caller, Called: "1000"}, time.Now())
			if d.Caller != tt.wantCaller || d.CallerRule != tt.wantRule {
				t.Errorf("caller %q (%s), want %q (%s)", d.Caller, d.CallerRule, tt.wantCaller, tt.wantRule)
			}
			got := ""
			if d.Entry != nil {
				got = d.Entry.Label
			}
			if got != tt.wantEntry {
				t.Fatalf("entry %q, want %q; trace %v", got, tt.wantEntry, d.Trace)
			}
			if tt.wantEntry == "" && d.Verdict != gate.VerdictReject {
				t.Errorf("unknown caller: verdict %s, want reject", d.Verdict)
			}
		})
	}
}

// TestDecideInternalCalled checks gate selection and the webhook's called
// number for an internal DID: the DID 1004 selects the gate that matches
// "1004" and reaches the webhook as dialled; +491004 from outside does not
// select that gate.
func TestDecideInternalCalled(t *testing.T) {
	h := mustHasher(t)
	ctx := context.Background()
	g := webhookGate(h, gate.FailReject)
	g.Match.Numbers = []string{"1004", "10*"}
	fa := &fakeAuth{ans: gate.AuthAnswer{Kind: gate.AnswerPass}}
	e, _ := newEngine(t, h, fa, g)
	tests := []struct {
		called, wantGate, wantCalled string
	}{
		{"1004", "hotline", "1004"},
		{"1099", "hotline", "1099"},
		{"+491004", "", ""},
		{"0049 1004", "", ""},
		{"01004", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.called, func(t *testing.T) {
			fa.got = gate.AuthRequest{}
			d := e.Decide(ctx, gate.CallInfo{Caller: "201", Called: tt.called}, time.Now())
			if got := gateOf(d); got != tt.wantGate {
				t.Fatalf("gate %q, want %q; trace %v", got, tt.wantGate, d.Trace)
			}
			if fa.got.Called != tt.wantCalled {
				t.Errorf("webhook called number %q, want %q", fa.got.Called, tt.wantCalled)
			}
			if tt.wantGate != "" && fa.got.Caller != "201" {
				t.Errorf("webhook caller %q, want 201 as dialled", fa.got.Caller)
			}
		})
	}
}

// TestExplainNumberRules checks that the trace names the rule that
// classified the caller and the called number.
func TestExplainNumberRules(t *testing.T) {
	h := mustHasher(t)
	ctx := context.Background()
	g := staticGate(h, "4711")
	g.Match.Numbers = []string{"1000", "+4971112345"}
	e, _ := newEngine(t, h, nil, g)
	d := e.Explain(ctx, "", "0201", "1000", time.Now())
	text := fmt.Sprint(d.Trace)
	for _, want := range []string{
		`{caller raw "0201" → 0201: internal (≤ 6 digits, kept as dialled)}`,
		`{called raw "1000" → 1000: internal (≤ 6 digits, kept as dialled)}`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("trace lacks %q:\n%s", want, text)
		}
	}
	d = e.Explain(ctx, "", "017612345678", "0711 12345", time.Now())
	text = fmt.Sprint(d.Trace)
	for _, want := range []string{
		`{caller raw "017612345678" → +4917612345678: E.164 (region DE)}`,
		`{called raw "0711 12345" → +4971112345: E.164 (region DE)}`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("trace lacks %q:\n%s", want, text)
		}
	}
}

// TestDecideGateNumberRules checks a gate's own rules: with
// internal_max_length 3, the four-digit 1004 is no longer internal; with a
// pattern, an eight-digit extension is.
func TestDecideGateNumberRules(t *testing.T) {
	h := mustHasher(t)
	ctx := context.Background()
	three := 3
	g := staticGate(h, "4711")
	g.Numbers = gate.NumberRules{InternalMaxLength: &three, InternalPattern: "9[0-9]{7}"}
	e, st := newEngine(t, h, nil, g)
	for caller, want := range map[string]gate.NumberClass{"201": gate.ClassInternal, "1004": "", "91234567": gate.ClassInternal} {
		d := e.Decide(ctx, gate.CallInfo{Caller: caller, Called: "1000"}, time.Now())
		internal := strings.HasPrefix(d.CallerRule, "internal")
		if internal != (want == gate.ClassInternal) {
			t.Errorf("caller %s: rule %q, want internal %v", caller, d.CallerRule, want == gate.ClassInternal)
		}
	}
	// Rules that are invalid in the store make the gate fail by its
	// failure policy (reject), naming the field.
	bad := -1
	g.Numbers.InternalMaxLength = &bad
	if err := st.UpdateGate(ctx, g); err != nil {
		t.Fatal(err)
	}
	d := e.Decide(ctx, gate.CallInfo{Caller: "201", Called: "1000"}, time.Now())
	if d.Verdict != gate.VerdictReject || d.ErrClass != "config" || !strings.Contains(fmt.Sprint(d.Err), "numbers.internal_max_length") {
		t.Fatalf("verdict %s class %q err %v; want a config failure naming the field", d.Verdict, d.ErrClass, d.Err)
	}
}

// TestEnginePreparesGateOnce checks that a gate's match numbers and
// numbering are prepared once and kept across calls, and prepared again
// when the gate changes.
func TestEnginePreparesGateOnce(t *testing.T) {
	h := mustHasher(t)
	ctx := context.Background()
	g := staticGate(h, "4711")
	e, st := newEngine(t, h, nil, g)
	call := gate.CallInfo{Caller: "+4917612345678", Called: "0711 12345"}
	if d := e.Decide(ctx, call, time.Now()); d.Gate != nil {
		t.Fatalf("gate %s selected before the change", d.Gate.ID)
	}
	first := gate.Prepared(e, g.ID)
	if first == nil {
		t.Fatal("gate not prepared")
	}
	e.Decide(ctx, call, time.Now())
	if gate.Prepared(e, g.ID) != first {
		t.Fatal("gate prepared again although it did not change")
	}
	g.Match.Numbers = []string{"0711*"}
	if err := st.UpdateGate(ctx, g); err != nil {
		t.Fatal(err)
	}
	if d := e.Decide(ctx, call, time.Now()); d.Gate == nil {
		t.Fatalf("changed match numbers not used; trace %v", d.Trace)
	}
	if gate.Prepared(e, g.ID) == first {
		t.Fatal("changed gate not prepared again")
	}
	if err := st.DeleteGate(ctx, g.ID); err != nil {
		t.Fatal(err)
	}
	e.Decide(ctx, call, time.Now())
	if gate.Prepared(e, g.ID) != nil {
		t.Fatal("deleted gate still prepared")
	}
}

// TestFlowRecordsInternalCaller checks that the call log and the call's
// log line hold an internal caller as dialled.
func TestFlowRecordsInternalCaller(t *testing.T) {
	h := mustHasher(t)
	e, st := newEngine(t, h, nil, staticGate(h, "4711"))
	var logs strings.Builder
	f := gate.NewFlow(e, gate.FlowConfig{Log: st, Counters: st, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	rec := f.Run(context.Background(), call("201", typed("4711")))
	if rec.Caller != "201" || rec.CallerRaw != "201" {
		t.Fatalf("call record caller %q (raw %q), want 201", rec.Caller, rec.CallerRaw)
	}
	if calls := st.Calls(); len(calls) != 1 || calls[0].Caller != "201" {
		t.Fatalf("call log %+v", calls)
	}
	if !strings.Contains(logs.String(), "caller=201 ") || strings.Contains(logs.String(), "+49201") {
		t.Errorf("log line does not hold the caller as dialled:\n%s", logs.String())
	}
}
