package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/storage/sqlite"
	"github.com/vipgate/vipgate/storage/storagetest"
)

// MustOpen opens a store in a fresh temporary directory and closes it when
// the test ends.
func MustOpen(tb testing.TB, opts ...sqlite.Option) *sqlite.Store {
	tb.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "vipgate.db"), opts...)
	if err != nil {
		tb.Fatalf("open: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) gate.Store { return MustOpen(t) })
}
