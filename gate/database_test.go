package gate_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/gate/gatetest"
)

func TestParseDatabaseQuery(t *testing.T) {
	tests := []struct {
		name, q string
		sql     string
		params  []string
		err     string // part of the error; "" for none
	}{
		{"named parameters become positional", "SELECT action, pin FROM vip WHERE number = :caller_e164 AND did = :called",
			"SELECT action, pin FROM vip WHERE number = $1 AND did = $2", []string{"caller_e164", "called"}, ""},
		{"a name used twice keeps its number", "select 'pass' as action where :caller = :caller or :gate = 'x';",
			"select 'pass' as action where $1 = $1 or $2 = 'x'", []string{"caller", "gate"}, ""},
		{"casts, strings, identifiers and comments are not parameters",
			"WITH c AS (SELECT :caller::text AS n) -- :nope\nSELECT ':nope' AS \"a:nope\", $$ :nope $$, $t$ :x $t$, E'\\' :nope', n /* :nope /* nested */ :nope */ FROM c",
			"WITH c AS (SELECT $1::text AS n) -- :nope\nSELECT ':nope' AS \"a:nope\", $$ :nope $$, $t$ :x $t$, E'\\' :nope', n /* :nope /* nested */ :nope */ FROM c", []string{"caller"}, ""},
		{"doubled quotes stay inside the literal", "SELECT 'it''s :nope' AS label", "SELECT 'it''s :nope' AS label", nil, ""},
		{"an identifier with $ is no dollar quote", "SELECT a$b FROM t WHERE x = :called", "SELECT a$b FROM t WHERE x = $1", []string{"called"}, ""},
		{"leading comment and parenthesis", "/* lookup */ (SELECT 'reject' AS action)", "/* lookup */ (SELECT 'reject' AS action)", nil, ""},
		{"empty", "  ", "", nil, "is required"},
		{"unknown parameter", "SELECT 1 WHERE :caler = 'x'", "", nil, "unknown parameter :caler"},
		{"positional parameter", "SELECT 1 WHERE x = $1", "", nil, "positional parameter"},
		{"two statements", "SELECT 1; DELETE FROM vip", "", nil, "single statement"},
		{"an update", "UPDATE vip SET pin = '1'", "", nil, "SELECT or WITH"},
		{"a delete after a comment", "-- hi\nDELETE FROM vip", "", nil, "SELECT or WITH"},
		{"unterminated string", "SELECT 'x", "", nil, "unterminated string"},
		{"unterminated comment", "SELECT 1 /* x", "", nil, "unterminated /*"},
		{"unterminated dollar quote", "SELECT $a$ x", "", nil, "unterminated dollar"},
		{"unterminated identifier", `SELECT "x`, "", nil, "unterminated quoted identifier"},
		{"too long", "SELECT '" + strings.Repeat("x", 10001) + "'", "", nil, "at most"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := gate.ParseDatabaseQuery(tt.q)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("ParseDatabaseQuery(%q) error = %v, want one with %q", tt.q, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseDatabaseQuery(%q): %v", tt.q, err)
			}
			if got.SQL != tt.sql || !slices.Equal(got.Params, tt.params) {
				t.Errorf("ParseDatabaseQuery(%q) = %q %v, want %q %v", tt.q, got.SQL, got.Params, tt.sql, tt.params)
			}
		})
	}
	q, _ := gate.ParseDatabaseQuery("SELECT :called, :caller_e164")
	if args := q.Args(map[string]string{"caller_e164": "+49", "called": "100"}); len(args) != 2 || args[0] != "100" || args[1] != "+49" {
		t.Errorf("Args = %v, want the values in parameter order", args)
	}
}

func validDatabaseGate() *gate.Gate {
	return &gate.Gate{
		ID:         "crm-db",
		Activation: gate.Activation{Mode: gate.ActiveAlways},
		Identification: gate.Identification{Mode: gate.IdentDatabase, Database: &gate.DatabaseConfig{
			DSN:   "postgres://vip:s3cret@db.example:5432/crm",
			Query: "SELECT action, pin FROM vip WHERE number = :caller_e164",
		}},
		Failure: gate.FailurePolicy{Action: gate.FailTable},
	}
}

