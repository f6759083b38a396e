package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/internal/callcsv"
)

func cmdCalls(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(e.stderr, "Usage: vipgate calls export [--gate G] [--from T] [--to T] [--pseudonymise [--pseudonym-key-file F]] [FILE.csv]")
		if len(args) == 0 {
			return usagef("calls: give export")
		}
		return nil
	}
	if args[0] != "export" {
		return usagef("calls: unknown subcommand %q (want export)", args[0])
	}
	f := newFlags(e, "calls export", "[--gate G] [--from T] [--to T] [--pseudonymise] [FILE.csv]")
	c := f.common()
	gateID := f.str("gate", "", "", "only this gate's calls")
	from := f.str("from", "", "", "calls at or after this RFC 3339 time")
	to := f.str("to", "", "", "calls before this RFC 3339 time")
	pseudo := f.boolean("pseudonymise", "", "replace caller numbers by keyed pseudonyms (HMAC-SHA256) and leave out channel and entry IDs")
	keyFile := f.str("pseudonym-key-file", "", "", "with --pseudonymise: the key (at least 16 bytes), so that exports under it share pseudonyms; default a fresh random key per export")
	if err := f.parse(args[1:]); err != nil {
		return err
	}
	var filter gate.CallFilter
	filter.GateID = *gateID
	if err := parseTimes("calls export", timeFlag{"from", *from, &filter.From}, timeFlag{"to", *to, &filter.To}); err != nil {
		return err
	}
	p, err := pseudonymiser("calls export", *pseudo, *keyFile)
	if err != nil {
		return err
	}
	d, err := c.open(ctx, e, false)
	if err != nil {
		return err
	}
	defer d.Close()
	out := e.stdout
	if path := f.fs.Arg(0); path != "" && path != "-" {
		fh, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return err
		}
		defer fh.Close()
		out = fh
	}
	bw := bufio.NewWriter(out)
	cw := callcsv.NewWriter(bw, p)
	filter.Limit = 1000
	for {
		rows, total, err := d.store.ListCalls(ctx, filter)
		if err != nil {
			return fmt.Errorf("calls export: %w", err)
		}
		for _, r := range rows {
			cw.Write(r)
		}
		filter.Offset += len(rows)
		if len(rows) == 0 || filter.Offset >= total {
			break
		}
	}
	if err := cw.Flush(); err != nil {
		return err
	}
	return bw.Flush()
}

// timeFlag is a time option: its name, its value as given and where the
// time goes.
type timeFlag struct {
	name, v string
	dst     *time.Time
}

// parseTimes parses the RFC 3339 values of ts into their destinations (an
// empty value leaves it zero); cmd names the command in the usage error.
func parseTimes(cmd string, ts ...timeFlag) error {
	for _, t := range ts {
		if t.v == "" {
			continue
		}
		v, err := time.Parse(time.RFC3339, t.v)
		if err != nil {
			return usagef("%s: --%s: want an RFC 3339 time such as 2026-01-31T08:00:00Z, got %q", cmd, t.name, t.v)
		}
		*t.dst = v
	}
	return nil
}

// pseudonymiser returns the Pseudonymiser of an export's --pseudonymise
// (on) and --pseudonym-key-file (keyFile), or nil when on is false; cmd
// names the command in errors.
func pseudonymiser(cmd string, on bool, keyFile string) (*callcsv.Pseudonymiser, error) {
	if keyFile != "" && !on {
		return nil, usagef("%s: --pseudonym-key-file needs --pseudonymise", cmd)
	}
	if !on {
		return nil, nil
	}
	var key []byte
	if keyFile != "" {
		b, err := os.ReadFile(keyFile)
		if err != nil {
			return nil, fmt.Errorf("%s: --pseudonym-key-file: %w", cmd, err)
		}
		if key = b; len(key) == 0 {
			return nil, usagef("%s: --pseudonym-key-file %s is empty", cmd, keyFile)
		}
	}
	p, err := callcsv.NewPseudonymiser(key)
	if err != nil {
		return nil, fmt.Errorf("%s: --pseudonym-key-file: %w", cmd, err)
	}
	return p, nil
}

func cmdCallers(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(e.stderr, "Usage: vipgate callers erase NUMBER [--gate G]")
		if len(args) == 0 {
			return usagef("callers: give erase")
		}
		return nil
	}
	if args[0] != "erase" {
		return usagef("callers: unknown subcommand %q (want erase)", args[0])
	}
	args = args[1:]
	var number string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		number, args = args[0], args[1:]
	}
	f := newFlags(e, "callers erase", "NUMBER [--gate G]")
	c := f.common()
	gateID := f.str("gate", "", "", "erase at this gate only (default every gate)")
	if err := f.parse(args); err != nil {
		return err
	}
	if number == "" {
		number = f.fs.Arg(0)
	}
	if number == "" {
		return usagef("callers erase: give the caller's number")
	}
	d, err := c.open(ctx, e, false)
	if err != nil {
		return err
	}
	defer d.Close()
	var g *gate.Gate
	if *gateID != "" {
		if g, err = d.store.GetGate(ctx, *gateID); err != nil {
			return fmt.Errorf("callers erase: %w", err)
		}
	}
	var nb *gate.Numbering
	if g != nil {
		nb, err = g.Numbering(d.region)
	} else {
		nb, err = gate.NewNumbering(d.region, gate.NumberRules{})
	}
	if err != nil {
		return fmt.Errorf("callers erase: %w", err)
	}
	n, err := nb.Number(strings.TrimSpace(number))
	if err != nil {
		return usagef("callers erase: %s: %v", number, err)
	}
	if err := gate.ValidErasable(n.Value); err != nil {
		return usagef("callers erase: %s: %v", number, err)
	}
	res, err := d.store.EraseCaller(ctx, *gateID, n.Value)
	if err != nil {
		return fmt.Errorf("callers erase: %w", err)
	}
	where := "every gate"
	if *gateID != "" {
		where = "gate " + *gateID
	}
	fmt.Fprintf(e.stdout, "erased at %s: %d call-log rows, %d entries, %d lockouts, %d counters\n", where, res.Calls, res.Entries, res.Lockouts, res.Counters)
	d.log.Info("caller erased", "gate", *gateID, "calls", res.Calls, "entries", res.Entries, "lockouts", res.Lockouts, "counters", res.Counters)
	return nil
}
