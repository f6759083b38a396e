package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// TestCreateOutput: "" and "-" write to stdout and Close leaves it open;
// a file name creates the file readable by its owner only, truncating
// what was there.
func TestCreateOutput(t *testing.T) {
	for _, p := range []string{"", "-"} {
		var out bytes.Buffer
		w, err := createOutput(&out, p)
		if err != nil {
			t.Fatalf("createOutput(%q): %v", p, err)
		}
		io.WriteString(w, "a,b\n")
		if err := w.Close(); err != nil {
			t.Fatalf("Close of stdout (%q): %v", p, err)
		}
		if out.String() != "a,b\n" {
			t.Errorf("createOutput(%q) wrote %q to stdout, want %q", p, out.String(), "a,b\n")
		}
	}
	path := filepath.Join(t.TempDir(), "out.csv")
	if err := os.WriteFile(path, []byte("old content that is longer\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chmod(path, 0o600)
	var out bytes.Buffer
	w, err := createOutput(&out, path)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, "new\n")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "new\n" || out.Len() != 0 {
		t.Errorf("file holds %q and stdout %q, want the file %q and stdout empty", b, out.String(), "new\n")
	}
	fresh := filepath.Join(t.TempDir(), "fresh.csv")
	w, err = createOutput(&out, fresh)
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	fi, err := os.Stat(fresh)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("new file has mode %v, want 0600", fi.Mode().Perm())
	}
}

// TestOpenInput: "-" reads standard input and a missing file is an error
// that names it.
func TestOpenInput(t *testing.T) {
	r, err := openInput("-")
	if err != nil {
		t.Fatalf("openInput(-): %v", err)
	}
	if f, ok := r.(interface{ Fd() uintptr }); ok && f.Fd() == os.Stdin.Fd() {
		t.Error("openInput(-) returned os.Stdin itself: Close would close standard input")
	}
	r.Close()
	if _, err := os.Stdin.Stat(); err != nil {
		t.Errorf("standard input after Close: %v", err)
	}
	missing := filepath.Join(t.TempDir(), "missing.csv")
	if _, err := openInput(missing); err == nil || !bytes.Contains([]byte(err.Error()), []byte("missing.csv")) {
		t.Errorf("openInput of a missing file: %v, want an error naming it", err)
	}
}
