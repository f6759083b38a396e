package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// The places a system installation (deploy/systemd) uses. The unit reads
// its settings from systemEnvFile (EnvironmentFile=) and keeps its data in
// systemStateDir (StateDirectory=vipgate, which systemd passes as
// $STATE_DIRECTORY). The CLI reads the same file and finds the same
// directory, so that "vipgate tokens create" or "gates import" run by root
// reach the service's database without --db.
const (
	systemEnvFile  = "/etc/vipgate/vipgate.env"
	systemStateDir = "/var/lib/vipgate"
)

// system describes the host's vipgate installation as seen from root,
// the directory that stands for "/" (a temporary one in tests).
type system struct {
	root string
}

func (s system) path(p string) string { return filepath.Join(s.root, filepath.FromSlash(p)) }

// envFile reads the VIPGATE_* settings of systemEnvFile. A missing file is
// no installation (nil, false); a file this user may not read counts as an
// installation whose settings are unknown.
func (s system) envFile() (vars map[string]string, installed bool, err error) {
	b, err := os.ReadFile(s.path(systemEnvFile))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, false, nil
	case errors.Is(err, fs.ErrPermission):
		return nil, true, nil
	case err != nil:
		return nil, true, fmt.Errorf("%s: %w", systemEnvFile, err)
	}
	vars, err = parseEnvFile(b)
	if err != nil {
		return nil, true, fmt.Errorf("%s: %w", systemEnvFile, err)
	}
	return vars, true, nil
}

// parseEnvFile reads systemd's EnvironmentFile= syntax as far as vipgate
// needs it: KEY=VALUE lines, "#" and ";" comments, blank lines, values in
// single or double quotes. Only VIPGATE_* keys are kept.
func parseEnvFile(b []byte) (map[string]string, error) {
	vars := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		k = strings.TrimSpace(strings.TrimPrefix(k, "export "))
		if !ok || k == "" || strings.ContainsAny(k, " \t") {
			return nil, fmt.Errorf("line %d: want KEY=VALUE", n)
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
		}
		if strings.HasPrefix(k, "VIPGATE_") {
			vars[k] = v
		}
	}
	return vars, sc.Err()
}

// withEnvFile returns getenv extended by the system env file: the
// process's own variables win, the file fills in the rest (as it does for
// the service). installed reports whether there is a system installation.
func (s system) withEnvFile(getenv func(string) string) (func(string) string, bool, error) {
	vars, installed, err := s.envFile()
	if err != nil || len(vars) == 0 {
		return getenv, installed, err
	}
	return func(k string) string {
		if v := getenv(k); v != "" {
			return v
		}
		return vars[k]
	}, installed, nil
}

// stateDir returns the directory of the database and key defaults:
//
//   - $STATE_DIRECTORY, when systemd runs vipgate (the service);
//   - on a host with a system installation (systemEnvFile or
//     systemStateDir exists), systemStateDir, the service's directory;
//     an error naming --db when it does not exist yet, cannot be read, or
//     when this user also has a database of their own (which one is
//     meant?);
//   - otherwise $XDG_STATE_HOME/vipgate, or ~/.local/state/vipgate.
func (s system) stateDir(getenv func(string) string, installed bool) (string, error) {
	if d := getenv("STATE_DIRECTORY"); d != "" {
		return strings.Split(d, ":")[0], nil
	}
	own, ownErr := userStateDir(getenv)
	sys := s.path(systemStateDir)
	_, sysErr := os.Stat(sys)
	if !installed && errors.Is(sysErr, fs.ErrNotExist) {
		return own, ownErr
	}
	if ownErr == nil {
		for _, f := range []string{"vipgate.db", "vipgate.key"} {
			if _, err := os.Stat(filepath.Join(own, f)); err == nil {
				return "", fmt.Errorf("two vipgate databases: the service's in %s and your own in %s; say which with --db (or VIPGATE_DB, --key-file)", systemStateDir, own)
			}
		}
	}
	switch {
	case sysErr == nil:
		return sys, nil
	case errors.Is(sysErr, fs.ErrNotExist):
		return "", fmt.Errorf("vipgate is installed as a service (%s) and keeps its database in %s, which does not exist yet: start the service once (systemctl enable --now vipgate), or give --db", systemEnvFile, systemStateDir)
	case errors.Is(sysErr, fs.ErrPermission):
		return "", fmt.Errorf("the service's database in %s is not readable for this user: run the command as root, or give --db", systemStateDir)
	}
	return "", fmt.Errorf("state directory %s: %w", systemStateDir, sysErr)
}

// userStateDir is a user's own data directory: $XDG_STATE_HOME/vipgate or
// ~/.local/state/vipgate.
func userStateDir(getenv func(string) string) (string, error) {
	if d := getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "vipgate"), nil
	}
	home := getenv("HOME")
	if home == "" {
		h, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("no state directory: set --db and --key-file, or HOME: %w", err)
		}
		home = h
	}
	return filepath.Join(home, ".local", "state", "vipgate"), nil
}
