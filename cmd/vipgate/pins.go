package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/pinsfile"
)

func cmdPins(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(e.stderr, "Usage: vipgate pins import --gate G FILE.csv | export --gate G [FILE.csv]")
		fmt.Fprintln(e.stderr, "CSV columns: caller,pin[,label,valid_from,valid_until]")
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
	}
	return usagef("pins: unknown subcommand %q (want import or export)", args[0])
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
	d, err := c.open(ctx, e, true)
	if err != nil {
		return err
	}
	defer d.Close()
	g, err := d.store.GetGate(ctx, *gateID)
	if err != nil {
		return err
	}
	var r io.Reader
	if p := f.fs.Arg(0); p == "-" {
		r = os.Stdin
	} else {
		fh, err := os.Open(p)
		if err != nil {
			return err
		}
		defer fh.Close()
		r = fh
	}
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
	st := pinsfile.NewCSVStream(bufio.NewReaderSize(r, 1<<20), pinsfile.Options{
		GateID: g.ID, Region: region, Numbers: g.Numbers, Location: g.Location(), Hasher: d.hasher,
		MinDigits: g.Dialogue.MinDigits, MaxDigits: g.Dialogue.MaxDigits, RejectWeak: g.Dialogue.RejectWeak,
		Partial: *partial && !*replace,
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
	for i, re := range rowErrs {
		if i == 50 {
			fmt.Fprintf(e.stderr, "… and %d more row errors\n", len(rowErrs)-50)
			break
		}
		fmt.Fprintf(e.stderr, "row %d: %s: %s\n", re.Row, re.Field, re.Problem)
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
	w := e.stdout
	if p := f.fs.Arg(0); p != "" && p != "-" {
		fh, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return err
		}
		defer fh.Close()
		w = fh
	}
	bw := bufio.NewWriter(w)
	if err := pinsfile.WriteCSV(bw, all); err != nil {
		return err
	}
	return bw.Flush()
}
