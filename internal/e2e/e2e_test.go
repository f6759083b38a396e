package e2e_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/internal/e2e"
)

func dialogue() gate.Dialogue {
	return gate.Dialogue{MaxRetries: 3, MinDigits: 4, MaxDigits: 8, FirstDigitTimeout: gate.Duration(4 * time.Second), InterDigitTimeout: gate.Duration(3 * time.Second)}
}

func routes() gate.Routes {
	return gate.Routes{ForwardContext: "staff", OnCorrect: gate.Continue, OnIncorrect: gate.Hangup(gate.CauseBusy), Reject: gate.RejectStyle{Cause: gate.CauseBusy}}
}

func testGates(h *gate.Hasher) []*gate.Gate {
	pin := h.Hash("4711")
	static := func(id, number string) *gate.Gate {
		return &gate.Gate{
			ID: id, Enabled: true, Match: gate.Match{Numbers: []string{number}},
			Activation:     gate.Activation{Mode: gate.ActiveAlways},
			Identification: gate.Identification{Mode: gate.IdentStatic, StaticPIN: &pin, Region: "DE"},
			Dialogue:       dialogue(), Routes: routes(),
			Failure: gate.FailurePolicy{Action: gate.FailReject},
		}
	}
	table := static("table", "2000")
	table.Identification = gate.Identification{Mode: gate.IdentTable, UnknownCaller: gate.UnknownReject, Region: "DE"}
	inactive := static("inactive", "3000")
	inactive.Activation = gate.Activation{Mode: gate.ActiveNever}
	forward := static("forward", "4000")
	forward.Routes.OnCorrect = gate.Target{Kind: gate.TargetExtension, Exten: "9000", Priority: 1}
	barge := static("barge", "5000")
	barge.Prompts = gate.Prompts{gate.PromptAskPIN: "vipgate/long-ask"}
	// A closure that covers every day, with its own announcement and
	// route: the caller hears it and goes to 9000 without a PIN.
	closed := static("closed", "6000")
	closed.Activation = gate.Activation{Mode: gate.ActiveSchedule, Schedule: &gate.Schedule{
		TimeZone: "Europe/Berlin", Active: gate.Outside, Windows: []gate.Window{{From: "00:00", To: "24:00"}},
		Closures: []gate.Closure{{Name: "Christmas", Date: "01-01", Until: "12-31", Yearly: true,
			ClosureAction: gate.ClosureAction{Announce: "vipgate/closed-holiday", Route: gate.Target{Kind: gate.TargetExtension, Exten: "9000", Priority: 1}}}},
	}}
	// The static gate also takes this month's code of its PIN set; last
	// month's no longer works.
	st := static("static", "1000")
	st.Identification.PINSet = []gate.SetPIN{
		{Label: "Monthly", PIN: h.Hash("8642"), Account: "ACC7", ValidFrom: time.Now().Add(-24 * time.Hour), ValidUntil: time.Now().Add(24 * time.Hour)},
		{Label: "Expired", PIN: h.Hash("9753"), ValidUntil: time.Now().Add(-time.Hour)},
	}
	return []*gate.Gate{st, table, inactive, forward, barge, closed}
}

// closureOf is the closure the call log names for a call to exten.
func closureOf(exten string) string {
	if exten == "6000" {
		return `closure "Christmas"`
	}
	return ""
}

// kindEntries are the entries of the table and static gates: a PIN entry,
// and for each transport's callers (prefix p, "1" for ARI, "3" for
// FastAGI) a deny prefix with an allow entry under it, an allow entry with
// label and priority, an allow prefix with its own target, and a deny
// prefix on the static gate.
func kindEntries(h *gate.Hasher, p string) []*gate.Entry {
	nine := gate.Target{Kind: gate.TargetExtension, Exten: "9000", Priority: 1}
	return []*gate.Entry{
		{GateID: "table", Pattern: "+4917612345678", PIN: h.Hash("2580")},
		{GateID: "table", Pattern: "+49151000" + p + "1*", Kind: gate.EntryDeny, Label: "blocked"},
		{GateID: "table", Pattern: "+49151000" + p + "1200", Kind: gate.EntryAllow, Label: "Hidden"},
		{GateID: "table", Pattern: "+49151000" + p + "4000", Kind: gate.EntryAllow, Label: "Anna", Priority: 7},
		{GateID: "table", Pattern: "+49151000" + p + "2*", Kind: gate.EntryAllow, Label: "Desk", Target: nine},
		{GateID: "static", Pattern: "+49151000" + p + "3*", Kind: gate.EntryDeny},
	}
}

