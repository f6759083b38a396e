package sounds

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/vipgate/vipgate/gate"
)

// Install writes the default prompts and the uploaded ones into dir, an
// Asterisk sounds directory (/var/lib/asterisk/sounds, or a volume shared
// with the Asterisk container), in Asterisk's per-language layout:
//
//	<dir>/<lang>/vipgate/<key>.wav                  defaults, and uploads for every gate
//	<dir>/<lang>/vipgate/gates/<gateID>/<key>.wav   a gate's own uploads
//
// An upload for every gate (GateID "") replaces the default file of its
// language and key. Uploads may be 8 or 16 kHz mono 16-bit PCM; they are
// written at 8 kHz (see Normalize). An invalid upload stops Install with an
// error before anything is written.
//
// Each file is written atomically (a temporary file in the same directory,
// then a rename), mode 0644; directories are created with mode 0755,
// whatever the umask. A file whose content (and mode) is already right is
// left alone. written lists the files Install wrote, sorted. Install does not delete files of uploads that no
// longer exist: the call flow plays a gate's file only while the store has
// the upload (see Name).
func Install(ctx context.Context, dir string, uploaded []*gate.PromptFile) (written []string, err error) {
	if dir == "" {
		return nil, fmt.Errorf("sounds: install: no sounds directory given")
	}
	want := make(map[string][]byte) // relative path -> content
	for _, lang := range Languages() {
		for _, key := range gate.PromptKeys {
			if !HasDefault(key) {
				continue
			}
			b, err := DefaultFile(lang, key)
			if err != nil {
				return nil, fmt.Errorf("sounds: install: %w", err)
			}
			want[relPath("", lang, key)] = b
		}
	}
	for _, p := range uploaded {
		if err := checkPrompt(p); err != nil {
			return nil, fmt.Errorf("sounds: install: %w", err)
		}
		b, err := Normalize(p.Data)
		if err != nil {
			return nil, fmt.Errorf("sounds: install: prompt %s of gate %q (%s): %w", p.Key, p.GateID, p.Lang, err)
		}
		want[relPath(p.GateID, p.Lang, p.Key)] = b
	}
	rels := make([]string, 0, len(want))
	for rel := range want {
		rels = append(rels, rel)
	}
	sort.Strings(rels)
	for _, rel := range rels {
		if err := ctx.Err(); err != nil {
			return written, fmt.Errorf("sounds: install: %w", err)
		}
		name := filepath.Join(dir, filepath.FromSlash(rel))
		changed, err := writeFile(name, want[rel])
		if err != nil {
			return written, fmt.Errorf("sounds: install: %w", err)
		}
		if changed {
			written = append(written, name)
		}
	}
	return written, nil
}

// writeFile atomically replaces name with data unless it holds data
// already. It reports whether it wrote the file.
func writeFile(name string, data []byte) (bool, error) {
	if old, err := os.ReadFile(name); err == nil && bytes.Equal(old, data) {
		if fi, err := os.Stat(name); err == nil && fi.Mode().Perm() == 0o644 {
			return false, nil
		}
	}
	dir := filepath.Dir(name)
	if err := mkdirAll(dir); err != nil {
		return false, err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(name)+".tmp*")
	if err != nil {
		return false, err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after a successful rename this finds nothing
	if _, err := f.Write(data); err != nil {
		f.Close()
		return false, err
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return false, err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return false, err
	}
	if err := f.Close(); err != nil {
		return false, err
	}
	if err := os.Rename(tmp, name); err != nil {
		return false, err
	}
	return true, nil
}

// mkdirAll creates dir and its missing parents with mode 0755 whatever the
// umask (Asterisk must be able to read what a service with umask 077
// installs). Directories that exist already are left as they are.
func mkdirAll(dir string) error {
	if fi, err := os.Stat(dir); err == nil {
		if !fi.IsDir() {
			return fmt.Errorf("%s is not a directory", dir)
		}
		return nil
	}
	if parent := filepath.Dir(dir); parent != dir {
		if err := mkdirAll(parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil // created concurrently
		}
		return err
	}
	return os.Chmod(dir, 0o755)
}
