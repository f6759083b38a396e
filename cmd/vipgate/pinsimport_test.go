package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
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

// TestPinsImportReportsRepeats checks the duplicate check of an import
// into SQLite (a temporary database of callers): a caller repeated in the
// same batch, batches later or a third time is reported with the row it
// was first read in, a caller whose first row had errors is no repeat,
// and the same rows are reported by default, with --partial and with
// --replace.
func TestPinsImportReportsRepeats(t *testing.T) {
	c := newCLI(t)
	c.must("gates", "import", example("premium-support.yaml"))
	const n = 2*pinsfile.StreamBatch + 100
	caller := func(i int) string {
		if i == 3 {
			i = 1
		}
		return fmt.Sprintf("+49176%08d", i)
	}
	var b strings.Builder
	b.WriteString("caller,pin\n")
	for i := range n {
		fmt.Fprintf(&b, "%s,%06d\n", caller(i), 804173+i%100)
	}
	fmt.Fprintf(&b, "%s,804173\n", caller(0))                      // row n+2
	fmt.Fprintf(&b, "%s,804174\n", caller(0))                      // row n+3
	b.WriteString("+4917699999999,1\n")                            // row n+4: a bad PIN
	b.WriteString("+4917699999999,804175\n")                       // row n+5: not a repeat
	fmt.Fprintf(&b, "%s,804176\n", caller(pinsfile.StreamBatch+5)) // row n+6
	file := filepath.Join(c.dir, "repeats.csv")
	if err := os.WriteFile(file, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"row 5: caller: occurs again (first in row 3)",
		fmt.Sprintf("row %d: caller: occurs again (first in row 2)", n+2),
		fmt.Sprintf("row %d: caller: occurs again (first in row 2)", n+3),
		fmt.Sprintf("row %d: pin: ", n+4),
		fmt.Sprintf("row %d: caller: occurs again (first in row %d)", n+6, pinsfile.StreamBatch+7),
	}
	check := func(name, stderr string) {
		t.Helper()
		var got []string
		for line := range strings.Lines(stderr) {
			if strings.HasPrefix(line, "row ") {
				got = append(got, strings.TrimSpace(line))
			}
		}
		ok := len(got) == len(want)
		for i := 0; ok && i < len(got); i++ {
			ok = strings.HasPrefix(got[i], want[i])
		}
		if !ok {
			t.Errorf("%s: row errors\n%s\nwant\n%s", name, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	_, stderr, err := c.run("pins", "import", "--gate", "premium-support", file)
	if err == nil || !strings.Contains(err.Error(), "5 rows have errors") || !strings.Contains(err.Error(), "nothing imported") {
		t.Fatalf("default: err = %v", err)
	}
	check("default", stderr)
	out, stderr, err := c.run("pins", "import", "--gate", "premium-support", "--partial", file)
	if err != nil || !strings.Contains(out, fmt.Sprintf("%d inserted", n)) || !strings.Contains(out, "5 rejected rows") {
		t.Fatalf("--partial: %v: %s", err, out)
	}
	check("--partial", stderr)
	_, stderr, err = c.run("pins", "import", "--gate", "premium-support", "--replace", "--partial", file)
	if err == nil || !strings.Contains(err.Error(), "nothing imported: --replace") {
		t.Fatalf("--replace: err = %v", err)
	}
	check("--replace", stderr)
}

// TestPinsImportInterrupted checks that an import interrupted while it
// reads (SIGINT cancels the command's context) says so and writes
// nothing.
func TestPinsImportInterrupted(t *testing.T) {
	c := newCLI(t)
	c.must("gates", "import", example("premium-support.yaml"))
	fifo := filepath.Join(c.dir, "in.csv")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		var out, errb bytes.Buffer
		done <- runOn(ctx, system{root: filepath.Join(c.dir, "root")}, []string{"vipgate", "pins", "import", "--gate", "premium-support", fifo},
			func(k string) string { return c.env[k] }, &out, &errb)
	}()
	w, err := os.OpenFile(fifo, os.O_WRONLY, 0) // returns once the import has opened it
	if err != nil {
		t.Fatal(err)
	}
	// More than a pipe holds: when the writes return, the import reads.
	bw := bufio.NewWriter(w)
	bw.WriteString("caller,pin\n")
	for i := range 20_000 {
		fmt.Fprintf(bw, "+49176%08d,%06d\n", i, 804173+i%100)
	}
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
	cancel()
	w.Close()
	err = <-done
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "interrupted, nothing imported") {
		t.Fatalf("err = %v", err)
	}
	if out := c.must("pins", "export", "--gate", "premium-support"); strings.Contains(out, "+49176") {
		t.Fatalf("an interrupted import wrote rows")
	}
}
