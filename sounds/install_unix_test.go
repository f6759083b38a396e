//go:build unix

package sounds_test

import (
	"context"
	"slices"
	"syscall"
	"testing"

	"github.com/vipgate/vipgate/sounds"
)

// TestInstallUmask checks that a strict umask (systemd's UMask=0077) does
// not leave files or directories that Asterisk cannot read.
func TestInstallUmask(t *testing.T) {
	dir := t.TempDir()
	old := syscall.Umask(0o077)
	_, err := sounds.Install(context.Background(), dir, nil)
	syscall.Umask(old)
	if err != nil {
		t.Fatal(err)
	}
	// tree fails on any mode other than 0644 / 0755; the files must be
	// there for that to mean anything.
	if got, want := tree(t, dir), defaultTree(); !slices.Equal(got, want) {
		t.Fatalf("installed %v, want %v", got, want)
	}
}
