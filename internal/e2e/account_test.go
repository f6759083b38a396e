package e2e_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/internal/e2e"
)

// PINs of the account test (as the real-binary PINs: none in a log may
// be a coincidence).
const (
	accountNumber = "40862"
	pinAccount    = "62084053"
)

// TestE2EAccountNumber runs the real `vipgate serve` against a real
// Asterisk: a caller who withholds the number reaches a table gate with
// withheld: account, types an account number and that account's PIN,
// and passes with the account's label and code; the same account with a
// wrong PIN is rejected. Both through ARI and through FastAGI. The gate and
// the account are written through the admin API.
func TestE2EAccountNumber(t *testing.T) {
	e2e.ConfigFromEnv(t)
	r := startRealbin(t, "")
	gateJSON := `{"id": "account", "name": "Accounts", "enabled": true,
	  "match": {"numbers": ["6900"]}, "activation": {"mode": "always"},
	  "identification": {"mode": "table", "unknown_caller": "reject", "withheld": "account", "region": "DE"},
	  "dialogue": {"max_retries": 1, "min_digits": 4, "max_digits": 8, "first_digit_timeout": "6s", "inter_digit_timeout": "3s"},
	  "routes": {"forward_context": "staff", "on_correct": "continue", "on_incorrect": "hangup:busy", "reject": {"cause": "busy"}}}`
	if code, body, err := r.vg.API(http.MethodPost, "/api/v1/gates", "application/json", []byte(gateJSON)); err != nil || code != http.StatusCreated {
		t.Fatalf("create gate: %d %s %v", code, body, err)
	}
	acct := fmt.Sprintf(`{"number": %q, "pin": %q, "label": "Anna", "priority": 5, "account_code": "CUST-40862"}`, accountNumber, pinAccount)
	if code, body, err := r.vg.API(http.MethodPost, "/api/v1/gates/account/accounts", "application/json", []byte(acct)); err != nil || code != http.StatusCreated {
		t.Fatalf("create account: %d %s %v", code, body, err)
	}
	// The account number during ask-account (barge-in), a pause, then
	// the PIN during ask-pin.
	dial := func(pin string) string { return accountNumber + "#wwww" + pin + "#" }
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			for _, tc := range []struct {
				name, dtmf, kind, cause, label, acct string
				outcome                              gate.Outcome
			}{
				{"right PIN", dial(pinAccount), "continue", "", "Anna", "CUST-40862", gate.OutcomePINOK},
				{"wrong PIN", dial(pinWrong), "hangup", "17", "", "", gate.OutcomePINFailed},
			} {
				t.Run(tc.name, func(t *testing.T) {
					id := r.id()
					since := time.Now().Add(-time.Second)
					ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
					defer cancel()
					spec := e2e.CallSpec{ID: id, Caller: "anonymous", Exten: "6900", DTMF: tc.dtmf, PreWait: 1500 * time.Millisecond, Hold: 20 * time.Second}
					if err := r.place(ctx, tr, spec); err != nil {
						t.Fatal(err)
					}
					res, err := r.ast.WaitResult(ctx, id)
					if err != nil {
						t.Fatal(err)
					}
					if res.Kind != tc.kind || res.Fields["result"] != string(tc.outcome) || (tc.cause != "" && res.Fields["cause"] != tc.cause) {
						t.Errorf("call ended %q, want %s cause=%s result=%s", res.Line, tc.kind, tc.cause, tc.outcome)
					}
					if tc.kind == "continue" && (res.Fields["label"] != tc.label || res.Fields["acct"] != tc.acct || res.Fields["prio"] != "5") {
						t.Errorf("dialplan variables %q, want label=%s prio=5 acct=%s", res.Line, tc.label, tc.acct)
					}
					if err := r.ast.WaitLogMatch(ctx, playing(id, "vipgate/ask-account")); err != nil {
						t.Errorf("ask-account was not played: %v", err)
					}
					if err := r.ast.WaitLogMatch(ctx, playing(id, "vipgate/ask-pin")); err != nil {
						t.Errorf("ask-pin was not played: %v", err)
					}
					rec, err := accountCall(ctx, r.vg, since)
					if err != nil {
						t.Fatal(err)
					}
					if rec.Source != tr || rec.GateID != "account" || rec.Mode != gate.IdentAccount || rec.Outcome != tc.outcome || rec.Caller != "" {
						t.Errorf("call log: source %s gate %s mode %s outcome %s caller %q; want %s account account %s \"\"",
							rec.Source, rec.GateID, rec.Mode, rec.Outcome, rec.Caller, tr, tc.outcome)
					}
				})
			}
		})
	}
	// No typed PIN reaches vipgate's log.
	logText, err := os.ReadFile(r.vg.Log)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{pinAccount, pinWrong} {
		if strings.Contains(string(logText), secret) {
			t.Errorf("vipgate's log holds a typed PIN")
		}
	}
}

// accountCall waits for the call-log row of the account gate's call that
// arrived after since (the calls run one after the other).
func accountCall(ctx context.Context, vg *e2e.Serve, since time.Time) (*gate.CallRecord, error) {
	for {
		rows, err := vg.Calls()
		if err == nil {
			for _, rec := range rows {
				if rec.GateID == "account" && rec.At.After(since) {
					return rec, nil
				}
			}
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("no call-log row of the account gate since %s (%v): %w", since, err, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}
