package sqlite

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/vipgate/vipgate/gate"
)

// dbFile is the database file as the store opened it: Ping compares the
// file now at path with it, so that a deleted or replaced file is noticed.
// Writes to a deleted file still succeed (they go to the unlinked inode)
// and are lost when the store closes; without this check nothing would
// tell.
type dbFile struct {
	path string
	info os.FileInfo
}

// createPrivate creates the database file with mode 0600 (whatever the
// umask) when it does not exist yet. SQLite gives the -wal and -shm files
// the mode of the main file, so they are private too. An existing file is
// left as it is.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func statDB(path string) (dbFile, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return dbFile{}, err
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return dbFile{}, err
	}
	return dbFile{path: abs, info: fi}, nil
}

// check reports a database file that was deleted, replaced by another
// file or made unwritable since the store opened it, as ErrUnavailable.
func (f dbFile) check() error {
	fault := func(reason string, err error) error { return &gate.StoreFault{Reason: reason, Err: err} }
	fi, err := os.Stat(f.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fault("database file deleted", fmt.Errorf("%w: database file %s was deleted while open: writes go to the deleted file and are lost, and a restart starts on an empty database", gate.ErrUnavailable, f.path))
	case err != nil:
		return fault("database file unreadable", fmt.Errorf("%w: database file: %w", gate.ErrUnavailable, err))
	case !os.SameFile(fi, f.info):
		return fault("database file replaced", fmt.Errorf("%w: database file %s was replaced by another file while open: vipgate still uses the old one; restart it to use the new one", gate.ErrUnavailable, f.path))
	}
	if err := writable(f.path); err != nil {
		return fault("database file not writable", fmt.Errorf("%w: database file %s is not writable: %w", gate.ErrUnavailable, f.path, err))
	}
	return nil
}
