package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/pinsfile"
)

func cmdAccounts(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(e.stderr, "Usage: vipgate accounts add --gate G --number N [--label L] [--priority P] [--account-code C] [--valid-from D] [--valid-until D] < PIN")
		fmt.Fprintln(e.stderr, "       vipgate accounts list --gate G [--number PREFIX]")
		fmt.Fprintln(e.stderr, "       vipgate accounts delete --gate G --number N")
		fmt.Fprintln(e.stderr, "       vipgate accounts import --gate G [--replace] FILE.csv | export --gate G [FILE.csv]")
		fmt.Fprintln(e.stderr, "CSV columns: number,pin[,label,priority,account_code,valid_from,valid_until]")
		if len(args) == 0 {
			return usagef("accounts: give add, list, delete, import or export")
		}
		return nil
	}
	switch args[0] {
	case "add":
		return accountsAdd(ctx, e, args[1:])
	case "list":
		return accountsList(ctx, e, args[1:], false)
	case "export":
		return accountsList(ctx, e, args[1:], true)
	case "delete":
		return accountsDelete(ctx, e, args[1:])
	case "import":
		return accountsImport(ctx, e, args[1:])
	}
	return usagef("accounts: unknown subcommand %q (want add, list, delete, import or export)", args[0])
}

// accountsAdd adds an account, or replaces the one with the number. The
// PIN is read from the first line of standard input, never from the
// command line (where ps and the shell history would show it).
func accountsAdd(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "accounts add", "--gate G --number N [--label L] [--priority P] [--account-code C] [--valid-from D] [--valid-until D] < PIN")
	c := f.common()
	gateID := f.str("gate", "", "", "gate ID (required)")
	number := f.str("number", "", "", "account number, digits (required)")
	label := f.str("label", "", "", "label, set as VIPGATE_LABEL when the account lets a call through")
	prio := f.str("priority", "", "", "priority 1 to 1000, set as VIPGATE_PRIORITY")
	code := f.str("account-code", "", "", "account code, set as VIPGATE_ACCOUNT")
	from := f.str("valid-from", "", "", "first day or time the account is valid (the gate's zone)")
	until := f.str("valid-until", "", "", "last day (inclusive) or time the account is valid")
	if err := f.parse(args); err != nil {
		return err
	}
	if *gateID == "" || *number == "" || f.fs.NArg() != 0 {
		return usagef("accounts add: give --gate and --number, and the PIN on standard input")
	}
	pin, err := bufio.NewReader(os.Stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("accounts add: read the PIN from standard input: %w", err)
	}
	in := gate.AccountIn{Number: *number, PIN: strings.TrimSpace(pin), Label: *label, Code: *code, ValidFrom: *from, ValidUntil: *until}
	if in.Priority, err = whole(*prio, "priority"); err != nil {
		return err
	}
	d, g, err := c.openGate(ctx, e, true, *gateID)
	if err != nil {
		return err
	}
	defer d.Close()
	a, err := gate.NewAccount(d.hasher, g, in, nil, "")
	if err != nil {
		return err
	}
	verb := "added"
	err = d.store.CreateAccount(ctx, a)
	if errors.Is(err, gate.ErrConflict) {
		verb, err = "replaced", d.store.UpdateAccount(ctx, a)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "gate %s: account %s %s\n", g.ID, a.Number, verb)
	return nil
}

// accountsList writes a gate's accounts as CSV (never a PIN): to stdout,
// or for export to the file named.
func accountsList(ctx context.Context, e *env, args []string, export bool) error {
	name := "accounts list"
	if export {
		name = "accounts export"
	}
	f := newFlags(e, name, "--gate G [--number PREFIX] [FILE.csv]")
	c := f.common()
	gateID := f.str("gate", "", "", "gate ID (required)")
	prefix := f.str("number", "", "", "only accounts whose number starts with these digits")
	if err := f.parse(args); err != nil {
		return err
	}
	if *gateID == "" || f.fs.NArg() > 1 || (!export && f.fs.NArg() != 0) {
		return usagef("%s: give --gate", name)
	}
	d, err := c.open(ctx, e, false)
	if err != nil {
		return err
	}
	defer d.Close()
	all, err := gate.AllAccounts(ctx, d.store, *gateID, *prefix)
	if err != nil {
		return err
	}
	w, err := createOutput(e.stdout, f.fs.Arg(0))
	if err != nil {
		return err
	}
	defer w.Close()
	return pinsfile.WriteAccountsCSV(w, all)
}

func accountsDelete(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "accounts delete", "--gate G --number N")
	c := f.common()
	gateID := f.str("gate", "", "", "gate ID (required)")
	number := f.str("number", "", "", "account number (required)")
	if err := f.parse(args); err != nil {
		return err
	}
	if *gateID == "" || *number == "" || f.fs.NArg() != 0 {
		return usagef("accounts delete: give --gate and --number")
	}
	d, err := c.open(ctx, e, true)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.store.DeleteAccount(ctx, *gateID, *number); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "gate %s: account %s deleted, with its lockout and counters\n", *gateID, *number)
	return nil
}

// accountsImport imports an account file, all or nothing.
func accountsImport(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "accounts import", "--gate G [--replace] FILE.csv (- for standard input)")
	c := f.common()
	gateID := f.str("gate", "", "", "gate ID (required)")
	replace := f.boolean("replace", "", "delete the gate's accounts that are not in the file")
	if err := f.parse(args); err != nil {
		return err
	}
	if *gateID == "" || f.fs.NArg() != 1 {
		return usagef("accounts import: give --gate and one CSV file")
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
	accounts, rowErrs, err := pinsfile.ReadAccountsCSV(r, d.hasher, g)
	if err != nil {
		return err
	}
	printRowErrors(e.stderr, rowErrs)
	if len(rowErrs) > 0 {
		return fmt.Errorf("%s; nothing imported", pinsfile.DescribeRowErrors(rowErrs))
	}
	res, err := d.store.ImportAccounts(ctx, g.ID, accounts, gate.ImportOptions{Replace: *replace})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "gate %s: %d accounts inserted, %d updated, %d deleted\n", g.ID, res.Inserted, res.Updated, res.Deleted)
	return nil
}
