package arch

import (
	"slices"
	"strings"
	"testing"
)

// TestDevstateImportsOnlyTheDomain: the device-state syncer reads gates
// and sets devices through functions cmd/vipgate hands it (the ARI App);
// it imports the domain and the standard library only.
func TestDevstateImportsOnlyTheDomain(t *testing.T) {
	pkgs := listPackages(t)
	p, ok := pkgs["devstate"]
	if !ok {
		t.Fatal("go list did not report package devstate")
	}
	if !slices.Contains(p.Imports, module+"gate") {
		t.Errorf("devstate does not import gate according to go list; the check read no imports")
	}
	for _, imp := range p.Imports {
		switch r := rel(imp); {
		case r != "" && r != "gate":
			t.Errorf("devstate imports %s: it imports only the domain (gate)", r)
		case r == "" && (isDriver(imp) || strings.Contains(strings.SplitN(imp, "/", 2)[0], ".")):
			t.Errorf("devstate imports %s: only gate and the standard library are allowed", imp)
		}
	}
}
