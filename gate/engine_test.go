package gate_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/gate/gatetest"
)

type fakeAuth struct {
	ans gate.AuthAnswer
	err error
	got gate.AuthRequest
}

func (f *fakeAuth) Authorize(ctx context.Context, g *gate.Gate, req gate.AuthRequest) (gate.AuthAnswer, error) {
	f.got = req
	return f.ans, f.err
}

type classErr struct{ class string }

func (e classErr) Error() string      { return "webhook failed: " + e.class }
func (e classErr) ErrorClass() string { return e.class }

// newEngine returns an Engine (region DE; auth may be nil) over a fresh
// in-memory store that holds gates, and that store.
func newEngine(t testing.TB, h *gate.Hasher, auth gate.Authorizer, gates ...*gate.Gate) (*gate.Engine, *gatetest.Store) {
	t.Helper()
	st := gatetest.NewStore()
	for _, g := range gates {
		if err := st.CreateGate(context.Background(), g); err != nil {
			t.Fatal(err)
		}
	}
	return gate.NewEngine(gate.EngineConfig{Store: st, Hasher: h, Authorizer: auth, Region: "DE"}), st
}

// gateOf is the ID of the gate d selected, "" for none.
func gateOf(d *gate.Decision) string {
	if d.Gate == nil {
		return ""
	}
	return d.Gate.ID
}

func webhookGate(h *gate.Hasher, policy gate.FailureAction) *gate.Gate {
	g := staticGate(h, "4711")
	g.Identification.Mode = gate.IdentWebhook
	g.Identification.Webhook = &gate.WebhookConfig{URL: "http://127.0.0.1:1/decide"}
	g.Failure = gate.FailurePolicy{Action: policy}
	return g
}

func TestDecideWebhook(t *testing.T) {
	h := mustHasher(t)
	ctx := context.Background()
	now := time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC)
	ext := func(x string) gate.Target { return gate.Target{Kind: gate.TargetExtension, Exten: x, Priority: 1} }
	tests := []struct {
		name        string
		ans         gate.AuthAnswer
		err         error
		policy      gate.FailureAction
		wantVerdict gate.Verdict
		wantTarget  string
		wantCorrect string
		wantWrong   string
		wantRetries int
		wantClass   string
	}{
		{name: "askForPin full", ans: gate.AuthAnswer{Kind: gate.AnswerAskPIN, PIN: "9090", OnCorrect: ext("100"), OnIncorrect: ext("120"), MaxRetries: 2},
			wantVerdict: gate.VerdictAskPIN, wantCorrect: "staff,100,1", wantWrong: "staff,120,1", wantRetries: 2},
		{name: "askForPin defaults", ans: gate.AuthAnswer{Kind: gate.AnswerAskPIN, PIN: "9090"},
			wantVerdict: gate.VerdictAskPIN, wantCorrect: "continue", wantWrong: "hangup:busy", wantRetries: 3},
		{name: "askForPin retries bounded", ans: gate.AuthAnswer{Kind: gate.AnswerAskPIN, PIN: "9090", MaxRetries: 99},
			wantVerdict: gate.VerdictAskPIN, wantCorrect: "continue", wantWrong: "hangup:busy", wantRetries: 10},
		{name: "reject true", ans: gate.AuthAnswer{Kind: gate.AnswerReject}, wantVerdict: gate.VerdictReject, wantTarget: "hangup:busy"},
		{name: "reject false", ans: gate.AuthAnswer{Kind: gate.AnswerPass}, wantVerdict: gate.VerdictPass, wantTarget: "continue"},
		{name: "forward", ans: gate.AuthAnswer{Kind: gate.AnswerForward, Forward: ext("123")}, wantVerdict: gate.VerdictForward, wantTarget: "staff,123,1"},
		{name: "error reject", err: classErr{"timeout"}, policy: gate.FailReject, wantVerdict: gate.VerdictReject, wantTarget: "hangup:busy", wantClass: "timeout"},
		{name: "error pass", err: classErr{"syntax"}, policy: gate.FailPass, wantVerdict: gate.VerdictPass, wantTarget: "continue", wantClass: "syntax"},
		{name: "error static", err: classErr{"status"}, policy: gate.FailStatic, wantVerdict: gate.VerdictAskPIN, wantCorrect: "continue", wantWrong: "hangup:busy", wantRetries: 3, wantClass: "status"},
		{name: "error table, unknown caller", err: classErr{"network"}, policy: gate.FailTable, wantVerdict: gate.VerdictReject, wantTarget: "hangup:busy", wantClass: "network"},
		{name: "askForPin without PIN", ans: gate.AuthAnswer{Kind: gate.AnswerAskPIN}, policy: gate.FailPass, wantVerdict: gate.VerdictPass, wantTarget: "continue", wantClass: "answer"},
		{name: "askForPin with a PIN that is not digits", ans: gate.AuthAnswer{Kind: gate.AnswerAskPIN, PIN: "12ab"}, policy: gate.FailReject, wantVerdict: gate.VerdictReject, wantTarget: "hangup:busy", wantClass: "answer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fa := &fakeAuth{ans: tt.ans, err: tt.err}
			e, _ := newEngine(t, h, fa, webhookGate(h, tt.policy))
			d := e.Decide(ctx, gate.CallInfo{Caller: "017612345678", Called: "1000"}, now)
			if d.Verdict != tt.wantVerdict {
				t.Fatalf("verdict %s, want %s; trace %v", d.Verdict, tt.wantVerdict, d.Trace)
			}
			if fa.got.Caller != "+4917612345678" {
				t.Errorf("webhook asked about caller %q, want E.164", fa.got.Caller)
			}
			if tt.wantTarget != "" && d.Target.String() != tt.wantTarget {
				t.Errorf("target %s, want %s", d.Target, tt.wantTarget)
			}
			if tt.wantVerdict == gate.VerdictAskPIN {
				a := d.AskPIN
				if a.OnCorrect.String() != tt.wantCorrect || a.OnIncorrect.String() != tt.wantWrong || a.MaxRetries != tt.wantRetries {
					t.Errorf("askPIN correct %s wrong %s retries %d", a.OnCorrect, a.OnIncorrect, a.MaxRetries)
				}
			}
			if d.ErrClass != tt.wantClass {
				t.Errorf("error class %q, want %q", d.ErrClass, tt.wantClass)
			}
			if tt.ans.PIN != "" && strings.Contains(fmt.Sprint(d.Trace), string(tt.ans.PIN)) {
				t.Errorf("trace reveals the webhook PIN: %v", d.Trace)
			}
		})
	}
}

