package pinsfile

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/vipgate/vipgate/gate"
)

// Account files are the second kind of file pinsfile reads and writes:
// a gate's accounts (see gate.Account), one per row, with a header line
// naming the columns in any order:
//
//	number,pin,label,priority,account_code,valid_from,valid_until
//
// number and pin are required (an export has no pin column; add it to
// import the file again). The separator may be ',', ';' or a tab, as in
// caller-table files.

// accountColumns are the columns of an account file, as ReadAccountsCSV
// takes them and WriteAccountsCSV writes them (without pin).
var accountColumns = []string{"number", "pin", "label", "priority", "account_code", "valid_from", "valid_until"}

// ReadAccountsCSV reads an account file for the gate g, hashing each PIN
// with h and checking each row by gate.NewAccount: the gate's PIN rules,
// dates in the gate's zone. A bad row becomes a RowError naming the row
// and the field (never a value); a number twice is a RowError of the later
// row. The error is for a file that cannot be read at all.
func ReadAccountsCSV(r io.Reader, h *gate.Hasher, g *gate.Gate) ([]*gate.Account, []RowError, error) {
	br := bufio.NewReader(r)
	cr := csv.NewReader(br)
	cr.Comma = sniffComma(br)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = false
	head, err := cr.Read()
	if err == io.EOF {
		return nil, nil, errors.New("accounts file is empty (want a header line: number,pin,label,...)")
	}
	if err != nil {
		return nil, nil, fmt.Errorf("accounts file: %w", err)
	}
	cols := map[string]int{}
	for i, name := range head {
		k := headerKey(strings.TrimPrefix(name, "\ufeff"))
		if k == "" {
			continue
		}
		if !contains(accountColumns, k) {
			return nil, nil, fmt.Errorf("accounts file: header column %d: unknown column %q (want %s)", i+1, name, strings.Join(accountColumns, ", "))
		}
		if _, dup := cols[k]; dup {
			return nil, nil, fmt.Errorf("accounts file: header column %q twice", k)
		}
		cols[k] = i
	}
	for _, k := range []string{"number", "pin"} {
		if _, ok := cols[k]; !ok {
			return nil, nil, fmt.Errorf("accounts file: the header has no %s column", k)
		}
	}
	var (
		out  []*gate.Account
		errs []RowError
		seen = map[string]int{}
	)
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				errs = append(errs, RowError{Row: pe.StartLine, Field: "row", Problem: "is not valid CSV"})
				continue
			}
			return nil, nil, fmt.Errorf("accounts file: %w", err)
		}
		row, _ := cr.FieldPos(0)
		if blank(rec) {
			continue
		}
		get := func(k string) string {
			if i, ok := cols[k]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		in := gate.AccountIn{Number: get("number"), PIN: get("pin"), Label: get("label"), Code: get("account_code"),
			ValidFrom: get("valid_from"), ValidUntil: get("valid_until")}
		if p := get("priority"); p != "" {
			n, err := strconv.Atoi(p)
			if err != nil {
				errs = append(errs, RowError{Row: row, Field: "priority", Problem: "is not a number"})
				continue
			}
			in.Priority = n
		}
		a, err := gate.NewAccount(h, g, in, nil, "")
		if err != nil {
			var ves gate.ValidationErrors
			if errors.As(err, &ves) {
				for _, ve := range ves {
					errs = append(errs, RowError{Row: row, Field: ve.Field, Problem: ve.Problem})
				}
			} else {
				errs = append(errs, RowError{Row: row, Field: "row", Problem: "is not a valid account"})
			}
			continue
		}
		if first, dup := seen[a.Number]; dup {
			errs = append(errs, RowError{Row: row, Field: "number", Problem: fmt.Sprintf("repeats the account number of row %d", first)})
			continue
		}
		seen[a.Number] = row
		out = append(out, a)
	}
	return out, errs, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// WriteAccountsCSV writes accounts as an account file without PINs: the
// store keeps only keyed hashes. Labels that a spreadsheet would run as
// a formula are written with a leading "'".
func WriteAccountsCSV(w io.Writer, accounts []*gate.Account) error {
	return writeTable(w, "accounts", []string{"number", "label", "priority", "account_code", "valid_from", "valid_until"}, len(accounts), func(i int) []string {
		a := accounts[i]
		return []string{a.Number, csvSafe(a.Label), csvPriority(a.Priority), a.Code, csvTime(a.ValidFrom), csvTime(a.ValidUntil)}
	})
}
