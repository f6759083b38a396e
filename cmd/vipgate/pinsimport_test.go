package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
