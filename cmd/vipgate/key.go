package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/vipgate/vipgate/gate"
)

// loadKey reads the installation secret from path, creating it (32 random
// bytes, hex, mode 0600) when it does not exist and create is true. Several
// instances sharing one database must share this file.
func loadKey(path string, create bool) (key []byte, created bool, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && create {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, false, fmt.Errorf("key file: %w", err)
		}
		k := make([]byte, gate.KeySize)
		if _, err := rand.Read(k); err != nil {
			return nil, false, fmt.Errorf("key file: %w", err)
		}
		// Write a private temporary file, then link it into place: the
		// link fails if another instance created the key meanwhile, and a
		// reader never sees a half-written key.
		tmp, err := os.CreateTemp(filepath.Dir(path), ".vipgate-key-*")
		if err != nil {
			return nil, false, fmt.Errorf("key file: %w", err)
		}
		defer os.Remove(tmp.Name())
		if err := tmp.Chmod(0o600); err != nil {
			tmp.Close()
			return nil, false, fmt.Errorf("key file: %w", err)
		}
		if _, err := tmp.WriteString(hex.EncodeToString(k) + "\n"); err != nil {
			tmp.Close()
			return nil, false, fmt.Errorf("key file: %w", err)
		}
		if err := tmp.Sync(); err != nil {
			tmp.Close()
			return nil, false, fmt.Errorf("key file: %w", err)
		}
		if err := tmp.Close(); err != nil {
			return nil, false, fmt.Errorf("key file: %w", err)
		}
		if err := os.Link(tmp.Name(), path); errors.Is(err, fs.ErrExist) {
			return loadKey(path, false) // another instance was faster
		} else if err != nil {
			return nil, false, fmt.Errorf("key file: %w", err)
		}
		return k, true, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("key file: %w", err)
	}
	k, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(k) < 16 {
		return nil, false, fmt.Errorf("key file %s: want at least 16 bytes as hex", path)
	}
	return k, false, nil
}

// privateFileMode reports a problem with the permissions of a file that
// only vipgate's user may read (the key file, the database files), or "".
// what names the file in the message ("key file").
func privateFileMode(what, path string) string {
	st, err := os.Stat(path)
	if err != nil {
		return ""
	}
	if st.Mode().Perm()&0o077 != 0 {
		return fmt.Sprintf("%s %s is readable by others (mode %v); chmod 600 it", what, path, st.Mode().Perm())
	}
	return ""
}
