package arch

import "testing"

// TestDevstateImportsOnlyTheDomain: the device-state syncer reads gates
// and sets devices through functions cmd/vipgate hands it (the ARI App);
// it imports the domain and the standard library only.
func TestDevstateImportsOnlyTheDomain(t *testing.T) {
	importsOnlyGateAndStd(t, "devstate")
}