func TestValidateDatabase(t *testing.T) {
	g := validDatabaseGate()
	g.Normalize()
	if err := g.Validate(); err != nil {
		t.Fatalf("valid database gate: %v", err)
	}
	db := g.Identification.Database
	if db.Timeout.D() != gate.DefaultDatabaseTimeout || db.MaxConns != gate.DefaultDatabaseMaxConns || db.BreakerFailures != 5 || db.BreakerCooldown == 0 {
		t.Errorf("defaults not filled in: %+v", db)
	}
	tests := []struct {
		name  string
		edit  func(*gate.Gate)
		field string
	}{
		{"no database section", func(g *gate.Gate) { g.Identification.Database = nil }, "identification.database.query"},
		{"no DSN", func(g *gate.Gate) { g.Identification.Database.DSN = "" }, "identification.database.dsn"},
		{"DSN of another scheme", func(g *gate.Gate) { g.Identification.Database.DSN = "mysql://x@h/db" }, "identification.database.dsn"},
		{"DSN that is neither URL nor settings", func(g *gate.Gate) { g.Identification.Database.DSN = "db.example" }, "identification.database.dsn"},
		{"write statement", func(g *gate.Gate) { g.Identification.Database.Query = "DELETE FROM vip" }, "identification.database.query"},
		{"unknown parameter", func(g *gate.Gate) { g.Identification.Database.Query = "SELECT 1 WHERE :who = 'x'" }, "identification.database.query"},
		{"timeout too long", func(g *gate.Gate) { g.Identification.Database.Timeout = gate.Duration(gate.MaxDatabaseTimeout + 1) }, "identification.database.timeout"},
		{"too many connections", func(g *gate.Gate) { g.Identification.Database.MaxConns = 1000 }, "identification.database.max_conns"},
		{"negative cache", func(g *gate.Gate) { g.Identification.Database.CacheTTL = -1 }, "identification.database.cache_ttl"},
		{"bad unknown_caller", func(g *gate.Gate) { g.Identification.UnknownCaller = "maybe" }, "identification.unknown_caller"},
		{"unknown_caller static without a PIN", func(g *gate.Gate) { g.Identification.UnknownCaller = gate.UnknownStatic }, "identification.unknown_caller"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := validDatabaseGate()
			tt.edit(g)
			g.Normalize()
			err := g.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.field) {
				t.Fatalf("Validate = %v, want an error naming %s", err, tt.field)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("the error %q holds the DSN's password", err)
			}
		})
	}
	// failure.action table is for webhook and database gates only.
	s := validTableGate(t)
	s.Failure = gate.FailurePolicy{Action: gate.FailTable}
	s.Normalize()
	if err := s.Validate(); err == nil || !strings.Contains(err.Error(), "failure.action") {
		t.Errorf("table gate with failure table: %v", err)
	}
}

func TestDatabaseSecrets(t *testing.T) {
	g := validDatabaseGate()
	sealed, err := gate.SealSecrets(g, fakeBox{})
	if err != nil {
		t.Fatal(err)
	}
	if dsn := sealed.Identification.Database.DSN; dsn != "sealed(postgres://vip:s3cret@db.example:5432/crm)" {
		t.Errorf("sealed DSN %q", dsn)
	}
	if g.Identification.Database.DSN != "postgres://vip:s3cret@db.example:5432/crm" {
		t.Error("SealSecrets changed its argument")
	}
	if clear, err := gate.OpenSecrets(sealed, fakeBox{}); err != nil || clear || sealed.Identification.Database.DSN != g.Identification.Database.DSN {
		t.Errorf("OpenSecrets = %v %v, DSN %q", clear, err, sealed.Identification.Database.DSN)
	}
	r := gate.RedactDatabase(g.Identification.Database)
	b, _ := json.Marshal(r)
	if strings.Contains(string(b), "s3cret") || strings.Contains(string(b), "db.example") || r.DSN != gate.Redacted || r.Query == "" {
		t.Errorf("redacted %s: want the DSN replaced as a whole, the query kept", b)
	}
	gate.KeepDatabaseSecrets(r, g.Identification.Database)
	if r.DSN != g.Identification.Database.DSN {
		t.Errorf("kept DSN %q, want the stored one back", r.DSN)
	}
	// A new DSN is not overwritten.
	n := &gate.DatabaseConfig{DSN: "host=other"}
	gate.KeepDatabaseSecrets(n, g.Identification.Database)
	if n.DSN != "host=other" {
		t.Errorf("a written DSN was replaced: %q", n.DSN)
	}
	// The clone shares no pointer.
	c := g.Clone()
	c.Identification.Database.Query = "changed"
	if g.Identification.Database.Query == "changed" {
		t.Error("Clone shares the database config")
	}
}

func databaseGate(h *gate.Hasher, policy gate.FailureAction) *gate.Gate {
	g := staticGate(h, "4711")
	g.Identification.Mode = gate.IdentDatabase
	g.Identification.Database = &gate.DatabaseConfig{DSN: "host=db", Query: "SELECT 'pass' AS action"}
	g.Failure = gate.FailurePolicy{Action: policy}
	return g
}

