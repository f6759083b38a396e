//go:build unix

package sqlite_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/storage/sqlite"
)

// TestFilesArePrivate opens a new database under umask 0: the main file,
// the WAL and the shared-memory file are created 0600 all the same.
func TestFilesArePrivate(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	path := filepath.Join(t.TempDir(), "vg.db")
	s, err := sqlite.Open(context.Background(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.PutPrompt(context.Background(), &gate.PromptFile{Lang: "en", Key: gate.PromptAskPIN, Data: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{path, path + "-wal", path + "-shm"} {
		st, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		if m := st.Mode().Perm(); m != 0o600 {
			t.Errorf("%s has mode %v, want 0600", filepath.Base(name), m)
		}
	}
}

// TestPingNoticesVanishedFile deletes, replaces and write-protects the
// database file of an open store: Ping reports each as ErrUnavailable
// saying what happened (before, the store went on writing to a deleted
// file and Ping answered nil).
func TestPingNoticesVanishedFile(t *testing.T) {
	ctx := context.Background()
	open := func(t *testing.T) (*sqlite.Store, string) {
		path := filepath.Join(t.TempDir(), "vg.db")
		s, err := sqlite.Open(ctx, path, sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		if err := s.Ping(ctx); err != nil {
			t.Fatalf("ping of a healthy store: %v", err)
		}
		return s, path
	}
	want := func(t *testing.T, s *sqlite.Store, text string) {
		t.Helper()
		err := s.Ping(ctx)
		if !errors.Is(err, gate.ErrUnavailable) || !strings.Contains(err.Error(), text) {
			t.Errorf("Ping = %v, want ErrUnavailable saying %q", err, text)
		}
	}
	t.Run("deleted", func(t *testing.T) {
		s, path := open(t)
		for _, suffix := range []string{"", "-wal", "-shm"} {
			os.Remove(path + suffix)
		}
		want(t, s, "was deleted while open")
	})
	t.Run("replaced", func(t *testing.T) {
		s, path := open(t)
		other, err := sqlite.Open(ctx, path+".new", sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		other.Close()
		if err := os.Rename(path+".new", path); err != nil {
			t.Fatal(err)
		}
		want(t, s, "was replaced by another file")
	})
	t.Run("not writable", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("root may write any file: run the tests as another user to check this")
		}
		s, path := open(t)
		if err := os.Chmod(path, 0o400); err != nil {
			t.Fatal(err)
		}
		want(t, s, "is not writable")
	})
}