func TestDecideWebhookPINMatches(t *testing.T) {
	h := mustHasher(t)
	st := gatetest.NewStore()
	if err := st.CreateGate(context.Background(), webhookGate(h, gate.FailReject)); err != nil {
		t.Fatal(err)
	}
	e := gate.NewEngine(gate.EngineConfig{Store: st, Hasher: h, Authorizer: &fakeAuth{ans: gate.AuthAnswer{Kind: gate.AnswerAskPIN, PIN: "0042"}}})
	d := e.Decide(context.Background(), gate.CallInfo{Caller: "+4917612345678", Called: "1000"}, time.Now())
	for digits, want := range map[string]bool{"0042": true, "42": false, "00420": false, "": false} {
		if got := d.AskPIN.Expected.Match(digits); got != want {
			t.Errorf("Match(%q) = %v, want %v", digits, got, want)
		}
	}
}

func TestDecideGateSelection(t *testing.T) {
	h := mustHasher(t)
	ctx := context.Background()
	a := staticGate(h, "1111")
	a.ID, a.Match = "a", gate.Match{Numbers: []string{"+4971112345*"}, Names: []string{"hotline"}}
	b := staticGate(h, "1111")
	b.ID, b.Match = "b", gate.Match{Numbers: []string{"+49711*"}}
	c := staticGate(h, "1111")
	c.ID, c.Match, c.Enabled = "c", gate.Match{Numbers: []string{"1000"}}, false
	d := staticGate(h, "1111")
	d.ID, d.Match = "d", gate.Match{Numbers: []string{"2000"}}
	e, _ := newEngine(t, h, nil, a, b, c, d)
	tests := []struct{ name, gateName, called, want string }{
		{"by name", "hotline", "999", "a"},
		{"by id", "d", "", "d"},
		{"unknown name falls back to number", "nope", "2000", "d"},
		{"longest prefix", "", "+497111234567", "a"},
		{"national form of prefix", "", "07119999", "b"},
		{"disabled gate ignored", "", "1000", ""},
		{"disabled gate named: no other gate steps in", "c", "2000", ""},
		{"name in upper case", "D", "", "d"},
		{"no gate", "", "3000", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dec := e.Decide(ctx, gate.CallInfo{Caller: "+4917612345678", Called: tt.called, GateName: tt.gateName}, time.Now())
			if got := gateOf(dec); got != tt.want {
				t.Fatalf("gate %q, want %q; trace %v", got, tt.want, dec.Trace)
			}
			if tt.want == "" && dec.Verdict != gate.VerdictPass {
				t.Errorf("no gate: verdict %s, want pass", dec.Verdict)
			}
		})
	}
}

