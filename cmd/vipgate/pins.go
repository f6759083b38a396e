package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/pinsfile"
	"github.com/vipgate/vipgate/storage/sqlite"
)

func cmdPins(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(e.stderr, "Usage: vipgate pins import --gate G FILE.csv | export --gate G [FILE.csv]")
		fmt.Fprintln(e.stderr, "       vipgate pins allow --gate G --caller N [--label L] [--priority P] [--target T]")
		fmt.Fprintln(e.stderr, "       vipgate pins deny --gate G --caller N [--label L]")
		fmt.Fprintln(e.stderr, "       vipgate pins grant --gate G [--caller N] [--uses N] [--valid-for 24h | --until T] [--label L]")
		fmt.Fprintln(e.stderr, "       vipgate pins grants --gate G | revoke --gate G ID")
		fmt.Fprintln(e.stderr, "CSV columns: caller,pin[,label,valid_from,valid_until,kind,priority,target]")
		if len(args) == 0 {
			return usagef("pins: give import or export")
		}
		return nil
	}
	switch args[0] {
	case "import":
		return pinsImport(ctx, e, args[1:])
	case "export":
		return pinsExport(ctx, e, args[1:])
	case "allow":
		return pinsList(ctx, e, gate.EntryAllow, args[1:])
	case "deny":
		return pinsList(ctx, e, gate.EntryDeny, args[1:])
	case "grant":
		return pinsGrant(ctx, e, args[1:])
	case "grants":
		return pinsGrants(ctx, e, args[1:])
	case "revoke":
		return pinsRevoke(ctx, e, args[1:])
	}
	return usagef("pins: unknown subcommand %q (want import, export, allow, deny, grant, grants or revoke)", args[0])
}

// pinsList adds (or, for a caller the gate has an entry for, replaces)
// an allow or deny entry.
func pinsList(ctx context.Context, e *env, kind gate.EntryKind, args []string) error {
	name := "pins " + string(kind)
	usage := "--gate G --caller N [--label L] [--priority P]"
	if kind == gate.EntryAllow {
		usage += " [--target T]"
	}
	f := newFlags(e, name, usage)
	c := f.common()
	gateID := f.str("gate", "", "", "gate ID (required)")
	caller := f.str("caller", "", "", "caller number in any format, or a prefix ending in '*' (required)")
	label := f.str("label", "", "", "label, set as VIPGATE_LABEL when the call goes on")
	prio := f.str("priority", "", "", "priority 1 to 1000, set as VIPGATE_PRIORITY when the call goes on")
	var target *string
	if kind == gate.EntryAllow {
		target = f.str("target", "", "", "where the caller goes: an extension, context,exten,priority or continue (default: on to the call's destination)")
	}
	if err := f.parse(args); err != nil {
		return err
	}
	if *gateID == "" || *caller == "" || f.fs.NArg() != 0 {
		return usagef("%s: give --gate and --caller", name)
	}
	d, g, err := c.openGate(ctx, e, true, *gateID)
	if err != nil {
		return err
	}
	defer d.Close()
	nb, err := g.Numbering(d.region)
	if err != nil {
		return err
	}
	pat, err := nb.Pattern(*caller)
	if err != nil {
		return &gate.ValidationError{Field: "caller", Problem: err.Error()}
	}
	ent := &gate.Entry{GateID: g.ID, Pattern: pat, Kind: kind, Label: strings.TrimSpace(*label)}
	if ent.Priority, err = whole(*prio, "priority"); err != nil {
		return err
	}
	if target != nil && *target != "" {
		if ent.Target, err = gate.ParseTarget(*target); err != nil {
			return &gate.ValidationError{Field: "target", Problem: err.Error()}
		}
	}
	if err := ent.CheckKind(""); err != nil {
		return err
	}
	// An existing entry of the caller is replaced, whatever its kind.
	page, _, err := d.store.ListEntries(ctx, g.ID, gate.EntryFilter{Caller: pat, Limit: 1})
	if err != nil {
		return err
	}
	verb := "added"
	if len(page) == 1 && page[0].Pattern == pat {
		ent.ID, verb = page[0].ID, "replaced"
	}
	if err := d.store.PutEntry(ctx, ent); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "gate %s: %s entry #%d for %s %s\n", g.ID, kind, ent.ID, pat, verb)
	return nil
}

