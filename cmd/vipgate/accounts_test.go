package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAccountsCommands adds, imports, lists, explains and deletes
// accounts through the command line; the PIN comes on standard input and
// never shows in an answer.
func TestAccountsCommands(t *testing.T) {
	c := newCLI(t)
	c.must("gates", "import", example("premium-support.yaml"))

	// add: the PIN on standard input.
	stdin, err := os.CreateTemp(c.dir, "pin")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stdin.WriteString("804173\n"); err != nil {
		t.Fatal(err)
	}
	if _, err := stdin.Seek(0, 0); err != nil {
		t.Fatal(err)
	}
	old := os.Stdin
	os.Stdin = stdin
	out, stderr, err := c.run("accounts", "add", "--gate", "premium-support", "--number", "10042", "--label", "Anna", "--priority", "5", "--account-code", "CUST-42")
	os.Stdin = old
	if err != nil || !strings.Contains(out, "account 10042 added") {
		t.Fatalf("accounts add: %v\n%s%s", err, out, stderr)
	}

	// import: all or nothing, rows named.
	file := filepath.Join(c.dir, "accounts.csv")
	if err := os.WriteFile(file, []byte("number,pin,label\n20077,593817,Ben\n3x,593817,\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, stderr, err := c.run("accounts", "import", "--gate", "premium-support", file); err == nil || !strings.Contains(stderr, "row 3: number") {
		t.Fatalf("import of a bad row: %v\n%s", err, stderr)
	}
	if err := os.WriteFile(file, []byte("number,pin,label\n20077,593817,Ben\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out := c.must("accounts", "import", "--gate", "premium-support", file); !strings.Contains(out, "1 accounts inserted") {
		t.Fatalf("import: %s", out)
	}

	out = c.must("accounts", "list", "--gate", "premium-support")
	want := "number,label,priority,account_code,valid_from,valid_until\n10042,Anna,5,CUST-42,,\n20077,Ben,,,,\n"
	if out != want {
		t.Errorf("list:\n%s\nwant:\n%s", out, want)
	}
	if strings.Contains(out, "804173") || strings.Contains(out, "593817") {
		t.Error("the list shows a PIN")
	}

	// explain: a gate that does not ask this caller for an account says so;
	// with mode account it shows the account, never the PIN.
	out = c.must("explain", "--gate", "premium-support", "--caller", "+4917612345678", "--account", "10042")
	if !strings.Contains(out, "does not ask this caller for an account number") {
		t.Errorf("explain on a table gate:\n%s", out)
	}
	c.importGates("acc.yaml", "id: acc\nname: Accounts\nenabled: true\nmatch: {numbers: [\"+498941209911\"]}\nactivation: {mode: always}\nidentification: {mode: account, region: DE}\ndialogue: {max_retries: 3, min_digits: 6, max_digits: 6}\n")
	if err := os.WriteFile(file, []byte("number,pin,label\n10042,804173,Anna\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.must("accounts", "import", "--gate", "acc", file)
	out = c.must("explain", "--gate", "acc", "--caller", "+4917612345678", "--account", "10042")
	if !strings.Contains(out, "account 10042 (Anna) is valid") || strings.Contains(out, "804173") {
		t.Errorf("explain account:\n%s", out)
	}
	out = c.must("explain", "--gate", "acc", "--caller", "+4917612345678", "--account", "55555")
	if !strings.Contains(out, "no account 55555") {
		t.Errorf("explain unknown account:\n%s", out)
	}

	c.must("accounts", "delete", "--gate", "premium-support", "--number", "10042")
	if _, _, err := c.run("accounts", "delete", "--gate", "premium-support", "--number", "10042"); err == nil {
		t.Error("deleting a deleted account succeeded")
	}
}