func TestDecideDatabase(t *testing.T) {
	h := mustHasher(t)
	hashed := gate.HashedPIN{Hasher: h, Hash: h.Hash("8642")}
	tests := []struct {
		name    string
		ans     gate.AuthAnswer
		err     error
		unknown gate.UnknownCaller
		verdict gate.Verdict
		pin     string // a PIN the decision accepts
	}{
		{"clear PIN", gate.AuthAnswer{Kind: gate.AnswerAskPIN, PIN: "97531"}, nil, "", gate.VerdictAskPIN, "97531"},
		{"hashed PIN", gate.AuthAnswer{Kind: gate.AnswerAskPIN, Expected: hashed}, nil, "", gate.VerdictAskPIN, "8642"},
		{"reject", gate.AuthAnswer{Kind: gate.AnswerReject}, nil, "", gate.VerdictReject, ""},
		{"pass", gate.AuthAnswer{Kind: gate.AnswerPass}, nil, "", gate.VerdictPass, ""},
		{"forward", gate.AuthAnswer{Kind: gate.AnswerForward, Forward: mustTarget(t, "200")}, nil, "", gate.VerdictForward, ""},
		{"no row follows unknown_caller reject", gate.AuthAnswer{Kind: gate.AnswerUnknown}, nil, gate.UnknownReject, gate.VerdictReject, ""},
		{"no row follows unknown_caller pass", gate.AuthAnswer{Kind: gate.AnswerUnknown}, nil, gate.UnknownPass, gate.VerdictPass, ""},
		{"no row follows unknown_caller static", gate.AuthAnswer{Kind: gate.AnswerUnknown}, nil, gate.UnknownStatic, gate.VerdictAskPIN, "4711"},
		{"error follows the failure policy", gate.AuthAnswer{}, classErr{"timeout"}, "", gate.VerdictForward, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := databaseGate(h, gate.FailForward)
			g.Failure.Target = mustTarget(t, "900")
			g.Identification.UnknownCaller = tt.unknown
			web := &fakeAuth{err: classErr{"webhook must not be asked"}}
			db := &fakeAuth{ans: tt.ans, err: tt.err}
			st := newStore(t, g)
			e := gate.NewEngine(gate.EngineConfig{Store: st, Hasher: h, Authorizer: web, Database: db, Region: "DE"})
			d := e.Decide(context.Background(), gate.CallInfo{Caller: "0171 1234567", Called: "1000"}, dbNow)
			if d.Verdict != tt.verdict {
				t.Fatalf("verdict %s, want %s; trace %v", d.Verdict, tt.verdict, d.Trace)
			}
			if web.got != (gate.AuthRequest{}) {
				t.Error("the webhook authorizer was asked for a database gate")
			}
			if db.got.Caller != "+491711234567" || db.got.CallerRaw != "0171 1234567" || !db.got.CallerKnown || db.got.Called == "" {
				t.Errorf("request %+v: want the caller in E.164 and as dialled, and the called number", db.got)
			}
			if tt.pin != "" && !d.AskPIN.Expected.Match(tt.pin) {
				t.Errorf("the decision does not accept PIN %s", tt.pin)
			}
			if tt.err != nil && (d.Err == nil || d.ErrClass != "timeout") {
				t.Errorf("Err %v class %q, want the database error", d.Err, d.ErrClass)
			}
			if tt.err == nil && !strings.Contains(traceText(d), "database: answered "+string(tt.ans.Kind)) {
				t.Errorf("trace %v does not show the database verdict", d.Trace)
			}
		})
	}
	t.Run("no database authorizer", func(t *testing.T) {
		g := databaseGate(h, gate.FailPass)
		e := gate.NewEngine(gate.EngineConfig{Store: newStore(t, g), Hasher: h, Region: "DE"})
		d := e.Decide(context.Background(), gate.CallInfo{Caller: "+491711234567", Called: "1000"}, dbNow)
		if d.Verdict != gate.VerdictPass || d.ErrClass != "config" {
			t.Errorf("verdict %s class %q, want the failure policy (pass) for a config error", d.Verdict, d.ErrClass)
		}
	})
	t.Run("failure policy table reads the caller table", func(t *testing.T) {
		g := databaseGate(h, gate.FailTable)
		st := newStore(t, g)
		ent := &gate.Entry{GateID: g.ID, Pattern: "+491711234567", PIN: h.Hash("5555")}
		if err := st.PutEntry(context.Background(), ent); err != nil {
			t.Fatal(err)
		}
		e := gate.NewEngine(gate.EngineConfig{Store: st, Hasher: h, Database: &fakeAuth{err: classErr{"unavailable"}}, Region: "DE"})
		d := e.Decide(context.Background(), gate.CallInfo{Caller: "+491711234567", Called: "1000"}, dbNow)
		if d.Verdict != gate.VerdictAskPIN || !d.AskPIN.Expected.Match("5555") {
			t.Errorf("verdict %s, want the table entry's PIN; trace %v", d.Verdict, d.Trace)
		}
	})
}

var dbNow = time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC)

// newStore returns an in-memory store that holds gates.
func newStore(t *testing.T, gates ...*gate.Gate) *gatetest.Store {
	t.Helper()
	st := gatetest.NewStore()
	for _, g := range gates {
		if err := st.CreateGate(context.Background(), g); err != nil {
			t.Fatal(err)
		}
	}
	return st
}