func pinsImport(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "pins import", "--gate G FILE.csv (- for standard input)")
	c := f.common()
	gateID := f.str("gate", "", "", "gate ID (required)")
	replace := f.boolean("replace", "", "delete the gate's entries that are not in the file")
	partial := f.boolean("partial", "", "import the good rows even when some rows have errors (default: all or nothing)")
	if err := f.parse(args); err != nil {
		return err
	}
	if *gateID == "" || f.fs.NArg() != 1 {
		return usagef("pins import: give --gate and one CSV file")
	}
	d, g, err := c.openGate(ctx, e, true, *gateID)
	if err != nil {
		return err
	}
	defer d.Close()
	r, err := openInput(f.fs.Arg(0))
	if err != nil {
		return err
	}
	defer r.Close()
	region := g.Identification.Region
	if region == "" {
		region = d.region
	}
	start := time.Now()
	lastReport := start
	// The file is read, checked and hashed while it is imported, in one
	// transaction: memory holds the batches in flight, not the file. Row
	// errors end the stream with ErrRowErrors (undoing the import)
	// unless --partial, which never applies with --replace.
	// Into SQLite the duplicate check keeps the callers read so far in a
	// temporary database, not in memory: memory stays flat whatever the
	// size of the file.
	var callers pinsfile.CallerSet
	if !isPostgres(d.db) {
		cs, err := sqlite.NewCallerSet(ctx)
		if err != nil {
			return err
		}
		defer cs.Close()
		callers = cs
	}
	st := pinsfile.NewCSVStream(bufio.NewReaderSize(r, 1<<20), pinsfile.Options{
		GateID: g.ID, Region: region, Numbers: g.Numbers, Location: g.Location(), Hasher: d.hasher,
		MinDigits: g.Dialogue.MinDigits, MaxDigits: g.Dialogue.MaxDigits, RejectWeak: g.Dialogue.RejectWeak,
		Partial: *partial && !*replace, Callers: callers,
		Progress: func(rows int) {
			if time.Since(lastReport) >= time.Second {
				lastReport = time.Now()
				fmt.Fprintf(e.stderr, "read %d rows…\n", rows)
			}
		},
	})
	defer st.Close()
	res, err := d.store.ImportEntriesFrom(ctx, g.ID, st.Next, gate.ImportOptions{Replace: *replace})
	rowErrs := st.RowErrors()
	printRowErrors(e.stderr, rowErrs)
	if err != nil && ctx.Err() != nil {
		// Interrupted: the store, the stream or its duplicate check may
		// have seen it first; the transaction is undone either way.
		return fmt.Errorf("pins import interrupted, nothing imported: %w", context.Cause(ctx))
	}
	if serr := st.Err(); serr != nil && !errors.Is(serr, pinsfile.ErrRowErrors) {
		return serr // the file as a whole, not the store
	}
	if len(rowErrs) > 0 && *replace {
		return fmt.Errorf("%s; nothing imported: --replace would delete the entries of those callers, fix the rows first", pinsfile.DescribeRowErrors(rowErrs))
	}
	if len(rowErrs) > 0 && !*partial {
		return fmt.Errorf("%s; nothing imported (use --partial to import the good rows)", pinsfile.DescribeRowErrors(rowErrs))
	}
	if err != nil {
		return err
	}
	el := time.Since(start)
	bad := pinsfile.RowsWithErrors(rowErrs)
	fmt.Fprintf(e.stdout, "gate %s: %d inserted, %d updated, %d deleted, %d rejected rows in %s (%.0f rows/s)\n",
		g.ID, res.Inserted, res.Updated, res.Deleted, bad, el.Round(time.Millisecond), float64(st.Entries()+bad)/el.Seconds())
	return nil
}

func pinsExport(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "pins export", "--gate G [FILE.csv]")
	c := f.common()
	gateID := f.str("gate", "", "", "gate ID (required)")
	if err := f.parse(args); err != nil {
		return err
	}
	if *gateID == "" {
		return usagef("pins export: give --gate")
	}
	d, err := c.open(ctx, e, false)
	if err != nil {
		return err
	}
	defer d.Close()
	var all []*gate.Entry
	for off := 0; ; {
		page, total, err := d.store.ListEntries(ctx, *gateID, gate.EntryFilter{Offset: off, Limit: 10000})
		if err != nil {
			return err
		}
		all = append(all, page...)
		off += len(page)
		if len(page) == 0 || off >= total {
			break
		}
	}
	w, err := createOutput(e.stdout, f.fs.Arg(0))
	if err != nil {
		return err
	}
	defer w.Close()
	bw := bufio.NewWriter(w)
	if err := pinsfile.WriteCSV(bw, all); err != nil {
		return err
	}
	return bw.Flush()
}