func TestE2EARI(t *testing.T) {
	cfg := e2e.ConfigFromEnv(t)
	ast := e2e.Start(t, cfg)
	// A prompt long enough that only barge-in lets a caller through quickly.
	if err := ast.WritePrompt("long-ask", 25*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := ast.WritePrompt("closed-holiday", 500*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	h, err := gate.NewHasher(e2e.HasherKey)
	if err != nil {
		t.Fatal(err)
	}
	vg := e2e.StartVipgate(t, ast, testGates(h), kindEntries(h, "1"), nil)

	tests := []struct {
		name     string
		call     e2e.CallSpec
		kind     string // first dialplan result
		arg      string // extension for continue/forward
		fields   map[string]string
		outcome  gate.Outcome
		attempts int
		answered bool
	}{
		{"static PIN right", e2e.CallSpec{ID: "101", Caller: "5550101", Exten: "1000", DTMF: "4711#"},
			"continue", "1000", map[string]string{"status": "SUCCESS", "result": "pin_ok"}, gate.OutcomePINOK, 1, true},
		{"static PIN wrong then right", e2e.CallSpec{ID: "102", Caller: "5550102", Exten: "1000", DTMF: "1111#wwww4711#"},
			"continue", "1000", map[string]string{"result": "pin_ok"}, gate.OutcomePINOK, 2, true},
		{"static PIN all wrong", e2e.CallSpec{ID: "103", Caller: "5550103", Exten: "1000", DTMF: "1111#ww2222#ww3333#"},
			"hangup", "", map[string]string{"cause": "17", "result": "pin_failed"}, gate.OutcomePINFailed, 3, true},
		{"table known caller, national format", e2e.CallSpec{ID: "104", Caller: "017612345678", Exten: "2000", DTMF: "2580#"},
			"continue", "2000", map[string]string{"result": "pin_ok"}, gate.OutcomePINOK, 1, true},
		{"table unknown caller rejected busy", e2e.CallSpec{ID: "105", Caller: "+4915100000105", Exten: "2000"},
			"hangup", "", map[string]string{"cause": "17", "result": "rejected"}, gate.OutcomeRejected, 0, false},
		{"inactive gate passes unanswered", e2e.CallSpec{ID: "106", Caller: "5550106", Exten: "3000"},
			"continue", "3000", map[string]string{"status": "SUCCESS", "result": "passed"}, gate.OutcomePassed, 0, false},
		{"forward to target extension", e2e.CallSpec{ID: "107", Caller: "5550107", Exten: "4000", DTMF: "4711#"},
			"forward", "9000", map[string]string{"result": "pin_ok"}, gate.OutcomePINOK, 1, true},
		{"caller hangs up while typing", e2e.CallSpec{ID: "108", Caller: "5550108", Exten: "1000", DTMF: "47", Hold: time.Second},
			"hangup", "", map[string]string{"cause": "16"}, gate.OutcomeAbandoned, 1, true},
		{"digits typed during the prompt", e2e.CallSpec{ID: "109", Caller: "5550109", Exten: "5000", DTMF: "4711#", PreWait: 1500 * time.Millisecond},
			"continue", "5000", map[string]string{"result": "pin_ok"}, gate.OutcomePINOK, 1, true},
		{"closure announcement and route", e2e.CallSpec{ID: "110", Caller: "5550110", Exten: "6000"},
			"forward", "9000", map[string]string{"result": "forwarded"}, gate.OutcomeForwarded, 0, true},
		// Entry kinds: the deny prefix +4915100011* beats the longer allow
		// entry +4915100011200; allow entries pass unanswered with label
		// and priority; a deny entry works on a static gate too.
		{"deny entry rejects without a PIN", e2e.CallSpec{ID: "111", Caller: "+4915100011999", Exten: "2000"},
			"hangup", "", map[string]string{"cause": "17", "result": "denied"}, gate.OutcomeDenied, 0, false},
		{"deny prefix beats a longer allow entry", e2e.CallSpec{ID: "112", Caller: "+4915100011200", Exten: "2000"},
			"hangup", "", map[string]string{"cause": "17", "result": "denied"}, gate.OutcomeDenied, 0, false},
		{"allow entry passes with label and priority", e2e.CallSpec{ID: "113", Caller: "+4915100014000", Exten: "2000"},
			"continue", "2000", map[string]string{"status": "SUCCESS", "result": "passed", "label": "Anna", "prio": "7"}, gate.OutcomePassed, 0, false},
		{"allow entry to its own target", e2e.CallSpec{ID: "114", Caller: "+4915100012555", Exten: "2000"},
			"forward", "9000", map[string]string{"result": "forwarded", "label": "Desk", "prio": ""}, gate.OutcomeForwarded, 0, false},
		{"deny entry on a static gate", e2e.CallSpec{ID: "115", Caller: "+4915100013555", Exten: "1000", DTMF: "4711#"},
			"hangup", "", map[string]string{"cause": "17", "result": "denied"}, gate.OutcomeDenied, 0, false},
		{"PIN set: this month's code", e2e.CallSpec{ID: "116", Caller: "5550116", Exten: "1000", DTMF: "8642#"},
			"continue", "1000", map[string]string{"status": "SUCCESS", "result": "pin_ok", "label": "Monthly", "acct": "ACC7"}, gate.OutcomePINOK, 1, true},
		{"PIN set: an expired code is wrong", e2e.CallSpec{ID: "117", Caller: "5550117", Exten: "1000", DTMF: "9753#ww9753#ww9753#"},
			"hangup", "", map[string]string{"cause": "17", "result": "pin_failed"}, gate.OutcomePINFailed, 3, true},
	}
	t.Run("calls", func(t *testing.T) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				// 20s is well below the 25s barge-in prompt and the 30s hold.
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer cancel()
				if _, err := ast.Originate(ctx, tt.call); err != nil {
					t.Fatal(err)
				}
				r, err := ast.WaitResult(ctx, tt.call.ID)
				if err != nil {
					t.Fatal(err)
				}
				if r.Kind != tt.kind || r.Arg != tt.arg {
					t.Errorf("ended %q (%s), want %s %s", r.Kind, r.Line, tt.kind, tt.arg)
				}
				for k, v := range tt.fields {
					if r.Fields[k] != v {
						t.Errorf("%s = %q, want %q (%s)", k, r.Fields[k], v, r.Line)
					}
				}
				rec, err := vg.WaitCall(ctx, func(r *gate.CallRecord) bool { return r.CallerRaw == tt.call.Caller })
				if err != nil {
					t.Fatalf("no call-log row: %v", err)
				}
				if rec.Outcome != tt.outcome || rec.Attempts != tt.attempts || rec.Source != "ari" || rec.Called != tt.call.Exten {
					t.Errorf("call log: outcome %s attempts %d source %s called %s; want %s %d ari %s", rec.Outcome, rec.Attempts, rec.Source, rec.Called, tt.outcome, tt.attempts, tt.call.Exten)
				}
				if wantClosure := closureOf(tt.call.Exten); rec.Closure != wantClosure {
					t.Errorf("call log closure %q, want %q", rec.Closure, wantClosure)
				}
				// A Local channel enters Stasis already Up, so vipgate never
				// needs to answer here; what can be checked is that it does
				// not try for calls it must not answer. (That a Ring-state
				// channel is answered only for the PIN dialogue is checked
				// against the fake Asterisk.)
				answer := "POST /ari/channels/" + rec.ChannelID + "/answer"
				if !tt.answered && slices.Contains(vg.Requests.All(), answer) {
					t.Error("answer sent for a call that must not be answered")
				}
			})
		}
	})
	t.Run("nothing left parked", func(t *testing.T) {
		// Runs after every call above has finished.
		app, err := ast.Client.GetApplication(context.Background(), "vipgate")
		if err != nil {
			t.Fatal(err)
		}
		if len(app.ChannelIDs) != 0 {
			t.Errorf("channels still in Stasis: %v", app.ChannelIDs)
		}
		// Asterisk sends the application only the events vipgate uses.
		var allowed []string
		for _, et := range app.EventsAllowed {
			allowed = append(allowed, et.Type)
		}
		if !slices.Contains(allowed, "StasisStart") || !slices.Contains(allowed, "ChannelDtmfReceived") || slices.Contains(allowed, "ChannelVarset") {
			t.Errorf("the application's event filter allows %v; want the events vipgate uses, without ChannelVarset", allowed)
		}
		batches := 0
		for _, r := range vg.Requests.All() {
			if strings.Contains(r, "api_key") {
				t.Errorf("request with credentials in the URL: %s", r)
			}
			// Asterisk 22.10 sets a call's variables in one request.
			if strings.HasPrefix(r, "POST ") && strings.HasSuffix(r, "/variable") {
				t.Errorf("a variable set in a request of its own: %s", r)
			}
			if strings.HasPrefix(r, "POST ") && strings.HasSuffix(r, "/variables") {
				batches++
			}
		}
		if batches < len(tests)-1 {
			t.Errorf("%d requests setting variables for %d calls", batches, len(tests))
		}
	})
}
