package systemd_test

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// unit maps "Section.Key" to the values of every assignment, in order.
type unit map[string][]string

func parseUnit(t *testing.T, path string) unit {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	u := unit{}
	section := ""
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = strings.Trim(line, "[]")
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" {
				t.Fatalf("%s:%d: not key=value in a section: %q", path, n, line)
			}
			u[section+"."+k] = append(u[section+"."+k], v)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return u
}

func TestUnit(t *testing.T) {
	u := parseUnit(t, "vipgate.service")
	tests := []struct {
		key  string
		want string // one of the key's values must equal it
	}{
		{"Service.ExecStart", "/usr/local/bin/vipgate serve"},
		{"Service.DynamicUser", "yes"},
		{"Service.StateDirectory", "vipgate"},
		{"Service.ProtectSystem", "strict"},
		{"Service.ProtectHome", "yes"},
		{"Service.NoNewPrivileges", "yes"},
		{"Service.PrivateTmp", "yes"},
		{"Service.RestrictAddressFamilies", "AF_INET AF_INET6 AF_UNIX"},
		{"Service.CapabilityBoundingSet", ""},
		{"Service.SystemCallFilter", "@system-service"},
		{"Service.LoadCredential", "ari-password:/etc/vipgate/ari-password"},
		{"Service.Environment", "VIPGATE_ARI_PASSWORD_FILE=%d/ari-password"},
		{"Service.EnvironmentFile", "-/etc/vipgate/vipgate.env"},
		{"Service.KillSignal", "SIGTERM"},
		{"Install.WantedBy", "multi-user.target"},
	}
	for _, tt := range tests {
		if got, ok := u[tt.key]; !ok || !slices.Contains(got, tt.want) {
			t.Errorf("%s = %q, want a value %q", tt.key, got, tt.want)
		}
	}
	// Secrets never travel as plain environment values.
	for _, env := range u["Service.Environment"] {
		if k, _, _ := strings.Cut(env, "="); strings.Contains(k, "PASSWORD") && !strings.HasSuffix(k, "_FILE") {
			t.Errorf("Environment=%s puts a secret into the environment", env)
		}
	}
	if u["Service.ReadWritePaths"] != nil {
		t.Errorf("ReadWritePaths=%q: the service should write only its state directory", u["Service.ReadWritePaths"])
	}
}

func TestEnvExample(t *testing.T) {
	f, err := os.Open("vipgate.env.example")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n, set := 0, 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		// Commented-out settings must still be valid once uncommented.
		body := strings.TrimPrefix(line, "#")
		k, _, ok := strings.Cut(body, "=")
		if strings.HasPrefix(line, "#") && (!ok || strings.Contains(k, " ")) {
			continue // a comment sentence
		}
		if !ok || !strings.HasPrefix(k, "VIPGATE_") || strings.ContainsAny(k, " \t") {
			t.Errorf("line %d: %q is not VIPGATE_NAME=value", n, line)
		}
		if strings.Contains(k, "PASSWORD") && !strings.HasSuffix(k, "_FILE") {
			t.Errorf("line %d: secrets belong in credentials, not in the environment file", n)
		}
		if !strings.HasPrefix(line, "#") {
			set++
		}
	}
	if set == 0 {
		t.Error("the example sets nothing")
	}
}

// TestVerify runs systemd-analyze verify on a copy of the unit whose
// ExecStart points at an existing binary.
func TestVerify(t *testing.T) {
	tool, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed")
	}
	raw, err := os.ReadFile("vipgate.service")
	if err != nil {
		t.Fatal(err)
	}
	bin, err := exec.LookPath("true")
	if err != nil {
		t.Skip("no 'true' binary to stand in for vipgate")
	}
	text := strings.Replace(string(raw), "ExecStart=/usr/local/bin/vipgate serve", "ExecStart="+bin+" serve", 1)
	path := filepath.Join(t.TempDir(), "vipgate.service")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tool, "verify", "--man=no", path).CombinedOutput()
	// Dependencies that are not installed here (asterisk.service,
	// postgresql.service) are only After=, which verify does not resolve.
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}
