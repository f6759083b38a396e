package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vipgate/vipgate/pinsfile"
)

// TestPinsImportCountsRows checks that pins import is all or nothing by
// default, counts rows rather than field errors and names the fields, and
// that --partial imports the good rows.
func TestPinsImportCountsRows(t *testing.T) {
	c := newCLI(t)
	c.must("gates", "import", example("premium-support.yaml"))
	bad := filepath.Join(c.dir, "bad.csv")
	// Row 3 has two bad fields, row 4 one.
	if err := os.WriteFile(bad, []byte("caller,pin\n+4917612345678,804173\nnot-a-number,12a4\n+4917699999999,1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, stderr, err := c.run("pins", "import", "--gate", "premium-support", bad)
	want := "2 rows have errors (row 3: caller, pin; row 4: pin); nothing imported"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %v, want %q\n%s", err, want, stderr)
	}
	if out := c.must("pins", "export", "--gate", "premium-support"); strings.Contains(out, "+4917612345678") {
		t.Fatalf("a refused import wrote rows:\n%s", out)
	}
	out := c.must("pins", "import", "--gate", "premium-support", "--partial", bad)
	if !strings.Contains(out, "1 inserted") || !strings.Contains(out, "2 rejected rows") {
		t.Fatalf("partial import: %s", out)
	}
}

// TestPinsImportStreamsAllOrNothing checks an import bigger than one
// stream batch: a bad row after rows already written undoes them all,
// --partial keeps the good ones, and a caller repeated batches later is
// found with its row.
func TestPinsImportStreamsAllOrNothing(t *testing.T) {
	c := newCLI(t)
	c.must("gates", "import", example("premium-support.yaml"))
	const n = 2*pinsfile.StreamBatch + 100
	var b strings.Builder
	b.WriteString("caller,pin\n")
	for i := range n {
		fmt.Fprintf(&b, "+49176%08d,%06d\n", i, 804173+i%100)
	}
	b.WriteString("+4917600000000,804173\n") // row n+2: row 2 again
	b.WriteString("+4917699999999,1\n")      // row n+3: a bad PIN
	file := filepath.Join(c.dir, "big.csv")
	if err := os.WriteFile(file, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	_, stderr, err := c.run("pins", "import", "--gate", "premium-support", file)
	want := fmt.Sprintf("2 rows have errors (row %d: caller; row %d: pin); nothing imported", n+2, n+3)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %v, want %q\n%s", err, want, stderr)
	}
	if !strings.Contains(stderr, fmt.Sprintf("row %d: caller: occurs again (first in row 2)", n+2)) {
		t.Errorf("stderr lacks the repeated caller:\n%s", stderr)
	}
	if out := c.must("pins", "export", "--gate", "premium-support"); strings.Contains(out, "+4917600000000") {
		t.Fatalf("a refused import wrote rows")
	}
	out := c.must("pins", "import", "--gate", "premium-support", "--partial", file)
	if !strings.Contains(out, fmt.Sprintf("%d inserted", n)) || !strings.Contains(out, "2 rejected rows") {
		t.Fatalf("partial import: %s", out)
	}
}

// TestPinsAllowDeny checks that pins allow and pins deny write entries of
// their kind without a PIN, replace a caller's entry, name a bad field,
// and that export shows them.
func TestPinsAllowDeny(t *testing.T) {
	c := newCLI(t)
	c.must("gates", "import", example("premium-support.yaml"))
	out := c.must("pins", "allow", "--gate", "premium-support", "--caller", "0176 12345678", "--label", "Anna", "--priority", "10", "--target", "200")
	if !strings.Contains(out, "allow entry #") || !strings.Contains(out, "+4917612345678 added") {
		t.Fatalf("allow: %s", out)
	}
	c.must("pins", "deny", "--gate", "premium-support", "--caller", "+49900*", "--label", "premium numbers")
	if out := c.must("pins", "deny", "--gate", "premium-support", "--caller", "+4917612345678"); !strings.Contains(out, "replaced") {
		t.Fatalf("deny of an allowed caller: %s", out)
	}
	for _, bad := range [][]string{
		{"allow", "--gate", "premium-support", "--caller", "+4930111", "--priority", "5000"},
		{"allow", "--gate", "premium-support", "--caller", "+4930111", "--target", "a,b"},
	} {
		if _, _, err := c.run(append([]string{"pins"}, bad...)...); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
	// explain names the deny entry in its trace.
	if out := c.must("explain", "--gate", "premium-support", "--caller", "+4990012345"); !strings.Contains(out, "matches deny entry #") || !strings.Contains(out, "reject") {
		t.Errorf("explain of a denied caller:\n%s", out)
	}
	exp := c.must("pins", "export", "--gate", "premium-support")
	for _, want := range []string{"+4917612345678,,,,deny,,", "+49900*,premium numbers,,,deny,,"} {
		if !strings.Contains(exp, want) {
			t.Errorf("export lacks %q:\n%s", want, exp)
		}
	}
}