func TestDecideOverride(t *testing.T) {
	h := mustHasher(t)
	ctx := context.Background()
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name       string
		mode       gate.ActivationMode
		o          *gate.Override
		wantActive bool
	}{
		{"no override", gate.ActiveNever, nil, false},
		{"forced active", gate.ActiveNever, &gate.Override{Active: true, Reason: "storm"}, true},
		{"forced inactive", gate.ActiveAlways, &gate.Override{Active: false}, false},
		{"expired override", gate.ActiveNever, &gate.Override{Active: true, Until: now.Add(-time.Minute)}, false},
		{"override until later", gate.ActiveNever, &gate.Override{Active: true, Until: now.Add(time.Minute)}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := gatetest.NewStore()
			g := staticGate(h, "4711")
			g.Activation.Mode = tt.mode
			if err := st.CreateGate(ctx, g); err != nil {
				t.Fatal(err)
			}
			if err := st.SetOverride(ctx, g.ID, tt.o); err != nil {
				t.Fatal(err)
			}
			d := gate.NewEngine(gate.EngineConfig{Store: st, Hasher: h}).Decide(ctx, gate.CallInfo{Called: "1000"}, now)
			if d.Active != tt.wantActive {
				t.Fatalf("active %v, want %v; trace %v", d.Active, tt.wantActive, d.Trace)
			}
		})
	}
}

func TestDecideTableFailureTwiceRejects(t *testing.T) {
	// A webhook gate whose failure policy is the table, with the store
	// failing on the lookup: the engine must not loop and must reject.
	h := mustHasher(t)
	st := gatetest.NewStore()
	if err := st.CreateGate(context.Background(), webhookGate(h, gate.FailTable)); err != nil {
		t.Fatal(err)
	}
	e := gate.NewEngine(gate.EngineConfig{Store: st, Hasher: h, Authorizer: &fakeAuth{err: classErr{"timeout"}}})
	e.Decide(context.Background(), gate.CallInfo{Called: "1000"}, time.Now()) // prime last-known gates
	st.SetErr(errors.New("down"))
	d := e.Decide(context.Background(), gate.CallInfo{Caller: "+4917612345678", Called: "1000"}, time.Now())
	if d.Verdict != gate.VerdictReject || d.Err == nil {
		t.Fatalf("verdict %s err %v, want reject with an error", d.Verdict, d.Err)
	}
}

func TestExplainTrace(t *testing.T) {
	h := mustHasher(t)
	g := staticGate(h, "4711")
	g.Identification.Mode = gate.IdentTable
	ctx := context.Background()
	e, st := newEngine(t, h, nil, g)
	if err := st.PutEntry(ctx, &gate.Entry{GateID: g.ID, Pattern: "+49711*", Label: "Stuttgart office", PIN: h.Hash("2468")}); err != nil {
		t.Fatal(err)
	}
	d := e.Explain(ctx, "", "0711 555 1234", "1000", time.Now())
	text := fmt.Sprint(d.Trace)
	for _, want := range []string{`raw "0711 555 1234" → +497115551234`, "entry #1 +49711* (Stuttgart office)", "ask for the PIN"} {
		if !strings.Contains(text, want) {
			t.Errorf("trace lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "2468") {
		t.Errorf("trace reveals the PIN")
	}
}
