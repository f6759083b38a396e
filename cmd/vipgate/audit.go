package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/internal/callcsv"
)

// cmdAudit reads the audit log of administrative changes from the
// database: list prints the newest entries, export writes every matching
// entry as CSV or JSON.
func cmdAudit(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(e.stderr, "Usage: vipgate audit list [--limit N] | export [--format csv|json] [--pseudonymise [--pseudonym-key-file F]]  [--since T] [--until T] [--actor A] [--kind K] [--gate G] [--object O]")
		if len(args) == 0 {
			return usagef("audit: give list or export")
		}
		return nil
	}
	sub, rest := args[0], args[1:]
	if sub != "list" && sub != "export" {
		return usagef("audit: unknown subcommand %q", sub)
	}
	f := newFlags(e, "audit "+sub, "")
	c := f.common()
	since := f.str("since", "", "", "entries at or after this RFC 3339 time")
	until := f.str("until", "", "", "entries before this RFC 3339 time")
	actor := f.str("actor", "", "", "who: token:<id> (<name>) or cli:<user>, exactly")
	kind := f.str("kind", "", "", "what: the action, e.g. entry.update, gate.delete, token.create")
	gateID := f.str("gate", "", "", "gate ID")
	object := f.str("object", "", "", "the changed object: an entry ID, lang/key of a prompt, a caller, a token ID")
	limit := f.str("limit", "", "50", "how many entries list prints, newest first")
	format := f.str("format", "", "csv", "export format: csv or json")
	pseudo := f.boolean("pseudonymise", "", "export: replace the caller numbers of caller-table changes and cleared lockouts by keyed pseudonyms (HMAC-SHA256)")
	keyFile := f.str("pseudonym-key-file", "", "", "with --pseudonymise: the key (at least 16 bytes), so that exports under it share pseudonyms (with calls export too); default a fresh random key per export")
	if err := f.parse(rest); err != nil {
		return err
	}
	af := gate.AuditFilter{Actor: *actor, Action: *kind, GateID: *gateID, Object: *object}
	if err := parseTimes("audit "+sub, timeFlag{"since", *since, &af.From}, timeFlag{"until", *until, &af.To}); err != nil {
		return err
	}
	n, err := strconv.Atoi(*limit)
	if err != nil || n < 1 || n > 1000 {
		return usagef("audit list: --limit: want a whole number from 1 to 1000, got %q", *limit)
	}
	if *format != "csv" && *format != "json" {
		return usagef("audit export: --format: want csv or json, got %q", *format)
	}
	if sub == "list" && (*pseudo || *keyFile != "") {
		return usagef("audit list: --pseudonymise applies to audit export")
	}
	p, err := pseudonymiser("audit export", *pseudo, *keyFile)
	if err != nil {
		return err
	}
	d, err := c.open(ctx, e, false)
	if err != nil {
		return err
	}
	defer d.Close()
	if sub == "list" {
		af.Limit = n
		list, err := d.store.ListAudit(ctx, af)
		if err != nil {
			return err
		}
		for _, a := range list {
			fmt.Fprintf(e.stdout, "%d %s %s %s %s %s %s\n", a.ID, a.At.UTC().Format(time.RFC3339), a.Actor, a.Action, orDash(a.GateID), orDash(a.Object), changeText(a.Changes))
		}
		return nil
	}
	return exportAudit(ctx, e, d.store, af, *format, p)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// changeText writes changes as "field: before -> after; ...".
func changeText(cs []gate.AuditChange) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = c.Field + ": " + string(c.Before) + " -> " + string(c.After)
	}
	return strings.Join(parts, "; ")
}

// exportAudit writes every entry matching f, newest first, reading the
// store page by page: CSV (the changes as one JSON column) or a JSON array;
// with p set, the caller numbers in it are pseudonymised.
func exportAudit(ctx context.Context, e *env, st gate.AuditLog, f gate.AuditFilter, format string, p *callcsv.Pseudonymiser) error {
	f.Limit = 1000
	cw := csv.NewWriter(e.stdout)
	if format == "csv" {
		_ = cw.Write([]string{"id", "at", "actor", "action", "gate_id", "object", "changes"})
	} else {
		fmt.Fprint(e.stdout, "[")
	}
	first := true
	for {
		list, err := st.ListAudit(ctx, f)
		if err != nil {
			return err
		}
		for _, a := range list {
			if p != nil {
				a = p.Audit(a)
			}
			if format == "json" {
				b, err := json.Marshal(a)
				if err != nil {
					return err
				}
				if !first {
					fmt.Fprint(e.stdout, ",")
				}
				fmt.Fprintf(e.stdout, "\n%s", b)
				first = false
				continue
			}
			ch, err := json.Marshal(a.Changes)
			if err != nil {
				return err
			}
			_ = cw.Write([]string{strconv.FormatInt(a.ID, 10), a.At.UTC().Format(time.RFC3339Nano), csvCell(a.Actor), a.Action,
				a.GateID, csvCell(a.Object), string(ch)})
		}
		if len(list) < f.Limit {
			break
		}
		f.BeforeID = list[len(list)-1].ID
	}
	if format == "json" {
		fmt.Fprintln(e.stdout, "\n]")
		return nil
	}
	cw.Flush()
	return cw.Error()
}

// csvCell keeps a spreadsheet from reading a cell as a formula.
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@", rune(s[0])) {
		return "'" + s
	}
	return s
}
