package compose_test

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/vipgate/vipgate/sounds"
)

// file is the part of a compose file the test looks at.
type file struct {
	Name     string             `yaml:"name"`
	Services map[string]service `yaml:"services"`
	Secrets  map[string]struct {
		File string `yaml:"file"`
	} `yaml:"secrets"`
	Volumes map[string]any `yaml:"volumes"`
}

type service struct {
	Image       string            `yaml:"image"`
	Build       *build            `yaml:"build"`
	Command     []string          `yaml:"command"`
	NetworkMode string            `yaml:"network_mode"`
	Environment map[string]string `yaml:"environment"`
	Secrets     []string          `yaml:"secrets"`
	Volumes     []any             `yaml:"volumes"`
	DependsOn   map[string]struct {
		Condition string `yaml:"condition"`
	} `yaml:"depends_on"`
}

type build struct {
	Context    string `yaml:"context"`
	Dockerfile string `yaml:"dockerfile"`
}

// mount is a volume entry in long or short form.
type mount struct {
	Type, Source, Target string
	ReadOnly             bool
	Subpath              string
}

func mounts(t *testing.T, s service) []mount {
	t.Helper()
	var out []mount
	for _, v := range s.Volumes {
		switch v := v.(type) {
		case string:
			parts := strings.Split(v, ":")
			if len(parts) < 2 {
				t.Errorf("volume %q: want source:target[:ro]", v)
				continue
			}
			m := mount{Source: parts[0], Target: parts[1], ReadOnly: len(parts) > 2 && parts[2] == "ro", Type: "volume"}
			if strings.HasPrefix(m.Source, ".") || strings.HasPrefix(m.Source, "/") {
				m.Type = "bind"
			}
			out = append(out, m)
		case map[string]any:
			m := mount{}
			m.Type, _ = v["type"].(string)
			m.Source, _ = v["source"].(string)
			m.Target, _ = v["target"].(string)
			m.ReadOnly, _ = v["read_only"].(bool)
			if vol, ok := v["volume"].(map[string]any); ok {
				m.Subpath, _ = vol["subpath"].(string)
			}
			out = append(out, m)
		default:
			t.Errorf("volume entry of type %T", v)
		}
	}
	return out
}

