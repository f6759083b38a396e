package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// host is a fake machine with the systemd installation of
// deploy/systemd: /etc/vipgate/vipgate.env and, once the service has
// started, /var/lib/vipgate.
type host struct {
	t    *testing.T
	root string
}

func newHost(t *testing.T, envFile string) *host {
	h := &host{t: t, root: t.TempDir()}
	if envFile != "" {
		h.write("/etc/vipgate/vipgate.env", envFile)
	}
	return h
}

func (h *host) write(p, content string) {
	h.t.Helper()
	full := filepath.Join(h.root, p)
	if err := os.MkdirAll(filepath.Dir(full), 0o700); err != nil {
		h.t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(content), 0o600); err != nil {
		h.t.Fatal(err)
	}
}

// run runs vipgate on the host with the given environment.
func (h *host) run(env map[string]string, args ...string) (string, error) {
	h.t.Helper()
	var out, errb bytes.Buffer
	err := runOn(context.Background(), system{root: h.root}, append([]string{"vipgate"}, args...), func(k string) string { return env[k] }, &out, &errb)
	return out.String() + errb.String(), err
}

// service is the environment systemd gives vipgate.service (the values
// of the env file come on top, as EnvironmentFile= does); like systemd,
// it creates the state directory.
func (h *host) service() map[string]string {
	dir := filepath.Join(h.root, "var/lib/vipgate")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		h.t.Fatal(err)
	}
	return map[string]string{"STATE_DIRECTORY": dir}
}

// rootShell is an administrator's root shell: no STATE_DIRECTORY, a home
// of its own.
func (h *host) rootShell() map[string]string {
	return map[string]string{"HOME": filepath.Join(h.root, "root")}
}

// TestCLIFindsTheServiceDatabase checks that on a systemd host the CLI,
// run by root without --db, opens the database of the service: what one
// writes the other reads.
func TestCLIFindsTheServiceDatabase(t *testing.T) {
	h := newHost(t, "VIPGATE_HTTP_ADDR=127.0.0.1:8080\nVIPGATE_REGION=DE\n")
	// The service starts first and creates its database and key.
	if out, err := h.run(h.service(), "migrate"); err != nil {
		t.Fatalf("service migrate: %v\n%s", err, out)
	}
	if err := os.MkdirAll(filepath.Join(h.root, "root"), 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := h.run(h.rootShell(), "gates", "import", example("after-hours.yaml")); err != nil {
		t.Fatalf("gates import as root: %v\n%s", err, out)
	}
	out, err := h.run(h.service(), "gates", "list")
	if err != nil || !strings.Contains(out, "after-hours") {
		t.Fatalf("the service does not see the gate root imported: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(h.root, "root/.local/state/vipgate")); err == nil {
		t.Error("the CLI created a database of its own in root's home")
	}
	if _, err := os.Stat(filepath.Join(h.root, "var/lib/vipgate/vipgate.key")); err != nil {
		t.Errorf("key file not beside the service's database: %v", err)
	}
}

func TestCLIDatabaseChoice(t *testing.T) {
	t.Run("service not started yet", func(t *testing.T) {
		h := newHost(t, "VIPGATE_REGION=DE\n")
		_, err := h.run(h.rootShell(), "tokens", "create", "--role", "admin")
		if err == nil || !strings.Contains(err.Error(), "--db") || !strings.Contains(err.Error(), "/var/lib/vipgate") {
			t.Fatalf("err = %v, want one naming /var/lib/vipgate and --db", err)
		}
	})
	t.Run("two databases", func(t *testing.T) {
		h := newHost(t, "VIPGATE_REGION=DE\n")
		if out, err := h.run(h.service(), "migrate"); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		h.write("/root/.local/state/vipgate/vipgate.db", "")
		_, err := h.run(h.rootShell(), "gates", "list")
		if err == nil || !strings.Contains(err.Error(), "--db") || !strings.Contains(err.Error(), "two vipgate databases") {
			t.Fatalf("err = %v, want the ambiguity named, with --db", err)
		}
		// --db settles it.
		env := h.rootShell()
		if out, err := h.run(env, "migrate", "--db", filepath.Join(h.root, "var/lib/vipgate/vipgate.db")); err != nil {
			t.Fatalf("with --db: %v\n%s", err, out)
		}
	})
	t.Run("env file names the database", func(t *testing.T) {
		h := newHost(t, "# comment\nVIPGATE_DB=\""+filepath.Join(t.TempDir(), "shared.db")+"\"\n")
		if out, err := h.run(h.rootShell(), "gates", "import", example("after-hours.yaml")); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		out, err := h.run(h.service(), "gates", "list")
		if err != nil || !strings.Contains(out, "after-hours") {
			t.Fatalf("service and CLI do not share VIPGATE_DB of the env file: %v\n%s", err, out)
		}
		// The process environment beats the file.
		env := h.rootShell()
		other := filepath.Join(t.TempDir(), "other.db")
		env["VIPGATE_DB"] = other
		if out, err := h.run(env, "migrate"); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		if _, err := os.Stat(other); err != nil {
			t.Fatalf("VIPGATE_DB of the environment ignored: %v", err)
		}
	})
	t.Run("malformed env file", func(t *testing.T) {
		h := newHost(t, "VIPGATE_REGION DE\n")
		_, err := h.run(h.rootShell(), "gates", "list")
		if err == nil || !strings.Contains(err.Error(), "/etc/vipgate/vipgate.env: line 1") {
			t.Fatalf("err = %v, want the file and line named", err)
		}
	})
	t.Run("no installation", func(t *testing.T) {
		h := newHost(t, "")
		env := h.rootShell()
		if out, err := h.run(env, "gates", "import", example("after-hours.yaml")); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		if _, err := os.Stat(filepath.Join(h.root, "root/.local/state/vipgate/vipgate.db")); err != nil {
			t.Fatalf("no system installation, but not in the user's state directory: %v", err)
		}
	})
}
