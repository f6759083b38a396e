package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/gate/gatetest"
	"github.com/vipgate/vipgate/storage/sqlite"
	"github.com/vipgate/vipgate/storage/storagetest"
)

// logCalls writes call-log rows into the CLI's database.
func (c *cli) logCalls(rows ...*gate.CallRecord) {
	c.t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(c.dir, "vipgate", "vipgate.db"), sqlite.Options{})
	if err != nil {
		c.t.Fatal(err)
	}
	for _, r := range rows {
		if err := st.LogCall(context.Background(), r); err != nil {
			c.t.Fatal(err)
		}
	}
	if err := st.Close(); err != nil {
		c.t.Fatal(err)
	}
}

var privacyAt = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

func TestCallsExportPseudonymised(t *testing.T) {
	c := newCLI(t)
	c.must("gates", "import", example("premium-support.yaml"))
	c.logCalls(
		&gate.CallRecord{At: privacyAt, Source: "agi", GateID: "premium-support", ChannelID: "SIP/017612345678-1", CallerRaw: "017612345678", Caller: "+4917612345678", Outcome: gate.OutcomePINOK, EntryID: 3},
		&gate.CallRecord{At: privacyAt.Add(time.Second), Source: "ari", GateID: "premium-support", CallerRaw: "+4917612345678", Caller: "+4917612345678", Outcome: gate.OutcomePassed},
	)
	clear := c.must("calls", "export")
	if !strings.Contains(clear, "+4917612345678") {
		t.Fatalf("clear export lacks the caller:\n%s", clear)
	}
	export := func(args ...string) [][]string {
		t.Helper()
		out := c.must(append([]string{"calls", "export", "--pseudonymise"}, args...)...)
		for _, s := range []string{"17612345678", "SIP/"} {
			if strings.Contains(out, s) {
				t.Fatalf("pseudonymised export holds %q:\n%s", s, out)
			}
		}
		rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
		if err != nil || len(rows) != 3 {
			t.Fatalf("rows %q, %v", rows, err)
		}
		if rows[1][6] != rows[2][6] || !strings.HasPrefix(rows[1][6], "p-") {
			t.Fatalf("one caller, pseudonyms %q and %q", rows[1][6], rows[2][6])
		}
		return rows
	}
	a, b := export(), export()
	if a[1][6] == b[1][6] {
		t.Error("two exports without a key file share a pseudonym")
	}
	key := filepath.Join(c.dir, "pseudonym.key")
	if err := os.WriteFile(key, bytes.Repeat([]byte{7}, 32), 0o600); err != nil {
		t.Fatal(err)
	}
	if x, y := export("--pseudonym-key-file", key), export("--pseudonym-key-file", key); x[1][6] != y[1][6] {
		t.Error("two exports under one key file differ")
	}
	short := filepath.Join(c.dir, "short.key")
	if err := os.WriteFile(short, []byte("abc"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.run("calls", "export", "--pseudonymise", "--pseudonym-key-file", short); err == nil || !strings.Contains(err.Error(), "pseudonym-key-file") {
		t.Errorf("short key: %v", err)
	}
	if _, _, err := c.run("calls", "export", "--pseudonym-key-file", key); err == nil {
		t.Error("--pseudonym-key-file without --pseudonymise was accepted")
	}
}

func TestCallersErase(t *testing.T) {
	c := newCLI(t)
	c.must("gates", "import", example("premium-support.yaml"))
	c.logCalls(
		&gate.CallRecord{At: privacyAt, Source: "agi", GateID: "premium-support", CallerRaw: "017612345678", Caller: "+4917612345678", Outcome: gate.OutcomePINOK},
		&gate.CallRecord{At: privacyAt, Source: "agi", GateID: "premium-support", CallerRaw: "017699999999", Caller: "+4917699999999", Outcome: gate.OutcomePINOK},
	)
	out := c.must("callers", "erase", "0176 12345678", "--gate", "premium-support")
	if !strings.Contains(out, "1 call-log rows") {
		t.Errorf("erase: %s", out)
	}
	left := c.must("calls", "export")
	if strings.Contains(left, "17612345678") || !strings.Contains(left, "+4917699999999") {
		t.Errorf("after the erasure:\n%s", left)
	}
	for _, args := range [][]string{{"callers", "erase"}, {"callers", "erase", "anonymous"}, {"callers", "erase", "+4917612345678", "--gate", "missing"}} {
		if _, _, err := c.run(args...); err == nil {
			t.Errorf("%q: no error", args)
		}
	}
}

// TestPrunerGateRetention checks that a gate's own retention overrides
// the global one, shorter or longer, and that gates without one follow
// the global retention, also when it is off.
func TestPrunerGateRetention(t *testing.T) {
	now := privacyAt
	for _, tc := range []struct {
		global time.Duration
		want   map[string]int // rows left per gate
	}{
		{90 * 24 * time.Hour, map[string]int{"short": 0, "long": 2, "plain": 1, "": 1}},
		{0, map[string]int{"short": 0, "long": 2, "plain": 2, "": 2}},
	} {
		st := gatetest.NewStore()
		for id, r := range map[string]string{"short": "2d", "long": "400d", "plain": ""} {
			g := storagetest.DecideGate(id)
			g.Retention = r
			if err := st.CreateGate(t.Context(), g); err != nil {
				t.Fatal(err)
			}
			for _, age := range []time.Duration{10 * 24 * time.Hour, 200 * 24 * time.Hour} {
				for _, gid := range []string{id, ""} {
					if gid == "" && id != "plain" {
						continue
					}
					if err := st.LogCall(t.Context(), &gate.CallRecord{At: now.Add(-age), GateID: gid, Outcome: gate.OutcomePassed}); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		p := &callPruner{store: st, gates: st, retention: tc.global, interval: time.Hour, log: slog.New(slog.DiscardHandler)}
		p.pruneAt(t.Context(), now)
		got := map[string]int{"short": 0, "long": 0, "plain": 0, "": 0}
		for _, r := range st.Calls() {
			got[r.GateID]++
		}
		if !maps.Equal(got, tc.want) {
			t.Errorf("global %v: rows left %v, want %v", tc.global, got, tc.want)
		}
	}
}

func TestGateRetentionValidated(t *testing.T) {
	g := storagetest.DecideGate("g")
	retentionErr := func(r string) bool {
		g.Retention = r
		var ves gate.ValidationErrors
		errors.As(g.Validate(), &ves)
		return slices.ContainsFunc(ves, func(v *gate.ValidationError) bool { return v.Field == "retention" })
	}
	for _, r := range []string{"90m", "x", "-1d"} {
		if !retentionErr(r) {
			t.Errorf("retention %q: no retention field error", r)
		}
	}
	for _, r := range []string{"", "0", "30d", "36h"} {
		if retentionErr(r) {
			t.Errorf("retention %q: refused", r)
		}
	}
	if g.Retention = "30d"; g.CallRetention() != 30*24*time.Hour {
		t.Errorf("CallRetention of 30d = %v", g.CallRetention())
	}
}

// TestAuditExportPseudonymised changes a caller-table entry through the
// audited store and records a cleared lockout, then exports the audit log:
// in the clear it names the caller, with --pseudonymise (CSV and JSON)
// no form of the number is left and the pseudonym is the one calls
// export gives the caller under the same key file.
func TestAuditExportPseudonymised(t *testing.T) {
	c := newCLI(t)
	c.must("gates", "import", example("premium-support.yaml"))
	st, err := sqlite.Open(context.Background(), filepath.Join(c.dir, "vipgate", "vipgate.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	au := gate.Audited(st, "cli:test")
	e := &gate.Entry{GateID: "premium-support", Pattern: "+4917612345678", Kind: gate.EntryAllow, Label: "Ann"}
	if err := au.PutEntry(ctx, e); err != nil {
		t.Fatal(err)
	}
	e.Pattern = "+4917699999999"
	if err := au.PutEntry(ctx, e); err != nil {
		t.Fatal(err)
	}
	// What the audited store writes when a caller's lockout is cleared.
	if err := st.AppendAudit(ctx, &gate.AuditEntry{Actor: "cli:test", Action: "lockout.clear", GateID: "premium-support", Object: "+4917612345678"}); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	c.logCalls(&gate.CallRecord{At: privacyAt, Source: "agi", GateID: "premium-support", CallerRaw: "017612345678", Caller: "+4917612345678", Outcome: gate.OutcomePINOK})

	if clear := c.must("audit", "export", "--format", "json"); !strings.Contains(clear, "+4917612345678") || !strings.Contains(clear, "+4917699999999") {
		t.Fatalf("clear export lacks the callers:\n%s", clear)
	}
	key := filepath.Join(c.dir, "pseudonym.key")
	if err := os.WriteFile(key, bytes.Repeat([]byte{9}, 32), 0o600); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(c.must("calls", "export", "--pseudonymise", "--pseudonym-key-file", key))).ReadAll()
	if err != nil || len(rows) != 2 {
		t.Fatalf("calls export: %q, %v", rows, err)
	}
	pseudonym := rows[1][6]
	for _, format := range []string{"csv", "json"} {
		out := c.must("audit", "export", "--format", format, "--pseudonymise", "--pseudonym-key-file", key)
		for _, s := range []string{"17612345678", "17699999999"} {
			if strings.Contains(out, s) {
				t.Errorf("pseudonymised %s export holds %s:\n%s", format, s, out)
			}
		}
		if !strings.Contains(out, pseudonym) || !strings.Contains(out, "Ann") {
			t.Errorf("pseudonymised %s export lacks the caller's pseudonym %s (as calls export gives it) or the label:\n%s", format, pseudonym, out)
		}
	}
	var entries []*gate.AuditEntry
	if err := json.Unmarshal([]byte(c.must("audit", "export", "--format", "json", "--pseudonymise", "--kind", "lockout.clear")), &entries); err != nil || len(entries) != 1 ||
		!strings.HasPrefix(entries[0].Object, "p-") {
		t.Errorf("lockout.clear export: %+v, %v", entries, err)
	}
	if _, _, err := c.run("audit", "list", "--pseudonymise"); err == nil {
		t.Error("audit list --pseudonymise was accepted")
	}
	if _, _, err := c.run("audit", "export", "--pseudonym-key-file", key); err == nil {
		t.Error("audit export --pseudonym-key-file without --pseudonymise was accepted")
	}
}

// TestExportTimeFlags checks that calls export and audit export read their
// time options by one rule: a bad time is a usage error naming the option,
// and a good range selects by it.
func TestExportTimeFlags(t *testing.T) {
	c := newCLI(t)
	c.must("gates", "import", example("premium-support.yaml"))
	c.logCalls(&gate.CallRecord{At: privacyAt, Source: "agi", GateID: "premium-support", CallerRaw: "017612345678", Caller: "+4917612345678", Outcome: gate.OutcomePINOK})
	for _, args := range [][]string{{"calls", "export", "--from"}, {"calls", "export", "--to"}, {"audit", "export", "--since"}, {"audit", "list", "--until"}} {
		_, _, err := c.run(append(args, "yesterday")...)
		if err == nil || !strings.Contains(err.Error(), args[2]+": want an RFC 3339 time") {
			t.Errorf("%v yesterday: %v", args, err)
		}
	}
	rows, err := csv.NewReader(strings.NewReader(c.must("calls", "export", "--from", privacyAt.Add(time.Second).Format(time.RFC3339)))).ReadAll()
	if err != nil || len(rows) != 1 {
		t.Errorf("calls export --from after the call: %q, %v", rows, err)
	}
	rows, err = csv.NewReader(strings.NewReader(c.must("calls", "export", "--from", privacyAt.Format(time.RFC3339), "--to", privacyAt.Add(time.Second).Format(time.RFC3339)))).ReadAll()
	if err != nil || len(rows) != 2 {
		t.Errorf("calls export around the call: %q, %v", rows, err)
	}
}