func load(t *testing.T) file {
	t.Helper()
	raw, err := os.ReadFile("compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var f file
	if err := yaml.Unmarshal(raw, &f); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	return f
}

func TestComposeServices(t *testing.T) {
	f := load(t)
	tests := []struct {
		service  string
		image    string // exact, or a prefix ending in '*'
		command  []string
		network  string
		needsKey bool
	}{
		{service: "postgres", image: "postgres:15"},
		{service: "migrate", image: "vipgate:local", command: []string{"migrate"}, network: "host", needsKey: true},
		{service: "sounds", image: "vipgate:local", command: []string{"sounds", "install", "--dir", "/sounds"}, network: "host", needsKey: true},
		{service: "vipgate", image: "vipgate:local", network: "host", needsKey: true},
		{service: "asterisk", image: "${ASTERISK_IMAGE*", network: "host"},
	}
	var names []string
	for _, tt := range tests {
		names = append(names, tt.service)
		t.Run(tt.service, func(t *testing.T) {
			s, ok := f.Services[tt.service]
			if !ok {
				t.Fatalf("no service %q", tt.service)
			}
			if p, ok := strings.CutSuffix(tt.image, "*"); ok && !strings.HasPrefix(s.Image, p) || !ok && s.Image != tt.image {
				t.Errorf("image %q, want %q", s.Image, tt.image)
			}
			if tt.command != nil && !slices.Equal(s.Command, tt.command) {
				t.Errorf("command %q, want %q", s.Command, tt.command)
			}
			if s.NetworkMode != tt.network {
				t.Errorf("network_mode %q, want %q", s.NetworkMode, tt.network)
			}
			if tt.image == "vipgate:local" {
				if s.Build == nil || s.Build.Dockerfile == "" {
					t.Fatal("no build section")
				}
				df := filepath.Join(s.Build.Context, s.Build.Dockerfile)
				if _, err := os.Stat(df); err != nil {
					t.Errorf("Dockerfile %s: %v", df, err)
				}
				if _, err := os.Stat(filepath.Join(s.Build.Context, "go.mod")); err != nil {
					t.Errorf("build context %s is not the repository root: %v", s.Build.Context, err)
				}
			}
			if tt.needsKey {
				if s.Environment["VIPGATE_KEY_FILE"] != "/run/secrets/vipgate-key" || !slices.Contains(s.Secrets, "vipgate-key") {
					t.Errorf("does not get the installation key (env %q, secrets %v)", s.Environment["VIPGATE_KEY_FILE"], s.Secrets)
				}
				if !strings.HasPrefix(s.Environment["VIPGATE_DB"], "postgres://") {
					t.Errorf("VIPGATE_DB %q, want the postgres service", s.Environment["VIPGATE_DB"])
				}
			}
			for dep, d := range s.DependsOn {
				if _, ok := f.Services[dep]; !ok {
					t.Errorf("depends on unknown service %q", dep)
				}
				switch d.Condition {
				case "service_healthy", "service_started", "service_completed_successfully":
				default:
					t.Errorf("depends_on %s: unknown condition %q", dep, d.Condition)
				}
			}
			for _, sec := range s.Secrets {
				if _, ok := f.Secrets[sec]; !ok {
					t.Errorf("secret %q is not declared", sec)
				}
			}
			for _, m := range mounts(t, s) {
				if m.Type == "volume" {
					if _, ok := f.Volumes[m.Source]; !ok {
						t.Errorf("volume %q is not declared", m.Source)
					}
				}
			}
		})
	}
	for name := range f.Services {
		if !slices.Contains(names, name) {
			t.Errorf("service %q is not covered by this test", name)
		}
	}
	if vg := f.Services["vipgate"]; vg.Environment["VIPGATE_ARI_PASSWORD_FILE"] != "/run/secrets/ari-password" || !slices.Contains(vg.Secrets, "ari-password") {
		t.Error("vipgate does not get the ARI password as a secret file")
	}
}

// TestComposeStartOrder checks that prompts are installed after the
// schema exists and before Asterisk starts.
func TestComposeStartOrder(t *testing.T) {
	f := load(t)
	want := []struct{ service, dep, cond string }{
		{"migrate", "postgres", "service_healthy"},
		{"sounds", "migrate", "service_completed_successfully"},
		{"vipgate", "migrate", "service_completed_successfully"},
		{"asterisk", "sounds", "service_completed_successfully"},
	}
	for _, w := range want {
		if got := f.Services[w.service].DependsOn[w.dep].Condition; got != w.cond {
			t.Errorf("%s depends on %s with %q, want %q", w.service, w.dep, got, w.cond)
		}
	}
}

// TestComposeSounds checks that the sounds volume reaches Asterisk for
// every language with default prompts, read-only, at the place where
// sounds.Name's names resolve.
func TestComposeSounds(t *testing.T) {
	f := load(t)
	var installDir string
	for _, m := range mounts(t, f.Services["sounds"]) {
		if m.Source == "sounds" {
			installDir = m.Target
		}
	}
	if cmd := f.Services["sounds"].Command; installDir == "" || !slices.Contains(cmd, installDir) {
		t.Fatalf("sounds service writes to %q but its command is %q", installDir, cmd)
	}
	for _, svc := range []string{"sounds", "vipgate"} {
		if d := f.Services[svc].Environment["VIPGATE_SOUNDS_DIR"]; d != installDir {
			t.Errorf("%s: VIPGATE_SOUNDS_DIR %q, want %q", svc, d, installDir)
		}
	}
	seen := false
	for _, m := range mounts(t, f.Services["vipgate"]) {
		if m.Source == "sounds" {
			seen = m.Target == installDir && m.ReadOnly
		}
	}
	if !seen {
		t.Errorf("vipgate does not see the sounds volume read-only at %s", installDir)
	}
	got := map[string]mount{}
	for _, m := range mounts(t, f.Services["asterisk"]) {
		if m.Source == "sounds" {
			got[m.Subpath] = m
		}
	}
	for _, lang := range sounds.Languages() {
		sub := lang + "/vipgate"
		m, ok := got[sub]
		if !ok {
			t.Errorf("no mount of the sounds volume's %s into asterisk", sub)
			continue
		}
		if m.Target != "/var/lib/asterisk/sounds/"+sub || !m.ReadOnly || m.Type != "volume" {
			t.Errorf("mount of %s: %+v, want read-only at /var/lib/asterisk/sounds/%s", sub, m, sub)
		}
	}
}

// TestComposeAsteriskConfig checks that the configuration files the
// asterisk service mounts exist in deploy/asterisk.
func TestComposeAsteriskConfig(t *testing.T) {
	f := load(t)
	var missing []string
	n := 0
	for _, m := range mounts(t, f.Services["asterisk"]) {
		if m.Type != "bind" {
			continue
		}
		n++
		if !strings.HasPrefix(m.Target, "/etc/asterisk/") || !m.ReadOnly {
			t.Errorf("config mount %s → %s: want read-only under /etc/asterisk/", m.Source, m.Target)
		}
		if filepath.Base(m.Source) != filepath.Base(m.Target) {
			t.Errorf("config mount %s → %s: names differ", m.Source, m.Target)
		}
		if _, err := os.Stat(m.Source); err != nil {
			missing = append(missing, m.Source)
		}
	}
	if n == 0 {
		t.Fatal("asterisk mounts no configuration")
	}
	if len(missing) > 0 {
		t.Errorf("asterisk mounts files the repository does not have: %v", missing)
	}
}

// TestComposeVariables checks that every ${VAR} in compose.yaml is
// explained in .env.example.
func TestComposeVariables(t *testing.T) {
	raw, err := os.ReadFile("compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	ef, err := os.Open(".env.example")
	if err != nil {
		t.Fatal(err)
	}
	defer ef.Close()
	sc := bufio.NewScanner(ef)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if k, _, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			documented[k] = true
		}
	}
	vars := regexp.MustCompile(`\$\{([A-Z_][A-Z0-9_]*)`).FindAllStringSubmatch(string(raw), -1)
	if len(vars) == 0 {
		t.Fatal("no variables found; the pattern is wrong")
	}
	for _, v := range vars {
		if !documented[v[1]] {
			t.Errorf("${%s} is used in compose.yaml but not in .env.example", v[1])
		}
	}
}

// TestDockerfile checks the Go version and the build target.
func TestDockerfile(t *testing.T) {
	df, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	mod, err := os.ReadFile(filepath.Join("..", "..", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(mod)
	if m == nil {
		t.Fatal("no go directive in go.mod")
	}
	checks := []struct{ what, want string }{
		{"builder image for go.mod's Go version", "FROM golang:" + string(m[1])},
		{"static build", "CGO_ENABLED=0"},
		{"time zone data in the binary", "-tags timetzdata"},
		{"the vipgate command", "./cmd/vipgate"},
		{"non-root user", "USER 65532"},
		{"serve by default", `CMD ["serve"]`},
	}
	for _, c := range checks {
		if !strings.Contains(string(df), c.want) {
			t.Errorf("Dockerfile lacks %s (%q)", c.what, c.want)
		}
	}
	if _, err := os.Stat(filepath.Join("..", "..", "cmd", "vipgate")); err != nil {
		t.Logf("cmd/vipgate is not there yet: %v", err)
	}
}
