package validate_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

// env is what .env must set (see .env.example): the two required
// variables, so that their ${VAR:?...} checks pass.
var env = []string{"POSTGRES_PASSWORD=test-password", "ASTERISK_IMAGE=example.net/asterisk:22"}

func load(t *testing.T, environment []string) (*types.Project, error) {
	t.Helper()
	file, err := filepath.Abs("../compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	opts, err := cli.NewProjectOptions([]string{file},
		cli.WithEnv(environment), cli.WithWorkingDirectory(filepath.Dir(file)), cli.WithInterpolation(true))
	if err != nil {
		t.Fatal(err)
	}
	return opts.LoadProject(context.Background())
}

// TestComposeFileValid loads compose.yaml as "docker compose config" does
// (schema validation, interpolation, merging of the x-vipgate anchors) and
// checks that the loader kept what the file relies on: the project name,
// the subpath mounts of the prompts, the start order and the secrets.
func TestComposeFileValid(t *testing.T) {
	p, err := load(t, env)
	if err != nil {
		t.Fatalf("compose.yaml does not load: %v", err)
	}
	if p.Name != "vipgate" {
		t.Errorf("project name %q, want vipgate (top-level name:)", p.Name)
	}
	want := []string{"asterisk", "migrate", "postgres", "sounds", "vipgate"}
	if got := p.ServiceNames(); strings.Join(slices.Sorted(slices.Values(got)), ",") != strings.Join(want, ",") {
		t.Errorf("services %v, want %v", got, want)
	}
	ast, err := p.GetService("asterisk")
	if err != nil {
		t.Fatal(err)
	}
	subpaths := map[string]string{}
	for _, v := range ast.Volumes {
		if v.Type == types.VolumeTypeVolume && v.Source == "sounds" {
			if v.Volume == nil {
				t.Errorf("sounds mount at %s has no volume options", v.Target)
				continue
			}
			subpaths[v.Target] = v.Volume.Subpath
		}
	}
	for target, sub := range map[string]string{
		"/var/lib/asterisk/sounds/en/vipgate": "en/vipgate",
		"/var/lib/asterisk/sounds/de/vipgate": "de/vipgate",
	} {
		if subpaths[target] != sub {
			t.Errorf("mount %s: subpath %q, want %q (got %v)", target, subpaths[target], sub, subpaths)
		}
	}
	if c := ast.DependsOn["sounds"].Condition; c != types.ServiceConditionCompletedSuccessfully {
		t.Errorf("asterisk waits for sounds with %q, want %s", c, types.ServiceConditionCompletedSuccessfully)
	}
	vg, err := p.GetService("vipgate")
	if err != nil {
		t.Fatal(err)
	}
	if vg.Image != "vipgate:local" || vg.Build == nil || vg.NetworkMode != "host" {
		t.Errorf("vipgate: image %q build %v network %q; want the x-vipgate settings merged in", vg.Image, vg.Build, vg.NetworkMode)
	}
	if db := vg.Environment["VIPGATE_DB"]; db == nil || !strings.Contains(*db, "test-password") {
		t.Errorf("VIPGATE_DB not interpolated: %v", db)
	}
	for _, name := range []string{"vipgate-key", "ari-password"} {
		if _, ok := p.Secrets[name]; !ok {
			t.Errorf("no secret %s", name)
		}
	}
}

// TestComposeFileRequiresEnv checks that a missing required variable stops
// the load with its message, as "docker compose up" would.
func TestComposeFileRequiresEnv(t *testing.T) {
	_, err := load(t, env[:1])
	if err == nil || !strings.Contains(err.Error(), "set ASTERISK_IMAGE in .env") {
		t.Errorf("without ASTERISK_IMAGE: %v, want the file's message", err)
	}
}
