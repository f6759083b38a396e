package e2e_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/internal/e2e"
)

// pinDatabase is the PIN the database query answers with (8 digits, not
// starting with 1, 7 or 9, as the other PINs of these tests).
const pinDatabase = "60428135"

// TestE2EDatabaseIdent runs the real `vipgate serve` against a real
// Asterisk with a gate in database mode, created through the admin API,
// whose query reads a table in the test PostgreSQL: a caller the table
// asks for a PIN passes with the right PIN and is turned away with a
// wrong one, a caller the table rejects is rejected, a caller without a
// row follows unknown_caller (pass), and a query that outlasts the
// gate's timeout follows the failure policy — each through ARI and
// through FastAGI. Neither the PIN nor the DSN reaches a log.
func TestE2EDatabaseIdent(t *testing.T) {
	e2e.ConfigFromEnv(t)
	dsn := os.Getenv(e2e.EnvPostgres)
	if dsn == "" {
		t.Skipf("set %s to run database identification against a real PostgreSQL", e2e.EnvPostgres)
	}
	crm := e2e.FreshPostgres(t, dsn)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, crm)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, `CREATE TABLE vip (number text PRIMARY KEY, action text NOT NULL, pin text, slow boolean NOT NULL DEFAULT false)`); err != nil {
		t.Fatal(err)
	}
	// Callers by transport: ARI 5559xx, FastAGI 5558xx.
	for _, prefix := range []string{"55590", "55580"} {
		for _, row := range [][]any{
			{prefix + "1", "askForPin", pinDatabase, false}, // right PIN
			{prefix + "2", "askForPin", pinDatabase, false}, // wrong PIN
			{prefix + "3", "reject", nil, false},
			{prefix + "5", "pass", nil, true}, // slower than the timeout
		} {
			if _, err := conn.Exec(ctx, `INSERT INTO vip VALUES ($1, $2, $3, $4)`, row...); err != nil {
				t.Fatal(err)
			}
		}
	}

	r := startRealbin(t, "")
	g := map[string]any{
		"id": "crm-db", "name": "CRM database", "enabled": true,
		"match":      map[string]any{"numbers": []string{"6900"}},
		"activation": map[string]any{"mode": "always"},
		"identification": map[string]any{"mode": "database", "region": "DE", "unknown_caller": "pass", "database": map[string]any{
			"dsn":     crm,
			"query":   "SELECT action, pin FROM vip, pg_sleep(CASE WHEN slow THEN 3 ELSE 0 END) WHERE number = :caller",
			"timeout": "1s",
		}},
		"dialogue": map[string]any{"max_retries": 1, "min_digits": 4, "max_digits": 8, "first_digit_timeout": "5s", "inter_digit_timeout": "3s"},
		"routes":   map[string]any{"forward_context": "staff", "on_correct": "continue", "on_incorrect": "hangup:busy", "reject": map[string]any{"cause": "busy", "announce": true}},
		"failure":  map[string]any{"action": "forward", "target": "9999"},
		"lockout":  map[string]any{},
	}
	body, _ := json.Marshal(g)
	code, out, err := r.vg.API(http.MethodPost, "/api/v1/gates", "application/json", body)
	if err != nil || code != http.StatusCreated {
		t.Fatalf("create the database gate: %d %s %v", code, out, err)
	}
	if strings.Contains(out, crm) || !strings.Contains(out, `"dsn":"[redacted]"`) {
		t.Errorf("the API shows the DSN: %s", out)
	}

	var runs []namedRun
	for tr, prefix := range map[string]string{"ari": "55590", "agi": "55580"} {
		for _, tt := range []callCase{
			{name: "askForPin right", caller: prefix + "1", exten: "6900", dtmf: pinDatabase + "#",
				kind: "continue", arg: "6900", outcome: gate.OutcomePINOK},
			{name: "askForPin wrong", caller: prefix + "2", exten: "6900", dtmf: pinWrong + "#",
				kind: "hangup", cause: "17", outcome: gate.OutcomePINFailed},
			{name: "reject, announced", caller: prefix + "3", exten: "6900",
				kind: "hangup", cause: "17", outcome: gate.OutcomeRejected, played: "vipgate/rejected"},
			{name: "no row: unknown_caller pass", caller: prefix + "4", exten: "6900",
				kind: "continue", arg: "6900", outcome: gate.OutcomePassed},
			{name: "statement timeout: failure policy", caller: prefix + "5", exten: "6900",
				kind: "forward", arg: "9999", outcome: gate.OutcomeFailed, class: "timeout"},
		} {
			runs = append(runs, namedRun{tr + "/" + tt.name, func() []string { return r.call(tr, tt) }})
		}
	}
	r.runAll(t, runs...)

	// explain through the API shows the query's verdict, never the PIN.
	code, out, err = r.vg.API(http.MethodPost, "/api/v1/explain", "application/json", []byte(`{"gate":"crm-db","caller":"555901","called":"6900"}`))
	if err != nil || code != http.StatusOK || !strings.Contains(out, `"mode":"database"`) || !strings.Contains(out, "answered askForPin") || strings.Contains(out, pinDatabase) {
		t.Errorf("explain: %d %v\n%s", code, err, out)
	}
	_, metrics, err := r.vg.Metrics()
	if err != nil || !strings.Contains(metrics, `vipgate_database_errors_total{class="timeout",gate="crm-db"}`) || !strings.Contains(metrics, `vipgate_database_seconds_count{gate="crm-db"}`) {
		t.Errorf("metrics lack the database series (%v)", err)
	}
	for _, path := range []string{r.vg.Log, r.vg.CLILog} {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, secret := range []string{pinDatabase, crm} {
			if i := strings.Index(string(b), secret); i >= 0 {
				t.Errorf("%s holds %q: …%s…", path, secret, string(b)[max(0, i-120):min(len(b), i+40)])
			}
		}
	}
}
