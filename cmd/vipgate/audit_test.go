package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/gate/gatetest"
)

// TestAuditCommands makes changes from the command line and reads them
// back with "audit list" and "audit export": each under cli:<user>, and
// no PIN in any of them.
func TestAuditCommands(t *testing.T) {
	c := newCLI(t)
	c.must("gates", "import", example("premium-support.yaml"))
	c.must("pins", "import", "--gate", "premium-support", example("premium-support-pins.csv"))
	c.must("override", "set", "--gate", "premium-support", "--active", "on", "--reason", "storm")
	errOut := ""
	if _, e, err := c.run("tokens", "create", "--role", "viewer", "--name", "wallboard"); err != nil {
		t.Fatalf("tokens create: %v\n%s", err, e)
	} else {
		errOut = e
	}
	tokID := strings.Fields(strings.TrimPrefix(errOut, "token "))[0]
	c.must("tokens", "revoke", tokID)

	actor := cliActor()
	list := c.must("audit", "list")
	lines := strings.Split(strings.TrimSpace(list), "\n")
	wantActions := []string{"token.revoke", "token.create", "override.set", "entries.import", "gate.create"}
	if len(lines) != len(wantActions) {
		t.Fatalf("audit list:\n%s", list)
	}
	for i, l := range lines {
		f := strings.Fields(l)
		if len(f) < 4 || f[2] != actor || f[3] != wantActions[i] {
			t.Errorf("line %d %q: want actor %s, action %s", i, l, actor, wantActions[i])
		}
	}
	if !strings.Contains(lines[2], `reason: null -> "storm"`) {
		t.Errorf("override line %q lacks the reason", lines[2])
	}

	var entries []*gate.AuditEntry
	out := c.must("audit", "export", "--format", "json", "--kind", "token.create")
	if err := json.Unmarshal([]byte(out), &entries); err != nil {
		t.Fatalf("export json: %v\n%s", err, out)
	}
	if len(entries) != 1 || entries[0].Object != tokID || entries[0].Actor != actor {
		t.Fatalf("export json: %s", out)
	}
	rows, err := csv.NewReader(strings.NewReader(c.must("audit", "export", "--gate", "premium-support"))).ReadAll()
	if err != nil || len(rows) != 4 || rows[0][0] != "id" || rows[3][3] != "gate.create" {
		t.Fatalf("export csv: %v %q", err, rows)
	}
	if _, _, err := c.run("audit", "list", "--since", "yesterday"); err == nil || !strings.Contains(err.Error(), "--since") {
		t.Errorf("bad --since: %v", err)
	}
	empty := c.must("audit", "export", "--format", "json", "--actor", "nobody")
	if err := json.Unmarshal([]byte(empty), &entries); err != nil || len(entries) != 0 {
		t.Errorf("empty export %q: %v", empty, err)
	}
}

// TestAuditRetentionSetting checks that --audit-retention defaults to the
// call-log retention and can be set apart from it.
func TestAuditRetentionSetting(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want time.Duration
		err  string
	}{
		{nil, 90 * day, ""},
		{[]string{"--call-log-retention", "30d"}, 30 * day, ""},
		{[]string{"--call-log-retention", "30d", "--audit-retention", "400d"}, 400 * day, ""},
		{[]string{"--audit-retention", "0"}, 0, ""},
		{[]string{"--audit-retention", "5m"}, 0, "--audit-retention"},
	} {
		e := &env{stderr: io.Discard, getenv: func(string) string { return "" }}
		f := newFlags(e, "serve", "")
		f.common()
		callLog, audit := retentionFlag(f), auditRetentionFlag(f)
		if err := f.parse(tc.args); err != nil {
			t.Fatal(err)
		}
		c, err := callLog()
		if err != nil {
			t.Fatal(err)
		}
		got, err := audit(c)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%v: err = %v, want one mentioning %q", tc.args, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%v: audit retention %v, %v; want %v", tc.args, got, err, tc.want)
		}
	}
}

// TestAuditPruner checks that the retention job, given the audit log,
// deletes the entries older than the retention and keeps the rest.
func TestAuditPruner(t *testing.T) {
	ctx := context.Background()
	st := gatetest.NewStore()
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	for _, at := range []time.Time{now.Add(-40 * day), now.Add(-31 * day), now.Add(-29 * day), now} {
		if err := st.AppendAudit(ctx, &gate.AuditEntry{At: at, Actor: "cli:root", Action: "gate.update"}); err != nil {
			t.Fatal(err)
		}
	}
	p := &callPruner{store: auditPrunes{st}, what: "audit log", retention: 30 * day, log: slog.New(slog.DiscardHandler)}
	p.prune(ctx, now.Add(-p.retention))
	left, err := st.ListAudit(ctx, gate.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 2 || !left[1].At.Equal(now.Add(-29*day)) {
		t.Errorf("after prune: %+v", left)
	}
}
