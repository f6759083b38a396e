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
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			return loadKey(path, false) // another instance was faster
		}
		if err != nil {
			return nil, false, fmt.Errorf("key file: %w", err)
		}
		if _, err := f.WriteString(hex.EncodeToString(k) + "\n"); err != nil {
			f.Close()
			return nil, false, fmt.Errorf("key file: %w", err)
		}
		if err := f.Close(); err != nil {
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

// keyFileMode reports a problem with the key file's permissions, or "".
func keyFileMode(path string) string {
	st, err := os.Stat(path)
	if err != nil {
		return ""
	}
	if st.Mode().Perm()&0o077 != 0 {
		return fmt.Sprintf("key file %s is readable by others (mode %v); chmod 600 it", path, st.Mode().Perm())
	}
	return ""
}
